"""Engines for the ledger: SQLite (default, one file, no server) or PostgreSQL by URL (SPEC §9).

SQLite is opened in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` (the pysqlite recipe from the SQLAlchemy documentation: let SQLAlchemy
emit BEGIN itself instead of the driver), so two writers never deadlock on a lock upgrade.
A SQLite file on a network filesystem (SMB/CIFS, NFS) is refused: its locking is not reliable
there, and several machines must share a PostgreSQL ledger instead (issue 10).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from ..errors import LedgerError

log = logging.getLogger(__name__)

NETWORK_FS = frozenset({"cifs", "smb", "smb2", "smb3", "smbfs", "nfs", "nfs4", "afs", "9p", "fuse.sshfs", "ncpfs"})
BUSY_TIMEOUT_MS = 30_000
APPLICATION_NAME = "danhgia"  # PostgreSQL application_name of the ledger's sessions
MOUNTS = Path("/proc/mounts")


def filesystem_type(path: Path, mounts: Path = MOUNTS) -> str | None:
    """File system type of the mount holding ``path`` (``None`` where /proc/mounts is absent)."""
    try:
        lines = mounts.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, best_type = mount, parts[2]
    return best_type


def check_local(db_file: Path, mounts: Path = MOUNTS) -> None:
    """Refuse a SQLite ledger on a network filesystem.

    Raises:
        LedgerError: the folder of ``db_file`` is on SMB/CIFS, NFS or similar.
    """
    fstype = filesystem_type(db_file.parent, mounts)
    if fstype and fstype.lower() in NETWORK_FS:
        raise LedgerError(
            f"Sổ cái SQLite '{db_file}' nằm trên ổ mạng ({fstype}); SQLite không khóa an toàn trên ổ mạng. "
            "Hãy đặt tệp sổ cái trên ổ cục bộ, hoặc dùng PostgreSQL (ledger.url = 'postgresql+psycopg://…') "
            "khi nhiều máy dùng chung."
        )


def _enable_wal(cur: Any) -> None:
    """Switch the database to WAL, retrying while another process holds it.

    Changing the journal mode needs an exclusive lock and SQLite does not always call the busy
    handler for it (several processes opening a new ledger at once get "database is locked"
    at once), so the switch is retried here within the same busy budget. WAL is persistent:
    once any connection has switched, the pragma is a no-op for the others.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


READ_ONLY = "danhgia_read_only"  # execution option: this connection's transactions only read


def read_only(engine: Engine) -> Engine:
    """``engine`` for transactions that only read (SQLite: a deferred BEGIN, see
    :data:`READ_ONLY`; other engines: the same transactions)."""
    return engine.execution_options(**{READ_ONLY: True})


def _sqlite_engine(url: str, mounts: Path) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        db_file = Path(database)
        check_local(db_file, mounts)
        db_file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy own BEGIN (pysqlite would otherwise defer it and break IMMEDIATE).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # a writer takes the write lock at once (no deadlock upgrading a read); a reader
        # (READ_ONLY) takes none: the context of a decision, a check, the unit writer process
        # never wait for a writer, nor make one wait (issue 19)
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def make_engine(url: str, *, schema: str | None = None, mounts: Path = MOUNTS) -> Engine:
    """Create the engine for ``url``.

    Args:
        url: SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``).
        schema: PostgreSQL only: put the ledger's tables in this schema (search_path);
            used by the tests to give each test its own schema.
        mounts: the mount table to check for network filesystems (tests pass a fake one).

    Raises:
        LedgerError: the URL is invalid, or a SQLite file is on a network filesystem.
    """
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:  # sqlalchemy raises ArgumentError for a malformed URL
        raise LedgerError(f"Địa chỉ sổ cái không hợp lệ: '{url}' ({exc})") from exc
    if backend == "sqlite":
        return _sqlite_engine(url, mounts)
    connect_args: dict[str, Any] = {}
    if schema and backend == "postgresql":
        connect_args["options"] = f"-csearch_path={schema}"
    if backend == "postgresql" and "application_name" not in make_url(url).query:
        # names our sessions in pg_stat_activity (the operator sees who holds what; the
        # multi-watcher tests terminate exactly their own connections); a URL's own wins
        connect_args["application_name"] = APPLICATION_NAME
    try:
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except Exception as exc:  # missing driver, bad URL
        raise LedgerError(f"Không mở được sổ cái '{url}': {exc}") from exc
