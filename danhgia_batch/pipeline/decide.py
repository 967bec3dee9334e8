"""What to record for one file: its outcome and every issue, from the read form (no effects).

SPEC §9: errors reject the file; a quota violation records it as invalid; warnings are kept.
Checks in order: the reader's issues, the unit folder (one unit cannot submit for
another), the registry cross-checks when a registry is loaded, the letter's rules
(:func:`~danhgia_batch.rules.check_form`), and the period lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ..issues import Issue, Severity, has_errors, make_issue
from ..layout import KIND_INDIVIDUAL, KIND_REGISTRY, KIND_UNIT_LIST
from ..ledger import FileRecord, Ledger, Record
from ..models import EvaluationRow, FormResult, Person, Unit
from ..registry import Registry, norm_code, person_blocks, unit_size
from ..rules import check_form, check_quota
from ..settings import Settings


def decide_duplicate(file: FileRecord, original: FileRecord) -> Record:
    """A byte-identical copy of an already recorded file: recorded as a duplicate, not read."""
    issue = make_issue(
        "file-duplicate", file=file.name, value=original.name, detail=original.arrival.strftime("%d/%m/%Y %H:%M")
    )
    return Record(
        outcome="duplicate",
        kind=original.kind,
        period=original.period,
        unit_code=original.unit_code,
        block=original.block,
        issues=[issue],
        duplicate_of=original.id,
    )


def _outcome(issues: list[Issue]) -> str:
    if has_errors(issues):
        return "rejected"
    if any(i.severity is Severity.VIOLATION for i in issues):
        return "invalid"
    return "accepted"


class _RegistryCapture:
    """Stands in for the ledger in ``register_form`` so the new registry is saved in the same
    transaction as the file's record (never a registry without its file, or the reverse)."""

    def __init__(self) -> None:
        self.units: list[Unit] = []
        self.people: list[Person] = []

    def save_registry(self, units: list[Unit], people: list[Person], source: str) -> int:
        self.units, self.people = list(units), list(people)
        return 0


def _decide_registry(settings: Settings, form: FormResult) -> Record:
    from .registry import register_form

    capture = _RegistryCapture()
    issues, version = register_form(form, settings, capture, source=form.path.name)
    if version is None:
        return Record(outcome="rejected", kind=KIND_REGISTRY, issues=issues)
    return Record(outcome="accepted", kind=KIND_REGISTRY, issues=issues, registry=(capture.units, capture.people))


def decide_form(settings: Settings, ledger: Ledger, file: FileRecord, form: FormResult) -> Record:
    """All issues of one read form and the resulting outcome."""
    if form.kind == KIND_REGISTRY:
        return _decide_registry(settings, form)
    issues = list(form.issues)
    header = form.header
    registry = ledger.current_registry()
    if registry is not None and header.period:
        registry = registry.in_force(header.period)  # SPEC §3: the structure of the file's period
    unit = header.unit_code.strip()
    block = header.block.strip() or ((registry.block_of(unit) or "") if registry and unit else "")
    if file.unit_folder and unit and norm_code(unit) != norm_code(file.unit_folder):
        issues.append(
            make_issue(
                "unit-folder-mismatch",
                file=file.name,
                sheet=form.sheet,
                cell=header.cells.get("unit_code", ""),
                column="Mã đơn vị",
                value=unit,
                expected=file.unit_folder,
            )
        )
    if form.kind in (KIND_UNIT_LIST, KIND_INDIVIDUAL):
        if registry is not None:
            from ..registry import adopt_registry_groups, crosscheck

            exclude = (unit, header.decider_position, header.decider_name)
            persons = [r.person_code for r in form.rows]
            elsewhere = ledger.people_listed(header.period, exclude=exclude, persons=persons) if header.period else {}
            issues += crosscheck(form, registry, settings, listed_elsewhere=elsewhere)
            adopt_registry_groups(form, registry)  # SPEC §3: the registry's group wins
        known = registry is not None and registry.unit(unit) is not None
        issues += check_form(
            form,
            settings,
            unit_kind=registry.unit_kind(unit) if registry and known else None,
            unit_size=unit_size(registry, unit) if registry and known else None,
            arrival=file.arrival,
            person_blocks=person_blocks(registry, [r.person_code for r in form.rows]) if registry else None,
        )
        if header.period and ledger.is_locked(header.period, block or None):
            issues.append(
                make_issue(
                    "period-locked",
                    file=file.name,
                    sheet=form.sheet,
                    cell=header.cells.get("period", ""),
                    value=header.period,
                    period=header.period,
                )
            )
    period = header.period
    if not form.kind and not (unit and period):  # unread (.xls, .ods, damaged): whose file was it?
        unit, period = _attribute(file, registry, unit, period)
        block = block or ((registry.block_of(unit) or "") if registry and unit else "")
    return Record(
        outcome=_outcome(issues),
        kind=form.kind,
        period=period,
        unit_code=unit,
        block=block,
        issues=issues,
        header=header,
        rows=list(form.rows),
    )


_MONTH_IN_NAME = re.compile(r"(?<!\d)(0?[1-9]|1[0-2])[-_.](20\d\d)(?!\d)|(?<!\d)(20\d\d)[-_.](0[1-9]|1[0-2])(?!\d)")


def _attribute(file: FileRecord, registry: Registry | None, unit: str, period: str) -> tuple[str, str]:
    """Unit and period of a file that could not be read, so that its unit counts as having
    sent a file that was rejected (``status`` and the roll-ups), not as silent: the unit's
    inbox folder, else a registry unit code in the file name; the month written in the name
    ("T12-2026", "2026-12")."""
    name = Path(file.name).stem
    if not unit:
        if file.unit_folder:
            unit = file.unit_folder
        elif registry is not None:
            upper = f"_{re.sub(r'[^A-Z0-9]+', '_', name.upper())}_"
            found = [u.code for key, u in registry.units.items() if f"_{key.upper()}_" in upper]
            unit = max(found, key=len) if found else ""
    if not period:
        m = _MONTH_IN_NAME.search(name)
        if m:
            year, month = (m.group(2), m.group(1)) if m.group(1) else (m.group(3), m.group(4))
            period = f"{year}-{int(month):02d}"
    return unit, period


def quota_checker(settings: Settings, form: FormResult) -> Callable[[list[EvaluationRow]], list[Issue]] | None:
    """For individual forms: the quota over one decider's active forms (letter §2.5.a)."""
    if form.kind != KIND_INDIVIDUAL:
        return None

    def check(rows: list[EvaluationRow]) -> list[Issue]:
        _, issues = check_quota(rows, settings, file=form.path.name, sheet=form.sheet)
        return issues

    return check


__all__ = ["decide_duplicate", "decide_form", "quota_checker"]
