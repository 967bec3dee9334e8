"""The demo true to its date (issue 16): a ward today, the district in 2022, a city of wards.

The ward demo's printouts are read back: letterheads, number line, place, "Nơi nhận" and the
signer's real title and name come from the registry (SPEC §3, §10).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from danhgia_batch.demo import run_demo
from danhgia_batch.sample.ward import WARD_START, build_city, build_ward


def texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.fixture(scope="module")
def ward_demo(tmp_path_factory: pytest.TempPathFactory):
    return run_demo(tmp_path_factory.mktemp("ward") / "demo")


def test_ward_is_appendix_b(settings) -> None:
    ward = build_ward()
    assert 600 <= len(ward.people) <= 900
    names = {u.name for u in ward.units}
    assert {"Văn phòng HĐND và UBND", "Phòng Kinh tế, Hạ tầng và Đô thị", "Phòng Văn hóa – Xã hội"} <= names
    assert {"Trung tâm Phục vụ hành chính công", "Trạm Y tế phường Long Biên", "Đảng ủy phường Long Biên"} <= names
    kinds = Counter(u.kind for u in ward.units)
    assert kinds["TRUONG"] == 9 and kinds["DIA_BAN"] == 1
    (area,) = [u for u in ward.units if u.level]
    assert area.level == "PHUONG" and area.name == "Phường Long Biên" and area.valid_from == WARD_START
    assert all(u.parent_code == area.code for u in ward.units if u is not area)
    administered = {u.administers: u.code for u in ward.units if u.administers}
    assert administered == {"DANG": "BXDD", "CHINH_QUYEN": "VPHU", "TRUONG_HOC": "PVHXH"}
    known = {k.code for k in settings.codes.unit_kinds}
    assert {u.kind for u in ward.units} <= known


def test_ward_demo_ends_as_planted(ward_demo) -> None:
    assert ward_demo.scale == "ward" and ward_demo.exit_code == 0 and ward_demo.mismatches == []
    assert ward_demo.counts == ward_demo.expected
    outbox = ward_demo.directory / "outbox" / ward_demo.period
    assert (outbox / f"tong_hop_phuong_long_bien_{ward_demo.period}.xlsx").is_file()
    assert not list(outbox.glob("tong_hop_quan*"))
    config = (ward_demo.directory / "danhgia.toml").read_text("utf-8")
    assert 'district = "PHƯỜNG LONG BIÊN"' in config


def test_school_list_is_headed_and_signed_from_the_registry(ward_demo) -> None:
    path = next((ward_demo.directory / "outbox" / ward_demo.period / "TRUONG_HOC" / "TH_AIMO").glob("danh_sach*"))
    ws = openpyxl.load_workbook(path)["DanhSach"]
    assert (ws["A1"].value, ws["A2"].value) == ("UBND PHƯỜNG LONG BIÊN", "TRƯỜNG TIỂU HỌC ÁI MỘ")
    assert ws["D1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert ws["A4"].value.startswith("Số:") and ws["D4"].value.startswith("Long Biên, ngày")
    found = texts(ws)
    assert "HIỆU TRƯỞNG" in found and "THỦ TRƯỞNG ĐƠN VỊ" not in found
    assert "Nơi nhận:" in found and "- Phòng Văn hóa – Xã hội (để tổng hợp);" in found
    row = next(c.row for r in ws.iter_rows() for c in r if c.value == "HIỆU TRƯỞNG")
    name = ws.cell(row + 5, 6).value
    principal = build_ward().holders("HIEU_TRUONG")
    assert name in {p.full_name for p in principal}


def test_party_committee_with_two_deciders_is_signed_by_its_secretary(ward_demo) -> None:
    path = next((ward_demo.directory / "outbox" / ward_demo.period / "DANG" / "DU").glob("danh_sach*"))
    ws = openpyxl.load_workbook(path)["DanhSach"]
    assert (ws["A1"].value, ws["A2"].value, ws["A3"].value) == (
        "ĐẢNG BỘ THÀNH PHỐ HÀ NỘI",
        "ĐẢNG ỦY PHƯỜNG LONG BIÊN",
        "*",
    )
    assert ws["D1"].value == "ĐẢNG CỘNG SẢN VIỆT NAM" and ws["A4"].value.startswith("Số ")
    found = texts(ws)
    row = next(c.row for r in ws.iter_rows() for c in r if c.value == "T/M ĐẢNG ỦY")
    assert ws.cell(row + 1, 6).value == "BÍ THƯ"
    secretary = build_ward().holders("BI_THU_DU_PHUONG")[0].full_name
    assert secretary in found and ws.cell(row + 6, 6).value == secretary


def test_rollups_name_their_signers(ward_demo) -> None:
    outbox = ward_demo.directory / "outbox" / ward_demo.period
    ward = build_ward()
    area = openpyxl.load_workbook(outbox / f"tong_hop_phuong_long_bien_{ward_demo.period}.xlsx")["TongHop"]
    assert area["A1"].value == "ỦY BAN NHÂN DÂN PHƯỜNG LONG BIÊN" and "TOÀN PHƯỜNG LONG BIÊN" in texts(area)
    assert {"TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", ward.holders("CT_UBND_PHUONG")[0].full_name} <= set(texts(area))
    block = openpyxl.load_workbook(next((outbox / "CHINH_QUYEN").glob("tong_hop_khoi*")))["TongHop"]
    assert (block["A1"].value, block["A2"].value) == ("UBND PHƯỜNG LONG BIÊN", "VĂN PHÒNG HĐND VÀ UBND")
    assert {"CHÁNH VĂN PHÒNG", ward.people_of("VPHU")[0].full_name} <= set(texts(block))
    assert "BAN TỔ CHỨC QUẬN ỦY" not in texts(
        openpyxl.load_workbook(next((outbox / "DANG").glob("tong_hop*")))["TongHop"]
    )


def test_historic_demo_is_the_district_of_2022(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", scale="historic", units=6)
    assert result.period == "2022-03" and result.exit_code == 0 and result.mismatches == []
    assert (tmp_path / "demo" / "outbox" / "2022-03" / "tong_hop_quan_long_bien_2022-03.xlsx").is_file()


def test_city_demo_has_a_rollup_per_ward_and_for_the_city(tmp_path: Path) -> None:
    city = build_city(2, size_factor=0.3)
    assert {u.level for u in city.units if u.level} == {"THANH_PHO", "PHUONG"}
    result = run_demo(tmp_path / "demo", scale="city", wards=2, size_factor=0.3)
    assert result.exit_code == 0 and result.mismatches == []
    outbox = tmp_path / "demo" / "outbox" / result.period
    names = {p.name for p in outbox.glob("tong_hop_*.xlsx")}
    assert names == {
        f"tong_hop_{n}_{result.period}.xlsx" for n in ("thanh_pho_ha_noi", "phuong_long_bien", "phuong_bo_de")
    }
    ws = openpyxl.load_workbook(outbox / f"tong_hop_phuong_bo_de_{result.period}.xlsx")["DonVi"]
    codes = {c.value for c in ws["B"] if isinstance(c.value, str)}
    assert any(c.startswith("P02_") for c in codes) and not any(c.startswith("P01_") for c in codes)


def test_status_names_the_ward(ward_demo) -> None:
    from danhgia_batch.pipeline import period_status
    from danhgia_batch.settings import load_settings

    status = period_status(load_settings(cwd=ward_demo.directory, env={}), ward_demo.period)
    assert status.area == "Phường Long Biên" and status.to_dict()["area"] == "Phường Long Biên"
