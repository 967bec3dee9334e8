"""Locks (publish / reopen) and registry versions of the :class:`~.store.Ledger`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from ..models import Person, Unit
from ..registry import Registry, norm_code
from . import mailing
from . import queries as q
from . import registry_rows as rr
from . import schema as s
from .base import LedgerBase
from .retry import retrying

_LATEST_REGISTRY = select(s.registry_versions.c.id).order_by(s.registry_versions.c.id.desc()).limit(1)


def lock_key(purpose: str, period: str, unit_code: str) -> int:
    """A PostgreSQL advisory lock key (signed 64 bits) for ``purpose`` on a unit's period."""
    return int.from_bytes(hashlib.sha256(f"{purpose}|{period}|{unit_code}".encode()).digest()[:8], "big", signed=True)


def guard_period(conn: Connection, period: str, *, shared: bool) -> None:
    """PostgreSQL: hold ``period`` until the transaction ends. Recording holds it shared;
    publishing, reopening and A-quota grants hold it alone, so none of them commits while a
    batch reads its context and records (the batch reads the lock rows and grants once,
    ``recording._BatchMemo``). SQLite needs nothing: it has one writer at a time."""
    if conn.dialect.name == "postgresql":
        lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        conn.execute(text(f"SELECT {lock}(:k)"), {"k": lock_key("period", period, "")})


class LocksMixin(LedgerBase):
    """Period locks and registry versions."""

    @retrying
    def is_locked(self, period: str, block: str | None = None) -> bool:
        """Whether files for ``period`` (and ``block``) are refused (published, not reopened)."""
        with self.engine.connect() as conn:
            return q.locked(conn, period, block)

    @retrying
    def set_lock(self, period: str, block: str | None, *, locked: bool, by: str, reason: str = "") -> None:
        """Lock (publish) or unlock (reopen) a period, for one block or all; history is kept."""
        with self.engine.begin() as conn:
            guard_period(conn, period, shared=False)  # after the batches recording it now
            blocks = [block or ""]
            if not locked and not block:  # reopening the whole period reopens every block
                blocks += sorted(q.locked_blocks(conn, period))
            conn.execute(
                insert(s.period_locks),
                [
                    {"period": period, "block": b, "locked": locked, "by": by, "at": datetime.now(), "reason": reason}
                    for b in blocks
                ],
            )

    @retrying
    def lock_history(self, period: str | None = None) -> list[dict[str, Any]]:
        q = select(s.period_locks).order_by(s.period_locks.c.id)
        if period is not None:
            q = q.where(s.period_locks.c.period == period)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # ------------------------------------------------------------------ quota exceptions

    @retrying
    def grant_quota(self, period: str, unit_code: str, ratio: float, *, by: str, reason: str) -> int:
        """Record an A-quota exception (SPEC §13): ``unit_code`` may rank A up to ``ratio`` in
        ``period``; the latest grant for a unit and period is the one in force."""
        with self.engine.begin() as conn:
            guard_period(conn, period, shared=False)
            row = {
                "period": period,
                "unit_code": norm_code(unit_code),
                "ratio_pct": round(ratio * 10000),
                "by": by,
                "at": datetime.now(),
                "reason": reason,
            }
            return int(conn.execute(insert(s.quota_exceptions).returning(s.quota_exceptions.c.id), row).scalar_one())

    @retrying
    def quota_grants(self, period: str | None = None) -> list[dict[str, Any]]:
        """Every exception granted (for ``period``), oldest first, ``ratio`` as a fraction."""
        t = s.quota_exceptions
        stmt = select(t).order_by(t.c.id)
        if period is not None:
            stmt = stmt.where(t.c.period == period)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        for r in rows:
            r["ratio"] = r.pop("ratio_pct") / 10000
        return rows

    # ------------------------------------------------------------------ registry

    @retrying
    def save_registry(self, units: Sequence[Unit], people: Sequence[Person], source: str = "") -> int:
        """Store a new registry version (template 00); return its id."""
        with self.engine.begin() as conn:
            return self._save_registry(conn, units, people, source)

    def _save_registry(self, conn: Connection, units: Iterable[Unit], people: Iterable[Person], source: str) -> int:
        units_d = {norm_code(u.code): u for u in units}
        people_d: dict[str, Person] = {}
        moves: dict[str, list[Person]] = {}  # SPEC §3: further rows of a person (a successor unit)
        for p in people:
            code = norm_code(p.code)
            if code not in people_d:
                people_d[code] = p
            elif norm_code(p.unit_code) not in {norm_code(q.unit_code) for q in [people_d[code], *moves.get(code, [])]}:
                moves.setdefault(code, []).append(p)
        vid = int(
            conn.execute(
                insert(s.registry_versions)
                .values(source=source, loaded_at=datetime.now(), unit_count=len(units_d), people_count=len(people_d))
                .returning(s.registry_versions.c.id)
            ).scalar_one()
        )
        if units_d:
            conn.execute(insert(s.registry_units), [rr.unit_to_row(vid, k, u) for k, u in units_d.items()])
        if people_d:
            conn.execute(insert(s.registry_people), [rr.person_to_row(vid, k, p) for k, p in people_d.items()])
        if moves:
            conn.execute(insert(s.registry_moves), [rr.person_to_row(vid, c, p) for c, ps in moves.items() for p in ps])
        mailing.save_contacts(conn, vid, units_d, people_d)
        return vid

    @retrying
    def current_registry(self, at: datetime | None = None) -> Registry | None:
        """The registry in force at ``at`` (default now), or ``None`` if none was loaded."""
        with self.engine.connect() as conn:
            q = _LATEST_REGISTRY
            if at is not None:
                q = q.where(s.registry_versions.c.loaded_at <= at)
            vid = conn.execute(q).scalar()
            if vid is None:
                return None
            if at is None and vid == self._registry_id and self._registry is not None:
                return self._registry
            reg = rr.load_registry(conn, int(vid))
        if at is None:
            self._registry, self._registry_id = reg, int(vid)
        return reg

    @retrying
    def registry_for(self, period: str) -> Registry | None:
        """The registry version in force for ``period`` (:func:`rr.registry_version_for`):
        the one it was published with once locked, else the current one."""
        with self.engine.connect() as conn:
            return self._registry_version(conn, rr.registry_version_for(conn, period), period)

    @retrying
    def registry_units_for(self, period: str, version: int) -> Registry | None:
        """The units (no people) of registry ``version`` as in force for ``period``, if that is
        the version in force for ``period`` (:meth:`registry_for`), else ``None``. Loaded once
        per version (the unit writer process: issue 19, :class:`~.views.StaffSlice`)."""
        with self.engine.connect() as conn:
            if rr.registry_version_for(conn, period) != version:
                return None
            if self._units_only is None or self._units_only.version != version:
                self._units_only = rr.load_registry(conn, version, people=False)
        return self._units_only.in_force(period)

    def _registry_version(self, conn: Connection, vid: int | None, period: str) -> Registry | None:
        """Registry version ``vid`` as in force for ``period`` (loaded once: versions never change,
        so the cache is keyed by id)."""
        if vid is None:
            return None
        if vid != self._registry_id or self._registry is None:
            self._registry, self._registry_id = rr.load_registry(conn, vid), vid
        # SPEC §3: the structure in force for the period (units that ended are left out)
        return self._registry.in_force(period)
