"""A large period (a city month) is reported a batch of units at a time, from summarised
roll-up views: the workbooks must be those of the one-read path, cell for cell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import Sender
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.ledger import Ledger, open_ledger
from danhgia_batch.ledger import views as ledger_views
from danhgia_batch.pipeline import effects, regenerate_reports
from danhgia_batch.settings import load_settings

PERIOD = "2022-11"


def _snapshot(outbox: Path) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every workbook of the month (unit lists, commendations, roll-ups): sheet -> cell values."""
    out = {}
    for path in sorted((outbox / PERIOD).rglob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        out[str(path.relative_to(outbox))] = {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb}
    return out


@pytest.fixture
def batches_seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the batches the large path read (proves the path was taken)."""
    seen: list[int] = []
    original = Ledger.unit_view_batches

    def spy(self: Ledger, period: str, unit_codes: Any, size: int) -> Iterator[dict[str, Any]]:
        for batch in original(self, period, unit_codes, size):
            seen.append(len(batch))
            yield batch

    monkeypatch.setattr(Ledger, "unit_view_batches", spy)
    return seen


@pytest.fixture
def summarised(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Unit codes of the views summarised for roll-ups."""
    seen: list[str] = []
    original = ledger_views.summarise

    def spy(view: Any) -> Any:
        seen.append(view.unit_code)
        return original(view)

    monkeypatch.setattr(ledger_views, "summarise", spy)
    return seen


def test_a_large_period_writes_the_same_workbooks_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batches_seen: list[int], summarised: list[str]
) -> None:
    # every period is "large", three units per batch of full views, two per summary batch
    monkeypatch.setattr(effects, "LARGE_PERIOD_ROWS", 0)
    monkeypatch.setattr(effects, "UNIT_BATCH", 3)
    monkeypatch.setattr(ledger_views, "SUMMARY_BATCH_UNITS", 2)
    target = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--dir", str(target), "--units", "10", "--period", PERIOD])
    assert res.exit_code == 0, res.stdout
    assert summarised  # process: unit outputs per chunk as always, roll-ups from summaries
    settings = load_settings(cwd=target, env={})
    processed = _snapshot(settings.outbox)
    rollups = [k for k in processed if Path(k).name.startswith("tong_hop_")]
    units = [k for k in processed if "danh_sach_tong_hop" in k]
    assert len(rollups) == 4 and len(units) >= 6

    # the district roll-up counts every grade of every accepted list (summaries kept the tallies)
    with open_ledger(settings) as led:
        evaluated = sum(len(u.rows) for u in led.period_view(PERIOD).units)
    district = next(v for k, v in processed.items() if Path(k).name.startswith("tong_hop_quan_long_bien"))
    people = [r for r in district["TongHop"] if r[0] == "Tổng số người được đánh giá"]
    assert evaluated > 50 and people and evaluated in people[0]

    # the one-read path (a district month) writes the very same workbooks
    monkeypatch.setattr(effects, "LARGE_PERIOD_ROWS", 10**9)
    batches_seen.clear()
    summarised.clear()
    regenerate_reports(settings, PERIOD)
    assert batches_seen == [] and summarised == []
    assert _snapshot(settings.outbox) == processed

    # danhgia report on the large path, with the writer processes serving every batch
    monkeypatch.setattr(effects, "LARGE_PERIOD_ROWS", 0)
    monkeypatch.setattr(effects, "REPORT_POOL_MIN_UNITS", 2)
    pools: list[int] = []
    real_pool = effects.ProcessPoolExecutor

    def counted_pool(*args: Any, **kwargs: Any) -> Any:
        pools.append(1)
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(effects, "ProcessPoolExecutor", counted_pool)
    for path in (settings.outbox / PERIOD).rglob("*.xlsx"):
        path.unlink()
    regenerate_reports(settings, PERIOD)
    assert len(batches_seen) >= 2 and max(batches_seen) <= 3 and summarised
    assert pools == [1]  # one writer pool served every batch
    assert _snapshot(settings.outbox) == processed


def test_a_summarised_view_keeps_what_a_roll_up_needs_and_feeds_no_unit_report(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--dir", str(target), "--units", "6", "--period", PERIOD])
    assert res.exit_code == 0, res.stdout
    settings = load_settings(cwd=target, env={})
    with open_ledger(settings) as led:
        full = led.period_views(PERIOD, [None])[None]
        short = led.period_views(PERIOD, [None], summary=True)[None]
    assert [u.unit_code for u in short.units] == [u.unit_code for u in full.units]
    for a, b in zip(full.units, short.units, strict=True):
        assert b.rows == [] and b.grade_counts is not None
        assert sum(b.grade_counts.values()) == len(a.rows)
        assert {g: b.grade_counts.get(g, 0) for g in "ABCD"} == {
            g: sum(r.final_grade == g for r in a.rows) for g in "ABCD"
        }
        assert [(lst.status, lst.issues) for lst in b.lists] == [(lst.status, lst.issues) for lst in a.lists]
        assert (b.rejected_files, b.missing_people, b.valid, b.submitted) == (
            a.rejected_files,
            a.missing_people,
            a.valid,
            a.submitted,
        )
    from danhgia_batch.reports import write_unit_reports

    with pytest.raises(ValueError, match="summarised"):
        write_unit_reports(next(u for u in short.units if u.lists), settings)


def _shape(view: Any) -> list[tuple[Any, ...]]:
    """What a roll-up reads of each unit of a (summarised) period view."""
    return [
        (
            u.unit_code,
            u.block,
            {g: n for g, n in (u.grade_counts or {}).items() if n},
            [(lst.list_id, lst.status, [i.code for i in lst.issues]) for lst in u.lists],
            u.rejected_files,
            u.valid,
        )
        for u in view.units
    ]


@pytest.mark.parametrize("batch", [1, 2, 400])
def test_summarised_views_equal_the_full_views_summarised(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Shared views of single-block units, a unit whose files span two blocks, a rejected
    file without a block, batches of every size: the same as summarising the full read."""
    monkeypatch.setattr(ledger_views, "SUMMARY_BATCH_UNITS", batch)
    send = Sender(ledger, "2022-01")
    send.send("PNV", "CHINH_QUYEN", ["P1", "P2", "P3"])
    send.send("PTP", "CHINH_QUYEN", ["T1"], grade="A")
    send.send("BTC", "DANG", ["B1", "B2"])
    send.send("MIX", "DANG", ["M1"])
    send.reject("MIX", "CHINH_QUYEN")  # the same unit, a rejected file in another block
    send.reject("NOBLOCK", "")
    send.reject("PNV", "CHINH_QUYEN")
    blocks: list[str | None] = [None, "DANG", "CHINH_QUYEN", "TRUONG_HOC"]
    full = ledger.period_views("2022-01", blocks)
    short = ledger.period_views("2022-01", blocks, summary=True)
    for b in blocks:
        expected = [ledger_views.summarise(u) for u in full[b].units]
        assert _shape(short[b]) == _shape(type(full[b])(full[b].period, expected)), b
    assert [u.unit_code for u in short["CHINH_QUYEN"].units] == ["MIX", "PNV", "PTP"]
    assert [u.unit_code for u in short["DANG"].units] == ["BTC", "MIX"]
    mix = {b: next(u for u in short[b].units if u.unit_code == "MIX") for b in ("DANG", "CHINH_QUYEN")}
    assert mix["DANG"].lists and not mix["CHINH_QUYEN"].lists and mix["CHINH_QUYEN"].rejected_files
