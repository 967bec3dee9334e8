"""Year view: a row per person, a column per month (SPEC §10), read back with openpyxl."""

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook
from report_views import EVIL_NAME, PHONE, assert_no_formula_or_link, find, row_values, texts, year_rows

from danhgia_batch.models import YearRow
from danhgia_batch.reports import write_year_view
from danhgia_batch.settings import Settings

MONTHS = [f"T{m}" for m in range(1, 13)]


def test_year_view_rows_and_counts(settings: Settings) -> None:
    path = write_year_view(2022, year_rows(), settings, today=date(2023, 1, 10))
    assert path == settings.outbox / "nam_2022" / "tong_hop_nam_2022.xlsx"
    ws = load_workbook(path)["Nam"]
    find(ws, "TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI HẰNG THÁNG CỦA CBCCVC, LĐHĐ NĂM 2022")
    find(ws, "Long Biên, ngày 10 tháng 01 năm 2023")
    top, _ = find(ws, "STT")
    assert row_values(ws, top, 1, 5) == ["STT", "Mã cán bộ", "Họ và tên", "Chức vụ", "Xếp loại từng tháng"]
    assert row_values(ws, top + 1, 5, 21) == [*MONTHS, "A", "B", "C", "D", "KXL"]
    body = [row_values(ws, r, 1, 22) for r in range(top + 2, ws.max_row + 1)]
    firsts = [b[0] for b in body if isinstance(b[0], str)]
    # grouped by block (code-list order), then unit
    assert firsts[:7] == [
        "KHỐI ĐẢNG, ĐOÀN THỂ",
        "Đơn vị: Văn phòng Quận ủy (VPQU)",
        "KHỐI CHÍNH QUYỀN",
        "Đơn vị: Phòng Nội vụ (PNV)",
        "KHỐI TRƯỜNG HỌC",
        "Đơn vị: Trường Mầm non Hoa Sữa (MN_HS)",
        "Ô trống: tháng chưa có kết quả được tiếp nhận. KXL: không xếp loại.",
    ]
    people = {b[1]: b for b in body if isinstance(b[0], int)}
    assert [p[0] for p in people.values()] == [1, 2, 3, 4]
    ha = people["P001"]
    assert ha[2:4] == ["Nguyễn Thị Thu Hà", "Chuyên viên"]
    assert ha[4:16] == ["A", "B", "B", "KXL", *[None] * 8]
    assert ha[16:22] == [1, 2, 0, 0, 1, 4]  # A B C D KXL months
    assert people["P010"][4:16] == ["B"] * 12 and people["P010"][16:22] == [0, 12, 0, 0, 0, 12]


def test_year_view_print_setup_and_text(settings: Settings) -> None:
    path = write_year_view(2022, year_rows(), settings)
    ws = load_workbook(path)["Nam"]
    top, _ = find(ws, "STT")
    assert ws.print_title_rows == f"${top}:${top + 1}"
    assert ws.freeze_panes == f"D{top + 2}"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.oddFooter.center.text == "Trang &P/&N"
    r, c = find(ws, EVIL_NAME)
    assert ws.cell(r, c).data_type == "s" and ws.cell(r, c + 1).value == PHONE
    assert ws.cell(r, c).font.name == "Times New Roman"
    assert_no_formula_or_link(path)


def test_empty_year(settings: Settings) -> None:
    ws = load_workbook(write_year_view(2023, [], settings))["Nam"]
    assert "Chưa có kết quả đánh giá nào trong năm 2023." in texts(ws)


def test_people_sorted_by_given_name_within_unit(settings: Settings) -> None:
    names = ["Trần Văn Đào", "Lê Thị Dung", "Hồ Văn Bình", "Phạm Thị Ánh"]
    rows = [YearRow(f"P{i}", n, "PNV", "Phòng Nội vụ", "CHINH_QUYEN", grades={1: "B"}) for i, n in enumerate(names)]
    ws = load_workbook(write_year_view(2022, rows, settings))["Nam"]
    top, _ = find(ws, "STT")
    got = [ws.cell(r, 3).value for r in range(top + 2, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)]
    assert got == ["Phạm Thị Ánh", "Hồ Văn Bình", "Lê Thị Dung", "Trần Văn Đào"]  # Đ after D
