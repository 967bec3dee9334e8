"""The one decision about a file (issue 14): :func:`decide` goes from the read form, a read-only
:class:`~danhgia_batch.verdict.DecisionContext` and the settings to the
:class:`~danhgia_batch.verdict.Record` to write. Pure: no I/O, no ledger; ``process``, ``watch``
(through ``process``) and ``check`` all call it, so they cannot disagree.

SPEC §9: errors reject the file; a quota violation records it as invalid; warnings are kept.
Checks in order: the reader's issues, the unit folder (one unit cannot submit for another),
the registry cross-checks when a registry is loaded, the letter's rules
(:func:`~danhgia_batch.rules.check_form`), the period lock; then, for a list that is not
rejected, its place among the lists already recorded (superseding, version) and, for
individual forms, the A-quota over the decider's forms (letter §2.5.a).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from copy import copy as shallow
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..issues import Issue, Severity, has_errors, make_issue
from ..layout import KIND_INDIVIDUAL, KIND_REGISTRY, KIND_UNIT_LIST, KPI_LEADER_INPUTS
from ..ledger.codec import norm_text
from ..models import EvaluationRow, FormResult, ListHeader, ListView, Person, QuotaVerdict, Unit
from ..read.checks import bands_in_force
from ..regimes import Regime, RegimeCatalogue, apply_regime
from ..registry import Registry, adopt_registry_groups, crosscheck, norm_code, person_blocks, unit_size
from ..rules import QuotaFinding, check_form, check_quota, covered_forms
from ..rules.common import Where, column_labels
from ..rules.kpi import check_caps, check_conditions, check_led_units
from ..settings import Settings
from ..verdict import (
    INVALID_QUOTA,
    NEW_LIST,
    SUPERSEDED,
    VALID,
    DecisionContext,
    FileFacts,
    ListPlan,
    PlaceList,
    Record,
)

if TYPE_CHECKING:  # the decision imports no SQLAlchemy (danhgia check without a ledger)
    from ..ledger import FileRecord

ACCEPTED, INVALID, REJECTED = "accepted", "invalid", "rejected"
_NEW_ID = 1 << 62  # sorts a list not yet recorded after every recorded one


class Original(Protocol):
    """What a duplicate says of the file it copies: a recorded file (``ledger.FileRecord``), or
    for ``check`` an earlier file of the same call."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def arrival(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def unit_code(self) -> str: ...
    @property
    def block(self) -> str: ...


def decide_duplicate(name: str, original: Original) -> Record:
    """A byte-identical copy (file ``name``) of a file already recorded (SPEC §9): a duplicate,
    not read."""
    issue = make_issue(
        "file-duplicate", file=name, value=original.name, detail=original.arrival.strftime("%d/%m/%Y %H:%M")
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
        return REJECTED
    if any(i.severity is Severity.VIOLATION for i in issues):
        return INVALID
    return ACCEPTED


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
        return Record(outcome=REJECTED, kind=KIND_REGISTRY, issues=issues)
    return Record(outcome=ACCEPTED, kind=KIND_REGISTRY, issues=issues, registry=(capture.units, capture.people))


def block_of(form: FormResult, context: DecisionContext) -> str:
    """The block of the file: as the header says, else the registry's for its unit."""
    unit = form.header.unit_code.strip()
    registry = context.registry
    return form.header.block.strip() or ((registry.block_of(unit) or "") if registry and unit else "")


def facts(file: FileRecord) -> FileFacts:
    """The :class:`FileFacts` of a claimed file."""
    return FileFacts(file.id, file.name, file.arrival, file.unit_folder)


def decide(form: FormResult, context: DecisionContext, settings: Settings, file: FileFacts) -> Record:
    """Everything to record about one read form (pure).

    Args:
        form: what the reader produced.
        context: the ledger's snapshot for the form's unit, period and deciders (see
            :meth:`~danhgia_batch.ledger.Ledger.decision_context`); an empty one when there
            is no ledger (``check`` in a folder without one).
        settings: the settings in force.
        file: the file's id, name, arrival and inbox sub-folder.
    """
    if form.kind == KIND_REGISTRY:
        return _decide_registry(settings, form)
    header = form.header
    unit = header.unit_code.strip()
    block = block_of(form, context)
    issues = list(form.issues) + _folder_issues(form, file, unit)
    quota: list[QuotaVerdict] = []
    regime: Regime | None = None
    if form.kind in (KIND_UNIT_LIST, KIND_INDIVIDUAL):
        regime, found = choose_regime(form, context, settings, block, file)
        issues += found
        shipped_bands = settings.grading
        settings = apply_regime(settings, regime)  # SPEC §13: the regime's bands, quota, deadlines
        if settings.grading != shipped_bands:  # the typed "grade by score" under the regime's bands
            label = column_labels(form.kind).get("band_grade", "")
            issues = bands_in_force(issues, form.rows, settings.grading, label, file.name)
        if context.quota_ratio is not None:  # SPEC §13: an exception granted to the unit and period
            settings = dataclasses.replace(
                settings, quota=dataclasses.replace(settings.quota, ratio=context.quota_ratio)
            )
        if context.registry is not None:
            issues += crosscheck(form, context.registry, settings, listed_elsewhere=dict(context.listed_elsewhere))
            form = _registry_groups(form, context.registry)  # SPEC §3: the registry's group wins
        issues += _rule_issues(form, context, settings, file, unit)
        if regime is not None and regime.bands.caps:  # SPEC §13: discipline, degradation → D
            where = Where(file=file.name, sheet=form.sheet, labels=_cap_labels(form, regime))
            issues += check_caps(form.rows, regime.bands.caps, where)
        if regime is not None and regime.bands.conditions:  # SPEC §13: e.g. A needs every task on time
            where = Where(file=file.name, sheet=form.sheet, labels=_cap_labels(form, regime))
            issues += check_conditions(form.rows, regime.bands.conditions, where)
        if regime is not None and form.kind == KIND_UNIT_LIST and _has_leader_part(form, regime):
            where = Where(file=file.name, sheet=form.sheet, labels=_cap_labels(form, regime))
            issues += check_led_units(form.rows, settings.codes.leaders(), _unit_of(context, unit), where)
        if form.kind == KIND_UNIT_LIST:
            quota = _verdicts(check_quota(form.rows, settings, file=form.path.name, sheet=form.sheet)[0])
        if header.period and context.is_locked(block or None):
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
        unit, period = _attribute(file, context.registry, unit, period)
        block = block or ((context.registry.block_of(unit) or "") if context.registry and unit else "")
    rec = Record(
        outcome=_outcome(issues),
        kind=form.kind,
        period=period,
        unit_code=unit,
        block=block,
        issues=issues,
        header=header,
        rows=list(form.rows),
        quota=quota,
        fingerprint=context.fingerprint,
        regime_id=regime.id if regime else "",
        regime_hash=regime.digest if regime else "",
    )
    if rec.outcome in (ACCEPTED, INVALID) and form.kind in (KIND_UNIT_LIST, KIND_INDIVIDUAL):
        place(rec, context, settings, file, sheet=form.sheet)
    return rec


def choose_regime(
    form: FormResult, context: DecisionContext, settings: Settings, block: str, file: FileFacts
) -> tuple[Regime | None, list[Issue]]:
    """The regime that judges ``form`` (SPEC §13), and the issues of that choice (pure).

    A period once published keeps the regime it was judged with (``context.period_regimes``);
    otherwise the regime in force for the period, the block and each row's category. One list
    is judged by one regime: rows of categories under different regimes are ``regime-mixed``.
    """
    period = form.header.period
    catalogue = settings.catalogue
    if not period or not catalogue.regimes:
        return None, []
    at: dict[str, Any] = {
        "file": file.name,
        "sheet": form.sheet,
        "cell": form.header.cells.get("period", ""),
        "period": period,
    }
    categories: list[str | None] = [*sorted({r.category for r in form.rows if r.category})] or [None]
    for rid, digest in context.period_regimes:
        pinned = catalogue.get(rid)
        if pinned is not None and all(pinned.covers(period, c, block or None) for c in categories):
            changed = [] if pinned.digest == digest else [
                make_issue("regime-changed", **at, value=rid, expected=digest[:12], detail=pinned.short_hash)
            ]  # fmt: skip
            return pinned, changed + _framework_issue(form, pinned, catalogue, at)
    chosen = {c: catalogue.regime_for(period, c, block or None) for c in categories}
    missing = [c or "" for c, g in chosen.items() if g is None]
    if missing:
        return None, [make_issue("regime-none", **at, value=", ".join(missing) or "(không rõ)")]
    ids = sorted({g.id for g in chosen.values() if g is not None})
    if len(ids) > 1:
        detail = "; ".join(f"{c}: {g.id}" for c, g in chosen.items() if g is not None)
        return None, [make_issue("regime-mixed", **at, value=", ".join(c or "" for c in chosen), detail=detail)]
    regime = next(g for g in chosen.values() if g is not None)
    return regime, _framework_issue(form, regime, catalogue, at)


def _framework_issue(form: FormResult, regime: Regime, catalogue: RegimeCatalogue, at: dict[str, Any]) -> list[Issue]:
    """A framework written inside a regime file belongs to that regime: a form of another
    regime's framework, or a regime with its own frameworks judging a form of another one,
    is ``regime-framework``. (A regime naming only ``[domain]`` frameworks accepts any of
    them, so a work folder's own framework keeps working under the letter's regime.)"""
    fid = form.framework_id
    if not fid or fid in regime.all_framework_ids():
        return []
    foreign = any(fid in g.all_framework_ids() for g in catalogue.regimes.values() if g.frameworks)
    if not regime.frameworks and not foreign:
        return []
    expected = ", ".join(regime.all_framework_ids())
    return [make_issue("regime-framework", **at, value=regime.id, framework=fid, expected=expected)]


def _cap_labels(form: FormResult, regime: Regime) -> dict[str, str]:
    labels = {"final_grade": "Xếp loại" if form.kind == KIND_UNIT_LIST else "Xếp loại của cấp có thẩm quyền"}
    labels |= {f"kpi_{k}": label for k, label in KPI_LEADER_INPUTS}
    return labels | {f"flag_{c.flag}": c.label for c in regime.bands.caps}


def _has_leader_part(form: FormResult, regime: Regime) -> bool:
    """Whether the form's framework (of ``regime``) has a computed part with the leader variant."""
    return any(p.computed and p.leaders for fw in regime.frameworks if fw.id == form.framework_id for p in fw.parts)


def _unit_of(context: DecisionContext, unit: str) -> Callable[[EvaluationRow], str]:
    """A row's unit: the registry's unit of the person, else the list's ``unit``."""
    registry = context.registry

    def of(row: EvaluationRow) -> str:
        person = registry.person(row.person_code) if registry is not None else None
        return norm_code(person.unit_code) if person is not None else norm_code(unit)

    return of


def _folder_issues(form: FormResult, file: FileFacts, unit: str) -> list[Issue]:
    if not (file.unit_folder and unit and norm_code(unit) != norm_code(file.unit_folder)):
        return []
    return [
        make_issue(
            "unit-folder-mismatch",
            file=file.name,
            sheet=form.sheet,
            cell=form.header.cells.get("unit_code", ""),
            column="Mã đơn vị",
            value=unit,
            expected=file.unit_folder,
        )
    ]


_MONTH_IN_NAME = re.compile(r"(?<!\d)(0?[1-9]|1[0-2])[-_.](20\d\d)(?!\d)|(?<!\d)(20\d\d)[-_.](0[1-9]|1[0-2])(?!\d)")


def _attribute(file: FileFacts, registry: Registry | None, unit: str, period: str) -> tuple[str, str]:
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


def _rule_issues(
    form: FormResult, context: DecisionContext, settings: Settings, file: FileFacts, unit: str
) -> list[Issue]:
    """The letter's rules, with the unit's kind and size and the people's blocks from the registry."""
    registry = context.registry
    issues: list[Issue] = []
    known = registry is not None and registry.unit(unit) is not None
    issues += check_form(
        form,
        settings,
        unit_kind=registry.unit_kind(unit) if registry and known else None,
        unit_size=unit_size(registry, unit) if registry and known else None,
        arrival=file.arrival,
        person_blocks=person_blocks(registry, [r.person_code for r in form.rows]) if registry else None,
    )
    return issues


def _registry_groups(form: FormResult, registry: Registry) -> FormResult:
    """``form`` with a copy of its rows where a blank "Nhóm đối tượng" takes the registry's
    group (:func:`~danhgia_batch.registry.adopt_registry_groups`); the input is left as read."""
    copy = dataclasses.replace(form, rows=[shallow(r) for r in form.rows])  # copy.copy: no __init__ per row
    adopt_registry_groups(copy, registry)
    return copy


def _verdicts(findings: list[QuotaFinding]) -> list[QuotaVerdict]:
    return [QuotaVerdict(f.group, f.ranked_size, f.count_a, f.limit, f.ok) for f in findings]


def _same_decider(p: PlaceList, position: str, name: str) -> bool:
    return p.decider_position == position and norm_text(p.decider_name) == name


def place(rec: Record, context: DecisionContext, settings: Settings, file: FileFacts, *, sheet: str = "") -> None:
    """Set ``rec.plan`` for an accepted or invalid list or form (pure). Superseding and version of the new list among the recorded ones (our arrival order:
    a list replaces the active list of the same decider, or form of the same person, that
    arrived before it; one that arrived before an active list is recorded superseded)."""
    header = rec.header
    assert header is not None
    person = rec.rows[0].person_code if rec.kind == KIND_INDIVIDUAL and rec.rows else ""
    dname = norm_text(header.decider_name)

    def same_place(p: PlaceList) -> bool:
        return (
            p.person_code == person if rec.kind == KIND_INDIVIDUAL else _same_decider(p, header.decider_position, dname)
        )

    key = (file.arrival, file.id)
    same = [p for p in context.place if same_place(p)]
    active = [p for p in same if p.status != SUPERSEDED]
    earlier = [p for p in active if (p.arrival, p.file_id) < key]
    later = [p for p in active if (p.arrival, p.file_id) >= key]
    moved = [p.id for p in same if (p.arrival, p.file_id) > key]
    status = SUPERSEDED if later else (INVALID_QUOTA if rec.outcome == INVALID else VALID)
    rec.plan = ListPlan(
        status=status,
        version=1 + len(same) - len(moved),
        superseded_by=later[0] if later else None,
        supersedes=earlier,
        bump=moved,
    )
    rec.issues += [make_issue("list-superseded", value=f"{o.file_name}, phiên bản {o.version}") for o in earlier]
    if rec.kind == KIND_INDIVIDUAL:
        _regroup(rec, rec.plan, context, settings, (file.name, sheet), earlier, key)
    if context.others:
        _overlap(rec, rec.plan, context, file)


def _regroup(
    rec: Record,
    plan: ListPlan,
    context: DecisionContext,
    settings: Settings,
    where: tuple[str, str],
    earlier: list[PlaceList],
    key: tuple[datetime, int],
) -> None:
    """Letter §2.5.a: the A-quota of individual forms is judged over all the active forms of
    one decider. Regroup the new form's decider and the deciders of the forms it replaces."""
    header = rec.header
    assert header is not None
    mine = (header.decider_position, norm_text(header.decider_name))
    groups = {mine} | {(o.decider_position, norm_text(o.decider_name)) for o in earlier}
    gone = {o.id for o in earlier}
    rec.outcome = ACCEPTED
    for position, name in sorted(groups):
        members = [
            p for p in context.place if p.status != SUPERSEDED and p.id not in gone and _same_decider(p, position, name)
        ]
        new_in = plan.status != SUPERSEDED and (position, name) == mine
        parts = [((p.arrival, p.id), context.form_rows.get(p.id, [])) for p in members]
        if new_in:  # the new list's id will be the largest
            parts.append(((key[0], _NEW_ID), rec.rows))
        rows = [r for _, part in sorted(parts, key=lambda x: x[0]) for r in part]
        if not rows:
            continue
        findings, violations = check_quota(rows, settings, file=where[0], sheet=where[1])
        status = INVALID_QUOTA if violations else VALID
        plan.set_status.update({p.id: status for p in members if p.status != status})
        verdicts = _verdicts(findings)
        rec.quota_by_list.update({p.id: verdicts for p in members})
        if (position, name) == mine:
            rec.quota = _verdicts(findings)
            if violations:
                rec.issues += violations
                if plan.status != SUPERSEDED:
                    rec.outcome = INVALID
            if new_in:
                plan.status = status


def _view(p: PlaceList, rows: list[EvaluationRow]) -> ListView:
    head = ListHeader(decider_position=p.decider_position, decider_name=p.decider_name)
    return ListView(p.id, p.file_name, p.arrival, head, rows, p.status)


def _overlap(rec: Record, plan: ListPlan, context: DecisionContext, file: FileFacts) -> None:
    """Letter §2.6: a person on a decider's list and on an individual form of the same unit and
    period counts on the list; the lists note the forms they cover and any differing result.
    Judged again over every active list and form of the unit as they stand once ``rec`` is
    recorded: ``rec.overlap_notes`` replaces the notes of every active list, ``rec.covered``
    the flag of every active form."""
    assert rec.header is not None
    gone = {p.id for p in plan.supersedes}
    same = [_view(p, context.other_rows.get(p.id, [])) for p in context.place]
    same = [v for p, v in zip(context.place, same, strict=True) if p.status != SUPERSEDED and p.id not in gone]
    if plan.status != SUPERSEDED:
        same.append(ListView(NEW_LIST, file.name, file.arrival, rec.header, rec.rows, plan.status))
    same.sort(key=lambda v: (v.arrival, v.list_id or _NEW_ID))
    others = [_view(p, context.other_rows.get(p.id, [])) for p in context.others]
    lists, forms = (same, others) if rec.kind == KIND_UNIT_LIST else (others, same)
    covered = covered_forms(lists, forms)
    rec.overlap_notes = {lv.list_id: lv.issues for lv in lists}
    rec.covered = {f.list_id: f.list_id in covered for f in forms}


def judge_recorded(
    places: Mapping[str, Sequence[PlaceList]], rows: Mapping[int, list[EvaluationRow]], settings: Settings
) -> Record:
    """The quota verdicts, letter §2.6 notes and covered flags of lists already recorded
    (``places`` per kind, ``rows`` of the active ones): for a ledger whose lists were recorded
    before the decision recorded them (migration 5). Pure, as :func:`decide`."""
    rec = Record(outcome=ACCEPTED)
    active = {
        k: sorted((p for p in v if p.status != SUPERSEDED), key=lambda p: (p.arrival, p.id)) for k, v in places.items()
    }
    for p in active.get(KIND_UNIT_LIST, []):
        rec.quota_by_list[p.id] = _verdicts(check_quota(rows.get(p.id, []), settings)[0])
    groups: dict[tuple[str, str], list[PlaceList]] = {}
    for p in active.get(KIND_INDIVIDUAL, []):
        groups.setdefault((p.decider_position, norm_text(p.decider_name)), []).append(p)
    for members in groups.values():
        verdicts = _verdicts(check_quota([r for p in members for r in rows.get(p.id, [])], settings)[0])
        rec.quota_by_list.update({p.id: verdicts for p in members})
    if active.get(KIND_UNIT_LIST) and active.get(KIND_INDIVIDUAL):
        lists = [_view(p, rows.get(p.id, [])) for p in active[KIND_UNIT_LIST]]
        forms = [_view(p, rows.get(p.id, [])) for p in active[KIND_INDIVIDUAL]]
        covered = covered_forms(lists, forms)
        rec.overlap_notes = {lv.list_id: lv.issues for lv in lists}
        rec.covered = {f.list_id: f.list_id in covered for f in forms}
    return rec


__all__ = ["block_of", "choose_regime", "decide", "decide_duplicate", "facts", "judge_recorded", "place"]
