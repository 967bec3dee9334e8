"""read_form: filled templates → typed rows, or every problem at cell precision (issue 3).

Every fixture is generated here: templates filled with openpyxl as a clerk's Excel would
(``fill_template``), then edited the way a clerk (or a broken program) would.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import default_criteria, valid_row

from danhgia_batch.issues import CATALOGUE
from danhgia_batch.models import FormResult
from danhgia_batch.read import read_form
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]


def where(form: FormResult) -> list[tuple[str, str, str]]:
    assert all(i.code in CATALOGUE for i in form.issues)
    return [(i.sheet, i.cell, i.code) for i in form.issues]


def edit(path: Path, fn: Callable[[Any], None]) -> Path:
    """Open with openpyxl, let ``fn`` change the workbook, save in place (a clerk's edit)."""
    wb = openpyxl.load_workbook(path)
    fn(wb)
    wb.save(path)
    return path


def rewrite_member(path: Path, member: str, fn: Callable[[bytes], bytes]) -> Path:
    """Rewrite one zip member in place (for what Excel can do but openpyxl cannot write)."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            z.writestr(name, fn(data) if name == member else data)
    return path


def meta(key: str, value: str) -> Callable[[Any], None]:
    def change(wb: Any) -> None:
        ws = wb["_meta"]
        for row in ws.iter_rows():
            if row[0].value == key:
                row[1].value = value

    return change


# ---------------------------------------------------------------- template 02: valid


def test_valid_unit_list(fill_template: Fill, settings: Settings) -> None:
    rows = [
        valid_row(score=92, person_code="pnv001"),
        valid_row(score="89.99", person_code="PNV002", full_name="Trần Thị Bình"),
    ]
    form = read_form(fill_template("02", rows), settings)
    assert where(form) == []
    assert (form.kind, form.sheet, form.framework_id, form.template_version) == ("02", "DanhSach", "HN-THANG", "1.0")
    h = form.header
    assert (h.period, h.unit_code, h.block, h.decider_position, h.decision_date) == (
        "2022-01",
        "PNV",
        "CHINH_QUYEN",
        "TRUONG_PHONG",
        date(2022, 1, 26),
    )
    assert h.cells["period"] == "D4"
    r0, r1 = form.rows
    assert (r0.row, r0.person_code, r0.final_total, r0.final_grade) == (17, "PNV001", Decimal(92), "A")
    assert r1.final_total == Decimal("89.99")  # exact, never rounded (SPEC §5)
    assert sum(r1.self_parts.values()) == Decimal("89.99") and set(r1.self_parts) == {"I", "II", "III"}
    assert r0.group == "CBCC"
    assert r1.cells["final_total"] == "R18"
    assert r1.cells["person_code"] == "B18"


def test_group_defaults_to_category(fill_template: Fill, settings: Settings) -> None:
    form = read_form(fill_template("02", [valid_row(group=None, category="vc")]), settings)
    assert where(form) == []
    assert (form.rows[0].category, form.rows[0].group) == ("VC", "VC")


def test_blank_rows_skipped_and_real_row_numbers_kept(fill_template: Fill, settings: Settings) -> None:
    rows = [valid_row(person_code="A1"), {}, {}, valid_row(person_code="A2", self_I="abc")]
    form = read_form(fill_template("02", rows), settings)
    assert [r.row for r in form.rows] == [17, 20]
    assert where(form) == [("DanhSach", "I20", "value-not-number")]


def test_inserted_and_reordered_columns(fill_template: Fill, settings: Settings) -> None:
    path = fill_template("02", [valid_row(person_code="X1", full_name="Lê Văn Cường", final_III=Decimal(3))])

    def clerk(wb: Any) -> None:
        ws = wb["DanhSach"]
        ws.insert_cols(12)  # a new column L after the self scores
        ws["L16"] = "Số hiệu riêng"
        ws["L17"] = "abc"
        # swap "Mã cán bộ" (B) and "Họ và tên" (C), labels and values
        for r in (16, 17):
            ws[f"B{r}"].value, ws[f"C{r}"].value = ws[f"C{r}"].value, ws[f"B{r}"].value

    form = read_form(edit(path, clerk), settings)
    row = form.rows[0]
    assert (row.person_code, row.full_name, row.cells["person_code"], row.cells["full_name"]) == (
        "X1",
        "Lê Văn Cường",
        "C17",
        "B17",
    )
    assert (row.final_parts["III"], row.cells["final_III"], row.cells["final_total"]) == (Decimal(3), "R17", "S17")
    assert where(form) == []


def test_data_not_at_a1_and_no_defined_names(fill_template: Fill, settings: Settings) -> None:
    """Rows and columns added above and left; names gone: labels still find everything."""
    path = fill_template("02", [valid_row(self_II="x")])

    def clerk(wb: Any) -> None:
        for name in list(wb.defined_names):
            del wb.defined_names[name]
        ws = wb["DanhSach"]
        ws.insert_rows(1, 3)
        ws.insert_cols(1, 2)

    form = read_form(edit(path, clerk), settings)
    assert form.header.period == "2022-01"
    assert form.header.cells["period"] == "F7"
    assert [r.row for r in form.rows] == [20]
    assert where(form) == [("DanhSach", "L20", "value-not-number")]


def test_nfd_text_and_lower_case_codes(fill_template: Fill, settings: Settings) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    row = valid_row(full_name=nfd, position_code="cong_chuc", category="cbcc", final_grade="b", self_grade="b")
    form = read_form(fill_template("02", [row], unit_code="pnv"), settings)
    assert where(form) == []
    r = form.rows[0]
    assert r.full_name == "Nguyễn Thị Hồng Nhung" and unicodedata.is_normalized("NFC", r.full_name)
    assert (r.position_code, r.category, r.final_grade, form.header.unit_code) == ("CONG_CHUC", "CBCC", "B", "PNV")


def test_control_characters_and_long_text(fill_template: Fill, settings: Settings) -> None:
    rows = [valid_row(full_name="Phạm\u200b Văn\x7f Dũng", note="LONGTEXT")]
    path = fill_template("02", rows)  # openpyxl truncates at 32,767: write the long text raw
    rewrite_member(path, "xl/worksheets/sheet1.xml", lambda d: d.replace(b"LONGTEXT", b"x" * 33000))
    form = read_form(path, settings)
    assert where(form) == [("DanhSach", "C17", "text-control-chars"), ("DanhSach", "W17", "text-too-long")]
    assert form.rows[0].full_name == "Phạm Văn Dũng"


@pytest.mark.parametrize(
    ("value", "parsed", "code"),
    [
        # typed as text: read, and a warning (the sheet's own SUM skips text; issue 18)
        ("9,5", Decimal("9.5"), "score-as-text"),
        ("9.5", Decimal("9.5"), "score-as-text"),
        (" 10 ", Decimal(10), "score-as-text"),
        (9.5, Decimal("9.5"), None),
        ("1.234", None, "value-ambiguous"),
        ("1,234", None, "value-ambiguous"),
        (9.125, None, "score-decimals"),
        ("mười", None, "value-not-number"),
    ],
)
def test_score_values(
    fill_template: Fill, settings: Settings, value: Any, parsed: Decimal | None, code: str | None
) -> None:
    form = read_form(fill_template("02", [valid_row(score=80, final_III=value)]), settings)
    assert where(form) == ([] if code is None else [("DanhSach", "Q17", code)])
    if parsed is not None:
        assert form.rows[0].final_parts["III"] == parsed


def test_score_out_of_range_required_codes_and_duplicates(fill_template: Fill, settings: Settings) -> None:
    rows = [
        valid_row(person_code="D1", self_I=25, position_code="XYZ"),
        valid_row(person_code="D1", full_name=None, final_grade="E"),
        valid_row(person_code="D3", final_II=None),
    ]
    form = read_form(fill_template("02", rows), settings)
    assert sorted(where(form)) == sorted(
        [
            ("DanhSach", "F17", "code-unknown"),
            ("DanhSach", "I17", "score-range"),
            ("DanhSach", "B18", "person-duplicate"),
            ("DanhSach", "C18", "value-required"),
            ("DanhSach", "T18", "code-unknown"),
            ("DanhSach", "P19", "value-required"),
        ]
    )


@pytest.mark.parametrize(
    ("value", "expected", "code"),
    [
        ("20/01/2022", date(2022, 1, 20), None),
        (44581, date(2022, 1, 20), None),
        (datetime(2022, 1, 20, 9, 30), date(2022, 1, 20), None),
        ("32/01/2022", None, "date-invalid"),
        ("hôm qua", None, "date-invalid"),
    ],
)
def test_dates(fill_template: Fill, settings: Settings, value: Any, expected: date | None, code: str | None) -> None:
    form = read_form(fill_template("02", [valid_row(self_date=value)]), settings)
    if code is None:
        assert form.rows[0].self_date == expected
        assert where(form) == []
    else:
        assert ("DanhSach", "N17", code) in where(form)


def test_1904_date_system(fill_template: Fill, settings: Settings) -> None:
    path = fill_template("02", [valid_row()])

    def mac(wb: Any) -> None:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        wb.epoch = CALENDAR_MAC_1904
        ws = wb["DanhSach"]
        ws["N17"] = date(2022, 1, 21)  # stored as a 1904-based serial
        ws["D17"] = (date(1985, 3, 14) - date(1904, 1, 1)).days  # a bare serial, 1904 system
        ws["D17"].number_format = "General"

    form = read_form(edit(path, mac), settings)
    assert (form.rows[0].self_date, form.rows[0].birth_date) == (date(2022, 1, 21), date(1985, 3, 14))


@pytest.mark.parametrize(
    ("period", "expected"),
    [("01/2022", "2022-01"), ("1/2022", "2022-01"), ("2022-01", "2022-01"), (date(2022, 1, 1), "2022-01")],
)
def test_period_forms(fill_template: Fill, settings: Settings, period: Any, expected: str) -> None:
    form = read_form(fill_template("02", period=period), settings)
    assert form.header.period == expected


def test_header_problems(fill_template: Fill, settings: Settings) -> None:
    path = fill_template("02", period="13/2022", block="KHOI_LA", decider_name=None, decision_date="31/02/2022")
    form = read_form(path, settings)
    assert where(form) == [
        ("DanhSach", "D4", "period-invalid"),
        ("DanhSach", "D7", "code-unknown"),
        ("DanhSach", "D10", "date-invalid"),
        ("DanhSach", "D8", "header-missing"),
    ]


# ---------------------------------------------------------------- formulas


def test_formulas_without_cached_values_are_normal(fill_template: Fill, settings: Settings) -> None:
    """openpyxl-saved files store no cached results: totals are recomputed, no issue."""
    form = read_form(fill_template("02", [valid_row(score=75)]), settings)
    assert where(form) == []
    assert form.rows[0].final_total == Decimal(75)


@pytest.mark.parametrize(("cached", "expected"), [(b"50", [("DanhSach", "R17", "formula-cached-mismatch")]),
                                               (b"75", []), (b"0", [])])  # fmt: skip
def test_stale_cached_value_under_intact_formula_is_reported(
    fill_template: Fill, settings: Settings, cached: bytes, expected: list[tuple[str, str, str]]
) -> None:
    """SPEC §8 (issue 18): the sheet the decider signed shows 50 where the product computes 75;
    xlsxwriter's placeholder 0 means "never calculated" and says nothing."""
    path = fill_template("02", [valid_row(score=75)])
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda d: re.sub(rb'(<c r="R17"[^>]*><f>[^<]*</f>)<v\s*/>', rb"\1<v>" + cached + rb"</v>", d),
    )
    form = read_form(path, settings)
    assert where(form) == expected
    assert form.rows[0].final_total == Decimal(75)


def test_a_score_typed_as_text_is_reported(fill_template: Fill, settings: Settings) -> None:
    """'9,05' typed as text: Excel's SUM skips it, so the clerk's total is not the product's."""
    form = read_form(fill_template("02", [valid_row(score=75, final_II="9,05")]), settings)
    found = [(sheet, code) for sheet, _, code in where(form) if code == "score-as-text"]
    assert found == [("DanhSach", "score-as-text")]


def test_typed_over_total(fill_template: Fill, settings: Settings) -> None:
    rows = [
        valid_row(score=75, person_code="T1", final_total=95),  # typed over, disagrees
        valid_row(score=75, person_code="T2", final_total=75),  # typed over, agrees: harmless
        valid_row(score=75, person_code="T3", band_grade="A"),  # grade-by-score typed over
    ]
    form = read_form(fill_template("02", rows), settings)
    assert where(form) == [("DanhSach", "R17", "formula-overwritten"), ("DanhSach", "S19", "formula-overwritten")]


# ---------------------------------------------------------------- recognition


def test_unknown_kind_old_version_and_missing_meta(fill_template: Fill, settings: Settings) -> None:
    assert where(read_form(edit(fill_template("02"), meta("template_kind", "07")), settings)) == [
        ("_meta", "", "template-unknown")
    ]
    assert where(read_form(edit(fill_template("02"), meta("template_version", "0.9")), settings)) == [
        ("_meta", "", "template-version")
    ]

    def drop(wb: Any) -> None:
        del wb["_meta"]

    assert where(read_form(edit(fill_template("02"), drop), settings)) == [("", "", "template-unknown")]


def test_template_of_another_kind(fill_template: Fill, settings: Settings) -> None:
    form = read_form(edit(fill_template("02"), meta("template_kind", "01")), settings)
    assert where(form) == [("", "", "template-kind")]


def test_unknown_framework_and_framework_period(fill_template: Fill, settings: Settings) -> None:
    form = read_form(edit(fill_template("02"), meta("framework_version", "1999.9")), settings)
    assert where(form) == [("_meta", "", "framework-unknown")]
    form = read_form(fill_template("02", period="12/2021"), settings)
    assert where(form) == [("DanhSach", "D4", "framework-period")]


def test_empty_template(fill_template: Fill, settings: Settings, template_dir: Callable[..., Path]) -> None:
    form = read_form(template_dir() / "mau_02_tong_hop_don_vi.xlsx", settings)
    assert where(form) == [
        ("DanhSach", "D4", "header-missing"),
        ("DanhSach", "D5", "header-missing"),
        ("DanhSach", "D6", "header-missing"),
        ("DanhSach", "D7", "header-missing"),
        ("DanhSach", "D8", "header-missing"),
        ("DanhSach", "D9", "header-missing"),
        ("DanhSach", "D10", "header-missing"),
        ("DanhSach", "B17", "table-empty"),
    ]
    assert form.rows == []


def test_hidden_sheets(fill_template: Fill, settings: Settings) -> None:
    def clerk(wb: Any) -> None:
        extra = wb.create_sheet("Nhap")
        extra["A1"] = "Mã cán bộ"
        extra["B1"] = "Họ và tên"
        extra["A2"] = "ZZZ"
        extra.sheet_state = "hidden"
        wb["DanhSach"].sheet_state = "hidden"
        wb.active = 1

    form = read_form(edit(fill_template("02", [valid_row(person_code="H1")]), clerk), settings)
    assert where(form) == []
    assert [r.person_code for r in form.rows] == ["H1"]


# ---------------------------------------------------------------- templates 01 and 00


def test_individual_form(fill_template: Fill, settings: Settings) -> None:
    form = read_form(fill_template("01"), settings)
    assert where(form) == []
    assert (form.kind, form.sheet) == ("01", "Phieu")
    (row,) = form.rows
    assert (row.person_code, row.position_code, row.category, row.group) == ("PNV002", "CONG_CHUC", "CBCC", "CBCC")
    assert row.criteria["I.1"] == (Decimal(4), Decimal(4))
    assert row.self_parts == {"I": Decimal(16), "II": Decimal(56), "III": Decimal(8)}
    assert row.final_total == Decimal(80)
    assert (row.self_grade, row.final_grade, row.self_date) == ("B", "B", date(2022, 1, 20))


def test_individual_form_problems(fill_template: Fill, settings: Settings) -> None:
    criteria: dict[str, tuple[Any, Any]] = dict(default_criteria())
    criteria.update({"I.1": (Decimal(6), Decimal(4)), "II.1": ("1.234", Decimal(20)), "III.1": (None, Decimal(5))})
    path = fill_template("01", criteria=criteria, results={"self_grade": "B", "final_grade": "B", "final_total": 99})
    form = read_form(path, settings)
    assert sorted(where(form)) == [
        ("Phieu", "C34", "formula-overwritten"),  # TONG_DIEM typed over with 99
        ("Phieu", "D20", "score-range"),
        ("Phieu", "D25", "value-ambiguous"),
        ("Phieu", "D29", "value-required"),
    ]


def test_registry(fill_template: Fill, settings: Settings) -> None:
    units = [
        {"unit_code": "pnv", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG"},
        {"unit_code": "PTP", "unit_name": None, "block": "CHINH_QUYEN", "unit_kind": "PHONG"},
    ]
    people = [
        {
            "person_code": "PNV001",
            "full_name": "Nguyễn Văn An",
            "birth_date": "14/03/1985",
            "unit_code": "PNV",
            "position_code": "CONG_CHUC",
            "category": "CBCC",
            "active": False,
        }
    ]
    form = read_form(fill_template("00", units=units, people=people), settings)
    assert form.kind == "00"
    assert [(u.code, u.row) for u in form.units] == [("PNV", 5), ("PTP", 6)] or [u.code for u in form.units] == [
        "PNV",
        "PTP",
    ]
    p = form.people[0]
    assert (p.code, p.birth_date, p.active, p.group) == ("PNV001", date(1985, 3, 14), False, "CBCC")
    assert [c for _, _, c in where(form)] == ["value-required"]


def test_wrong_dimension_tag(fill_template: Fill, settings: Settings) -> None:
    """The <dimension> says A1:B2; the reader goes by the data, not by the tag."""
    path = fill_template("02", [valid_row(person_code="W1"), valid_row(person_code="W2")])
    rewrite_member(
        path, "xl/worksheets/sheet1.xml", lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', d)
    )
    form = read_form(path, settings)
    assert where(form) == []
    assert [(r.row, r.person_code) for r in form.rows] == [(17, "W1"), (18, "W2")]


# ---- registry size: its own row limit (robustness brief, defect 2) -------------------------

CITY_UNITS = [
    {"unit_code": f"U{u:03d}", "unit_name": f"Đơn vị số {u}", "block": "CHINH_QUYEN", "unit_kind": "PHONG"}
    for u in range(40)
]


def city_person(i: int) -> dict[str, Any]:
    return {
        "person_code": f"CB{i:06d}",
        "full_name": f"Nguyễn Thị Hồng {i}",
        "birth_date": date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
        "unit_code": f"U{i % 40:03d}",
        "position_title": "Chuyên viên",
        "position_code": "CONG_CHUC",
        "category": "CBCC",
        "group": "CBCC",
        "active": i % 97 != 0,
    }


def zip_registry(template_dir: Callable[..., Path], out: Path, n: int) -> Path:
    """The real template 00 with ``n`` people, filled at the zip level (seconds, not minutes)."""
    from danhgia_batch.demo.zipfill import ZipFiller

    return ZipFiller(template_dir() / "danh_muc.xlsx").fill_registry(out, CITY_UNITS, map(city_person, range(n)))


def test_zip_filled_registry_reads_like_an_openpyxl_filled_one(
    fill_template: Fill, template_dir: Callable[..., Path], settings: Settings, tmp_path: Path
) -> None:
    people = [city_person(i) for i in range(5)]
    slow = read_form(fill_template("00", units=CITY_UNITS[:3], people=people), settings)
    fast = read_form(
        __import__("danhgia_batch.demo.zipfill", fromlist=["ZipFiller"])
        .ZipFiller(template_dir() / "danh_muc.xlsx")
        .fill_registry(tmp_path / "fast.xlsx", CITY_UNITS[:3], people),
        settings,
    )
    assert fast.issues == slow.issues == []
    assert fast.units == slow.units and fast.people == slow.people


@pytest.mark.slow
def test_city_registry_over_max_rows_is_read_whole(
    template_dir: Callable[..., Path], settings: Settings, tmp_path: Path
) -> None:
    """25,000 people: more than ``reader.max_rows`` (20,000), within ``max_registry_rows``."""
    n = 25_000
    assert settings.reader.max_rows < n + 3 <= settings.reader.max_registry_rows
    form = read_form(zip_registry(template_dir, tmp_path / "thanh_pho.xlsx", n), settings)
    assert form.kind == "00" and form.issues == []
    assert len(form.units) == 40 and len(form.people) == n
    last = form.people[-1]
    assert (last.code, last.full_name, last.unit_code, last.row) == (
        f"CB{n - 1:06d}",
        f"Nguyễn Thị Hồng {n - 1}",
        f"U{(n - 1) % 40:03d}",
        n + 3,
    )
    assert last.birth_date == city_person(n - 1)["birth_date"]
    assert [p.active for p in form.people[:98:97]] == [False, False]


def test_registry_rows_have_their_own_limit(
    fill_template: Fill, template_dir: Callable[..., Path], settings: Settings, tmp_path: Path
) -> None:
    """Scaled down: a unit list is held to ``max_rows``, the registry to ``max_registry_rows``."""
    import dataclasses

    def limited(**limits: int) -> Settings:
        return dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, **limits))

    registry = zip_registry(template_dir, tmp_path / "danh_muc.xlsx", 1500)  # sheet rows 1..1503
    unit_list = fill_template("02")
    small = limited(max_rows=150, max_registry_rows=2000)
    (unit_form,) = [read_form(unit_list, small)]
    assert [(i.sheet, i.code) for i in unit_form.issues] == [("DanhSach", "file-too-many-cells")]
    form = read_form(registry, small)  # a worker raises its limits for it, then retires
    assert form.issues == [] and len(form.people) == 1500
    tight = read_form(registry, limited(max_rows=150, max_registry_rows=1000))
    assert [(i.sheet, i.code) for i in tight.issues] == [("CanBo", "file-too-many-cells")]
    assert "1000 dòng" in tight.issues[0].message


def test_registry_sheet_in_another_kind_of_file_keeps_max_rows(
    fill_template: Fill, settings: Settings, tmp_path: Path
) -> None:
    """A unit list with a huge sheet named like the registry's does not get the registry's limit."""
    import dataclasses

    def add_sheet(wb: Any) -> None:
        ws = wb.create_sheet("CanBo")
        for r in range(1, 401):
            ws.cell(row=r, column=1, value=r)

    path = edit(fill_template("02"), add_sheet)
    small = dataclasses.replace(
        settings, reader=dataclasses.replace(settings.reader, max_rows=350, max_registry_rows=2000)
    )
    form = read_form(path, small)
    assert ("CanBo", "file-too-many-cells") in [(i.sheet, i.code) for i in form.issues]
    assert form.rows == []
