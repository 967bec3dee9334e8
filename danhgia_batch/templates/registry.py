"""Template 00 ``danh_muc.xlsx``: the registry of units (``DonVi``) and people (``CanBo``).

Each sheet: a title row, a blank row, the header row (labels of :data:`layout.UNIT_COLUMNS` /
:data:`layout.PEOPLE_COLUMNS`) and pre-formatted input rows with drop-downs.
"""

from __future__ import annotations

from pathlib import Path

from .. import layout
from ..settings import Settings
from .common import Book, prepare_lists, print_setup, protect, validate, write_lists, write_meta
from .help import write_help

HEADER_ROW = 2  # 0-based: Excel row 3
UNIT_ROWS = 300
PEOPLE_ROWS = 1000
WIDTHS = {
    "unit_code": 14,
    "unit_name": 42,
    "block": 16,
    "unit_kind": 18,
    "parent_code": 16,
    "emails": 30,
    "email": 26,
    "person_code": 13,
    "full_name": 26,
    "birth_date": 12,
    "position_title": 24,
    "position_code": 20,
    "category": 11,
    "group": 12,
    "active": 12,
}
TITLES = {
    layout.SHEET_UNITS: "DANH MỤC ĐƠN VỊ",
    layout.SHEET_PEOPLE: "DANH MỤC CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC, NGƯỜI LAO ĐỘNG",
}


def _table(book: Book, sheet: str, columns: tuple[layout.Field, ...], rows: int) -> None:
    ws = book.wb.add_worksheet(sheet)
    last_col = len(columns) - 1
    for i, c in enumerate(columns):
        ws.set_column(i, i, WIDTHS.get(c.key, 14), book.column(c.kind))
    ws.set_row(0, 24)
    ws.merge_range(0, 0, 0, last_col, TITLES[sheet], book.title())
    ws.set_row(HEADER_ROW, 36)
    for i, c in enumerate(columns):
        ws.write_string(HEADER_ROW, i, c.label, book.header())
    first, last = HEADER_ROW + 1, HEADER_ROW + rows
    for r in range(first, last + 1):
        for i, c in enumerate(columns):
            ws.write_blank(r, i, None, book.input(c.kind))
    for i, c in enumerate(columns):
        validate(book, ws, c, first, i, last)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    protect(ws)
    print_setup(ws, landscape=sheet == layout.SHEET_PEOPLE, repeat=(HEADER_ROW, HEADER_ROW))


def write_registry(path: Path, settings: Settings) -> Path:
    """Write template 00 to ``path``."""
    book = Book(path, layout.KIND_TITLES[layout.KIND_REGISTRY])
    prepare_lists(book, settings.codes)
    _table(book, layout.SHEET_UNITS, layout.UNIT_COLUMNS, UNIT_ROWS)
    _table(book, layout.SHEET_PEOPLE, layout.PEOPLE_COLUMNS, PEOPLE_ROWS)
    write_help(book, layout.KIND_REGISTRY, settings, None)
    write_lists(book, settings.codes)
    write_meta(book, layout.KIND_REGISTRY, None)
    book.close()
    return path
