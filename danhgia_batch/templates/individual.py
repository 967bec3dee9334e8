"""Template 01 ``mau_01_phieu_ca_nhan.xlsx``: the individual self-assessment form (SPEC §8).

Sheet ``Phieu``: title, the person's header fields, the criteria table (columns of
:data:`layout.INDIVIDUAL_TABLE`; one row per part with subtotal formulas, one per criterion
with input cells, a total row), the result cells, the decision fields and signature lines.
Every header and result field is reached through its defined name.
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
    fit_row,
    grade_formula,
    has_leader_part,
    kpi_formula,
    leader_condition,
    number,
    prepare_lists,
    print_setup,
    protect,
    sum_formula,
    validate,
    write_lists,
    write_meta,
)
from .help import write_help

TITLE = "PHIẾU TỰ ĐÁNH GIÁ, XẾP LOẠI HẰNG THÁNG"
WIDTHS = (8, 50, 9, 10, 14)  # Mã, Tiêu chí, Điểm tối đa, Điểm tự chấm, Điểm cấp có thẩm quyền chấm
LAST_COL = len(WIDTHS) - 1
LABEL_COLS = (0, 1)  # A:B
VALUE_COLS = (2, 4)  # C:E

# Header fields shown above the table; the rest (decision) below the results.
TOP_KEYS = (
    "period",
    "unit_code",
    "unit_name",
    "block",
    "person_code",
    "full_name",
    "birth_date",
    "position_title",
    "position_code",
    "category",
    "group",
)
TALL_KEYS = ("comments", "note")
# the defined name of the form's position code (MA_CHUC_DANH): it chooses a leader's formula
POSITION_NAME = next(f.name for f in layout.INDIVIDUAL_HEADER if f.key == "position_code")
ONE_PAGE_CRITERIA = 16


def _section(book: Book, ws: Worksheet, row: int, text: str) -> int:
    ws.merge_range(row, 0, row, LAST_COL, text, book.fmt(bold=True, align="left"))
    return row + 1


def _fields(book: Book, ws: Worksheet, row: int, fields: list[layout.Field]) -> int:
    """Label (A:B) and value (C:E) rows for ``fields``; returns the next free row."""
    for f in fields:
        label = f.label + (" *" if f.required and not f.formula else "")
        ws.merge_range(row, LABEL_COLS[0], row, LABEL_COLS[1], label, book.label(align="left", indent=1))
        if f.key in TALL_KEYS:
            ws.set_row(row, 48)
        if f.formula:
            fmt = book.formula(bold=True, kind=f.kind)
            ws.merge_range(row, VALUE_COLS[0], row, VALUE_COLS[1], "", fmt)
        else:
            fmt = book.input(f.kind, align="left", indent=1, valign="top" if f.key in TALL_KEYS else "vcenter")
            ws.merge_range(row, VALUE_COLS[0], row, VALUE_COLS[1], "", fmt)
            bounds = (Decimal(0), Decimal(100)) if f.key in LEADER_KEYS else (None, None)  # percentages
            validate(book, ws, f, row, VALUE_COLS[0], row, low=bounds[0], high=bounds[1])
        define(book, f.name, layout.SHEET_INDIVIDUAL, row, VALUE_COLS[0])
        row += 1
    return row


def _criteria_table(book: Book, ws: Worksheet, row: int, framework: Framework) -> tuple[int, int]:
    """Write the criteria table from ``row``; returns (total row, next free row)."""
    ws.set_row(row, 36)
    for i, f in enumerate(layout.INDIVIDUAL_TABLE):
        ws.write_string(row, i, f.label, book.header())
    row += 1
    part_rows: list[int] = []
    part_fmt = book.fmt(bold=True, border=1, bg_color="#F2F2F2", text_wrap=True)
    part_code_fmt = book.fmt(bold=True, border=1, bg_color="#F2F2F2", align="center")
    text_fmt = book.fmt(border=1, text_wrap=True)
    code_fmt = book.fmt(border=1, align="center")
    num_fmt = book.fmt(border=1, align="center", num_format="0.##")
    score_field = layout.INDIVIDUAL_TABLE[3]
    for part in framework.parts:
        pr = row
        part_rows.append(pr)
        ws.write_string(pr, 0, part.code, part_code_fmt)
        ws.write_string(pr, 1, part.name, part_fmt)
        fit_row(ws, pr, part.name, WIDTHS[1])
        ws.write_number(pr, 2, number(part.max), book.fmt(bold=True, border=1, align="center", bg_color="#F2F2F2"))
        row += 1
        if part.computed:  # SPEC §13: Decree 335's task points from the products above
            names = {k: f"SP_{k.upper()}" for k, _ in layout.KPI_INPUTS + layout.KPI_LEADER_INPUTS}
            # leaders and deputies: the mean of six, chosen by the form's position code (as 02)
            leader = leader_condition(book, POSITION_NAME) if part.leaders else ""
            for col in (3, 4):
                ws.write_formula(pr, col, kpi_formula(names, part.max, leader), book.formula(bold=True), "")
            continue
        if not part.criteria:  # a part without criteria is scored directly
            for col in (3, 4):
                ws.write_blank(pr, col, None, book.input("score"))
                validate(book, ws, score_field, pr, col, pr, low=part.min, high=part.max)
            continue
        for c in part.criteria:
            ws.write_string(row, 0, c.code, code_fmt)
            ws.write_string(row, 1, c.name, text_fmt)
            fit_row(ws, row, c.name, WIDTHS[1])
            ws.write_number(row, 2, number(c.max), num_fmt)
            for col in (3, 4):
                ws.write_blank(row, col, None, book.input("score"))
                validate(book, ws, score_field, row, col, row, low=c.min, high=c.max)
            row += 1
        for col in (3, 4):
            refs = [f"{cell(pr + 1, col)}:{cell(row - 1, col)}"]
            ws.write_formula(pr, col, sum_formula(refs), book.formula(bold=True), "")
    total = row
    ws.write_blank(total, 0, None, book.header())
    ws.write_string(total, 1, "TỔNG CỘNG", book.header())
    ws.write_number(total, 2, number(framework.max_total), book.fmt(bold=True, border=1, align="center"))
    for col in (3, 4):
        refs = [cell(pr, col) for pr in part_rows]
        ws.write_formula(total, col, sum_formula(refs, bounded=framework.has_bonus), book.formula(bold=True), "")
    return total, total + 2


def _results(book: Book, ws: Worksheet, row: int, total_row: int, settings: Settings) -> int:
    """Result cells (defined names of INDIVIDUAL_RESULTS); totals and band are formulas."""
    result_row: dict[str, int] = {}
    row = _fields(book, ws, row, list(layout.INDIVIDUAL_RESULTS))
    for i, f in enumerate(layout.INDIVIDUAL_RESULTS):
        result_row[f.key] = row - len(layout.INDIVIDUAL_RESULTS) + i
    fmt = book.formula(bold=True)
    ws.write_formula(result_row["self_total"], VALUE_COLS[0], f"={cell(total_row, 3)}", fmt, "")
    ws.write_formula(result_row["final_total"], VALUE_COLS[0], f"={cell(total_row, 4)}", fmt, "")
    band = grade_formula(cell(result_row["final_total"], VALUE_COLS[0]), settings.grading)
    ws.write_formula(result_row["band_grade"], VALUE_COLS[0], band, book.formula(bold=True, kind="grade"), "")
    return row + 1


def _signatures(book: Book, ws: Worksheet, row: int, place: str) -> int:
    center = book.fmt(align="center", bold=True, text_wrap=True)
    note = book.fmt(align="center", italic=True)
    ws.merge_range(row, 2, row, LAST_COL, f"{place}, ngày … tháng … năm …", note)
    row += 1
    ws.merge_range(row, 0, row, 1, "NGƯỜI TỰ ĐÁNH GIÁ", center)
    ws.merge_range(row, 2, row, LAST_COL, "NGƯỜI NHẬN XÉT, ĐÁNH GIÁ", center)
    ws.merge_range(row + 1, 0, row + 1, 1, "(Ký, ghi rõ họ tên)", note)
    ws.merge_range(row + 1, 2, row + 1, LAST_COL, "(Ký, ghi rõ họ tên)", note)
    row += 6
    ws.set_row(row, 34)
    ws.merge_range(row, 2, row, LAST_COL, "CẤP CÓ THẨM QUYỀN ĐÁNH GIÁ, XẾP LOẠI", center)
    ws.merge_range(row + 1, 2, row + 1, LAST_COL, "(Ký, ghi rõ họ tên)", note)
    return row + 2


def write_individual(
    path: Path, settings: Settings, framework: Framework, period: Period | None = None, regime: Any = None
) -> Path:
    """Write template 01 for ``framework`` to ``path`` (``period``: typed in beforehand and
    named in the title, "HẰNG QUÝ" for a quarter, SPEC §13)."""
    book = Book(path, layout.KIND_TITLES[layout.KIND_INDIVIDUAL])
    leaders = has_leader_part(framework)  # SPEC §13: the leader/deputy codes in the hidden list
    prepare_lists(book, settings.codes, leaders)
    ws = book.wb.add_worksheet(layout.SHEET_INDIVIDUAL)
    write_help(book, layout.KIND_INDIVIDUAL, settings, framework, regime)
    write_lists(book, settings.codes, leaders)
    write_meta(book, layout.KIND_INDIVIDUAL, framework)
    for i, width in enumerate(WIDTHS):
        ws.set_column(i, i, width)

    ws.set_row(0, 24)
    title = TITLE if period is None else f"{TITLE.removesuffix('HẰNG THÁNG')}{period.title_upper}"
    ws.merge_range(0, 0, 0, LAST_COL, title, book.title())
    ws.merge_range(
        1, 0, 1, LAST_COL, f"(Khung tiêu chí {framework.id}, phiên bản {framework.version})", book.subtitle()
    )
    by_key = {f.key: f for f in layout.INDIVIDUAL_HEADER}
    row = _section(book, ws, 3, "A. THÔNG TIN CHUNG")
    first = row
    row = _fields(book, ws, row, [by_key[k] for k in TOP_KEYS])
    if period is not None:  # TOP_KEYS starts with the period
        ws.write_string(first, VALUE_COLS[0], period.label, book.input("period", align="left", indent=1))
    inputs = layout.individual_inputs(framework, settings.catalogue.caps_for(framework.id))
    if inputs:  # SPEC §13, Decree 335: products of the period and the regime's cap flags
        row = _section(book, ws, row + 1, "KẾT QUẢ THỰC HIỆN NHIỆM VỤ TRONG KỲ (SẢN PHẨM QUY ĐỔI)")
        row = _fields(book, ws, row, list(inputs))
    row = _section(book, ws, row + 1, "B. TỰ CHẤM ĐIỂM VÀ CHẤM ĐIỂM CỦA CẤP CÓ THẨM QUYỀN")
    total_row, row = _criteria_table(book, ws, row, framework)
    row = _section(book, ws, row, "C. KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI")
    row = _results(book, ws, row, total_row, settings)
    row = _section(book, ws, row, "D. NGƯỜI NHẬN XÉT, QUYẾT ĐỊNH XẾP LOẠI")
    row = _fields(book, ws, row, [f for f in layout.INDIVIDUAL_HEADER if f.key not in TOP_KEYS])
    hint = "Các ô có dấu * là bắt buộc. Ô nền xám là công thức tự tính, không gõ đè."
    ws.merge_range(row, 0, row, LAST_COL, hint, book.hint())
    _signatures(book, ws, row + 2, settings.reports.place)

    protect(ws)
    print_setup(ws, landscape=False, repeat=(0, 1))
    criteria = sum(max(1, len(p.criteria)) for p in framework.parts)
    ws.fit_to_pages(1, 1 if criteria <= ONE_PAGE_CRITERIA else 0)  # a one-page form when it fits
    ws.activate()
    book.close()
    return path
