"""The monthly cycle's deadlines (letter §2.3, SPEC §4).

"Bước 2 … tự đánh giá (trước ngày 25 hằng tháng)"; "Bước 3 … quyết định (trước ngày 28 hằng
tháng)"; "Bước 4 … công khai (trước ngày 05 của tháng kế tiếp)"; "tháng 12 hằng năm hoàn thành
trước ngày 15/12". Days and inclusiveness are ``[deadlines]`` settings.

:func:`deadline_for` returns the **last day on which a step is on time**: with the default
``inclusive = false`` "before the 25th" is the 24th; with ``inclusive = true`` it is the 25th.
A configured day beyond the month's length (31 in a 30-day month, 30 in February) means the
month's last day. Days late = date − that last day.

Lateness is a warning, never a rejection. The file's arrival is compared with the
**publication** deadline: the letter sets no deadline for sending a file to the block
administrator, and the decision date written in the form is already checked against the
decision deadline; a file that arrives after the publication deadline is one whose results
could not have been published on time, which is what the block roll-up must show. (Comparing
arrival with the decision deadline would flag most lists sent normally on the 28th–30th.)

Dates written in the form must lie in the period's window — from the first day of the period's
month to the last day of the following month — else ``date-outside-period`` (error); a date
outside the window is not also reported as late. A decision date before a row's
self-assessment date is ``date-order`` (error).

A date written in the form that lies after the day the file arrived cannot be true (nobody
assesses or decides in the future): it is usually a slip of the month or the year. It is
``date-after-arrival``, a **warning** naming the cell (SPEC §4: dates never reject a file;
the grades do not depend on them), and such a date is not also reported as late, since the
lateness it would show is made up. Arrival is the ledger's arrival time, local like the dates.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ..issues import Issue, make_issue
from ..models import EvaluationRow, ListHeader
from ..periods import PERIOD_RE, Period
from .common import Where, fmt_date

STEPS = ("self_assessment", "decision", "publication")
ARRIVAL_STEP = "publication"


def _parse_period(period: str) -> tuple[int, int] | None:
    """(year, last month) of a month or a quarter: a quarter's deadlines count from its last
    month (SPEC §13, the product's reading of Decree 335's quarterly evaluation)."""
    if not PERIOD_RE.match(period or ""):
        return None
    p = Period.of(period)
    return p.year, p.last_month


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _last_on_time(year: int, month: int, day: int, inclusive: bool) -> date:
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return date(year, month, last)  # "before the 31st" in a 30-day month: the 30th
    d = date(year, month, day)
    return d if inclusive else d - timedelta(days=1)


def deadline_for(period: str, step: str, settings: Any) -> date:
    """The last on-time day of ``step`` for ``period`` (letter §2.3).

    Args:
        period: ``"YYYY-MM"`` or ``"YYYY-Qn"`` (a quarter: the days of its last month).
        step: ``"self_assessment"``, ``"decision"`` or ``"publication"``.
        settings: the run's settings (or a ``DeadlineSettings`` directly).

    Raises:
        ValueError: ``period`` or ``step`` is malformed (a programming error; the checks below
            never call it with a bad period).
    """
    d = getattr(settings, "deadlines", settings)
    parsed = _parse_period(period)
    if parsed is None:
        raise ValueError(f"period must be YYYY-MM or YYYY-Qn, got {period!r}")
    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}, got {step!r}")
    year, month = parsed
    after = getattr(d, f"{step}_after_days", 0)
    if after:  # SPEC §13: a regime's step due N days after the period's last day
        return Period.of(period).last_day() + timedelta(days=after)
    if month == 12:
        # letter §2.3, lưu ý: December's whole cycle completes before 15 December
        return _last_on_time(year, 12, d.december_day, d.inclusive)
    if step == "self_assessment":
        return _last_on_time(year, month, d.self_assessment_day, d.inclusive)
    if step == "decision":
        return _last_on_time(year, month, d.decision_day, d.inclusive)
    ny, nm = _next_month(year, month)
    return _last_on_time(ny, nm, d.publication_day, d.inclusive)


def period_window(period: str) -> tuple[date, date] | None:
    """First day of the period (month or quarter) … last day of the month after its last
    month (None if malformed)."""
    parsed = _parse_period(period)
    if parsed is None:
        return None
    year, month = parsed
    ny, nm = _next_month(year, month)
    return Period.of(period).first_day(), date(ny, nm, calendar.monthrange(ny, nm)[1])


def check_deadlines(
    header: ListHeader,
    rows: Sequence[EvaluationRow],
    settings: Any,
    *,
    arrival: datetime | None = None,
    where: Where | None = None,
) -> list[Issue]:
    """Dates of letter §2.3 for one list or form: window, order, lateness, arrival, and dates
    written after the file arrived (``arrival``)."""
    where = where or Where()
    window = period_window(header.period)
    if window is None:
        return []  # the period itself is the reader's period-invalid issue
    period = header.period
    start, end = window
    detail = f"từ {fmt_date(start)} đến {fmt_date(end)}"
    out: list[Issue] = []
    decision = header.decision_date
    if decision is not None:
        if not start <= decision <= end:
            out.append(
                make_issue(
                    "date-outside-period",
                    **where.header(header, "decision_date"),
                    value=fmt_date(decision),
                    period=period,
                    detail=detail,
                )
            )
        else:
            if arrival is not None and decision > arrival.date():
                out.append(_after_arrival(where.header(header, "decision_date"), decision, arrival))
            # a decision dated after the deadline is late as written, even dated ahead of its
            # arrival (letter §2.3; the demo's late decision of the current month, issue 18)
            due = deadline_for(period, "decision", settings)
            if decision > due:
                out.append(
                    make_issue(
                        "late-decision",
                        **where.header(header, "decision_date"),
                        value=fmt_date(decision),
                        days=(decision - due).days,
                        expected=fmt_date(due),
                    )
                )
    due_self = deadline_for(period, "self_assessment", settings)
    for row in rows:
        out.extend(_check_self_date(row, decision, due_self, window, period, detail, where, arrival))
    if arrival is not None:
        due = deadline_for(period, ARRIVAL_STEP, settings)
        if arrival.date() > due:
            out.append(
                make_issue(
                    "late-arrival",
                    file=where.file,
                    sheet=where.sheet,
                    value=arrival.strftime("%H:%M %d/%m/%Y"),
                    days=(arrival.date() - due).days,
                    expected=fmt_date(due),
                )
            )
    return out


def _check_self_date(
    row: EvaluationRow,
    decision: date | None,
    due: date,
    window: tuple[date, date],
    period: str,
    detail: str,
    where: Where,
    arrival: datetime | None = None,
) -> list[Issue]:
    self_date = row.self_date
    if self_date is None:
        return []
    out: list[Issue] = []
    if not window[0] <= self_date <= window[1]:
        out.append(
            make_issue(
                "date-outside-period",
                **where.row(row, "self_date"),
                value=fmt_date(self_date),
                period=period,
                detail=detail,
            )
        )
    elif arrival is not None and self_date > arrival.date():
        out.append(_after_arrival(where.row(row, "self_date"), self_date, arrival))
    elif self_date > due:
        out.append(
            make_issue(
                "late-self-assessment",
                **where.row(row, "self_date"),
                value=fmt_date(self_date),
                days=(self_date - due).days,
                expected=fmt_date(due),
            )
        )
    if decision is not None and decision < self_date:
        # letter §2.3: step 3 (decision) follows step 2 (self-assessment)
        out.append(
            make_issue(
                "date-order",
                **where.row(row, "self_date"),
                value=fmt_date(decision),
                expected=fmt_date(self_date),
            )
        )
    return out


def _after_arrival(at: dict[str, Any], value: date, arrival: datetime) -> Issue:
    """A date written in the form after the file arrived: impossible, a slip of month or year."""
    return make_issue(
        "date-after-arrival",
        **at,
        value=fmt_date(value),
        detail=arrival.strftime("%H:%M %d/%m/%Y"),
    )
