"""The :class:`Ledger`: every file recorded once, every accepted evaluation row, locks, registry.

One write transaction per step (claim, record, done), so a crash between steps leaves the
ledger in a state a restart can finish (SPEC §9, issue 6 ¶3). On PostgreSQL the recording of
one unit's period is serialised with an advisory lock; on SQLite ``BEGIN IMMEDIATE`` already
serialises every writer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, delete, insert, select, text, update

from ..errors import LedgerError
from ..issues import Issue, make_issue
from ..models import EvaluationRow, ListHeader, PeriodView, Person, Unit, UnitView, YearRow
from ..registry import Registry, norm_code
from ..settings import Settings
from . import claims as c
from . import mailing, views
from . import schema as s
from .codec import evaluation_from_row, evaluation_to_row, issue_to_row, norm_text
from .engine import MOUNTS, make_engine
from .migrate import migrate
from .outreach import OutreachMixin
from .retry import retrying

log = logging.getLogger(__name__)

QuotaCheck = Callable[[list[EvaluationRow]], list[Issue]]
EVALUATION_CACHE = 1024  # decoded evaluation rows of this many lists kept for the quota regrouping (a group is smaller)


_RECORD_FILE = (
    update(s.files)
    .where(s.files.c.id == bindparam("r_id"))
    .values(
        {
            k: bindparam(k)
            for k in (
                "kind",
                "period",
                "unit_code",
                "block",
                "outcome",
                "issue_count",
                "duplicate_of",
                "state",
                "recorded_at",
            )
        }
    )
)
_SET_STATUS = (
    update(s.lists).where(s.lists.c.id.in_(bindparam("ids", expanding=True))).values(status=bindparam("status"))
)
_INSERT_LIST = insert(s.lists).returning(s.lists.c.id)
_JSON_COLUMNS = [col.name for col in s.evaluations.columns if isinstance(col.type, JSON)]


def _as_stored(row: dict[str, Any]) -> SimpleNamespace:
    """An evaluation row as the ledger returns it: its JSON columns through JSON and back."""
    stored = dict(row)
    for name in _JSON_COLUMNS:
        stored[name] = json.loads(json.dumps(stored[name]))
    return SimpleNamespace(**stored)


_LATEST_REGISTRY = select(s.registry_versions.c.id).order_by(s.registry_versions.c.id.desc()).limit(1)


class ClaimLost(LedgerError):
    """Another process took over a file this process was working on."""


@dataclass
class Record:
    """What the pipeline decided about one claimed file, to be written in one transaction."""

    outcome: str
    kind: str = ""
    period: str = ""
    unit_code: str = ""
    block: str = ""
    issues: list[Issue] = field(default_factory=list)
    header: ListHeader | None = None
    rows: list[EvaluationRow] = field(default_factory=list)
    registry: tuple[list[Unit], list[Person]] | None = None  # template 00: the new registry
    duplicate_of: int | None = None


@dataclass
class Recorded:
    """Result of :meth:`Ledger.record`."""

    file: c.FileRecord
    issues: list[Issue]
    list_ids: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)


class Ledger(OutreachMixin):
    """The ledger database (SQLAlchemy Core; SQLite or PostgreSQL).

    Args:
        url: SQLAlchemy URL.
        schema: PostgreSQL schema to use (tests); ``None`` = the default search path.
        stale_after: seconds without a heartbeat after which a claim may be taken over.
    """

    def __init__(
        self, url: str, *, schema: str | None = None, stale_after: float = 600.0, mounts: Path = MOUNTS
    ) -> None:
        self.url = url
        self.engine = make_engine(url, schema=schema, mounts=mounts)
        self.stale_after = stale_after
        try:
            self.version = migrate(self.engine)
        except LedgerError:
            self.engine.dispose()
            raise
        except Exception as exc:  # unreachable server, permissions…
            self.engine.dispose()
            raise LedgerError(f"Không mở được sổ cái '{_safe_url(url)}': {exc}") from exc
        self.worker = c.new_worker_id()
        self._beat = c.utcnow()
        self._registry: Registry | None = None
        self._registry_id: int | None = None
        # list id → its decoded evaluation rows (never change once inserted); only committed
        # lists: ids of a rolled-back transaction may be reused (SQLite), see :meth:`record`
        self._evals: OrderedDict[int, list[EvaluationRow]] = OrderedDict()
        self._evals_new: set[int] = set()

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Release the engine; this run's claims count as dead from now on."""
        c.retire_worker_id(self.worker)
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # ------------------------------------------------------------------ claims

    @retrying
    def claim(
        self, sha256: str, *, name: str, inbox_path: str, unit_folder: str | None, size: int, mtime_ns: int = 0
    ) -> c.Claim:
        """Claim the file with content ``sha256`` found at ``inbox_path`` (relative to the inbox).

        Exactly one process gets ``process`` for given bytes; a later byte-identical copy
        gets ``process`` with ``duplicate_of`` set (it is recorded as a duplicate, not read).
        """
        with self.engine.begin() as conn:
            return self._claim(conn, sha256, name, inbox_path, unit_folder, size, mtime_ns)

    @retrying
    def claim_many(self, files: Sequence[dict[str, Any]]) -> list[c.Claim]:
        """:meth:`claim` of several files (dicts of its arguments) in one transaction."""
        with self.engine.begin() as conn:
            return [
                self._claim(
                    conn, f["sha256"], f["name"], f["inbox_path"], f["unit_folder"], f["size"], f.get("mtime_ns", 0)
                )
                for f in files
            ]

    def _claim(
        self,
        conn: Connection,
        sha256: str,
        name: str,
        inbox_path: str,
        unit_folder: str | None,
        size: int,
        mtime_ns: int,
    ) -> c.Claim:
        base = {
            "sha256": sha256,
            "name": name,
            "inbox_path": inbox_path,
            "unit_folder": unit_folder,
            "size": size,
            "state": s.STATE_CLAIMED,
            "issue_count": 0,
            "attempts": 1,
        }
        new = c.insert_claim(conn, self._claim_values(base, sha256))
        if new is not None:
            return c.Claim("process", new)
        first = c.by_key(conn, sha256)
        assert first is not None
        original = c.latest_attempt(conn, sha256) or first
        mine = original.claimed_by == self.worker and original.inbox_path == inbox_path
        if mine and original.state == s.STATE_CLAIMED:  # a retried claim whose insert did commit
            return c.Claim("process", original)
        settled = original.state == s.STATE_DONE or (
            original.state == s.STATE_RECORDED and original.inbox_path != inbox_path
        )
        if settled and original.outcome == s.REJECTED:
            # the same bytes again after a rejection (period reopened, registry fixed):
            # processed again, since the answer may differ now; whether the rejected
            # original is already archived (done) or only recorded depends on which
            # watcher got there first, so both are treated alike (issue 10: same totals)
            return self._claim_derived(conn, base, original, mtime_ns, "again")
        if settled:
            return self._claim_derived(conn, base, original, mtime_ns, "dup")
        return self._resume(conn, original, inbox_path, unit_folder)

    def _claim_values(self, base: dict[str, Any], key: str, **extra: Any) -> dict[str, Any]:
        now = c.utcnow()
        return {
            **base,
            **extra,
            "claim_key": key,
            "claimed_by": self.worker,
            "claimed_at": now,
            "heartbeat": now,
            "arrival": datetime.now(),
        }

    def _claim_derived(
        self, conn: Connection, base: dict[str, Any], original: c.FileRecord, mtime_ns: int, prefix: str
    ) -> c.Claim:
        """Claim one arriving copy of recorded bytes under a key derived from its path and
        mtime (the same for every watcher that sees it): a duplicate (``dup``) or a new
        attempt after a rejection (``again``)."""
        extra = {"duplicate_of": original.id} if prefix == "dup" else {}
        for n in range(1000):
            key = c.duplicate_key(original.sha256, base["inbox_path"], mtime_ns, n, prefix)
            new = c.insert_claim(conn, self._claim_values(base, key, **extra))
            if new is not None:
                return c.Claim("process", new, duplicate_of=original if extra else None)
            existing = c.by_key(conn, key)
            if existing is not None and existing.state != s.STATE_DONE:
                claim = self._resume(conn, existing, base["inbox_path"], base["unit_folder"])
                claim.duplicate_of = original if extra else None
                return claim
        raise LedgerError(f"Không ghi nhận được bản sao của tệp '{original.name}'")

    def _resume(self, conn: Connection, rec: c.FileRecord, inbox_path: str, unit_folder: str | None) -> c.Claim:
        if rec.claimed_by == self.worker or c.holder_alive(rec.claimed_by, rec.heartbeat, self.stale_after, c.utcnow()):
            return c.Claim("busy", rec)
        changes: dict[str, Any] = {}
        if rec.state in (s.STATE_CLAIMED, s.STATE_FAILED):
            changes = {"state": s.STATE_CLAIMED, "inbox_path": inbox_path, "unit_folder": unit_folder}
        if not c.take_over(conn, rec, self.worker, **changes):
            return c.Claim("busy", rec)
        fresh = c.by_id(conn, rec.id)
        log.info("took over %s (%s) from %s", rec.name, rec.state, rec.claimed_by)
        return c.Claim("finish" if fresh.state == s.STATE_RECORDED else "process", fresh)

    @retrying
    def heartbeat(self, *, force: bool = False) -> None:
        """Refresh the heartbeat of this run's claims (at most every ``stale_after / 4`` s)."""
        now = c.utcnow()
        if not force and (now - self._beat).total_seconds() < self.stale_after / 4:
            return
        self._beat = now
        with self.engine.begin() as conn:
            conn.execute(
                update(s.files)
                .where(s.files.c.claimed_by == self.worker, s.files.c.state.in_([s.STATE_CLAIMED, s.STATE_RECORDED]))
                .values(heartbeat=now)
            )

    @retrying
    def release_failed(self, file_id: int, detail: str) -> c.FileRecord:
        """Give a file back after an unexpected error; it stays in the inbox for a retry."""
        with self.engine.begin() as conn:
            conn.execute(
                update(s.files)
                .where(s.files.c.id == file_id, s.files.c.claimed_by == self.worker)
                .values(state=s.STATE_FAILED, outcome=s.FAILED, claimed_by=None, heartbeat=None)
            )
            log.warning("processing of file %s failed: %s", file_id, detail)
            return c.by_id(conn, file_id)

    @retrying
    def unclaim(self, file_id: int) -> None:
        """Forget a claim this run took but will not record (a file of another period)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(s.files).where(
                    s.files.c.id == file_id, s.files.c.claimed_by == self.worker, s.files.c.state == s.STATE_CLAIMED
                )
            )

    @retrying
    def unfinished(self) -> list[c.FileRecord]:
        """Recorded files whose run died before archiving them, now claimed by this run."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(s.files).where(s.files.c.state == s.STATE_RECORDED).order_by(s.files.c.id))
            taken = []
            for rec in [c.FileRecord.from_row(r) for r in rows]:
                if rec.claimed_by == self.worker:
                    taken.append(rec)
                elif not c.holder_alive(rec.claimed_by, rec.heartbeat, self.stale_after, c.utcnow()) and c.take_over(
                    conn, rec, self.worker
                ):
                    taken.append(c.by_id(conn, rec.id))
            return taken

    def mark_done(self, file_id: int, archived_path: str | None, error_report: str | None = None) -> None:
        """The original has left the inbox: the file is finished."""
        self.mark_done_many([(file_id, archived_path, error_report)])

    @retrying
    def mark_done_many(self, done: Sequence[tuple[int, str | None, str | None]]) -> None:
        """:meth:`mark_done` of several files ((id, archived path, error report)) in one transaction."""
        if not done:
            return
        f = s.files.c
        stmt = (
            update(s.files)
            .where(f.id == bindparam("b_id"))
            .values(
                state=s.STATE_DONE,
                archived_path=bindparam("b_archived"),
                error_report=bindparam("b_report"),
                claimed_by=None,
                heartbeat=None,
                done_at=bindparam("b_done_at"),
            )
        )
        now = datetime.now()
        with self.engine.begin() as conn:
            conn.execute(
                stmt,
                [{"b_id": i, "b_archived": a, "b_report": r, "b_done_at": now} for i, a, r in done],
            )

    # ------------------------------------------------------------------ recording

    @retrying
    def record(self, file_id: int, rec: Record, *, quota_check: QuotaCheck | None = None) -> Recorded:
        """Record the outcome of a claimed file in one transaction.

        Accepted lists supersede the active list of the same (period, unit, decider) that
        arrived earlier (our arrival order); individual forms (01) supersede the same
        person's earlier form and are regrouped per decider for the quota (``quota_check``).
        A period locked meanwhile turns an acceptance into a ``period-locked`` rejection.

        Raises:
            ClaimLost: this run no longer holds the file.
        """
        self._evals_new.clear()
        try:
            return self._record(file_id, rec, quota_check)
        except BaseException:
            for list_id in self._evals_new:  # not committed: the id may be given to another list
                self._evals.pop(list_id, None)
            raise
        finally:
            self._evals_new.clear()

    def _record(self, file_id: int, rec: Record, quota_check: QuotaCheck | None) -> Recorded:
        with self.engine.begin() as conn:
            self._serialise(conn, rec.period, rec.unit_code)
            file = c.by_id(conn, file_id)
            if file.claimed_by == self.worker and file.state == s.STATE_RECORDED:
                # a retry after a commit whose acknowledgement was lost: already recorded
                return Recorded(file=file, issues=views.issues_of(conn, [file_id]).get(file_id, []))
            if file.claimed_by != self.worker or file.state != s.STATE_CLAIMED:
                raise ClaimLost(f"Tệp '{file.name}' đã được tiến trình khác xử lý")
            issues = list(rec.issues)
            outcome = rec.outcome
            if (
                outcome in (s.ACCEPTED, s.INVALID)
                and rec.kind in ("01", "02")
                and views.locked(conn, rec.period, rec.block)
            ):
                issues.append(make_issue("period-locked", period=rec.period, value=rec.period))
                outcome = s.REJECTED
            out = Recorded(file=file, issues=issues)  # _record_list appends to out.issues
            if outcome in (s.ACCEPTED, s.INVALID) and rec.header is not None and rec.kind in ("01", "02"):
                outcome = self._record_list(conn, file, rec, outcome, out, quota_check)
            if out.list_ids:
                views.mark_rollups(conn, rec.period, rec.block)
            if outcome == s.ACCEPTED and rec.registry is not None:
                self._save_registry(conn, rec.registry[0], rec.registry[1], file.name)
            if out.issues:
                conn.execute(insert(s.issues), [issue_to_row(i, file_id) for i in out.issues])
            conn.execute(
                _RECORD_FILE,
                {
                    "r_id": file_id,
                    "kind": rec.kind,
                    "period": rec.period,
                    "unit_code": rec.unit_code,
                    "block": rec.block,
                    "outcome": outcome,
                    "issue_count": len(out.issues),
                    "duplicate_of": rec.duplicate_of if rec.duplicate_of is not None else file.duplicate_of,
                    "state": s.STATE_RECORDED,
                    "recorded_at": datetime.now(),
                },
            )
            out.file = replace(
                file,
                kind=rec.kind,
                period=rec.period,
                unit_code=rec.unit_code,
                block=rec.block,
                outcome=outcome,
                issue_count=len(out.issues),
                duplicate_of=rec.duplicate_of if rec.duplicate_of is not None else file.duplicate_of,
                state=s.STATE_RECORDED,
            )  # the row as just updated (no other statement of this transaction changes it)
            return out

    def _serialise(self, conn: Connection, period: str, unit_code: str) -> None:
        if conn.dialect.name == "postgresql" and period and unit_code:
            key = int.from_bytes(hashlib.sha256(f"{period}|{unit_code}".encode()).digest()[:8], "big", signed=True)
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def _record_list(
        self,
        conn: Connection,
        file: c.FileRecord,
        rec: Record,
        outcome: str,
        out: Recorded,
        quota_check: QuotaCheck | None,
    ) -> str:
        header = rec.header
        assert header is not None
        person = rec.rows[0].person_code if rec.kind == "01" and rec.rows else ""
        place = views.place_lists(conn, rec.period, rec.unit_code, rec.kind)  # every status
        same = [
            r
            for r in place
            if r.status != s.SUPERSEDED
            and ((rec.kind == "02" and views.same_decider(r, header)) or (rec.kind == "01" and r.person_code == person))
        ]
        earlier = [r for r in same if (r.arrival, r.file_id) < (file.arrival, file.id)]
        later = [r for r in same if r not in earlier]
        status = s.INVALID_QUOTA if outcome == s.INVALID else s.VALID
        if later:
            status = s.SUPERSEDED
        key = (file.arrival, file.id)
        version = views.version_among(conn, place, rec.kind, header, person, key)
        values = {
            "file_id": file.id,
            "kind": rec.kind,
            "period": rec.period,
            "unit_code": rec.unit_code,
            "unit_name": header.unit_name,
            "block": rec.block,
            "decider_position": header.decider_position,
            "decider_name": header.decider_name,
            "person_code": person,
            "decision_date": header.decision_date,
            "prepared_by": header.prepared_by,
            "prepared_date": header.prepared_date,
            "header_cells": dict(header.cells),
            "version": version,
            "status": status,
            "superseded_by": later[0].id if later else None,
            "arrival": file.arrival,
        }
        list_id = int(conn.execute(_INSERT_LIST, values).scalar_one())
        out.list_ids.append(list_id)
        if rec.rows:
            evaluation_rows = [evaluation_to_row(r, list_id) for r in rec.rows]
            conn.execute(insert(s.evaluations), evaluation_rows)
            if rec.kind == "01":  # regrouped below: cached as the ledger will give them back
                self._evals[list_id] = [evaluation_from_row(_as_stored(e)) for e in evaluation_rows]
                self._evals_new.add(list_id)
        if later:  # arrived before a list already recorded: that one replaces this one
            note = make_issue("list-superseded", value=f"{file.name}, phiên bản {version}")
            conn.execute(insert(s.issues).values(**issue_to_row(note, later[0].file_id)))
            conn.execute(
                update(s.files).where(s.files.c.id == later[0].file_id).values(issue_count=s.files.c.issue_count + 1)
            )
        for old in earlier:
            conn.execute(
                update(s.lists).where(s.lists.c.id == old.id).values(status=s.SUPERSEDED, superseded_by=list_id)
            )
            out.superseded.append(old.id)
            out.issues.append(make_issue("list-superseded", value=f"{old.file_name}, phiên bản {old.version}"))
        if rec.kind == "01" and quota_check is not None:
            groups = {(header.decider_position, norm_text(header.decider_name))}
            groups |= {(o.decider_position, norm_text(o.decider_name)) for o in earlier}
            for pos, name in groups:
                violations = self._regroup(conn, rec.period, rec.unit_code, pos, name, quota_check)
                if pos == header.decider_position and name == norm_text(header.decider_name) and violations:
                    out.issues.extend(violations)
                    if status != s.SUPERSEDED:
                        return s.INVALID
            return s.ACCEPTED
        return outcome

    def _regroup(
        self, conn: Connection, period: str, unit_code: str, position: str, name: str, quota_check: QuotaCheck
    ) -> list[Issue]:
        """Re-check the quota over one decider's active individual forms; set their status."""
        group = [
            r
            for r in views.active_lists(conn, period, unit_code, kind="01")
            if r.decider_position == position and norm_text(r.decider_name) == name
        ]
        if not group:
            return []
        rows = self._evaluations_of(conn, [g.id for g in group])
        violations = quota_check([ev for g in group for ev in rows[g.id]])
        status = s.INVALID_QUOTA if violations else s.VALID
        changed = [g.id for g in group if g.status != status]  # most forms leave the group's status as it was
        if changed:
            conn.execute(_SET_STATUS, {"ids": changed, "status": status})
        return violations

    def _evaluations_of(self, conn: Connection, list_ids: list[int]) -> dict[int, list[EvaluationRow]]:
        """Decoded evaluation rows of ``list_ids``, from the cache where possible: regrouping a
        decider's individual forms after each new form would otherwise decode the whole group
        every time (quadratic in the forms of a school)."""
        cache = self._evals
        missing = [i for i in list_ids if i not in cache]
        if missing:
            fetched = views.evaluations_of(conn, missing)
            for i in missing:
                cache[i] = fetched.get(i, [])
                self._evals_new.add(i)
        out = {}
        for i in list_ids:
            out[i] = cache[i]
            cache.move_to_end(i)
        while len(cache) > max(EVALUATION_CACHE, len(list_ids)):
            cache.popitem(last=False)
        return out

    # ------------------------------------------------------------------ files

    @retrying
    def file(self, file_id: int) -> c.FileRecord:
        with self.engine.connect() as conn:
            return c.by_id(conn, file_id)

    @retrying
    def files(self, *, period: str | None = None, outcome: str | None = None) -> list[c.FileRecord]:
        """Files in arrival order, optionally for one period / outcome."""
        q = select(s.files).order_by(s.files.c.arrival, s.files.c.id)
        if period is not None:
            q = q.where(s.files.c.period == period)
        if outcome is not None:
            q = q.where(s.files.c.outcome == outcome)
        with self.engine.connect() as conn:
            return [c.FileRecord.from_row(r) for r in conn.execute(q)]

    @retrying
    def file_issues(self, file_id: int) -> list[Issue]:
        with self.engine.connect() as conn:
            return views.issues_of(conn, [file_id]).get(file_id, [])

    @retrying
    def lists(self, *, period: str | None = None, unit_code: str | None = None) -> list[Any]:
        """Rows of ``lists`` (all statuses), for inspection and tests."""
        q = select(s.lists).order_by(s.lists.c.id)
        if period is not None:
            q = q.where(s.lists.c.period == period)
        if unit_code is not None:
            q = q.where(s.lists.c.unit_code == unit_code)
        with self.engine.connect() as conn:
            return list(conn.execute(q))

    @retrying
    def evaluation_count(self, *, period: str | None = None, active_only: bool = True) -> int:
        with self.engine.connect() as conn:
            return views.evaluation_count(conn, period, active_only)

    @retrying
    def people_listed(
        self,
        period: str,
        *,
        exclude: tuple[str, str, str] | None = None,
        persons: Iterable[str] | None = None,
    ) -> dict[str, str]:
        """Person code → "unit – decider" of the active lists of ``period`` holding them.

        ``exclude`` = (unit, decider position, decider name): the list about to be replaced;
        ``persons``: only these person codes (default everyone).
        """
        with self.engine.connect() as conn:
            return views.people_listed(conn, period, exclude, persons)

    # ------------------------------------------------------------------ locks

    @retrying
    def is_locked(self, period: str, block: str | None = None) -> bool:
        """Whether files for ``period`` (and ``block``) are refused (published, not reopened)."""
        with self.engine.connect() as conn:
            return views.locked(conn, period, block)

    @retrying
    def set_lock(self, period: str, block: str | None, *, locked: bool, by: str, reason: str = "") -> None:
        """Lock (publish) or unlock (reopen) a period, for one block or all; history is kept."""
        with self.engine.begin() as conn:
            blocks = [block or ""]
            if not locked and not block:  # reopening the whole period reopens every block
                blocks += sorted(views.locked_blocks(conn, period))
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
            conn.execute(insert(s.registry_units), [views.unit_to_row(vid, k, u) for k, u in units_d.items()])
        if people_d:
            conn.execute(insert(s.registry_people), [views.person_to_row(vid, k, p) for k, p in people_d.items()])
        if moves:
            conn.execute(
                insert(s.registry_moves), [views.person_to_row(vid, c, p) for c, ps in moves.items() for p in ps]
            )
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
            reg = views.load_registry(conn, int(vid))
        if at is None:
            self._registry, self._registry_id = reg, int(vid)
        return reg

    @retrying
    def registry_for(self, period: str) -> Registry | None:
        """The registry version in force for ``period`` (:func:`views.registry_version_for`):
        the one it was published with once locked, else the current one."""
        with self.engine.connect() as conn:
            vid = views.registry_version_for(conn, period)
            if vid is None:
                return None
            if vid == self._registry_id and self._registry is not None:
                return self._registry.in_force(period)  # versions never change: the cache is keyed by id
            reg = views.load_registry(conn, vid)
        self._registry, self._registry_id = reg, vid
        # SPEC §3: the structure in force for the period (units that ended are left out)
        return reg.in_force(period)

    # ------------------------------------------------------------------ views

    @retrying
    def unit_view(self, period: str, unit_code: str) -> UnitView:
        """Everything the unit reports need for one unit and period."""
        registry = self.registry_for(period)
        with self.engine.connect() as conn:
            found = views.unit_views(conn, period, registry, unit_codes=[unit_code])
        return found.get(unit_code) or views.empty_unit_view(period, unit_code, registry)

    def period_view(self, period: str, block: str | None = None) -> PeriodView:
        """All units of a period (optionally one block): the input of the roll-ups."""
        return self.period_views(period, [block])[block]

    @retrying
    def period_views(
        self, period: str, blocks: Sequence[str | None], *, summary: bool = False
    ) -> dict[str | None, PeriodView]:
        """:meth:`period_view` of several blocks (``None``: the whole period) in one read.

        ``summary``: units as :func:`~.views.summarise` leaves them (no evaluation rows, the
        grades counted), read a batch of units at a time: roll-ups of a large period.
        """
        registry = self.registry_for(period)
        with self.engine.connect() as conn:
            found = views.unit_views_by_block(conn, period, registry, blocks, summary=summary)
            locked = {b: views.locked(conn, period, b) for b in found}
        return {
            b: PeriodView(
                period=period,
                units=sorted(units.values(), key=lambda u: (u.block, u.unit_code)),
                expected_units=registry.expected_units(b) if registry else [],
                has_registry=registry is not None,
                org=dict(registry.units) if registry else {},
                locked=locked[b],
                generated_at=datetime.now(),
            )
            for b, units in found.items()
        }

    @retrying
    def unit_views(self, period: str, unit_codes: Iterable[str]) -> dict[str, UnitView]:
        """:meth:`unit_view` of several units in one go (a chunk's outputs)."""
        codes = sorted(set(unit_codes))
        registry = self.registry_for(period)
        with self.engine.connect() as conn:
            found = views.unit_views(conn, period, registry, unit_codes=codes)
        return {c: found.get(c) or views.empty_unit_view(period, c, registry) for c in codes}

    def unit_view_batches(self, period: str, unit_codes: Iterable[str], size: int) -> Iterator[dict[str, UnitView]]:
        """:meth:`unit_views` of ``unit_codes``, ``size`` units at a time (bounded memory).

        One connection serves every batch (the lists and the registry's staff index are read
        once); not retried as a whole, since a batch may already have been used.
        """
        codes = sorted(set(unit_codes))
        registry = self.registry_for(period)
        with self.engine.connect() as conn:
            for batch in views.unit_view_batches(conn, period, registry, [None], unit_codes=codes, batch_units=size):
                found = batch[None]
                yield {c: found[c] for c in sorted(found)}

    @retrying
    def pending_rollups(self) -> list[tuple[str, str, int]]:
        """(period, block, generation) of roll-ups to rewrite; block "" is the district."""
        with self.engine.connect() as conn:
            return views.pending_rollups(conn)

    @retrying
    def rollup_written(self, period: str, block: str, generation: int) -> None:
        """Clear a pending roll-up unless a newer list arrived meanwhile (generation moved on)."""
        with self.engine.begin() as conn:
            views.clear_rollup(conn, period, block, generation)

    @retrying
    def year_rows(self, year: int) -> list[YearRow]:
        """One row per person with a final grade per month of ``year`` (active lists only)."""
        with self.engine.connect() as conn:
            return views.year_rows(conn, year, self.registry_for(f"{year:04d}-12"))

    def reset_for_tests(self) -> None:
        """Delete every row (tests that share one PostgreSQL schema)."""
        with self.engine.begin() as conn:
            for table in reversed(s.metadata.sorted_tables):
                if table.name != "schema_version":
                    conn.execute(delete(table))


def _safe_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "?"


def open_ledger(settings: Settings) -> Ledger:
    """The ledger of ``settings`` (``ledger.url``, default SQLite in the work dir)."""
    return Ledger(settings.ledger_url, stale_after=settings.watcher.claim_timeout_minutes * 60)
