"""Stability tracking: when is a file in the inbox complete enough to be taken (SPEC §9)?

Events from the operating system are hints, never truth. A path a hint (or a rescan) names is
*tracked*; whether it is ready is :func:`danhgia_batch.intake.unsettled_reason`, the predicate
``process`` and ``check --wait`` use too, with stability judged by **our** clock (monotonic)
between looks, never the client's mtime, which over SMB is the sending machine's idea of the
time. A stable file is still held back while a lock file sits beside it or its zip directory
cannot be read yet (see :mod:`danhgia_batch.intake`).

Both holds are bounded by ``lock_wait_seconds`` (Excel leaves stale ``~$`` files behind when it
crashes); after that the file is handed over anyway and the reader rejects it with a reason if
it really is broken. A stable file that is not a zip at all (an old .xls, a CSV renamed) is handed
over at once: the reader rejects it with a reason, which is the answer the clerk needs.

Paths handed over are remembered with their signature (and, when they linger in the inbox after
processing, their SHA-256) so that a file the pipeline could not move away is not processed in a
loop; a changed signature or content puts it back into tracking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..intake import CHANGING, GONE, Signature, signature_of, unsettled_reason
from ..textsafe import fs_text

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    signature: Signature | None
    since: float
    held_since: float | None = None
    hold: str = ""
    not_before: float = 0.0


@dataclass
class _Done:
    signature: Signature
    digest: str | None = None


class SettleTracker:
    """Tracks candidate paths until they are stable and complete.

    Args:
        settle_seconds: how long (our clock) the signature must stay unchanged.
        lock_wait_seconds: bound on waiting for a lock file to go or a zip to become readable.
        clock: monotonic clock (a fake one in tests).
        accept: filter; paths it rejects (temporary, lock, hidden files…) are never tracked.
    """

    def __init__(
        self,
        *,
        settle_seconds: float,
        lock_wait_seconds: float,
        clock: Callable[[], float],
        accept: Callable[[Path], bool] = lambda _p: True,
    ) -> None:
        self.settle_seconds = settle_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self.clock = clock
        self.accept = accept
        self._pending: dict[Path, _Pending] = {}
        self._done: dict[Path, _Done] = {}
        self.seen = 0

    @property
    def pending(self) -> int:
        """Number of paths being tracked (not yet handed over)."""
        return len(self._pending)

    def pending_paths(self) -> list[Path]:
        return sorted(self._pending)

    def done_paths(self) -> list[Path]:
        return sorted(self._done)

    def holds(self) -> dict[Path, str]:
        """Paths held back with the reason ("locked", "incomplete")."""
        return {p: e.hold for p, e in self._pending.items() if e.hold}

    def hint(self, path: Path) -> bool:
        """Something may have happened to ``path``; track it if it is a candidate.

        Returns True if the path is (now) tracked.
        """
        path = Path(path)
        if path in self._pending:
            return True
        if not self.accept(path):
            return False
        sig = signature_of(path)
        if sig is None:
            return False
        done = self._done.get(path)
        if done is not None:
            if done.signature == sig:
                return False
            del self._done[path]
            log.info("Tệp %s đã thay đổi sau khi xử lý; theo dõi lại", fs_text(path))
        self._pending[path] = _Pending(signature=sig, since=self.clock())
        self.seen += 1
        return True

    def moved(self, src: Path, dest: Path) -> None:
        """A rename (Excel's and rsync's temp-then-rename): forget the source, track the target."""
        self.forget(Path(src))
        self.hint(Path(dest))

    def forget(self, path: Path) -> None:
        """The path is gone (or no longer ours)."""
        self._pending.pop(Path(path), None)
        self._done.pop(Path(path), None)

    def forget_under(self, folder: Path) -> None:
        """A folder was deleted or moved away: forget everything inside it."""
        for table in (self._pending, self._done):
            for p in [p for p in table if p.is_relative_to(folder)]:
                del table[p]

    def retry(self, path: Path, delay: float) -> None:
        """Processing failed: track the path again, not before ``delay`` seconds from now."""
        self._done.pop(path, None)
        sig = signature_of(path)
        if sig is None:
            return
        now = self.clock()
        self._pending[path] = _Pending(signature=sig, since=now - self.settle_seconds, not_before=now + delay)

    def mark_done(self, path: Path, digest: str | None = None) -> None:
        """Remember a processed path that is still in the inbox (so it is not taken again)."""
        sig = signature_of(path)
        if sig is not None:
            self._done[path] = _Done(sig, digest)

    def done_digest(self, path: Path) -> str | None:
        entry = self._done.get(path)
        return entry.digest if entry else None

    def prune(self) -> None:
        """Drop remembered paths that have left the inbox (keeps memory flat over months)."""
        for p in [p for p in self._done if not p.exists()]:
            del self._done[p]

    def next_due(self) -> float | None:
        """Our clock's time at which the earliest tracked path (not held back) may be ready."""
        due = [max(e.since + self.settle_seconds, e.not_before) for e in self._pending.values() if not e.hold]
        return min(due, default=None)

    def poll(self, *, wait_holds: bool = True) -> list[Path]:
        """Look at every tracked path; return (and stop tracking) those ready, in arrival order.

        Args:
            wait_holds: False (``--once``) leaves held files for a later run instead of
                handing them over when the bound expires.
        """
        now = self.clock()
        ready: list[tuple[int, str, Path]] = []
        for path, entry in list(self._pending.items()):
            reason, sig = unsettled_reason(
                path, previous=entry.signature, stable_for=now - entry.since, settle_seconds=self.settle_seconds
            )
            if reason == GONE or sig is None:
                del self._pending[path]
                continue
            if sig != entry.signature:
                entry.signature, entry.since, entry.held_since, entry.hold = sig, now, None, ""
                continue
            if reason == CHANGING or now < entry.not_before:
                continue
            if not self._released(path, reason, entry, now, wait_holds):
                continue
            del self._pending[path]
            ready.append((sig.ctime_ns, str(path), path))
        # arrival order (as intake.scan_inbox): a unit's corrected file must supersede the
        # earlier one, not the other way round (SPEC §9)
        return [p for _, _, p in sorted(ready)]

    def _released(self, path: Path, hold: str, entry: _Pending, now: float, wait_holds: bool) -> bool:
        if not hold:
            return True
        if entry.held_since is None or entry.hold != hold:
            entry.held_since, entry.hold = now, hold
            log.info("Tệp %s chưa sẵn sàng (%s); chờ tối đa %.0f giây", fs_text(path), hold, self.lock_wait_seconds)
        if not wait_holds or now - entry.held_since < self.lock_wait_seconds:
            return False
        log.warning("Tệp %s vẫn %s sau %.0f giây; vẫn đưa vào xử lý", fs_text(path), hold, self.lock_wait_seconds)
        return True
