"""Text from outside (file names from the disk, cell text from a submission) made safe to
store, print, log and write into a workbook (issue 17 ¶1, ¶4).

- A file name that is not valid UTF-8 (an SMB share with a legacy code page) reaches Python
  with *surrogate escapes* (``\\udcff``); no database, terminal or JSON encoder accepts them.
  :func:`fs_text` shows those bytes as ``\\xff`` (the file itself keeps its name on disk) and
  :func:`find_path` finds the file again from that text.
- Control characters (NUL…) and the bidirectional overrides (U+202E "right-to-left
  override", which makes a name read backwards) are made visible by :func:`visible`: an
  issue message, a log line or a cell never carries them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# C0/C1 controls (tab and newline kept), DEL, zero-width and bidirectional controls
INVISIBLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def fs_text(text: str | os.PathLike[str]) -> str:
    """``text`` (a path or a name) as valid UTF-8 text: undecodable bytes become ``\\xNN``."""
    s = os.fspath(text)
    if not _SURROGATE_RE.search(s):
        return s
    try:
        raw = s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return s.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _escape(m: re.Match[str]) -> str:
    cp = ord(m.group())
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def visible(text: str) -> str:
    """``text`` with undecodable bytes, control and bidirectional characters shown as escapes."""
    s = fs_text(text)
    return INVISIBLE_RE.sub(_escape, s) if INVISIBLE_RE.search(s) else s


def find_path(text: str, base: Path | None = None) -> Path:
    """The path whose :func:`fs_text` is ``text`` (relative to ``base``), as on the disk.

    A name stored with ``\\xNN`` escapes is looked up in its folder; any other text is the
    path itself (whether it exists or not).
    """
    p = Path(text)
    if base is not None and not p.is_absolute():
        p = base / p
    if "\\x" not in text or os.path.lexists(p):
        return p
    cur = Path(p.anchor) if p.is_absolute() else Path()
    for part in p.parts[1:] if p.is_absolute() else p.parts:
        nxt = cur / part
        if not os.path.lexists(nxt):
            try:
                found = [name for name in os.listdir(cur or ".") if fs_text(name) == part]
            except OSError:
                return p
            if not found:
                return p
            nxt = cur / found[0]
        cur = nxt
    return cur
