"""Read side of the ledger: the unit and period views the reports consume (UnitView,
PeriodView). Bulk queries (one per table per period) so that a city period of thousands of
lists is built in a few round trips.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, select

from ..issues import Issue, Severity
from ..models import EvaluationRow, ListHeader, ListView, Person, QuotaVerdict, UnitView
from ..registry import Registry, norm_code
from ..registry.model import norm_text_code
from . import schema as s
from .codec import norm_text
from .queries import _lists_query, _slices, evaluated_among, evaluations_of, issues_of, notes_of, quota_of

_L, _F, _E = s.lists, s.files, s.evaluations

# ---------------------------------------------------------------- unit and period views


def _header(r: Any, cells: dict[str, dict[str, str]]) -> ListHeader:
    """The header of list row ``r``; ``cells`` (one per read): the header cells of each distinct
    stored text, one dict shared by the lists of the same template layout (never mutated)."""
    return ListHeader(
        period=r.period,
        unit_code=r.unit_code,
        unit_name=r.unit_name,
        block=r.block,
        decider_name=r.decider_name,
        decider_position=r.decider_position,
        decision_date=r.decision_date,
        prepared_by=r.prepared_by,
        prepared_date=r.prepared_date,
        cells=_cells(r.header_cells, cells),
    )


def _cells(text: Any, memo: dict[str, dict[str, str]]) -> dict[str, str]:
    if not text:
        return {}
    if not isinstance(text, str):  # a driver that decodes JSON itself
        return dict(text)
    found = memo.get(text)
    if found is None:
        found = memo[text] = dict(json.loads(text) or {})
    return found


def _kept(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity is not Severity.ERROR]


@dataclass
class _Found:
    """What the views of a batch of lists are built from besides the list rows."""

    evals: dict[int, list[EvaluationRow]]
    issues: dict[int, list[Issue]]  # per file id
    notes: dict[int, list[Issue]]  # per list id: letter §2.6 notes as the decision recorded them
    quota: dict[int, list[QuotaVerdict]]  # per list id
    cells: dict[str, dict[str, str]] = field(default_factory=dict)  # header cells per stored text


def _found(conn: Connection, rows: list[Any], *, light: bool) -> _Found:
    return _Found(
        evaluations_of(conn, [r.id for r in rows], light=light),
        issues_of(conn, {r.file_id for r in rows}),
        notes_of(conn, {r.id: r.file_name for r in rows if r.kind == "02"}),
        quota_of(conn, [r.id for r in rows]),
    )


def _list_views(rows: list[Any], found: _Found) -> list[ListView]:
    """One ListView per decider list (02); individual forms (01) grouped per decider, without
    the forms a list covers (letter §2.6, as the decision recorded it: ``lists.covered``)."""
    evals, issues = found.evals, found.issues
    out: list[ListView] = []
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        if r.kind == "01":
            if not r.covered:
                groups[(r.decider_position, norm_text(r.decider_name))].append(r)
        else:
            kept_issues = _kept(issues[r.file_id]) + found.notes.get(r.id, [])
            lv = ListView(
                r.id, r.file_name, r.arrival, _header(r, found.cells), evals.get(r.id, []), r.status, kept_issues
            )
            lv.quota = found.quota.get(r.id, [])
            out.append(lv)
    for members in groups.values():
        last = max(members, key=lambda m: (m.arrival, m.id))
        status = s.INVALID_QUOTA if any(m.status == s.INVALID_QUOTA for m in members) else s.VALID
        files = [m.file_name for m in members]
        name = files[0] if len(files) == 1 else f"{len(files)} phiếu cá nhân"
        rows_ = [ev for m in members for ev in evals.get(m.id, [])]
        kept = [i for m in members for i in _kept(issues[m.file_id]) if i.code != "quota-exceeded"]
        kept += [i for i in issues[last.file_id] if i.code == "quota-exceeded"]
        lv = ListView(min(m.id for m in members), name, last.arrival, _header(last, found.cells), rows_, status, kept)
        lv.quota = found.quota.get(last.id, [])
        out.append(lv)
    return sorted(out, key=lambda lv: (lv.arrival, lv.list_id))


class Staff:
    """Active registry people per unit and the people evaluated in a period, indexed once
    (a city period has thousands of units and 200,000 people)."""

    def __init__(self, registry: Registry, evaluated: set[str]) -> None:
        self.by_unit: dict[str, list[Person]] = defaultdict(list)
        for p in registry.people.values():
            if p.active:
                self.by_unit[norm_code(p.unit_code)].append(p)
        self.done = {norm_code(c) for c in evaluated}

    @classmethod
    def of(cls, people: dict[str, list[Person]], evaluated: Iterable[str]) -> Staff:
        """The staff of some units only (``people``: :attr:`StaffSlice.people`); of ``evaluated``
        only their people are kept (all :meth:`missing` asks)."""
        staff = cls.__new__(cls)
        staff.by_unit = defaultdict(list, people)
        wanted = {norm_code(p.code) for found in people.values() for p in found}
        codes = (norm_text_code(c) if type(c) is str else norm_code(c) for c in evaluated)
        staff.done = {code for code in codes if code in wanted}
        return staff

    def missing(self, unit_code: str) -> list[Person]:
        return [p for p in self.by_unit.get(norm_code(unit_code), []) if norm_code(p.code) not in self.done]

    def size(self, unit_code: str) -> int:
        return len(self.by_unit.get(norm_code(unit_code), []))


class StaffSlice(NamedTuple):
    """The registry's active people of some units, as the deciding process holds them, for the
    unit writer process (issue 19: it then loads the registry's units only, not its 170,000
    people). ``people``: normalised unit code → its active people in registry order
    (:meth:`Registry.people_of <danhgia_batch.registry.Registry.people_of>`, what :class:`Staff`
    indexes); ``version``: the registry version they come from (in force for the period)."""

    version: int
    people: dict[str, list[Person]]


def staff_slice(registry: Registry, unit_codes: Iterable[str]) -> StaffSlice:
    """:class:`StaffSlice` of ``unit_codes`` from ``registry`` (the version in force for a period)."""
    assert registry.version is not None
    return StaffSlice(registry.version, {norm_code(c): registry.people_of(c) for c in unit_codes})


def empty_unit_view(period: str, unit_code: str, registry: Registry | None, staff: Staff | None = None) -> UnitView:
    unit = registry.unit(unit_code) if registry else None
    view = UnitView(
        period=period, unit_code=unit_code, unit_name=unit.name if unit else "", block=unit.block if unit else ""
    )
    if unit is not None:
        view.unit_kind = unit.kind
        view.chain = registry.chain(unit_code) if registry else []
        view.administrator = registry.administrator_of(unit_code) if registry else None
    if registry is not None:
        staff = staff or Staff(registry, set())
        view.missing_people = staff.missing(unit_code)
        view.registry_size = staff.size(unit_code)
    return view


def unit_views(
    conn: Connection,
    period: str,
    registry: Registry | None,
    *,
    unit_codes: list[str] | None = None,
    block: str | None = None,
    people: dict[str, list[Person]] | None = None,
) -> dict[str, UnitView]:
    """UnitViews of ``period``: every unit of ``unit_codes`` (even with nothing submitted), or
    else every unit with lists or rejected files. ``people`` (:attr:`StaffSlice.people` of
    ``unit_codes``): the registry's people of those units, ``registry`` then holds its units only."""
    return unit_views_by_block(conn, period, registry, [block], unit_codes=unit_codes, people=people)[block]


def unit_views_by_block(
    conn: Connection,
    period: str,
    registry: Registry | None,
    blocks: Sequence[str | None],
    *,
    unit_codes: list[str] | None = None,
    summary: bool = False,
    people: dict[str, list[Person]] | None = None,
) -> dict[str | None, dict[str, UnitView]]:
    """:func:`unit_views` of several blocks of one period (a falsy block: all of them) from one
    read of the ledger: the roll-ups of a run need every block and the district.

    ``summary``: the views are summarised (:func:`summarise`) and the evaluations are read a batch of
    units at a time, so that a city period's roll-ups never hold all its rows at once.
    """
    out: dict[str | None, dict[str, UnitView]] = {b: {} for b in blocks}
    batches = unit_view_batches(
        conn,
        period,
        registry,
        blocks,
        unit_codes=unit_codes,
        batch_units=SUMMARY_BATCH_UNITS if summary else None,
        light=summary,
        people=people,
    )
    for batch in batches:
        short: dict[int, UnitView] = {}  # a view shared by the period and its block: summarised once
        for b, found in batch.items():
            for code, v in found.items():
                out[b][code] = (short.get(id(v)) or short.setdefault(id(v), summarise(v))) if summary else v
    return out


SUMMARY_BATCH_UNITS = 400  # units whose evaluations are in memory at once in a batched read
NARROW_UNITS = 200  # views of at most this many units look up only their own people's evaluations
NARROW_PEOPLE = 5000  # … when these units have at most this many people


def unit_view_batches(
    conn: Connection,
    period: str,
    registry: Registry | None,
    blocks: Sequence[str | None],
    *,
    unit_codes: list[str] | None = None,
    batch_units: int | None = None,
    light: bool = False,
    people: dict[str, list[Person]] | None = None,
) -> Iterator[dict[str | None, dict[str, UnitView]]]:
    """:func:`unit_views_by_block`, ``batch_units`` units at a time (all at once if None).

    The rejected files and the registry's staff index are read once; the list rows, evaluations
    and issues of each batch of units are read when the batch is built, so memory holds one
    batch's rows (a city month: 190,000 evaluations, ~1.5 GB as views).

    ``light`` (for :func:`summarise`): rows as :func:`_light_row` reads them, and a unit whose
    lists and rejected files all carry one block has one view, shared by the whole period and
    that block (built from the same rows, it is the view the block alone would give).
    """
    q = _lists_query().where(_L.c.period == period, _L.c.status != s.SUPERSEDED)
    fq = select(_F.c.unit_code, _F.c.block, _F.c.name).where(_F.c.period == period, _F.c.outcome == s.REJECTED)
    if unit_codes is not None:
        q = q.where(_L.c.unit_code.in_(unit_codes))
        fq = fq.where(_F.c.unit_code.in_(unit_codes))
    only = set(blocks)
    if len(only) == 1 and (block := next(iter(only))):  # one block: filtered by the database
        q = q.where(_L.c.block == block)
        fq = fq.where(_F.c.block == block)
    files = list(conn.execute(fq.order_by(_F.c.arrival, _F.c.id)))
    staff: Staff | None = None
    if registry is not None:
        if people is None and unit_codes is not None and len(unit_codes) <= NARROW_UNITS:
            people = {norm_code(c): registry.people_of(c) for c in unit_codes}
        wanted = sorted({norm_code(p.code) for found in (people or {}).values() for p in found})
        if people is not None and len(wanted) <= NARROW_PEOPLE and all(c.isascii() for c in wanted):
            # the few units of a chunk (the unit writer's every job, issue 19): only their people
            # are looked up, not the period's 175,000 rows (quadratic over a city month). An
            # ASCII code is stored exactly as norm_code gives it (the reader's NFC, trim, upper).
            staff = Staff.of(people, evaluated_among(conn, period, wanted))
        else:
            persons = (
                r[0]
                for r in conn.execute(
                    select(_E.c.person_code)
                    .join(_L, _L.c.id == _E.c.list_id)
                    .where(_L.c.period == period, _L.c.status != s.SUPERSEDED)
                )
            )
            staff = Staff(registry, set(persons)) if people is None else Staff.of(people, persons)
    chunks: Iterable[tuple[list[Any], list[Any], list[str] | None]]
    if batch_units is None:
        chunks = [(list(conn.execute(q.order_by(_L.c.arrival, _L.c.id))), files, unit_codes)]
    else:
        chunks = _chunks(conn, q, files, unit_codes, batch_units)
    for rows_, files_, codes_ in chunks:
        found = _found(conn, rows_, light=light)
        out: dict[str | None, dict[str, UnitView]] = {}
        whole: dict[str, UnitView] | None = None
        spans: dict[str, set[str]] = defaultdict(set)  # unit -> blocks of its lists and rejected files
        if light and unit_codes is None and any(b for b in blocks):
            whole = _build_unit_views(period, registry, staff, rows_, files_, found, None)
            for r in rows_:
                spans[r.unit_code].add(r.block or "")
            for f in files_:
                spans[f.unit_code].add(f.block or "")
        for b in blocks:
            if b in out:
                continue
            if whole is not None and not b:
                out[b] = whole
                continue
            mine = [r for r in rows_ if r.block == b] if b else rows_
            rejected_files = [f for f in files_ if f.block == b] if b else files_
            if whole is None:
                out[b] = _build_unit_views(period, registry, staff, mine, rejected_files, found, codes_)
                continue
            spanning = {u for u, bs in spans.items() if len(bs) > 1 and b in bs}
            out[b] = {u: whole[u] for u, bs in spans.items() if bs == {b} and u in whole}
            if spanning:  # a unit across blocks: this block's share of it, built on its own
                mine = [r for r in mine if r.unit_code in spanning]
                rejected_files = [f for f in rejected_files if f.unit_code in spanning]
                out[b].update(_build_unit_views(period, registry, staff, mine, rejected_files, found, None))
        yield out


def _chunks(
    conn: Connection, q: Any, files: list[Any], unit_codes: list[str] | None, size: int
) -> Iterator[tuple[list[Any], list[Any], list[str] | None]]:
    """(list rows, rejected files, unit codes) of ``size`` units at a time, each unit's rows in
    (arrival, id) order; the list rows are read a batch at a time (a city month's 43,000 rows
    held at once cost ~50 MB, issue 19)."""
    files_by: dict[str, list[Any]] = defaultdict(list)
    for f in files:
        if f.unit_code:
            files_by[f.unit_code].append(f)
    listed = {r[0] for r in conn.execute(q.with_only_columns(_L.c.unit_code).distinct())}
    codes = sorted(listed | set(files_by) | set(unit_codes or []))
    for part in _slices(codes, size):
        rows_by: dict[str, list[Any]] = defaultdict(list)
        wanted = [c for c in part if c in listed]
        for piece in _slices(wanted):
            for r in conn.execute(q.where(_L.c.unit_code.in_(piece)).order_by(_L.c.arrival, _L.c.id)):
                rows_by[r.unit_code].append(r)
        yield (
            [r for c in part for r in rows_by.get(c, [])],  # each unit's own order is kept
            [f for c in part for f in files_by.get(c, [])],
            list(part) if unit_codes is not None else None,
        )


def summarise(view: UnitView) -> UnitView:
    """``view`` without its evaluation rows, its final grades counted (``grade_counts``): all a
    roll-up needs of a unit (submitted, late, valid, tally, missing people)."""
    if view.grade_counts is not None:
        return view
    counts = Counter(r.final_grade for lst in view.lists for r in lst.rows)
    return replace(view, lists=[replace(lst, rows=[]) for lst in view.lists], grade_counts=dict(counts))


def _build_unit_views(
    period: str,
    registry: Registry | None,
    staff: Staff | None,
    rows: list[Any],
    files: list[Any],
    found: _Found,
    unit_codes: list[str] | None,
) -> dict[str, UnitView]:
    by_unit: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_unit[r.unit_code].append(r)
    rejected: dict[str, list[str]] = defaultdict(list)
    for f in files:
        if f.unit_code:
            rejected[f.unit_code].append(f.name)
    out: dict[str, UnitView] = {}
    for code in sorted(set(by_unit) | set(rejected) | set(unit_codes or [])):
        view = empty_unit_view(period, code, registry, staff)
        lists = by_unit.get(code, [])
        if lists:
            last = lists[-1]
            view.unit_name = view.unit_name or last.unit_name
            view.block = view.block or last.block
        view.lists = _list_views(lists, found)
        view.rejected_files = rejected.get(code, [])
        out[code] = view
    return out


# ---------------------------------------------------------------- what a period's views depend on

PeriodKey = tuple[tuple[Any, ...], dict[str, tuple[Any, ...]], dict[str, set[str]]]


def period_fingerprint(conn: Connection, period: str) -> PeriodKey:
    """(registry and lock key, per-unit key of its lists and rejected files, per-unit blocks):
    a unit whose key is unchanged has the same :class:`UnitView` (the watcher's cache)."""
    lists, files = s.lists, s.files
    per_unit: dict[str, list[tuple[Any, ...]]] = {}
    unit_blocks: dict[str, set[str]] = {}
    reg = conn.execute(select(func.max(s.registry_versions.c.id))).scalar()
    locks = conn.execute(select(func.max(s.period_locks.c.id))).scalar()
    q = (
        select(lists.c.unit_code, lists.c.id, lists.c.status, lists.c.block, files.c.issue_count)
        .join(files, files.c.id == lists.c.file_id)
        .where(lists.c.period == period, lists.c.status != s.SUPERSEDED)
    )
    for r in conn.execute(q):
        per_unit.setdefault(r.unit_code, []).append(("list", r.id, r.status, r.block or "", r.issue_count))
        unit_blocks.setdefault(r.unit_code, set()).add(r.block or "")
    fq = select(files.c.unit_code, files.c.id, files.c.block, files.c.issue_count).where(
        files.c.period == period, files.c.outcome == s.REJECTED
    )
    for f in conn.execute(fq):
        if f.unit_code:
            per_unit.setdefault(f.unit_code, []).append(("file", f.id, "", f.block or "", f.issue_count))
            unit_blocks.setdefault(f.unit_code, set()).add(f.block or "")
    return (reg, locks), {c: tuple(sorted(v)) for c, v in per_unit.items()}, unit_blocks
