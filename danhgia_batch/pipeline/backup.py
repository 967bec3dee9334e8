"""``danhgia backup`` / ``danhgia restore``: the ledger's copy, taken safely while ``watch`` runs.

SQLite: the online backup API (:mod:`~danhgia_batch.ledger.backup`). PostgreSQL: the server's
own tools, ``pg_dump`` / ``pg_restore``, which this command names instead of running (the
administrator of a server database holds its credentials and schedules its dumps).
The archive (``archive/``) holds files that never change once written: an ordinary copy of
that folder is a backup of it (README, "Sao lưu").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..ledger.backup import backup_sqlite, check_ledger_file, restore_sqlite
from ..settings import Settings
from .admin import require_workdir, sqlite_file

BACKUP_DIR = "backup"
PG_HINT = (
    "Sổ cái là PostgreSQL: hãy sao lưu bằng công cụ của máy chủ, ví dụ "
    "'pg_dump -Fc -f danhgia.dump <tên CSDL>' và khôi phục bằng 'pg_restore --clean -d <tên CSDL> danhgia.dump' "
    "(xem README, mục Sao lưu)."
)


@dataclass
class BackupResult:
    """Result of :func:`backup_ledger` / :func:`restore_ledger` (``--json`` prints ``to_dict()``)."""

    path: Path
    ledger: Path
    files: int
    exit_code = 0

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "ledger": str(self.ledger), "files": self.files}


def _sqlite_file(settings: Settings) -> Path:
    """The SQLite file of the ledger of ``settings``.

    Raises:
        UsageError: the ledger is on PostgreSQL (the message names pg_dump / pg_restore),
            or is not a file.
    """
    db = sqlite_file(settings)
    if db is None:
        if settings.ledger_url.startswith("postgres"):
            raise UsageError(PG_HINT)
        raise UsageError(f"Sổ cái '{settings.ledger_url}' không phải một tệp SQLite; không sao lưu được.")
    return db


def backup_ledger(settings: Settings, dest: Path | None = None, *, now: datetime | None = None) -> BackupResult:
    """Copy the ledger to ``dest`` (a file, or a folder to put a dated file in; default
    ``backup/`` of the work folder), consistent even while ``danhgia watch`` writes to it.

    Raises:
        UsageError: PostgreSQL ledger, or not in a work folder.
        LedgerError: the ledger is missing or cannot be read; ``dest`` cannot be written.
    """
    require_workdir(settings)
    db = _sqlite_file(settings)
    name = f"danhgia-{(now or datetime.now()):%Y%m%d-%H%M%S}.sqlite3"
    if dest is None:
        dest = settings.workdir / BACKUP_DIR / name
    elif dest.is_dir() or str(dest).endswith(("/", "\\")):
        dest = dest / name
    if dest.exists():
        raise UsageError(f"Tệp {dest} đã có; hãy chọn tên khác để không ghi đè bản sao lưu cũ.")
    path = backup_sqlite(db, dest)
    return BackupResult(path, db, check_ledger_file(path))


def restore_ledger(settings: Settings, source: Path, *, force: bool = False) -> BackupResult:
    """Replace the work folder's ledger with the backup ``source``.

    A ledger that already holds files is replaced only with ``force``, and is itself first
    backed up beside it (``backup/truoc-khoi-phuc-….sqlite3``): a restore is never the way
    data is lost. Stop ``danhgia watch`` first.

    Raises:
        UsageError: PostgreSQL ledger; ``source`` is not a ledger backup; the ledger holds
            files and ``force`` was not given.
    """
    require_workdir(settings)
    db = _sqlite_file(settings)
    check_ledger_file(source)
    if _files_in(db) > 0:
        if not force:
            raise UsageError(
                f"Sổ cái {db} đang có dữ liệu; muốn thay bằng bản sao lưu thì thêm --force "
                "(sổ cái hiện tại sẽ được sao lưu trước)."
            )
        stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
        backup_sqlite(db, settings.workdir / BACKUP_DIR / f"truoc-khoi-phuc-{stamp}.sqlite3")
    files = restore_sqlite(source, db)
    return BackupResult(source, db, files)


def _files_in(db: Path) -> int:
    """Files recorded in the ledger ``db`` (0 when it is missing, empty or unreadable)."""
    try:
        return check_ledger_file(db) if db.is_file() else 0
    except UsageError:
        return 0
