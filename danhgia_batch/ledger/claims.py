"""Who holds a file: claims on the content hash, heartbeats, and taking over dead claims.

A claim is a row of ``files`` inserted with ``ON CONFLICT DO NOTHING`` on the unique
``claim_key`` (issue 10 ¶2): whichever process inserts it processes the file, every other
process sees the conflict and leaves the file alone. A claim whose holder died (no
heartbeat for ``stale_after``; or, on the same machine, a holder process or run that no
longer exists) is taken over with a compare-and-set ``UPDATE``.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, insert, select, update

from . import schema as s

HOST = socket.gethostname()
MAX_ATTEMPTS = 3  # a file whose processing fails this often is rejected (processing-failed)
_LIVE_TOKENS: set[str] = set()  # runs of this process that are still going


def utcnow() -> datetime:
    """Naive UTC time, for claims and heartbeats (comparable across machines)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_worker_id() -> str:
    """``host:pid:token``; the token tells runs of one process apart (a crashed run is dead)."""
    token = uuid.uuid4().hex[:10]
    _LIVE_TOKENS.add(token)
    return f"{HOST}:{os.getpid()}:{token}"


def retire_worker_id(worker: str) -> None:
    _LIVE_TOKENS.discard(worker.rsplit(":", 1)[-1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def holder_alive(claimed_by: str | None, heartbeat: datetime | None, stale_after: float, now: datetime) -> bool:
    """Whether the holder of a claim may still be working on it."""
    if not claimed_by:
        return False
    if heartbeat is None or (now - heartbeat).total_seconds() > stale_after:
        return False
    host, _, rest = claimed_by.partition(":")
    pid, _, token = rest.partition(":")
    if host == HOST and pid.isdigit():
        if int(pid) == os.getpid():
            return token in _LIVE_TOKENS
        return _pid_alive(int(pid))
    return True


@dataclass
class FileRecord:
    """One row of ``files``."""

    id: int
    claim_key: str
    sha256: str
    name: str
    inbox_path: str
    unit_folder: str | None
    size: int
    arrival: datetime
    kind: str
    period: str
    unit_code: str
    block: str
    state: str
    outcome: str | None
    issue_count: int
    duplicate_of: int | None
    attempts: int
    claimed_by: str | None
    heartbeat: datetime | None
    archived_path: str | None
    error_report: str | None

    @classmethod
    def from_row(cls, row: Any) -> FileRecord:
        m = row._mapping
        return cls(**{f.name: m[f.name] for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Claim:
    """Result of :meth:`Ledger.claim`.

    ``action``: ``process`` (read, check and record it), ``finish`` (already recorded by a
    run that died: write outputs and archive), ``busy`` (another live process has it).
    ``duplicate_of`` is set when the bytes were already recorded under another file.
    """

    action: str
    file: FileRecord | None = None
    duplicate_of: FileRecord | None = None


_INSERT_CLAIM: dict[str, Insert] = {}  # dialect name → INSERT … ON CONFLICT DO NOTHING RETURNING *, built once


def _upsert_claim(conn: Connection) -> Insert | None:
    """INSERT … ON CONFLICT (claim_key) DO NOTHING RETURNING * for SQLite and PostgreSQL (built
    once per dialect; only the dialect in use is imported), ``None`` for any other engine."""
    name = conn.dialect.name
    stmt = _INSERT_CLAIM.get(name)
    if stmt is None and name in ("postgresql", "sqlite"):
        mod = import_module(f"sqlalchemy.dialects.{name}")
        stmt = mod.insert(s.files).on_conflict_do_nothing(index_elements=["claim_key"]).returning(*s.files.c)
        _INSERT_CLAIM[name] = stmt
    return stmt


def insert_claim(conn: Connection, values: dict[str, Any]) -> FileRecord | None:
    """INSERT a claim row and return it; ``None`` when its ``claim_key`` exists (ON CONFLICT DO NOTHING)."""
    stmt = _upsert_claim(conn)
    if stmt is None:  # any other engine: check first (inside the write transaction)
        if conn.execute(select(s.files.c.id).where(s.files.c.claim_key == values["claim_key"])).first():
            return None
        stmt = insert(s.files).returning(*s.files.c)
    row = conn.execute(stmt, values).first()
    return FileRecord.from_row(row) if row else None


def insert_claims(conn: Connection, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], FileRecord]:
    """INSERT several claim rows in one statement (SQLAlchemy's "insertmanyvalues" batches an
    executemany with RETURNING); the rows inserted, by ``(claim_key, inbox_path)``. A row whose
    ``claim_key`` exists is not inserted, nor is any on another engine than SQLite or
    PostgreSQL: the caller claims those one by one (:func:`insert_claim` and what follows)."""
    stmt = _upsert_claim(conn)
    if stmt is None or not rows:
        return {}
    return {(r.claim_key, r.inbox_path): r for r in map(FileRecord.from_row, conn.execute(stmt, list(rows)))}


def insert_ignore(conn: Connection, values: dict[str, Any]) -> int | None:
    """INSERT a claim row; ``None`` when its ``claim_key`` exists (ON CONFLICT DO NOTHING)."""
    rec = insert_claim(conn, values)
    return rec.id if rec else None


def by_key(conn: Connection, key: str) -> FileRecord | None:
    row = conn.execute(select(s.files).where(s.files.c.claim_key == key)).first()
    return FileRecord.from_row(row) if row else None


_BY_ID = select(s.files).where(s.files.c.id == bindparam("file_id"))  # built once: called per file


def by_id(conn: Connection, file_id: int) -> FileRecord:
    return FileRecord.from_row(conn.execute(_BY_ID, {"file_id": file_id}).one())


_BY_IDS = select(s.files).where(s.files.c.id.in_(bindparam("ids", expanding=True)))


def by_ids(conn: Connection, file_ids: Sequence[int]) -> dict[int, FileRecord]:
    """:func:`by_id` of several files in one statement (those that exist)."""
    return {r.id: r for r in map(FileRecord.from_row, conn.execute(_BY_IDS, {"ids": list(file_ids)}))}


def take_over(conn: Connection, rec: FileRecord, worker: str, **changes: Any) -> bool:
    """Compare-and-set: become the holder of ``rec`` if nobody changed it since it was read."""
    now = utcnow()
    holder = s.files.c.claimed_by
    cond = holder.is_(None) if rec.claimed_by is None else holder == rec.claimed_by
    stmt = (
        update(s.files)
        .where(s.files.c.id == rec.id, s.files.c.state == rec.state, cond)
        .values(claimed_by=worker, claimed_at=now, heartbeat=now, attempts=s.files.c.attempts + 1, **changes)
    )
    return conn.execute(stmt).rowcount == 1


def duplicate_key(sha256: str, inbox_path: str, mtime_ns: int, n: int, prefix: str = "dup") -> str:
    """Claim key of a byte-identical copy: one per arriving copy (same for every watcher)."""
    digest = hashlib.sha256(f"{sha256}|{inbox_path}|{mtime_ns}|{n}".encode()).hexdigest()
    return f"{prefix}:{digest}"


def original_of(conn: Connection, sha256: str) -> FileRecord | None:
    """The recorded file that bytes ``sha256`` arriving again are measured against: the latest
    new attempt after a rejection, else the first file with those bytes."""
    return latest_attempt(conn, sha256) or by_key(conn, sha256)


def settled(original: FileRecord, inbox_path: str) -> bool:
    """Whether ``original`` is done with, so that its bytes arriving at ``inbox_path`` are a new
    arrival (a duplicate, or a new attempt after a rejection) rather than ``original`` itself."""
    return original.state == s.STATE_DONE or (original.state == s.STATE_RECORDED and original.inbox_path != inbox_path)


def latest_attempt(conn: Connection, sha256: str) -> FileRecord | None:
    """The latest new attempt at bytes first rejected (claim key ``again:…``), if any."""
    q = (
        select(s.files)
        .where(s.files.c.sha256 == sha256, s.files.c.claim_key.like("again:%"))
        .order_by(s.files.c.id.desc())
        .limit(1)
    )
    row = conn.execute(q).first()
    return FileRecord.from_row(row) if row else None
