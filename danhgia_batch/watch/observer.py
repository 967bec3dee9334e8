"""The watchdog side of the watcher: observers, their events as hints, and their health.

The native observer (inotify, FSEvents, ReadDirectoryChangesW) only sees changes made through
the kernel of *this* machine. On an SMB/CIFS or NFS mount, files written by other clients
(the block administrators' PCs) produce no event at all, so there the polling observer
(``--polling`` or ``[watcher] polling = true``) compares directory snapshots every
``polling_interval`` seconds instead. Either way events are only hints: the watcher rescans
the inbox on start and every ``rescan_seconds``.

An observer can die quietly: when the inbox folder is deleted (or a share unmounted), both the
inotify and the polling emitter emit one "directory deleted" event and stop; when the folder is
renamed away, inotify keeps watching the old folder. :meth:`InboxObserver.healthy` detects all
three (observer thread, emitter threads, identity of the inbox folder) so that the service can
recreate it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)

ObserverFactory = Callable[[bool, float], BaseObserver]


@dataclass(frozen=True)
class Hint:
    """One event reduced to what the watcher needs.

    ``kind`` is ``"file"`` (look at ``path``), ``"moved"`` (``path`` → ``dest``), ``"gone"``
    (``path`` deleted) or ``"folder"`` (a folder appeared or changed: rescan it).
    """

    kind: str
    path: Path
    dest: Path | None = None


def _fs(value: Any) -> Path:
    return Path(os.fsdecode(value))


class HintHandler(FileSystemEventHandler):
    """Turns watchdog events into :class:`Hint` objects on a thread-safe queue."""

    def __init__(self) -> None:
        self.hints: queue.SimpleQueue[Hint] = queue.SimpleQueue()
        self.arrived = threading.Event()  # set with every hint: the loop wakes at once

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reading a file (our own hashing included) changes nothing
        src = _fs(event.src_path)
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            self.hints.put(Hint("moved", src, _fs(event.dest_path)))
        elif isinstance(event, FileDeletedEvent | DirDeletedEvent):
            self.hints.put(Hint("gone", src))
        elif event.is_directory:
            self.hints.put(Hint("folder", src))
        else:
            self.hints.put(Hint("file", src))
        self.arrived.set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds or until a hint arrives; True if one did."""
        return self.arrived.wait(max(0.0, timeout))

    def drain(self) -> list[Hint]:
        self.arrived.clear()  # before reading the queue: a hint put meanwhile sets it again
        out: list[Hint] = []
        while True:
            try:
                out.append(self.hints.get_nowait())
            except queue.Empty:
                return out


MOVE_PAIRING_SECONDS = 0.05


def shorten_move_pairing() -> None:
    """Make watchdog's inotify emitter hold an unpaired "moved from" 50 ms instead of 0.5 s.

    The emitter keeps each IN_MOVED_FROM for ``InotifyMoveEventGrouper.delay`` (0.5 s) in case
    its IN_MOVED_TO follows, and every event queued behind it waits too: each file the watcher
    moves from the inbox to the archive held back the event of the next file to arrive by up
    to half a second. The two halves of a rename arrive together, so 50 ms still pairs them;
    a half left unpaired is a deletion plus a creation, which the watcher handles the same way
    (hints, never truth). The one place this library constant is changed.
    """
    try:
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
    except ImportError:  # not Linux, or another watchdog layout: nothing to shorten
        return
    if float(getattr(InotifyMoveEventGrouper, "delay", 0.0)) > MOVE_PAIRING_SECONDS:
        InotifyMoveEventGrouper.delay = MOVE_PAIRING_SECONDS


def make_observer(polling: bool, interval: float) -> BaseObserver:
    """The platform's native observer, or a polling one for network shares."""
    if polling:
        return PollingObserver(timeout=interval)
    shorten_move_pairing()
    return Observer()


def folder_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a folder, ``None`` if it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class InboxObserver:
    """One watchdog observer on the inbox, recursive (``inbox/<unit code>/`` folders)."""

    def __init__(
        self,
        inbox: Path,
        handler: HintHandler,
        *,
        polling: bool,
        interval: float,
        factory: ObserverFactory = make_observer,
    ) -> None:
        self.inbox = inbox
        self.handler = handler
        self.polling = polling
        self.interval = interval
        self.factory = factory
        self.observer: BaseObserver | None = None
        self.identity: tuple[int, int] | None = None

    def start(self) -> bool:
        """Start watching; False if the inbox folder does not exist (try again later)."""
        identity = folder_identity(self.inbox)
        if identity is None:
            return False
        try:
            observer = self._launch(self.polling)
        except OSError as exc:
            if self.polling:
                raise
            # e.g. the inotify watch limit (fs.inotify.max_user_watches) is reached
            log.warning("Không dùng được sự kiện hệ thống (%s); chuyển sang thăm dò định kỳ", exc)
            self.polling = True
            observer = self._launch(True)
        self.observer, self.identity = observer, identity
        log.info("Bắt đầu theo dõi %s (%s)", self.inbox, "thăm dò định kỳ" if self.polling else "sự kiện hệ thống")
        return True

    def _launch(self, polling: bool) -> BaseObserver:
        observer = self.factory(polling, self.interval)
        observer.schedule(self.handler, str(self.inbox), recursive=True)
        observer.daemon = True
        observer.start()
        return observer

    def healthy(self) -> bool:
        """Observer and emitter threads alive and still watching the folder now at ``inbox``."""
        obs = self.observer
        if obs is None or not obs.is_alive():
            return False
        if not obs.emitters or not all(e.is_alive() for e in obs.emitters):
            return False
        return folder_identity(self.inbox) == self.identity

    def stop(self) -> None:
        obs, self.observer = self.observer, None
        if obs is None:
            return
        try:
            obs.stop()
            if obs.is_alive():
                obs.join(timeout=5)
        except Exception:  # a dying observer must not take the watcher with it
            log.exception("Lỗi khi dừng bộ theo dõi thư mục")
