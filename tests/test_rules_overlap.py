"""One person on a decider's list (02) and on an individual form (01) of the same period
(letter §2.3 step 3, §2.6): the list's result counts, once, whatever the arrival order."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import valid_row

from danhgia_batch.issues import CATALOGUE, Severity
from danhgia_batch.ledger import open_ledger
from danhgia_batch.models import EvaluationRow, ListHeader, ListView
from danhgia_batch.pipeline import period_status, process_inbox
from danhgia_batch.rules import covered_forms
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]


# ---- the rule on views ------------------------------------------------------------------------


def ev(code: str, grade: str, total: str | None, row: int = 10) -> EvaluationRow:
    return EvaluationRow(
        row=row,
        person_code=code,
        full_name=f"Người {code}",
        position_code="CONG_CHUC",
        category="CBCC",
        group="CBCC",
        final_grade=grade,
        final_total=Decimal(total) if total is not None else None,
        cells={"final_grade": f"V{row}"},
    )


def view(list_id: int, name: str, rows: list[EvaluationRow], decider: str = "Trần Văn Hùng") -> ListView:
    header = ListHeader(period="2022-01", unit_code="PNV", decider_name=decider, decider_position="TRUONG_PHONG")
    return ListView(list_id, name, datetime(2022, 1, 27), header, rows, "valid")


def test_forms_of_people_on_a_list_are_covered_and_noted_once() -> None:
    lst = view(1, "ds.xlsx", [ev("CB1", "B", "80"), ev("cb2", "B", "75", row=11)])
    forms = [
        view(2, "cb1.xlsx", [ev("CB1", "B", "80")]),
        view(3, "cb2.xlsx", [ev(" CB2 ", "", None)]),  # self-assessment only: no decision to differ
        view(4, "cb3.xlsx", [ev("CB3", "A", "95")]),  # not on the list: counts on its own
    ]
    assert covered_forms([lst], forms) == {2, 3}
    (note,) = lst.issues
    assert (note.code, note.severity, note.file) == ("form-covered-by-list", Severity.WARNING, "ds.xlsx")
    assert "cb1.xlsx, cb2.xlsx" in note.message and note.message.startswith("2 ")


@pytest.mark.parametrize(
    ("form_row", "decider"),
    [
        (ev("CB2", "A", "92"), "Trần Văn Hùng"),  # another grade
        (ev("CB2", "B", "80"), "Trần Văn Hùng"),  # same grade, another total
        (ev("CB2", "B", "75"), "Phạm Thị Lan"),  # the same result, decided by someone else
    ],
)
def test_a_form_that_differs_from_the_list_is_a_conflict_on_the_list_row(form_row: EvaluationRow, decider: str) -> None:
    lst = view(1, "ds.xlsx", [ev("CB1", "B", "80"), ev("CB2", "B", "75", row=11)])
    assert covered_forms([lst], [view(2, "cb2.xlsx", [form_row], decider)]) == {2}
    conflict, note = lst.issues
    assert (conflict.code, conflict.cell, conflict.row, conflict.severity) == (
        "form-list-conflict",
        "V11",
        11,
        "warning",
    )
    assert "cb2.xlsx" in conflict.message and "B, 75 điểm" in conflict.message
    assert note.code == "form-covered-by-list"


def test_no_list_covers_nothing() -> None:
    assert covered_forms([], [view(2, "cb1.xlsx", [ev("CB1", "B", "80")])]) == set()


def test_the_codes_are_warnings_in_the_catalogue() -> None:
    for code in ("form-covered-by-list", "form-list-conflict"):
        assert CATALOGUE[code].severity is Severity.WARNING


# ---- end to end: files dropped in the inbox, in either order, in separate runs ---------------


def drop(settings: Settings, source: Path, rel: str) -> None:
    dest = settings.inbox / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, dest)


def texts(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    out = [str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None]
    wb.close()
    return out


def unit_report(settings: Settings) -> Path:
    return settings.outbox / "2022-01" / "CHINH_QUYEN" / "PNV" / "danh_sach_tong_hop_pnv_2022-01.xlsx"


def process(settings: Settings) -> Any:
    result = process_inbox(settings)
    assert [f.outcome for f in result.files] == ["accepted"], [f.issues for f in result.files]
    return result


@pytest.mark.parametrize("list_first", [True, False])
def test_list_and_form_of_one_person_count_once(settings: Settings, fill_template: Fill, list_first: bool) -> None:
    # the form's default scores are 80% of each maximum: 80 points, B, as on the list
    rows = [
        valid_row(person_code="PNV001", full_name="Nguyễn Văn An", score=85),
        valid_row(person_code="PNV002", full_name="Lê Thị Mai", score=80),
    ]
    files = [(fill_template("02", rows), "PNV/ds.xlsx"), (fill_template("01"), "PNV/phieu_mai.xlsx")]
    for source, rel in files if list_first else files[::-1]:
        drop(settings, source, rel)
        process(settings)
    with open_ledger(settings) as led:
        assert [r.status for r in led.lists()] == ["valid", "valid"]  # both recorded and kept
        unit = led.unit_view("2022-01", "PNV")
        assert [lst.file_name for lst in unit.lists] == ["ds.xlsx"]
        assert sorted(r.person_code for r in unit.rows) == ["PNV001", "PNV002"]
        assert [i.code for i in unit.lists[0].issues if i.code.startswith("form-")] == ["form-covered-by-list"]
        (mai,) = [y for y in led.year_rows(2022) if y.person_code == "PNV002"]
        assert (mai.grades[1], mai.scores[1]) == ("B", Decimal(80))
    (status,) = [u for b in period_status(settings, "2022-01").blocks for u in b.units]
    assert (status.people, status.grades["B"], status.lists) == (2, 2, 1)
    notes = [t for t in texts(unit_report(settings)) if t.startswith("- Phiếu cá nhân")]
    assert len(notes) == 1 and "phieu_mai.xlsx" in notes[0]


@pytest.mark.parametrize("list_first", [True, False])
def test_a_form_that_disagrees_with_the_list_is_flagged_and_the_list_counts(
    settings: Settings, fill_template: Fill, list_first: bool
) -> None:
    rows = [
        valid_row(person_code="PNV001", full_name="Nguyễn Văn An", score=85),
        valid_row(person_code="PNV002", full_name="Lê Thị Mai", score=75),  # the form says 80
    ]
    files = [(fill_template("02", rows), "PNV/ds.xlsx"), (fill_template("01"), "PNV/phieu_mai.xlsx")]
    for source, rel in files if list_first else files[::-1]:
        drop(settings, source, rel)
        process(settings)
    with open_ledger(settings) as led:
        unit = led.unit_view("2022-01", "PNV")
        (lst,) = unit.lists
        conflict = next(i for i in lst.issues if i.code == "form-list-conflict")
        assert (conflict.sheet, conflict.cell) == ("DanhSach", lst.rows[1].cells["final_grade"])
        assert [r.final_total for r in unit.rows if r.person_code == "PNV002"] == [Decimal(75)]
        (mai,) = [y for y in led.year_rows(2022) if y.person_code == "PNV002"]
        assert mai.scores[1] == Decimal(75)
    notes = [t for t in texts(unit_report(settings)) if t.startswith("- Phiếu cá nhân khác danh sách")]
    assert len(notes) == 1 and "Lê Thị Mai" in notes[0] and "phieu_mai.xlsx" in notes[0]


def test_forms_of_people_not_on_the_list_still_count(settings: Settings, fill_template: Fill) -> None:
    drop(settings, fill_template("02", [valid_row(person_code="PNV001", score=85)]), "PNV/ds.xlsx")
    drop(settings, fill_template("01", person_code="PNV003", full_name="Đỗ Văn Nam"), "PNV/nam.xlsx")
    assert sorted(f.outcome for f in process_inbox(settings).files) == ["accepted", "accepted"]
    with open_ledger(settings) as led:
        unit = led.unit_view("2022-01", "PNV")
        assert len(unit.lists) == 2 and sorted(r.person_code for r in unit.rows) == ["PNV001", "PNV003"]
        assert not any(i.code.startswith("form-") for lst in unit.lists for i in lst.issues)
