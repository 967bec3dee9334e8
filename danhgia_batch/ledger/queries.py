"""Small queries of the ledger's write side: the lists of one place, evaluation rows and
issues of given lists, the people listed elsewhere, lock rows, and what a decision's context
is built from (:func:`context_rows`). Statements run for every file are built once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, Text, bindparam, cast, delete, func, insert, select, update

from ..issues import Issue
from ..models import EvaluationRow, QuotaVerdict
from ..registry import norm_code
from ..verdict import LockRow, PlaceList
from . import schema as s
from .codec import evaluation_from_row, from_hundredths, issue_from_row, issue_to_row, norm_text

_L, _F, _E = s.lists, s.files, s.evaluations

# ---------------------------------------------------------------- used while recording


def _lists_query() -> Select[Any]:
    """The list rows of the views, their header cells as the stored JSON text (decoded once per
    distinct text by :func:`.views._header`: a city month's 43,000 headers decoded row by row
    held ~100 MB, twice in ``danhgia report``, issue 19)."""
    columns = [c for c in _L.c if c.name != "header_cells"]
    text = cast(_L.c.header_cells, Text).label("header_cells")
    return select(*columns, text, _F.c.name.label("file_name")).join(_F, _F.c.id == _L.c.file_id)


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


_LIST_WHO = (_L.c.unit_code, _L.c.unit_name, _L.c.decider_position, _L.c.decider_name, _L.c.kind)


def people_listed(
    conn: Connection, period: str, exclude: tuple[str, str, str] | None, persons: Iterable[str] | None = None
) -> dict[str, str]:
    found: list[tuple[str, Any]] = []  # (person code, list row), in (unit, list, row) order
    if persons is None:
        active = (_L.c.period == period, _L.c.status != s.SUPERSEDED)
        q = select(_E.c.person_code, _L.c.id, *_LIST_WHO).join(_L, _L.c.id == _E.c.list_id).where(*active)
        found = [(r.person_code, r) for r in conn.execute(q.order_by(_L.c.unit_code, _L.c.id, _E.c.id))]
    else:
        # Only the people of the file at hand (:data:`_PERSON_LISTS`)
        codes = sorted({c for p in persons for c in (p, p.strip(), p.strip().upper())})
        hits: list[Any] = []
        for part in _slices(codes):
            hits += conn.execute(_PERSON_LISTS, {"codes": list(part), "period": period}).all()
        hits.sort(key=lambda h: (h.unit_code, h.id, h.e_id))
        found = [(h.person_code, h) for h in hits]
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


# The active lists of a period that hold some people, one row per (person, list), read from
# the (person code, period) index and each list by its key: only the period's rows, however
# many months the ledger holds (before migration 7 every period's rows of those people were
# read and dropped, so each file's lookup grew month after month; issue 19).
_PERSON_LISTS = (
    select(_E.c.id.label("e_id"), _E.c.person_code, _L.c.id, *_LIST_WHO)
    .join(_L, _L.c.id == _E.c.list_id)
    .where(
        _E.c.person_code.in_(bindparam("codes", expanding=True)),
        _E.c.period == bindparam("period"),
        _L.c.status != s.SUPERSEDED,
    )
)


def evaluated_among(conn: Connection, period: str, codes: Sequence[str]) -> list[str]:
    """The person codes among ``codes`` that an active list of ``period`` evaluates (as stored,
    which the reader stores normalised: NFC, trimmed, upper case), looked up from the people as
    in :func:`people_listed`: the views of a few units need not walk the period's every row."""
    hits: list[Any] = []
    for part in _slices(sorted(set(codes))):
        hits += conn.execute(_PERSON_LISTS, {"codes": list(part), "period": period}).all()
    return [h.person_code for h in sorted(hits, key=lambda h: h.e_id)]


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


# ---------------------------------------------------------------- a decision's context

_LOCK_ROWS = (
    select(s.period_locks.c.id, s.period_locks.c.block, s.period_locks.c.locked, s.period_locks.c.at)
    .where(s.period_locks.c.period == bindparam("period"))
    .order_by(s.period_locks.c.id)
)


def lock_history(conn: Connection, period: str) -> list[Any]:
    """The lock rows of ``period`` (id, block, locked, at), in order: what both the context's
    :class:`LockRow` tuple and :func:`~.registry_rows.registry_version_from` are built from."""
    return list(conn.execute(_LOCK_ROWS, {"period": period}))


def lock_rows(conn: Connection, period: str, history: list[Any] | None = None) -> tuple[LockRow, ...]:
    """The lock history of ``period`` (every block); from ``history`` when already read."""
    rows = lock_history(conn, period) if history is None else history
    return tuple(LockRow(r.id, r.block, bool(r.locked)) for r in rows)


_PERIOD_REGIMES = (
    select(_F.c.regime_id, _F.c.regime_hash, func.max(_F.c.id).label("last"))
    .where(_F.c.period == bindparam("period"), _F.c.regime_id != "", _F.c.outcome.in_([s.ACCEPTED, s.INVALID]))
    .group_by(_F.c.regime_id, _F.c.regime_hash)
    .order_by(func.max(_F.c.id))
)


def period_regimes(conn: Connection, period: str) -> tuple[tuple[str, str], ...]:
    """(regime id, hash) of the files recorded for ``period`` (accepted or invalid), the last
    used first (SPEC §13: a locked period never changes regime)."""
    rows = list(conn.execute(_PERIOD_REGIMES, {"period": period}))
    return tuple((r.regime_id, r.regime_hash) for r in reversed(rows))


_QE = s.quota_exceptions
_GRANT = (  # built once: asked for every file
    select(_QE.c.id, _QE.c.ratio_pct)
    .where(_QE.c.period == bindparam("period"), _QE.c.unit_code == bindparam("unit"))
    .order_by(_QE.c.id.desc())
    .limit(1)
)


def quota_grant(conn: Connection, period: str, unit_code: str) -> tuple[int, float] | None:
    """(id, ratio) of the latest A-quota exception of ``unit_code`` in ``period`` (SPEC §13)."""
    row = conn.execute(_GRANT, {"period": period, "unit": norm_code(unit_code)}).first()
    return (int(row.id), row.ratio_pct / 10000) if row else None


_UNIT_LISTS = (  # the kind, then PlaceList's fields in its order (rows unpacked, not looked up by name)
    select(
        _L.c.kind,
        _L.c.id,
        _L.c.file_id,
        _F.c.name,
        _L.c.decider_position,
        _L.c.decider_name,
        _L.c.person_code,
        _L.c.version,
        _L.c.status,
        _L.c.arrival,
    )
    .join(_F, _F.c.id == _L.c.file_id)
    .where(_L.c.period == bindparam("period"), _L.c.unit_code == bindparam("unit"))
    .order_by(_L.c.arrival, _L.c.id)
)
_LATEST_REGISTRY_ID = select(func.max(s.registry_versions.c.id))


_HEAD = select(  # one statement instead of two, asked twice for every file (context, verification)
    _LATEST_REGISTRY_ID.scalar_subquery().label("latest"),
    _GRANT.with_only_columns(_QE.c.id).scalar_subquery().label("grant_id"),
    _GRANT.with_only_columns(_QE.c.ratio_pct).scalar_subquery().label("grant_pct"),
)


def latest_and_grant(conn: Connection, period: str, unit_code: str) -> tuple[int | None, tuple[int, float] | None]:
    """:func:`latest_registry_id` and :func:`quota_grant` in one statement."""
    row = conn.execute(_HEAD, {"period": period, "unit": norm_code(unit_code)}).one()
    latest = int(row.latest) if row.latest is not None else None
    grant = (int(row.grant_id), row.grant_pct / 10000) if row.grant_id is not None else None
    return latest, grant


def latest_registry_id(conn: Connection) -> int | None:
    """The id of the last registry version loaded (the one in force for a period follows from
    it and the period's lock rows)."""
    found = conn.execute(_LATEST_REGISTRY_ID).scalar()
    return int(found) if found is not None else None


def unit_places(conn: Connection, period: str, unit_code: str) -> dict[str, tuple[PlaceList, ...]]:
    """Every list (any status) of a unit and period, per kind, as the decision's context holds them."""
    out: dict[str, list[PlaceList]] = {"01": [], "02": []}
    for kind, *fields in conn.execute(_UNIT_LISTS, {"period": period, "unit": unit_code}):
        out.setdefault(kind, []).append(PlaceList(*fields))
    return {k: tuple(v) for k, v in out.items()}


class Mark(NamedTuple):
    """What :func:`~danhgia_batch.verdict.fingerprint` reads of a list: id, status, version."""

    id: int
    status: str
    version: int


_UNIT_MARKS = (
    select(_L.c.id, _L.c.status, _L.c.version, _L.c.kind)
    .where(_L.c.period == bindparam("period"), _L.c.unit_code == bindparam("unit"))
    .order_by(_L.c.arrival, _L.c.id)
)


def unit_marks(conn: Connection, period: str, unit_code: str) -> dict[str, list[Mark]]:
    """:func:`unit_places` as far as the fingerprint reads them (the write transaction's check:
    no join, no dates decoded), in the same order."""
    out: dict[str, list[Mark]] = {"01": [], "02": []}
    for r in conn.execute(_UNIT_MARKS, {"period": period, "unit": unit_code}):
        out.setdefault(r[3], []).append(Mark(r[0], r[1], r[2]))
    return out


# ---------------------------------------------------------------- what the decision records


_QV = s.quota_verdicts
_DELETE_QUOTA = delete(_QV).where(_QV.c.list_id.in_(bindparam("ids", expanding=True)))
_INSERT_QUOTA = insert(_QV)


_QUOTA_GROUPS = select(_QV.c.grp).where(_QV.c.list_id == bindparam("list_id")).order_by(_QV.c.id)
_QUOTA_COUNT = select(func.count()).select_from(_QV).where(_QV.c.list_id.in_(bindparam("ids", expanding=True)))
_UPDATE_QUOTA = (
    update(_QV)
    .where(_QV.c.list_id.in_(bindparam("ids", expanding=True)), _QV.c.grp == bindparam("g"))
    .values(ranked=bindparam("ranked"), count_a=bindparam("count_a"), limit_a=bindparam("limit_a"), ok=bindparam("ok"))
)


def replace_quota(conn: Connection, verdicts: dict[int, list[QuotaVerdict]], new: Collection[int]) -> None:
    """The A-quota verdicts of these lists, replacing what they had (``new``: the lists just
    inserted, which have none yet).

    A decider's individual forms share one verdict per group, which moves with every new form
    (issue 19): lists given the same verdicts are updated in place, one statement per group,
    when they hold exactly those groups already (in the same order); the others get their rows
    deleted and inserted.
    """
    shared: dict[tuple[QuotaVerdict, ...], list[int]] = defaultdict(list)
    for i in sorted(verdicts):
        if i not in new:
            shared[tuple(verdicts[i])].append(i)
    renew = [i for i in verdicts if i in new]
    for wanted, members in shared.items():
        if not _update_in_place(conn, wanted, members):
            for part in _slices(members):
                conn.execute(_DELETE_QUOTA, {"ids": list(part)})
            renew += members
    rows = [
        {"list_id": i, "grp": v.group, "ranked": v.ranked, "count_a": v.count_a, "limit_a": v.limit, "ok": v.ok}
        for i in sorted(renew)
        for v in verdicts[i]
    ]
    if rows:
        conn.execute(_INSERT_QUOTA, rows)


def _update_in_place(conn: Connection, wanted: tuple[QuotaVerdict, ...], members: list[int]) -> bool:
    """Give ``members`` the verdicts ``wanted`` by updating their rows; ``False`` when they do
    not hold exactly those groups (their rows are then replaced; updates made are harmless)."""
    groups = [v.group for v in wanted]
    if not wanted or list(conn.execute(_QUOTA_GROUPS, {"list_id": members[0]}).scalars()) != groups:
        return False
    for part in _slices(members):
        ids = list(part)
        if conn.execute(_QUOTA_COUNT, {"ids": ids}).scalar_one() != len(ids) * len(groups):
            return False
        for v in wanted:
            params = {"ids": ids, "g": v.group, "ranked": v.ranked, "count_a": v.count_a, "limit_a": v.limit}
            if conn.execute(_UPDATE_QUOTA, {**params, "ok": v.ok}).rowcount != len(ids):
                return False
    return True


def replace_notes(conn: Connection, notes: dict[int, list[Issue]]) -> None:
    """The letter §2.6 notes of these lists, replacing what they had."""
    t = s.list_notes
    ids = sorted(notes)
    for part in _slices(ids):
        conn.execute(delete(t).where(t.c.list_id.in_(list(part))))
    rows = []
    for i in ids:
        for issue in notes[i]:
            row = issue_to_row(issue, 0)
            del row["file_id"]
            rows.append({**row, "list_id": i})
    if rows:
        conn.execute(insert(t), rows)


def quota_of(conn: Connection, list_ids: list[int]) -> dict[int, list[QuotaVerdict]]:
    t = s.quota_verdicts
    out: dict[int, list[QuotaVerdict]] = defaultdict(list)
    for part in _slices(list_ids, 5000):
        q = select(t).where(t.c.list_id.in_(list(part))).order_by(t.c.id)
        for r in conn.execute(q):
            out[r.list_id].append(QuotaVerdict(r.grp, r.ranked, r.count_a, r.limit_a, bool(r.ok)))
    return out


def notes_of(conn: Connection, lists: dict[int, str]) -> dict[int, list[Issue]]:
    """Notes per list id (``lists``: list id → its file name, for the issues)."""
    t = s.list_notes
    out: dict[int, list[Issue]] = defaultdict(list)
    for part in _slices(sorted(lists), 5000):
        for r in conn.execute(select(t).where(t.c.list_id.in_(list(part))).order_by(t.c.id)):
            out[r.list_id].append(issue_from_row(r, lists[r.list_id]))
    return out


def units_without_results(conn: Connection) -> list[tuple[str, str]]:
    t = s.quota_verdicts
    has = select(t.c.id).where(t.c.list_id == _L.c.id).exists()
    q = select(_L.c.period, _L.c.unit_code).where(_L.c.status != s.SUPERSEDED, ~has).distinct()
    return sorted((r.period, r.unit_code) for r in conn.execute(q))
