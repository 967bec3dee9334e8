"""Templates 00/01/02 (SPEC §8): generated workbooks read back with openpyxl."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import FormulaEvaluator, default_framework, valid_row
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from danhgia_batch import layout
from danhgia_batch.cli import app
from danhgia_batch.domain import DATA_DIR, load_codes
from danhgia_batch.settings import Settings, load_settings
from danhgia_batch.templates import generate_templates
from danhgia_batch.templates.fill import find_header_row

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "templates_xlsx"
FONT = "Times New Roman"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("generated")
    settings = load_settings(cwd=out, env={})
    paths = generate_templates(settings, out)
    return dict(zip((layout.KIND_REGISTRY, layout.KIND_INDIVIDUAL, layout.KIND_UNIT_LIST), paths, strict=True))


def _open(path: Path) -> Workbook:
    return openpyxl.load_workbook(path)


def _named(wb: Workbook, name: str) -> tuple[str, str]:
    (sheet, coord) = next(iter(wb.defined_names[name].destinations))
    return sheet, coord.replace("$", "")


def _validations(ws: Worksheet) -> dict[str, Any]:
    """Cell coordinate → the data validation covering it."""
    out: dict[str, Any] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws.iter_rows(min_row=rng.min_row, max_row=rng.max_row, min_col=rng.min_col, max_col=rng.max_col):
                for c in row:
                    out[c.coordinate] = dv
    return out


def _list_values(wb: Workbook, formula: str) -> list[str]:
    sheet, rng = formula.split("!")
    assert sheet.strip("'") == layout.LISTS_SHEET
    return [c.value for row in wb[layout.LISTS_SHEET][rng.replace("$", "")] for c in row]


def _label_left_of(ws: Worksheet, coord: str) -> str:
    """Text of the label cell (or merged label range) immediately left of ``coord``."""
    target = ws[coord]
    left = ws.cell(row=target.row, column=target.column - 1).coordinate
    for merged in ws.merged_cells.ranges:
        if left in merged:
            return str(ws.cell(row=merged.min_row, column=merged.min_col).value)
    return str(ws[left].value)


# ---- the committed copies ---------------------------------------------------------------


def test_committed_templates_are_current(generated: dict[str, Path]) -> None:
    """`danhgia templates --out templates_xlsx` was run after the last generator change."""
    for kind, path in generated.items():
        committed = COMMITTED / layout.FILE_NAMES[kind]
        assert committed.is_file(), f"{committed} missing: run `make templates`"
        with zipfile.ZipFile(path) as new, zipfile.ZipFile(committed) as old:
            assert new.namelist() == old.namelist()
            for member in new.namelist():
                assert new.read(member) == old.read(member), f"{committed.name}:{member} differs"
        assert path.read_bytes() == committed.read_bytes()


def test_regeneration_is_byte_identical(tmp_path: Path, settings: Settings) -> None:
    first = generate_templates(settings, tmp_path / "a")
    second = generate_templates(settings, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


# ---- _meta, fonts, protection, print setup ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "framework"),
    [("00", ("", "")), ("01", ("HN-THANG", "2022.1")), ("02", ("HN-THANG", "2022.1"))],
)
def test_meta_sheet(generated: dict[str, Path], kind: str, framework: tuple[str, str]) -> None:
    wb = _open(generated[kind])
    ws = wb[layout.META_SHEET]
    assert ws.sheet_state == "hidden"
    meta = {r[0]: r[1] or "" for r in ws.iter_rows(values_only=True)}
    assert list(meta) == list(layout.META_KEYS)
    assert meta["template_kind"] == kind
    assert meta["template_version"] == layout.TEMPLATE_VERSION
    assert (meta["framework_id"], meta["framework_version"]) == framework
    assert wb[layout.LISTS_SHEET].sheet_state == "hidden"
    assert layout.HELP_SHEET in wb.sheetnames


@pytest.mark.parametrize("kind", ["00", "01", "02"])
def test_times_new_roman_everywhere(generated: dict[str, Path], kind: str) -> None:
    wb = _open(generated[kind])
    assert wb._named_styles["Normal"].font.name == FONT
    for ws in wb.worksheets:
        fonts = {c.font.name for row in ws.iter_rows() for c in row if c.value is not None}
        assert fonts <= {FONT}, ws.title


@pytest.mark.parametrize(
    ("kind", "sheets", "landscape"),
    [
        ("00", [layout.SHEET_UNITS, layout.SHEET_PEOPLE], [False, True]),
        ("01", [layout.SHEET_INDIVIDUAL], [False]),
        ("02", [layout.SHEET_UNIT_LIST], [True]),
    ],
)
def test_protection_and_print_setup(
    generated: dict[str, Path], kind: str, sheets: list[str], landscape: list[bool]
) -> None:
    wb = _open(generated[kind])
    for name, wide in zip(sheets, landscape, strict=True):
        ws = wb[name]
        assert ws.protection.sheet is True
        assert not ws.protection.password
        # clerks may still insert rows/columns and format (False = allowed in OOXML)
        assert ws.protection.insertRows is False and ws.protection.insertColumns is False
        assert ws.protection.formatColumns is False
        assert ws.page_setup.paperSize == 9
        assert ws.page_setup.orientation == ("landscape" if wide else "portrait")
        assert ws.print_title_rows
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True


def test_unit_list_inputs_unlocked_labels_and_formulas_locked(generated: dict[str, Path]) -> None:
    wb = _open(generated["02"])
    ws = wb[layout.SHEET_UNIT_LIST]
    for f in layout.UNIT_LIST_HEADER:
        _, coord = _named(wb, f.name)
        assert ws[coord].protection.locked is False
        label = ws.cell(row=ws[coord].row, column=1)
        assert label.value and label.protection.locked is True
    header_row, cols = find_header_row(ws, layout.unit_list_columns(_framework()))
    for key, col in cols.items():
        assert ws.cell(row=header_row, column=col).protection.locked is True
        first = ws.cell(row=header_row + 1, column=col)
        formula = key in ("self_total", "final_total", "band_grade")
        assert first.protection.locked is formula, key
        assert ws.cell(row=header_row + 200, column=col).protection.locked is formula


# ---- template 02 -------------------------------------------------------------------------


def _framework() -> Any:
    return default_framework()


def test_unit_list_header_row_holds_exactly_the_layout_labels(generated: dict[str, Path]) -> None:
    wb = _open(generated["02"])
    ws = wb[layout.SHEET_UNIT_LIST]
    columns = layout.unit_list_columns(_framework())
    header_row, _cols = find_header_row(ws, columns)
    values = [c.value for c in ws[header_row] if c.value is not None]
    assert values == [c.label for c in columns]
    assert len(set(values)) == len(values)
    captions = {c.value for c in ws[header_row - 1] if c.value}
    assert captions == {"Cá nhân tự đánh giá", "Cấp có thẩm quyền đánh giá"}
    title = ws["A1"].value  # the title follows the typed period
    assert title.startswith('="DANH SÁCH TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ "&')
    assert "KY_DANH_GIA" in title and '"THÁNG …/…"' in title  # "THÁNG" or "QUÝ" by what is typed
    assert ws.print_title_rows == f"${header_row - 1}:${header_row}"


def test_unit_list_defined_names_point_right_of_their_labels(generated: dict[str, Path]) -> None:
    wb = _open(generated["02"])
    ws = wb[layout.SHEET_UNIT_LIST]
    for f in layout.UNIT_LIST_HEADER:
        sheet, coord = _named(wb, f.name)
        assert sheet == layout.SHEET_UNIT_LIST
        assert layout.fold_label(_label_left_of(ws, coord)) == layout.fold_label(f.label), f.name
    assert _named(wb, "KY_DANH_GIA")[1] == "D4"
    assert ws["D4"].number_format == "@"  # "01/2022" is kept as text


def test_unit_list_validations(generated: dict[str, Path]) -> None:
    wb = _open(generated["02"])
    ws = wb[layout.SHEET_UNIT_LIST]
    fw = _framework()
    columns = layout.unit_list_columns(fw)
    header_row, cols = find_header_row(ws, columns)
    dvs = _validations(ws)
    codes = load_codes(DATA_DIR / "codes.toml")
    for f in columns:
        col = cols[f.key]
        for row in (header_row + 1, header_row + 100, header_row + 200):
            coord = ws.cell(row=row, column=col).coordinate
            dv = dvs.get(coord)
            if f.codes:
                assert dv is not None and dv.type == "list", (f.key, coord)
                assert _list_values(wb, dv.formula1) == codes.codes(f.codes)
            elif f.kind == "score":
                part = fw.part(f.part)
                assert dv is not None and dv.type == "decimal", (f.key, coord)
                assert (Decimal(dv.formula1), Decimal(dv.formula2)) == (part.min, part.max)
            elif f.kind == "date":
                assert dv is not None and dv.type == "date", (f.key, coord)
            else:
                assert dv is None, (f.key, coord)
    for f in layout.UNIT_LIST_HEADER:
        dv = dvs.get(_named(wb, f.name)[1])
        if f.codes:
            assert dv.type == "list" and _list_values(wb, dv.formula1) == codes.codes(f.codes)
        elif f.kind == "date":
            assert dv.type == "date"
        elif f.kind == "period":
            assert dv.type == "textLength"


def test_unit_list_formulas_in_every_prepared_row(generated: dict[str, Path]) -> None:
    wb = _open(generated["02"])
    ws = wb[layout.SHEET_UNIT_LIST]
    header_row, cols = find_header_row(ws, layout.unit_list_columns(_framework()))
    for row in range(header_row + 1, header_row + 201):
        for key in ("self_total", "final_total", "band_grade"):
            value = ws.cell(row=row, column=cols[key]).value
            assert isinstance(value, str) and value.startswith("="), (key, row)
    ev = FormulaEvaluator(ws)
    assert ev.cell(ws.cell(row=header_row + 1, column=cols["band_grade"]).coordinate) == ""


def _row_values(path: Path) -> tuple[Worksheet, int, dict[str, int]]:
    ws = _open(path)[layout.SHEET_UNIT_LIST]
    header_row, cols = find_header_row(ws, layout.unit_list_columns(_framework()))
    return ws, header_row, cols


@pytest.mark.parametrize(
    ("score", "band"),
    [(95, "A"), (90, "A"), ("89.99", "B"), (70, "B"), ("69.5", "C"), (50, "C"), ("49.99", "D"), (0, "D")],
)
def test_filled_unit_list_formulas_compute_totals_and_band(
    fill_template: Callable[..., Path], score: Any, band: str
) -> None:
    rows = [valid_row(score=60, person_code="X1"), valid_row(self_score=81, final_score=score, person_code="X2")]
    ws, header_row, cols = _row_values(fill_template("02", rows))
    ev = FormulaEvaluator(ws)
    r = header_row + 2  # the second person
    total = ev.cell(ws.cell(row=r, column=cols["final_total"]).coordinate)
    assert total == Decimal(str(score))
    assert ev.cell(ws.cell(row=r, column=cols["self_total"]).coordinate) == Decimal(81)
    assert ev.cell(ws.cell(row=r, column=cols["band_grade"]).coordinate) == band
    # the formulas of row r read only row r's part cells
    refs = ev.refs(ws.cell(row=r, column=cols["final_total"]).value)
    part_cols = {cols[f"final_{p.code}"] for p in _framework().parts}
    assert {ws[ref].column for ref in refs} == part_cols and {ws[ref].row for ref in refs} == {r}
    refs = ev.refs(ws.cell(row=r, column=cols["self_total"]).value)
    assert {ws[ref].column for ref in refs} == {cols[f"self_{p.code}"] for p in _framework().parts}


def test_fill_unit_list_writes_values_as_given(fill_template: Callable[..., Path]) -> None:
    row = valid_row(self_I="9,5", self_date="25/01/2022", note="Nghỉ ốm")
    path = fill_template("02", [row], period="02/2022", decision_date=date(2022, 2, 25))
    wb = _open(path)
    ws, header_row, cols = _row_values(path)
    assert wb[layout.SHEET_UNIT_LIST][_named(wb, "KY_DANH_GIA")[1]].value == "02/2022"
    decided = wb[layout.SHEET_UNIT_LIST][_named(wb, "NGAY_QUYET_DINH")[1]]
    assert decided.value == datetime(2022, 2, 25) and decided.number_format == "dd/mm/yyyy"
    r = header_row + 1
    assert ws.cell(row=r, column=cols["stt"]).value == 1
    assert ws.cell(row=r, column=cols["self_I"]).value == "9,5"
    assert ws.cell(row=r, column=cols["self_date"]).value == "25/01/2022"
    assert ws.cell(row=r, column=cols["final_II"]).value == 56
    assert ws.cell(row=r, column=cols["birth_date"]).value == datetime(1985, 3, 14)
    assert ws.cell(row=r, column=cols["note"]).value == "Nghỉ ốm"
    # a filled copy keeps what the clerk's Excel keeps: names, drop-downs, protection
    assert set(wb.defined_names) >= {f.name for f in layout.UNIT_LIST_HEADER}
    assert ws.protection.sheet and len(ws.data_validations.dataValidation) > 10
    with pytest.raises(KeyError):
        fill_template("02", [{"no_such_column": 1}])


# ---- template 01 -------------------------------------------------------------------------


def test_individual_defined_names_and_table(generated: dict[str, Path]) -> None:
    wb = _open(generated["01"])
    ws = wb[layout.SHEET_INDIVIDUAL]
    for f in (*layout.INDIVIDUAL_HEADER, *layout.INDIVIDUAL_RESULTS):
        sheet, coord = _named(wb, f.name)
        assert sheet == layout.SHEET_INDIVIDUAL
        assert layout.fold_label(_label_left_of(ws, coord)) == layout.fold_label(f.label), f.name
        assert ws[coord].protection.locked is f.formula, f.name
    header_row, cols = find_header_row(ws, layout.INDIVIDUAL_TABLE)
    assert [c.value for c in ws[header_row] if c.value] == [f.label for f in layout.INDIVIDUAL_TABLE]
    fw = _framework()
    expected = [(x.code, x.max) for part in fw.parts for x in (part, *part.criteria)]
    got = [
        (ws.cell(row=r, column=cols["code"]).value, Decimal(str(ws.cell(row=r, column=cols["max"]).value)))
        for r in range(header_row + 1, header_row + 1 + len(expected))
    ]
    assert got == expected
    total = ws.cell(row=header_row + 1 + len(expected), column=cols["name"]).value
    assert total == "TỔNG CỘNG"
    assert ws.print_title_rows


def test_individual_validations_use_criterion_maxima(generated: dict[str, Path]) -> None:
    wb = _open(generated["01"])
    ws = wb[layout.SHEET_INDIVIDUAL]
    header_row, cols = find_header_row(ws, layout.INDIVIDUAL_TABLE)
    dvs = _validations(ws)
    crit = {c.code: c for p in _framework().parts for c in p.criteria}
    seen = 0
    r = header_row
    while ws.cell(row=r + 1, column=cols["name"]).value != "TỔNG CỘNG":
        r += 1
        code = ws.cell(row=r, column=cols["code"]).value
        for key in ("self_score", "final_score"):
            c = ws.cell(row=r, column=cols[key])
            if code in crit:
                dv = dvs[c.coordinate]
                assert dv.type == "decimal"
                assert (Decimal(dv.formula1), Decimal(dv.formula2)) == (crit[code].min, crit[code].max)
                assert c.protection.locked is False
                seen += 1
            elif code:
                assert str(c.value).startswith("=") and c.protection.locked is True
    assert seen == 2 * len(crit)
    codes = load_codes(DATA_DIR / "codes.toml")
    for f in (*layout.INDIVIDUAL_HEADER, *layout.INDIVIDUAL_RESULTS):
        if f.codes:
            dv = dvs[_named(wb, f.name)[1]]
            assert _list_values(wb, dv.formula1) == codes.codes(f.codes), f.name


def test_filled_individual_formulas(fill_template: Callable[..., Path]) -> None:
    criteria = {"I.1": (5, 4), "I.2": ("4.5", "4.5"), "I.3": (5, 5), "I.4": (5, 5), "II.1": (25, 20)}
    criteria |= {"II.2": (25, 20), "II.3": (20, 20), "III.1": (Decimal("3.25"), 0)}
    path = fill_template("01", criteria=criteria, results={"self_grade": "B", "final_grade": "B"})
    wb = _open(path)
    ws = wb[layout.SHEET_INDIVIDUAL]
    ev = FormulaEvaluator(ws)

    def named(name: str) -> Any:
        return ev.cell(_named(wb, name)[1])

    # "4.5" was passed as text: a clerk's text is not a number, so SUM skips it
    assert named("TONG_DIEM_TU_CHAM") == Decimal("88.25")
    assert named("TONG_DIEM") == 74
    assert named("XEP_LOAI_THEO_DIEM") == "B"
    assert named("TU_XEP_LOAI") == "B" and named("HO_TEN") == "Lê Thị Mai"
    assert named("NGAY_TU_DANH_GIA") == datetime(2022, 1, 20)
    header_row, cols = find_header_row(ws, layout.INDIVIDUAL_TABLE)
    part_rows = {ws.cell(row=r, column=cols["code"]).value: r for r in range(header_row + 1, header_row + 15)}
    assert ev.cell(ws.cell(row=part_rows["II"], column=cols["final_score"]).coordinate) == 60
    refs = ev.refs(ws.cell(row=part_rows["II"], column=cols["self_score"]).value)
    assert sorted({ws[r].row for r in refs}) == [part_rows["II.1"], part_rows["II.2"], part_rows["II.3"]]


def test_filled_individual_blank_form_shows_no_grade(fill_template: Callable[..., Path]) -> None:
    path = fill_template("01", criteria={}, results={})
    wb = _open(path)
    ev = FormulaEvaluator(wb[layout.SHEET_INDIVIDUAL])
    assert ev.cell(_named(wb, "TONG_DIEM")[1]) == ""
    assert ev.cell(_named(wb, "XEP_LOAI_THEO_DIEM")[1]) == ""


# ---- template 00 -------------------------------------------------------------------------


def test_registry_sheets_and_validations(generated: dict[str, Path], fill_template: Callable[..., Path]) -> None:
    wb = _open(generated["00"])
    codes = load_codes(DATA_DIR / "codes.toml")
    for sheet, columns in ((layout.SHEET_UNITS, layout.UNIT_COLUMNS), (layout.SHEET_PEOPLE, layout.PEOPLE_COLUMNS)):
        ws = wb[sheet]
        header_row, cols = find_header_row(ws, columns)
        assert [c.value for c in ws[header_row] if c.value] == [f.label for f in columns]
        dvs = _validations(ws)
        for f in columns:
            dv = dvs.get(ws.cell(row=header_row + 1, column=cols[f.key]).coordinate)
            if f.codes:
                assert _list_values(wb, dv.formula1) == codes.codes(f.codes)
            elif f.key == "active":
                assert _list_values(wb, dv.formula1) == ["Có", "Không"]
            elif f.kind == "date":
                assert dv.type == "date"
    units = [{"unit_code": "PNV", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG"}]
    people = [{"person_code": "PNV001", "full_name": "Nguyễn Văn An", "unit_code": "PNV", "active": True}]
    filled = _open(fill_template("00", units=units, people=people))
    ws = filled[layout.SHEET_PEOPLE]
    header_row, cols = find_header_row(ws, layout.PEOPLE_COLUMNS)
    assert ws.cell(row=header_row + 1, column=cols["active"]).value == "Có"
    assert filled[layout.SHEET_UNITS].cell(row=header_row + 1, column=2).value == "Phòng Nội vụ"


def test_help_sheet_explains_the_rules(generated: dict[str, Path]) -> None:
    ws = _open(generated["02"])[layout.HELP_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for needle in ("20%", "trước ngày 25", "trước ngày 28", "trước ngày 05", "15/12", "KXL", "Ghi chú"):
        assert needle in text, needle
    assert "2 chữ số thập phân" in text and "9,5" in text and "công thức" in text


# ---- a custom framework -------------------------------------------------------------------

CUSTOM_FRAMEWORK = """
id = "THU-NGHIEM"
version = "2"
name = "Khung thử nghiệm 30/70 có phần trừ điểm"
[[part]]
code = "A"
name = "Phẩm chất"
max = 30
[[part.criterion]]
code = "A.1"
name = "Đạo đức"
max = 15
[[part.criterion]]
code = "A.2"
name = "Kỷ luật"
max = 15
[[part]]
code = "B"
name = "Kết quả công việc"
max = 70
[[part]]
code = "TRU"
name = "Điểm trừ"
max = 0
min = -10
[[part.criterion]]
code = "TRU.1"
name = "Vi phạm bị nhắc nhở"
max = 0
min = -10
"""


@pytest.fixture
def custom_settings(tmp_path: Path) -> Settings:
    (tmp_path / "khung.toml").write_text(CUSTOM_FRAMEWORK, encoding="utf-8")
    (tmp_path / "danhgia.toml").write_text('[domain]\nframeworks = ["khung.toml"]\n', encoding="utf-8")
    return load_settings(cwd=tmp_path, env={})


def test_custom_framework_changes_columns_and_maxima(custom_settings: Settings, tmp_path: Path) -> None:
    paths = generate_templates(custom_settings, tmp_path / "out")
    wb = _open(paths[2])
    ws = wb[layout.SHEET_UNIT_LIST]
    fw = custom_settings.default_framework
    assert fw.id == "THU-NGHIEM"
    columns = layout.unit_list_columns(fw)
    header_row, cols = find_header_row(ws, columns)
    labels = [c.value for c in ws[header_row] if c.value]
    assert labels == [c.label for c in columns]
    assert "Tự chấm Phần TRU" in labels and "Tự chấm Phần I" not in labels
    dvs = _validations(ws)
    ranges = {
        key: (
            Decimal(dvs[ws.cell(row=header_row + 1, column=cols[key]).coordinate].formula1),
            Decimal(dvs[ws.cell(row=header_row + 1, column=cols[key]).coordinate].formula2),
        )
        for key in ("self_A", "self_B", "final_TRU")
    }
    assert ranges == {"self_A": (0, 30), "self_B": (0, 70), "final_TRU": (-10, 0)}
    meta = {r[0]: r[1] for r in wb[layout.META_SHEET].iter_rows(values_only=True)}
    assert (meta["framework_id"], meta["framework_version"]) == ("THU-NGHIEM", "2")

    ind = _open(paths[1])[layout.SHEET_INDIVIDUAL]
    header_row, tcols = find_header_row(ind, layout.INDIVIDUAL_TABLE)
    codes = [ind.cell(row=r, column=tcols["code"]).value for r in range(header_row + 1, header_row + 8)]
    assert codes == ["A", "A.1", "A.2", "B", "TRU", "TRU.1", None]
    idvs = _validations(ind)
    b_row = header_row + 4  # part B has no criteria: scored directly on its own row
    dv = idvs[ind.cell(row=b_row, column=tcols["self_score"]).coordinate]
    assert (Decimal(dv.formula1), Decimal(dv.formula2)) == (0, 70)
    dv = idvs[ind.cell(row=b_row + 2, column=tcols["final_score"]).coordinate]
    assert (Decimal(dv.formula1), Decimal(dv.formula2)) == (-10, 0)


def test_custom_framework_fill_and_evaluate(custom_settings: Settings, fill_template: Callable[..., Path]) -> None:
    fw = custom_settings.default_framework
    row = valid_row(framework=fw, score=85, final_TRU=-5, final_B=60, final_grade="B")
    path = fill_template("02", [row], framework=fw)
    ws, header_row, cols = _row_values_for(path, fw)
    ev = FormulaEvaluator(ws)
    r = header_row + 1
    assert ev.cell(ws.cell(row=r, column=cols["self_total"]).coordinate) == 85
    assert ev.cell(ws.cell(row=r, column=cols["final_total"]).coordinate) == Decimal("80.5")
    assert ev.cell(ws.cell(row=r, column=cols["band_grade"]).coordinate) == "B"


def _row_values_for(path: Path, fw: Any) -> tuple[Worksheet, int, dict[str, int]]:
    ws = _open(path)[layout.SHEET_UNIT_LIST]
    header_row, cols = find_header_row(ws, layout.unit_list_columns(fw))
    return ws, header_row, cols


# ---- CLI -------------------------------------------------------------------------------------


def test_cli_templates_writes_three_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["templates", "--out", str(tmp_path / "tpl")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "tpl").iterdir()) == sorted(layout.FILE_NAMES.values())
    bad = CliRunner().invoke(app, ["templates", "--out", str(tmp_path / "x"), "--framework", "KHONG-CO"])
    assert bad.exit_code == 2


def test_framework_id_selects_the_leaders_framework(tmp_path: Path, settings: Settings) -> None:
    paths = generate_templates(settings, tmp_path, "HN-THANG-LD")
    for path in paths[1:]:
        meta = {r[0]: r[1] for r in _open(path)[layout.META_SHEET].iter_rows(values_only=True)}
        assert (meta["framework_id"], meta["framework_version"]) == ("HN-THANG-LD", "2022.1")
    ws = _open(paths[1])[layout.SHEET_INDIVIDUAL]
    names = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert "Năng lực lãnh đạo, quản lý, điều hành, tổ chức thực hiện" in names


def test_subject_group_is_a_drop_down_in_01_and_02(generated: dict[str, Path]) -> None:
    # issue 14: "Nhóm đối tượng" (H17:H216 of template 02, NHOM_DOI_TUONG of template 01) was
    # free text, so a clerk could split a unit into one-person groups to dodge the A-quota
    groups = ["CBCC", "VC", "KCT", "LDHD"]
    wb = _open(generated["02"])
    dvs = _validations(wb[layout.SHEET_UNIT_LIST])
    for coord in ("H17", "H216"):
        assert dvs[coord].type == "list" and _list_values(wb, dvs[coord].formula1) == groups
    wb = _open(generated["01"])
    coord = _named(wb, "NHOM_DOI_TUONG")[1]
    dv = _validations(wb[layout.SHEET_INDIVIDUAL])[coord]
    assert dv.type == "list" and _list_values(wb, dv.formula1) == groups


# ---- the title of template 02 names the period however it was typed (SPEC §13) ---------------

# every way of typing a period the reader accepts (periods.Period.parse) → the title's period
TYPED_PERIODS = {
    "03/2026": "THÁNG 03/2026",
    "3/2026": "THÁNG 03/2026",
    "3.2026": "THÁNG 03/2026",
    "2026-03": "THÁNG 03/2026",
    "2026/3": "THÁNG 03/2026",
    "Tháng 3/2026": "THÁNG 03/2026",
    "tháng 12/2026": "THÁNG 12/2026",
    "Q1/2026": "QUÝ I/2026",
    "Quý I/2026": "QUÝ I/2026",
    "quý IV/2026": "QUÝ IV/2026",
    "Quy 2/2026": "QUÝ II/2026",
    "I/2026": "QUÝ I/2026",
    "III/2026": "QUÝ III/2026",
    "2026-Q1": "QUÝ I/2026",
    "2026-Q3": "QUÝ III/2026",
}


def test_the_typed_periods_are_the_readers() -> None:
    from danhgia_batch.periods import Period

    for typed, title in TYPED_PERIODS.items():
        period = Period.parse(typed)
        assert period is not None and period.title_upper == title, typed


def test_the_title_formula_reads_only_the_period_cell(generated: dict[str, Path]) -> None:
    """The title's formula (no LET, no helper cells): the period's words are dropped from what
    was typed, so "Quý I/2026" can never read "QUÝ Quý I/2026" (recalculated below)."""
    ws = _open(generated["02"])[layout.SHEET_UNIT_LIST]
    formula = str(ws["A1"].value)
    assert formula.startswith('="DANH SÁCH TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ "&IF(TRIM(KY_DANH_GIA)="",')
    assert '"THÁNG …/…"' in formula and "LET(" not in formula
    assert '"QUÝ","Q"' in formula and '"THÁNG",""' in formula and '"KỲ "&TRIM(KY_DANH_GIA)' in formula


@pytest.mark.slow
def test_the_title_reads_right_after_recalculation(tmp_path: Path, settings: Settings) -> None:
    """Filled as a clerk would (openpyxl, every accepted way of typing the period, an empty one
    and a wrong one) and recalculated by LibreOffice, the title names the period as the reports
    do. openpyxl cannot calculate, so LibreOffice does (skipped where it is missing, except CI)."""
    import os
    import shutil
    import subprocess

    if shutil.which("soffice") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must have soffice (.ci/run installs libreoffice-calc-nogui)")
        pytest.skip("not installed: soffice")
    generate_templates(settings, tmp_path / "tpl")
    cases = {**TYPED_PERIODS, "": "THÁNG …/…", "tháng ba": "KỲ tháng ba"}
    filled = tmp_path / "filled"
    filled.mkdir()
    for i, typed in enumerate(cases):
        wb = openpyxl.load_workbook(tmp_path / "tpl" / layout.FILE_NAMES["02"])
        sheet, ref = next(wb.defined_names["KY_DANH_GIA"].destinations)
        wb[sheet][ref.replace("$", "")].value = typed or None
        wb.save(filled / f"p{i:02d}.xlsx")
    out = tmp_path / "out"
    profile = (tmp_path / "profile").as_uri()
    files = sorted(str(p) for p in filled.glob("*.xlsx"))
    cmd = ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx", "--outdir", str(out)]
    subprocess.run([*cmd, *files], check=True, capture_output=True, timeout=300)
    prefix = "DANH SÁCH TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ "
    for i, (typed, title) in enumerate(cases.items()):
        ws = openpyxl.load_workbook(out / f"p{i:02d}.xlsx", data_only=True)[layout.SHEET_UNIT_LIST]
        assert ws["A1"].value == prefix + title, typed
