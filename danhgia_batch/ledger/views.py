"""Read side of the ledger: the views the reports consume (UnitView, PeriodView, YearRow),
locks, and the small queries :class:`~.store.Ledger` uses while recording.

Bulk queries (one per table per period) so that a city period of thousands of lists is
built in a few round trips.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..issues import Issue, Severity
from ..models import EvaluationRow, ListHeader, ListView, Person, Unit, UnitView, YearRow
from ..registry import Registry, norm_code
from ..rules.overlap import covered_forms
from . import schema as s
from .codec import evaluation_from_row, from_hundredths, issue_from_row, norm_text

_L, _F, _E = s.lists, s.files, s.evaluations


# ---------------------------------------------------------------- used while recording


def _lists_query() -> Select[Any]:
    return select(_L, _F.c.name.label("file_name")).join(_F, _F.c.id == _L.c.file_id)


_ACTIVE_COLS = (
    _L.c.id,
    _L.c.file_id,
    _L.c.kind,
    _L.c.period,
    _L.c.unit_code,
    _L.c.decider_position,
    _L.c.decider_name,
    _L.c.person_code,
    _L.c.version,
    _L.c.status,
    _L.c.arrival,
)


# Statements run for every recorded file are built once, with bound parameters: building a
# SQLAlchemy statement costs more than running it on SQLite.
_ACTIVE_ANY = (
    select(*_ACTIVE_COLS, _F.c.name.label("file_name"))
    .join(_F, _F.c.id == _L.c.file_id)
    .where(_L.c.period == bindparam("period"), _L.c.unit_code == bindparam("unit"), _L.c.status != s.SUPERSEDED)
)
_ACTIVE_KIND = _ACTIVE_ANY.where(_L.c.kind == bindparam("kind")).order_by(_L.c.arrival, _L.c.id)
_ACTIVE_ANY = _ACTIVE_ANY.order_by(_L.c.arrival, _L.c.id)


_PLACE_LISTS = (
    select(*_ACTIVE_COLS, _F.c.name.label("file_name"))
    .join(_F, _F.c.id == _L.c.file_id)
    .where(_L.c.period == bindparam("period"), _L.c.unit_code == bindparam("unit"), _L.c.kind == bindparam("kind"))
    .order_by(_L.c.arrival, _L.c.id)
)


def place_lists(conn: Connection, period: str, unit_code: str, kind: str) -> list[Any]:
    """Every list (any status) of a unit, period and kind: :func:`active_lists` and
    :func:`place_version` of a new list from one read."""
    return list(conn.execute(_PLACE_LISTS, {"period": period, "unit": unit_code, "kind": kind}))


def version_among(
    conn: Connection, rows: list[Any], rec_kind: str, header: ListHeader, person: str, key: tuple[Any, int]
) -> int:
    """:func:`place_version` over ``rows`` = :func:`place_lists` of the new list's place."""
    same = [r for r in rows if (r.person_code == person if rec_kind == "01" else same_decider(r, header))]
    later = [r.id for r in same if (r.arrival, r.file_id) > key]
    if later:
        conn.execute(update(_L).where(_L.c.id.in_(later)).values(version=_L.c.version + 1))
    return 1 + len(same) - len(later)


def active_lists(conn: Connection, period: str, unit_code: str, *, kind: str | None = None) -> list[Any]:
    """The lists of a unit and period not superseded (the columns recording needs: no JSON)."""
    if kind:
        return list(conn.execute(_ACTIVE_KIND, {"period": period, "unit": unit_code, "kind": kind}))
    return list(conn.execute(_ACTIVE_ANY, {"period": period, "unit": unit_code}))


def same_decider(row: Any, header: ListHeader) -> bool:
    """The same decider: same position code and the same name (NFC, spacing, case folded)."""
    return bool(
        row.decider_position == header.decider_position
        and norm_text(row.decider_name) == norm_text(header.decider_name)
    )


def place_version(
    conn: Connection, rec_kind: str, period: str, unit_code: str, header: ListHeader, person: str, key: tuple[Any, int]
) -> int:
    """Version of a new list = its rank by arrival among the lists of the same decider (or
    person, for 01); lists that arrived later move one version up."""
    params = {"period": period, "unit": unit_code, "kind": rec_kind}
    rows = conn.execute(_SAME_PLACE, params)
    same = [r for r in rows if (r.person_code == person if rec_kind == "01" else same_decider(r, header))]
    later = [r.id for r in same if (r.arrival, r.file_id) > key]
    if later:
        conn.execute(update(_L).where(_L.c.id.in_(later)).values(version=_L.c.version + 1))
    return 1 + len(same) - len(later)


_SAME_PLACE = select(
    _L.c.id, _L.c.decider_position, _L.c.decider_name, _L.c.person_code, _L.c.arrival, _L.c.file_id
).where(_L.c.period == bindparam("period"), _L.c.unit_code == bindparam("unit"), _L.c.kind == bindparam("kind"))
_EVALUATIONS_OF = select(_E).where(_E.c.list_id.in_(bindparam("ids", expanding=True))).order_by(_E.c.list_id, _E.c.id)


_EVALUATIONS_LIGHT = (
    select(_E.c.list_id, _E.c.row, _E.c.person_code, _E.c.full_name, _E.c.final_total, _E.c.final_grade)
    .where(_E.c.list_id.in_(bindparam("ids", expanding=True)))
    .order_by(_E.c.list_id, _E.c.id)
)


def _light_row(r: Any) -> EvaluationRow:
    """What a summarised view needs of a row: who (letter §2.6 overlap of lists and forms) and
    the final result (tallies); no JSON column is decoded."""
    return EvaluationRow(
        row=r.row,
        person_code=r.person_code,
        full_name=r.full_name,
        position_code="",
        category="",
        group="",
        final_total=from_hundredths(r.final_total),
        final_grade=r.final_grade,
    )


def evaluations_of(conn: Connection, list_ids: list[int], *, light: bool = False) -> dict[int, list[EvaluationRow]]:
    """Evaluation rows per list id; ``light``: only what :func:`summarise` keeps (see :func:`_light_row`)."""
    query, make = (_EVALUATIONS_LIGHT, _light_row) if light else (_EVALUATIONS_OF, evaluation_from_row)
    out: dict[int, list[EvaluationRow]] = defaultdict(list)
    for part in _slices(list_ids, 5000):
        for r in conn.execute(query, {"ids": list(part)}):
            out[r.list_id].append(make(r))
    return out


def issues_of(conn: Connection, file_ids: Iterable[int]) -> dict[int, list[Issue]]:
    ids = list(file_ids)
    out: dict[int, list[Issue]] = defaultdict(list)
    if ids:
        q = (
            select(s.issues, _F.c.name.label("file_name"))
            .join(_F, _F.c.id == s.issues.c.file_id)
            .where(s.issues.c.file_id.in_(ids))
            .order_by(s.issues.c.id)
        )
        for r in conn.execute(q):
            out[r.file_id].append(issue_from_row(r, r.file_name))
    return out


def evaluation_count(conn: Connection, period: str | None, active_only: bool) -> int:
    q = select(func.count()).select_from(_E.join(_L, _L.c.id == _E.c.list_id))
    if period is not None:
        q = q.where(_L.c.period == period)
    if active_only:
        q = q.where(_L.c.status != s.SUPERSEDED)
    return int(conn.execute(q).scalar_one())


def people_listed(
    conn: Connection, period: str, exclude: tuple[str, str, str] | None, persons: Iterable[str] | None = None
) -> dict[str, str]:
    cols = (_L.c.unit_code, _L.c.unit_name, _L.c.decider_position, _L.c.decider_name, _L.c.kind)
    active = (_L.c.period == period, _L.c.status != s.SUPERSEDED)
    found: list[tuple[str, Any]] = []  # (person code, list row), in (unit, list, row) order
    if persons is None:
        q = select(_E.c.person_code, _L.c.id, *cols).join(_L, _L.c.id == _E.c.list_id).where(*active)
        found = [(r.person_code, r) for r in conn.execute(q.order_by(_L.c.unit_code, _L.c.id, _E.c.id))]
    else:
        # Only the people of the file at hand. Two indexed lookups, not one join: without
        # statistics SQLite would drive the join from the period index and walk every list of
        # the period for each file (a city period holds 25,000 lists).
        codes = sorted({c for p in persons for c in (p, p.strip(), p.strip().upper())})
        hits: list[Any] = []
        for part in _slices(codes):
            hits += conn.execute(_PERSON_HITS, {"codes": list(part)}).all()
        lists: dict[int, Any] = {}
        for part in _slices(sorted({h.list_id for h in hits})):
            found_lists = conn.execute(_ACTIVE_BY_ID, {"ids": list(part), "period": period})
            lists.update((r.id, r) for r in found_lists)
        hits = sorted(
            (h for h in hits if h.list_id in lists), key=lambda h: (lists[h.list_id].unit_code, h.list_id, h.id)
        )
        found = [(h.person_code, lists[h.list_id]) for h in hits]
    out: dict[str, str] = {}
    for person_code, r in found:
        if (
            exclude
            and r.unit_code == exclude[0]
            and (
                r.kind == "01"
                or (r.decider_position == exclude[1] and norm_text(r.decider_name) == norm_text(exclude[2]))
            )
        ):
            continue
        out[person_code] = f"{r.unit_name or r.unit_code}, {r.decider_name}"
    return out


_PERSON_HITS = select(_E.c.id, _E.c.list_id, _E.c.person_code).where(
    _E.c.person_code.in_(bindparam("codes", expanding=True))
)
_ACTIVE_BY_ID = select(
    _L.c.id, _L.c.unit_code, _L.c.unit_name, _L.c.decider_position, _L.c.decider_name, _L.c.kind
).where(_L.c.id.in_(bindparam("ids", expanding=True)), _L.c.period == bindparam("period"), _L.c.status != s.SUPERSEDED)


def _slices(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """``values`` in slices small enough for one IN (…) list on any engine."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------- locks


_LOCKED = (  # built once: asked for every file
    select(s.period_locks.c.locked)
    .where(
        s.period_locks.c.period == bindparam("period"),
        s.period_locks.c.block.in_(bindparam("blocks", expanding=True)),
    )
    .order_by(s.period_locks.c.id.desc())
    .limit(1)
)


def locked(conn: Connection, period: str, block: str | None) -> bool:
    """The latest lock row of (period, whole) or (period, block) decides."""
    blocks = ["", block] if block else [""]
    return bool(conn.execute(_LOCKED, {"period": period, "blocks": blocks}).scalar())


def locked_blocks(conn: Connection, period: str) -> set[str]:
    q = select(s.period_locks.c.block).where(s.period_locks.c.period == period, s.period_locks.c.block != "").distinct()
    return {b for b in conn.execute(q).scalars() if locked(conn, period, b)}


# ---------------------------------------------------------------- registry


def unit_to_row(vid: int, code: str, u: Unit) -> dict[str, Any]:
    return {
        "version_id": vid,
        "code": code,
        "name": u.name,
        "block": u.block,
        "kind": u.kind,
        "parent_code": u.parent_code,
        **{name: getattr(u, name) for name in s.ORG_COLUMNS},
    }


def person_to_row(vid: int, code: str, p: Person) -> dict[str, Any]:
    return {
        "version_id": vid,
        "code": code,
        "full_name": p.full_name,
        "unit_code": p.unit_code,
        "position_code": p.position_code,
        "category": p.category,
        "grp": p.group,
        "birth_date": p.birth_date,
        "position_title": p.position_title,
        "active": p.active,
    }


def load_registry(conn: Connection, vid: int) -> Registry:
    ru, rp = s.registry_units, s.registry_people
    units = {
        r.code: Unit(
            code=r.code,
            name=r.name,
            block=r.block,
            kind=r.kind,
            parent_code=r.parent_code,
            **{name: getattr(r, name) for name in s.ORG_COLUMNS},
        )
        for r in conn.execute(select(ru).where(ru.c.version_id == vid))
    }
    # A city registry has 200,000 people but few distinct units, positions, categories and
    # birth dates: one shared object per distinct value (the parent keeps the registry all run).
    shared: dict[Any, Any] = {}
    one = shared.setdefault
    people = {
        r.code: Person(
            code=r.code,
            full_name=r.full_name,
            unit_code=one(r.unit_code, r.unit_code),
            position_code=one(r.position_code, r.position_code),
            category=one(r.category, r.category),
            group=one(r.grp, r.grp),
            birth_date=one(r.birth_date, r.birth_date),
            position_title=one(r.position_title, r.position_title),
            active=bool(r.active),
        )
        for r in conn.execute(select(rp).where(rp.c.version_id == vid))
    }
    moves: dict[str, list[Person]] = {}
    for r in conn.execute(select(s.registry_moves).where(s.registry_moves.c.version_id == vid)):
        moves.setdefault(r.code, [people[r.code]] if r.code in people else []).append(_person(r))
    return Registry(units=units, people=people, version=vid, moves=moves)


def _person(r: Any) -> Person:
    return Person(
        code=r.code,
        full_name=r.full_name,
        unit_code=r.unit_code,
        position_code=r.position_code,
        category=r.category,
        group=r.grp,
        birth_date=r.birth_date,
        position_title=r.position_title,
        active=bool(r.active),
    )


def registry_version_for(conn: Connection, period: str) -> int | None:
    """Id of the registry version in force for ``period`` (SPEC §3, §9), ``None`` if none.

    A published (locked) period keeps the registry it was published with: the latest version
    loaded at or before the moment it was locked, so regenerating October's reports after a
    November registry moves nobody. With several locks in effect (blocks published on
    different days) the earliest counts: once a period's publication has begun, a registry
    loaded later belongs to later periods. If no version had been loaded by then, the first
    one loaded stands in. A period not locked follows the latest version: its files are
    still being checked against the current registry, and reopening a period to correct it
    brings it back to the current registry until it is published again.
    """
    rv, pl = s.registry_versions, s.period_locks
    latest: dict[str, Any] = {}  # block ("" = the whole period) → its latest lock row
    for r in conn.execute(select(pl).where(pl.c.period == period).order_by(pl.c.id)):
        latest[r.block] = r
    whole = latest.get("")
    in_effect = []  # when each block now locked was locked (as in locked(): the later row decides)
    for r in latest.values():
        decides = whole if whole is not None and whole.id > r.id else r
        if decides.locked:
            in_effect.append(r.at if r.locked else decides.at)
    q = select(rv.c.id).order_by(rv.c.id.desc()).limit(1)
    if in_effect:
        cutoff = min(in_effect)
        vid = conn.execute(q.where(rv.c.loaded_at <= cutoff)).scalar()
        if vid is None:  # published before any registry: the first one loaded stands in
            vid = conn.execute(select(rv.c.id).order_by(rv.c.id).limit(1)).scalar()
    else:
        vid = conn.execute(q).scalar()
    return int(vid) if vid is not None else None


# ---------------------------------------------------------------- unit and period views


def _header(r: Any) -> ListHeader:
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
        cells=dict(r.header_cells or {}),
    )


def _kept(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity is not Severity.ERROR]


def _list_views(
    rows: list[Any], evals: dict[int, list[EvaluationRow]], issues: dict[int, list[Issue]]
) -> list[ListView]:
    """One ListView per decider list (02); individual forms (01) grouped per decider."""
    out: list[ListView] = []
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        if r.kind == "01":
            groups[(r.decider_position, norm_text(r.decider_name))].append(r)
        else:
            lv = ListView(
                r.id, r.file_name, r.arrival, _header(r), evals.get(r.id, []), r.status, _kept(issues[r.file_id])
            )
            out.append(lv)
    if out and groups:  # letter §2.6: a person on a decider's list counts there, not on a form
        forms = [
            ListView(m.id, m.file_name, m.arrival, _header(m), evals.get(m.id, []), m.status)
            for g in groups.values()
            for m in g
        ]
        covered = covered_forms(out, forms)
        groups = {k: kept_ for k, g in groups.items() if (kept_ := [m for m in g if m.id not in covered])}
    for members in groups.values():
        last = max(members, key=lambda m: (m.arrival, m.id))
        status = s.INVALID_QUOTA if any(m.status == s.INVALID_QUOTA for m in members) else s.VALID
        files = [m.file_name for m in members]
        name = files[0] if len(files) == 1 else f"{len(files)} phiếu cá nhân"
        rows_ = [ev for m in members for ev in evals.get(m.id, [])]
        kept = [i for m in members for i in _kept(issues[m.file_id]) if i.code != "quota-exceeded"]
        kept += [i for i in issues[last.file_id] if i.code == "quota-exceeded"]
        out.append(ListView(min(m.id for m in members), name, last.arrival, _header(last), rows_, status, kept))
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

    def missing(self, unit_code: str) -> list[Person]:
        return [p for p in self.by_unit.get(norm_code(unit_code), []) if norm_code(p.code) not in self.done]

    def size(self, unit_code: str) -> int:
        return len(self.by_unit.get(norm_code(unit_code), []))


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
) -> dict[str, UnitView]:
    """UnitViews of ``period``: every unit of ``unit_codes`` (even with nothing submitted), or
    else every unit with lists or rejected files."""
    return unit_views_by_block(conn, period, registry, [block], unit_codes=unit_codes)[block]


def unit_views_by_block(
    conn: Connection,
    period: str,
    registry: Registry | None,
    blocks: Sequence[str | None],
    *,
    unit_codes: list[str] | None = None,
    summary: bool = False,
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
    )
    for batch in batches:
        short: dict[int, UnitView] = {}  # a view shared by the period and its block: summarised once
        for b, found in batch.items():
            for code, v in found.items():
                out[b][code] = (short.get(id(v)) or short.setdefault(id(v), summarise(v))) if summary else v
    return out


SUMMARY_BATCH_UNITS = 400  # units whose evaluations are in memory at once in a batched read


def unit_view_batches(
    conn: Connection,
    period: str,
    registry: Registry | None,
    blocks: Sequence[str | None],
    *,
    unit_codes: list[str] | None = None,
    batch_units: int | None = None,
    light: bool = False,
) -> Iterator[dict[str | None, dict[str, UnitView]]]:
    """:func:`unit_views_by_block`, ``batch_units`` units at a time (all at once if None).

    The lists, rejected files and the registry's staff index are read once; the evaluations
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
    rows = list(conn.execute(q.order_by(_L.c.arrival, _L.c.id)))
    files = list(conn.execute(fq.order_by(_F.c.arrival, _F.c.id)))
    staff: Staff | None = None
    if registry is not None:
        evaluated = {
            r[0]
            for r in conn.execute(
                select(_E.c.person_code)
                .join(_L, _L.c.id == _E.c.list_id)
                .where(_L.c.period == period, _L.c.status != s.SUPERSEDED)
            )
        }
        staff = Staff(registry, evaluated)
    if batch_units is None:
        chunks: list[tuple[list[Any], list[Any], list[str] | None]] = [(rows, files, unit_codes)]
    else:
        rows_by: dict[str, list[Any]] = defaultdict(list)
        files_by: dict[str, list[Any]] = defaultdict(list)
        for r in rows:
            rows_by[r.unit_code].append(r)
        for f in files:
            if f.unit_code:
                files_by[f.unit_code].append(f)
        codes = sorted(set(rows_by) | set(files_by) | set(unit_codes or []))
        chunks = [
            (
                [r for c in part for r in rows_by.get(c, [])],  # each unit's own order is kept
                [f for c in part for f in files_by.get(c, [])],
                list(part) if unit_codes is not None else None,
            )
            for part in _slices(codes, batch_units)
        ]
        del rows_by, files_by
    for rows_, files_, codes_ in chunks:
        evals = evaluations_of(conn, [r.id for r in rows_], light=light)
        issues = issues_of(conn, {r.file_id for r in rows_})
        out: dict[str | None, dict[str, UnitView]] = {}
        whole: dict[str, UnitView] | None = None
        spans: dict[str, set[str]] = defaultdict(set)  # unit -> blocks of its lists and rejected files
        if light and unit_codes is None and any(b for b in blocks):
            whole = _build_unit_views(period, registry, staff, rows_, files_, evals, issues, None)
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
                out[b] = _build_unit_views(period, registry, staff, mine, rejected_files, evals, issues, codes_)
                continue
            spanning = {u for u, bs in spans.items() if len(bs) > 1 and b in bs}
            out[b] = {u: whole[u] for u, bs in spans.items() if bs == {b} and u in whole}
            if spanning:  # a unit across blocks: this block's share of it, built on its own
                mine = [r for r in mine if r.unit_code in spanning]
                rejected_files = [f for f in rejected_files if f.unit_code in spanning]
                out[b].update(_build_unit_views(period, registry, staff, mine, rejected_files, evals, issues, None))
        yield out


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
    evals: dict[int, list[EvaluationRow]],
    issues: dict[int, list[Issue]],
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
        view.lists = _list_views(lists, evals, issues)
        view.rejected_files = rejected.get(code, [])
        out[code] = view
    return out


# ---------------------------------------------------------------- year view


def year_rows(conn: Connection, year: int, registry: Registry | None) -> list[YearRow]:
    q = (
        select(
            _E.c.person_code,
            _E.c.full_name,
            _E.c.position_title,
            _E.c.final_grade,
            _E.c.final_total,
            _L.c.period,
            _L.c.unit_code,
            _L.c.unit_name,
            _L.c.block,
            _L.c.kind,
        )
        .join(_L, _L.c.id == _E.c.list_id)
        .where(_L.c.period.like(f"{year:04d}-%"), _L.c.status != s.SUPERSEDED)
        .order_by(_L.c.period, _L.c.arrival, _L.c.id)
    )
    people: dict[str, YearRow] = {}
    on_list: set[tuple[str, str, str]] = set()  # letter §2.6: the list's result, not the form's
    for r in conn.execute(q):
        try:
            month = int(r.period[5:7])
        except ValueError:
            continue
        if (r.person_code, r.period, r.unit_code) in on_list and r.kind == "01":
            continue
        if r.kind == "02":
            on_list.add((r.person_code, r.period, r.unit_code))
        row = people.get(r.person_code)
        if row is None:
            row = people[r.person_code] = YearRow(r.person_code, r.full_name, r.unit_code, r.unit_name, r.block)
        row.full_name, row.unit_code, row.block = r.full_name, r.unit_code, r.block
        row.unit_name = r.unit_name or row.unit_name
        row.position_title = r.position_title or row.position_title
        row.grades[month] = r.final_grade
        row.units[month] = (r.unit_code, r.unit_name)
        total: Decimal | None = from_hundredths(r.final_total)
        if total is not None:
            row.scores[month] = total
    if registry is not None:
        for row in people.values():
            unit = registry.unit(row.unit_code)
            if unit is not None:
                row.unit_name, row.block = unit.name, unit.block
            for month, (code, name) in row.units.items():  # the registry's names of earlier units
                known = registry.unit(code)
                row.units[month] = (code, known.name if known else name)
    return sorted(people.values(), key=lambda y: (y.block, y.unit_code, y.full_name, y.person_code))


# ---------------------------------------------------------------- pending roll-ups


_UPSERT_ROLLUP: dict[str, Any] = {}  # dialect name → the upsert of one mark, built once


def mark_rollups(conn: Connection, period: str, block: str) -> None:
    """Mark the block and district roll-ups of ``period`` as needing a rewrite (upsert)."""
    table = s.pending_rollups
    if conn.dialect.name in ("postgresql", "sqlite"):
        stmt = _UPSERT_ROLLUP.get(conn.dialect.name)
        if stmt is None:
            mod = postgresql if conn.dialect.name == "postgresql" else sqlite
            ins = mod.insert(table).values(period=bindparam("p_period"), block=bindparam("p_block"), generation=1)
            stmt = ins.on_conflict_do_update(
                index_elements=["period", "block"], set_={"generation": table.c.generation + 1}
            )
            _UPSERT_ROLLUP[conn.dialect.name] = stmt
        conn.execute(stmt, [{"p_period": period, "p_block": k} for k in sorted({block, ""})])
        return
    for key in {block, ""}:
        values = {"period": period, "block": key, "generation": 1}
        done = conn.execute(
            update(table)
            .where(table.c.period == period, table.c.block == key)
            .values(generation=table.c.generation + 1)
        )
        if done.rowcount == 0:
            conn.execute(table.insert().values(**values))


def pending_rollups(conn: Connection) -> list[tuple[str, str, int]]:
    t = s.pending_rollups
    q = select(t.c.period, t.c.block, t.c.generation).order_by(t.c.period, t.c.block)
    return [(r.period, r.block, r.generation) for r in conn.execute(q)]


def clear_rollup(conn: Connection, period: str, block: str, generation: int) -> None:
    t = s.pending_rollups
    conn.execute(delete(t).where(t.c.period == period, t.c.block == block, t.c.generation == generation))
