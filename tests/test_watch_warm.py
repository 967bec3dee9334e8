"""What the watcher keeps warm between events (watch/warm.py): reader workers, the ledger and
the roll-up views, and the loop waking as soon as a file can be taken."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import Sender, stuck_file, valid_row
from watchdog.events import FileCreatedEvent

from danhgia_batch.ledger import Ledger
from danhgia_batch.models import PeriodView, Person, Unit
from danhgia_batch.read import read_forms
from danhgia_batch.settings import Settings
from danhgia_batch.watch import SettleTracker, watch_inbox
from danhgia_batch.watch import warm as warm_mod
from danhgia_batch.watch.observer import HintHandler, shorten_move_pairing
from danhgia_batch.watch.warm import WarmReader, WarmSession, WatchLedger

PERIOD = "2022-01"
BLOCKS = ["DANG", "CHINH_QUYEN"]


# ------------------------------------------------------------------ the roll-up views


@pytest.fixture(params=["sqlite", "postgresql"])
def ledgers(request: pytest.FixtureRequest) -> Iterator[tuple[WatchLedger, Ledger]]:
    """A watcher's ledger and a plain one (another process) over the same database."""
    plain: Ledger = request.getfixturevalue("ledger" if request.param == "sqlite" else "pg_ledger")
    watch = WatchLedger(plain.url, stale_after=plain.stale_after, blocks=BLOCKS)
    yield watch, plain
    watch.close()


def _same(found: dict[str | None, PeriodView], expected: dict[str | None, PeriodView]) -> None:
    assert set(found) == set(expected)
    for b, view in expected.items():
        got = found[b]
        assert [u.unit_code for u in got.units] == [u.unit_code for u in view.units], b
        assert got.units == view.units, b  # lists, rows, issues, rejected files, missing people
        assert dataclasses.replace(got, units=[], generated_at=None) == dataclasses.replace(
            view, units=[], generated_at=None
        ), b


def test_incremental_roll_up_views_equal_a_full_read_and_skip_it_when_they_can(
    ledgers: tuple[WatchLedger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    watch, plain = ledgers
    units = [
        Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG"),
        Unit("PTP", "Phòng Tư pháp", "CHINH_QUYEN", "PHONG"),
        Unit("BTC", "Ban Tổ chức", "DANG", "BAN"),
    ]
    people = [Person(c, f"Người {c}", u, "CONG_CHUC", "CBCC", "CBCC") for c, u in
              [("P1", "PNV"), ("P2", "PNV"), ("P3", "PNV"), ("T1", "PTP"), ("T2", "PTP"), ("B1", "BTC")]]  # fmt: skip
    plain.save_registry(units, people, "danh_muc.xlsx")
    full_reads: list[str] = []
    real_full = WatchLedger._full

    def counting_full(self: WatchLedger, period: str, blocks: Any) -> Any:
        full_reads.append(period)
        return real_full(self, period, blocks)

    monkeypatch.setattr(WatchLedger, "_full", counting_full)
    send = Sender(plain)
    wanted: list[str | None] = ["CHINH_QUYEN", None]

    def check(step: str, *, full: bool, blocks: list[str | None] = wanted) -> None:
        before = len(full_reads)
        _same(watch.period_views(PERIOD, blocks), plain.period_views(PERIOD, blocks))
        assert (len(full_reads) > before) == full, step

    send.send("PNV", "CHINH_QUYEN", ["P1", "P2"])
    check("first read", full=True)
    send.send("PNV", "CHINH_QUYEN", ["P1", "P2"], grade="A")  # a corrected list, same people
    check("correction", full=False)
    send.send("PTP", "CHINH_QUYEN", ["T1"])  # a unit's first list: its missing people shrink
    check("new unit", full=False)
    send.send("PNV", "CHINH_QUYEN", ["P1", "P2", "T2"])  # T2 (of PTP) evaluated by PNV: PTP changes too
    check("someone of another unit", full=False)
    assert [p.code for p in watch.period_views(PERIOD, [None])[None].units[1].missing_people or []] == []
    send.reject("BTC", "DANG")  # a rejected file of a unit of another block
    check("rejected file", full=False, blocks=["DANG", None])
    send.send("PNV", "CHINH_QUYEN", ["P1"])  # P2 and T2 no longer evaluated: others' missing grow
    check("someone dropped", full=True)
    plain.set_lock(PERIOD, "DANG", locked=True, by="Ban Tổ chức")
    check("lock", full=True, blocks=["DANG", None])
    plain.save_registry(units[:2], people[:5], "danh_muc_2.xlsx")
    check("new registry", full=True)
    send.send("PTP", "CHINH_QUYEN", ["T1", "T2"])
    check("after the full reads", full=False)

    # the unit outputs of an event read the unit first: the roll-ups reuse that read...
    reads: list[list[str]] = []
    real_unit_views = Ledger.unit_views

    def counting_unit_views(self: Ledger, period: str, codes: Any) -> Any:
        if self is watch:
            reads.append(sorted(codes))
        return real_unit_views(self, period, codes)

    monkeypatch.setattr(Ledger, "unit_views", counting_unit_views)
    send.send("PNV", "CHINH_QUYEN", ["P1", "P2"], grade="A")
    watch.unit_views(PERIOD, ["PNV"])
    check("unit read just before", full=False)
    assert reads == [["PNV"]]
    # ...unless the unit changed after that read
    watch.unit_views(PERIOD, ["PNV"])
    send.send("PNV", "CHINH_QUYEN", ["P1", "P2"], grade="C")
    check("changed after the unit read", full=False)
    assert reads == [["PNV"], ["PNV"], ["PNV"]]


def test_a_unit_spanning_two_blocks_is_always_read_in_full(ledgers: tuple[WatchLedger, Ledger]) -> None:
    watch, plain = ledgers
    send = Sender(plain)
    send.send("PNV", "CHINH_QUYEN", ["P1"])
    send.reject("PNV", "DANG")
    for _ in range(2):
        _same(watch.period_views(PERIOD, ["DANG", None]), plain.period_views(PERIOD, ["DANG", None]))
    assert PERIOD not in watch._cache


# ------------------------------------------------------------------ the reader workers


def _pids(reader: WarmReader) -> set[int]:
    return {slot.proc.pid for slot in reader.slots}


def _wait_dead(pid: int) -> None:
    for _ in range(500):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)


def test_warm_reader_keeps_its_workers_and_replaces_dead_ones(
    fill_template: Callable[..., Path], settings: Settings
) -> None:
    good = fill_template("02")
    reader = WarmReader(dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, workers=1)))
    try:
        (first,) = reader([good], settings)
        (cold,) = read_forms([good], settings)
        assert first.kind == cold.kind == "02" and first.errors == [] and first.rows == cold.rows
        pids = _pids(reader)
        assert len(pids) == 1
        (again,) = reader([good], settings)
        assert _pids(reader) == pids and again.rows == first.rows  # the same worker, still alive
        (pid,) = pids
        os.kill(pid, signal.SIGKILL)  # dies while idle (the OOM killer, an operator)
        _wait_dead(pid)
        (after,) = reader([good], settings)
        assert after.errors == [] and after.rows == first.rows and pid not in _pids(reader)
        reader.timeout = 0.001  # a worker that overruns is killed and replaced, the file reported
        (late,) = reader([stuck_file(good.with_name("treo.xlsx"))], settings)
        assert [i.code for i in late.issues] == ["file-timeout"] and reader.slots == []
        reader.timeout = settings.reader.timeout_seconds
        (fine,) = reader([good], settings)
        assert fine.errors == [] and fine.rows == first.rows
    finally:
        reader.shutdown()
    assert reader.slots == []


def test_warm_reader_recycles_its_workers(
    fill_template: Callable[..., Path], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warm_mod, "RECYCLE_FILES", 2)
    good = fill_template("02")
    reader = WarmReader(dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, workers=1)))
    try:
        list(reader([good, good], settings))
        pids = _pids(reader)
        (form,) = reader([good], settings)
        assert form.errors == [] and _pids(reader).isdisjoint(pids)
    finally:
        reader.shutdown()


def test_the_session_processes_files_and_starts_afresh_after_an_error(
    fill_template: Callable[..., Path], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = WarmSession(settings)
    try:
        first = fill_template("02")
        dest = settings.inbox / "PNV" / first.name
        dest.parent.mkdir(parents=True)
        os.replace(first, dest)
        result = session(settings, paths=[dest])
        assert [f.outcome for f in result.files] == ["accepted"] and not dest.exists()
        led = session._ledger
        assert led is not None and session.reader.slots

        def broken(*_a: Any, **_k: Any) -> Any:
            raise RuntimeError("ledger hiccup")

        monkeypatch.setattr(WatchLedger, "unfinished", broken)
        with pytest.raises(RuntimeError):
            session(settings, paths=[])
        assert session._ledger is None and session.reader.slots == []  # claims retired, workers stopped
        monkeypatch.undo()
        second = fill_template("02", [valid_row(note="Bản sửa lần 2")])
        dest2 = settings.inbox / "PNV" / "v2.xlsx"
        os.replace(second, dest2)
        result = session(settings, paths=[dest2])
        assert [f.outcome for f in result.files] == ["accepted"] and session._ledger is not led
    finally:
        session.close()


# ------------------------------------------------------------------ waking the loop


def test_a_hint_wakes_the_loop_and_a_drain_rearms_it(tmp_path: Path) -> None:
    handler = HintHandler()
    assert handler.wait(0.0) is False
    handler.dispatch(FileCreatedEvent(str(tmp_path / "a.xlsx")))
    assert handler.wait(5.0) is True  # returns at once, not after 5 s
    assert [h.path.name for h in handler.drain()] == ["a.xlsx"]
    assert handler.wait(0.0) is False


def test_the_tracker_says_when_the_next_file_falls_due(tmp_path: Path) -> None:
    now = [100.0]
    tracker = SettleTracker(settle_seconds=2.0, lock_wait_seconds=60.0, clock=lambda: now[0])
    assert tracker.next_due() is None
    a = tmp_path / "a.xlsx"
    a.write_bytes(b"x")
    tracker.hint(a)
    assert tracker.next_due() == 102.0
    now[0] = 101.0
    b = tmp_path / "b.xlsx"
    b.write_bytes(b"y")
    tracker.hint(b)
    assert tracker.next_due() == 102.0
    tracker.retry(b, delay=10.0)
    now[0] = 102.0
    assert tracker.poll() == [a]
    assert tracker.next_due() == 111.0


def test_moved_from_events_no_longer_hold_the_next_arrival_half_a_second() -> None:
    grouper = pytest.importorskip("watchdog.observers.inotify_move_event_grouper").InotifyMoveEventGrouper
    shorten_move_pairing()
    assert grouper.delay <= 0.05


def test_the_watcher_stops_its_session(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []
    monkeypatch.setattr(WarmSession, "close", lambda self: closed.append(True))
    settings.inbox.mkdir(parents=True, exist_ok=True)
    assert watch_inbox(settings, once=True) == 0
    assert closed == [True]
