"""Block, district and city roll-ups (SPEC §10), read back with openpyxl."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string
from report_views import (
    EVIL_NAME,
    assert_no_formula_or_link,
    district,
    find,
    lst,
    row,
    row_values,
    staff_rows,
    texts,
    unit_view,
)

from danhgia_batch.reports import write_block_rollup, write_district_rollup
from danhgia_batch.settings import Settings

UNIT_HEAD = ["STT", "Mã đơn vị", "Tên đơn vị", "Đã nộp", "Đúng hạn", "Số người theo xếp loại"]
SUB_HEAD = ["A", "B", "C", "D", "KXL", "Tổng số", "A", "B", "C", "D"]


def _units(ws) -> dict[str, list[object]]:  # type: ignore[no-untyped-def]
    """Rows of the unit table by unit code (column B), from under the header to the total row."""
    top, _ = find(ws, "STT")
    out = {}
    r = top + 2
    while ws.cell(r, 3).value != "Tổng cộng":
        out[ws.cell(r, 2).value] = row_values(ws, r)
        r += 1
    out["TOTAL"] = row_values(ws, r)
    return out


def test_block_rollup_units_and_totals(settings: Settings) -> None:
    path = write_block_rollup(district(), "CHINH_QUYEN", settings)
    assert path == settings.outbox / "2022-01" / "CHINH_QUYEN" / "tong_hop_khoi_chinh_quyen_2022-01.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["TongHop", "DonVi"]
    ws = wb["DonVi"]
    find(ws, "BÁO CÁO TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ THÁNG 01/2022")
    find(ws, "Khối Chính quyền")
    top, _ = find(ws, "STT")
    assert row_values(ws, top, 1, 6) == UNIT_HEAD
    assert row_values(ws, top + 1, 6, 15) == SUB_HEAD
    units = _units(ws)
    # registry order, then the unit that sent data without being in the registry; other blocks absent
    assert list(units) == ["PNV", "PTP", "UBND_BD", "XTRA", "TOTAL"]
    pnv = units["PNV"]
    assert pnv[2:5] == ["Phòng Nội vụ", "Có", "Muộn"]
    assert pnv[5:11] == [3, 1, 0, 1, 0, 5]  # A B C D KXL total
    assert pnv[11] == pytest.approx(0.6) and pnv[14] == pytest.approx(0.2)
    assert pnv[15:17] == ["Vượt tỷ lệ loại A", 1]
    assert units["PTP"][3:5] == ["Có", "Đúng hạn"] and units["PTP"][15] == "Hợp lệ"
    assert units["UBND_BD"][3] == "Chưa" and units["UBND_BD"][5:11] == [None] * 6
    assert units["XTRA"][5:11] == [1, 5, 0, 0, 1, 7] and units["XTRA"][11] == pytest.approx(1 / 6)
    total = units["TOTAL"]
    assert total[3] == "3/4" and total[5:11] == [4, 9, 0, 1, 1, 15]
    assert total[11] == pytest.approx(4 / 14)
    find(ws, "ĐƠN VỊ CHƯA NỘP DANH SÁCH (1)")
    find(ws, "1. Ủy ban nhân dân phường Bồ Đề (UBND_BD)")
    assert ws.cell(top + 2, 12).number_format == "0.0%"


def test_block_summary_sheet(settings: Settings) -> None:
    ws = load_workbook(write_block_rollup(district(), "CHINH_QUYEN", settings))["TongHop"]
    assert ws["A1"].value == "UBND QUẬN LONG BIÊN" and ws["A2"].value == "PHÒNG NỘI VỤ"  # the administrator
    find(ws, "Long Biên, ngày 03 tháng 02 năm 2022")
    facts = {}
    top, _ = find(ws, "Chỉ tiêu")
    for r in range(top + 1, top + 7):
        facts[ws.cell(r, 1).value] = ws.cell(r, 5).value
    assert facts == {
        "Số đơn vị theo danh mục": 4,
        "Số đơn vị đã nộp danh sách": 3,
        "Số đơn vị chưa nộp danh sách": 1,
        "Số đơn vị nộp muộn": 1,
        "Số đơn vị có kết quả chưa hợp lệ (vượt tỷ lệ loại A)": 1,
        "Số người còn thiếu so với danh mục": 1,
    }
    top, _ = find(ws, "Mức xếp loại")
    grades = {ws.cell(r, 1).value: (ws.cell(r, 5).value, ws.cell(r, 6).value) for r in range(top + 1, top + 6)}
    assert grades["A"] == (4, pytest.approx(4 / 14)) and grades["KXL"] == (1, "—")
    assert "1. Ủy ban nhân dân phường Bồ Đề (UBND_BD)" in texts(ws)
    assert "Số liệu tạm thời: kỳ đánh giá chưa khóa." in texts(ws)
    assert "NGƯỜI LẬP BIỂU" in texts(ws)


def test_party_block_header(settings: Settings) -> None:
    ws = load_workbook(write_block_rollup(district(), "DANG", settings))["DonVi"]
    assert ws["A1"].value == "ĐẢNG BỘ QUẬN LONG BIÊN" and ws["A2"].value == "BAN TỔ CHỨC QUẬN ỦY"
    find(ws, "ĐẢNG CỘNG SẢN VIỆT NAM")
    assert list(_units(ws)) == ["VPQU", "BTCQU", "TOTAL"]


def test_block_chart_refers_to_its_own_cells(settings: Settings) -> None:
    path = write_block_rollup(district(), "CHINH_QUYEN", settings)
    with zipfile.ZipFile(path) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = zf.read(charts[0]).decode("utf-8")
    assert 'val="percentStacked"' in xml
    assert xml.count("<c:ser>") == 5  # A, B, C, D, KXL
    ws = load_workbook(path)["DonVi"]
    top, _ = find(ws, "STT")
    codes = [ws.cell(r, 2).value for r in range(top + 2, top + 6)]
    # a contiguous copy in hidden columns (the printed table may carry its header again mid-way)
    ref = re.search(r"<c:cat>.*?<c:f>DonVi!\$([A-Z]+)\$2:\$([A-Z]+)\$5</c:f>", xml, re.S)
    assert ref is not None and ref.group(1) == ref.group(2)
    col = column_index_from_string(ref.group(1))
    assert [ws.cell(r, col).value for r in range(2, 6)] == codes
    assert ws.column_dimensions[ref.group(1)].hidden
    assert [ws.cell(r, col + 1).value for r in range(2, 6)] == [
        ws.cell(r, 6).value or 0 for r in range(top + 2, top + 6)
    ]
    assert "plotVisOnly" not in xml  # absent: cells in hidden columns are plotted


def test_print_setup_every_sheet(settings: Settings) -> None:
    wb = load_workbook(write_district_rollup(district(), settings))
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize == 9
        # pages.PageFlow: its own fit-to-width scale and page breaks, the print area = used rows
        assert ws.sheet_properties.pageSetUpPr is None or not ws.sheet_properties.pageSetUpPr.fitToPage
        assert 30 <= ws.page_setup.scale <= 100 and ws.print_area is not None
        assert ws.oddFooter.center.text == "Trang &P/&N"
    assert wb["TongHop"].page_setup.orientation == "portrait"
    for name in ("Khoi", "DonVi"):
        ws = wb[name]
        top, _ = find(ws, "STT")
        assert ws.page_setup.orientation == "landscape"
        assert ws.print_title_rows is None  # written again where a table runs onto a new page
        assert ws.freeze_panes == f"D{top + 2}"


def test_district_rollup(settings: Settings) -> None:
    path = write_district_rollup(district(), settings)
    assert path == settings.outbox / "2022-01" / "tong_hop_quan_long_bien_2022-01.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["TongHop", "Khoi", "DonVi"]
    ws = wb["Khoi"]
    find(ws, "TOÀN QUẬN LONG BIÊN")
    top, _ = find(ws, "STT")
    blocks = {ws.cell(r, 2).value: row_values(ws, r, 3, 19) for r in range(top + 2, top + 5)}
    assert list(blocks) == ["DANG", "CHINH_QUYEN", "TRUONG_HOC"]
    # label, units, submitted, not submitted, late, A B C D KXL total
    assert blocks["DANG"][:11] == ["Khối Đảng, đoàn thể", 2, 1, 1, 0, 1, 5, 1, 0, 0, 7]
    assert blocks["CHINH_QUYEN"][:11] == ["Khối Chính quyền", 4, 3, 1, 1, 4, 9, 0, 1, 1, 15]
    assert blocks["CHINH_QUYEN"][-2:] == [1, 1]  # units over the quota, people missing
    total = row_values(ws, top + 5, 3, 14)
    assert total == ["Tổng cộng", 7, 5, 2, 1, 6, 23, 2, 1, 1, 33, pytest.approx(6 / 32)]
    units = _units(wb["DonVi"])
    assert list(units) == ["VPQU", "BTCQU", "PNV", "PTP", "UBND_BD", "XTRA", "MN_HS", "TOTAL"]
    assert units["MN_HS"][3] == "Khối Trường học"
    with zipfile.ZipFile(path) as zf:
        assert sum(n.startswith("xl/charts/chart") for n in zf.namelist()) == 1  # per block, on "Khoi"


def test_city_scope_and_no_registry(settings: Settings) -> None:
    view = replace(district(), expected_units=[], has_registry=False)
    path = write_district_rollup(view, settings, scope="city")
    assert path.name == "tong_hop_thanh_pho_2022-01.xlsx"
    wb = load_workbook(path)
    find(wb["Khoi"], "TOÀN THÀNH PHỐ")
    assert list(_units(wb["DonVi"])) == ["VPQU", "PNV", "PTP", "XTRA", "MN_HS", "TOTAL"]
    top, _ = find(wb["TongHop"], "Chỉ tiêu")
    assert wb["TongHop"].cell(top + 1, 1).value == "Số đơn vị có dữ liệu (chưa có danh mục)"


def test_input_text_stays_text(settings: Settings) -> None:
    view = district()
    evil = unit_view([lst([row(1, EVIL_NAME, 80)], unit="=1+1")], unit="=1+1", name=EVIL_NAME, block="DANG")
    view.units.append(evil)
    block = write_block_rollup(view, "DANG", settings)
    whole = write_district_rollup(view, settings)
    for path in (block, whole):
        assert_no_formula_or_link(path)
        ws = load_workbook(path)["DonVi"]
        r, c = find(ws, EVIL_NAME)
        assert ws.cell(r, c).data_type == "s" and ws.cell(r, c - 1).value == "=1+1"


def test_long_unit_codes_fit_their_column(settings: Settings) -> None:
    """Ward codes such as UBND_NGOCTHUY are capitals: the code column widens to hold them on
    one line (a 13-wide column wrapped them into the next row when printed)."""
    view = district()
    long_code = "UBND_PHUCDONG_X"
    view = replace(
        view,
        units=[
            *view.units,
            unit_view([lst(staff_rows([85, 80]), unit=long_code)], unit=long_code, block="CHINH_QUYEN"),
        ],
    )
    ws = load_workbook(write_block_rollup(view, "CHINH_QUYEN", settings))["DonVi"]
    assert long_code in _units(ws)
    assert ws.column_dimensions["B"].width >= len(long_code) * 1.3
    short = load_workbook(write_block_rollup(district(), "DANG", settings))["DonVi"]
    assert 13 <= short.column_dimensions["B"].width < ws.column_dimensions["B"].width


# ---- areas (issue 16, SPEC §3): a roll-up per ward, commune, district or city --------------


def test_scope_selects_areas_by_level_and_code() -> None:
    from danhgia_batch.models import PeriodView
    from danhgia_batch.reports.areas import area_view, root_area, select_areas
    from danhgia_batch.sample.ward import build_city

    city = build_city(3, size_factor=0.2)
    view = PeriodView("2026-12", expected_units=city.units, has_registry=True, org={u.code: u for u in city.units})
    assert [a.code for a in select_areas(view, "all")] == ["HN", "P01_P_LONGBIEN", "P02_P_BODE", "P03_P_VIETHUNG"]
    assert [a.code for a in select_areas(view, "phuong")] == ["P01_P_LONGBIEN", "P02_P_BODE", "P03_P_VIETHUNG"]
    assert [a.code for a in select_areas(view, "PHUONG:P02_P_BODE")] == ["P02_P_BODE"]
    assert [a.code for a in select_areas(view, "THANH_PHO")] == ["HN"]
    with pytest.raises(ValueError):
        select_areas(view, "XA")
    assert root_area(view) is not None and root_area(view).code == "HN"
    bode = area_view(view, view.org["P02_P_BODE"])
    assert bode.expected_units and all(u.code.startswith("P02_") for u in bode.expected_units)


def test_area_rollups_are_named_after_each_area(settings: Settings) -> None:
    from danhgia_batch.models import PeriodView
    from danhgia_batch.reports import write_area_rollups
    from danhgia_batch.sample.ward import build_city

    city = build_city(2, size_factor=0.2)
    view = PeriodView("2026-12", expected_units=city.units, has_registry=True, org={u.code: u for u in city.units})
    paths = write_area_rollups(view, settings, scope="PHUONG")
    assert [p.name for p in paths] == ["tong_hop_phuong_long_bien_2026-12.xlsx", "tong_hop_phuong_bo_de_2026-12.xlsx"]
    ws = load_workbook(paths[1])["TongHop"]
    assert ws["A1"].value == "ỦY BAN NHÂN DÂN PHƯỜNG BỒ ĐỀ"
    assert "TOÀN PHƯỜNG BỒ ĐỀ" in texts(ws) and "- Thành phố Hà Nội (để báo cáo);" in texts(ws)
