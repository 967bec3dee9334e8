"""The "TongHop" sheet of every roll-up: submission figures and the grade distribution."""

from __future__ import annotations

from datetime import date

from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from ..models import PeriodView
from ..settings import Settings
from .common import GRADES, Styles, begin_sheet, merged, print_setup, put, signatures
from .letterhead import Head
from .pages import PageFlow
from .stats import Tally, UnitLine, rejected_note


def _summary(
    ws: Worksheet, st: Styles, settings: Settings, view: PeriodView, lines: list[UnitLine], row: int, last_col: int
) -> int:
    """Sheet "TongHop": submission figures and the grade distribution of all units."""
    submitted = [ln for ln in lines if ln.submitted]
    facts: list[tuple[str, object]] = [
        ("Số đơn vị" + (" theo danh mục" if view.has_registry else " có dữ liệu (chưa có danh mục)"), len(lines)),
        ("Số đơn vị đã nộp danh sách", len(submitted)),
        ("Số đơn vị chưa nộp danh sách", len(lines) - len(submitted)),
        ("Số đơn vị nộp muộn", sum(ln.late for ln in submitted)),
        ("Số đơn vị có kết quả chưa hợp lệ (vượt tỷ lệ loại A)", sum(not ln.valid for ln in submitted)),
        ("Số người còn thiếu so với danh mục", sum(ln.missing or 0 for ln in lines) if view.has_registry else "—"),
    ]
    merged(ws, row, 0, last_col, "I. TÌNH HÌNH NỘP DANH SÁCH", st["section"])
    row += 1
    merged(ws, row, 0, 3, "Chỉ tiêu", st["th"])
    merged(ws, row, 4, 5, "Số lượng", st["th"])
    row += 1
    for label, value in facts:
        merged(ws, row, 0, 3, label, st["td"])
        ws.merge_range(row, 4, row, 5, "", st["td_int"])
        put(ws, row, 4, value, st["td_int"])
        row += 1
    status = "Kỳ đánh giá đã công khai (đã khóa)." if view.locked else "Số liệu tạm thời: kỳ đánh giá chưa khóa."
    merged(ws, row, 0, last_col, status, st["italic"])
    row += 2
    tally = Tally.total([ln.tally for ln in lines])
    merged(ws, row, 0, last_col, "II. KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI", st["section"])
    row += 1
    for first, last, label in [(0, 0, "Loại"), (1, 3, "Mức xếp loại"), (4, 4, "Số người"), (5, 5, "Tỷ lệ (%)")]:
        merged(ws, row, first, last, label, st["th"])
    row += 1
    for grade in GRADES:
        put(ws, row, 0, grade, st["td_c"])
        merged(ws, row, 1, 3, settings.codes.label("grades", grade), st["td"])
        put(ws, row, 4, tally.counts[grade], st["td_int"])
        put(ws, row, 5, tally.share(grade) if grade != "KXL" else "—", st["td_pct"])
        row += 1
    for label, count, share in (
        ("Tổng số người được xếp loại", tally.ranked, 1.0 if tally.ranked else None),
        ("Tổng số người được đánh giá", tally.people, None),
    ):
        merged(ws, row, 0, 3, label, st["tt"])
        put(ws, row, 4, count, st["tt_int"])
        put(ws, row, 5, share, st["tt_pct"])
        row += 1
    merged(
        ws, row, 0, last_col, "Tỷ lệ tính trên số người được xếp loại (không tính người không xếp loại).", st["italic"]
    )
    row += 2
    merged(ws, row, 0, last_col, "III. ĐƠN VỊ CHƯA NỘP DANH SÁCH", st["section"])
    missing = [ln for ln in lines if not ln.submitted]
    row += 1
    for n, ln in enumerate(missing, start=1):
        merged(ws, row, 0, last_col, f"{n}. {ln.name} ({ln.code}){rejected_note(ln)}", st["text"])
        row += 1
    if not missing:
        merged(ws, row, 0, last_col, "Tất cả các đơn vị đã nộp danh sách.", st["text"])
        row += 1
    return row + 1


SUMMARY_COLS = [("", 7), ("", 17), ("", 17), ("", 19), ("", 13), ("", 13), ("", 8), ("", 8)]


def write_summary_sheet(
    wb: Workbook, st: Styles, settings: Settings, view: PeriodView, lines: list[UnitLine], titles: list[str], *,
    head: Head, today: date,
) -> None:  # fmt: skip
    ws, row = begin_sheet(
        wb,
        st,
        settings,
        "TongHop",
        SUMMARY_COLS,
        titles,
        style=head.style,
        issuer=head.issuer,
        top=head.top,
        place=head.place,
        symbol=head.symbol,
        today=today,
        split=4,
    )
    last_col = len(SUMMARY_COLS) - 1
    flow = PageFlow(ws, [w for _, w in SUMMARY_COLS], landscape=False)
    flow.keep(0, row)
    row = _summary(ws, st, settings, view, lines, row + 1, last_col)
    flow.flow(row)
    end = signatures(
        ws, st, row, left=(2, 3), right=(4, last_col), right_title=head.title, right_name=head.name,
        authority=head.authority, recipients=head.recipients, recipients_at=(0, 1),
        recipients_width=SUMMARY_COLS[0][1] + SUMMARY_COLS[1][1],
    )  # fmt: skip
    flow.keep(row, end)  # the signature block on one page
    print_setup(ws, landscape=False, fit=False)
    ws.print_area(0, 0, end, last_col)
    flow.finish()
