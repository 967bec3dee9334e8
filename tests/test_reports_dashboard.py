"""The HTML dashboard (issue 20): its figures are those of ``danhgia status --json``, what came
from clerks' files is escaped, links are relative and lead to the unit's workbooks, and it
opens in a real browser (headless Chromium) from disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from helpers import Sender, ledger_row, record_decided
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.issues import make_issue
from danhgia_batch.ledger import open_ledger
from danhgia_batch.ledger.store import Record
from danhgia_batch.models import ListHeader, Person, Unit
from danhgia_batch.pipeline import effects, period_status, regenerate_reports
from danhgia_batch.settings import Settings, load_settings

PERIOD = "2022-02"
HOSTILE = 'Phòng <script>alert("x")</script> & <b>Lạ</b>'


class DomFigures(HTMLParser):
    """The figures a dashboard shows, read from its DOM by the ``data-*`` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.units: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, dict[str, int]] = {}  # block -> grades (table "tbl-xep-loai-khoi")
        self.overview: dict[str, int] = {}
        self.trend: dict[str, dict[str, int]] = {}
        self.hrefs: list[str] = []
        self._table = ""
        self._row: dict[str, Any] | None = None
        self._cell: tuple[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or ""
        elif tag == "tr":
            self._row = {"attrs": a, "cells": {}}
        elif tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
        if tag in ("td", "span"):
            for key in ("data-grade", "data-state", "data-people", "data-overview", "data-late", "data-missing"):
                if key in a:
                    self._cell = (key, a[key] or "")
                    self._text = ""
                    if key == "data-state" and tag == "td" and self._table == "tbl-don-vi" and self._row:
                        self._row["cells"]["state"] = a[key]
                        self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "span") and self._cell is not None:
            key, value = self._cell
            text = self._text.strip()
            if key == "data-overview":
                self.overview[value] = int(text)
            elif self._row is not None:
                self._row["cells"][f"{key}:{value}"] = int(text) if text else None
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._end_row(self._row)
            self._row = None

    def _end_row(self, row: dict[str, Any]) -> None:
        attrs, cells = row["attrs"], row["cells"]
        grades = {k.split(":", 1)[1]: v for k, v in cells.items() if k.startswith("data-grade:")}
        if self._table == "tbl-don-vi" and "data-unit" in attrs:
            self.units[attrs["data-unit"]] = {
                "state": cells["state"],
                "people": cells["data-people:"],
                "grades": grades,
                "missing_people": cells["data-missing:"],
            }
        elif self._table == "tbl-xep-loai-khoi" and "data-block" in attrs:
            self.blocks[attrs["data-block"]] = grades
        elif self._table == "tbl-xu-huong" and "data-period" in attrs:
            states = {k.split(":", 1)[1]: v for k, v in cells.items() if k.startswith("data-state:")}
            self.trend[attrs["data-period"]] = {**states, **grades}


def figures(html: str) -> DomFigures:
    parser = DomFigures()
    parser.feed(html)
    return parser


def assert_page_equals_status(page: DomFigures, status: dict[str, Any]) -> None:
    """Every unit, block and overview figure of the page is the one ``status --json`` gives."""
    units = {u["unit_code"]: u for b in status["blocks"] for u in b["units"]}
    assert set(page.units) == set(units)
    for code, u in units.items():
        shown = page.units[code]
        assert shown["state"] == u["state"], code
        assert shown["people"] == u["people"] and shown["grades"] == u["grades"], code
        assert shown["missing_people"] == u["missing_people"], code
    if status["block"] is None:
        assert page.blocks == {b["block"]: b["grades"] for b in status["blocks"]}
    counts = {s: sum(b["counts"][s] for b in status["blocks"]) for s in ("valid", "invalid", "rejected", "missing")}
    assert page.overview["on_time"] + page.overview["late"] == counts["valid"]
    assert (page.overview["invalid"], page.overview["rejected"], page.overview["missing"]) == (
        counts["invalid"],
        counts["rejected"],
        counts["missing"],
    )
    assert page.overview["units"] == len(units)
    assert page.overview["people"] == sum(u["people"] for u in units.values())
    current = page.trend[status["period"]]
    assert {s: current[s] for s in counts} == counts
    assert {g: current[g] for g in "ABCD"} == {g: sum(b["grades"][g] for b in status["blocks"]) for g in "ABCD"}


# ---------------------------------------------------------------- a small district, every state


def _send(led: Any, sender: Sender, unit: str, block: str, people: list[str], *, late: bool = False,
          invalid: bool = False, name: str = "") -> None:  # fmt: skip
    c = sender._claim()
    header = ListHeader(period=sender.period, unit_code=unit, unit_name=name or f"Đơn vị {unit}", block=block,
                        decider_name="Trần Văn Hùng", decider_position="TRUONG_PHONG",
                        decision_date=date(2022, 2, 26))  # fmt: skip
    issues = [make_issue("late-arrival", value="05/03/2022", days=3, expected="02/03/2022")] if late else []
    if invalid:
        issues.append(make_issue("quota-exceeded", group="CBCC", count=3, limit=1, ranked=3))
    rows = [ledger_row(p, "95" if invalid else "80", "A" if invalid else "B") for p in people]
    outcome = "invalid" if invalid else "accepted"
    record_decided(led, c.file, Record(outcome, "02", sender.period, unit, block, issues, header, rows))
    led.mark_done(c.file.id, None)


@pytest.fixture
def district(settings: Settings) -> Settings:
    """Six registry units of two blocks: on time, late, invalid, rejected, missing, hostile name;
    and a month before, for the trend."""
    units = [
        Unit("U1", "Phòng Một", "CHINH_QUYEN", "PHONG"),
        Unit("U2", "Phòng Hai", "CHINH_QUYEN", "PHONG"),
        Unit("U3", "Phòng Ba", "CHINH_QUYEN", "PHONG"),
        Unit("U4", "Phòng Bốn", "DANG", "PHONG"),
        Unit("U5", "Phòng Năm", "DANG", "PHONG"),
        Unit("U6", HOSTILE, "DANG", "PHONG"),
    ]
    people = [Person(f"{u.code}-{i}", f"Người {u.code}-{i}", u.code, "CONG_CHUC", "CBCC", "CBCC")
              for u in units for i in range(3)]  # fmt: skip
    people[-1] = Person("U6-2", "<img src=x onerror=alert(1)>", "U6", "CONG_CHUC", "CBCC", "CBCC")
    with open_ledger(settings) as led:
        led.save_registry(units, people, "danh_muc.xlsx")
        before = Sender(led, "2022-01")
        _send(led, before, "U1", "CHINH_QUYEN", ["U1-0", "U1-1", "U1-2"])
        sender = Sender(led, PERIOD)
        _send(led, sender, "U1", "CHINH_QUYEN", ["U1-0", "U1-1", "U1-2"])
        _send(led, sender, "U2", "CHINH_QUYEN", ["U2-0", "U2-1", "U2-2"], late=True)
        _send(led, sender, "U3", "CHINH_QUYEN", ["U3-0", "U3-1", "U3-2"], invalid=True)
        sender.reject("U4", "DANG")
        _send(led, sender, "U6", "DANG", ["U6-0", "U6-1"], name=HOSTILE)  # U6-2 missing from the list
    regenerate_reports(settings, "2022-01")
    regenerate_reports(settings, PERIOD)
    return settings


def test_the_district_and_block_pages_show_the_figures_of_status(district: Settings) -> None:
    outbox = district.outbox / PERIOD
    for block in (None, "CHINH_QUYEN", "DANG"):
        html = (outbox / (f"{block}/index.html" if block else "index.html")).read_text(encoding="utf-8")
        page = figures(html)
        status = period_status(district, PERIOD, block).to_dict()
        assert_page_equals_status(page, status)
    page = figures((outbox / "index.html").read_text(encoding="utf-8"))
    assert {c: u["state"] for c, u in page.units.items()} == {
        "U1": "valid", "U2": "valid", "U3": "invalid", "U4": "rejected", "U5": "missing", "U6": "valid",
    }  # fmt: skip
    assert (page.overview["on_time"], page.overview["late"]) == (2, 1)
    assert list(page.trend) == ["2022-01", PERIOD]
    assert page.trend["2022-01"]["valid"] == 1 and page.trend["2022-01"]["missing"] == 5


def test_clerk_text_is_escaped_and_sections_list_violations_and_missing_people(district: Settings) -> None:
    html = (district.outbox / PERIOD / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "<b>Lạ" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Lạ&lt;/b&gt;" in html
    assert 'id="tbl-vi-pham"' in html and 'id="tbl-con-thieu"' in html
    missing = html.split('id="tbl-con-thieu"', 1)[1].split("</table>", 1)[0]
    assert "U6-2" in missing and "&lt;img src=x onerror=alert(1)&gt;" in missing
    assert 'data-unit="U4"' not in missing  # rejected: shown by its state, not name by name
    quota = html.split('id="tbl-vi-pham"', 1)[1].split("</table>", 1)[0]
    assert 'data-unit="U3"' in quota and 'data-unit="U1"' not in quota
    assert "<svg" in html and "@media print" in html and 'lang="vi"' in html


def test_links_are_relative_and_lead_to_the_units_workbooks(district: Settings) -> None:
    for page_path in [district.outbox / PERIOD / "index.html", district.outbox / PERIOD / "DANG" / "index.html"]:
        page = figures(page_path.read_text(encoding="utf-8"))
        assert page.hrefs
        for h in page.hrefs:
            assert "://" not in h and not h.startswith("/"), h
            assert (page_path.parent / unquote(h)).resolve().is_file(), h
    hrefs = figures((district.outbox / PERIOD / "index.html").read_text(encoding="utf-8")).hrefs
    assert any(h.startswith("CHINH_QUYEN/U1/danh_sach_tong_hop_") for h in hrefs)
    assert "DANG/index.html" in hrefs and "CHINH_QUYEN/index.html" in hrefs
    assert any(h.startswith("tong_hop_") and h.endswith(".xlsx") for h in hrefs)  # the period's roll-up
    block = figures((district.outbox / PERIOD / "DANG" / "index.html").read_text(encoding="utf-8")).hrefs
    assert "../index.html" in block and f"tong_hop_khoi_dang_{PERIOD}.xlsx" in block


def test_a_large_period_shows_the_same_figures(district: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    path = district.outbox / PERIOD / "index.html"
    before = figures(path.read_text(encoding="utf-8"))
    monkeypatch.setattr(effects, "LARGE_PERIOD_ROWS", 0)  # roll-ups and pages from summarised views
    path.unlink()
    regenerate_reports(district, PERIOD)
    after = figures(path.read_text(encoding="utf-8"))
    assert (after.units, after.blocks, after.overview, after.trend) == (
        before.units,
        before.blocks,
        before.overview,
        before.trend,
    )


# ---------------------------------------------------------------- a real browser


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed")
    return found


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]  # fmt: skip
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_chromium_opens_the_demo_dashboard_from_disk(tmp_path: Path) -> None:
    chromium = _chromium()
    target = tmp_path / "demo"
    runner = CliRunner()
    res = runner.invoke(app, ["demo", "--dir", str(target), "--units", "14", "--period", PERIOD])
    assert res.exit_code == 0, res.stdout
    res = runner.invoke(app, ["-c", str(target / "danhgia.toml"), "--json", "status", "--period", PERIOD])
    status = json.loads(res.stdout)
    assert res.exit_code == status["exit_code"] == 1  # the demo month has units to chase
    page = (load_settings(cwd=target, env={}).outbox / PERIOD / "index.html").resolve()

    dom = _browser(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<html" in dom.stdout and "Tổng quan" in dom.stdout
    assert_page_equals_status(figures(dom.stdout), status)

    shot = tmp_path / "dashboard.png"
    res_shot = _browser(
        chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()
    )
    assert res_shot.returncode == 0, res_shot.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)
    assert len(data) > 30_000  # a blank page compresses to a few kilobytes


def _within(status: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``status`` narrowed to the units whose code starts with ``prefix`` (one ward of the city
    demo: its units are P01_…, P02_…), counts and grades recomputed from those units."""
    blocks = []
    for b in status["blocks"]:
        units = [u for u in b["units"] if u["unit_code"].startswith(prefix)]
        if not units:
            continue
        counts = {k: sum(1 for u in units if u["state"] == k) for k in ("valid", "invalid", "rejected", "missing")}
        grades = {g: sum(u["grades"][g] for u in units) for g in ("A", "B", "C", "D", "KXL")}
        blocks.append({**b, "units": units, "counts": counts, "grades": grades})
    return {**status, "blocks": blocks}


def test_a_city_has_a_page_per_ward_with_that_wards_figures(tmp_path: Path) -> None:
    # issue 20: one page per block and per higher level; a city's ledger holds its wards
    from danhgia_batch.demo import run_demo

    result = run_demo(tmp_path / "demo", scale="city", wards=2, size_factor=0.3)
    settings = load_settings(cwd=result.directory, env={})
    outbox = settings.outbox / result.period
    status = period_status(settings, result.period).to_dict()
    top = (outbox / "index.html").read_text(encoding="utf-8")
    assert 'id="tbl-dia-ban"' in top
    wards = {"P01_": "phuong_long_bien", "P02_": "phuong_bo_de"}
    for prefix, slug in wards.items():
        page_file = outbox / f"tong_hop_{slug}_{result.period}.html"
        assert f'href="{page_file.name}"' in top  # the city page links to the ward's page
        html = page_file.read_text(encoding="utf-8")
        page = figures(html)
        mine = _within(status, prefix)
        assert page.units and set(page.units) == {u["unit_code"] for b in mine["blocks"] for u in b["units"]}
        assert_page_equals_status(page, {**mine, "block": None})
        assert f'href="{page_file.with_suffix(".xlsx").name}"' in html  # its own roll-up workbook
    ward_units = sum(
        len(figures((outbox / f"tong_hop_{s}_{result.period}.html").read_text("utf-8")).units) for s in wards.values()
    )
    assert ward_units <= figures(top).overview["units"]  # the city's own units are on its page only
