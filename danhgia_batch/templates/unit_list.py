"""Template 02 ``mau_02_tong_hop_don_vi.xlsx``: the unit list of one decider (SPEC §8).

Layout of sheet ``DanhSach``: title rows, the header fields (label in columns A:C, value in
D:G, reached through defined names), a row of group captions, the header row holding exactly
the labels of :func:`layout.unit_list_columns`, then :data:`DATA_ROWS` pre-formatted rows
with the total and grade-by-score formulas.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.worksheet import Worksheet

from .. import layout
from ..domain import Framework
from ..periods import Period
from ..settings import Settings
from .common import (
    LEADER_KEYS,
    Book,
    cell,
    define,
    grade_formula,
    has_leader_part,
    kpi_formula,
    leader_condition,
    period_title_formula,
    prepare_lists,
    print_setup,
    protect,
    sum_formula,
    validate,
    write_lists,
    write_meta,
)
from .help import write_help

DATA_ROWS = 200
TITLE = "DANH SÁCH TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ THÁNG"
HEADER_FIRST_ROW = 3  # 0-based: Excel row 4
LABEL_COLS = (0, 2)  # A:C
VALUE_COLS = (3, 6)  # D:G
SELF_CAPTION = "Cá nhân tự đánh giá"
FINAL_CAPTION = "Cấp có thẩm quyền đánh giá"

WIDTHS = {
    "stt": 5,
    "person_code": 11,
    "full_name": 24,
    "birth_date": 11,
    "position_title": 30,
    "position_code": 24,
    "category": 9,
    "group": 10,
    "self_total": 9,
    "self_grade": 8,
    "self_date": 11,
    "final_total": 10,
    "band_grade": 9,
    "final_grade": 9,
    "evaluator_name": 18,
    "evaluator_position": 17,
    "note": 22,
}
HINTS = {
    "period": "Dạng MM/YYYY, ví dụ 01/2022",
    "block": "Chọn trong danh sách",
    "decider_position": "Chọn trong danh sách",
    "decision_date": "Ngày/tháng/năm",
    "prepared_date": "Ngày/tháng/năm",
}


def _write_header_fields(book: Book, ws: Worksheet, last_col: int) -> int:
    """Header fields, one per row; returns the next free row (0-based)."""
    row = HEADER_FIRST_ROW
    for f in layout.UNIT_LIST_HEADER:
        label = f.label + (" *" if f.required else "")
        ws.merge_range(row, LABEL_COLS[0], row, LABEL_COLS[1], label, book.label(align="right"))
        ws.merge_range(row, VALUE_COLS[0], row, VALUE_COLS[1], "", book.input(f.kind, align="left", indent=1))
        define(book, f.name, layout.SHEET_UNIT_LIST, row, VALUE_COLS[0])
        validate(book, ws, f, row, VALUE_COLS[0], row)
        hint = HINTS.get(f.key)
        if hint:
            ws.merge_range(row, VALUE_COLS[1] + 1, row, VALUE_COLS[1] + 3, hint, book.hint())
        row += 1
    ws.merge_range(row, LABEL_COLS[0], row, VALUE_COLS[1], "Các ô có dấu * là bắt buộc.", book.hint())
    return row + 2


def _caption_row(book: Book, ws: Worksheet, row: int, columns: tuple[layout.Field, ...]) -> None:
    """Group captions above the self and authority columns; other cells framed, empty."""
    keys = [c.key for c in columns]
    self_cols = [i for i, k in enumerate(keys) if k.startswith("self_")]
    final_cols = [i for i, k in enumerate(keys) if k.startswith("final_") or k == "band_grade"]
    for i in range(len(columns)):
        if i not in self_cols and i not in final_cols:
            ws.write_blank(row, i, None, book.header())
    for cols, caption in ((self_cols, SELF_CAPTION), (final_cols, FINAL_CAPTION)):
        ws.merge_range(row, min(cols), row, max(cols), caption, book.header())


def write_unit_list(
    path: Path, settings: Settings, framework: Framework, period: Period | None = None, regime: Any = None
) -> Path:
    """Write template 02 for ``framework`` to ``path`` (``period``: typed in beforehand, and
    the title says "THÁNG" or "QUÝ" accordingly, SPEC §13)."""
    book = Book(path, layout.KIND_TITLES[layout.KIND_UNIT_LIST])
    leaders = has_leader_part(framework)
    prepare_lists(book, settings.codes, leaders)
    ws = book.wb.add_worksheet(layout.SHEET_UNIT_LIST)
    write_help(book, layout.KIND_UNIT_LIST, settings, framework, regime)
    write_lists(book, settings.codes, leaders)
    write_meta(book, layout.KIND_UNIT_LIST, framework)

    columns = layout.unit_list_columns(framework, settings.catalogue.caps_for(framework.id))
    col_of = {c.key: i for i, c in enumerate(columns)}
    last_col = len(columns) - 1
    for i, c in enumerate(columns):
        width = WIDTHS.get(c.key, 11 if c.key.startswith("final_") else 9)
        ws.set_column(i, i, width, None if c.formula else book.column(c.kind))

    ws.set_row(0, 24)
    # The title names the period typed in KY_DANH_GIA however the clerk typed it (SPEC §13:
    # "THÁNG 03/2026", "QUÝ I/2026"); cached text for viewers that do not recalculate.
    prefix = TITLE.removesuffix(" THÁNG")
    empty = "QUÝ …/…" if period is not None and period.quarter else "THÁNG …/…"
    title = period_title_formula("KY_DANH_GIA", prefix, empty)
    ws.merge_range(0, 0, 0, last_col, "", book.title())
    ws.write_formula(0, 0, title, book.title(), f"{prefix} {period.title_upper if period else empty}")
    ws.merge_range(1, 0, 1, last_col, layout.KIND_TITLES[layout.KIND_UNIT_LIST], book.subtitle())
    caption_row = _write_header_fields(book, ws, last_col)
    if period is not None:
        ws.write_string(HEADER_FIRST_ROW, VALUE_COLS[0], period.label, book.input("period", align="left", indent=1))
    header_row = caption_row + 1
    _caption_row(book, ws, caption_row, columns)
    ws.set_row(header_row, 64)
    for i, c in enumerate(columns):
        ws.write_string(header_row, i, c.label, book.header())

    first, last = header_row + 1, header_row + DATA_ROWS
    parts = framework.parts
    self_refs = [col_of[f"self_{p.code}"] for p in parts]
    final_refs = [col_of[f"final_{p.code}"] for p in parts]
    for r in range(first, last + 1):
        for i, c in enumerate(columns):
            if not c.formula:
                ws.write_blank(r, i, None, book.input(c.kind))
        self_args = [f"{cell(r, min(self_refs))}:{cell(r, max(self_refs))}"]
        final_args = [f"{cell(r, min(final_refs))}:{cell(r, max(final_refs))}"]
        formula_fmt = book.formula(bold=True)
        bounded = framework.has_bonus
        ws.write_formula(r, col_of["self_total"], sum_formula(self_args, bounded=bounded), formula_fmt, "")
        ws.write_formula(r, col_of["final_total"], sum_formula(final_args, bounded=bounded), formula_fmt, "")
        band = grade_formula(cell(r, col_of["final_total"]), settings.grading)
        ws.write_formula(r, col_of["band_grade"], band, book.formula(kind="grade"), "")
        for p in parts:
            if p.computed:  # SPEC §13: Decree 335's task points from the inputs of the row
                refs = {k: cell(r, col_of[f"kpi_{k}"]) for k, _ in layout.KPI_INPUTS + layout.KPI_LEADER_INPUTS}
                # leaders and deputies: the mean of six (their position code in the hidden list)
                leader = leader_condition(book, cell(r, col_of["position_code"])) if p.leaders else ""
                formula = kpi_formula(refs, p.max, leader)
                for side in ("self", "final"):
                    ws.write_formula(r, col_of[f"{side}_{p.code}"], formula, book.formula(), "")

    for i, c in enumerate(columns):
        if c.kind == "score" and c.part is not None:
            part = framework.part(c.part)
            validate(book, ws, c, first, i, last, low=part.min, high=part.max)
        elif c.key in LEADER_KEYS:  # a leader component: a percentage (SPEC §13)
            validate(book, ws, c, first, i, last, low=Decimal(0), high=Decimal(100))
        else:
            validate(book, ws, c, first, i, last)

    ws.freeze_panes(header_row + 1, col_of["full_name"] + 1)
    protect(ws)
    print_setup(ws, landscape=True, repeat=(caption_row, header_row))
    ws.activate()
    book.close()
    return path
