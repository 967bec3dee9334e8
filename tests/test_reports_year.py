"""Year view: a row per person, a column per month (SPEC §10), read back with openpyxl."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

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


def test_the_year_quota_per_group_is_proposed(tmp_path: Path) -> None:
    """Decree 335 at year level (SPEC §13): A ≤ 20 % of the number graded B in each group, on
    the band of the average score. VHXH/CBCC: 3 A by the average (95.5, 92, 91) and 6 B: the
    maximum is 1 (1 A for 8 B: floor(1.6) = 1; 2 A for 7 B: floor(1.4) = 1 < 2), so the best
    average is within and the two others are marked; VHXH/VC: 1 A and 1 B, a group of fewer
    than 5 may have one A. Nothing is regraded in the year sheet."""
    from danhgia_batch.regimes import apply_regime
    from danhgia_batch.settings import load_settings

    work = tmp_path / "work"
    work.mkdir()
    (work / "danhgia.toml").write_text('[regimes]\nuse = ["hn-1841", "nd-335-cong-chuc"]\n', encoding="utf-8")
    settings = load_settings(cwd=work, env={})
    regime = apply_regime(settings, settings.catalogue.get("nd-335-cong-chuc"))

    def person(code: str, group: str, *scores: str) -> YearRow:
        r = YearRow(code, f"Nguyễn Văn {code}", "VHXH", "Phòng Văn hóa - Xã hội", "CHINH_QUYEN", group=group)
        for q, s in enumerate(scores, start=1):
            r.quarter_scores[q] = Decimal(s)
            r.quarter_grades[q] = "A" if Decimal(s) >= 90 else "B"
        return r

    rows = [
        person("VH003", "CBCC", "91", "91"),
        person("VH001", "CBCC", "95", "96"),  # 95.5
        person("VH002", "CBCC", "90", "94"),  # 92
        *(person(f"VH01{i}", "CBCC", "80", "80") for i in range(6)),
        person("VC001", "VC", "93"),
        person("VC002", "VC", "75"),
    ]
    path = write_year_view(2026, rows, settings, average=True, grading=regime.grading, quota=regime.quota)
    wb = load_workbook(path)
    assert wb.sheetnames[:2] == ["Nam", "TyLeLoaiA"]
    ws = wb["TyLeLoaiA"]
    assert any("đề xuất" in t and "không tự thay đổi xếp loại" in t and "20 % số người loại B" in t for t in texts(ws))
    top, _ = find(ws, "Mã cán bộ")
    body = [row_values(ws, r, 1, 11) for r in range(top + 1, ws.max_row + 1)]
    people = [(b[3], b[5], b[7], b[8], b[9], b[10]) for b in body if isinstance(b[0], int)]
    within, over = "Trong tỷ lệ", "Vượt tỷ lệ loại A: đề nghị xem xét xếp loại B"
    assert people == [
        ("VH001", 95.5, 3, 6, 1, within),  # ordered by the average score, best first
        ("VH002", 92, 3, 6, 1, over),
        ("VH003", 91, 3, 6, 1, over),
        ("VC001", 93, 1, 1, 1, within),
    ]
    titles = [b[0] for b in body if isinstance(b[0], str)]
    assert titles == [
        "Đơn vị: Phòng Văn hóa - Xã hội (VHXH) · nhóm CBCC: vượt tỷ lệ",
        "Đơn vị: Phòng Văn hóa - Xã hội (VHXH) · nhóm VC: trong tỷ lệ",
    ]
    # the year sheet itself keeps the grades as recorded
    year = wb["Nam"]
    r, _ = find(year, "VH003")
    assert "A" in row_values(year, r)


def test_the_letters_year_view_has_no_quota_sheet(settings: Settings) -> None:
    path = write_year_view(2022, year_rows(), settings)
    assert load_workbook(path).sheetnames == ["Nam"]
