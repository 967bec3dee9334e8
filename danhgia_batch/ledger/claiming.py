"""Claims of the :class:`~.store.Ledger`: one process per file's bytes, heartbeats, dead-claim
takeover, done (SPEC §9, issue 10). The statements themselves are in :mod:`.claims`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from ..errors import LedgerError
from ..textsafe import fs_text
from . import claims as c
from . import schema as s
from .base import LedgerBase
from .retry import retrying

log = logging.getLogger("danhgia_batch.ledger.store")


class ClaimsMixin(LedgerBase):
    """Claiming files and finishing them."""

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
        """:meth:`claim` of several files (dicts of its arguments) in one transaction.

        The new bytes (the usual case) are inserted by one statement; a file whose bytes are
        already claimed (by an earlier file of the same call too) is then claimed as
        :meth:`claim` does, in order: the same answers as one :meth:`claim` after another."""
        with self.engine.begin() as conn:
            rows = [
                self._claim_values(
                    self._base(f["sha256"], f["name"], f["inbox_path"], f["unit_folder"], f["size"]), f["sha256"]
                )
                for f in files
            ]
            inserted = c.insert_claims(conn, rows)
            out = []
            for f, row in zip(files, rows, strict=True):
                new = inserted.pop((row["claim_key"], row["inbox_path"]), None)
                if new is not None:
                    out.append(c.Claim("process", new))
                else:
                    args = (f["sha256"], f["name"], f["inbox_path"], f["unit_folder"], f["size"], f.get("mtime_ns", 0))
                    out.append(self._claim(conn, *args))
            return out

    @staticmethod
    def _base(sha256: str, name: str, inbox_path: str, unit_folder: str | None, size: int) -> dict[str, Any]:
        return {
            "sha256": sha256,
            "name": name,
            "inbox_path": inbox_path,
            "unit_folder": unit_folder,
            "size": size,
            "state": s.STATE_CLAIMED,
            "issue_count": 0,
            "attempts": 1,
        }

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
        base = self._base(sha256, name, inbox_path, unit_folder, size)
        new = c.insert_claim(conn, self._claim_values(base, sha256))
        if new is not None:
            return c.Claim("process", new)
        original = c.original_of(conn, sha256)
        assert original is not None
        mine = original.claimed_by == self.worker and original.inbox_path == inbox_path
        if mine and original.state == s.STATE_CLAIMED:  # a retried claim whose insert did commit
            return c.Claim("process", original)
        settled = c.settled(original, inbox_path)
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
        log.info("took over %s (%s) from %s", fs_text(rec.name), rec.state, rec.claimed_by)
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
