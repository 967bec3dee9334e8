"""Reminders sent by ``danhgia watch`` at the configured times (issue 20, ``[reminders]``).

At each time of ``reminders.at`` ("08:00") the watcher runs ``remind`` once a day for the
open period, when one of its deadlines is at most ``days_before`` days away or has passed;
it sends only if ``reminders.send`` is true (else it writes the dry run). The clock is
injected, so a test drives :meth:`ReminderSchedule.step` deterministically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from ..periods import Period
from ..rules.deadlines import STEPS, deadline_for
from ..settings import Settings

log = logging.getLogger(__name__)

RemindFn = Callable[..., Any]


def open_period(settings: Settings, today: date) -> str:
    """The period a reminder is about on ``today``: last month while its publication deadline
    (letter §2.3: the 5th of this month) has not passed, else this month; with
    ``reminders.period_kind = "quarter"`` the same with quarters (SPEC §13)."""
    if getattr(settings.reminders, "period_kind", "month") == "quarter":
        current = Period.containing(today, "quarter")
        before = (
            Period(current.year - 1, quarter=4)
            if current.quarter == 1
            else Period(current.year, quarter=current.quarter - 1)
        )
        return before.code if deadline_for(before.code, "publication", settings) >= today else current.code
    prev = f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"
    if deadline_for(prev, "publication", settings) >= today:
        return prev
    return f"{today.year}-{today.month:02d}"


def deadline_near(settings: Settings, period: str, today: date) -> bool:
    """Whether a deadline of ``period`` is at most ``days_before`` days away, or has passed."""
    soonest = min(deadline_for(period, step, settings) for step in STEPS)
    return (soonest - today).days <= settings.reminders.days_before


class ReminderSchedule:
    """Runs ``remind`` once per configured time and day; ``remind`` is injected (tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = datetime.now,
        remind: RemindFn | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.times = sorted(time.fromisoformat(t) for t in settings.reminders.at)
        self._remind = remind
        self._done: set[tuple[date, time]] = set()

    def step(self) -> list[Any]:
        """Run the reminders whose time has come today and that have not run; their results."""
        now = self.clock()
        results = []
        for at in self.times:
            slot = (now.date(), at)
            if now.time() < at or slot in self._done:
                continue
            self._done.add(slot)
            self._done = {s for s in self._done if s[0] == now.date()}  # only today's are needed
            results.append(self._run(now))
        return results

    def _run(self, now: datetime) -> Any:
        period = open_period(self.settings, now.date())
        if not deadline_near(self.settings, period, now.date()):
            log.info(
                "reminders at %s: no deadline of %s within %s days", now, period, self.settings.reminders.days_before
            )
            return None
        remind = self._remind
        if remind is None:
            from ..pipeline.remind import remind_units

            remind = remind_units
        try:
            result = remind(self.settings, period, send=self.settings.reminders.send, now=now)
        except Exception:  # months unattended: a mail server down must not stop the watcher
            log.exception("Gửi thư nhắc kỳ %s không thành công", period)
            return None
        log.info("Thư nhắc kỳ %s: %s đơn vị", period, len(getattr(result, "lines", [])))
        return result
