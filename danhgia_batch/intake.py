"""Inbox intake: which files are submissions, where they came from, their content hash.

SPEC §9: files arrive in ``inbox/`` or ``inbox/<unit code>/`` (one level). Ignored, never
touched: Office and LibreOffice lock files (``~$*``, ``.~lock*``), temporary files (``*.tmp``,
``*.part``, ``*.crdownload``), hidden files and folders (leading dot; on Windows shares also
``Thumbs.db`` and ``desktop.ini``), symlinks and anything that is not a regular file.

Spreadsheet-like files are *taken* even when they are not .xlsx (``.xlsx .xlsm .xls .xlsb
.ods .csv``): the reader rejects them with a reason the clerk can act on ("save as .xlsx")
instead of leaving them in the inbox forever. Any other file (a .docx, a .pdf, a photo) is
ignored and left where it is, for the block administrator to see.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

TAKEN_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv"})
TEMP_SUFFIXES = frozenset({".tmp", ".part", ".crdownload", ".partial", ".swp"})
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
CHUNK = 1 << 20


def _ignored_name(name: str) -> bool:
    low = name.lower()
    return (
        low.startswith(("~$", ".~lock", "."))
        or low in IGNORED_NAMES
        or any(low.endswith(suffix) for suffix in TEMP_SUFFIXES)
    )


def is_candidate(path: Path, inbox: Path) -> bool:
    """Whether ``path`` is a submission to take from ``inbox``.

    True for a regular, non-hidden, non-temporary spreadsheet-like file directly in the
    inbox or in a unit folder one level below it.
    """
    try:
        rel = path.relative_to(inbox)
    except ValueError:
        return False
    if not 1 <= len(rel.parts) <= 2 or any(_ignored_name(part) for part in rel.parts):
        return False
    if path.suffix.lower() not in TAKEN_SUFFIXES:
        return False
    try:
        st = path.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):  # symlinks, sockets, folders: never followed
        return False
    if len(rel.parts) == 2:
        try:
            folder = (inbox / rel.parts[0]).lstat()
        except OSError:
            return False
        if not stat.S_ISDIR(folder.st_mode):
            return False
    return True


def scan_inbox(inbox: Path) -> list[Path]:
    """Candidate files of ``inbox`` and its unit folders, in arrival order.

    Arrival order is the server-side inode change time (when the file landed on our side),
    then the name; the client's modification time is not trusted (issue 6 ¶2).
    """
    if not inbox.is_dir():
        return []
    found: list[tuple[int, str, Path]] = []
    with os.scandir(inbox) as top:
        for entry in top:
            if entry.is_dir(follow_symlinks=False) and not _ignored_name(entry.name):
                with os.scandir(entry.path) as sub:
                    paths = [Path(e.path) for e in sub]
            else:
                paths = [Path(entry.path)]
            for p in paths:
                if is_candidate(p, inbox):
                    found.append((p.lstat().st_ctime_ns, str(p.relative_to(inbox)), p))
    return [p for _, _, p in sorted(found)]


def unit_folder(path: Path, inbox: Path) -> str | None:
    """The unit folder ``path`` was dropped in (``inbox/<unit>/file``), or ``None`` at the top."""
    try:
        rel = path.relative_to(inbox)
    except ValueError:
        return None
    return rel.parts[0] if len(rel.parts) == 2 else None


def sha256_file(path: Path) -> str:
    """SHA-256 of the file's bytes (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_settled(path: Path, previous: tuple[int, int] | None) -> tuple[bool, tuple[int, int] | None]:
    """Whether ``path`` kept the same (size, mtime) since ``previous`` (partial SMB copies).

    Returns the verdict and the signature to pass next time (``None`` when the file is gone).
    """
    try:
        st = path.stat()
    except OSError:
        return False, None
    sig = (st.st_size, st.st_mtime_ns)
    return previous == sig, sig
