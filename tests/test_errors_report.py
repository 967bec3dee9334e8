"""Error workbook: the clerk's own file with bad cells red and commented, a first sheet Loi,
recalculation on load, a .txt summary; a fresh one-reason workbook for unreadable files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
from helpers import valid_row

from danhgia_batch.issues import make_issue
from danhgia_batch.read import read_form
from danhgia_batch.reports.errors import ERROR_SHEET, HEADER_ROW, HEADERS, RED_FILL_COLOR, TITLE, write_error_workbook
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]


def test_annotated_copy(fill_template: Fill, settings: Settings, tmp_path: Path) -> None:
    rows = [valid_row(person_code="E1", self_I=25), valid_row(person_code="E2", final_II="abc")]
    src = fill_template("02", rows)
    form = read_form(src, settings)
    assert sorted((i.cell, i.code) for i in form.issues) == [("I17", "score-range"), ("P18", "value-not-number")]
    out = tmp_path / "out" / "bad_loi.xlsx"
    paths = write_error_workbook(src, form.issues, out)
    assert paths == [out, out.with_suffix(".txt")]

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == ERROR_SHEET
    assert wb.calculation.fullCalcOnLoad is True
    loi = wb[ERROR_SHEET]
    assert loi.cell(1, 1).value == TITLE  # the sheet has a title
    assert tuple(c.value for c in loi[HEADER_ROW]) == HEADERS
    listed = sorted((r[1].value, r[2].value, r[6].value) for r in loi.iter_rows(min_row=HEADER_ROW + 1))
    assert listed == [("DanhSach", "I17", "score-range"), ("DanhSach", "P18", "value-not-number")]
    links = {r[2].value: r[2].hyperlink.location for r in loi.iter_rows(min_row=HEADER_ROW + 1)}
    assert links == {"I17": "'DanhSach'!I17", "P18": "'DanhSach'!P18"}
    assert loi.page_setup.orientation == "landscape" and loi.sheet_properties.pageSetUpPr.fitToPage
    assert loi.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    data = wb["DanhSach"]
    assert data.print_area is not None and data.print_area.endswith("$18")  # the filled rows only

    ws = wb["DanhSach"]
    for ref in ("I17", "P18"):
        assert ws[ref].fill.fgColor.rgb == RED_FILL_COLOR
        assert ws[ref].comment is not None and ws[ref].comment.text.startswith("- ")
    assert ws["B17"].comment is None
    assert ws["B17"].value == "E1"  # the clerk's data is kept

    txt = out.with_suffix(".txt").read_text(encoding="utf-8")
    assert txt.splitlines()[0] == f"Tệp: {src.name}"
    assert "trang tính DanhSach, ô I17" in txt and "(score-range)" in txt


def test_formula_text_in_loi_sheet_is_written_as_text(fill_template: Fill, tmp_path: Path) -> None:
    src = fill_template("02")
    issue = make_issue("code-unknown", file=src.name, sheet="DanhSach", cell="F17", column="Mã chức danh", value="=1+1")
    out = tmp_path / "x_loi.xlsx"
    write_error_workbook(src, [issue], out)
    loi = openpyxl.load_workbook(out)[ERROR_SHEET]
    assert (loi.cell(HEADER_ROW + 1, 5).value, loi.cell(HEADER_ROW + 1, 5).data_type) == ("=1+1", "s")


def test_unreadable_file_gets_a_fresh_workbook(settings: Settings, tmp_path: Path) -> None:
    src = tmp_path / "hong.xlsx"
    src.write_bytes(b"\x00" * 1000)
    form = read_form(src, settings)
    out = tmp_path / "hong_loi.xlsx"
    write_error_workbook(src, form.issues, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [ERROR_SHEET]
    rows = list(wb[ERROR_SHEET].iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert [(r[1], r[2], r[6]) for r in rows] == [(None, None, "file-corrupt")]
    assert "hong.xlsx" in out.with_suffix(".txt").read_text(encoding="utf-8")


def test_file_that_openpyxl_cannot_open_falls_back(tmp_path: Path) -> None:
    """An issue list without container codes but a broken file: still a fresh workbook."""
    src = tmp_path / "odd.xlsx"
    src.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    issue = make_issue("template-unknown", file=src.name)
    out = tmp_path / "odd_loi.xlsx"
    write_error_workbook(src, [issue], out)
    assert openpyxl.load_workbook(out).sheetnames == [ERROR_SHEET]
