"""Inbox intake: which files are submissions, where they came from, their content hash.

SPEC §9: files arrive in ``inbox/`` or ``inbox/<unit code>/`` (one level). Ignored, never
touched: Office and LibreOffice lock files (``~$*``, ``.~lock*``), temporary files (``*.tmp``,
``*.part``, ``*.crdownload``), hidden files and folders (leading dot; on Windows shares also
``Thumbs.db`` and ``desktop.ini``). Symlinks, FIFOs, folders named like a spreadsheet and
anything else that is not a regular file are never opened nor moved: :func:`scan_odd` lists them
so that a run reports them (issue 17 ¶7).

A file is taken once it has *settled* (:func:`unsettled_reason`, the one predicate of
``process``, ``watch`` and ``check --wait``).

Spreadsheet-like files are *taken* even when they are not .xlsx (``.xlsx .xlsm .xls .xlsb
.ods .csv``): the reader rejects them with a reason the clerk can act on ("save as .xlsx")
instead of leaving them in the inbox forever. Any other file (a .docx, a .pdf, a photo) is
ignored and left where it is, for the block administrator to see.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import time
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import NotSettledError

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


def _odd_kind(mode: int) -> str | None:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return None


def scan_odd(inbox: Path) -> list[tuple[Path, str]]:
    """Entries of ``inbox`` that are no submission and yet no ordinary thing to ignore (issue 17 ¶7).

    Symlinks, FIFOs, sockets and devices anywhere a submission could be; a folder named like a
    spreadsheet (``x.xlsx/``) at the top; any folder inside a unit folder (never looked into).
    Hidden and temporary names are ignored as always. Returns ``(path, kind)`` pairs, sorted.
    """
    if not inbox.is_dir():
        return []
    odd: list[tuple[Path, str]] = []

    def visit(folder: Path, depth: int) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if _ignored_name(entry.name):
                continue
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            kind = _odd_kind(mode)
            if stat.S_ISDIR(mode):
                if depth == 1 and Path(entry.name).suffix.lower() not in TAKEN_SUFFIXES:
                    visit(Path(entry.path), depth + 1)
                    continue
                kind = "folder"
            if kind is not None:
                odd.append((Path(entry.path), kind))

    visit(inbox, 1)
    return sorted(odd)


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


# ---- settling: is a file complete enough to be taken? (SPEC §9) ----------------------------
#
# One predicate, :func:`unsettled_reason`, for ``process``, ``watch`` and ``check --wait``. A file
# is settled when (1) its signature (size, mtime, inode, ctime) has not changed for
# ``settle_seconds``; (2) no Office / LibreOffice lock file sits beside it (``~$name``,
# ``.~lock.name#``: the clerk still has it open, or Excel is saving it); (3) if it starts like a
# zip (every .xlsx does), its central directory is readable (a copy that stalled, or a share
# that pre-allocated the size before writing the bytes). A file that does not start like a zip
# (an old .xls, a CSV renamed) is not held: the reader rejects it with a reason the clerk needs.
# The callers only differ in timing: the watcher measures stability with its own monotonic
# clock between events and bounds the holds by ``lock_wait_seconds``; ``process`` and
# ``check --wait`` also trust the file's own times (ctime is the server's clock) and poll.

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
GONE, CHANGING, LOCKED, INCOMPLETE = "gone", "changing", "locked", "incomplete"
HOLDS = (LOCKED, INCOMPLETE)  # stable, but not to be taken yet
# A zip that has stayed unreadable and unchanged this long is not a copy in progress but a
# damaged file (a client that died mid-copy, a preallocated file never filled): it is handed to
# the reader, which rejects it with an error workbook, instead of staying in the inbox forever.
INCOMPLETE_LIMIT = 900.0


@dataclass(frozen=True)
class Signature:
    """What we compare between two looks at a file.

    ``ctime_ns`` changes on every write on POSIX (a client cannot set it back), so an in-place
    rewrite that restores size and mtime still changes the signature there.
    """

    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Signature:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)

    def age(self, now: float) -> float:
        """Seconds since the file last changed by its own times (``now``: wall clock)."""
        return now - max(self.mtime_ns, self.ctime_ns) / 1e9


def signature_of(path: Path) -> Signature | None:
    """Signature of a regular file, or ``None`` if it is gone or not a regular file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return Signature.of(st) if stat.S_ISREG(st.st_mode) else None


def lock_names(name: str) -> set[str]:
    """Names of the lock files Excel, Word-style truncation and LibreOffice put beside ``name``."""
    names = {f"~${name}", f".~lock.{name}#"}
    if len(name) > 2:
        names.add(f"~${name[2:]}")
    return {n.casefold() for n in names}


def folder_names(folder: Path) -> frozenset[str]:
    """Casefolded names in ``folder`` (empty if it cannot be listed)."""
    try:
        with os.scandir(folder) as entries:
            return frozenset(e.name.casefold() for e in entries)
    except OSError:
        return frozenset()


def has_lock_file(path: Path, siblings: Collection[str] | None = None) -> bool:
    """True if a lock file of ``path`` exists in its folder (case-insensitive, as on SMB).

    ``siblings``: the folder's casefolded names (:func:`folder_names`), when the caller
    looks at many files of one folder; listed here otherwise.
    """
    names = folder_names(path.parent) if siblings is None else siblings
    return not lock_names(path.name).isdisjoint(names)


def zip_incomplete(path: Path, size: int) -> bool:
    """True if ``path`` is empty, pre-allocated, or a zip whose central directory is unreadable.

    A usual zip ends with its end-of-central-directory record (no comment): when that record
    and the central directory it points to are where they belong, the directory is readable
    (:func:`_directory_in_place`) without parsing every entry, which zipfile does in Python
    (~0.1 ms a file, the whole start of a city month's run: issue 19); any other zip (a comment,
    zip64, a record that does not fit) is opened with zipfile, as before. A copy in progress,
    sequential or with holes, fails both ways alike (``tests/test_watch.py``); a directory in place
    whose entries zipfile would refuse (a malformed extra field) is not a copy in progress, and
    the reader's pre-flight rejects the file.
    """
    if size == 0:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            if head == b"\0\0\0\0":
                return True
            if head not in ZIP_MAGIC:
                return False
            if _directory_in_place(fh, size):
                return False
            with zipfile.ZipFile(fh) as zf:
                zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):  # OSError: e.g. a sharing violation
        return True
    return False


_EOCD = struct.Struct("<4s4H2LH")  # signature, disk numbers, entry counts, size, offset, comment length
_EOCD_SIGNATURE = b"PK\x05\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_CENTRAL = struct.Struct("<28xHHH")  # a central header's name, extra field and comment lengths
_CENTRAL_SIZE = 46  # a central header before its name, extra field and comment


def _directory_in_place(fh: BinaryIO, size: int) -> bool:
    """The file ends with a comment-less end-of-central-directory record of a one-disk zip whose
    central directory fills the bytes just before it: its headers, walked by their lengths,
    each start with a central header's signature and end exactly at the record."""
    if size < _EOCD.size:
        return False
    fh.seek(size - _EOCD.size)
    record = fh.read(_EOCD.size)
    if len(record) != _EOCD.size:  # shorter than it was a moment ago
        return False
    sig, disk, cd_disk, entries_here, entries, cd_size, cd_offset, comment = _EOCD.unpack(record)
    if sig != _EOCD_SIGNATURE or comment or disk or cd_disk or entries_here != entries or entries == 0xFFFF:
        return False
    if cd_offset + cd_size != size - _EOCD.size:
        return False  # zip64, a prefixed file, or a directory that does not fit: zipfile decides
    fh.seek(cd_offset)
    directory = fh.read(cd_size)
    if len(directory) != cd_size:
        return False
    at = 0
    for _ in range(entries):
        if directory[at : at + 4] != _CENTRAL_SIGNATURE or at + _CENTRAL_SIZE > cd_size:
            return False
        name, extra, note = _CENTRAL.unpack_from(directory, at)
        at += _CENTRAL_SIZE + name + extra + note
    return at == cd_size


def unsettled_reason(
    path: Path,
    *,
    previous: Signature | None,
    stable_for: float,
    settle_seconds: float,
    file_times: bool = False,
    siblings: Collection[str] | None = None,
) -> tuple[str, Signature | None]:
    """Why ``path`` is not settled yet (``""`` when it is), and its signature now.

    Args:
        previous: the signature seen ``stable_for`` seconds ago (``None``: first look).
        stable_for: seconds the caller has seen ``previous`` unchanged (its own clock).
        settle_seconds: how long the signature must stay unchanged.
        file_times: also count the time since the file's own mtime / ctime as stable.
        siblings: the casefolded names of the file's folder, if the caller has them.

    Returns:
        ``("gone", None)``, ``("changing", sig)`` (changed, or not stable long enough),
        ``("locked", sig)``, ``("incomplete", sig)`` (an unreadable zip, for at most
        :data:`INCOMPLETE_LIMIT` seconds unchanged), or ``("", sig)`` when settled.
    """
    sig = signature_of(path)
    if sig is None:
        return GONE, None
    if previous is not None and sig != previous:
        return CHANGING, sig
    age = max(stable_for, sig.age(time.time())) if file_times else stable_for
    if age < settle_seconds:
        return CHANGING, sig
    if has_lock_file(path, siblings):
        return LOCKED, sig
    if max(stable_for, sig.age(time.time())) < INCOMPLETE_LIMIT and zip_incomplete(path, sig.size):
        return INCOMPLETE, sig
    return "", sig


def wait_until_settled(
    paths: Sequence[Path],
    settle_seconds: float,
    *,
    timeout: float,
    wait_holds: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[Path, str]:
    """Poll ``paths`` until each is settled (:func:`unsettled_reason`) or ``timeout`` passes.

    ``process`` waits only for files still changing (``wait_holds=False``: a file held by a
    lock file or an unreadable zip is left for a later run at once); ``check --wait`` waits
    for those too. Returns the paths still unsettled at the end, with the reason.
    """
    start = clock()
    seen = {p: (signature_of(p), start) for p in paths}
    while True:
        now = clock()
        left: dict[Path, str] = {}
        listed: dict[Path, frozenset[str]] = {}  # one listing per folder and pass, not per file
        for p, (prev, since) in seen.items():
            names = listed.get(p.parent)
            if names is None:
                names = listed[p.parent] = folder_names(p.parent)
            reason, sig = unsettled_reason(
                p, previous=prev, stable_for=now - since, settle_seconds=settle_seconds, file_times=True, siblings=names
            )
            if reason == CHANGING and sig != prev:
                seen[p] = (sig, now)
            if reason:
                left[p] = reason
        seen = {p: seen[p] for p in left}
        waiting = [p for p, r in left.items() if r == CHANGING or (wait_holds and r in HOLDS)]
        remaining = timeout - (now - start)
        if not waiting or remaining <= 0:
            return left
        sleep(max(0.01, min(remaining, 0.25, settle_seconds / 4 or 0.25)))


_REASON_TEXT = {
    GONE: "không còn tồn tại",
    CHANGING: "vẫn đang thay đổi (đang sao chép?)",
    LOCKED: "đang mở trong Excel hoặc LibreOffice (có tệp khóa ~$ bên cạnh)",
    INCOMPLETE: "chưa chép xong (tệp zip chưa đọc được)",
}


def wait_for_files(paths: Sequence[Path], settle_seconds: float, timeout: float) -> None:
    """``check --wait``: wait until every file of ``paths`` settles, at most ``timeout`` seconds.

    Raises:
        NotSettledError: a file is still unsettled at the bound; the message names it and why.
    """
    left = wait_until_settled(paths, settle_seconds, timeout=timeout, wait_holds=True)
    if left:
        why = "; ".join(f"{p.name} {_REASON_TEXT.get(r, r)}" for p, r in sorted(left.items()))
        raise NotSettledError(f"Đã chờ {timeout:g} giây nhưng tệp chưa sẵn sàng: {why}. Hãy thử lại sau.")
