"""Unit aggregate list and commendation list (letter §2.6, SPEC §10), read back with openpyxl."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from report_views import (
    EVIL_NAME,
    PHONE,
    assert_no_formula_or_link,
    find,
    lst,
    person,
    row,
    row_values,
    staff_rows,
    texts,
    unit_view,
)

from danhgia_batch.reports import (
    atomic_workbook,
    unit_dir,
    write_unit_reports,
)
from danhgia_batch.reports.common import slug
from danhgia_batch.settings import Settings, load_settings

HEADERS = [
    "STT",
    "Họ và tên",
    "Mã cán bộ",
    "Ngày sinh",
    "Chức vụ",
    "Đối tượng",
    "Tự chấm (điểm)",
    "Tự xếp loại",
    "Điểm cấp có thẩm quyền",
    "Xếp loại",
    "Ghi chú",
]
TODAY = date(2022, 2, 3)


def _write(view, settings: Settings):  # type: ignore[no-untyped-def]
    unit_list, commendation = write_unit_reports(view, settings, today=TODAY)
    return load_workbook(unit_list)["DanhSach"], load_workbook(commendation)["KhenThuong"]


def _table(ws) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """Data rows of the main table (between the numbering row and the first blank row)."""
    top, _ = find(ws, "(1)")
    out = []
    r = top + 1
    while ws.cell(r, 1).value is not None or ws.cell(r, 2).value is not None:
        out.append(row_values(ws, r, 1, 11))
        r += 1
    return out


def test_paths_follow_outbox_layout(settings: Settings) -> None:
    view = unit_view([lst(staff_rows([95, 80]))])
    paths = write_unit_reports(view, settings, today=TODAY)
    folder = settings.outbox / "2022-01" / "CHINH_QUYEN" / "PNV"
    assert unit_dir(settings, "2022-01", "CHINH_QUYEN", "PNV") == folder
    assert [p.name for p in paths] == ["danh_sach_tong_hop_pnv_2022-01.xlsx", "de_nghi_khen_thuong_pnv_2022-01.xlsx"]
    assert all(p.parent == folder and p.name.isascii() for p in paths)
    assert sorted(os.listdir(folder)) == sorted(p.name for p in paths)  # no temp file left behind


def test_slug_is_ascii() -> None:
    assert slug("Trường THCS Ái Mộ - Đức Giang") == "truong_thcs_ai_mo_duc_giang"


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.xlsx"
    with atomic_workbook(target) as wb:
        wb.add_worksheet("Cu").write_string(0, 0, "bản cũ")
    with pytest.raises(RuntimeError), atomic_workbook(target) as wb:
        wb.add_worksheet("Moi")
        raise RuntimeError("crash while writing")
    assert load_workbook(target).sheetnames == ["Cu"]
    assert os.listdir(target.parent) == ["a.xlsx"]


def test_state_header_title_and_table(settings: Settings) -> None:
    rows = staff_rows([95, 85, 80, 75, 60])
    ws, _ = _write(unit_view([lst(rows)]), settings)
    assert ws["A1"].value == "UBND QUẬN LONG BIÊN"
    assert ws["A2"].value == "PHÒNG NỘI VỤ" and ws["A2"].font.b
    r, c = find(ws, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    motto = ws.cell(r + 1, c)
    assert motto.value == "Độc lập - Tự do - Hạnh phúc" and motto.font.u == "single"
    find(ws, "Long Biên, ngày 03 tháng 02 năm 2022")
    r, c = find(ws, "DANH SÁCH TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ THÁNG 01/2022")
    assert ws.cell(r, c).font.b and ws.cell(r, c).font.name == "Times New Roman"
    assert any(str(m).startswith(f"A{r}:") for m in ws.merged_cells.ranges)
    find(ws, "Đơn vị: Phòng Nội vụ")
    hr, _ = find(ws, "STT")
    assert row_values(ws, hr, 1, 11) == HEADERS
    table = _table(ws)
    assert [t[:2] + t[4:6] for t in table] == [[i + 1, x.full_name, "Công chức", "CBCC"] for i, x in enumerate(rows)]
    assert [t[2] for t in table] == [x.person_code for x in rows]  # with the birth date: namesakes differ
    assert [t[6:10] for t in table] == [
        [s, g, s, g] for s, g in [(95, "A"), (85, "B"), (80, "B"), (75, "B"), (60, "C")]
    ]


def test_party_header(settings: Settings) -> None:
    view = unit_view([lst(staff_rows([80]), unit="VPQU")], unit="VPQU", name="Văn phòng Quận ủy", block="DANG")
    ws, kt = _write(view, settings)
    for sheet in (ws, kt):
        assert sheet["A1"].value == "ĐẢNG BỘ QUẬN LONG BIÊN"
        assert sheet["A2"].value == "VĂN PHÒNG QUẬN ỦY"
        r, c = find(sheet, "ĐẢNG CỘNG SẢN VIỆT NAM")
        assert sheet.cell(r, c).font.u == "single"
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" not in texts(sheet)


def test_grade_totals_and_percentages(settings: Settings) -> None:
    rows = [*staff_rows([95, 85, 80, 75, 60]), row(40, "Mai Thị Nghỉ", None, grade="KXL", note="Nghỉ thai sản")]
    ws, _ = _write(unit_view([lst(rows)]), settings)
    top, _ = find(ws, "TỔNG HỢP KẾT QUẢ XẾP LOẠI")
    got = {ws.cell(r, 1).value: (ws.cell(r, 4).value, ws.cell(r, 5).value) for r in range(top + 2, top + 7)}
    assert got["A"] == (1, pytest.approx(0.2))
    assert got["B"] == (3, pytest.approx(0.6))
    assert got["C"] == (1, pytest.approx(0.2))
    assert got["D"] == (0, 0)
    assert got["KXL"] == (1, "—")  # not ranked: no share (percent of ranked people)
    assert ws.cell(top + 2, 5).number_format == "0.0%"
    r, _ = find(ws, "Tổng số người được xếp loại")
    assert ws.cell(r, 4).value == 5
    r, _ = find(ws, "Tổng số người trong danh sách")
    assert ws.cell(r, 4).value == 6


def test_quota_status_per_group(settings: Settings) -> None:
    rows = [*staff_rows([95, 94, 93, 80, 75, 72]), row(20, "Vũ Thị Mai", 80, category="VC")]
    view = unit_view([lst(rows, status="invalid-quota")])
    ws, _ = _write(view, settings)
    top, _ = find(ws, "Nhóm đối tượng")
    lines = {ws.cell(r, 2).value: [ws.cell(r, 3).value, *row_values(ws, r, 6, 9)] for r in (top + 1, top + 2)}
    cbcc = lines["Cán bộ, công chức"]
    assert cbcc[0] == "Nguyễn Văn Quyết" and cbcc[1:3] == [6, 3] and cbcc[3] < 3 and cbcc[4] == "VƯỢT"
    assert lines["Viên chức"][1:3] == [1, 0] and lines["Viên chức"][4] == "Hợp lệ"
    assert "KẾT QUẢ CHƯA HỢP LỆ: vượt tỷ lệ loại A (xem mục Tỷ lệ loại A)." in texts(ws)


def test_late_and_missing_notes(settings: Settings) -> None:
    view = unit_view([lst(staff_rows([80]), late=True)], missing=[person("P099", "Đinh Văn Vắng")], registry_size=2)
    ws, _ = _write(view, settings)
    late = view.lists[0].issues[0]
    notes = [t for t in texts(ws) if t.startswith("- ")]
    assert f"- {late.title}: {late.message}" in notes
    assert any("Đinh Văn Vắng (P099)" in n and "thiếu 1 người" in n for n in notes)

    ws, _ = _write(unit_view([lst(staff_rows([80]))], missing=None), settings)
    notes = [t for t in texts(ws) if t.startswith("- ")]
    assert any("Chưa có danh mục" in n for n in notes)
    assert "- Đơn vị nộp đúng hạn." in notes


def test_several_decider_lists_are_grouped(settings: Settings) -> None:
    head = lst([row(1, "Phạm Văn Trưởng", 88, position="TRUONG_PHONG")], decider="Lê Chủ Tịch", position="CT_UBND_Q")
    staff = lst(staff_rows([85, 75], start=2), list_id=2)
    ws, _ = _write(unit_view([head, staff]), settings)
    table = _table(ws)
    assert str(table[0][0]).startswith("I. Danh sách do Lê Chủ Tịch")
    assert str(table[2][0]).startswith("II. Danh sách do Nguyễn Văn Quyết")
    assert [t[0] for t in table if isinstance(t[0], int)] == [1, 2, 3]


def test_signatures(settings: Settings) -> None:
    ws, kt = _write(unit_view([lst(staff_rows([80]))]), settings)
    for sheet in (ws, kt):
        all_text = texts(sheet)
        assert "NGƯỜI LẬP BIỂU" in all_text and "THỦ TRƯỞNG ĐƠN VỊ" in all_text
        assert all_text.count("(Ký, ghi rõ họ tên)") == 2
        assert "Trần Thị Lập" in all_text  # prepared by, from the list header


def test_print_setup_and_fonts(settings: Settings) -> None:
    ws, kt = _write(unit_view([lst(staff_rows([95, 80]))]), settings)
    for sheet in (ws, kt):
        hr, _ = find(sheet, "STT")
        assert sheet.freeze_panes == f"A{hr + 2}"
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == 9
        if sheet is kt:
            assert sheet.print_title_rows == f"${hr}:${hr + 1}"
            assert sheet.sheet_properties.pageSetUpPr.fitToPage
            assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0  # 1 page wide
        else:  # pages.PageFlow: its own scale and breaks, the header written again on each page
            assert sheet.print_title_rows is None and 40 <= sheet.page_setup.scale < 100
            assert sheet.print_area is not None
        assert sheet.oddFooter.center.text == "Trang &P/&N"
        data = sheet.cell(hr + 2, 2)
        assert data.font.name == "Times New Roman" and data.font.sz == 12 and data.border.left.style == "thin"
        assert sheet.column_dimensions["B"].width > 20


def test_input_text_stays_text(settings: Settings) -> None:
    rows = [row(1, EVIL_NAME, 95, title=PHONE, note="-x @x http://x.example"), row(2, "@cmd", 80, note="=1+1")]
    paths = write_unit_reports(unit_view([lst(rows)]), settings, today=TODAY)
    ws = load_workbook(paths[0])["DanhSach"]
    r, c = find(ws, EVIL_NAME)
    assert ws.cell(r, c).data_type == "s"
    assert ws.cell(r, c + 3).value == PHONE and ws.cell(r, c + 3).data_type == "s"
    assert ws.cell(r, 11).value == "-x @x http://x.example"
    find(ws, "=1+1")
    find(load_workbook(paths[1])["KhenThuong"], EVIL_NAME)
    for p in paths:
        assert_no_formula_or_link(p)


def test_empty_unit_says_so(settings: Settings) -> None:
    ws, kt = _write(unit_view([]), settings)
    assert "Chưa có danh sách nào của đơn vị được tiếp nhận trong kỳ." in texts(ws)
    assert "Không có người đủ điều kiện đề nghị khen thưởng." in texts(kt)


# ---- commendation -------------------------------------------------------------------------


def test_commendation_lists_a_by_score(settings: Settings) -> None:
    rows = staff_rows([91, 85, 96, 80, 72])
    _, kt = _write(unit_view([lst(rows)]), settings)
    find(kt, "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG")
    find(kt, "Kết quả đánh giá, xếp loại CBCCVC, LĐHĐ tháng 01/2022")
    table = _table(kt)
    assert [t[:2] for t in table] == [[1, "Lê Quang Huy"], [2, "Nguyễn Thị Thu Hà"]]
    assert [t[4:7] for t in table] == [
        [96, "A", "Hoàn thành xuất sắc nhiệm vụ"],
        [91, "A", "Hoàn thành xuất sắc nhiệm vụ"],
    ]
    assert "Tổng số: 2 người." in texts(kt)


def test_commendation_grades_are_configurable(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path, env={}, overrides={"reports": {"commendation_grades": ["A", "B"]}})
    _, kt = _write(unit_view([lst(staff_rows([91, 85, 60]))]), settings)
    assert [t[5] for t in _table(kt)] == ["A", "B"]


def test_commendation_withheld_for_quota_invalid_list(settings: Settings) -> None:
    bad = lst(staff_rows([95, 94, 93, 80, 75, 72]), status="invalid-quota", decider="Ngô Văn Sai")
    good = lst([row(30, "Hồ Thị Giỏi", 92)], decider="Đào Văn Đúng", list_id=2)
    _, kt = _write(unit_view([bad, good]), settings)
    table = _table(kt)
    assert [t[1] for t in table] == ["Hồ Thị Giỏi"]  # nobody from the invalid list
    find(kt, "DANH SÁCH CHƯA ĐỦ ĐIỀU KIỆN ĐỀ NGHỊ KHEN THƯỞNG")
    why = next(t for t in texts(kt) if t.startswith("- Danh sách do Ngô Văn Sai"))
    assert "nhóm 'Cán bộ, công chức' có 3 người loại A, vượt mức tối đa" in why
    assert "đang chờ đơn vị gửi tệp đã sửa" in why
    for name in ("Nguyễn Thị Thu Hà", "Trần Văn Minh", "Lê Quang Huy"):
        assert name not in texts(kt)


def test_namesakes_differ_by_code_and_birth_date(settings: Settings) -> None:
    import dataclasses

    one, two = (row(1, "Lê Hồng Ly", 85), row(2, "Lê Hồng Ly", 80))
    one = dataclasses.replace(one, person_code="P101", birth_date=date(1980, 5, 2))
    two = dataclasses.replace(two, person_code="P102", birth_date=date(1991, 11, 30))
    ws, _ = _write(unit_view([lst([one, two])]), settings)
    table = _table(ws)
    assert [t[1:4] for t in table] == [["Lê Hồng Ly", "P101", "02/05/1980"], ["Lê Hồng Ly", "P102", "30/11/1991"]]


def test_the_head_decided_above_is_not_missing(settings: Settings) -> None:
    head = person("P000", "Nguyễn Văn Quyết")  # decides the unit's list, decided on a higher authority's
    view = unit_view([lst(staff_rows([80]))], missing=[head, person("P099", "Đinh Văn Vắng")], registry_size=3)
    ws, _ = _write(view, settings)
    notes = " ".join(t for t in texts(ws) if t.startswith("- "))
    assert "Còn thiếu 1 người" in notes and "Đinh Văn Vắng (P099)" in notes
    assert "Nguyễn Văn Quyết (P000): người quyết định xếp loại của đơn vị" in notes
    assert "Nguyễn Văn Quyết (P000)" not in notes.split("Còn thiếu", 1)[1].split(".", 1)[0]


def test_a_list_with_products_shows_them_and_the_task_percent(settings: Settings) -> None:
    """SPEC §13: a list judged under Decree 335 (its rows carry the products) shows the products,
    failed checks, delays and the task % computed from them; hand-computed:
    staff (12, 11, 10, 9, 2, 3): (11/12 + 9.5/12 + 8.25/12)/3 = 79.86 %;
    a deputy (10, 10, 9, 8, 1, 2) with leader components 100/90/80: 5.325/6 = 88.75 %."""
    from decimal import Decimal

    staff = row(1, "Nguyễn Thị Thu Hà", 83.9)
    staff.inputs = {k: Decimal(v) for k, v in zip(
        ("assigned", "completed", "quality", "on_time", "failed_checks", "delays"), (12, 11, 10, 9, 2, 3), strict=True
    )}  # fmt: skip
    deputy = row(2, "Lê Thị Hạnh", 90.13, position="CAP_PHO", title="Phó trưởng phòng")
    deputy.inputs = {k: Decimal(v) for k, v in zip(
        ("assigned", "completed", "quality", "on_time", "failed_checks", "delays", "led_units", "leadership", "cohesion"),
        (10, 10, 9, 8, 1, 2, 100, 90, 80), strict=True,
    )}  # fmt: skip
    view = unit_view([lst([staff, deputy], period="2026-Q1")], period="2026-Q1")
    ws, _ = _write(view, settings)
    top, _ = find(ws, "STT")
    heads = row_values(ws, top, 1, 18)
    assert heads == [
        *HEADERS[:6],
        "Số SP được giao",
        "Số SP hoàn thành",
        "Số SP đạt chất lượng",
        "Số SP đúng hạn",
        "Số lần kiểm tra không đạt",
        "Số lần chậm tiến độ",
        "Tỷ lệ hoàn thành nhiệm vụ (%)",
        *HEADERS[6:],
    ]
    first = row_values(ws, top + 2, 1, 18)
    second = row_values(ws, top + 3, 1, 18)
    assert first[2] == "P001" and first[6:13] == [12, 11, 10, 9, 2, 3, 79.86] and first[15] == 83.9
    assert second[2] == "P002" and second[6:13] == [10, 10, 9, 8, 1, 2, 88.75]


def test_a_letter_list_keeps_its_columns(settings: Settings) -> None:
    ws, _ = _write(unit_view([lst(staff_rows([95, 85, 75]))]), settings)
    top, _ = find(ws, "STT")
    assert row_values(ws, top, 1, 12) == [*HEADERS, None]
