"""Cross-checks of an evaluation list or form against the registry (SPEC §3, issue 5 ¶2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..issues import Issue, make_issue
from ..layout import PEOPLE_COLUMNS, UNIT_COLUMNS, strip_accents
from ..models import EvaluationRow, FormResult, Person
from ..settings import Settings
from .model import Registry, norm_code, norm_name

_UNIT_LABELS = {f.key: f.label for f in UNIT_COLUMNS}
_PEOPLE_LABELS = {f.key: f.label for f in PEOPLE_COLUMNS}


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (names are short: a plain dynamic programme is enough)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def compare_names(given: str, expected: str) -> str:
    """``"same"``, ``"typo"`` or ``"different"`` (SPEC §3 cross-check of names).

    Same after NFC / spacing / case folding: same. Same without diacritics ("Nguyen Van An"
    for "Nguyễn Văn An"), or one or two letters apart (one per ten letters, at most two): a
    likely typo. Anything else names a different person.
    """
    a, b = norm_name(given), norm_name(expected)
    if a == b:
        return "same"
    sa, sb = strip_accents(a), strip_accents(b)
    if sa == sb or _edit_distance(sa, sb) <= max(1, min(2, len(sb) // 10)):
        return "typo"
    return "different"


def _decided_from_outside(
    person: Person, decider: str, registry: Registry, settings: Settings, period: str | None = None
) -> bool:
    """True when the header's decider may list ``person`` although they sit in another unit.

    Letter §2.2: some deciders decide the heads of other units (the district People's Committee
    chair decides ward chairs and department heads, the Education Office head decides
    principals, the district Party secretary decides heads of Party boards). Accept when the
    matrix gives ``decider`` authority over the person's position in the person's block and
    unit kind, and nobody in the person's own unit holds ``decider`` (else that unit's own
    head decides: a clerk of one department cannot be listed by another department's head).
    """
    if not decider:
        return False
    rules = settings.authority.rules_for(
        norm_code(person.position_code),
        registry.block_of(person.unit_code),
        registry.unit_kind(person.unit_code),
        period,
    )
    if not any(decider in r.deciders for r in rules):
        return False
    return not any(norm_code(p.position_code) == decider for p in registry.people_of(person.unit_code))


def _unit_text(registry: Registry, unit_code: str) -> str:
    unit = registry.unit(unit_code)
    return f"{unit.code} ({unit.name})" if unit else unit_code


# SPEC §3: the registry is authoritative for a person's position code, category and subject
# group; a list that types another value is wrong at that cell (it would move the person into
# another quota group, or past the authority matrix: issue 14).
_REGISTRY_VALUES = (
    ("position_code", "position_code", "registry-position-mismatch"),
    ("category", "category", "registry-category-mismatch"),
    ("group", "group", "registry-group-mismatch"),
)


def _registry_values(row: EvaluationRow, person: Person, where: Mapping[str, Any]) -> list[Issue]:
    out: list[Issue] = []
    for row_key, person_key, code in _REGISTRY_VALUES:
        typed = norm_code(getattr(row, row_key))
        if not typed or (row_key == "group" and not row.group_given):
            continue  # blank: the reader reported a required one; a blank group is the registry's
        expected = norm_code(getattr(person, person_key))
        if expected and typed != expected:
            at = {**where, "cell": row.cells.get(row_key, ""), "column": _PEOPLE_LABELS[row_key]}
            who = f"{person.code} - {person.full_name}"
            out.append(make_issue(code, value=who, expected=expected, actual=typed, **at))
    return out


def adopt_registry_groups(form: FormResult, registry: Registry) -> None:
    """SPEC §3: a row that leaves "Nhóm đối tượng" blank takes the registry's group for the
    person (the quota is judged on it); a typed group that differs is an error (crosscheck)."""
    for row in form.rows:
        person = registry.person(row.person_code) if not row.group_given else None
        if person is not None and person.group:
            row.group = norm_code(person.group)


def _check_row(
    row: EvaluationRow,
    form: FormResult,
    registry: Registry,
    settings: Settings,
    listed_elsewhere: Mapping[str, str],
) -> list[Issue]:
    where: dict[str, Any] = {"file": form.path.name, "sheet": form.sheet, "row": row.row}
    code_at: dict[str, Any] = {
        **where,
        "cell": row.cells.get("person_code", ""),
        "column": _PEOPLE_LABELS["person_code"],
    }
    person = registry.person(row.person_code)
    if person is None:
        return [make_issue("registry-person-unknown", value=row.person_code, **code_at)]
    out: list[Issue] = []
    if not person.active:
        out.append(make_issue("registry-person-inactive", value=f"{person.code} - {person.full_name}", **code_at))
    header_unit = registry.unit(form.header.unit_code)
    decider = norm_code(form.header.decider_position)
    if (
        header_unit is not None
        and person.unit_code != header_unit.code
        and not _decided_from_outside(person, decider, registry, settings, form.header.period)
    ):
        out.append(
            make_issue(
                "registry-person-wrong-unit",
                value=f"{person.code} - {person.full_name}",
                expected=_unit_text(registry, person.unit_code),
                actual=_unit_text(registry, header_unit.code),
                **code_at,
            )
        )
    if row.full_name.strip():
        verdict = compare_names(row.full_name, person.full_name)
        if verdict != "same":
            name_at: dict[str, Any] = {
                **where,
                "cell": row.cells.get("full_name", ""),
                "column": _PEOPLE_LABELS["full_name"],
            }
            if verdict == "typo":
                out.append(make_issue("registry-name-typo", value=row.full_name, expected=person.full_name, **name_at))
            else:
                out.append(
                    make_issue("registry-name-mismatch", value=row.full_name, expected=person.full_name, **name_at)
                )
    if row.birth_date and person.birth_date and row.birth_date != person.birth_date:
        out.append(
            make_issue(
                "registry-birthdate-mismatch",
                value=row.birth_date.strftime("%d/%m/%Y"),
                expected=person.birth_date.strftime("%d/%m/%Y"),
                **where,
                cell=row.cells.get("birth_date", ""),
                column=_PEOPLE_LABELS["birth_date"],
            )
        )
    out += _registry_values(row, person, where)
    elsewhere = listed_elsewhere.get(person.code)
    if elsewhere:
        out.append(
            make_issue(
                "registry-person-twice", value=f"{person.code} - {person.full_name}", expected=elsewhere, **code_at
            )
        )
    return out


def crosscheck(
    form: FormResult,
    registry: Registry,
    settings: Settings,
    *,
    listed_elsewhere: Mapping[str, str] | None = None,
) -> list[Issue]:
    """Check an evaluation list (template 02) or form (template 01) against the registry.

    SPEC §3 and issue 5 ¶2: the header's unit exists and its block matches; each person
    exists, is active, belongs to the unit (or is decided from outside it per the authority
    matrix, see :func:`_decided_from_outside`); position code, category and a typed subject
    group are the registry's (a mismatch names both); the name matches (a diacritics-only or
    one-letter difference is a warning ``registry-name-typo``, otherwise an error); the birth
    date matches; and nobody is already on another accepted list of the period.

    Args:
        listed_elsewhere: person code → description of the other accepted list of the same
            period that already holds that person (e.g. "Phòng Nội vụ, Trưởng phòng").
    """
    if form.kind not in ("01", "02"):
        return []
    header = form.header
    out: list[Issue] = []
    unit = registry.unit(header.unit_code) if header.unit_code.strip() else None
    head_at: dict[str, Any] = {"file": form.path.name, "sheet": form.sheet}
    if header.unit_code.strip() and unit is None:
        out.append(
            make_issue(
                "registry-unit-unknown",
                value=header.unit_code,
                cell=header.cells.get("unit_code", ""),
                column=_UNIT_LABELS["unit_code"],
                **head_at,
            )
        )
    elif unit is not None and header.block.strip() and norm_code(header.block) != unit.block:
        labels = settings.codes
        out.append(
            make_issue(
                "registry-block-mismatch",
                value=f"{unit.code} - {unit.name}",
                expected=labels.label("blocks", unit.block),
                actual=labels.label("blocks", norm_code(header.block)),
                cell=header.cells.get("block", ""),
                column=_UNIT_LABELS["block"],
                **head_at,
            )
        )
    elsewhere = {norm_code(k): v for k, v in (listed_elsewhere or {}).items()}
    for row in form.rows:
        if row.person_code.strip():
            out.extend(_check_row(row, form, registry, settings, elsewhere))
    return out
