"""Danh sách tổng hợp kết quả đánh giá, xếp loại of one unit and month (letter §2.6, SPEC §10).

Rows keep the order of the decider's list as the unit sent and signed it (the STT of the
printed list then matches the clerk's file line by line); several decider lists of one unit
are printed one after the other under a group row naming the decider.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from xlsxwriter.worksheet import Worksheet

from ..kpi import INPUTS, LEADER_INPUTS, TaskInputs, leader_points, task_points
from ..models import EvaluationRow, UnitView
from ..rules import scope_label
from ..settings import Settings
from .commendation import write_commendation
from .common import (
    CATEGORY_SHORT,
    GRADES,
    Styles,
    atomic_workbook,
    begin_sheet,
    fit_height,
    merged,
    period_label,
    period_title,
    print_setup,
    put,
    signatures,
    table_header,
)
from .letterhead import unit_head
from .pages import AUTO_ROW_PT, PageFlow
from .paths import unit_list_path
from .stats import (
    Tally,
    decider_text,
    late_issues,
    missing_text,
    noted_issues,
    position_text,
    quota_lines,
    quota_violations,
)

COLUMNS: list[tuple[str, float]] = [
    ("STT", 6),
    ("Họ và tên", 24),
    ("Mã cán bộ", 11),  # with the birth date, tells namesakes apart
    ("Ngày sinh", 11),
    ("Chức vụ", 24),
    ("Đối tượng", 10),
    ("Tự chấm (điểm)", 9),
    ("Tự xếp loại", 9),
    ("Điểm cấp có thẩm quyền", 12),
    ("Xếp loại", 9),
    ("Ghi chú", 26),
]
WRAPPED = (1, 4, 10)  # name, position, note: the columns whose text may take several lines
# SPEC §13: a list judged under a regime with a computed task part (Decree 335) also shows the
# products of the period and the task % computed from them, after "Đối tượng"
PRODUCT_COLUMNS: list[tuple[str, float]] = [
    ("Số SP được giao", 8),
    ("Số SP hoàn thành", 8),
    ("Số SP đạt chất lượng", 8),
    ("Số SP đúng hạn", 8),
    ("Số lần kiểm tra không đạt", 9),
    ("Số lần chậm tiến độ", 8),
    ("Tỷ lệ hoàn thành nhiệm vụ (%)", 10),
]
FIRST_PRODUCT = 6
# Characters of 12-pt Times New Roman per unit of column width (a unit is a digit of the
# 13-pt default font): the table's text is smaller than the unit (measured in LibreOffice).
TABLE_CHARS = 1.15
LAST = len(COLUMNS) - 1
TITLE = "DANH SÁCH TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ {period}"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


def write_unit_reports(view: UnitView, settings: Settings, *, today: date | None = None) -> list[Path]:
    """Write the unit's aggregate list and its commendation list; return both paths.

    Args:
        view: the unit and period, with its accepted decider lists (from the ledger).
        settings: output folder, place and header names, commendation grades.
        today: date printed on the place-and-date line (default: today).
    """
    if view.grade_counts is not None:
        raise ValueError(f"{view.unit_code}: a summarised view has no rows to write")
    return [write_unit_list(view, settings, today=today), write_commendation(view, settings, today=today)]


def write_unit_reports_of(views: list[UnitView], settings: Settings) -> list[list[Path]]:
    """:func:`write_unit_reports` of each of ``views``: a chunk of a report writer process
    (pipeline.effects), defined here so that the writer imports no more than the reports."""
    return [write_unit_reports(view, settings) for view in views]


def has_products(view: UnitView) -> bool:
    """Whether a list of ``view`` carries the products of a computed task part (SPEC §13: only
    lists of a regime with a computed part have those columns, so their rows have inputs)."""
    return any(r.inputs.get("assigned") is not None for lst in view.lists for r in lst.rows)


def columns_for(view: UnitView) -> list[tuple[str, float]]:
    """The table's columns: the letter's, with the product columns when :func:`has_products`."""
    if not has_products(view):
        return COLUMNS
    return [*COLUMNS[:FIRST_PRODUCT], *PRODUCT_COLUMNS, *COLUMNS[FIRST_PRODUCT:]]


def task_percent(settings: Settings, row: EvaluationRow) -> Decimal | None:
    """The task % computed from a row's products (kpi.py: staff, or a leader's mean of six when
    the leader components were recorded), to hundredths; ``None`` without products."""
    if not row.inputs.get("assigned"):
        return None
    inputs = TaskInputs.of(row.inputs)
    leader = row.position_code in settings.codes.leaders() and any(k in row.inputs for k in LEADER_INPUTS)
    result = leader_points(inputs, row.inputs) if leader else task_points(inputs)
    return result.shown("task")


def write_unit_list(view: UnitView, settings: Settings, *, today: date | None = None) -> Path:
    """Write ``danh_sach_tong_hop_<unit>_<yyyy-mm>.xlsx`` and return its path."""
    path = unit_list_path(settings, view.period, view.block, view.unit_code)
    columns = columns_for(view)
    last = len(columns) - 1
    month = period_label(view.period)
    with atomic_workbook(path, f"Danh sách tổng hợp {view.unit_code} {month}") as wb:
        st = Styles(wb)
        head = unit_head(view, settings)
        titles = [
            TITLE.format(period=period_title(view.period, upper=True)),
            f"Đơn vị: {view.unit_name or view.unit_code}",
        ]
        ws, row = begin_sheet(
            wb,
            st,
            settings,
            "DanhSach",
            columns,
            titles,
            style=head.style,
            issuer=head.issuer,
            top=head.top,
            place=head.place,
            today=today,
        )
        if view.lists and not view.valid:
            merged(ws, row, 0, last, "KẾT QUẢ CHƯA HỢP LỆ: vượt tỷ lệ loại A (xem mục Tỷ lệ loại A).", st["alert"])
            row += 1
        row += 1
        flow = PageFlow(ws, [w for _, w in columns])
        flow.note(1, 40) if len(view.unit_name or view.unit_code) > 45 else None
        flow.keep(0, row)  # the official header and the titles
        row = _header_rows(ws, st, flow, row, columns)
        flow.keep(row - 2, row)
        ws.freeze_panes(row, 0)
        row = _table(ws, st, settings, view, row, flow, columns)
        start = row + 1
        row = _grade_totals(ws, st, settings, view, start, last)
        flow.keep(start, row)
        start = row + 1
        row = _quota(ws, st, settings, view, start, flow, last)
        flow.keep(start, row)
        start = row + 1
        row = _notes(ws, st, settings, view, start, flow, columns)
        prepared = next((lst.header.prepared_by for lst in view.lists if lst.header.prepared_by), "")
        end = signatures(
            ws, st, row + 1, left=(2, 4), right=(5, last), left_name=prepared, right_name=head.name,
            right_title=head.title, authority=head.authority, recipients=head.recipients, recipients_at=(0, 1),
            recipients_width=COLUMNS[0][1] + COLUMNS[1][1],
        )  # fmt: skip
        flow.keep(start, end)  # the notes and the signatures on one page
        print_setup(ws, landscape=True, fit=False)
        ws.print_area(0, 0, end, last)
        flow.finish()
    return path


def _header_rows(
    ws: Worksheet, st: Styles, flow: PageFlow, row: int, columns: list[tuple[str, float]] = COLUMNS
) -> int:
    """The table's column titles and numbering row (again on each page the table runs onto)."""
    flow.note(row, 36 if columns is COLUMNS else 64)
    return table_header(ws, st, row, columns)


def _table(
    ws: Worksheet,
    st: Styles,
    settings: Settings,
    view: UnitView,
    row: int,
    flow: PageFlow,
    columns: list[tuple[str, float]] = COLUMNS,
) -> int:
    last = len(columns) - 1
    products = columns is not COLUMNS
    wrapped = (1, 4, last)
    if not view.lists:
        merged(ws, row, 0, last, "Chưa có danh sách nào của đơn vị được tiếp nhận trong kỳ.", st["td_c"])
        return row + 1
    stt = 0
    for n, lst in enumerate(view.lists):
        if len(view.lists) > 1:
            roman = ROMAN[n] if n < len(ROMAN) else str(n + 1)
            status = "" if lst.status == "valid" else " — CHƯA HỢP LỆ (vượt tỷ lệ loại A)"
            text = f"{roman}. Danh sách do {decider_text(settings, lst)} quyết định{status}"
            height = fit_height([(text, sum(w for _, w in columns))], line_pt=16) or AUTO_ROW_PT
            row = flow.table_row(row, height + AUTO_ROW_PT, lambda r: _header_rows(ws, st, flow, r, columns))
            merged(ws, row, 0, last, text, st["td_group"])
            flow.set_height(row, height)
            row += 1
        for r in sorted(lst.rows, key=lambda r: r.row):
            stt += 1
            values = [
                (stt, "td_c"),
                (r.full_name, "td"),
                (r.person_code, "td_c"),
                (r.birth_date, "td_c"),
                (position_text(settings, r), "td"),
                (CATEGORY_SHORT.get(r.category, r.category), "td_c"),
                *(_products(settings, r) if products else []),
                (r.self_total, "td_num"),
                (r.self_grade, "td_c"),
                (r.final_total, "td_num"),
                (r.final_grade, "td_c"),
                (r.note, "td"),
            ]
            fitted = fit_height([(str(values[c][0]), columns[c][1] * TABLE_CHARS) for c in wrapped], line_pt=16)
            row = flow.table_row(row, fitted or AUTO_ROW_PT, lambda r: _header_rows(ws, st, flow, r, columns))
            for col, (value, fmt) in enumerate(values):
                put(ws, row, col, value, st[fmt])
            if fitted:
                flow.set_height(row, fitted)
            row += 1
    flow.flow(row)
    return row


def _products(settings: Settings, r: EvaluationRow) -> list[tuple[object, str]]:
    """The product cells of a row (SPEC §13): the inputs as recorded and the computed task %."""
    values: list[tuple[object, str]] = [(r.inputs.get(k), "td_num") for k in INPUTS]
    return [*values, (task_percent(settings, r), "td_num")]


def _grade_totals(ws: Worksheet, st: Styles, settings: Settings, view: UnitView, row: int, last: int = LAST) -> int:
    """Counts and percentages per grade; percentages are of the people ranked A–D."""
    tally = Tally.of(view.rows)
    merged(ws, row, 0, last, "TỔNG HỢP KẾT QUẢ XẾP LOẠI", st["section"])
    row += 1
    for first, last, label in [(0, 0, "Loại"), (1, 2, "Mức xếp loại"), (3, 3, "Số người"), (4, 5, "Tỷ lệ (%)")]:
        merged(ws, row, first, last, label, st["th"])
    row += 1
    for grade in GRADES:
        put(ws, row, 0, grade, st["td_c"])
        merged(ws, row, 1, 2, settings.codes.label("grades", grade), st["td"])
        put(ws, row, 3, tally.counts[grade], st["td_int"])
        share = tally.share(grade) if grade != "KXL" else None
        if share is None:
            merged(ws, row, 4, 5, "—" if grade == "KXL" else "", st["td_c"])
        else:
            ws.merge_range(row, 4, row, 5, "", st["td_pct"])
            ws.write_number(row, 4, share, st["td_pct"])
        row += 1
    for label, count, share in (
        ("Tổng số người được xếp loại", tally.ranked, 1.0 if tally.ranked else None),
        ("Tổng số người trong danh sách", tally.people, None),
    ):
        merged(ws, row, 0, 2, label, st["tt"])
        put(ws, row, 3, count, st["tt_int"])
        ws.merge_range(row, 4, row, 5, "", st["tt_pct"])
        if share is not None:
            ws.write_number(row, 4, share, st["tt_pct"])
        row += 1
    merged(ws, row, 0, last, "Tỷ lệ tính trên số người được xếp loại (không tính người không xếp loại).", st["italic"])
    return row + 1


def _quota(
    ws: Worksheet, st: Styles, settings: Settings, view: UnitView, row: int, flow: PageFlow, last: int = LAST
) -> int:
    """Letter §2.5.a: A at most 20% of the people ranked "Hoàn thành tốt nhiệm vụ", per group."""
    pct = round(settings.quota.ratio * 100)
    merged(ws, row, 0, last, f"TỶ LỆ LOẠI A THEO NHÓM ĐỐI TƯỢNG (tối đa {pct}% theo quy định)", st["section"])
    row += 1
    heads = [(0, 0, "STT"), (1, 1, "Nhóm đối tượng"), (2, 4, "Người quyết định"), (5, 5, "Số người xếp loại"),
             (6, 6, "Số loại A"), (7, 7, "Tối đa loại A"), (8, 9, "Kết quả")]  # fmt: skip
    for first, last, label in heads:
        merged(ws, row, first, last, label, st["th"])
    flow.set_height(row, 36)
    row += 1
    n = 0
    for lst in view.lists:
        for q in quota_lines(lst, settings):
            n += 1
            put(ws, row, 0, n, st["td_c"])
            label = scope_label(settings.codes, q.group)
            put(ws, row, 1, label, st["td"])
            fitted = fit_height([(label, COLUMNS[1][1] * TABLE_CHARS)], line_pt=16)
            if fitted:
                flow.set_height(row, fitted)
            merged(ws, row, 2, 4, decider_text(settings, lst, short=True), st["td"])
            put(ws, row, 5, q.ranked, st["td_int"])
            put(ws, row, 6, q.count_a, st["td_int"])
            put(ws, row, 7, q.limit, st["td_int"])
            merged(ws, row, 8, 9, "Hợp lệ" if q.ok else "VƯỢT", st["td_ok" if q.ok else "td_bad"])
            row += 1
    if not n:
        merged(ws, row, 0, 9, "Không có người được xếp loại.", st["td_c"])
        row += 1
    return row


def _notes(
    ws: Worksheet,
    st: Styles,
    settings: Settings,
    view: UnitView,
    row: int,
    flow: PageFlow,
    columns: list[tuple[str, float]] = COLUMNS,
) -> int:
    """Late submissions, quota violations, missing people and rejected files (SPEC §4, §6, §9)."""
    notes: list[str] = []
    for lst in view.lists:
        notes.extend(f"Vượt tỷ lệ loại A — {i.message}" for i in quota_violations(lst))
        notes.extend(f"{i.title}: {i.message}" for i in late_issues(lst))
        notes.extend(
            f"{i.title} ({', '.join(filter(None, (i.file, i.where())))}): {i.message}" for i in noted_issues(lst)
        )
    if view.lists and not any(late_issues(lst) for lst in view.lists):
        notes.append("Đơn vị nộp đúng hạn.")
    notes.append(missing_text(view))
    if view.rejected_files:
        notes.append(f"Tệp bị từ chối trong kỳ: {', '.join(view.rejected_files)}.")
    last = len(columns) - 1
    merged(ws, row, 0, last, "GHI CHÚ", st["section"])
    row += 1
    width = sum(w for _, w in columns)
    for text in notes:
        merged(ws, row, 0, last, f"- {text}", st["note"])
        height = fit_height([(text, width)], line_pt=17)
        if height:
            flow.set_height(row, height)
        row += 1
    return row
