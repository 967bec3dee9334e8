"""Periods: months and quarters as clerks type them, titles, dates (SPEC §13)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from danhgia_batch.domain import Framework, period_start
from danhgia_batch.periods import Period, parse_period, period_label, period_title, periods_of_year, within
from danhgia_batch.pipeline.admin import normalise_period
from danhgia_batch.read import normalise
from danhgia_batch.rules.deadlines import deadline_for, period_window
from danhgia_batch.settings import DeadlineSettings


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("03/2026", "2026-03"),
        ("3/2026", "2026-03"),
        ("2026-03", "2026-03"),
        ("2026/3", "2026-03"),
        ("tháng 03/2026", "2026-03"),
        ("Q1/2026", "2026-Q1"),
        ("q1/2026", "2026-Q1"),
        ("2026-Q1", "2026-Q1"),
        ("2026-q4", "2026-Q4"),
        ("Quý I/2026", "2026-Q1"),
        ("QUÝ III/2026", "2026-Q3"),
        ("quý iv/2026", "2026-Q4"),
        (unicodedata.normalize("NFD", "Quý II/2026"), "2026-Q2"),
        ("Quy II / 2026", "2026-Q2"),
        ("I/2026", "2026-Q1"),
        ("IV/2026", "2026-Q4"),
        (" Q2 / 2026 ", "2026-Q2"),
    ],
)
def test_parse_what_clerks_type(typed: str, code: str) -> None:
    assert parse_period(typed) == code
    assert normalise.period(typed) == code
    assert normalise_period(typed) == code


@pytest.mark.parametrize("typed", ["13/2026", "Q5/2026", "V/2026", "2026-Q0", "Quý/2026", "00/2026", "03/1800", ""])
def test_parse_refuses(typed: str) -> None:
    assert parse_period(typed) is None


@pytest.mark.parametrize(
    ("code", "label", "title", "upper", "first", "last", "last_month"),
    [
        ("2026-03", "03/2026", "tháng 03/2026", "THÁNG 03/2026", date(2026, 3, 1), date(2026, 3, 31), 3),
        ("2026-Q1", "I/2026", "quý I/2026", "QUÝ I/2026", date(2026, 1, 1), date(2026, 3, 31), 3),
        ("2026-Q4", "IV/2026", "quý IV/2026", "QUÝ IV/2026", date(2026, 10, 1), date(2026, 12, 31), 12),
        ("2024-Q1", "I/2024", "quý I/2024", "QUÝ I/2024", date(2024, 1, 1), date(2024, 3, 31), 3),
    ],
)
def test_period_facts(code: str, label: str, title: str, upper: str, first: date, last: date, last_month: int) -> None:
    p = Period.of(code)
    assert (p.code, p.label, p.title, p.title_upper) == (code, label, title, upper)
    assert (p.first_day(), p.last_day(), p.last_month) == (first, last, last_month)
    assert (period_label(code), period_title(code), period_title(code, upper=True)) == (label, title, upper)
    assert period_start(code) == first


def test_year_and_order() -> None:
    assert [p.code for p in periods_of_year(2026, "quarter")] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert len(periods_of_year(2026)) == 12
    assert (
        Period.of("2025-12") < Period.of("2026-Q1") < Period.of("2026-03") < Period.of("2026-Q2") < Period.of("2026-05")
    )
    assert within("2026-Q1", "2026-01", "9999-12")
    assert within("2026-02", "2026-Q1", "2026-Q1")
    assert not within("2025-12", "2026-Q1", "9999-12")
    assert not within("2026-Q1", "2026-02", "9999-12")  # the quarter starts before


def test_framework_valid_from_quarter() -> None:
    fw = Framework("X", "1", "x", (), valid_from="2026-Q1")
    assert fw.applies_to("2026-03") and fw.applies_to("2026-Q2") and not fw.applies_to("2025-12")


def test_quarter_deadlines_count_from_last_month() -> None:
    d = DeadlineSettings()
    assert deadline_for("2026-Q1", "self_assessment", d) == deadline_for("2026-03", "self_assessment", d)
    assert deadline_for("2026-Q1", "publication", d) == date(2026, 4, 4)
    assert deadline_for("2026-Q4", "decision", d) == date(2026, 12, 14)  # December: before the 15th
    assert period_window("2026-Q1") == (date(2026, 1, 1), date(2026, 4, 30))


def test_year_view_average_of_the_periods_worked(settings: object) -> None:
    """Decree 335's year result: the average score of the periods worked (months here)."""
    from decimal import Decimal

    import openpyxl

    from danhgia_batch.models import YearRow
    from danhgia_batch.reports import write_year_view

    row = YearRow("VH001", "Nguyễn Văn An", "VHXH", "Phòng Văn hóa - Xã hội", "CHINH_QUYEN")
    row.grades.update({1: "B", 2: "A", 4: "B"})
    row.scores.update({1: Decimal("80.5"), 2: Decimal(92), 4: Decimal("83.25")})
    assert row.average == Decimal("85.25")
    ws = openpyxl.load_workbook(write_year_view(2026, [row], settings, average=True)).active  # type: ignore[arg-type]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    top = next(r for r in rows if "Điểm bình quân" in r)  # merged over the two header rows
    months = next(r for r in rows if "T1" in r)
    mine = next(r for r in rows if "VH001" in r)
    assert "Q1" not in months and mine[top.index("Điểm bình quân")] == 85.25
    assert mine[top.index("Số kỳ đánh giá")] == 3
    assert mine[top.index("Xếp loại theo điểm bình quân")] == "B"


def test_a_step_due_days_after_the_period_ends() -> None:
    d = DeadlineSettings(publication_after_days=10, decision_after_days=5)
    assert deadline_for("2026-Q1", "publication", d) == date(2026, 4, 10)
    assert deadline_for("2026-Q4", "decision", d) == date(2027, 1, 5)  # replaces the December rule too
    assert deadline_for("2026-02", "self_assessment", d) == date(2026, 2, 24)  # still a day of the month


def test_reminders_follow_quarters_when_asked(settings: object) -> None:
    from dataclasses import replace

    from danhgia_batch.watch.reminders import open_period

    quarterly = replace(settings, reminders=replace(settings.reminders, period_kind="quarter"))  # type: ignore[type-var, attr-defined]
    assert open_period(quarterly, date(2026, 4, 3)) == "2026-Q1"  # Q1 published by 04/04
    assert open_period(quarterly, date(2026, 4, 6)) == "2026-Q2"
    assert open_period(quarterly, date(2027, 1, 2)) == "2027-Q1"  # Q4 closes by 14/12 (December rule)
    assert open_period(settings, date(2026, 4, 3)) == "2026-03"  # type: ignore[arg-type]
