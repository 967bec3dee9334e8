"""One watcher per SQLite ledger: an OS file lock beside the database file.

SQLite serialises writers but two watchers on one inbox would race for every file; the lock
makes the second one refuse to start. The OS releases it when the process dies, so a crashed
watcher never leaves a stale lock behind. PostgreSQL ledgers skip it: several watchers share
one PostgreSQL ledger and claim files in the database (issue 10).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..errors import ConfigError, LockedError
from ..settings import Settings


def lock_path(settings: Settings) -> Path | None:
    """The lock file of the SQLite ledger of ``settings``; ``None`` for a server database."""
    try:
        url = make_url(settings.ledger_url)
    except ArgumentError as exc:
        raise ConfigError(f"Địa chỉ sổ cái không hợp lệ: {settings.ledger_url}") from exc
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return settings.workdir / "danhgia-watch.lock"
    db = Path(database)
    db = db if db.is_absolute() else settings.workdir / db
    return db.with_name(db.name + ".watch.lock")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def watcher_lock(settings: Settings) -> Iterator[Path | None]:
    """Hold the SQLite watcher lock for the duration of the block.

    Raises:
        LockedError: another watcher holds it (the message names its process id).
    """
    path = lock_path(settings)
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            other = os.pread(fd, 32, 0).decode("ascii", "replace").strip() if hasattr(os, "pread") else ""
            who = f" (PID {other})" if other else ""
            raise LockedError(
                f"Một tiến trình theo dõi khác{who} đang chạy trên sổ cái SQLite này ({path}). "
                "Không thể chạy hai tiến trình theo dõi cùng lúc trên một sổ cái SQLite; "
                "hãy dừng tiến trình kia hoặc dùng PostgreSQL."
            )
        try:  # the process id is only informative (named in the other watcher's message)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        except OSError:
            pass
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
