"""Light queries behind the dashboard (issue 20): the trend of the last periods and the
rejected files of a period with their error workbooks.

The trend is counted from a few aggregate queries (no evaluation row is decoded), so a
dashboard written with every roll-up costs little; its figures follow the rules of
``danhgia status`` (pipeline.admin): a unit with active lists is valid when every list is,
else invalid; a unit with rejected files only is rejected; a registry unit with neither is
missing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, select, union

from ..models import RejectedFile, TrendPoint
from ..periods import Period, is_period
from ..registry import norm_code
from . import schema as s
from .registry_rows import registry_version_for

_L, _F, _E, _I = s.lists, s.files, s.evaluations, s.issues
GRADES = ("A", "B", "C", "D", "KXL")
STATES = ("valid", "invalid", "rejected", "missing")


def recent_periods(conn: Connection, period: str, count: int) -> list[str]:
    """The last ``count`` periods up to ``period`` that have lists or files, oldest first
    (``period`` itself always included)."""
    q = union(select(_L.c.period.label("p")), select(_F.c.period.label("p")).where(_F.c.period != ""))
    # months and quarters are ordered by their months, never as text ("2026-Q1" > "2026-12")
    last = Period.parse(period, any_year=True)
    found = {period}
    for r in conn.execute(q):
        p = Period.parse(r.p, any_year=True) if is_period(r.p) else None
        if p is not None and (last is None or p <= last):
            found.add(r.p)
    return sorted(found, key=lambda x: Period.parse(x, any_year=True) or Period(0, 1))[-count:]


def _expected(conn: Connection, periods: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """(unit code, block) of the units expected in each period, from the registry in force."""
    by_version: dict[int, list[tuple[str, str]]] = {}
    out: dict[str, list[tuple[str, str]]] = {}
    for p in periods:
        vid = registry_version_for(conn, p)
        if vid is None:
            out[p] = []
            continue
        if vid not in by_version:
            by_version[vid] = _expected_units(conn, vid)
        out[p] = by_version[vid]
    return out


def _expected_units(conn: Connection, vid: int) -> list[tuple[str, str]]:
    """(code, block) of :meth:`Registry.expected_units` of version ``vid`` (units with an active
    person), read without building the registry: a city registry holds 200,000 people."""
    ru, rp = s.registry_units, s.registry_people
    staffed = {
        norm_code(r.unit_code)
        for r in conn.execute(select(rp.c.unit_code).where(rp.c.version_id == vid, rp.c.active).distinct())
    }
    units = conn.execute(select(ru.c.code, ru.c.block).where(ru.c.version_id == vid))
    return [(r.code, r.block) for r in units if r.code in staffed]


def trend(
    conn: Connection,
    periods: Sequence[str],
    blocks: Sequence[str | None],
    areas: Mapping[str, Collection[str]] | None = None,
) -> dict[str | None, list[TrendPoint]]:
    """One :class:`TrendPoint` per period for each of ``blocks`` (``None``: the whole period)
    and for each of ``areas`` (key → the unit codes of a ward, commune or district)."""
    wanted = list(periods)
    lists = list(
        conn.execute(
            select(_L.c.period, _L.c.unit_code, _L.c.block, _L.c.status, _L.c.file_id).where(
                _L.c.period.in_(wanted), _L.c.status != s.SUPERSEDED
            )
        )
    )
    late_files = {
        r.file_id
        for r in conn.execute(
            select(_I.c.file_id)
            .join(_L, _L.c.file_id == _I.c.file_id)
            .where(_L.c.period.in_(wanted), _L.c.status != s.SUPERSEDED, _I.c.code.like("late-%"))
        )
    }
    rejected = list(
        conn.execute(
            select(_F.c.period, _F.c.unit_code, _F.c.block).where(
                _F.c.period.in_(wanted), _F.c.outcome == s.REJECTED, _F.c.unit_code != ""
            )
        )
    )
    keys = [_L.c.period, _L.c.block, _E.c.final_grade, *([_L.c.unit_code] if areas else [])]
    grades = list(
        conn.execute(
            select(*keys, func.count().label("n"))
            .join(_L, _L.c.id == _E.c.list_id)
            .where(_L.c.period.in_(wanted), _L.c.status != s.SUPERSEDED)
            .group_by(*keys)
        )
    )
    expected = _expected(conn, wanted)
    rows = {p: _PeriodRows() for p in wanted}
    for name, found in (("lists", lists), ("rejected", rejected), ("grades", grades)):
        for row in found:
            getattr(rows[row.period], name).append(row)
    out: dict[str | None, list[TrendPoint]] = {}
    for b in blocks:
        out[b] = []
        for p in wanted:
            units = {code for code, ub in expected.get(p, []) if not b or ub == b}
            out[b].append(_point(p, rows[p].of_block(b), late_files, units))
    # an area's rows are gathered from its units' rows: one pass over a period's rows, not one
    # per area (126 wards × 12 periods had scanned every row; issue 19)
    by_unit = {p: rows[p].by_unit() for p in wanted} if areas else {}
    expected_codes = {p: {code for code, _block in expected.get(p, [])} for p in wanted} if areas else {}
    for key, codes in (areas or {}).items():
        area = set(codes)
        out[key] = []
        for p in wanted:
            mine = _PeriodRows.join(by_unit[p].get(c) for c in area)
            out[key].append(_point(p, mine, late_files, area & expected_codes[p]))
    return out


class _PeriodRows:
    """The trend's rows of one period: its lists, rejected files and grade counts."""

    __slots__ = ("grades", "lists", "rejected")

    def __init__(self) -> None:
        self.lists: list[Any] = []
        self.rejected: list[Any] = []
        self.grades: list[Any] = []

    def of_block(self, block: str | None) -> _PeriodRows:
        """These rows, or those of ``block`` (``None``: all of them)."""
        if not block:
            return self
        out = _PeriodRows()
        out.lists = [r for r in self.lists if r.block == block]
        out.rejected = [r for r in self.rejected if r.block == block]
        out.grades = [r for r in self.grades if r.block == block]
        return out

    def by_unit(self) -> dict[str, _PeriodRows]:
        """These rows by unit code (the grade counts are by unit when the trend has areas)."""
        out: dict[str, _PeriodRows] = defaultdict(_PeriodRows)
        for r in self.lists:
            out[r.unit_code].lists.append(r)
        for r in self.rejected:
            out[r.unit_code].rejected.append(r)
        for r in self.grades:
            out[r.unit_code].grades.append(r)
        return dict(out)

    @staticmethod
    def join(parts: Iterable[_PeriodRows | None]) -> _PeriodRows:
        out = _PeriodRows()
        for part in parts:
            if part is not None:
                out.lists += part.lists
                out.rejected += part.rejected
                out.grades += part.grades
        return out


def _point(period: str, rows: _PeriodRows, late_files: set[int], expected: set[str]) -> TrendPoint:
    """The point of ``period`` from its rows and the codes of its expected units, already
    narrowed to a block or an area."""
    statuses: dict[str, set[str]] = defaultdict(set)
    late: set[str] = set()
    for r in rows.lists:
        statuses[r.unit_code].add(r.status)
        if r.file_id in late_files:
            late.add(r.unit_code)
    states: Counter[str] = Counter(dict.fromkeys(STATES, 0))
    for st in statuses.values():
        states["valid" if st == {s.VALID} else "invalid"] += 1
    rejected_units = {r.unit_code for r in rows.rejected} - set(statuses)
    states["rejected"] += len(rejected_units)
    seen = set(statuses) | rejected_units
    states["missing"] += len(expected - seen)
    counted: Counter[str] = Counter(dict.fromkeys(GRADES, 0))
    for r in rows.grades:
        if r.final_grade in counted:
            counted[r.final_grade] += int(r.n)
    return TrendPoint(period, dict(states), len(late), dict(counted))


def rejected_files(conn: Connection, period: str) -> list[RejectedFile]:
    """The rejected files of ``period`` attributed to a unit, oldest first."""
    q = (
        select(_F.c.id, _F.c.unit_code, _F.c.block, _F.c.name, _F.c.arrival, _F.c.error_report)
        .where(_F.c.period == period, _F.c.outcome == s.REJECTED, _F.c.unit_code != "")
        .order_by(_F.c.arrival, _F.c.id)
    )
    return [
        RejectedFile(int(r.id), r.unit_code, r.block or "", r.name, r.arrival, r.error_report or "")
        for r in conn.execute(q)
    ]
