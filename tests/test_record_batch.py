"""Issue 19: the files of a chunk are decided and recorded in one ledger transaction
(:meth:`Ledger.record_batch`). Each file's context is read inside that transaction, after the
files before it, so the ledger a chunk leaves is exactly the one recording them one by one
(:func:`danhgia_batch.pipeline.context.decide_and_record`, the path of a chunk of one) leaves:
the same outcomes, issues, versions, statuses, covered flags, A-quota verdicts and §2.6 notes."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import default_criteria, valid_row
from sqlalchemy import select, update

from danhgia_batch.intake import sha256_file
from danhgia_batch.ledger import ClaimLost, Ledger, open_ledger
from danhgia_batch.ledger import schema as s
from danhgia_batch.pipeline import process as process_mod
from danhgia_batch.pipeline import process_inbox
from danhgia_batch.pipeline.context import decide_and_record_batch
from danhgia_batch.read import read_forms
from danhgia_batch.settings import Settings, load_settings

Fill = Callable[..., Path]
# "19:10 03/12/2026" (late-arrival), "03/12/2026 19:10" (file-duplicate): when a file arrived
TIME_OF_DAY = re.compile(r"\d\d:\d\d \d\d/\d\d/\d{4}|\d\d/\d\d/\d{4} \d\d:\d\d")


def _inbox(folder: Path, fill_template: Fill) -> list[str]:
    """Files that change each other's verdicts, in arrival order: individual forms of one
    decider (a shared A-quota, regrouped by each new form), a corrected form, a list of the
    same unit (letter §2.6: people on a list and on a form), its correction, a list breaking
    the quota, a rejected file and a byte-identical copy."""
    team = [valid_row(person_code=f"PNV00{i}", full_name=f"Người {i}", score=80) for i in range(1, 4)]
    quota = [valid_row(person_code=f"PTP00{i}", full_name=f"Người {i}", score=95 if i < 3 else 80) for i in range(6)]
    files = {
        "PNV/a_mai.xlsx": fill_template("01", person_code="PNV002", full_name="Lê Thị Mai"),
        "PNV/b_nam_a.xlsx": fill_template(
            "01", person_code="PNV004", full_name="Đỗ Văn Nam", results={"self_grade": "A", "final_grade": "A"}
        ),
        "PNV/c_lan_a.xlsx": fill_template(
            "01", person_code="PNV005", full_name="Vũ Thị Lan", results={"self_grade": "A", "final_grade": "A"}
        ),
        "PNV/d_mai_sua.xlsx": fill_template("01", person_code="PNV002", full_name="Lê Thị Mai", prepared_by="Sửa"),
        "PNV/e_ds.xlsx": fill_template("02", team),
        "PNV/f_ds_sua.xlsx": fill_template("02", team[:2], prepared_by="Sửa lại"),
        "PTP/g_quota.xlsx": fill_template("02", quota, unit_code="PTP", unit_name="Phòng Tư pháp"),
        "h_sai.xlsx": fill_template("02", [valid_row(score=80, final_grade="A")]),
    }
    names = [*files, "PNV/i_ban_sao.xlsx"]
    files["PNV/i_ban_sao.xlsx"] = files["PNV/e_ds.xlsx"]
    for n, rel in enumerate(names):
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(files[rel], dest)
        os.utime(dest, (1_700_000_000 + n, 1_700_000_000 + n))  # arrival order = the order above
    return names


def _state(settings: Settings) -> dict[str, Any]:
    """The ledger after a run, by file name (ids and times left out)."""
    with open_ledger(settings) as led, led.engine.connect() as conn:
        names = {f.id: f.name for f in led.files()}
        files = sorted(
            (f.name, f.outcome, f.state, f.kind, f.unit_code, f.issue_count, names.get(f.duplicate_of))
            for f in led.files()
        )
        issues = sorted(  # when files arrived left out: two runs may straddle a minute
            (f.name, i.code, i.sheet, i.cell, re.sub(TIME_OF_DAY, "…", i.message))
            for f in led.files()
            for i in led.file_issues(f.id)
        )
        lists = list(conn.execute(select(s.lists)))
        of = {r.id: names[r.file_id] for r in lists}
        verdicts = sorted(
            (of[r.list_id], r.grp, r.ranked, r.count_a, r.limit_a, r.ok) for r in conn.execute(select(s.quota_verdicts))
        )
        notes = sorted((of[r.list_id], r.code, r.message) for r in conn.execute(select(s.list_notes)))
        rows = sorted(
            (of[r.list_id], r.person_code, r.final_total, r.final_grade) for r in conn.execute(select(s.evaluations))
        )
    return {
        "files": files,
        "issues": issues,
        "lists": sorted((of[r.id], r.version, r.status, r.covered, of.get(r.superseded_by)) for r in lists),
        "verdicts": verdicts,
        "notes": notes,
        "rows": rows,
    }


def test_a_chunk_recorded_in_one_transaction_leaves_the_ledger_of_one_by_one(
    tmp_path: Path, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = {}
    together = process_mod.CHUNK
    for chunk in (together, 1):
        work = tmp_path / f"chunk{chunk}"
        work.mkdir()
        settings = load_settings(cwd=work, env={})
        names = _inbox(settings.inbox, fill_template)
        monkeypatch.setattr(process_mod, "CHUNK", chunk)
        result = process_inbox(settings, write_reports=False)
        runs[chunk] = (sorted((f.name, f.outcome) for f in result.files), _state(settings))
    assert len(names) <= together  # one chunk: recorded together
    (batched, state), (single, alone) = runs[together], runs[1]
    assert batched == single
    assert state == alone
    # the inbox really exercised what the transaction has to get right
    assert {o for _, o in batched} == {"accepted", "invalid", "rejected", "duplicate"}
    statuses = {st for _, _, st, _, _ in state["lists"]}
    assert statuses == {"valid", "invalid-quota", "superseded"}
    assert any(covered for *_, covered, _ in state["lists"])  # a form covered by the unit's list
    assert state["notes"] and state["verdicts"]


def _claimed(led: Ledger, settings: Settings, paths: list[Path]) -> list[Any]:
    out = []
    for p in paths:
        claim = led.claim(sha256_file(p), name=p.name, inbox_path=p.name, unit_folder=None, size=p.stat().st_size)
        assert claim.action == "process"
        out.append(claim.file)
    return out


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_file_taken_over_meanwhile_is_its_own_outcome(
    engine: str, request: pytest.FixtureRequest, settings: Settings, fill_template: Fill
) -> None:
    """A file another process took over is that file's :class:`ClaimLost`; the files before and
    after it in the batch are recorded."""
    led: Ledger = request.getfixturevalue("ledger" if engine == "sqlite" else "pg_ledger")
    paths = []
    for n, who in enumerate(("PNV001", "PNV002", "PNV003")):
        paths.append(
            shutil.copy(
                fill_template("01", person_code=who, full_name=f"Người {n}"), settings.workdir / f"phieu_{n}.xlsx"
            )
        )
    files = _claimed(led, settings, [Path(p) for p in paths])
    with led.engine.begin() as conn:  # another process took the second file over
        conn.execute(update(s.files).where(s.files.c.id == files[1].id).values(claimed_by="another"))
    forms = {str(f.path): f for f in read_forms([Path(p) for p in paths], settings)}
    outcomes = decide_and_record_batch(led, settings, [(f, forms[str(p)]) for f, p in zip(files, paths, strict=True)])
    assert isinstance(outcomes[1], ClaimLost)
    assert [getattr(o, "file", None) and o.file.outcome for o in (outcomes[0], outcomes[2])] == ["accepted"] * 2
    assert sorted(r.person_code for r in led.lists()) == ["PNV001", "PNV003"]


def test_a_batch_that_cannot_be_recorded_is_recorded_file_by_file(
    tmp_path: Path, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the chunk's transaction itself fail (a bug), nothing of it stays recorded and
    each file is decided and recorded again on its own: the ledger of an undisturbed run."""
    states = []
    for broken in (False, True):
        work = tmp_path / f"broken{broken}"
        work.mkdir()
        settings = load_settings(cwd=work, env={})
        _inbox(settings.inbox, fill_template)
        if broken:

            def fail(self: Ledger, asks: Any) -> Any:
                with self.engine.begin() as conn:  # half-way through, then the transaction fails
                    ids = [a.file_id for a in asks]
                    conn.execute(update(s.files).where(s.files.c.id.in_(ids)).values(outcome="rejected"))
                    raise RuntimeError("boom")

            monkeypatch.setattr(Ledger, "record_batch", fail)
        result = process_inbox(settings, write_reports=False)
        states.append((sorted((f.name, f.outcome) for f in result.files), _state(settings)))
    assert states[0] == states[1]
    assert {o for _, o in states[1][0]} == {"accepted", "invalid", "rejected", "duplicate"}


def test_a_batch_reads_its_lists_as_the_ledger_holds_them_after_each_file(tmp_path: Path, fill_template: Fill) -> None:
    """The batch keeps a unit's lists between its files (``_BatchMemo``; the suite's
    ``VERIFY`` compares every answer with the ledger's and fails the run on a difference).
    One decider's individual forms (letter §2.5.a: one A-quota over the group): a second A
    makes the group break the quota and sets the first forms invalid, its correction sets them
    valid again; in a second batch a form replaces one of the first run's and is replaced in
    turn, beside a new form of the group.
    """
    (tmp_path / "w").mkdir()
    settings = load_settings(cwd=tmp_path / "w", env={})
    a_grade = {"criteria": default_criteria(ratio="0.95"), "results": {"self_grade": "A", "final_grade": "A"}}

    def drop(rel: str, path: Path, at: int) -> None:
        dest = settings.inbox / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
        os.utime(dest, (1_700_000_000 + at, 1_700_000_000 + at))

    drop("PNV/a_mai.xlsx", fill_template("01", person_code="PNV002", full_name="Lê Thị Mai"), 10)
    drop("PNV/b_nam_a.xlsx", fill_template("01", person_code="PNV004", full_name="Đỗ Văn Nam", **a_grade), 11)
    drop("PNV/c_lan_a.xlsx", fill_template("01", person_code="PNV005", full_name="Vũ Thị Lan", **a_grade), 12)
    drop("PNV/d_lan_b.xlsx", fill_template("01", person_code="PNV005", full_name="Vũ Thị Lan", prepared_by="Sửa"), 13)
    first = process_inbox(settings, write_reports=False)
    assert sorted((f.name, f.outcome) for f in first.files) == [
        ("a_mai.xlsx", "accepted"),
        ("b_nam_a.xlsx", "accepted"),
        ("c_lan_a.xlsx", "invalid"),
        ("d_lan_b.xlsx", "accepted"),
    ]
    state = _state(settings)
    assert state["lists"] == [
        ("a_mai.xlsx", 1, "valid", False, None),
        ("b_nam_a.xlsx", 1, "valid", False, None),
        ("c_lan_a.xlsx", 1, "superseded", False, "d_lan_b.xlsx"),
        ("d_lan_b.xlsx", 2, "valid", False, None),
    ]
    # c broke the quota over the group: a and b were set invalid by it, then valid by d
    issues = {(name, code) for name, code, *_ in state["issues"]}
    assert ("c_lan_a.xlsx", "quota-unit-exceeded") in issues

    drop("PNV/e_mai_sua.xlsx", fill_template("01", person_code="PNV002", full_name="Lê Thị Mai", prepared_by="Sửa"), 20)
    drop("PNV/f_hoa.xlsx", fill_template("01", person_code="PNV006", full_name="Trần Hoa"), 21)
    drop("PNV/g_mai_moi.xlsx", fill_template("01", person_code="PNV002", full_name="Lê Thị Mai", prepared_by="Mới"), 22)
    second = process_inbox(settings, write_reports=False)
    assert sorted((f.name, f.outcome) for f in second.files) == [
        ("e_mai_sua.xlsx", "accepted"),
        ("f_hoa.xlsx", "accepted"),
        ("g_mai_moi.xlsx", "accepted"),
    ]
    lists = {name: (version, status, later) for name, version, status, _, later in _state(settings)["lists"]}
    assert lists["a_mai.xlsx"] == (1, "superseded", "e_mai_sua.xlsx")
    assert lists["e_mai_sua.xlsx"] == (2, "superseded", "g_mai_moi.xlsx")
    assert lists["g_mai_moi.xlsx"] == (3, "valid", None)
    assert lists["f_hoa.xlsx"] == (1, "valid", None)
    assert lists["b_nam_a.xlsx"] == (1, "valid", None)


def test_a_registry_recorded_within_a_batch_judges_the_files_after_it(
    settings: Settings, ledger: Ledger, fill_template: Fill
) -> None:
    """The pipeline records a registry file on its own, but :meth:`Ledger.record_batch` takes
    one among other files too: the forms after it are judged by the registry it saved (its
    version in their context, read again and not from the batch's memo)."""
    person = {"unit_code": "PNV", "position_code": "CONG_CHUC", "category": "CBCC", "active": True}
    registry = fill_template(
        "00",
        units=[{"unit_code": "PNV", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG"}],
        people=[
            {**person, "person_code": "PNV001", "full_name": "Nguyễn Văn An"},
            {**person, "person_code": "PNV002", "full_name": "Lê Thị Mai"},
        ],
    )
    paths = [
        Path(
            shutil.copy(
                fill_template("01", person_code="PNV001", full_name="Nguyễn Văn An"), settings.workdir / "a.xlsx"
            )
        ),
        Path(shutil.copy(registry, settings.workdir / "danh_muc.xlsx")),
        Path(
            shutil.copy(
                fill_template("01", person_code="PNV009", full_name="Phan Văn Chín"), settings.workdir / "b.xlsx"
            )
        ),
    ]
    files = _claimed(ledger, settings, paths)
    forms = {str(f.path): f for f in read_forms(paths, settings)}
    outcomes = decide_and_record_batch(
        ledger, settings, [(f, forms[str(p)]) for f, p in zip(files, paths, strict=True)]
    )
    got = [
        (o.file.name, o.file.outcome, sorted(i.code for i in o.issues))
        for o in outcomes
        if not isinstance(o, Exception)
    ]
    assert [(name, outcome) for name, outcome, _ in got] == [
        ("a.xlsx", "accepted"),
        ("danh_muc.xlsx", "accepted"),
        ("b.xlsx", "rejected"),
    ]
    assert "registry-person-unknown" in got[2][2], got[2]  # PNV009 is not in the registry just loaded


def test_a_file_taken_over_during_its_batch_is_not_recorded_over_the_new_holder(
    pg_ledger: Ledger, settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, where another process can commit while a batch runs: the batch read its files'
    rows at its start; a file taken over after that (here, while it is being decided) is that
    file's :class:`ClaimLost` when its row is written, and the new holder keeps it."""
    from danhgia_batch.pipeline import context as context_mod

    paths = [
        Path(shutil.copy(fill_template("01", person_code=who, full_name=f"Người {n}"), settings.workdir / f"p{n}.xlsx"))
        for n, who in enumerate(("PNV001", "PNV002", "PNV003"))
    ]
    files = _claimed(pg_ledger, settings, paths)
    real_decide = context_mod.decide

    def decide_while_taken_over(form: Any, context: Any, settings: Settings, file: Any) -> Any:
        if file.name == "p1.xlsx":  # another process takes it over and commits, meanwhile
            with pg_ledger.engine.begin() as other:
                other.execute(update(s.files).where(s.files.c.id == files[1].id).values(claimed_by="another"))
        return real_decide(form, context, settings, file)

    monkeypatch.setattr(context_mod, "decide", decide_while_taken_over)
    forms = {str(f.path): f for f in read_forms(paths, settings)}
    outcomes = decide_and_record_batch(
        pg_ledger, settings, [(f, forms[str(p)]) for f, p in zip(files, paths, strict=True)]
    )
    assert isinstance(outcomes[1], ClaimLost)
    assert [getattr(o, "file", None) and o.file.outcome for o in (outcomes[0], outcomes[2])] == ["accepted"] * 2
    assert sorted(r.person_code for r in pg_ledger.lists()) == ["PNV001", "PNV003"]
    with pg_ledger.engine.connect() as conn:
        row = conn.execute(select(s.files).where(s.files.c.id == files[1].id)).one()
    assert (row.claimed_by, row.state, row.outcome) == ("another", "claimed", None)


def test_publishing_waits_for_the_batch_recording_its_period(
    pg_ledger: Ledger, settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a batch reads the period's lock rows once (``_BatchMemo``), so publishing the
    period (or a quota grant) must not commit while the batch records it: ``set_lock`` waits for
    the batch, and the files after it see the lock. With SQLite one writer at a time does it."""
    import threading

    from danhgia_batch.pipeline import context as context_mod

    paths = [
        Path(shutil.copy(fill_template("01", person_code=who, full_name=f"Người {n}"), settings.workdir / f"p{n}.xlsx"))
        for n, who in enumerate(("PNV001", "PNV002"))
    ]
    files = _claimed(pg_ledger, settings, paths)
    real_decide = context_mod.decide
    publisher = threading.Thread(target=lambda: pg_ledger.set_lock("2022-01", None, locked=True, by="Văn phòng"))
    waited: list[bool] = []

    def decide_while_publishing(form: Any, context: Any, settings: Settings, file: Any) -> Any:
        if file.name == "p0.xlsx":
            publisher.start()
            publisher.join(timeout=1.0)
            waited.append(publisher.is_alive())  # held back by the batch, however long we wait
        return real_decide(form, context, settings, file)

    monkeypatch.setattr(context_mod, "decide", decide_while_publishing)
    forms = {str(f.path): f for f in read_forms(paths, settings)}
    outcomes = decide_and_record_batch(
        pg_ledger, settings, [(f, forms[str(p)]) for f, p in zip(files, paths, strict=True)]
    )
    publisher.join(timeout=60)
    assert waited == [True] and not publisher.is_alive()
    assert [getattr(o, "file", None) and o.file.outcome for o in outcomes] == ["accepted", "accepted"]
    assert pg_ledger.is_locked("2022-01")  # published after the batch, not under it
    history = pg_ledger.lock_history("2022-01")
    with pg_ledger.engine.connect() as conn:
        recorded = conn.execute(select(s.files.c.recorded_at)).scalars().all()
    assert len(recorded) == 2 and history[-1]["at"] >= max(recorded)
