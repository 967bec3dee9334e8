"""Reminders from ``danhgia watch`` at the configured times (issue 20), driven by an injected
clock: once per time and day, only near a deadline, as a dry run unless ``reminders.send``."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from danhgia_batch.errors import ConfigError
from danhgia_batch.ledger import open_ledger
from danhgia_batch.models import Person, Unit
from danhgia_batch.settings import ReminderSettings, Settings, load_settings
from danhgia_batch.watch.reminders import ReminderSchedule, deadline_near, open_period
from danhgia_batch.watch.watcher import Watcher


class WallClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _at(settings: Settings, *times: str, send: bool = False) -> Settings:
    return dataclasses.replace(settings, reminders=ReminderSettings(at=times, send=send))


def test_each_configured_time_runs_once_a_day_near_a_deadline(settings: Settings) -> None:
    calls: list[tuple[str, bool, datetime]] = []

    def remind(_settings: Settings, period: str, *, send: bool, now: datetime) -> str:
        calls.append((period, send, now))
        return "ok"

    clock = WallClock(datetime(2022, 2, 22, 7, 59))
    schedule = ReminderSchedule(_at(settings, "08:00", "14:30"), clock=clock, remind=remind)
    assert schedule.step() == [] and calls == []
    clock.now = datetime(2022, 2, 22, 8, 0)
    assert schedule.step() == ["ok"]
    clock.now = datetime(2022, 2, 22, 9, 15)
    assert schedule.step() == []  # 08:00 has run today, 14:30 has not come
    clock.now = datetime(2022, 2, 22, 14, 31)
    schedule.step()
    clock.now = datetime(2022, 2, 23, 8, 5)
    schedule.step()
    schedule.step()
    assert [(p, s, n.date()) for p, s, n in calls] == [
        ("2022-02", False, date(2022, 2, 22)),
        ("2022-02", False, date(2022, 2, 22)),
        ("2022-02", False, date(2022, 2, 23)),
    ]
    calls.clear()
    clock.now = datetime(2022, 2, 10, 8, 0)  # the 24th is two weeks away: nothing to chase yet
    assert schedule.step() == [None] and calls == []


@pytest.mark.parametrize(
    ("today", "period", "near"),
    [
        (date(2022, 2, 3), "2022-01", True),  # January's publication is due by the 4th
        (date(2022, 2, 10), "2022-02", False),
        (date(2022, 2, 21), "2022-02", True),
        (date(2022, 1, 3), "2022-01", False),  # December's cycle ended on the 14th of December
        (date(2022, 12, 12), "2022-12", True),  # December: everything before the 15th
    ],
)
def test_the_open_period_and_its_deadline(settings: Settings, today: date, period: str, near: bool) -> None:
    assert open_period(settings, today) == period
    assert deadline_near(settings, period, today) is near


def test_the_watcher_step_writes_the_reminders_at_their_time(settings: Settings) -> None:
    with open_ledger(settings) as led:
        led.save_registry(
            [Unit("U1", "Phòng Một", "CHINH_QUYEN", "PHONG", emails="u1@don-vi.example")],
            [Person("U1-0", "Người Một", "U1", "CONG_CHUC", "CBCC", "CBCC")],
            "danh_muc.xlsx",
        )
    settings.inbox.mkdir(parents=True, exist_ok=True)
    wall = WallClock(datetime(2022, 2, 22, 7, 0))
    at = _at(settings, "08:00")
    mono = [0.0]
    watcher = Watcher(
        at,
        polling=True,
        process=lambda *a, **k: None,
        clock=lambda: mono[0],
        reminders=ReminderSchedule(at, clock=wall),
    )
    watcher.start(observe=False)
    watcher.step(observe=False)
    folder = settings.outbox / "2022-02" / "_nhac_nho"
    assert not folder.exists()
    wall.now += timedelta(hours=1)
    mono[0] += 3600
    watcher.step(observe=False)
    assert sorted(p.name for p in folder.iterdir()) == ["U1_missing.eml", "chay_thu.txt"]
    with open_ledger(settings) as led:
        assert led.sendings("2022-02") == []  # reminders.send is false: a dry run


def test_reminder_times_are_checked(tmp_path: Any) -> None:
    config = tmp_path / "danhgia.toml"
    config.write_text('[reminders]\nat = ["8h"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"reminders\.at"):
        load_settings(config, env={})
    config.write_text('[reminders]\nat = ["08:00", "16:30"]\nsend = true\n', encoding="utf-8")
    assert load_settings(config, env={}).reminders == ReminderSettings(at=("08:00", "16:30"), send=True)
