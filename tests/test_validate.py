"""Batch validation (pandera, lazy): rows of several files in one DataFrame, each failure
mapped back to its own file, sheet and cell."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from danhgia_batch.issues import make_issue
from danhgia_batch.models import EvaluationRow, FormResult
from danhgia_batch.settings import Settings
from danhgia_batch.validate import validate_forms

COLS = {"person_code": "B", "full_name": "C", "position_code": "F", "category": "G", "self_grade": "M"}
COLS |= {"self_date": "N", "final_grade": "T", "evaluator_position": "V"}
COLS |= {"self_I": "I", "self_II": "J", "self_III": "K", "final_I": "O", "final_II": "P", "final_III": "Q"}


def row(r: int, code: str, *, parts: dict[str, Decimal | None] | None = None, **kw: object) -> EvaluationRow:
    values: dict[str, object] = {
        "full_name": "Nguyễn Văn An",
        "position_code": "CONG_CHUC",
        "category": "CBCC",
        "group": "CBCC",
        "self_grade": "B",
        "final_grade": "B",
        "self_date": date(2022, 1, 20),
    }
    values.update(kw)
    scores = {"I": Decimal(16), "II": Decimal(56), "III": Decimal(8)} | (parts or {})
    return EvaluationRow(
        row=r,
        person_code=code,
        self_parts={k: v for k, v in scores.items() if v is not None},
        final_parts={k: v for k, v in scores.items() if v is not None},
        cells={k: f"{c}{r}" for k, c in COLS.items()},
        **values,  # type: ignore[arg-type]
    )


def form(name: str, rows: list[EvaluationRow]) -> FormResult:
    return FormResult(
        path=Path(name), kind="02", sheet="DanhSach", framework_id="HN-THANG", framework_version="2022.1", rows=rows
    )


def found(f: FormResult) -> list[tuple[str, str, str, str]]:
    return [(i.file, i.sheet, i.cell, i.code) for i in f.issues]


def test_failures_map_back_to_their_own_file_and_cell(settings: Settings) -> None:
    a = form("a.xlsx", [row(17, "X1"), row(18, "X1", position_code="NOPE"), row(19, "X3", parts={"II": Decimal(71)})])
    b = form("b.xlsx", [row(17, "X1"), row(18, "Y2", full_name="", final_grade="Q", parts={"III": None})])
    validate_forms([a, b], settings)
    assert sorted(found(a)) == [
        ("a.xlsx", "DanhSach", "B18", "person-duplicate"),
        ("a.xlsx", "DanhSach", "F18", "code-unknown"),
        ("a.xlsx", "DanhSach", "J19", "score-range"),
        ("a.xlsx", "DanhSach", "P19", "score-range"),
    ]
    assert sorted(found(b)) == [
        ("b.xlsx", "DanhSach", "C18", "value-required"),
        ("b.xlsx", "DanhSach", "K18", "value-required"),
        ("b.xlsx", "DanhSach", "Q18", "value-required"),
        ("b.xlsx", "DanhSach", "T18", "code-unknown"),
    ]
    dup = next(i for i in a.issues if i.code == "person-duplicate")
    assert dup.value == "X1" and "17, 18" in dup.message


def test_a_cell_already_reported_is_not_reported_again(settings: Settings) -> None:
    f = form("c.xlsx", [row(17, "Z1", parts={"I": None})])
    f.issues.append(make_issue("value-not-number", file="c.xlsx", sheet="DanhSach", cell="I17", value="abc"))
    validate_forms([f], settings)
    assert found(f) == [
        ("c.xlsx", "DanhSach", "I17", "value-not-number"),
        ("c.xlsx", "DanhSach", "O17", "value-required"),
    ]


def test_valid_rows_and_forms_without_framework_are_left_alone(settings: Settings) -> None:
    good = form("d.xlsx", [row(17, "D1"), row(18, "D2")])
    unknown = FormResult(path=Path("e.xlsx"), kind="02", framework_id="X", framework_version="0", rows=[row(17, "E1")])
    validate_forms([good, unknown], settings)
    assert good.issues == [] and unknown.issues == []


def test_an_unranked_person_may_have_no_scores_nor_self_assessment(settings: Settings) -> None:
    # letter §2.5: KXL (long leave, newly recruited) is not scored; a KXL row with scores
    # still has them range-checked, and a ranked row without scores is still incomplete.
    blank = {"I": None, "II": None, "III": None}
    kxl = row(17, "X1", parts=blank, self_grade="", self_date=None, final_grade="KXL", note="Nghỉ thai sản")
    kxl_scored = row(18, "X2", parts={"II": Decimal(71)}, final_grade="KXL", note="Mới tuyển dụng")
    ranked = row(19, "X3", parts=blank, self_date=None)
    f = form("a.xlsx", [kxl, kxl_scored, ranked])
    validate_forms([f], settings)
    assert sorted(found(f)) == [
        ("a.xlsx", "DanhSach", "I19", "value-required"),
        ("a.xlsx", "DanhSach", "J18", "score-range"),
        ("a.xlsx", "DanhSach", "J19", "value-required"),
        ("a.xlsx", "DanhSach", "K19", "value-required"),
        ("a.xlsx", "DanhSach", "N19", "value-required"),
        ("a.xlsx", "DanhSach", "O19", "value-required"),
        ("a.xlsx", "DanhSach", "P18", "score-range"),
        ("a.xlsx", "DanhSach", "P19", "value-required"),
        ("a.xlsx", "DanhSach", "Q19", "value-required"),
    ]
