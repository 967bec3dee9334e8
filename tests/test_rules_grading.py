"""Grades and bands (letter §2.5), and check_form over a whole form."""

from __future__ import annotations

import ast
import dataclasses
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from danhgia_batch.issues import CATALOGUE, Severity
from danhgia_batch.models import EvaluationRow, FormResult, ListHeader
from danhgia_batch.rules import check_form, check_grades, grade_for
from danhgia_batch.rules.common import Where, column_labels
from danhgia_batch.settings import GradingSettings, Settings

D = Decimal


def make_row(n: int, grade: str = "B", total: str | None = "80", **kw: object) -> EvaluationRow:
    """Row n of a template 02 list (Excel row 10 + n) with every cell address filled."""
    r = 10 + n
    values: dict = {
        "row": r,
        "person_code": f"CB{n:03d}",
        "full_name": f"Người {n}",
        "position_code": "CONG_CHUC",
        "category": "CBCC",
        "group": "CBCC",
        "self_total": None if total is None else D(total),
        "final_total": None if total is None else D(total),
        "self_grade": grade,
        "final_grade": grade,
        "cells": {k: f"{col}{r}" for k, col in _COLS.items()},
    }
    values.update(kw)
    return EvaluationRow(**values)


_COLS = {
    "position_code": "F",
    "self_grade": "M",
    "self_date": "N",
    "final_grade": "U",
    "evaluator_position": "W",
    "note": "X",
}


def codes_at(issues: list) -> list[tuple[str, str]]:
    return [(i.code, i.cell) for i in issues]


# ---- grade_for: the band from the exact total ------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        ("0", "D"),
        ("49.99", "D"),
        ("50", "C"),
        ("50.00", "C"),
        ("69.99", "C"),
        ("70", "B"),
        ("89.99", "B"),
        ("90", "A"),
        ("90.00", "A"),
        ("100", "A"),
        # out of range is the reader's score-range issue; grade_for never raises
        ("100.01", "A"),
        ("-5", "D"),
        ("NaN", "D"),
    ],
)
def test_band_of_exact_total(settings: Settings, total: str, band: str) -> None:
    assert grade_for(D(total), settings.grading) == band


def test_grade_for_never_raises_on_garbage(settings: Settings) -> None:
    assert grade_for("không phải số", settings.grading) == "D"  # type: ignore[arg-type]
    assert grade_for(None, settings.grading) == "D"  # type: ignore[arg-type]
    assert grade_for(89.99, settings.grading) == "B"  # type: ignore[arg-type]


def test_thresholds_come_from_settings() -> None:
    grading = GradingSettings(a=85, b=65.5, c=40)
    assert [grade_for(D(x), grading) for x in ("85", "84.99", "65.5", "65.49", "40", "39.99")] == [
        "A",
        "B",
        "B",
        "C",
        "C",
        "D",
    ]


# ---- row rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "total", "expected"),
    [
        ("A", "89.99", [("grade-above-band", "U11"), ("self-grade-above-band", "M11")]),
        ("B", "69.99", [("grade-above-band", "U11"), ("self-grade-above-band", "M11")]),
        ("A", "90", []),
        ("B", "70", []),
        ("D", "10", []),
    ],
)
def test_grade_above_band(settings: Settings, grade: str, total: str, expected: list) -> None:
    issues = check_grades([make_row(1, grade, total)], settings)
    assert sorted(codes_at(issues)) == sorted(expected)
    assert all(i.severity is Severity.ERROR for i in issues)


def test_self_grade_checked_against_self_total(settings: Settings) -> None:
    row = make_row(1, "B", "80", self_grade="A", self_total=D("91"), final_grade="B")
    assert codes_at(check_grades([row], settings)) == []
    row = make_row(1, "B", "80", self_grade="A", self_total=D("89.5"))
    issues = check_grades([row], settings)
    assert codes_at(issues) == [("self-grade-above-band", "M11")]
    assert issues[0].row == 11 and issues[0].column == "Tự xếp loại"


def test_below_band_needs_a_reason(settings: Settings) -> None:
    lowered = make_row(1, "C", "85")
    issues = check_grades([lowered], settings)
    assert codes_at(issues) == [("grade-below-band-no-reason", "U11")]
    assert issues[0].severity is Severity.WARNING
    with_reason = make_row(1, "C", "85", note="Vi phạm kỷ luật trong tháng")
    assert check_grades([with_reason], settings) == []
    blank_reason = make_row(1, "C", "85", note="   ")
    assert codes_at(check_grades([blank_reason], settings)) == [("grade-below-band-no-reason", "U11")]


def test_below_band_explained_by_full_quota(settings: Settings) -> None:
    row = make_row(1, "B", "95", self_grade="A")
    assert codes_at(check_grades([row], settings)) == [("grade-below-band-no-reason", "U11")]
    assert check_grades([row], settings, quota_full_groups={"CBCC"}) == []
    # only A-band → B is explained by the quota; A-band → C still needs a reason
    row_c = make_row(1, "C", "95", self_grade="A")
    assert codes_at(check_grades([row_c], settings, quota_full_groups={"CBCC"})) == [
        ("grade-below-band-no-reason", "U11")
    ]


def test_kxl_needs_a_reason_on_the_note_cell(settings: Settings) -> None:
    kxl = make_row(1, "KXL", None)
    issues = check_grades([kxl], settings)
    assert codes_at(issues) == [("kxl-no-reason", "X11")]
    assert issues[0].severity is Severity.ERROR
    assert check_grades([make_row(1, "KXL", None, note="Nghỉ thai sản")], settings) == []


def test_grade_without_total(settings: Settings) -> None:
    row = make_row(1, "B", None)
    assert sorted(codes_at(check_grades([row], settings))) == [
        ("grade-missing-score", "M11"),
        ("grade-missing-score", "U11"),
    ]


def test_unknown_or_empty_values_are_the_readers_business(settings: Settings) -> None:
    rows = [make_row(1, "", None), make_row(2, "Z", "80"), make_row(3, "B", "80", self_total=None, self_grade="")]
    assert check_grades(rows, settings) == []


# ---- check_form ----------------------------------------------------------------------------


def unit_list(rows: list[EvaluationRow], **header: object) -> FormResult:
    values: dict = {
        "period": "2022-01",
        "unit_code": "PNV",
        "block": "CHINH_QUYEN",
        "decider_name": "Trưởng phòng",
        "decider_position": "TRUONG_PHONG",
        "decision_date": date(2022, 1, 27),
        "cells": {"decider_position": "C6", "decision_date": "C7"},
    }
    values.update(header)
    return FormResult(
        path=Path("/inbox/PNV/ds.xlsx"), kind="02", sheet="DanhSach", header=ListHeader(**values), rows=rows
    )


def test_check_form_clean_list_has_no_issues(settings: Settings) -> None:
    rows = [make_row(i, "B", "80", self_date=date(2022, 1, 20)) for i in range(1, 11)]
    assert check_form(unit_list(rows), settings, unit_kind="PHONG") == []


def test_check_form_locates_issues_in_the_file(settings: Settings) -> None:
    rows = [make_row(1, "A", "89.99", self_date=date(2022, 1, 25))]
    issues = check_form(unit_list(rows, decider_position="CT_UBND_Q"), settings, arrival=datetime(2022, 2, 10, 9))
    assert {i.file for i in issues} == {"ds.xlsx"}
    assert {i.sheet for i in issues} == {"DanhSach"}
    got = codes_at(issues)
    assert ("grade-above-band", "U11") in got
    assert ("authority-decider", "F11") in got
    assert ("late-self-assessment", "N11") in got
    assert ("late-arrival", "") in got
    above = next(i for i in issues if i.code == "grade-above-band")
    assert above.column == "Xếp loại" and above.row == 11


def test_check_form_quota_explains_lowered_grade(settings: Settings) -> None:
    # 1 A allowed by 5..9 B; the second A-band person is lowered to B without a note
    rows = [make_row(1, "A", "96"), make_row(2, "B", "93", self_grade="A")]
    rows += [make_row(i, "B", "80") for i in range(3, 9)]
    codes = [i.code for i in check_form(unit_list(rows), settings)]
    assert "grade-below-band-no-reason" not in codes
    assert "quota-exceeded" not in codes


def test_check_form_quota_violation_is_a_violation(settings: Settings) -> None:
    rows = [make_row(1, "A", "96"), make_row(2, "A", "93")] + [make_row(i, "B", "80") for i in range(3, 9)]
    quota = [i for i in check_form(unit_list(rows), settings) if i.code == "quota-exceeded"]
    assert len(quota) == 1 and quota[0].severity is Severity.VIOLATION
    assert quota[0].cell == "U12"  # the lower-scored A, suggested for B


def test_check_form_individual_form_skips_quota(settings: Settings) -> None:
    row = make_row(1, "A", "95", self_date=date(2022, 1, 20))
    form = unit_list([row])
    form = dataclasses.replace(form, kind="01", sheet="Phieu")
    issues = check_form(form, settings, unit_kind="PHONG")
    assert issues == []
    # labels are those of template 01
    bad = dataclasses.replace(form, rows=[make_row(1, "A", "80", self_date=date(2022, 1, 20))])
    above = [i for i in check_form(bad, settings, unit_kind="PHONG") if i.code == "grade-above-band"]
    assert above[0].column == column_labels("01")["final_grade"]


def test_check_form_individual_form_quota_explanation_from_pipeline(settings: Settings) -> None:
    row = make_row(1, "B", "95", self_grade="A", self_date=date(2022, 1, 20))
    form = dataclasses.replace(unit_list([row]), kind="01", sheet="Phieu")
    assert [i.code for i in check_form(form, settings, unit_kind="PHONG")] == ["grade-below-band-no-reason"]
    assert check_form(form, settings, unit_kind="PHONG", quota_full_groups={"CBCC"}) == []


def test_check_form_ignores_other_kinds(settings: Settings) -> None:
    assert check_form(FormResult(path=Path("x.xlsx"), kind="00"), settings) == []
    assert check_form(FormResult(path=Path("x.xlsx"), kind=""), settings) == []


def test_where_defaults_are_template_02_labels() -> None:
    loc = Where(file="f.xlsx", sheet="S").row(make_row(1), "note")
    assert loc == {"file": "f.xlsx", "sheet": "S", "cell": "X11", "row": 11, "column": "Ghi chú"}


# ---- every code the rules emit is in the catalogue -------------------------------------------


RULES_DIR = Path(__file__).resolve().parents[1] / "danhgia_batch" / "rules"


def test_every_rules_code_is_in_the_catalogue() -> None:
    emitted: set[str] = set()
    for path in RULES_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "make_issue"
                and node.args
            ):
                assert isinstance(node.args[0], ast.Constant), f"{path.name}: code must be a literal"
                emitted.add(str(node.args[0].value))
    assert emitted >= {"grade-above-band", "quota-exceeded", "authority-decider", "late-arrival"}
    assert emitted <= set(CATALOGUE)


def test_codes_produced_on_a_bad_form_are_in_the_catalogue(settings: Settings) -> None:
    rows = [
        make_row(1, "A", "80", self_date=date(2021, 12, 1)),
        make_row(2, "KXL", None, position_code="NO_SUCH"),
        make_row(3, "C", "95", self_date=date(2022, 1, 28)),
        make_row(4, "A", "95", position_code="GIAO_VIEN", evaluator_position="CAP_PHO"),
        make_row(5, "A", "99", self_total=None),
    ]
    issues = check_form(unit_list(rows, decision_date=date(2022, 1, 27)), settings, arrival=datetime(2022, 3, 1))
    assert len({i.code for i in issues}) >= 8
    assert {i.code for i in issues} <= set(CATALOGUE)
