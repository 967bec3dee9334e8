"""Cell access over python-calamine (the fast path) with real Excel coordinates.

A :class:`Grid` holds the values of one sheet from A1 (so row and column numbers are the
real Excel ones, even when the data does not start at A1). Values are what calamine gives:
``str``, ``float``, ``int``, ``bool``, ``date``/``datetime``/``time``/``timedelta``; empty
cells are ``""``. Formula cells hold their cached value (or ``""``): the reader never trusts
it (SPEC §8), it recomputes.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_A1_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


@functools.lru_cache(maxsize=1024)
def col_letter(col: int) -> str:
    """1 → ``A``, 27 → ``AA``."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int) -> str:
    """A1 address of 1-based (row, col)."""
    return f"{col_letter(col)}{row}"


@functools.lru_cache(maxsize=4096)  # a template's few hundred addresses, met in every file
def parse_a1(ref: str) -> tuple[int, int] | None:
    """``"D4"`` → (4, 4); ``None`` when not a single-cell reference."""
    m = _A1_RE.match(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


@dataclass
class Grid:
    """The values of one sheet; ``get(row, col)`` with 1-based Excel coordinates."""

    name: str
    rows: list[list[Any]] = field(default_factory=list)
    formulas: set[str] = field(default_factory=set)

    @property
    def max_row(self) -> int:
        return len(self.rows)

    @property
    def max_col(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def get(self, row: int, col: int) -> Any:
        if 1 <= row <= len(self.rows):
            r = self.rows[row - 1]
            if 1 <= col <= len(r):
                return r[col - 1]
        return ""

    def at(self, ref: str) -> Any:
        rc = parse_a1(ref)
        return self.get(*rc) if rc else ""

    def has_formula(self, ref: str) -> bool:
        return ref in self.formulas


class Book:
    """An opened workbook: sheet names and lazily loaded grids."""

    def __init__(self, path: Path, content: bytes | None = None) -> None:
        """``content``: the file's bytes as the pre-flight checked them, parsed instead of the
        file (which may have changed since)."""
        from python_calamine import CalamineWorkbook

        if content is not None:
            self._wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
        else:
            try:
                name = str(path)
                name.encode("utf-8")
            except UnicodeEncodeError:  # an undecodable file name (issue 17 ¶1): calamine wants UTF-8
                with open(path, "rb") as fh:
                    self._wb = CalamineWorkbook.from_filelike(fh)
            else:
                self._wb = CalamineWorkbook.from_path(name)
        self.sheet_names: list[str] = list(self._wb.sheet_names)
        self._grids: dict[str, Grid] = {}

    def grid(self, name: str, formulas: set[str] | None = None) -> Grid | None:
        """The grid of sheet ``name`` (``None`` when absent)."""
        if name not in self.sheet_names:
            return None
        if name not in self._grids:
            sheet = self._wb.get_sheet_by_name(name)
            self._grids[name] = Grid(name, sheet.to_python(skip_empty_area=False), formulas or set())
        return self._grids[name]

    def close(self) -> None:
        self._wb.close()
