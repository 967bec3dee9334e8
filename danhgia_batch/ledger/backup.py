"""Back up and restore a SQLite ledger with SQLite's online backup API.

A plain file copy of a ledger in WAL mode can miss the transactions still in the ``-wal``
file, or copy a page half-written by a running ``danhgia watch``. The online backup API
(``sqlite3.Connection.backup``) copies a consistent snapshot while writers go on; the copy is
checked (``PRAGMA integrity_check``) before it is renamed into place. A PostgreSQL ledger is
backed up with ``pg_dump`` (README, "Sao lưu").
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from ..errors import LedgerError, UsageError

BUSY_TIMEOUT_S = 30.0


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)


def check_ledger_file(path: Path) -> int:
    """The number of files recorded in the SQLite ledger ``path`` after checking it is one.

    Raises:
        UsageError: ``path`` is missing, not a SQLite database, damaged, or not a ledger.
    """
    if not path.is_file():
        raise UsageError(f"Không tìm thấy tệp sao lưu {path}.")
    try:
        with contextlib.closing(_connect(path, read_only=True)) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if ok != "ok" or not {"schema_version", "files"} <= tables:
                raise UsageError(f"Tệp {path} không phải bản sao lưu sổ cái danhgia còn nguyên vẹn.")
            return int(conn.execute("SELECT count(*) FROM files").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"Tệp {path} không phải bản sao lưu sổ cái danhgia ({exc}).") from exc


def backup_sqlite(db_file: Path, dest: Path) -> Path:
    """Copy the ledger ``db_file`` to ``dest`` (a consistent snapshot, even while it is written).

    Raises:
        LedgerError: the ledger does not exist or cannot be read; ``dest`` cannot be written.
    """
    if not db_file.is_file():
        raise LedgerError(f"Không có sổ cái SQLite {db_file} để sao lưu.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    tmp.unlink(missing_ok=True)
    try:
        with contextlib.closing(_connect(db_file)) as src, contextlib.closing(_connect(tmp)) as dst:
            src.backup(dst)  # one step: a snapshot as of one moment (WAL readers do not block writers)
            dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise LedgerError(f"Không sao lưu được sổ cái {db_file}: {exc}") from exc
    check_ledger_file(tmp)
    os.replace(tmp, dest)
    return dest


def restore_sqlite(src_file: Path, db_file: Path) -> int:
    """Replace the ledger ``db_file`` with the backup ``src_file``; return its number of files.

    The copy goes through the backup API into the target connection, so SQLite replaces the
    target's pages and its WAL consistently (a file copy over a ledger in WAL mode would not).

    Raises:
        UsageError: ``src_file`` is not an intact ledger backup.
        LedgerError: the target cannot be written (e.g. a watcher holds it).
    """
    files = check_ledger_file(src_file)
    db_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            contextlib.closing(_connect(src_file, read_only=True)) as src,
            contextlib.closing(_connect(db_file)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as exc:
        raise LedgerError(f"Không khôi phục được vào sổ cái {db_file}: {exc}") from exc
    return files
