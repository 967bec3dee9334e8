"""``danhgia check FILE... [--report DIR]`` and ``check_files``: issues per file, nothing recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from helpers import valid_row
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.pipeline.check import check_files
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]


def _good_rows() -> list[dict[str, object]]:
    return [valid_row(person_code="G1", score=85), valid_row(person_code="G2", score=80)]


def test_check_files(fill_template: Fill, settings: Settings, tmp_path: Path) -> None:
    good = fill_template("02", _good_rows())
    bad = fill_template("02", [valid_row(person_code="B1", self_I=30)])
    broken = tmp_path / "rong.xlsx"
    broken.write_bytes(b"")
    result = check_files([good, bad, broken], settings, report_dir=tmp_path / "rep")
    assert [f.path for f in result.files] == [good, bad, broken]
    assert [(f.ok, f.kind) for f in result.files] == [(True, "02"), (False, "02"), (False, "")]
    # checked today, a January 2022 list would arrive late (a warning, as process gives it)
    late = ("DanhSach", "", "late-arrival")
    assert [(i.sheet, i.cell, i.code) for i in result.files[1].issues] == [("DanhSach", "I17", "score-range"), late]
    assert [i.code for i in result.files[2].issues] == ["file-empty"]
    assert result.exit_code == 1
    assert result.files[0].reports == []
    assert [p.name for p in result.files[1].reports] == [f"{bad.stem}_loi.xlsx", f"{bad.stem}_loi.txt"]
    assert all(p.exists() for f in result.files for p in f.reports)
    assert not (settings.workdir / "danhgia.sqlite3").exists()  # nothing recorded
    assert result.to_dict()["exit_code"] == 1


def test_check_cli(fill_template: Fill, tmp_path: Path, monkeypatch: object) -> None:
    good = fill_template("02", _good_rows())
    bad = fill_template("02", [valid_row(person_code="B1", final_grade="Z")])
    runner = CliRunner()
    ok = runner.invoke(app, ["check", str(good)])
    assert ok.exit_code == 0, ok.output
    res = runner.invoke(app, ["check", str(good), str(bad), "--report", str(tmp_path / "rep")])
    assert res.exit_code == 1
    assert f"{bad.name} | DanhSach, T17 | code-unknown |" in res.output
    assert (tmp_path / "rep" / f"{bad.stem}_loi.xlsx").exists()
    js = runner.invoke(app, ["--json", "check", str(bad)])
    data = json.loads(js.output)
    assert [(i["sheet"], i["cell"], i["code"]) for i in data["files"][0]["issues"]] == [
        ("DanhSach", "T17", "code-unknown"),
        ("DanhSach", "", "late-arrival"),
    ]


def test_check_of_a_missing_file_says_so_exit_2(fill_template: Fill, tmp_path: Path) -> None:
    """A mistyped name is a usage error, not a "broken workbook" (file-corrupt)."""
    good = fill_template("02", _good_rows())
    res = CliRunner().invoke(app, ["check", str(good), str(tmp_path / "khong_co.xlsx")])
    assert res.exit_code == 2
    assert "Không tìm thấy tệp" in res.output and "khong_co.xlsx" in res.output
    assert "file-corrupt" not in res.output


def test_check_wait_is_bounded_and_checks_nothing_while_a_file_is_open(fill_template: Fill, tmp_path: Path) -> None:
    # issue 14 ¶4: `check --wait` settles files with the predicate of process and watch
    work = tmp_path / "w"
    work.mkdir()
    (work / "danhgia.toml").write_text("[watcher]\nsettle_seconds = 0\nlock_wait_seconds = 0.3\n", encoding="utf-8")
    good = fill_template("02", _good_rows())
    (good.parent / f"~${good.name}").write_bytes(b"owner")
    res = CliRunner().invoke(app, ["--config", str(work / "danhgia.toml"), "check", "--wait", str(good)])
    assert res.exit_code == 1
    assert good.name in res.output and "đạt" not in res.output  # a reason, not a verdict


def test_check_wait_checks_once_the_lock_file_goes(fill_template: Fill, settings: Settings) -> None:
    import threading

    good = fill_template("02", _good_rows())
    lock = good.parent / f".~lock.{good.name}#"
    lock.write_bytes(b"owner")
    closing = threading.Timer(0.2, lock.unlink)  # the clerk closes LibreOffice a moment later
    closing.start()
    try:
        result = check_files([good], settings, wait=True)  # bound: lock_wait_seconds (300 s)
    finally:
        closing.join()
    assert [(f.ok, f.kind) for f in result.files] == [(True, "02")]


def test_check_cli_says_what_it_could_not_check(fill_template: Fill, tmp_path: Path, monkeypatch: object) -> None:
    """Issue 14: without a ledger (no registry), check still checks and names what it could not."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    good = fill_template("02", _good_rows())
    work = tmp_path / "trong"
    work.mkdir()
    monkeypatch.chdir(work)
    res = CliRunner().invoke(app, ["check", str(good)])
    assert res.exit_code == 0, res.output
    notes = [line for line in res.output.splitlines() if line.startswith("Chưa kiểm tra: ")]
    assert len(notes) == 3 and any("danh mục cán bộ" in n for n in notes)
    assert not (work / "danhgia.sqlite3").exists()
    data = json.loads(CliRunner().invoke(app, ["--json", "check", str(good)]).output)
    assert len(data["not_checked"]) == 3


def test_check_entry_point_ends_quickly_with_its_output_and_code(fill_template: Fill, tmp_path: Path) -> None:
    """The real ``danhgia check`` (``cli.main``) ends with ``quick_exit``: the output piped,
    the exit code and the error workbook are those of a normal exit."""
    import subprocess
    import sys

    bad = fill_template("02", [valid_row(person_code="B1", final_grade="Z")])
    cmd = [sys.executable, "-m", "danhgia_batch.cli", "--json", "check", str(bad), "--report", str(tmp_path / "rep")]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert [i["code"] for i in data["files"][0]["issues"]] == ["code-unknown", "late-arrival"]
    assert (tmp_path / "rep" / f"{bad.stem}_loi.xlsx").stat().st_size > 0
