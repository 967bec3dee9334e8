"""Template 00 (``danh_muc.xlsx``): validation of a registry file and the :class:`Registry` it gives."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ..issues import Issue, make_issue
from ..layout import PEOPLE_COLUMNS, SHEET_PEOPLE, SHEET_UNITS, UNIT_COLUMNS
from ..models import FormResult, Person, Unit
from ..settings import Settings
from .model import Registry, norm_code

_UNIT_LABELS = {f.key: f.label for f in UNIT_COLUMNS}
_PEOPLE_LABELS = {f.key: f.label for f in PEOPLE_COLUMNS}


def registry_from_form(form: FormResult, version: int | None = None) -> Registry:
    """Build a :class:`Registry` from a template 00 :class:`FormResult` (first code wins)."""
    reg = Registry(version=version)
    for u in form.units:
        code = norm_code(u.code)
        if code and code not in reg.units:
            reg.units[code] = Unit(
                code=code,
                name=" ".join(str(u.name).split()),
                block=norm_code(u.block),
                kind=norm_code(u.kind),
                parent_code=norm_code(u.parent_code),
                level=norm_code(u.level),
                header_top=" ".join(u.header_top.split()),
                header_issuer=" ".join(u.header_issuer.split()),
                header_form=u.header_form,
                place=" ".join(u.place.split()),
                signer_authority=" ".join(u.signer_authority.split()),
                signer_title=" ".join(u.signer_title.split()),
                signer_name=" ".join(unicodedata.normalize("NFC", u.signer_name).split()),
                administers=norm_code(u.administers),
                valid_from=u.valid_from,
                valid_to=u.valid_to,
                row=u.row,
                cells=dict(u.cells),
                emails=u.emails,
            )
    for p in form.people:
        code = norm_code(p.code)
        moved = code in reg.people and successive(reg, reg.people[code], p)
        if code and (code not in reg.people or moved):
            category = norm_code(p.category)
            person = Person(
                code=code,
                full_name=" ".join(unicodedata.normalize("NFC", p.full_name).split()),
                unit_code=norm_code(p.unit_code),
                position_code=norm_code(p.position_code),
                category=category,
                group=norm_code(p.group or "") or category,  # SPEC §3: default group = category
                birth_date=p.birth_date,
                position_title=p.position_title,
                active=p.active,
                row=p.row,
                cells=dict(p.cells),
                email=p.email,
            )
            if moved:  # SPEC §3: the same person in a unit that ended and in its successor
                reg.moves.setdefault(code, [reg.people[code]]).append(person)
            else:
                reg.people[code] = person
    return reg


def _span(unit: Unit | None) -> tuple[date, date]:
    low, high = date.min, date.max
    if unit is not None:
        low, high = unit.valid_from or low, unit.valid_to or high
    return low, high


def successive(reg: Registry, first: Person, second: Person) -> bool:
    """Whether two rows of one person lie in units never in force at the same time (a unit
    that ended and its successor, SPEC §3): one person, two periods of the registry."""
    a, b = _span(reg.unit(first.unit_code)), _span(reg.unit(second.unit_code))
    return norm_code(first.unit_code) != norm_code(second.unit_code) and (a[1] <= b[0] or b[1] <= a[0])


class _Sink:
    """Collects issues of one file, skipping those the reader already reported."""

    def __init__(self, form: FormResult) -> None:
        self.file = form.path.name
        self.seen = {(i.code, i.sheet, i.cell, i.row) for i in form.issues}
        self.issues: list[Issue] = []

    def add(self, issue: Issue) -> None:
        key = (issue.code, issue.sheet, issue.cell, issue.row)
        if key not in self.seen:
            self.seen.add(key)
            self.issues.append(issue)


def _where(sheet: str, item: Unit | Person, key: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"sheet": sheet, "cell": item.cells.get(key, ""), "row": item.row or None, "column": labels[key]}


def _check_duplicates(sink: _Sink, sheet: str, items: Iterable[Unit | Person], key: str) -> None:
    labels = _UNIT_LABELS if sheet == SHEET_UNITS else _PEOPLE_LABELS
    first: dict[str, int] = {}
    for item in items:
        code = norm_code(item.code)
        if not code:
            continue
        if code in first:
            detail = f"dòng {first[code]} và dòng {item.row}"
            sink.add(
                make_issue(
                    "registry-code-duplicate",
                    file=sink.file,
                    value=code,
                    detail=detail,
                    **_where(sheet, item, key, labels),
                )
            )
        else:
            first[code] = item.row


def _check_unit_codes(sink: _Sink, unit: Unit, settings: Settings) -> None:
    codes = settings.codes
    block, kind = norm_code(unit.block), norm_code(unit.kind)
    if block and block not in codes.codes("blocks"):
        sink.add(
            make_issue(
                "code-unknown", file=sink.file, value=unit.block, **_where(SHEET_UNITS, unit, "block", _UNIT_LABELS)
            )
        )
    kinds = {k.code: k for k in codes.unit_kinds}
    if kind and kind not in kinds:
        sink.add(
            make_issue(
                "code-unknown", file=sink.file, value=unit.kind, **_where(SHEET_UNITS, unit, "unit_kind", _UNIT_LABELS)
            )
        )
    elif kind and block in codes.codes("blocks") and kinds[kind].extra.get("block") != block:
        kind_block = str(kinds[kind].extra.get("block", ""))
        sink.add(
            make_issue(
                "registry-kind-block-mismatch",
                file=sink.file,
                value=kind,
                expected=codes.label("blocks", kind_block),
                actual=codes.label("blocks", block),
                **_where(SHEET_UNITS, unit, "unit_kind", _UNIT_LABELS),
            )
        )


def _check_org(sink: _Sink, unit: Unit, settings: Settings) -> None:
    """Level, form of the letterhead and administered block are known codes (SPEC §3, §10)."""
    checks = (
        ("level", unit.level, settings.codes.codes("levels")),
        ("header_form", unit.header_form, ["party", "state"]),
        ("administers", unit.administers, settings.codes.codes("blocks")),
    )
    for key, value, allowed in checks:
        if value and value not in allowed:
            sink.add(
                make_issue("code-unknown", file=sink.file, value=value, **_where(SHEET_UNITS, unit, key, _UNIT_LABELS))
            )
    if unit.valid_from and unit.valid_to and unit.valid_to <= unit.valid_from:
        where = _where(SHEET_UNITS, unit, "valid_to", _UNIT_LABELS)
        sink.add(
            make_issue("registry-validity-order", file=sink.file, value=unit.valid_to.strftime("%d/%m/%Y"), **where)
        )


def _check_tree(sink: _Sink, units: list[Unit]) -> None:
    """Parents exist and the parent relation has no cycle (each cycle member is reported)."""
    parent: dict[str, str] = {}
    by_code: dict[str, Unit] = {}
    for u in units:
        code = norm_code(u.code)
        if code and code not in by_code:
            by_code[code] = u
            parent[code] = norm_code(u.parent_code)
    for code, u in by_code.items():
        if parent[code] and parent[code] not in by_code:
            sink.add(
                make_issue(
                    "registry-parent-unknown",
                    file=sink.file,
                    value=u.parent_code,
                    **_where(SHEET_UNITS, u, "parent_code", _UNIT_LABELS),
                )
            )
    done: set[str] = set()
    for start in by_code:
        path: list[str] = []
        code = start
        while code and code in by_code and code not in done and code not in path:
            path.append(code)
            code = parent[code]
        if code in path:  # walked back onto this path: a cycle from `code`
            cycle = path[path.index(code) :]
            detail = " → ".join([*cycle, code])
            for member in cycle:
                sink.add(
                    make_issue(
                        "registry-cycle",
                        file=sink.file,
                        value=member,
                        detail=detail,
                        **_where(SHEET_UNITS, by_code[member], "parent_code", _UNIT_LABELS),
                    )
                )
        done.update(path)


def _check_person(sink: _Sink, person: Person, unit_codes: set[str], settings: Settings) -> None:
    codes = settings.codes
    unit = norm_code(person.unit_code)
    if unit and unit not in unit_codes:
        sink.add(
            make_issue(
                "registry-unit-unknown",
                file=sink.file,
                value=person.unit_code,
                **_where(SHEET_PEOPLE, person, "unit_code", _PEOPLE_LABELS),
            )
        )
    checked = [("position_code", person.position_code, "positions"), ("category", person.category, "categories")]
    if norm_code(person.group) != norm_code(person.category):  # a blank group is the category's
        checked.append(("group", person.group, "groups"))
    for key, value, allowed in checked:
        if norm_code(value) and norm_code(value) not in codes.codes(allowed):
            sink.add(
                make_issue(
                    "code-unknown", file=sink.file, value=value, **_where(SHEET_PEOPLE, person, key, _PEOPLE_LABELS)
                )
            )


def _later_row_of_a_move(reg: Registry, people: list[Person], person: Person) -> bool:
    """A second row of a person in a successor unit is no duplicate (SPEC §3)."""
    first = next((p for p in people if norm_code(p.code) == norm_code(person.code)), None)
    return first is not None and first is not person and successive(reg, first, person)


def validate_registry(form: FormResult, settings: Settings) -> list[Issue]:
    """Check a template 00 file (SPEC §3): the issues beyond those already in ``form.issues``.

    Unit and person codes unique (the second occurrence is reported), parents known, no cycle
    in the unit tree, blocks / unit kinds / position codes / categories / groups in the code lists, a
    unit kind of the unit's block, each person's unit in the registry. Empty required cells
    are the reader's (``value-required``).
    """
    sink = _Sink(form)
    _check_duplicates(sink, SHEET_UNITS, form.units, "unit_code")
    units_only = registry_from_form(FormResult(form.path, kind=form.kind, units=form.units))
    people = [p for p in form.people if not _later_row_of_a_move(units_only, form.people, p)]
    _check_duplicates(sink, SHEET_PEOPLE, people, "person_code")
    for unit in form.units:
        _check_unit_codes(sink, unit, settings)
        _check_org(sink, unit, settings)
    _check_tree(sink, form.units)
    unit_codes = {norm_code(u.code) for u in form.units}
    for person in form.people:
        _check_person(sink, person, unit_codes, settings)
    return sink.issues
