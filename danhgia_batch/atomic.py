"""Atomic file writes any stage may use: a temp file beside the target, renamed over it on
success, so a crash never leaves a half-written output (SPEC §9). Outputs get the ordinary
mode of a new file, and the temp files of an interrupted write can be told apart and removed
(issue 17 ¶6, ¶8)."""

from __future__ import annotations

import os
import re
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

TEMP_SUFFIX = ".part"
_HOST = re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname())[:24] or "host"
# ".<stem>~<host>-<pid>.<random>.part": who wrote a leftover, so a later run can tell a dead
# writer's litter from a live one's temp file (issue 17 ¶6)
_TEMP_RE = re.compile(r"^\..*~(?P<host>[A-Za-z0-9-]+)-(?P<pid>[0-9]+)\.[^.]+\.part$")


def file_mode() -> int:
    """The mode of a new file under this process's umask (``0o666 & ~umask``; issue 17 ¶8)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read it the only other way
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success rename it over ``path`` atomically.

    The file gets the ordinary mode of a new file (the umask's, not ``mkstemp``'s 0600):
    readers of the outbox (units' accounts under the README's set-up) can open it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.stem.encode("utf-8", "surrogateescape")[:96].decode("utf-8", "ignore")  # room for the rest
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{stem}~{_HOST}-{os.getpid()}.", suffix=TEMP_SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


def is_stale_temp(name: str, age_seconds: float, stale_after: float) -> bool:
    """Whether ``name`` is the temp file of an interrupted :func:`atomic_path` write.

    True when its writer ran on this machine and is gone, or (any machine) when it is older
    than ``stale_after`` seconds: no live write takes that long.
    """
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return False
    if age_seconds > stale_after:  # also the litter of releases that did not name the writer
        return True
    m = _TEMP_RE.match(name)
    if m is None:
        return False
    if m["host"] != _HOST:
        return False
    pid = int(m["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def atomic_write_text(path: Path, text: str) -> Path:
    """Write a UTF-8 text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
