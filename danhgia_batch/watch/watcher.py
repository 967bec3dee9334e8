"""One step of the watcher loop: hints → settle → process → remember (SPEC §9).

:class:`Watcher` holds the state (tracker, observer, counts) and does one pass per
:meth:`Watcher.step`; :mod:`.service` drives it with a real clock and signals, tests drive it
with a fake clock and scripted hints.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import intake
from ..settings import Settings
from ..textsafe import fs_text
from .observer import Hint, HintHandler, InboxObserver, ObserverFactory, make_observer
from .settle import SettleTracker

log = logging.getLogger(__name__)

ProcessFn = Callable[..., Any]
MIN_WAIT = 0.005  # seconds: the loop never spins
MAX_BATCH = 64  # files per process_inbox call: a stop request waits for one batch at most
UNFINISHED = "unfinished"  # recorded, but the disk or a folder stopped its outputs or move: retried


@dataclass
class WatchStats:
    """Counts for the heartbeat line (since the watcher started)."""

    seen: int = 0
    processed: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    failed: int = 0
    pending: int = 0
    batches: int = 0
    exit_code: int = 0
    observer_restarts: int = 0


def outcomes_of(result: Any) -> dict[Path, str]:
    """Outcome of each file of a :class:`~danhgia_batch.pipeline.BatchResult`, by resolved path."""
    return {
        Path(getattr(f, "source", None) or f.path).resolve(): f.outcome if getattr(f, "finished", True) else UNFINISHED
        for f in getattr(result, "files", [])
    }


class Watcher:
    """The watcher's state and one step of its loop; :func:`watch_inbox` drives it.

    Tests drive :meth:`step` directly with a fake clock and scripted hints.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        polling: bool,
        process: ProcessFn,
        clock: Callable[[], float] = time.monotonic,
        stop_event: threading.Event | None = None,
        observer_factory: ObserverFactory = make_observer,
        wait_holds: bool = True,
        reminders: Any = None,
    ) -> None:
        self.settings = settings
        self.reminders = reminders  # a reminders.ReminderSchedule (issue 20), stepped with the loop
        self.inbox = settings.inbox
        self.cfg = settings.watcher
        self.process = process
        self.clock = clock
        self.stop_event = stop_event or threading.Event()
        self.wait_holds = wait_holds
        self.tracker = SettleTracker(
            settle_seconds=self.cfg.settle_seconds,
            lock_wait_seconds=self.cfg.lock_wait_seconds,
            clock=clock,
            accept=lambda p: intake.is_candidate(p, self.inbox),
        )
        self.handler = HintHandler()
        self.observer = InboxObserver(
            self.inbox, self.handler, polling=polling, interval=self.cfg.polling_interval, factory=observer_factory
        )
        self.stats = WatchStats()
        self._failures: dict[Path, int] = {}
        self._next_rescan = 0.0
        self._next_heartbeat = 0.0
        self._inbox_missing_logged = False
        self._odd_seen: set[tuple[Path, str]] = set()

    # -- the loop ---------------------------------------------------------------------------

    def start(self, *, observe: bool = True) -> None:
        """Start the observer (unless ``observe`` is False, for ``--once``) and scan the inbox."""
        if observe and not self.observer.start():
            self._note_inbox_missing()
        now = self.clock()
        self.rescan()
        self._next_rescan = now + self.cfg.rescan_seconds
        self._next_heartbeat = now + self.cfg.heartbeat_minutes * 60

    def step(self, *, observe: bool = True) -> list[Path]:
        """One pass of the loop; returns the paths handed to processing."""
        for hint in self.handler.drain():
            self.apply(hint)
        now = self.clock()
        if observe:
            self.check_observer()
        if now >= self._next_rescan:
            self.rescan()
            self._next_rescan = now + self.cfg.rescan_seconds
        ready = self.tracker.poll(wait_holds=self.wait_holds)
        if ready:
            self.handle(ready)
        if now >= self._next_heartbeat:
            self.heartbeat()
            self._next_heartbeat = now + self.cfg.heartbeat_minutes * 60
        if self.reminders is not None:
            self.reminders.step()
        return ready

    def close(self) -> None:
        self.observer.stop()

    def next_wait(self, tick: float) -> float:
        """Seconds the loop may sleep: ``tick`` at most, less when a tracked file falls due.

        A hint wakes the loop earlier (:meth:`HintHandler.wait`), so a settled file is taken
        when its settle time ends, not up to a tick later.
        """
        due = self.tracker.next_due()
        if due is None:
            return tick
        return max(MIN_WAIT, min(tick, due - self.clock()))

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; return early when the observer reports something."""
        self.handler.wait(timeout)

    # -- hints, scans, health ----------------------------------------------------------------

    def apply(self, hint: Hint) -> None:
        """Feed one observer hint to the tracker."""
        if hint.kind == "moved" and hint.dest is not None:
            self.tracker.forget_under(hint.path)
            if hint.dest.is_dir():
                self.scan_folder(hint.dest)
            else:
                self.tracker.moved(hint.path, hint.dest)
        elif hint.kind == "gone":
            self.tracker.forget(hint.path)
            self.tracker.forget_under(hint.path)
        elif hint.kind == "folder":
            self.scan_folder(hint.path)
        else:
            self.tracker.hint(hint.path)

    def scan_folder(self, folder: Path) -> None:
        """A folder appeared or was moved in (a unit folder copied whole): look inside it."""
        if folder == self.inbox or not folder.is_relative_to(self.inbox):
            return
        try:
            for p in sorted(folder.iterdir()):
                self.tracker.hint(p)
        except OSError:
            return

    def rescan(self) -> None:
        """Full scan of the inbox: files with no event, lingering files rewritten in place."""
        try:
            found = intake.scan_inbox(self.inbox)
        except OSError as exc:  # the folder changed under the scan; the next one will see it
            log.warning("Không quét được thư mục %s: %s", self.inbox, exc)
            return
        for p in found:
            self._recheck_lingering(p)
            self.tracker.hint(p)
        self._note_odd()
        self.tracker.prune()
        for p in [p for p in self._failures if not p.exists()]:
            del self._failures[p]

    def _note_odd(self) -> None:
        """Log each inbox entry that is not a regular file once (issue 17 ¶7); never touch it."""
        for path, kind in intake.scan_odd(self.inbox):
            if (path, kind) not in self._odd_seen:
                self._odd_seen.add((path, kind))
                log.warning("Bỏ qua %s trong hộp thư đến: không phải tệp thường (%s)", fs_text(path), kind)

    def _recheck_lingering(self, path: Path) -> None:
        # Same size, mtime and inode after an in-place rewrite is possible (Windows keeps its
        # creation time in st_ctime); for the rare processed file still in the inbox the content
        # hash decides. Byte-identical content is the ledger's duplicate anyway.
        digest = self.tracker.done_digest(path)
        if digest is None:
            return
        try:
            changed = intake.sha256_file(path) != digest
        except OSError:
            return
        if changed:
            log.info("Tệp %s đã được ghi đè tại chỗ; xử lý lại", fs_text(path))
            self.tracker.forget(path)

    def check_observer(self) -> None:
        """Recreate the observer if it died or the inbox folder was removed and recreated."""
        if self.observer.healthy():
            return
        was_running = self.observer.observer is not None
        self.observer.stop()
        if not self.observer.start():
            self._note_inbox_missing()
            return
        if was_running or self._inbox_missing_logged:
            self.stats.observer_restarts += 1
            log.warning("Bộ theo dõi thư mục %s đã ngừng hoặc thư mục đã được tạo lại; đã khởi động lại", self.inbox)
        self._inbox_missing_logged = False
        self.rescan()

    def _note_inbox_missing(self) -> None:
        if not self._inbox_missing_logged:
            log.warning("Không thấy thư mục %s; chờ thư mục xuất hiện trở lại", self.inbox)
            self._inbox_missing_logged = True

    # -- processing ----------------------------------------------------------------------------

    def handle(self, ready: Sequence[Path]) -> None:
        """Process ready paths in batches (files that failed before go one by one).

        A stop request is honoured between batches: what is left stays in the inbox and the
        next start takes it (nothing is lost, the start-up scan sees it).
        """
        fresh = [p for p in ready if p not in self._failures]
        batches = [fresh[i : i + MAX_BATCH] for i in range(0, len(fresh), MAX_BATCH)]
        batches += [[p] for p in ready if p in self._failures]
        for batch in batches:
            if self.stop_event.is_set():
                log.info("Dừng: để lại %d tệp trong hộp thư đến cho lần chạy sau", len(batch))
                continue
            self._process_batch(batch)

    def _process_batch(self, batch: list[Path]) -> None:
        log.info("Xử lý %d tệp: %s", len(batch), ", ".join(fs_text(p.name) for p in batch))
        try:
            result = self.process(self.settings, paths=batch)
        except Exception:  # one file (or a ledger hiccup) never stops the watcher
            log.exception("Lỗi khi xử lý %s; sẽ thử lại", ", ".join(fs_text(p.name) for p in batch))
            self.stats.failed += len(batch)
            for p in batch:
                self._retry(p)
            return
        self.stats.batches += 1
        self.stats.exit_code = max(self.stats.exit_code, int(getattr(result, "exit_code", 0)))
        outcomes = outcomes_of(result)
        for p in batch:
            self._settle_outcome(p, outcomes.get(p.resolve(), ""))

    def _settle_outcome(self, path: Path, outcome: str) -> None:
        """Count one file's outcome; keep what the pipeline left in the inbox from looping."""
        s = self.stats
        s.processed += 1
        s.accepted += outcome == "accepted"
        s.rejected += outcome in ("rejected", "invalid")
        s.duplicate += outcome == "duplicate"
        s.failed += outcome == "failed"
        if outcome == "skipped" and path.exists():
            # claimed by another live watcher (shared PostgreSQL ledger, issue 10): it will move
            # the file; look again later in case that watcher dies and its claim goes stale
            self.tracker.retry(path, delay=max(self.cfg.settle_seconds, min(self.cfg.rescan_seconds, 10.0)))
            return
        if outcome in ("failed", UNFINISHED) and path.exists():  # UNFINISHED: a full disk, a lost outbox…
            self._retry(path)  # the pipeline kept it for a retry (and rejects it after a few)
            return
        self._failures.pop(path, None)
        if path.exists():  # recorded but not moved away: remember it, never loop on it
            try:
                digest: str | None = intake.sha256_file(path)
            except OSError:
                digest = None
            self.tracker.mark_done(path, digest)

    def _retry(self, path: Path) -> None:
        n = self._failures[path] = self._failures.get(path, 0) + 1
        self.tracker.retry(path, delay=min(self.cfg.rescan_seconds, 2.0**n))

    def heartbeat(self) -> None:
        s = self.stats
        s.seen, s.pending = self.tracker.seen, self.tracker.pending
        log.info(
            "Nhịp: đã thấy %d, đã xử lý %d, chấp nhận %d, từ chối %d, trùng %d, lỗi %d, đang chờ %d, "
            "khởi động lại bộ theo dõi %d",
            s.seen,
            s.processed,
            s.accepted,
            s.rejected,
            s.duplicate,
            s.failed,
            s.pending,
            s.observer_restarts,
        )
