"""One file is validated in plain Python, a batch by pandera (issue 19): both are built from
``read.schema.PEOPLE_RULES`` and must find the same failures and give the same issues, for the
demo's files (every fault planted, lists and individual forms), crafted rows and random rows."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from test_validate import form, row

from danhgia_batch.demo import build_district
from danhgia_batch.demo.inbox import write_inbox
from danhgia_batch.issues import make_issue
from danhgia_batch.models import EvaluationRow, FormResult
from danhgia_batch.read.schema import (
    _columns,
    pandera_people,
    pandera_scores,
    plain_people,
    plain_scores,
    validate_batch,
)
from danhgia_batch.safe import Pool
from danhgia_batch.settings import Settings


def issues(forms: list[FormResult]) -> list[list[tuple[object, ...]]]:
    return [[(i.code, i.file, i.sheet, i.cell, i.row, i.message, i.value) for i in f.issues] for f in forms]


def assert_same(forms: list[FormResult], settings: Settings) -> None:
    """Both validators find the same failures and append the same issues, in the same order."""
    people, _pr, scores, _sr, _fws = _columns(forms, settings)
    assert plain_people(people, settings) == pandera_people(people, settings)
    assert plain_scores(scores) == pandera_scores(scores)
    by_pandera, by_plain = copy.deepcopy(forms), copy.deepcopy(forms)
    validate_batch(by_pandera, settings, plain=False)
    validate_batch(by_plain, settings, plain=True)
    assert issues(by_plain) == issues(by_pandera)


CRAFTED = {
    "clean": [row(17, "X1"), row(18, "X2")],
    "blank required values": [row(17, "X1", full_name="", self_grade="", final_grade="", self_date=None)],
    "blank person code": [row(17, ""), row(18, ""), row(19, "X1")],
    "unknown codes": [row(17, "X1", position_code="NOPE", category="??", final_grade="Q", evaluator_position="Z")],
    "group not given": [row(17, "X1", group="", group_given=False), row(18, "X2", group="NOPE")],
    "duplicates": [row(17, "X1"), row(18, "X1"), row(19, "X1", final_grade="Q"), row(20, "X2")],
    "unranked (KXL)": [row(17, "X1", final_grade="KXL", self_grade="", self_date=None, parts={"I": None})],
    "scores out of range or missing": [
        row(17, "X1", parts={"II": Decimal(71)}),
        row(18, "X2", parts={"I": Decimal(-1), "III": None}),
        row(19, "X3", parts={"I": Decimal("20.00"), "II": Decimal("60.5")}),
    ],
    "no rows": [],
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_rows_give_the_same_issues(settings: Settings, case: str) -> None:
    assert_same([form("a.xlsx", copy.deepcopy(CRAFTED[case]))], settings)


def test_missing_score_cells_and_typed_over_cells_give_the_same_issues(settings: Settings) -> None:
    r = row(17, "X1", parts={"I": None})
    f = form("a.xlsx", [r])
    f.issues.append(make_issue("value-not-number", file="a.xlsx", sheet="DanhSach", cell="I17", value="abc"))
    del r.cells["final_I"]  # a column the file does not have is not checked
    assert_same([f], settings)


@pytest.fixture(scope="module")
def demo_forms(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[FormResult], Settings]:
    """Every file of a small demo month (lists, individual forms, every planted fault), read
    without validation."""
    from danhgia_batch.settings import load_settings
    from danhgia_batch.workdir import init_workdir

    root = tmp_path_factory.mktemp("plain")
    init_workdir(root)
    settings = load_settings(root / "danhgia.toml")
    files = write_inbox(settings, build_district(units=10), root / "inbox", period="2022-11", fast=True)
    paths = [f.path for f in files]
    forms = list(Pool(settings, 2, validate=False).run([paths[i : i + 8] for i in range(0, len(paths), 8)]))
    return sorted(forms, key=lambda f: str(f.path)), settings


def test_demo_files_give_the_same_issues_one_by_one_and_together(demo_forms) -> None:
    forms, settings = demo_forms
    assert {f.kind for f in forms} >= {"01", "02"}
    for f in forms:
        assert_same([f], settings)
    assert_same(forms, settings)


def test_the_demo_faults_are_found_by_the_plain_validator(demo_forms) -> None:
    forms, settings = demo_forms
    checked = copy.deepcopy(forms)
    for f in checked:
        validate_batch([f], settings)  # one file: plain
    assert any(i.code == "score-range" for f in checked for i in f.issues)  # the score typo


CODES = st.sampled_from(["", "CONG_CHUC", "CBCC", "B", "A", "KXL", "NOPE", "C", "LDHD"])
SCORES = st.one_of(st.none(), st.decimals(-5, 100, places=2, allow_nan=False))


@st.composite
def random_rows(draw: st.DrawFn) -> list[EvaluationRow]:
    out = []
    for r in range(17, 17 + draw(st.integers(0, 6))):
        kw = {k: draw(CODES) for k in ("position_code", "category", "group", "self_grade", "final_grade")}
        kw["evaluator_position"] = draw(CODES)
        kw["full_name"] = draw(st.sampled_from(["", "Lê Thị Bình"]))
        kw["self_date"] = draw(st.sampled_from([None, date(2022, 11, 25)]))
        parts = {p: draw(SCORES) for p in ("I", "II", "III")}
        one = row(r, draw(st.sampled_from(["", "X1", "X2", "X3"])), parts=parts, **kw)
        one.group_given = draw(st.booleans())
        out.append(one)
    return out


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(random_rows(), min_size=1, max_size=3))
def test_random_rows_give_the_same_failures(settings: Settings, files: list[list[EvaluationRow]]) -> None:
    """Several files in one frame (one file is the case of a single ``_f``): the same failures."""
    people, _pr, scores, _sr, _fws = _columns([form(f"{i}.xlsx", rows) for i, rows in enumerate(files)], settings)
    assert plain_people(people, settings) == pandera_people(people, settings)
    assert plain_scores(scores) == pandera_scores(scores)


def test_incomparable_scores_fail_the_range_check_alike(settings: Settings) -> None:
    scores = {"value": [Decimal(1), "x", None], "lo": [Decimal(0)] * 3, "hi": [Decimal(4)] * 3}
    assert plain_scores(scores) == pandera_scores(scores)
