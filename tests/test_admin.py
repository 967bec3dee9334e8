"""Period administration through the CLI refuses mistakes (issue 18): publish, reopen, lookups,
status exit codes, the wrong folder, --json after the subcommand, one summary line."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from danhgia_batch.chrome import hoist_global_options
from danhgia_batch.cli import app
from danhgia_batch.ledger import open_ledger
from danhgia_batch.settings import load_settings

Fill = Callable[..., Path]


@pytest.fixture
def work(tmp_path: Path, fill_template: Fill) -> Path:
    """A work dir where unit PNV's list of 2022-01 has been processed."""
    work = tmp_path / "work"
    (work / "inbox" / "PNV").mkdir(parents=True)
    (work / "danhgia.toml").write_text("[watcher]\nsettle_seconds = 0\n", encoding="utf-8")
    shutil.copy(fill_template("02"), work / "inbox" / "PNV" / "ds.xlsx")
    assert invoke(work, "process").exit_code == 0
    return work


def invoke(work: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--config", str(work / "danhgia.toml"), *args])


def test_publish_needs_by_and_refuses_locked_or_empty_periods(work: Path) -> None:
    assert invoke(work, "publish", "--period", "2022-01").exit_code == 2  # no --by
    empty = invoke(work, "publish", "--period", "2025-01", "--by", "Phòng Nội vụ")
    assert empty.exit_code == 2 and "Chưa có đơn vị nào nộp" in empty.output
    ok = invoke(work, "publish", "--period", "2022-01", "--by", "Phòng Nội vụ")
    assert ok.exit_code == 0, ok.output
    assert len(ok.output.strip().splitlines()) == 2  # "Đã khóa kỳ" + one summary line, not a line per file
    again = invoke(work, "publish", "--period", "2022-01", "--by", "Phòng Nội vụ")
    assert again.exit_code == 2 and "đang khóa" in again.output
    with open_ledger(load_settings(cwd=work, env={})) as led:
        assert [h["by"] for h in led.lock_history("2022-01")] == ["Phòng Nội vụ"]


def test_reopen_refuses_an_open_period_and_rewrites_the_rollups(work: Path) -> None:
    refused = invoke(work, "reopen", "--period", "2022-01", "--by", "A", "--reason", "b")
    assert refused.exit_code == 2 and "chưa khóa" in refused.output
    assert invoke(work, "publish", "--period", "2022-01", "--by", "Phòng Nội vụ").exit_code == 0
    rollup = work / "outbox" / "2022-01" / "CHINH_QUYEN" / "tong_hop_khoi_chinh_quyen_2022-01.xlsx"
    assert "Kỳ đánh giá đã công khai (đã khóa)." in texts(rollup)
    assert invoke(work, "reopen", "--period", "2022-01", "--by", "A", "--reason", "b").exit_code == 0
    assert "Kỳ đánh giá đã công khai (đã khóa)." not in texts(rollup)
    assert "Số liệu tạm thời: kỳ đánh giá chưa khóa." in texts(rollup)


def texts(path: Path) -> set[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v}
    finally:
        wb.close()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report", "--period", "2022-01", "--unit", "KHONG_CO"], "KHONG_CO"),
        (["report", "--period", "2022-01", "--block", "KHONGCO"], "KHONGCO"),
        (["status", "--period", "2022-01", "--block", "KHONGCO"], "KHONGCO"),
        (["report", "--period", "2021-05"], "2021-05"),
        (["year", "1990"], "1990"),
    ],
)
def test_lookups_that_find_nothing_say_so(work: Path, args: list[str], said: str) -> None:
    res = invoke(work, *args)
    assert res.exit_code == 2 and said in res.output, res.output
    assert not (work / "outbox" / "nam_1990").exists()


def test_report_prints_one_summary_line(work: Path) -> None:
    res = invoke(work, "report", "--period", "2022-01")
    assert res.exit_code == 0
    (line,) = res.output.strip().splitlines()
    assert line.startswith("Đã ghi 4 báo cáo Excel")  # unit list, commendation, block and district roll-ups


def test_status_exit_code_says_whether_anything_is_left_to_chase(work: Path, fill_template: Fill) -> None:
    assert invoke(work, "status", "--period", "2022-01").exit_code == 0
    from helpers import valid_row

    shutil.copy(fill_template("02", [valid_row(score=80, final_grade="A")]), work / "inbox" / "PNV" / "sai.xlsx")
    invoke(work, "process")
    with open_ledger(load_settings(cwd=work, env={})) as led:
        assert any(f.outcome == "rejected" for f in led.files())
    # PNV still has its valid list: the rejected second file leaves nothing to chase
    assert invoke(work, "status", "--period", "2022-01").exit_code == 0
    assert json.loads(invoke(work, "status", "--period", "2022-01", "--json").output)["exit_code"] == 0
    assert invoke(work, "status", "--period", "2022-02").exit_code == 0  # no registry: nobody expected


def test_json_after_the_subcommand(work: Path) -> None:
    after = invoke(work, "status", "--period", "2022-01", "--json")
    before = invoke(work, "--json", "status", "--period", "2022-01")
    assert after.exit_code == 0, after.output
    assert json.loads(after.output)["blocks"] == json.loads(before.output)["blocks"]


@pytest.mark.parametrize(
    ("args", "hoisted"),
    [
        (["status", "-p", "1", "--json"], ["--json", "status", "-p", "1"]),
        (["-c", "x", "status", "--ledger", "u", "-v"], ["-c", "x", "--ledger", "u", "-v", "status"]),
        (["registry", "load", "f", "--config=x"], ["--config=x", "registry", "load", "f"]),
        (["check", "--", "--json"], None),
        (["status", "-p", "1"], None),
        (["--json", "status"], None),
    ],
)
def test_root_options_move_before_the_subcommand(args: list[str], hoisted: list[str] | None) -> None:
    assert hoist_global_options(args) == hoisted


def test_process_in_a_folder_that_is_not_a_work_folder_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for k in [k for k in __import__("os").environ if k.startswith("DANHGIA_")]:
        monkeypatch.delenv(k)
    for args in (["process"], ["watch", "--once"], ["status", "--period", "2022-01"]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
    assert list(tmp_path.iterdir()) == []  # no empty ledger, no logs left behind


def test_process_writes_a_log_and_names_each_rejected_file(work: Path, fill_template: Fill) -> None:
    from helpers import valid_row

    shutil.copy(fill_template("02", [valid_row(score=80, final_grade="A")]), work / "inbox" / "sai.xlsx")
    res = invoke(work, "process")
    assert res.exit_code == 1
    assert "sai.xlsx: Bị trả lại — " in res.output
    error_file = next(line for line in res.output.splitlines() if "Tệp báo lỗi:" in line).split(": ", 1)[1]
    assert Path(error_file.strip()).is_file()
    log = (work / "logs" / "danhgia-process.log").read_text(encoding="utf-8")
    assert "process:" in log


def test_a_unit_whose_only_file_was_an_xls_counts_as_rejected(work: Path) -> None:
    (work / "inbox" / "PTP").mkdir()
    (work / "inbox" / "PTP" / "TongHop_T01-2022.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (work / "inbox" / "TongHop_T01-2022_BTC.ods").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    res = invoke(work, "--json", "process")
    assert res.exit_code == 1
    outcomes = {f["name"]: (f["outcome"], f["unit_code"], f["period"]) for f in json.loads(res.output)["files"]}
    assert outcomes["TongHop_T01-2022.xls"] == ("rejected", "PTP", "2022-01")
    status = json.loads(invoke(work, "--json", "status", "--period", "2022-01").output)
    states = {u["unit_code"]: u["state"] for b in status["blocks"] for u in b["units"]}
    assert states["PTP"] == "rejected" and states["PNV"] == "valid"
    assert status["exit_code"] == 1
    text = (work / "outbox" / "_loi").rglob("*TongHop_T01-2022_loi.txt")
    summary = next(text).read_text(encoding="utf-8")
    assert "tô đỏ" not in summary and "LibreOffice" in summary  # no red cell to point at


def test_a_warning_reaches_the_unit_workbook_and_status(tmp_path: Path, fill_template: Fill) -> None:
    from helpers import valid_row

    work = tmp_path / "w"
    (work / "inbox" / "PNV").mkdir(parents=True)
    (work / "danhgia.toml").write_text("[watcher]\nsettle_seconds = 0\n", encoding="utf-8")
    lowered = valid_row(score=95, final_grade="B")  # below its band, no reason written
    shutil.copy(fill_template("02", [lowered]), work / "inbox" / "PNV" / "ds.xlsx")
    assert invoke(work, "process").exit_code == 0
    status = json.loads(invoke(work, "--json", "status", "--period", "2022-01").output)
    (unit,) = [u for b in status["blocks"] for u in b["units"]]
    assert [w.split(":")[0] for w in unit["warnings"]] == ["grade-below-band-no-reason"]
    assert "Cảnh báo của PNV" in invoke(work, "status", "--period", "2022-01").output
    book = work / "outbox" / "2022-01" / "CHINH_QUYEN" / "PNV" / "danh_sach_tong_hop_pnv_2022-01.xlsx"
    assert any("Hạ loại không ghi lý do" in t for t in texts(book))


def test_readme_loads_the_registry_file_that_init_writes() -> None:
    from danhgia_batch.workdir import SAMPLE_REGISTRY

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    loaded = re.findall(r"danhgia registry load (\S+)", readme)
    assert loaded and set(loaded) == {SAMPLE_REGISTRY}
