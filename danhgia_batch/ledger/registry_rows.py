"""Registry versions in the ledger: rows to store, a version loaded back, the version in
force for a period (SPEC §3, §9)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ..models import Person, Unit
from ..registry import Registry
from . import schema as s

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


# the cells of a person read back from the ledger: none (template 00's cell addresses are only
# known while its file is checked), one shared empty dict instead of 170,000 (never written to)
_NO_CELLS: dict[str, str] = {}


def load_registry(conn: Connection, vid: int, *, people: bool = True) -> Registry:
    """Registry version ``vid``; without ``people``, its units only (the unit writer process,
    which is given the people of the units it writes: :class:`~.views.StaffSlice`)."""
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
    if not people:
        return Registry(units=units, version=vid)
    # A city registry has 200,000 people but few distinct units, positions, categories and
    # birth dates: one shared object per distinct value (the parent keeps the registry all run).
    # Rows are unpacked as tuples: a Row's attribute access costs ~10 times more (issue 19:
    # 0.08 s of the district's 4,800 people in every ``danhgia check``).
    shared: dict[Any, Any] = {}
    one = shared.setdefault
    persons = {
        code: Person(
            code=code,
            full_name=name,
            unit_code=one(unit, unit),
            position_code=one(position, position),
            category=one(category, category),
            group=one(group, group),
            birth_date=one(born, born),
            position_title=one(title, title),
            active=bool(active),
            cells=_NO_CELLS,
        )
        for code, name, unit, position, category, group, born, title, active in _person_rows(conn, rp, vid)
    }
    moves: dict[str, list[Person]] = {}
    for values in _person_rows(conn, s.registry_moves, vid):
        code = values[0]
        moves.setdefault(code, [persons[code]] if code in persons else []).append(_person(*values))
    return Registry(units=units, people=persons, version=vid, moves=moves)


_PERSON_COLUMNS = (
    "code",
    "full_name",
    "unit_code",
    "position_code",
    "category",
    "grp",
    "birth_date",
    "position_title",
    "active",
)


def _person_rows(conn: Connection, table: Any, vid: int) -> Any:
    """The rows of version ``vid`` of ``table`` (people or moves) as tuples in the order of
    :func:`_person`'s parameters."""
    columns = [table.c[name] for name in _PERSON_COLUMNS]
    return conn.execute(select(*columns).where(table.c.version_id == vid))


def _person(
    code: str,
    full_name: str,
    unit_code: str,
    position_code: str,
    category: str,
    group: str,
    birth_date: Any,
    position_title: str,
    active: Any,
) -> Person:
    return Person(
        code=code,
        full_name=full_name,
        unit_code=unit_code,
        position_code=position_code,
        category=category,
        group=group,
        birth_date=birth_date,
        position_title=position_title,
        active=bool(active),
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
    pl = s.period_locks
    return registry_version_from(conn, list(conn.execute(select(pl).where(pl.c.period == period).order_by(pl.c.id))))


def registry_version_from(conn: Connection, lock_rows: Sequence[Any], newest: int | None = None) -> int | None:
    """:func:`registry_version_for` from the period's lock rows already read (id, block, locked,
    at; in id order) and, when known, the id of the newest registry version (``newest``)."""
    latest: dict[str, Any] = {}  # block ("" = the whole period) → its latest lock row
    for r in lock_rows:
        latest[r.block] = r
    whole = latest.get("")
    in_effect = []  # when each block now locked was locked (as in locked(): the later row decides)
    for r in latest.values():
        decides = whole if whole is not None and whole.id > r.id else r
        if decides.locked:
            in_effect.append(r.at if r.locked else decides.at)
    if in_effect:
        vid = conn.execute(_NEWEST_BEFORE, {"cutoff": min(in_effect)}).scalar()
        if vid is None:  # published before any registry: the first one loaded stands in
            vid = conn.execute(_FIRST).scalar()
    else:
        vid = newest if newest is not None else conn.execute(_NEWEST).scalar()
    return int(vid) if vid is not None else None


# built once: asked for every decision's context (building a select costs more than running it)
_NEWEST = select(s.registry_versions.c.id).order_by(s.registry_versions.c.id.desc()).limit(1)
_NEWEST_BEFORE = _NEWEST.where(s.registry_versions.c.loaded_at <= bindparam("cutoff"))
_FIRST = select(s.registry_versions.c.id).order_by(s.registry_versions.c.id).limit(1)
