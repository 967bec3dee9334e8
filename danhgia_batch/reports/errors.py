"""Error workbook for a rejected file (SPEC §1, §10): the clerk's own workbook, annotated.

Each bad cell is filled red and carries a comment with its message; a first sheet ``Loi``
lists every issue (sheet, cell, column, value, message, code) with a hyperlink to the cell.
Nothing live from the clerk's file survives (issue 17 ¶3, :func:`neutralise`): every formula
becomes text (a formula the clerk typed, with a comment saying it was one; the template's own
locked formula cells silently, said once on ``Loi``); hyperlinks, external
links and defined names pointing outside the workbook are dropped; text is written with its
control characters made visible. A file that cannot be opened at all gets a fresh
workbook holding only the ``Loi`` sheet and the reason. A plain-text summary (``.txt``) is
written beside it. Text from the input is always written as a string, never as a formula.

The clerk's file is untrusted: the copy is made with openpyxl in a limited child process
(:func:`danhgia_batch.safe.run_isolated`), after the reader's pre-flight check.
"""

from __future__ import annotations

import io
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..atomic import atomic_path, atomic_write_text
from ..issues import Issue, Severity
from ..read.preflight import Rejected, preflight
from ..safe import run_isolated
from ..settings import ReaderSettings
from ..textsafe import fs_text, visible

log = logging.getLogger(__name__)

ERROR_SHEET = "Loi"
INSTRUCTIONS_SHEET = "HuongDan"
RED = "FFFF0000"
RED_FILL_COLOR = "FFFFC7CE"  # Excel's "bad" red, legible under black text
TITLE = "DANH SÁCH LỖI CỦA TỆP GỬI ĐẾN"
HEADER_ROW = 4  # rows 1-2: title and the file's name, row 3 blank
HEADERS = ("STT", "Trang tính", "Ô", "Cột", "Giá trị", "Nội dung lỗi", "Mã lỗi", "Mức độ")
WIDTHS = (6, 12, 8, 24, 16, 70, 22, 10)
SEVERITY_LABELS = {Severity.ERROR: "Lỗi", Severity.VIOLATION: "Vi phạm", Severity.WARNING: "Cảnh báo"}
CONTAINER_CODES = (
    "file-empty",
    "file-not-xlsx",
    "file-corrupt",
    "file-encrypted",
    "file-macro",
    "file-strict-ooxml",
    "file-too-large",
    "file-unsafe-xml",
    "file-timeout",
    "file-reader-crash",
    "file-no-sheets",
    "file-too-many-cells",
)
TIMEOUT_SECONDS = 120.0
MAX_CELL_TEXT = 32767  # Excel's limit of a cell's text


def write_error_workbook(source: Path, issues: list[Issue], out_xlsx: Path) -> list[Path]:
    """Write the annotated copy of ``source`` (or a fresh one-reason workbook) and its summary.

    Returns:
        ``[out_xlsx, out_xlsx.with_suffix(".txt")]``.
    """
    source, out_xlsx = Path(source), Path(out_xlsx)
    out_xlsx.parent.mkdir(parents=True, exist_ok=True)
    limits = ReaderSettings()
    copied = False
    if not any(i.code in CONTAINER_CODES for i in issues):
        ok, reason = run_isolated(
            _annotate_child, (source, issues, out_xlsx, limits), memory_mb=limits.memory_mb, timeout=TIMEOUT_SECONDS
        )
        copied = bool(ok and reason)
        if not copied:
            log.warning(
                "annotated copy of %s failed (%s); writing a fresh error workbook", fs_text(source.name), reason
            )
    if not copied:
        # in the kept isolated child, which already holds openpyxl: the caller (process, watch)
        # need not import it for a file that could not be opened (issue 19); in-process otherwise
        ok, done = run_isolated(
            _fresh_child, (issues, out_xlsx, source.name), memory_mb=limits.memory_mb, timeout=TIMEOUT_SECONDS
        )
        if not (ok and done):
            _fresh(issues, out_xlsx, source.name)
    txt = out_xlsx.with_suffix(".txt")
    atomic_write_text(txt, summary_text(fs_text(source.name), issues))
    return [out_xlsx, txt]


def summary_text(name: str, issues: list[Issue]) -> str:
    """The Vietnamese plain-text summary: file, counts, then one line per issue."""
    errors = sum(1 for i in issues if i.severity is Severity.ERROR)
    others = len(issues) - errors
    lines = [
        f"Tệp: {name}",
        f"Kết quả: {'bị từ chối' if errors else 'được chấp nhận'} — {errors} lỗi, {others} cảnh báo/vi phạm.",
        fix_hint(issues),
        "",
    ]
    for n, i in enumerate(issues, start=1):
        where = i.where() or "toàn tệp"
        lines.append(
            f"{n}. [{SEVERITY_LABELS.get(i.severity, i.severity)}] Tệp {name}, {where}: {i.message} ({i.code})"
        )
    return "\n".join(lines) + "\n"


def fix_hint(issues: list[Issue]) -> str:
    """What the clerk should do: fix the red cells when some cell is marked, else the listed
    problems of the whole file (an .xls or .ods file has no cell to mark)."""
    if any(i.sheet and i.cell for i in issues):
        return "Hãy sửa các ô được tô đỏ trong tệp đính kèm (trang tính 'Loi' liệt kê tất cả), rồi gửi lại."
    return "Hãy sửa theo danh sách lỗi dưới đây, rồi gửi lại."


# --------------------------------------------------------------------------- openpyxl side


def set_text(cell: Any, value: Any) -> None:
    """Write ``value`` as a string cell (a leading "=" stays text, never a formula).

    Control characters and bidi overrides are shown as escapes (``\\x00``, ``\\u202e``):
    openpyxl refuses the former, and the latter would make a name read backwards.
    """
    text = "" if value is None else visible(str(value))[:MAX_CELL_TEXT]
    cell.value = text
    cell.data_type = "s"


def _formula_text(value: Any) -> str:
    """What the clerk typed in a formula cell (``=…``), whatever openpyxl made of it."""
    text = getattr(value, "text", None)  # ArrayFormula
    return str(text if isinstance(text, str) else value)


# pure worksheet functions (the templates use IF, COUNT, SUM, SUBSTITUTE, UPPER, FIND, LEFT, MID,
# LEN, TRIM, VALUE, TEXT, MATCH, ISNUMBER, CHOOSE, IFERROR, OR, N, ROUND): none reaches outside
# fmt: off
_PURE_FUNCTIONS = frozenset((
    "IF", "IFERROR", "IFS", "AND", "OR", "NOT", "SUM", "COUNT", "COUNTA", "COUNTBLANK", "COUNTIF",
    "COUNTIFS", "SUMIF", "SUMIFS", "AVERAGE", "MIN", "MAX", "ROUND", "ROUNDUP", "ROUNDDOWN", "INT",
    "ABS", "N", "TEXT", "VALUE", "SUBSTITUTE", "UPPER", "LOWER", "PROPER", "TRIM", "LEFT", "RIGHT",
    "MID", "FIND", "SEARCH", "LEN", "ISNUMBER", "ISBLANK", "ISTEXT", "MATCH", "INDEX", "CHOOSE",
    "CONCATENATE", "CONCAT", "EXACT", "REPT", "DATE", "YEAR", "MONTH", "DAY",
))
# fmt: on
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


def _plain(formula: str) -> bool:
    """A formula of the template's kind: no other workbook (``[``), no DDE (``|``), and only
    pure worksheet functions (no HYPERLINK, WEBSERVICE, INDIRECT, CALL…)."""
    return not any(ch in formula for ch in "[|") and all(f.upper() in _PURE_FUNCTIONS for f in _CALL.findall(formula))


def _live_name(value: str | None) -> bool:
    """A defined name that is more than a reference in this workbook: external ``[1]…``,
    DDE ``cmd|…``, or a formula (a function call, e.g. HYPERLINK or WEBSERVICE)."""
    return value is None or any(ch in value for ch in "[|(")


def neutralise(wb: Any) -> int:
    """Leave nothing live from the submission in ``wb`` (issue 17 ¶3); returns how many of the
    template's own formulas were made text without a comment.

    Every formula (HYPERLINK, DDE ``=cmd|' /C calc'!A0``, references to other workbooks,
    plain sums alike: none is computed from the clerk's file) becomes its text. Where the clerk
    could type it (an unlocked cell, or a sheet without protection), or where it reaches outside
    (:func:`_plain`), the cell gets a comment saying it was a formula; the template's locked
    formula cells (~600 totals and grades on a list) do not: a comment on each drowned the
    comments on the wrong cells, and was a third of the error workbook's time. Hyperlinks are
    dropped; defined names pointing to other workbooks, DDE or formulas are removed. External
    links are not loaded at all (``keep_links=False``).
    """
    from openpyxl.comments import Comment

    silent = 0
    for ws in wb.worksheets:
        protected = bool(ws.protection.sheet)
        for row in ws.iter_rows():
            for cell in row:
                if cell.hyperlink is not None:
                    cell.hyperlink = None
                if cell.data_type != "f":
                    continue
                typed = _formula_text(cell.value)
                set_text(cell, typed)
                if protected and cell.protection.locked and _plain(typed):  # the template's own kind
                    silent += 1
                    continue
                note = f"Ô này là công thức, đã chuyển thành chữ để an toàn (không được tính): {visible(typed)}"
                cell.comment = Comment(note[:MAX_CELL_TEXT], "danhgia")
        for name in [n for n, dn in ws.defined_names.items() if _live_name(dn.attr_text)]:
            del ws.defined_names[name]
    for name in [n for n, dn in wb.defined_names.items() if _live_name(dn.attr_text)]:
        del wb.defined_names[name]
    return silent


FORMULAS_AS_TEXT = "Các ô công thức của biểu mẫu hiện dưới dạng chữ: bản sao này không tính lại."


def _write_loi(wb: Any, issues: list[Issue], linkable: set[str], name: str = "", formulas: int = 0) -> None:
    from openpyxl.comments import Comment  # noqa: F401 - keeps openpyxl imports together
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    wrap = Alignment(wrap_text=True, vertical="top")

    if ERROR_SHEET in wb.sheetnames:
        del wb[ERROR_SHEET]
    ws = wb.create_sheet(ERROR_SHEET, 0)
    bold = Font(name="Times New Roman", bold=True)
    last = len(HEADERS)
    for r, (text, font) in enumerate(
        [
            (TITLE, Font(name="Times New Roman", bold=True, size=14)),
            (f"Tệp: {name}. {fix_hint(issues)}" + (f" {FORMULAS_AS_TEXT}" if formulas else ""), None),
        ],
        start=1,
    ):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
        c = ws.cell(row=r, column=1)
        set_text(c, text)
        c.alignment = Alignment(horizontal="center" if r == 1 else "left", vertical="center", wrap_text=True)
        if font is not None:
            c.font = font
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[2].height = 36
    for col, (title, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        c = ws.cell(row=HEADER_ROW, column=col)
        set_text(c, title)
        c.font = bold
        c.fill = PatternFill("solid", fgColor="FFD9E1F2")
        ws.column_dimensions[c.column_letter].width = width
    for n, i in enumerate(issues, start=1):
        r = HEADER_ROW + n
        ws.cell(row=r, column=1, value=n)
        values = (
            i.sheet,
            i.cell,
            i.column,
            i.value,
            i.message,
            i.code,
            SEVERITY_LABELS.get(i.severity, str(i.severity)),
        )
        for col, value in enumerate(values, start=2):
            c = ws.cell(row=r, column=col)
            set_text(c, value)
            c.alignment = wrap
        if i.sheet in linkable and i.cell:
            link = ws.cell(row=r, column=3)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{i.sheet}'!{i.cell}", display=i.cell)
            link.font = Font(name="Times New Roman", color="FF0563C1", underline="single")
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    # Printable as it is: A4 landscape, one page wide, the header row on every page.
    _print_wide(ws)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def _print_wide(ws: Any) -> None:
    """A4 landscape, one page wide, as many pages tall as needed."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _print_used_rows(wb: Any) -> None:
    """The clerk's sheets print only their filled rows (not the template's empty rows, which
    the fit-to-page setup squeezed onto pages), on landscape pages; hidden sheets never print."""
    from openpyxl.utils import get_column_letter

    for ws in wb.worksheets:
        if ws.title == ERROR_SHEET or ws.sheet_state != "visible":
            continue
        last = 0
        for row in ws.iter_rows():
            if any(c.value is not None and not (isinstance(c.value, str) and c.value.startswith("=")) for c in row):
                last = row[0].row
        if last:
            ws.print_area = f"A1:{get_column_letter(max(ws.max_column, 1))}{last}"
            _print_wide(ws)
            if ws.title == INSTRUCTIONS_SHEET:  # the template's own instructions: one page is enough here
                ws.page_setup.fitToHeight = 1


def _anchor(ws: Any, ref: str) -> Any:
    """The cell at ``ref``, or the top-left cell of the merged range containing it."""
    for rng in ws.merged_cells.ranges:
        if ref in rng:
            return ws.cell(row=rng.min_row, column=rng.min_col)
    return ws[ref]


def _mark_cells(wb: Any, issues: list[Issue]) -> set[str]:
    """Fill bad cells red and comment them; returns the sheet names that exist."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    fill = PatternFill("solid", fgColor=RED_FILL_COLOR)
    by_cell: dict[tuple[str, str], list[Issue]] = defaultdict(list)
    for i in issues:
        if i.sheet in wb.sheetnames and i.cell:
            by_cell[(i.sheet, i.cell)].append(i)
    for (sheet, ref), found in by_cell.items():
        ws = wb[sheet]
        try:
            cell = _anchor(ws, ref)
        except (ValueError, KeyError, IndexError):
            continue
        cell.fill = fill
        text = "\n".join(f"- {i.message}" for i in found)
        if cell.comment is not None:  # a formula made text: keep saying so
            text = f"{cell.comment.text}\n{text}"
        comment = Comment(visible(text)[:30000], "danhgia")
        comment.width, comment.height = 320, min(60 + 40 * len(found), 400)
        cell.comment = comment
    return set(wb.sheetnames)


def _annotate_child(source: Path, issues: list[Issue], out_xlsx: Path, limits: ReaderSettings) -> bool:
    """Child-process body: pre-flight, then annotate a copy with openpyxl."""
    import openpyxl

    try:
        container = preflight(source, limits)
    except Rejected:
        return False
    checked = io.BytesIO(container.content) if container.content is not None else source  # the bytes checked
    wb = openpyxl.load_workbook(checked, keep_vba=False, keep_links=False)
    if not wb.sheetnames:
        return False  # Strict OOXML and friends: "no sheets" is never a success
    formulas = neutralise(wb)
    linkable = _mark_cells(wb, issues)
    _print_used_rows(wb)
    _write_loi(wb, issues, linkable, source.name, formulas)
    wb.calculation.fullCalcOnLoad = True
    with atomic_path(out_xlsx) as tmp:
        wb.save(tmp)
    return True


def _fresh_child(issues: list[Issue], out_xlsx: Path, name: str) -> bool:
    """Child-process body of :func:`_fresh` (our own issues only: no untrusted input)."""
    _fresh(issues, out_xlsx, name)
    return True


def _fresh(issues: list[Issue], out_xlsx: Path, name: str = "") -> None:
    """A new workbook with only the ``Loi`` sheet (the file could not be opened)."""
    import openpyxl

    wb = openpyxl.Workbook()
    default = wb.active
    _write_loi(wb, issues, set(), name)
    if default is not None:
        wb.remove(default)
    with atomic_path(out_xlsx) as tmp:
        wb.save(tmp)
