"""Nothing a file or the disk can do stops the inbox, hides a failure, or rejects a good file
(issue 17): the inbox and the disk side. Content (live formulas, control characters, reader
limits) is in ``test_hostile_content.py``, several workers in ``test_hostile_pg.py``.

Tests run as root, which ignores permissions: a read-only or lost folder is made real by
putting a *file* where the folder should be, and a full disk by an ``OSError(ENOSPC)`` from
``os.replace`` (the rename that puts every output into place).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import valid_row
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.ledger import FileRecord, open_ledger
from danhgia_batch.pipeline import effects, process_inbox
from danhgia_batch.settings import Settings, load_settings

Fill = Callable[..., Path]
EXIT_ENVIRONMENT = 3  # README "Mã thoát" (pipeline.results.EXIT_ENVIRONMENT)
BAD_NAME = b"TongHop_T12-2026_HDND_\xff\xfe.xlsx"  # from an SMB share with a legacy code page


class Crash(BaseException):
    """A simulated power cut (nothing in the pipeline catches it)."""


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Settings]:
    """A work dir (settle 0) whose settings are read back from its danhgia.toml."""
    root = tmp_path / "w"
    (root / "inbox" / "PNV").mkdir(parents=True)
    (root / "danhgia.toml").write_text("[watcher]\nsettle_seconds = 0\n", encoding="utf-8")
    yield load_settings(root / "danhgia.toml", env={})
    effects.CRASH_HOOK = None


def invoke(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(app, ["--config", str(settings.workdir / "danhgia.toml"), *args])


def bad_path(folder: Path) -> Path:
    return Path(os.fsdecode(os.fsencode(str(folder)) + b"/" + BAD_NAME))


def drop(fill_template: Fill, settings: Settings, n: int, *, rejected: int = 0) -> list[Path]:
    """``n`` distinct accepted lists of unit PNV (then ``rejected`` bad ones) in the inbox."""
    paths = []
    for i in range(n):
        dst = settings.inbox / "PNV" / f"ds_{i}.xlsx"
        shutil.copy(fill_template("02", prepared_by=f"Người lập {i}"), dst)
        paths.append(dst)
    for i in range(rejected):
        dst = settings.inbox / f"sai_{i}.xlsx"
        shutil.copy(fill_template("02", [valid_row(score=80 + i, final_grade="A")]), dst)
        paths.append(dst)
    return paths


def done_files(settings: Settings) -> list[FileRecord]:
    with open_ledger(settings) as led:
        return [f for f in led.files() if f.state == "done"]


# ---- 1. file names that are not UTF-8 ------------------------------------------------------


def test_undecodable_name_is_processed_kept_and_shown_safely(work: Settings, fill_template: Fill) -> None:
    odd = bad_path(work.inbox)
    shutil.copy(fill_template("02"), odd)
    shutil.copy(fill_template("02", unit_code="PTP", unit_name="Phòng Tư pháp"), work.inbox / "ptp.xlsx")
    original = odd.read_bytes()

    res = invoke(work, "--json", "process")  # was: UnicodeEncodeError at the ledger insert, exit 1
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    shown = "TongHop_T12-2026_HDND_\\xff\\xfe.xlsx"
    assert sorted((f["name"], f["outcome"]) for f in data["files"]) == [(shown, "accepted"), ("ptp.xlsx", "accepted")]
    assert os.listdir(os.fsencode(str(work.inbox))) == [b"PNV"]
    (rec,) = [f for f in done_files(work) if f.name == shown]
    assert rec.archived_path and Path(rec.archived_path).read_bytes() == original

    # check reads it like any file (it called it corrupt)
    again = bad_path(work.workdir)
    again.write_bytes(original)
    checked = invoke(work, "--json", "check", str(again))
    assert checked.exit_code == 0, checked.output
    issues = json.loads(checked.output)["files"][0]["issues"]  # warnings as process gives them
    assert [i for i in issues if i["severity"] == "error"] == []


def test_undecodable_name_of_a_rejected_file_gets_its_error_workbook(work: Settings, fill_template: Fill) -> None:
    odd = bad_path(work.inbox)
    shutil.copy(fill_template("02", [valid_row(score=80, final_grade="A")]), odd)
    result = process_inbox(work)
    (f,) = result.files
    assert f.outcome == "rejected" and [Path(p).suffix for p in f.error_files] == [".xlsx", ".txt"]
    assert all(Path(p).is_file() for p in f.error_files)
    json.dumps(result.to_dict(), ensure_ascii=False).encode("utf-8")  # printable as it is


def test_undecodable_name_survives_a_crash_after_recording(work: Settings, fill_template: Fill) -> None:
    shutil.copy(fill_template("02"), bad_path(work.inbox / "PNV"))

    def crash(step: str, _file: FileRecord | None) -> None:
        if step == "recorded":
            raise Crash

    effects.CRASH_HOOK = crash
    with pytest.raises(Crash):
        process_inbox(work)
    effects.CRASH_HOOK = None
    result = process_inbox(work)  # finish_unfinished finds the original from its stored text
    (f,) = result.files
    assert f.resumed and f.archived and os.listdir(os.fsencode(str(work.inbox / "PNV"))) == []
    assert len(done_files(work)) == 1


def test_watch_once_takes_an_undecodable_name(work: Settings, fill_template: Fill) -> None:
    from danhgia_batch.watch import watch_inbox

    shutil.copy(fill_template("02"), bad_path(work.inbox / "PNV"))
    assert watch_inbox(work, once=True) == 0
    assert os.listdir(os.fsencode(str(work.inbox / "PNV"))) == []
    assert [f.name for f in done_files(work)] == ["TongHop_T12-2026_HDND_\\xff\\xfe.xlsx"]


# ---- 2. a full disk, a read-only or lost outbox or archive ---------------------------------


def _replace_failing_under(root: Path, code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.replace

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        if Path(os.fsdecode(dst)).is_relative_to(root):
            raise OSError(code, os.strerror(code), os.fsdecode(dst))
        real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("where", ["outbox", "archive"])
def test_lost_folder_is_no_success_and_the_next_run_finishes_each_file_once(
    work: Settings, fill_template: Fill, where: str
) -> None:
    files = drop(fill_template, work, 3, rejected=1)
    folder = getattr(work, where)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder\n")  # a share that vanished, a folder replaced by a file

    res = invoke(work, "--json", "process")
    assert res.exit_code == EXIT_ENVIRONMENT, res.output
    data = json.loads(res.stdout)
    assert data["problem"] and data["unfinished"] > 0
    assert all(p.exists() for p in files[: data["unfinished"]])  # recorded, kept in the inbox
    assert not done_files(work) or where == "outbox"  # nothing archived past a lost archive

    folder.unlink()
    again = invoke(work, "--json", "process")
    assert again.exit_code == 1, again.output  # the rejected file; no environment problem left
    assert not any(p.exists() for p in files)
    done = done_files(work)
    assert len(done) == len(files) == len({f.sha256 for f in done})  # each once
    archived = [p for p in work.archive.rglob("*") if p.is_file()]
    assert len(archived) == len(files)


def test_full_disk_is_no_success(work: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch) -> None:
    files = drop(fill_template, work, 2, rejected=1)
    _replace_failing_under(work.outbox, errno.ENOSPC, monkeypatch)
    result = process_inbox(work)
    assert result.exit_code == EXIT_ENVIRONMENT and result.problem
    assert result.problem.startswith("Đĩa đầy") and "\n" not in result.problem  # one line
    assert all(p.exists() for p in files) and result.unfinished == len(files)

    monkeypatch.undo()
    again = process_inbox(work)
    assert again.problem is None and not any(p.exists() for p in files)
    assert sorted(f.resumed for f in again.files) == [True] * len(files)
    assert len(done_files(work)) == len(files)


def test_full_disk_through_the_cli_prints_one_vietnamese_line(
    work: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(fill_template, work, 1)
    _replace_failing_under(work.archive, errno.ENOSPC, monkeypatch)
    res = invoke(work, "process")
    assert res.exit_code == EXIT_ENVIRONMENT
    errors = [line for line in res.stderr.splitlines() if line.startswith("Lỗi:")]
    assert len(errors) == 1 and "Đĩa đầy" in errors[0]
    assert "Traceback" not in res.output


def test_exit_codes_are_documented() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"`{EXIT_ENVIRONMENT}`" in readme.split("Mã thoát:", 1)[1].split("\n\n", 1)[0]
    res = CliRunner().invoke(app, ["process", "--help"])
    assert f"{EXIT_ENVIRONMENT} lỗi môi trường" in " ".join(res.output.split())


def test_unreachable_ledger_is_no_success(work: Settings, fill_template: Fill) -> None:
    (path,) = drop(fill_template, work, 1)
    res = invoke(work, "--ledger", "postgresql+psycopg://nobody@127.0.0.1:1/none", "process")
    assert res.exit_code == 2 and res.stderr.count("Lỗi:") == 1 and "Traceback" not in res.output
    assert path.exists()


# ---- 6. leftovers of interrupted writes ----------------------------------------------------


def test_leftovers_of_a_killed_writer_are_removed_when_a_run_starts(work: Settings) -> None:
    folder = work.outbox / "_loi" / "2026-12-03"
    code = (
        "import os, sys\nfrom pathlib import Path\nfrom danhgia_batch.reports.common import atomic_path\n"
        "with atomic_path(Path(sys.argv[1])) as tmp:\n    tmp.write_bytes(b'half')\n    os.kill(os.getpid(), 9)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(folder / "5_ds_loi.xlsx")], check=False)
    assert killed.returncode == -9
    (litter,) = folder.iterdir()  # ".5_ds_loi~<host>-<pid>.<random>.part"
    old = work.archive / "2022-01" / "PNV" / ".7_ds.xlsx.part"  # an earlier release's litter
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x")
    os.utime(old, (1, 1))
    alive = folder / f".6_ds_loi~{litter.name.split('~')[1].split('-')[0]}-{os.getpid()}.abcd.part"
    alive.write_bytes(b"being written")  # a live writer's temp file is never touched

    process_inbox(work)
    assert not litter.exists() and not old.exists() and alive.exists()


# ---- 7. inbox entries that are not regular files --------------------------------------------


def test_odd_entries_are_reported_once_and_left_alone(
    work: Settings, fill_template: Fill, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = fill_template("02")
    (work.inbox / "lien_ket.xlsx").symlink_to(target)
    os.mkfifo(work.inbox / "ong.xlsx")  # opening it would hang the run
    (work.inbox / "thu_muc.xlsx").mkdir()
    (work.inbox / "PNV" / "con").mkdir()
    shutil.copy(fill_template("02", prepared_by="Khác"), work.inbox / "PNV" / "ds.xlsx")
    expected = [
        ("PNV/con", "folder"),
        ("lien_ket.xlsx", "symlink"),
        ("ong.xlsx", "fifo"),
        ("thu_muc.xlsx", "folder"),
    ]

    with caplog.at_level(logging.WARNING):
        res = invoke(work, "--json", "process")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    found = sorted((str(Path(o["path"]).relative_to(work.inbox)), o["kind"]) for o in data["odd_entries"])
    assert found == expected
    assert [f["outcome"] for f in data["files"]] == ["accepted"]
    logged = [r for r in caplog.records if r.name == "danhgia_batch.pipeline.runtime" and r.levelno == logging.WARNING]
    assert len(logged) == len(expected)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = invoke(work, "--json", "process")
    assert len(json.loads(again.stdout)["odd_entries"]) == len(expected)  # still shown in --json
    assert not [r for r in caplog.records if r.name == "danhgia_batch.pipeline.runtime"]  # logged once

    status = invoke(work, "--json", "status", "--period", "2022-01")
    assert status.exit_code == 0, status.output
    assert len(json.loads(status.stdout)["odd_entries"]) == len(expected)
    assert stat.S_ISFIFO((work.inbox / "ong.xlsx").lstat().st_mode)
    assert (work.inbox / "lien_ket.xlsx").is_symlink() and target.is_file()


# ---- 8. outputs are ordinary files ----------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_outputs_get_the_umask_permissions(work: Settings, fill_template: Fill, umask: int) -> None:
    drop(fill_template, work, 1, rejected=1)
    cmd = [sys.executable, "-m", "danhgia_batch.cli", "--config", str(work.workdir / "danhgia.toml"), "process"]
    run = subprocess.run(cmd, umask=umask, capture_output=True, text=True, check=False)  # the service's umask
    assert run.returncode == 1, run.stderr  # the rejected file
    outputs = [p for p in work.outbox.rglob("*") if p.is_file()]
    assert len(outputs) >= 4  # unit list, roll-ups, error workbook + .txt
    assert {oct(p.stat().st_mode & 0o777) for p in outputs} == {oct(0o666 & ~umask)}
    assert not [p for p in work.outbox.rglob(".*")]  # renamed into place, nothing left beside


# ---- general rule: a file's problem is that file's outcome ----------------------------------


@pytest.mark.parametrize("where", ["decide", "record"])
def test_an_exception_on_one_file_is_its_outcome_and_the_run_goes_on(
    work: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A bug in the decision, or in its recording after some of the file's rows were written
    (the chunk's files are recorded in one transaction): that file fails alone, nothing of it
    is in the ledger, and the others of the chunk are recorded as if it had not come."""
    from danhgia_batch.ledger.recording import RecordingMixin
    from danhgia_batch.pipeline import context as context_mod

    files = drop(fill_template, work, 3)
    if where == "decide":
        real = context_mod.decide

        def decide(form: Any, context: Any, settings: Settings, file: Any) -> Any:
            if file.name == "ds_1.xlsx":
                raise RuntimeError("boom")
            return real(form, context, settings, file)

        monkeypatch.setattr(context_mod, "decide", decide)
    else:
        real_apply = RecordingMixin._apply_list

        def apply_list(self: Any, conn: Any, file: Any, rec: Any, *args: Any) -> None:
            real_apply(self, conn, file, rec, *args)  # the list and its rows are written…
            if rec.header.prepared_by == "Người lập 1":
                raise RuntimeError("boom")  # …then the recording fails

        monkeypatch.setattr(RecordingMixin, "_apply_list", apply_list)
    result = process_inbox(work)
    outcomes = {f.name: f.outcome for f in result.files}
    assert outcomes == {"ds_0.xlsx": "accepted", "ds_1.xlsx": "failed", "ds_2.xlsx": "accepted"}
    assert [f.issues[0].code for f in result.files if f.outcome == "failed"] == ["processing-failed"]
    assert files[1].exists() and not files[0].exists() and result.exit_code == 1
    with open_ledger(work) as led:
        lists = sorted((r.version, r.status, r.file_id) for r in led.lists())
        by_name = {f.id: f.name for f in led.files()}
    assert [(v, st, by_name[f]) for v, st, f in lists] == [(1, "superseded", "ds_0.xlsx"), (2, "valid", "ds_2.xlsx")]


def test_a_missing_inbox_is_no_success(work: Settings) -> None:
    shutil.rmtree(work.inbox)  # a share that is not mounted: not "nothing to do"
    res = invoke(work, "process")
    assert res.exit_code == EXIT_ENVIRONMENT and res.stderr.count("Lỗi:") == 1


def test_a_name_of_250_bytes_is_archived_with_its_error_workbook(work: Settings, fill_template: Fill) -> None:
    long = work.inbox / ("đ" * 122 + ".xlsx")  # 249 bytes: "<id>_" and "_loi" would overflow 255
    shutil.copy(fill_template("02", [valid_row(score=80, final_grade="A")]), long)
    result = process_inbox(work)
    (f,) = result.files
    assert result.problem is None and f.outcome == "rejected" and not long.exists()
    assert f.archived and Path(f.archived).is_file() and all(Path(p).is_file() for p in f.error_files)
