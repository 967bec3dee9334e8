"""The year view (one row per person, a grade per month) and the pending roll-up marks."""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from ..models import YearRow
from ..periods import Period
from ..registry import Registry
from . import schema as s
from .codec import flags_from, from_hundredths

_L, _E = s.lists, s.evaluations

# ---------------------------------------------------------------- year view


def year_rows(conn: Connection, year: int, registry: Registry | None) -> list[YearRow]:
    q = (
        select(
            _E.c.person_code,
            _E.c.full_name,
            _E.c.position_title,
            _E.c.final_grade,
            _E.c.final_total,
            _E.c.grp,
            _L.c.period,
            _L.c.unit_code,
            _L.c.unit_name,
            _L.c.block,
            _L.c.kind,
            _L.c.covered,
            _E.c.inputs,
        )
        .join(_L, _L.c.id == _E.c.list_id)
        .where(_L.c.period.like(f"{year:04d}-%"), _L.c.status != s.SUPERSEDED)
        .order_by(_L.c.period, _L.c.arrival, _L.c.id)
    )
    people: dict[str, YearRow] = {}
    for r in conn.execute(q):
        p = Period.parse(r.period)
        if p is None:
            continue
        if r.kind == "01" and r.covered:  # letter §2.6: the list's result, not the form's
            continue
        row = people.get(r.person_code)
        if row is None:
            row = people[r.person_code] = YearRow(r.person_code, r.full_name, r.unit_code, r.unit_name, r.block)
        row.full_name, row.unit_code, row.block = r.full_name, r.unit_code, r.block
        row.unit_name = r.unit_name or row.unit_name
        row.position_title = r.position_title or row.position_title
        row.group = r.grp or row.group
        row.flags.update(flags_from(r.inputs))  # Decree 335: disciplined in the year → D for the year
        total: Decimal | None = from_hundredths(r.final_total)
        if p.quarter:  # SPEC §13: quarterly periods
            row.quarter_grades[p.quarter] = r.final_grade
            for month in p.months:
                row.units[month] = (r.unit_code, r.unit_name)
            if total is not None:
                row.quarter_scores[p.quarter] = total
            continue
        month = p.month
        row.grades[month] = r.final_grade
        row.units[month] = (r.unit_code, r.unit_name)
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
            mod = import_module(f"sqlalchemy.dialects.{conn.dialect.name}")  # (only the one in use)
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
