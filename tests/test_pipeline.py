"""End to end through the library: real filled templates in a temp inbox, ``process_inbox``,
then the ledger, the archive, the outbox and the exit code (issue 6 "Must show")."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import valid_row

from danhgia_batch.ledger import open_ledger
from danhgia_batch.pipeline import BatchResult, period_status, process_inbox, publish_period, reopen_period
from danhgia_batch.pipeline.finish import Finisher
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]


def drop(settings: Settings, source: Path, rel: str) -> Path:
    """Copy a filled workbook into the inbox, as a block administrator would."""
    dest = settings.inbox / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, dest)
    return dest


def only(result: BatchResult) -> Any:
    (f,) = [f for f in result.files if f.outcome != "skipped"]
    return f


def codes(file: Any) -> list[str]:
    return [i.code for i in file.issues]


def texts(path: Path) -> set[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None}
    wb.close()
    return out


def inbox_files(settings: Settings) -> list[Path]:
    return [p for p in settings.inbox.rglob("*") if p.is_file()]


def rows_of(fill_template: Fill, *specs: tuple[str, str, float]) -> list[dict[str, Any]]:
    return [valid_row(person_code=c, full_name=n, score=s) for c, n, s in specs]


TEAM = (("PNV001", "Nguyễn Văn An", 80), ("PNV002", "Lê Thị Mai", 75))


def test_an_accepted_list_is_recorded_reported_and_archived(settings: Settings, fill_template: Fill) -> None:
    drop(settings, fill_template("02", rows_of(fill_template, *TEAM)), "PNV/ds_thang1.xlsx")
    result = process_inbox(settings)
    f = only(result)
    assert (f.outcome, f.kind, f.period, f.unit_code, f.block) == ("accepted", "02", "2022-01", "PNV", "CHINH_QUYEN")
    assert result.exit_code == 0 and result.counts["accepted"] == 1
    assert inbox_files(settings) == []
    assert Path(f.archived) == settings.archive / "2022-01" / "PNV" / f"{f.file_id}_ds_thang1.xlsx"
    assert Path(f.archived).is_file()
    with open_ledger(settings) as led:
        (rec,) = led.files()
        assert (rec.state, rec.outcome, rec.unit_folder) == ("done", "accepted", "PNV")
        assert led.evaluation_count(period="2022-01") == 2
    unit_list = settings.outbox / "2022-01" / "CHINH_QUYEN" / "PNV" / "danh_sach_tong_hop_pnv_2022-01.xlsx"
    assert unit_list in result.outputs and {"Nguyễn Văn An", "Lê Thị Mai"} <= texts(unit_list)
    assert (settings.outbox / "2022-01" / "CHINH_QUYEN" / "tong_hop_khoi_chinh_quyen_2022-01.xlsx").is_file()
    assert (settings.outbox / "2022-01" / "tong_hop_quan_long_bien_2022-01.xlsx").is_file()


def test_a_rejected_file_gets_an_error_report_and_goes_to_rejected(settings: Settings, fill_template: Fill) -> None:
    bad = [valid_row(score=80, final_grade="A")]  # grade above the band of 80 points
    drop(settings, fill_template("02", bad), "ds_sai.xlsx")
    result = process_inbox(settings)
    f = only(result)
    assert f.outcome == "rejected" and "grade-above-band" in codes(f)
    assert result.exit_code == 1
    archived = Path(f.archived)
    assert archived.parent.parent == settings.archive / "rejected" and archived.is_file()
    assert f.error_files and all(Path(p).is_file() for p in f.error_files)
    assert Path(f.error_files[0]).parent.parent == settings.outbox / "_loi"
    with open_ledger(settings) as led:
        assert led.lists() == []
        assert "grade-above-band" in [i.code for i in led.file_issues(f.file_id)]
    assert inbox_files(settings) == []


def test_identical_bytes_are_a_duplicate_and_not_processed_again(settings: Settings, fill_template: Fill) -> None:
    source = fill_template("02", rows_of(fill_template, *TEAM))
    drop(settings, source, "PNV/ds.xlsx")
    drop(settings, source, "PNV/ds_gui_lai.xlsx")  # the same file sent twice in one batch
    first = process_inbox(settings)
    assert sorted(f.outcome for f in first.files) == ["accepted", "duplicate"]
    drop(settings, source, "ds_lan_ba.xlsx")  # and once more the next day
    again = only(process_inbox(settings))
    assert again.outcome == "duplicate" and codes(again) == ["file-duplicate"]
    assert Path(again.archived).parent.parent == settings.archive / "duplicate"
    with open_ledger(settings) as led:
        assert [f.outcome for f in led.files()] == ["accepted", "duplicate", "duplicate"]
        assert len(led.lists()) == 1 and led.evaluation_count() == 2
    assert inbox_files(settings) == []


@pytest.mark.parametrize("rejected_before", [False, True])
def test_every_copy_of_rejected_bytes_in_one_run_is_taken(
    settings: Settings, fill_template: Fill, rejected_before: bool
) -> None:
    """Bytes that are rejected are read again when they come back (the answer may differ): a
    third copy in the same run waits for the second's new attempt instead of being left behind."""
    bad = fill_template("02", [valid_row(score=80, final_grade="A")])  # grade above the band
    if rejected_before:
        drop(settings, bad, "PNV/ds.xlsx")
        assert only(process_inbox(settings)).outcome == "rejected"
    for name in ("lan_1.xlsx", "lan_2.xlsx", "lan_3.xlsx", "lan_4.xlsx"):
        drop(settings, bad, f"PNV/{name}")
    result = process_inbox(settings)
    assert sorted((Path(f.path).name, f.outcome) for f in result.files) == [
        (f"lan_{n}.xlsx", "rejected") for n in range(1, 5)
    ]
    assert all("grade-above-band" in codes(f) and f.error_files for f in result.files)
    assert inbox_files(settings) == []
    with open_ledger(settings) as led:
        assert [f.state for f in led.files()] == ["done"] * (5 if rejected_before else 4)


def test_a_corrected_list_supersedes_the_previous_one(settings: Settings, fill_template: Fill) -> None:
    drop(settings, fill_template("02", rows_of(fill_template, ("PNV001", "Nguyễn Văn An", 80))), "PNV/v1.xlsx")
    process_inbox(settings)
    drop(settings, fill_template("02", rows_of(fill_template, ("PNV001", "Nguyễn Văn An", 86.5))), "PNV/v2.xlsx")
    f = only(process_inbox(settings))
    assert f.outcome == "accepted" and "list-superseded" in codes(f) and len(f.superseded) == 1
    with open_ledger(settings) as led:
        assert [(r.status, r.version) for r in led.lists()] == [("superseded", 1), ("valid", 2)]
        (row,) = led.unit_view("2022-01", "PNV").rows
        assert str(row.final_total) == "86.50"


def test_a_file_in_another_units_folder_is_rejected(settings: Settings, fill_template: Fill) -> None:
    drop(settings, fill_template("02"), "PTP/ds.xlsx")
    f = only(process_inbox(settings))
    assert f.outcome == "rejected" and "unit-folder-mismatch" in codes(f)
    issue = next(i for i in f.issues if i.code == "unit-folder-mismatch")
    assert issue.value == "PNV" and issue.cell


def test_a_locked_period_rejects_files_until_reopened(settings: Settings, fill_template: Fill) -> None:
    drop(settings, fill_template("02", rows_of(fill_template, *TEAM)), "PNV/ds.xlsx")
    process_inbox(settings)
    published = publish_period(settings, "2022-01", by="Phòng Nội vụ")
    assert published.locked and published.outputs
    late_file = fill_template("02", rows_of(fill_template, ("PNV001", "Nguyễn Văn An", 91)))
    drop(settings, late_file, "PNV/muon.xlsx")
    late = only(process_inbox(settings))
    assert late.outcome == "rejected" and "period-locked" in codes(late)
    reopen_period(settings, "2022-01", by="Trưởng phòng Nội vụ", reason="bổ sung kết quả")
    drop(settings, late_file, "PNV/gui_lai.xlsx")  # the very same bytes, sent again after reopening
    assert only(process_inbox(settings)).outcome == "accepted"
    drop(settings, late_file, "PNV/gui_lai_lan_nua.xlsx")  # once accepted, the same bytes are a duplicate
    assert only(process_inbox(settings)).outcome == "duplicate"
    with open_ledger(settings) as led:
        history = led.lock_history("2022-01")
        assert [(h["locked"], h["by"]) for h in history] == [
            (True, "Phòng Nội vụ"),
            (False, "Trưởng phòng Nội vụ"),
        ]
        assert history[1]["reason"] == "bổ sung kết quả"


def test_a_quota_violation_records_the_list_as_invalid(settings: Settings, fill_template: Fill) -> None:
    team = [(f"PNV00{i}", f"Người số {i}", 95 if i < 3 else 80) for i in range(1, 7)]  # 2 A, 4 B
    drop(settings, fill_template("02", rows_of(fill_template, *team)), "PNV/ds.xlsx")
    result = process_inbox(settings)
    f = only(result)
    assert f.outcome == "invalid" and "quota-exceeded" in codes(f)
    assert result.exit_code == 1
    assert Path(f.archived).parent == settings.archive / "2022-01" / "PNV"
    with open_ledger(settings) as led:
        assert [r.status for r in led.lists()] == ["invalid-quota"]
    status = period_status(settings, "2022-01")
    (unit,) = status.blocks[0].units
    assert (unit.state, unit.grades["A"], unit.grades["B"]) == ("invalid", 2, 4)


def test_individual_forms_supersede_per_person(settings: Settings, fill_template: Fill) -> None:
    drop(settings, fill_template("01", person_code="PNV002", full_name="Lê Thị Mai"), "PNV/mai.xlsx")
    drop(settings, fill_template("01", person_code="PNV003", full_name="Đỗ Văn Nam"), "PNV/nam.xlsx")
    first = process_inbox(settings)
    assert sorted(f.outcome for f in first.files) == ["accepted", "accepted"], [f.issues for f in first.files]
    drop(
        settings, fill_template("01", person_code="PNV002", full_name="Lê Thị Mai", prepared_by="Sửa"), "PNV/mai2.xlsx"
    )
    f = only(process_inbox(settings))
    assert f.outcome == "accepted" and len(f.superseded) == 1
    with open_ledger(settings) as led:
        view = led.unit_view("2022-01", "PNV")
        assert len(view.lists) == 1 and sorted(r.person_code for r in view.rows) == ["PNV002", "PNV003"]


def test_a_registry_dropped_in_the_inbox_is_loaded_and_used(settings: Settings, fill_template: Fill) -> None:
    units = [
        {"unit_code": "PNV", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG"},
        {"unit_code": "PTP", "unit_name": "Phòng Tư pháp", "block": "CHINH_QUYEN", "unit_kind": "PHONG"},
    ]
    people = [
        {
            "person_code": "PNV001",
            "full_name": "Nguyễn Văn An",
            "unit_code": "PNV",
            "position_code": "CONG_CHUC",
            "category": "CBCC",
            "active": True,
        },
        {
            "person_code": "PNV009",
            "full_name": "Phan Văn Chín",
            "unit_code": "PNV",
            "position_code": "CONG_CHUC",
            "category": "CBCC",
            "active": True,
        },
        {
            "person_code": "PTP001",
            "full_name": "Vũ Thị Hoa",
            "unit_code": "PTP",
            "position_code": "CONG_CHUC",
            "category": "CBCC",
            "active": True,
        },
    ]
    drop(settings, fill_template("00", units=units, people=people), "danh_muc.xlsx")
    loaded = only(process_inbox(settings))
    assert (loaded.outcome, loaded.kind) == ("accepted", "00"), loaded.issues
    assert Path(loaded.archived).parent == settings.archive / "danh_muc"
    drop(settings, fill_template("02", [valid_row(birth_date=None)]), "PNV/ds.xlsx")
    assert only(process_inbox(settings)).outcome == "accepted"
    status = period_status(settings, "2022-01")
    assert status.has_registry
    states = {u.unit_code: (u.state, u.missing_people) for b in status.blocks for u in b.units}
    assert states == {"PNV": ("valid", 1), "PTP": ("missing", None)}


def test_explicit_paths_and_the_period_filter(settings: Settings, fill_template: Fill, tmp_path: Path) -> None:
    outside = fill_template("02", rows_of(fill_template, *TEAM))
    other_month = drop(settings, fill_template("02", period="02/2022"), "PNV/thang2.xlsx")
    result = process_inbox(settings, paths=[outside, settings.inbox], period="2022-01")
    outcomes = {Path(f.path).name: f.outcome for f in result.files}
    assert outcomes == {outside.name: "accepted", "thang2.xlsx": "skipped"}
    assert outside.is_file()  # a file given from elsewhere is copied, not moved
    assert other_month.is_file()  # another period stays in the inbox, unclaimed
    assert only(process_inbox(settings)).period == "2022-02"


@pytest.mark.parametrize("write", [False])
def test_no_reports_still_archives(settings: Settings, fill_template: Fill, write: bool) -> None:
    drop(settings, fill_template("02"), "PNV/ds.xlsx")
    result = process_inbox(settings, write_reports=write)
    assert only(result).outcome == "accepted" and result.outputs == []
    assert not (settings.outbox / "2022-01").exists()


WORKER = """
import json, sys
from pathlib import Path
from danhgia_batch.settings import load_settings
from danhgia_batch.pipeline import process_inbox
settings = load_settings(cwd=Path(sys.argv[1]), env={"DANHGIA_LEDGER_URL": sys.argv[2]})
print(json.dumps(process_inbox(settings, write_reports=False).counts))
"""


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_several_processes_on_one_inbox_record_each_file_once(
    settings: Settings, fill_template: Fill, request: pytest.FixtureRequest, engine: str
) -> None:
    import subprocess
    import sys

    url = settings.ledger_url if engine == "sqlite" else request.getfixturevalue("pg_url")
    for i in range(10):
        unit = f"DV{i:02d}"
        drop(settings, fill_template("02", [valid_row(person_code=f"{unit}01")], unit_code=unit), f"{unit}/ds.xlsx")
    drop(settings, settings.inbox / "DV00" / "ds.xlsx", "DV00/ds_ban_sao.xlsx")  # a byte-identical copy
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(settings.workdir), url], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert inbox_files(settings) == []
    env = {"DANHGIA_LEDGER_URL": url}
    from danhgia_batch.settings import load_settings

    with open_ledger(load_settings(cwd=settings.workdir, env=env)) as led:
        files = led.files()
        assert sorted(f.outcome for f in files) == ["accepted"] * 10 + ["duplicate"]
        assert {f.state for f in files} == {"done"}
        assert len(led.lists()) == 10 and led.evaluation_count() == 10
    archived = [p for p in settings.archive.rglob("*") if p.is_file()]
    assert len(archived) == 11


def test_a_report_that_cannot_be_written_keeps_the_original_for_the_next_run(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    from danhgia_batch.pipeline import effects

    def locked_by_excel(*args: Any, **kwargs: Any) -> list[Path]:
        raise PermissionError(13, "The process cannot access the file because it is being used")

    drop(settings, fill_template("02"), "PNV/ds.xlsx")
    monkeypatch.setattr(effects, "write_unit_outputs", locked_by_excel)
    first = only(process_inbox(settings))
    assert first.outcome == "accepted" and first.archived is None
    assert [p.name for p in inbox_files(settings)] == ["ds.xlsx"]  # recorded, not yet archived
    monkeypatch.undo()
    second = only(process_inbox(settings))
    assert second.resumed and second.outcome == "accepted" and Path(second.archived).is_file()
    assert inbox_files(settings) == []
    with open_ledger(settings) as led:
        assert [(f.state, f.outcome) for f in led.files()] == [("done", "accepted")]
        assert led.evaluation_count() == 1


def test_a_big_run_writes_unit_workbooks_in_its_writer_process_once_per_unit(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: a unit's workbooks are written once its lists stop arriving, by the run's
    writer process while it is free; its lists are archived only after them. A unit whose lists
    stop arriving while the writer is busy waits, and at the end of the run this process writes
    it beside the writer's last job (instead of waiting for the writer, then for a queue). Here
    the writer's job is held until this process has written its own units."""
    from helpers import unit_writer_behind_gate

    from danhgia_batch.pipeline import effects
    from danhgia_batch.pipeline import process as proc

    real = effects.write_unit_outputs
    here: list[set[tuple[str, str]]] = []

    def written_here(settings: Settings, ledger: Any, units: set[tuple[str, str]], **kw: Any) -> list[Path]:
        here.append(set(units))
        paths = real(settings, ledger, units, **kw)
        (settings.workdir / "gate").touch()  # the writer's job goes on only now: this one ran beside it
        return paths

    first = rows_of(fill_template, ("PNV001", "Nguyễn Văn An", 70), ("PNV002", "Lê Thị Mai", 75))
    drop(settings, fill_template("02", first), "a1.xlsx")
    drop(settings, fill_template("02", rows_of(fill_template, *TEAM)), "a2.xlsx")  # replaces a1
    vpq = [valid_row(person_code="VPQ001", full_name="Trần Thị Hoa", score=85)]
    drop(settings, fill_template("02", vpq, unit_code="VPQ", unit_name="Văn phòng Quận ủy"), "b1.xlsx")
    drop(settings, fill_template("02", [valid_row(score=80, final_grade="A")]), "z.xlsx")  # rejected, last
    monkeypatch.setattr(proc, "CHUNK", 1)
    monkeypatch.setattr(proc, "APART_MIN_FILES", 1)
    monkeypatch.setattr(effects, "write_unit_outputs", written_here)
    monkeypatch.setattr(effects, "write_unit_outputs_apart", unit_writer_behind_gate)
    result = process_inbox(settings)
    assert result.problem is None and result.exit_code == 1  # the rejected file, nothing else
    assert sorted((f.name, f.outcome) for f in result.files) == [
        ("a1.xlsx", "accepted"),
        ("a2.xlsx", "accepted"),
        ("b1.xlsx", "accepted"),
        ("z.xlsx", "rejected"),
    ]
    assert inbox_files(settings) == [] and all(f.archived for f in result.files)
    # PNV's lists stopped with b1, the writer free: its job; VPQ's with z, the writer held: here
    assert here == [{("2022-01", "VPQ")}]
    pnv = settings.outbox / "2022-01" / "CHINH_QUYEN" / "PNV" / "danh_sach_tong_hop_pnv_2022-01.xlsx"
    assert pnv in result.outputs and "75" in texts(pnv) and "70" not in texts(pnv)
    unit_lists = [p for p in result.outputs if p.name.startswith("danh_sach_tong_hop_")]
    assert sorted(p.name for p in unit_lists) == [
        "danh_sach_tong_hop_pnv_2022-01.xlsx",
        "danh_sach_tong_hop_vpq_2022-01.xlsx",
    ]
    assert {"Trần Thị Hoa"} <= texts(next(p for p in unit_lists if "vpq" in p.name))


def test_a_unit_whose_folder_has_no_file_left_is_written_without_waiting_for_the_next_chunk(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: a unit's lists stop arriving when its unit folder has no file left in the run,
    so its workbooks are written with the chunk of its last list (the writer process's first
    job, given before the next chunk is read), not after a chunk without them."""
    from danhgia_batch.pipeline import process as proc

    given: list[tuple[set[tuple[str, str]], list[str]]] = []
    real_start = Finisher._start_units

    def start_units(self: Finisher, units: set[tuple[str, str]], **kw: Any) -> set[tuple[str, str]]:
        with open_ledger(settings) as led:  # what the run has recorded when the writer is given units
            recorded = sorted(f.name for f in led.files() if f.state in ("recorded", "done"))
        if units - set(self._unit_jobs):
            given.append((set(units) - set(self._unit_jobs), recorded))
        return real_start(self, units, **kw)

    drop(settings, fill_template("02", rows_of(fill_template, *TEAM)), "PNV/a1.xlsx")
    vpq = [valid_row(person_code="VPQ001", full_name="Trần Thị Hoa", score=85)]
    drop(settings, fill_template("02", vpq, unit_code="VPQ", unit_name="Văn phòng Quận ủy"), "VPQ/b1.xlsx")
    monkeypatch.setattr(proc, "CHUNK", 1)
    monkeypatch.setattr(proc, "APART_MIN_FILES", 1)
    monkeypatch.setattr(Finisher, "_start_units", start_units)
    result = process_inbox(settings)
    assert result.problem is None and result.exit_code == 0 and inbox_files(settings) == []
    # PNV/ had no file left after a1: given to the writer with a1's chunk, before b1 was recorded
    assert given[0] == ({("2022-01", "PNV")}, ["a1.xlsx"])
    unit_lists = sorted(p.name for p in result.outputs if p.name.startswith("danh_sach_tong_hop_"))
    assert unit_lists == ["danh_sach_tong_hop_pnv_2022-01.xlsx", "danh_sach_tong_hop_vpq_2022-01.xlsx"]


def test_a_writer_process_that_dies_leaves_the_unit_workbooks_to_this_one(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import die_at_once

    from danhgia_batch.pipeline import effects
    from danhgia_batch.pipeline import process as proc

    drop(settings, fill_template("02", rows_of(fill_template, *TEAM)), "a1.xlsx")
    vpq = [valid_row(person_code="VPQ001", full_name="Trần Thị Hoa", score=85)]
    drop(settings, fill_template("02", vpq, unit_code="VPQ", unit_name="Văn phòng Quận ủy"), "b1.xlsx")
    drop(settings, fill_template("02", [valid_row(score=80, final_grade="A")]), "z.xlsx")
    monkeypatch.setattr(proc, "CHUNK", 1)
    monkeypatch.setattr(proc, "APART_MIN_FILES", 1)
    monkeypatch.setattr(effects, "write_unit_outputs_apart", die_at_once)  # the writer process dies
    result = process_inbox(settings)
    assert result.problem is None and inbox_files(settings) == []
    unit_lists = sorted(p.name for p in result.outputs if p.name.startswith("danh_sach_tong_hop_"))
    assert unit_lists == ["danh_sach_tong_hop_pnv_2022-01.xlsx", "danh_sach_tong_hop_vpq_2022-01.xlsx"]
    assert all(p.is_file() for p in result.outputs)


def test_rollups_left_pending_by_a_failed_run_are_written_by_the_next(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    from danhgia_batch.pipeline import effects

    def broken(*args: Any, **kwargs: Any) -> list[Path]:
        raise PermissionError(13, "tong_hop_quan is open in Excel")

    drop(settings, fill_template("02"), "PNV/ds.xlsx")
    monkeypatch.setattr(effects, "write_rollups", broken)
    assert only(process_inbox(settings)).outcome == "accepted"
    district = settings.outbox / "2022-01" / "tong_hop_quan_long_bien_2022-01.xlsx"
    assert not district.exists()
    with open_ledger(settings) as led:
        assert [(p, b) for p, b, _ in led.pending_rollups()] == [("2022-01", ""), ("2022-01", "CHINH_QUYEN")]
    monkeypatch.undo()
    again = process_inbox(settings)  # nothing new in the inbox, but the roll-ups are still due
    assert district in again.outputs and district.is_file()
    with open_ledger(settings) as led:
        assert led.pending_rollups() == []


@pytest.mark.parametrize("hold", ["~$ds.xlsx", ".~lock.ds.xlsx#", "truncated"])
def test_a_file_still_open_or_being_copied_is_left_for_later(
    settings: Settings, fill_template: Fill, hold: str
) -> None:
    # issue 14 ¶4: process settles files with the watcher's predicate (intake.unsettled_reason)
    path = drop(settings, fill_template("02"), "PNV/ds.xlsx")
    whole = path.read_bytes()
    if hold == "truncated":  # a copy in progress: the zip's central directory is not there yet
        path.write_bytes(whole[: len(whole) // 2])
    else:  # the clerk still has it open in Excel / LibreOffice
        (path.parent / hold).write_bytes(b"owner")
    result = process_inbox(settings)
    assert [(Path(f.path).name, f.outcome) for f in result.files] == [("ds.xlsx", "skipped")]
    assert result.exit_code == 0 and path.is_file()
    with open_ledger(settings) as led:
        assert led.files() == []  # neither claimed nor rejected
    if hold == "truncated":
        path.write_bytes(whole)
    else:
        (path.parent / hold).unlink()
    assert only(process_inbox(settings)).outcome == "accepted"


def test_each_chunk_is_settled_when_its_turn_comes(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 19: a chunk is settled just before its claims, not every file before the first
    # is read: a file the clerk opens in Excel while an earlier chunk is being processed is
    # left for later, and still counted in the run's progress
    from danhgia_batch.pipeline import process as proc

    first = drop(settings, fill_template("02"), "PNV/a.xlsx")
    later = drop(settings, fill_template("02", prepared_by="Người khác"), "VPQ/b.xlsx")
    monkeypatch.setattr(proc, "CHUNK", 1)
    chunk = proc._Run.chunk
    taken: list[list[str]] = []

    def opened_in_excel_meanwhile(run: Any, batch: Any) -> None:
        taken.append([p.name for p, _ in batch])
        chunk(run, batch)
        (later.parent / f"~${later.name}").write_bytes(b"owner")  # the clerk opens b.xlsx now

    monkeypatch.setattr(proc._Run, "chunk", opened_in_excel_meanwhile)
    seen: list[tuple[int, int]] = []
    result = process_inbox(settings, progress=lambda _step, done, total: seen.append((done, total)))
    assert taken == [["a.xlsx"], []]  # b.xlsx was settled when its turn came: held, never claimed
    assert sorted((Path(f.path).name, f.outcome) for f in result.files) == [
        ("a.xlsx", "accepted"),
        ("b.xlsx", "skipped"),
    ]
    assert not first.exists() and later.is_file()
    assert seen[-1] == (2, 2)  # the held file counts as done in the run's progress
    with open_ledger(settings) as led:
        assert [f.name for f in led.files()] == ["a.xlsx"]


def test_a_zip_unreadable_and_unchanged_past_the_limit_is_rejected_not_held_forever(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a client that died mid-copy: the truncated zip never changes again; after
    # intake.INCOMPLETE_LIMIT unchanged it is a damaged file with an error workbook, kept
    from danhgia_batch import intake

    path = drop(settings, fill_template("02"), "PNV/ds.xlsx")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    young = process_inbox(settings)  # still young: a copy in progress, left for later
    assert [f.outcome for f in young.files] == ["skipped"] and path.is_file()
    monkeypatch.setattr(intake, "INCOMPLETE_LIMIT", 0.0)  # as if it had stayed so for 15 minutes
    rejected = only(process_inbox(settings))
    assert rejected.outcome == "rejected" and not path.exists()
    assert any(Path(p).suffix == ".xlsx" and Path(p).is_file() for p in rejected.error_files)
    assert list(settings.path("archive").rglob("*ds*.xlsx"))  # the original is kept
