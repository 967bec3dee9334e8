"""The processing commands through the CLI runner: process, status, publish, reopen, report, year."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import valid_row
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.ledger import open_ledger
from danhgia_batch.settings import load_settings

Fill = Callable[..., Path]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A work dir with an empty danhgia.toml (shipped defaults, SQLite ledger inside)."""
    work = tmp_path / "cli_work"
    (work / "inbox" / "PNV").mkdir(parents=True)
    (work / "danhgia.toml").write_text("[watcher]\nsettle_seconds = 0\n", encoding="utf-8")
    return work


def test_process_leaves_files_still_being_copied_for_the_next_run(
    work: Path, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    from danhgia_batch.pipeline import process as process_mod

    # 3 s: the copy below must still be younger than the settle time when process first looks,
    # even on a loaded machine (files are filled first, copied last)
    (work / "danhgia.toml").write_text("[watcher]\nsettle_seconds = 3\n", encoding="utf-8")
    copying = work / "inbox" / "PNV" / "dang_chep.xlsx"
    done = work / "inbox" / "PNV" / "da_chep_xong.xlsx"
    sources = fill_template("02"), fill_template("02", prepared_by="Người khác")
    shutil.copy(sources[1], done)
    shutil.copy(sources[0], copying)

    def sleep_while_copying(seconds: float) -> None:  # the SMB copy goes on while we wait
        time.sleep(min(seconds, 0.05))
        with copying.open("ab") as fh:
            fh.write(b"\0")

    monkeypatch.setattr(process_mod, "_wait", sleep_while_copying)
    res = invoke(work, "--json", "process")
    assert res.exit_code == 0, res.output
    outcomes = {Path(f["path"]).name: f["outcome"] for f in json.loads(res.output)["files"]}
    assert outcomes == {"dang_chep.xlsx": "skipped", "da_chep_xong.xlsx": "accepted"}
    assert copying.is_file() and not done.exists()


def invoke(work: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--config", str(work / "danhgia.toml"), *args])


def test_process_json_exit_codes_and_summary(work: Path, fill_template: Fill) -> None:
    shutil.copy(fill_template("02"), work / "inbox" / "PNV" / "ds.xlsx")
    ok = invoke(work, "--json", "process")
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["counts"]["accepted"] == 1 and data["exit_code"] == 0
    assert data["files"][0]["outcome"] == "accepted" and data["outputs"]

    shutil.copy(fill_template("02", [valid_row(score=80, final_grade="A")]), work / "inbox" / "sai.xlsx")
    bad = invoke(work, "process")
    assert bad.exit_code == 1
    assert "Bị trả lại" in bad.output and "sai.xlsx" in bad.output

    nothing = invoke(work, "process", "--no-reports")
    assert nothing.exit_code == 0 and "Chấp nhận" in nothing.output


def test_process_given_paths_and_period(work: Path, fill_template: Fill, tmp_path: Path) -> None:
    elsewhere = fill_template("02")
    res = invoke(work, "--json", "process", "--period", "01/2022", str(elsewhere))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["files"][0]["period"] == "2022-01"
    assert elsewhere.is_file()  # copied into the archive, not moved
    assert invoke(work, "process", "--period", "2022-13").exit_code == 2
    mistyped = invoke(work, "process", str(elsewhere), str(tmp_path / "khong_co.xlsx"))
    assert mistyped.exit_code == 2 and "Không tìm thấy" in mistyped.output and "khong_co.xlsx" in mistyped.output
    with open_ledger(load_settings(cwd=work, env={})) as led:
        assert len(led.files()) == 1  # nothing of the mistyped run was taken


def test_status_publish_reopen_report_year(work: Path, fill_template: Fill) -> None:
    shutil.copy(fill_template("02"), work / "inbox" / "PNV" / "ds.xlsx")
    assert invoke(work, "process").exit_code == 0

    status = invoke(work, "--json", "status", "--period", "2022-01")
    assert status.exit_code == 0, status.output
    data = json.loads(status.output)
    (block,) = data["blocks"]
    assert block["block"] == "CHINH_QUYEN" and block["counts"]["valid"] == 1
    (unit,) = block["units"]
    assert (unit["unit_code"], unit["state"], unit["grades"]["B"], unit["submitted"]) == ("PNV", "valid", 1, True)
    text = invoke(work, "status", "--period", "2022-01")
    assert text.exit_code == 0 and "Hợp lệ" in text.output

    published = invoke(work, "--json", "publish", "--period", "2022-01", "--by", "Phòng Nội vụ")
    assert published.exit_code == 0 and json.loads(published.output)["locked"] is True
    assert json.loads(invoke(work, "--json", "status", "--period", "2022-01").output)["locked"] is True

    shutil.copy(fill_template("02", [valid_row(score=91)]), work / "inbox" / "PNV" / "muon.xlsx")
    late = invoke(work, "--json", "process")
    assert late.exit_code == 1
    assert "period-locked" in [i["code"] for i in json.loads(late.output)["files"][0]["issues"]]

    assert invoke(work, "reopen", "--period", "2022-01", "--by", "", "--reason", "x").exit_code == 2
    reopened = invoke(work, "reopen", "--period", "2022-01", "--by", "Trưởng phòng", "--reason", "bổ sung")
    assert reopened.exit_code == 0 and "Đã mở lại" in reopened.output
    settings = load_settings(cwd=work, env={})
    with open_ledger(settings) as led:
        assert not led.is_locked("2022-01", "CHINH_QUYEN")
        assert [h["by"] for h in led.lock_history("2022-01")] == ["Phòng Nội vụ", "Trưởng phòng"]

    report = invoke(work, "--json", "report", "--period", "2022-01", "--scope", "city")
    paths = [Path(p) for p in json.loads(report.output)]
    assert report.exit_code == 0 and any(p.name == "tong_hop_thanh_pho_2022-01.xlsx" for p in paths)
    assert invoke(work, "report", "--period", "2022-01", "--scope", "tinh").exit_code == 2

    year = invoke(work, "--json", "year", "2022")
    assert year.exit_code == 0, year.output
    wb = openpyxl.load_workbook(json.loads(year.output)["path"], read_only=True)
    values = {v for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r}
    wb.close()
    assert "Nguyễn Văn An" in values


def test_an_unopenable_ledger_is_a_configuration_error(work: Path) -> None:
    res = invoke(work, "--ledger", "nosuchdb://x", "process")
    assert res.exit_code == 2 and "sổ cái" in res.output


@pytest.mark.parametrize(("terminal", "long_run"), [(True, False), (True, True), (False, False)])
def test_process_prints_each_files_outcome_as_a_table_or_plain_columns_for_a_long_run(
    work: Path, fill_template: Fill, monkeypatch: pytest.MonkeyPatch, terminal: bool, long_run: bool
) -> None:
    """Each file's row is printed: a rich table on a terminal; plain aligned columns past
    ``RICH_TABLE_ROWS`` files (a city month: rich took ~20 s for 44,000 rows) or in a log, where
    rich cut file names to 80 columns."""
    from danhgia_batch import cli

    monkeypatch.setattr(cli, "_terminal", lambda: terminal)
    if long_run:
        monkeypatch.setattr(cli, "RICH_TABLE_ROWS", 1)
    long_run = long_run or not terminal
    shutil.copy(fill_template("02"), work / "inbox" / "PNV" / "ds_a.xlsx")
    shutil.copy(fill_template("02", [valid_row(score=80, final_grade="A")]), work / "inbox" / "PNV" / "ds_sai.xlsx")
    res = invoke(work, "process", "--no-reports")
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    start = (
        lines.index("Kết quả từng tệp") if long_run else next(n for n, x in enumerate(lines) if "Kết quả từng tệp" in x)
    )
    table = lines[start : start + 5]
    if long_run:
        header, rule, *rows = table[1:]
        assert header.split() == ["Tệp", "Kết", "quả", "Đơn", "vị", "Kỳ", "Số", "vấn", "đề"]
        assert set(rule) <= {"-", " "}
        starts = [header.index(h) for h in ("Kết quả", "Đơn vị", "Kỳ", "Số vấn đề")]
        for row, (name, label) in zip(rows, [("ds_a.xlsx", "Chấp nhận"), ("ds_sai.xlsx", "Bị trả lại")], strict=True):
            assert row.startswith(name) and row[starts[0] :].startswith(label), row  # aligned under the header
            assert row[starts[1] :].startswith("PNV") and row[starts[2] :].startswith("2022-01"), row
    else:
        assert any(c in "".join(table) for c in "┏━┃│")  # rich's box
        assert any("ds_a.xlsx" in x for x in lines) and any("ds_sai.xlsx" in x for x in lines)
