"""Building blocks shared by the three template writers (xlsxwriter).

Every workbook gets fixed document properties (so regenerating gives identical bytes),
Times New Roman as its default font, a hidden ``_meta`` sheet, a hidden ``_lists`` sheet with
the code lists behind the drop-downs, and sheet protection without a password.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import layout
from ..domain import CodeLists, Framework
from ..kpi import LEADER_INPUTS
from ..settings import GradingSettings

FONT = "Times New Roman"
FONT_SIZE = 12
# Fixed creation date (the letter 528-CV/QU is dated 20/01/2022): identical bytes on regeneration.
CREATED = datetime(2022, 1, 20, 8, 0, 0)
DATE_FORMAT = "dd/mm/yyyy"
SCORE_FORMAT = "0.##"
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
ACTIVE_LIST = ("Có", "Không")

# Code lists written to the hidden _lists sheet, in column order.
LIST_NAMES = ("blocks", "categories", "grades", "positions", "unit_kinds", "groups")

# Clerks may still format, insert and delete rows and columns in a protected sheet
# (SPEC §8: the reader finds columns by label, so inserted columns are harmless).
PROTECT_OPTIONS = {
    "format_columns": True,
    "format_rows": True,
    "insert_columns": True,
    "insert_rows": True,
    "delete_rows": True,
    "sort": True,
    "autofilter": True,
}


class Book:
    """An xlsxwriter workbook with a cache of formats that all use Times New Roman."""

    def __init__(self, path: Path, title: str) -> None:
        self.wb: Workbook = xlsxwriter.Workbook(str(path))
        self.wb.set_properties(
            {
                "title": title,
                "subject": "Đánh giá, xếp loại CBCCVC, LĐHĐ hằng tháng",
                "author": "danhgia_batch",
                "company": "",
                "comments": "Tạo bởi danhgia_batch (Công văn 528-CV/QU)",
                "created": CREATED,
            }
        )
        # The default (Normal) style: cells without an explicit format are Times New Roman too.
        default = self.wb.formats[0]
        default.set_font_name(FONT)
        default.set_font_size(FONT_SIZE)
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self.lists: dict[str, str] = {}

    def fmt(self, **props: Any) -> Format:
        """A (cached) format with the template font; ``locked`` defaults to True."""
        full = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "vcenter", **props}
        key = tuple(sorted(full.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(full)
        return self._formats[key]

    # Frequently used formats -------------------------------------------------------------

    def title(self) -> Format:
        return self.fmt(bold=True, font_size=14, align="center", text_wrap=True)

    def subtitle(self) -> Format:
        return self.fmt(italic=True, align="center")

    def label(self, **extra: Any) -> Format:
        return self.fmt(bold=True, text_wrap=True, **extra)

    def header(self) -> Format:
        return self.fmt(bold=True, font_size=11, align="center", text_wrap=True, border=1, bg_color="#D9E1F2")

    def hint(self) -> Format:
        return self.fmt(italic=True, font_size=10, font_color="#595959", text_wrap=True)

    def input(self, kind: str = "text", *, border: int = 1, **extra: Any) -> Format:
        """Unlocked input cell format for a field of ``kind`` (``extra`` wins over defaults)."""
        props: dict[str, Any] = {"locked": False, "border": border, "bg_color": "#FFFFF0"}
        if kind == "date":
            props.update(num_format=DATE_FORMAT, align="center")
        elif kind in ("score", "total"):
            props.update(num_format=SCORE_FORMAT, align="center")
        elif kind in ("period", "code", "grade", "int"):
            props.update(align="center")
        if kind == "period":
            props["num_format"] = "@"  # "01/2022" stays text, never becomes a date
        if kind == "text":
            props.update(text_wrap=True, indent=1)
        props.update(extra)
        return self.fmt(**props)

    def column(self, kind: str = "text") -> Format:
        """Plain column format: unlocked with the kind's number format, no border or fill
        (cells a clerk adds by inserting rows below the prepared ones stay editable)."""
        num = {"date": DATE_FORMAT, "score": SCORE_FORMAT, "total": SCORE_FORMAT, "period": "@"}.get(kind, "General")
        return self.fmt(locked=False, num_format=num)

    def formula(self, *, bold: bool = False, kind: str = "score") -> Format:
        """Locked formula cell (grey), so a clerk cannot type over it by accident."""
        num = SCORE_FORMAT if kind in ("score", "total") else "General"
        return self.fmt(border=1, bg_color="#EDEDED", align="center", num_format=num, bold=bold)

    def close(self) -> None:
        self.wb.close()


def number(value: Decimal | float) -> int | float:
    """A framework maximum as a plain number for a cell (20, not 20.0)."""
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


def num_text(value: Decimal | float) -> str:
    """A number as formula text: ``90``, ``89.5``."""
    return str(number(value))


def grade_formula(ref: str, grading: GradingSettings) -> str:
    """Grade-by-score formula on total cell ``ref`` (letter §2.5 bands; blank when ``ref`` is)."""
    return (
        f'=IF({ref}="","",IF({ref}>={num_text(grading.a)},"A",IF({ref}>={num_text(grading.b)},"B",'
        f'IF({ref}>={num_text(grading.c)},"C","D"))))'
    )


def kpi_formula(refs: dict[str, str], part_max: Decimal, leader: str = "") -> str:
    """Decree 335's task points (kpi.py): the mean of quantity, quality and progress ratios,
    each within [0, 1], × the part's maximum, rounded to hundredths; blank until the number of
    products assigned is typed. ``leader``: a condition true on a leader's or deputy's row, whose
    points are then the mean of six (the three and the ``refs`` of kpi.LEADER_INPUTS, typed as
    percentages: kpi.leader_points)."""
    a = refs["assigned"]
    quantity = f"MIN(1,MAX(0,N({refs['completed']})/{a}))"
    quality = f"MIN(1,MAX(0,(N({refs['quality']})-0.25*N({refs['failed_checks']}))/{a}))"
    progress = f"MIN(1,MAX(0,(N({refs['on_time']})-0.25*N({refs['delays']}))/{a}))"
    staff = f"({quantity}+{quality}+{progress})/3"
    if leader:
        extra = "+".join(f"MIN(1,MAX(0,N({refs[k]})/100))" for k in LEADER_INPUTS)
        staff = f"IF({leader},({quantity}+{quality}+{progress}+{extra})/6,{staff})"
    return f'=IF(N({a})<=0,"",ROUND({staff}*{num_text(part_max)},2))'


def period_title_formula(name: str, prefix: str, empty: str) -> str:
    """A title that names the period typed in defined name ``name`` as the reports do
    ("<prefix> THÁNG 03/2026", "<prefix> QUÝ I/2026"), whichever accepted way the clerk typed it
    (periods.Period.parse: 03/2026, 3/2026, 2026-03, Tháng 3/2026, Q1/2026, Quý I/2026, I/2026,
    2026-Q1); ``empty`` while nothing is typed; "<prefix> KỲ <as typed>" for anything else.

    Plain worksheet functions only (no LET: Excel 2010 and LibreOffice read it): the typed text
    upper-cased, the words "THÁNG"/"QUÝ" dropped or shortened to Q, separators made "/", then
    the year (the 4-digit side) and the month or quarter (Q…, or a Roman numeral) on the other.
    """
    s = f"UPPER({name})"
    for old, new in (("THÁNG", ""), ("THANG", ""), ("QUÝ", "Q"), ("QUY", "Q"), (" ", ""), ("-", "/"), (".", "/")):
        s = f'SUBSTITUTE({s},"{old}","{new}")'
    cut = f'FIND("/",{s})'
    left, right = f"LEFT({s},{cut}-1)", f"MID({s},{cut}+1,20)"
    year = f"IF(LEN({left})=4,{left},{right})"
    other = f"IF(LEN({left})=4,{right},{left})"
    number = f'SUBSTITUTE({other},"Q","")'
    roman = f'ISNUMBER(MATCH({number},{{"I","II","III","IV"}},0))'
    quarter = f'IF({roman},{number},CHOOSE(VALUE({number}),"I","II","III","IV"))'
    is_quarter = f'OR(LEFT({other},1)="Q",{roman})'
    period = f'IF({is_quarter},"QUÝ "&{quarter},"THÁNG "&TEXT(VALUE({number}),"00"))&"/"&VALUE({year})'
    return f'="{prefix} "&IF(TRIM({name})="","{empty}",IFERROR({period},"KỲ "&TRIM({name})))'


def has_leader_part(framework: Framework) -> bool:
    """Whether a computed part of ``framework`` has the leader variant (SPEC §13: then the
    leader/deputy position codes go into the hidden list and the part's formula chooses)."""
    return any(p.computed and p.leaders for p in framework.parts)


# SPEC §13: the leader components, typed as percentages (validated 0–100 in templates 01 and 02)
LEADER_KEYS = frozenset(f"kpi_{k}" for k in LEADER_INPUTS)


def leader_condition(book: Book, position: str) -> str:
    """True when the position code at ``position`` (a cell or a defined name) is a leader's or
    deputy's: found in the hidden ``leaders`` list (``prepare_lists(..., leaders=True)``)."""
    return f"ISNUMBER(MATCH({position},{book.lists['leaders'].lstrip('=')},0))"


def sum_formula(refs: Sequence[str], *, bounded: bool = False) -> str:
    """``=IF(COUNT(refs)=0,"",SUM(refs))``: blank while no score has been typed; ``bounded``
    keeps the sum within [0, 100] (a framework with bonus parts, SPEC §13)."""
    args = ",".join(refs)
    total = f"MIN(100,MAX(0,SUM({args})))" if bounded else f"SUM({args})"
    return f'=IF(COUNT({args})=0,"",{total})'


def lines_needed(text: str, width: float, font_size: float = FONT_SIZE) -> int:
    """Estimated wrapped line count of ``text`` in a column ``width`` characters wide.

    xlsxwriter cannot autofit row heights, and LibreOffice keeps the stored height, so rows
    with wrapped text get an explicit height from this estimate.
    """
    per_line = max(1.0, width * 1.15 * FONT_SIZE / font_size)
    return max(1, math.ceil(len(text) / per_line))


def fit_row(ws: Worksheet, row: int, text: str, width: float, font_size: float = FONT_SIZE) -> None:
    """Give ``row`` the height its wrapped ``text`` needs (only when more than one line)."""
    n = lines_needed(text, width, font_size)
    if n > 1:
        ws.set_row(row, n * font_size * 1.3 + 3)


def cell(row: int, col: int, absolute: bool = False) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def col_range(first_row: int, last_row: int, col: int) -> str:
    letter = xl_col_to_name(col)
    return f"{letter}{first_row + 1}:{letter}{last_row + 1}"


def define(book: Book, name: str, sheet: str, row: int, col: int) -> None:
    """Workbook-level defined name ``name`` → the single cell (row, col) of ``sheet``."""
    book.wb.define_name(name, f"='{sheet}'!{cell(row, col, absolute=True)}")


def write_meta(book: Book, kind: str, framework: Framework | None) -> None:
    """Hidden ``_meta`` sheet: column A key, column B value (SPEC §8)."""
    ws = book.wb.add_worksheet(layout.META_SHEET)
    values = {
        "template_kind": kind,
        "template_version": layout.TEMPLATE_VERSION,
        "framework_id": framework.id if framework else "",
        "framework_version": framework.version if framework else "",
        "generator": "danhgia_batch",
    }
    text = book.fmt(num_format="@")
    for i, key in enumerate(layout.META_KEYS):
        ws.write_string(i, 0, key, text)
        ws.write_string(i, 1, values[key], text)
    ws.set_column(0, 1, 22)
    ws.protect("", {})
    ws.hide()


HEADER_FORMS = ("Nhà nước", "Đảng")  # the registry's "Thể thức" drop-down (SPEC §10)


def _list_columns(codes: CodeLists, leaders: bool = False) -> list[tuple[str, list[str]]]:
    columns: list[tuple[str, list[str]]] = [(name, codes.codes(name)) for name in LIST_NAMES]
    columns.append(("active", list(ACTIVE_LIST)))
    columns.append(("levels", codes.codes("levels")))
    columns.append(("header_forms", list(HEADER_FORMS)))
    if leaders:  # SPEC §13: the leader/deputy position codes, for Decree 335's leader formula (MATCH)
        columns.append(("leaders", [c for c in codes.codes("positions") if c in codes.leaders()]))
    return columns


def prepare_lists(book: Book, codes: CodeLists, leaders: bool = False) -> None:
    """Record in ``book.lists`` the ``_lists`` range of each code list (before validations);
    ``leaders``: also the leader/deputy position codes (a framework with the leader variant)."""
    for col, (name, values) in enumerate(_list_columns(codes, leaders)):
        letter = xl_col_to_name(col)
        book.lists[name] = f"='{layout.LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"


def write_lists(book: Book, codes: CodeLists, leaders: bool = False) -> None:
    """Hidden ``_lists`` sheet with one column per code list (header row = list name)."""
    ws = book.wb.add_worksheet(layout.LISTS_SHEET)
    columns = _list_columns(codes, leaders)
    for col, (name, values) in enumerate(columns):
        ws.write_string(0, col, name, book.fmt(bold=True))
        for i, value in enumerate(values):
            ws.write_string(i + 1, col, value, book.fmt())
    ws.set_column(0, len(columns) - 1, 26)
    ws.protect("", {})
    ws.hide()


def validate(
    book: Book,
    ws: Worksheet,
    field: layout.Field,
    first_row: int,
    col: int,
    last_row: int,
    *,
    low: Decimal | None = None,
    high: Decimal | None = None,
) -> None:
    """Data validation for the cells of ``field`` in rows first_row..last_row of column ``col``.

    Coded fields get a drop-down from ``_lists``; scores a decimal range (``low``..``high``);
    dates a date range; periods a text length check ("MM/YYYY" or "Quý I/2026").
    """
    opts: dict[str, Any]
    if field.kind in ("code", "grade") and field.codes:
        opts = {
            "validate": "list",
            "source": book.lists[field.codes],
            "input_title": field.label[:32],
            "input_message": "Chọn trong danh sách thả xuống.",
            "error_title": "Mã không hợp lệ",
            "error_message": "Giá trị phải nằm trong danh sách thả xuống (xem sheet HuongDan).",
        }
    elif field.key == "active":
        opts = {"validate": "list", "source": book.lists["active"], "error_message": "Chọn Có hoặc Không."}
    elif field.kind == "score" and low is not None and high is not None:
        lo, hi = num_text(low), num_text(high)
        opts = {
            "validate": "decimal",
            "criteria": "between",
            "minimum": number(low),
            "maximum": number(high),
            "input_title": "Điểm",
            "input_message": f"Nhập điểm từ {lo} đến {hi}, tối đa 2 chữ số thập phân.",
            "error_title": "Điểm không hợp lệ",
            "error_message": f"Điểm phải là số từ {lo} đến {hi}.",
        }
    elif field.kind == "date":
        opts = {
            "validate": "date",
            "criteria": "between",
            "minimum": MIN_DATE,
            "maximum": MAX_DATE,
            "input_title": "Ngày",
            "input_message": "Nhập ngày dạng ngày/tháng/năm, ví dụ 25/01/2022.",
            "error_title": "Ngày không hợp lệ",
            "error_message": "Nhập một ngày hợp lệ, ví dụ 25/01/2022.",
        }
    elif field.kind == "period":
        opts = {
            "validate": "length",
            "criteria": "between",
            "minimum": 6,
            "maximum": 12,  # "Quý III/2026" (SPEC §13)
            "input_title": "Kỳ đánh giá",
            "input_message": "Nhập tháng/năm dạng MM/YYYY (ví dụ 01/2022) hoặc quý (ví dụ Quý I/2026).",
            "error_title": "Kỳ đánh giá",
            "error_message": "Kỳ đánh giá có dạng MM/YYYY (ví dụ 01/2022) hoặc Quý I/2026.",
            "error_type": "warning",
        }
    else:
        return
    ws.data_validation(first_row, col, last_row, col, opts)


def protect(ws: Worksheet) -> None:
    """Sheet protection without a password: labels and formulas locked, inputs unlocked."""
    ws.protect("", PROTECT_OPTIONS)


def print_setup(ws: Worksheet, *, landscape: bool, repeat: tuple[int, int] | None) -> None:
    """A4, fit to one page wide, header rows repeated on every page."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.center_horizontally()
    ws.fit_to_pages(1, 0)
    ws.set_footer('&C&"Times New Roman"&10Trang &P/&N')
    if repeat is not None:
        ws.repeat_rows(*repeat)
