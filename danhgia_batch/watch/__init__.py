"""Inbox watcher (SPEC §9, §11): ``danhgia watch`` → :func:`watch_inbox`.

- :mod:`.settle` — when a file is stable and complete enough to be taken;
- :mod:`.observer` — watchdog observers (native or polling), events as hints, health checks;
- :mod:`.lock` — one watcher per SQLite ledger;
- :mod:`.watcher` — one step of the loop: hints, scans, processing, heartbeat;
- :mod:`.warm` — what stays warm between events: reader workers, the ledger, roll-up views;
- :mod:`.service` — :func:`watch_inbox`: lock, signals, the loop itself.
"""

from ..intake import Signature
from .lock import lock_path, watcher_lock
from .service import watch_inbox
from .settle import SettleTracker
from .watcher import Watcher, WatchStats

__all__ = ["SettleTracker", "Signature", "WatchStats", "Watcher", "lock_path", "watch_inbox", "watcher_lock"]
