"""Deadlines of the monthly cycle (letter §2.3): edge days, December, leap years, inclusiveness."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest

from danhgia_batch.models import EvaluationRow, ListHeader
from danhgia_batch.rules import check_deadlines, deadline_for, period_window
from danhgia_batch.settings import DeadlineSettings, Settings

EXCLUSIVE = DeadlineSettings()
INCLUSIVE = DeadlineSettings(inclusive=True)


@pytest.mark.parametrize(
    ("period", "step", "deadlines", "expected"),
    [
        ("2022-01", "self_assessment", EXCLUSIVE, date(2022, 1, 24)),  # "before the 25th"
        ("2022-01", "self_assessment", INCLUSIVE, date(2022, 1, 25)),
        ("2022-01", "decision", EXCLUSIVE, date(2022, 1, 27)),
        ("2022-01", "decision", INCLUSIVE, date(2022, 1, 28)),
        ("2022-01", "publication", EXCLUSIVE, date(2022, 2, 4)),  # next month
        ("2022-01", "publication", INCLUSIVE, date(2022, 2, 5)),
        ("2022-11", "publication", EXCLUSIVE, date(2022, 12, 4)),  # November's publication in December
        # December: the whole cycle before 15 December
        ("2022-12", "self_assessment", EXCLUSIVE, date(2022, 12, 14)),
        ("2022-12", "decision", EXCLUSIVE, date(2022, 12, 14)),
        ("2022-12", "publication", EXCLUSIVE, date(2022, 12, 14)),
        ("2022-12", "publication", INCLUSIVE, date(2022, 12, 15)),
        # February, leap year and not
        ("2024-02", "decision", EXCLUSIVE, date(2024, 2, 27)),
        ("2024-02", "decision", INCLUSIVE, date(2024, 2, 28)),
        ("2024-02", "publication", EXCLUSIVE, date(2024, 3, 4)),
        ("2024-02", "decision", DeadlineSettings(decision_day=30), date(2024, 2, 29)),
        ("2023-02", "decision", DeadlineSettings(decision_day=30), date(2023, 2, 28)),
        ("2024-02", "decision", DeadlineSettings(decision_day=29), date(2024, 2, 28)),
        ("2023-02", "decision", DeadlineSettings(decision_day=29), date(2023, 2, 28)),
        ("2024-02", "decision", DeadlineSettings(decision_day=29, inclusive=True), date(2024, 2, 29)),
        # day 31 in months of 30 and 31 days
        ("2022-04", "decision", DeadlineSettings(decision_day=31), date(2022, 4, 30)),
        ("2022-04", "decision", DeadlineSettings(decision_day=31, inclusive=True), date(2022, 4, 30)),
        ("2022-05", "decision", DeadlineSettings(decision_day=31), date(2022, 5, 30)),
        ("2022-05", "decision", DeadlineSettings(decision_day=31, inclusive=True), date(2022, 5, 31)),
        ("2022-01", "publication", DeadlineSettings(publication_day=31), date(2022, 2, 28)),
        # "before the 1st" of the next month = the period's last day
        ("2022-01", "publication", DeadlineSettings(publication_day=1), date(2022, 1, 31)),
        ("2022-12", "decision", DeadlineSettings(december_day=20), date(2022, 12, 19)),
    ],
)
def test_deadline_for(period: str, step: str, deadlines: DeadlineSettings, expected: date) -> None:
    assert deadline_for(period, step, deadlines) == expected


def test_deadline_for_takes_settings(settings: Settings) -> None:
    assert deadline_for("2022-03", "decision", settings) == date(2022, 3, 27)


@pytest.mark.parametrize(("period", "step"), [("2022-13", "decision"), ("01/2022", "decision"), ("2022-01", "x")])
def test_deadline_for_rejects_malformed_arguments(period: str, step: str) -> None:
    with pytest.raises(ValueError):
        deadline_for(period, step, EXCLUSIVE)


def test_period_window() -> None:
    assert period_window("2022-01") == (date(2022, 1, 1), date(2022, 2, 28))
    assert period_window("2024-01") == (date(2024, 1, 1), date(2024, 2, 29))
    assert period_window("2022-12") == (date(2022, 12, 1), date(2023, 1, 31))
    assert period_window("bad") is None


# ---- checks on a form ------------------------------------------------------------------------


def row(n: int, self_date: date | None) -> EvaluationRow:
    r = 10 + n
    return EvaluationRow(
        row=r,
        person_code=f"CB{n}",
        full_name=f"Người {n}",
        position_code="CONG_CHUC",
        category="CBCC",
        group="CBCC",
        self_date=self_date,
        cells={"self_date": f"N{r}"},
    )


def head(period: str = "2022-01", decision: date | None = None) -> ListHeader:
    return ListHeader(period=period, decision_date=decision, cells={"decision_date": "C7"})


def with_deadlines(settings: Settings, **kw: Any) -> Settings:
    return dataclasses.replace(settings, deadlines=dataclasses.replace(settings.deadlines, **kw))


def codes(issues: list) -> list[tuple[str, str]]:
    return [(i.code, i.cell) for i in issues]


@pytest.mark.parametrize(
    ("self_day", "inclusive", "expected"),
    [
        (24, False, []),
        (25, False, [("late-self-assessment", "N11")]),
        (25, True, []),
        (26, True, [("late-self-assessment", "N11")]),
    ],
)
def test_self_assessment_day(settings: Settings, self_day: int, inclusive: bool, expected: list) -> None:
    s = with_deadlines(settings, inclusive=inclusive)
    assert codes(check_deadlines(head(), [row(1, date(2022, 1, self_day))], s)) == expected


def test_lateness_is_a_warning_with_days(settings: Settings) -> None:
    (issue,) = check_deadlines(head(), [row(1, date(2022, 1, 27))], settings)
    assert issue.code == "late-self-assessment" and issue.severity == "warning"
    assert issue.row == 11 and issue.column == "Ngày tự đánh giá"
    assert "3" in issue.message and "24/01/2022" in issue.message  # 3 days after the 24th


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (date(2022, 1, 27), []),
        (date(2022, 1, 28), [("late-decision", "C7")]),
        (date(2022, 2, 28), [("late-decision", "C7")]),  # last day of the window
        (date(2022, 3, 1), [("date-outside-period", "C7")]),
        (date(2021, 12, 31), [("date-outside-period", "C7")]),
    ],
)
def test_decision_day(settings: Settings, decision: date, expected: list) -> None:
    assert codes(check_deadlines(head(decision=decision), [], settings)) == expected


def test_late_decision_days(settings: Settings) -> None:
    (issue,) = check_deadlines(head(decision=date(2022, 2, 3)), [], settings)
    assert issue.severity == "warning" and issue.row == 7
    assert "7 ngày" in issue.message  # 27/01 → 03/02


def test_december(settings: Settings) -> None:
    rows = [row(1, date(2022, 12, 14)), row(2, date(2022, 12, 15))]
    got = codes(check_deadlines(head("2022-12", date(2022, 12, 15)), rows, settings))
    assert got == [("late-decision", "C7"), ("late-self-assessment", "N12")]
    assert check_deadlines(head("2022-12", date(2022, 12, 14)), rows[:1], settings) == []
    # December's window runs into January of the next year
    assert codes(check_deadlines(head("2022-12", date(2023, 1, 31)), [], settings)) == [("late-decision", "C7")]


def test_leap_february(settings: Settings) -> None:
    rows = [row(1, date(2024, 2, 24)), row(2, date(2024, 2, 29))]
    got = codes(check_deadlines(head("2024-02", date(2024, 2, 29)), rows, settings))
    assert got == [("late-decision", "C7"), ("late-self-assessment", "N12")]
    assert codes(check_deadlines(head("2024-01"), [row(1, date(2024, 2, 29))], settings)) == [
        ("late-self-assessment", "N11")
    ]
    assert codes(check_deadlines(head("2024-01"), [row(1, date(2024, 3, 1))], settings)) == [
        ("date-outside-period", "N11")
    ]


def test_decision_before_self_assessment(settings: Settings) -> None:
    rows = [row(1, date(2022, 1, 20)), row(2, date(2022, 1, 22)), row(3, date(2022, 1, 21))]
    got = codes(check_deadlines(head(decision=date(2022, 1, 21)), rows, settings))
    assert got == [("date-order", "N12")]
    assert check_deadlines(head(decision=date(2022, 1, 21)), rows, settings)[0].severity == "error"


def test_self_date_outside_period(settings: Settings) -> None:
    got = check_deadlines(head(), [row(1, date(2021, 12, 31)), row(2, date(2022, 1, 1))], settings)
    assert codes(got) == [("date-outside-period", "N11")]
    assert "2022-01" in got[0].message and got[0].severity == "error"


@pytest.mark.parametrize(
    ("period", "arrival", "late_days"),
    [
        ("2022-01", datetime(2022, 2, 4, 23, 59), None),  # publication deadline: before 5 Feb
        ("2022-01", datetime(2022, 2, 5, 0, 1), 1),
        ("2022-01", datetime(2022, 1, 29, 8), None),  # after the decision deadline is fine
        ("2022-12", datetime(2022, 12, 14, 17), None),
        ("2022-12", datetime(2022, 12, 15, 8), 1),
        ("2024-02", datetime(2024, 3, 5, 8), 1),
    ],
)
def test_arrival(settings: Settings, period: str, arrival: datetime, late_days: int | None) -> None:
    issues = check_deadlines(head(period), [], settings, arrival=arrival)
    if late_days is None:
        assert issues == []
    else:
        (issue,) = issues
        assert issue.code == "late-arrival" and issue.severity == "warning"
        assert f"{late_days} ngày" in issue.message


def test_bad_or_missing_values_never_raise(settings: Settings) -> None:
    assert check_deadlines(head("13/2022", date(2022, 1, 1)), [row(1, date(2022, 1, 1))], settings) == []
    assert check_deadlines(head(""), [], settings, arrival=datetime(2030, 1, 1)) == []
    assert check_deadlines(head(), [row(1, None)], settings) == []


# ---- dates written after the file arrived (impossible: a slip of the month or the year) ------


@pytest.mark.parametrize(
    ("decision", "self_day", "arrival", "expected"),
    [
        # both dates on or before the arrival day: nothing
        (date(2022, 1, 26), 20, datetime(2022, 1, 26, 9), []),
        # decision two days after arrival: a warning on the decision cell
        (date(2022, 1, 27), 20, datetime(2022, 1, 25, 9), [("date-after-arrival", "C7")]),
        # ... and past the deadline as written: late too (issue 18: the demo's late decision)
        (date(2022, 1, 28), 20, datetime(2022, 1, 26, 9), [("date-after-arrival", "C7"), ("late-decision", "C7")]),
        # a self-assessment date after arrival (and after the decision: date-order still an error)
        (date(2022, 1, 21), 27, datetime(2022, 1, 22, 9), [("date-after-arrival", "N11"), ("date-order", "N11")]),
        # a year slip puts the date outside the period: that error alone
        (date(2023, 1, 26), 20, datetime(2022, 1, 26, 9), [("date-outside-period", "C7")]),
        # a late date that is not in the future stays a late warning
        (date(2022, 2, 3), 20, datetime(2022, 2, 3, 9), [("late-decision", "C7")]),
    ],
)
def test_date_after_arrival(
    settings: Settings, decision: date, self_day: int, arrival: datetime, expected: list
) -> None:
    issues = check_deadlines(head(decision=decision), [row(1, date(2022, 1, self_day))], settings, arrival=arrival)
    assert codes(issues) == expected


def test_date_after_arrival_is_a_warning_naming_cell_and_arrival(settings: Settings) -> None:
    arrival = datetime(2022, 1, 20, 14, 5)
    (issue,) = check_deadlines(head(decision=None), [row(2, date(2022, 1, 24))], settings, arrival=arrival)
    assert (issue.code, issue.severity, issue.cell, issue.row) == ("date-after-arrival", "warning", "N12", 12)
    assert issue.column == "Ngày tự đánh giá"
    assert "24/01/2022" in issue.message and "14:05 20/01/2022" in issue.message
    # without an arrival (``danhgia check``) nothing can be in the future
    assert check_deadlines(head(decision=None), [row(2, date(2022, 1, 24))], settings) == []


def test_a_date_after_arrival_is_recorded_and_noted_in_the_unit_report(settings: Settings, fill_template: Any) -> None:
    """End to end: a list of the current month whose decision date lies ahead of its arrival."""
    import shutil
    from datetime import timedelta

    import openpyxl
    from helpers import valid_row

    from danhgia_batch.ledger import open_ledger
    from danhgia_batch.pipeline import process_inbox

    today = date.today()
    period = f"{today.month:02d}/{today.year}"
    key = f"{today.year}-{today.month:02d}"
    future = today + timedelta(days=3)  # still inside the period's window (month + the next)
    row = valid_row(self_date=today)
    # a current month: the ward matrix is in force (authority.toml, from 07/2025)
    source = fill_template(
        "02", [row], period=period, decision_date=future, prepared_date=today, decider_position="TRUONG_PHONG_PHUONG"
    )
    dest = settings.inbox / "PNV" / "ds.xlsx"
    dest.parent.mkdir(parents=True)
    shutil.copy(source, dest)
    (f,) = process_inbox(settings).files
    assert f.outcome == "accepted", f.issues
    (issue,) = [i for i in f.issues if i.code == "date-after-arrival"]
    assert (issue.sheet, issue.severity) == ("DanhSach", "warning") and issue.cell
    assert not any(i.code == "late-decision" for i in f.issues)
    with open_ledger(settings) as led:
        assert [i.code for i in led.file_issues(f.file_id) if i.code == "date-after-arrival"] == ["date-after-arrival"]
    report = settings.outbox / key / "CHINH_QUYEN" / "PNV" / f"danh_sach_tong_hop_pnv_{key}.xlsx"
    wb = openpyxl.load_workbook(report, read_only=True)
    notes = [str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None]
    wb.close()
    (note,) = [n for n in notes if n.startswith("- Ngày ghi sau thời điểm nhận tệp")]
    assert issue.cell in note and future.strftime("%d/%m/%Y") in note


def test_a_date_after_arrival_is_listed_in_the_error_workbook_of_a_rejected_file(
    settings: Settings, fill_template: Any
) -> None:
    import shutil
    from datetime import timedelta

    import openpyxl
    from helpers import valid_row

    from danhgia_batch.pipeline import process_inbox

    today = date.today()
    row = valid_row(self_date=today + timedelta(days=2), final_grade="A")  # 80 points graded A: an error
    source = fill_template("02", [row], period=f"{today.month:02d}/{today.year}", decision_date=None)
    dest = settings.inbox / "PNV" / "ds.xlsx"
    dest.parent.mkdir(parents=True)
    shutil.copy(source, dest)
    (f,) = process_inbox(settings).files
    assert f.outcome == "rejected"
    (issue,) = [i for i in f.issues if i.code == "date-after-arrival"]
    wb = openpyxl.load_workbook(f.error_files[0], read_only=True)
    rows = [r for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    wb.close()
    listed = [r for r in rows if "date-after-arrival" in r]
    assert len(listed) == 1 and issue.cell in listed[0] and "Cảnh báo" in listed[0]
