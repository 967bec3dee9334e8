"""The long-running watcher: ``danhgia watch`` → :func:`watch_inbox` (SPEC §9, §11).

One loop, one thread (the observer's threads only queue hints). Each step:

1. drain the observer's hints into the :class:`~.settle.SettleTracker`;
2. check the observer's health (recreate it, and rescan, if it died or the inbox folder was
   replaced);
3. rescan the whole inbox on start and every ``rescan_seconds`` (missed events, files dropped
   while we were down, lingering files rewritten in place);
4. hand the paths that are ready to the same library function as ``danhgia process``
   (``pipeline.process_inbox(settings, paths=ready)``: same worker pool, same limits);
5. log a heartbeat every ``heartbeat_minutes``.

SIGINT and SIGTERM only set a flag: the batch in hand finishes (the ledger records it and the
pipeline moves the originals), then the observer stops and :func:`watch_inbox` returns 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from ..errors import ConfigError
from ..settings import Settings
from ..textsafe import fs_text
from .lock import watcher_lock
from .observer import ObserverFactory, make_observer
from .reminders import ReminderSchedule
from .watcher import ProcessFn, Watcher

log = logging.getLogger(__name__)

MAX_TICK = 0.5
MIN_TICK = 0.05
ERROR_PAUSE = 5.0  # after an unexpected error in the loop, before trying again


@contextmanager
def _signals_set(stop_event: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop_event`` (main thread only; elsewhere the caller stops us)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("Nhận tín hiệu %s; hoàn tất lô đang xử lý rồi dừng", signal.Signals(signum).name)
        stop_event.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def on_network_share(folder: Path) -> bool:
    """True if ``folder`` is on an SMB/CIFS, NFS or similar mount (Linux; False elsewhere)."""
    from ..ledger.engine import NETWORK_FS, filesystem_type

    fstype = filesystem_type(folder)
    return bool(fstype) and str(fstype).lower() in NETWORK_FS


def _tick(settle_seconds: float) -> float:
    return max(MIN_TICK, min(MAX_TICK, settle_seconds / 4))


def watch_inbox(
    settings: Settings,
    *,
    polling: bool | None = None,
    once: bool = False,
    process: ProcessFn | None = None,
    clock: Callable[[], float] = time.monotonic,
    stop_event: threading.Event | None = None,
    observer_factory: ObserverFactory = make_observer,
) -> int:
    """Watch the inbox and process every file that arrives, until stopped (SPEC §9, §11).

    Use the native observer on a local disk (or on the file server itself). On a network
    share (SMB/CIFS, NFS) mounted from another machine, the kernel never reports other
    clients' writes: use ``polling=True`` (``--polling``, ``[watcher] polling``), which polls
    every ``polling_interval`` seconds. Either way a full rescan runs on start and every
    ``rescan_seconds``, so no file is missed, and a file is taken only once it has been stable
    for ``settle_seconds`` and opens as a complete workbook.

    Args:
        settings: resolved settings (``[watcher]`` section).
        polling: force the polling observer on/off (default: ``settings.watcher.polling``, and
            on automatically when the inbox is on a network mount).
        once: scan, wait one settle period, process what is stable, then return (cron, tests);
            files still changing, open in Excel or incomplete are left for the next run.
        process: the processing function (default ``pipeline.process.process_inbox``).
        clock: monotonic clock used to judge stability.
        stop_event: set it to stop the watcher (SIGINT/SIGTERM set it too).
        observer_factory: builds the watchdog observer (tests inject fakes).

    Returns:
        0 after a clean stop; with ``once``, the worst exit code of the batches (0 all
        accepted, 1 something rejected or invalid).

    Raises:
        LockedError: another watcher runs on the same SQLite ledger.
        ConfigError: the inbox folder does not exist.
    """
    if not settings.inbox.is_dir():
        raise ConfigError(f"Không có thư mục hộp thư đến {settings.inbox} (hãy chạy 'danhgia init')")
    use_polling = settings.watcher.polling if polling is None else polling
    if polling is None and not use_polling and on_network_share(settings.inbox):
        # a client mount of a share: the kernel never reports other machines' writes
        log.warning("Thư mục %s nằm trên ổ mạng; tự chuyển sang chế độ thăm dò định kỳ (--polling)", settings.inbox)
        use_polling = True
    stop_event = stop_event or threading.Event()
    with watcher_lock(settings), _signals_set(stop_event), _session(settings, process) as process_fn:
        watcher = Watcher(
            settings,
            polling=use_polling,
            process=process_fn,
            clock=clock,
            stop_event=stop_event,
            observer_factory=observer_factory,
            wait_holds=not once,
            reminders=ReminderSchedule(settings) if settings.reminders.at and not once else None,
        )
        try:
            return _run_once(watcher) if once else _run_forever(watcher)
        finally:
            watcher.close()
            watcher.heartbeat()
            log.info("Đã dừng theo dõi %s", settings.inbox)


@contextmanager
def _session(settings: Settings, process: ProcessFn | None) -> Iterator[ProcessFn]:
    """The processing function: ``process`` if given (tests), else a :class:`WarmSession`
    (reader workers and the ledger kept between events), stopped when the watcher stops."""
    if process is not None:
        yield process
        return
    from .warm import WarmSession

    session = WarmSession(settings)
    try:
        yield session
    finally:
        session.close()


def _run_forever(watcher: Watcher) -> int:
    tick = _tick(watcher.cfg.settle_seconds)
    watcher.start()
    while not watcher.stop_event.is_set():
        try:
            watcher.step()
        except Exception:  # months unattended: log it, pause, carry on
            log.exception("Lỗi không mong đợi trong vòng theo dõi; thử lại sau %.0f giây", ERROR_PAUSE)
            watcher.stop_event.wait(ERROR_PAUSE)
        if not watcher.stop_event.is_set():
            watcher.wait(watcher.next_wait(tick))  # a hint or a file falling due wakes it earlier
    return 0


def _run_once(watcher: Watcher) -> int:
    """Scan, wait until everything tracked settled or one settle period (plus a tick) passed."""
    tick = _tick(watcher.cfg.settle_seconds)
    watcher.start(observe=False)
    deadline = watcher.clock() + watcher.cfg.settle_seconds + 2 * tick
    while not watcher.stop_event.is_set():
        watcher.step(observe=False)
        waiting = set(watcher.tracker.pending_paths()) - set(watcher.tracker.holds())
        if not waiting or watcher.clock() >= deadline:
            break
        watcher.stop_event.wait(tick)
    left = watcher.tracker.pending_paths()
    if left:
        log.info("Để lại %d tệp chưa ổn định cho lần chạy sau: %s", len(left), ", ".join(fs_text(p.name) for p in left))
    return watcher.stats.exit_code
