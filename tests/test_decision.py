"""One decision (issue 14): ``check`` and ``process`` decide a file in the same work folder alike,
``check`` writes nothing, and a change of context between deciding and recording makes the
pipeline decide again."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import valid_row

from danhgia_batch.ledger import Ledger, open_ledger
from danhgia_batch.models import Person, Unit
from danhgia_batch.pipeline import process_inbox
from danhgia_batch.pipeline.check import NO_LEDGER, NO_REGISTRY, check_files
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]


def _registry(led: Ledger, staff: int) -> None:
    """Unit PNV (a department of CHINH_QUYEN) with ``staff`` civil servants PNV001…"""
    units = [Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG")]
    people = [Person(f"PNV{i:03d}", f"Nguyễn Văn {i}", "PNV", "CONG_CHUC", "CBCC", "CBCC") for i in range(1, staff + 1)]
    people.append(Person("PNV900", "Trần Văn Hùng", "PNV", "TRUONG_PHONG", "CBCC", "CBCC"))
    led.save_registry(units, people, "danh_muc.xlsx")


def _rows(n: int) -> list[dict[str, object]]:
    return [valid_row(person_code=f"PNV{i:03d}", full_name=f"Nguyễn Văn {i}", score=80) for i in range(1, n + 1)]


def _codes(issues: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return sorted((i.sheet, i.cell, i.code) for i in issues)


def _check_then_process(settings: Settings, path: Path) -> tuple[object, object]:
    """``check`` of ``path`` in the work folder, then ``process`` of the same file from the inbox."""
    checked = check_files([path], settings).files[0]
    target = settings.inbox / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target)
    processed = process_inbox(settings, write_reports=False).files[0]
    return checked, processed


def test_check_rejects_a_unit_unknown_to_the_registry_as_process_does(settings: Settings, fill_template: Fill) -> None:
    """Issue 14: ``check`` said "đạt" for a list whose unit code the registry does not know."""
    with open_ledger(settings) as led:
        _registry(led, 5)
    path = fill_template("02", _rows(3), unit_code="PXX", unit_name="Phòng lạ")
    checked, processed = _check_then_process(settings, path)
    assert not checked.ok and checked.outcome == "rejected"  # type: ignore[attr-defined]
    assert "registry-unit-unknown" in {i.code for i in checked.issues}  # type: ignore[attr-defined]
    assert processed.outcome == "rejected"  # type: ignore[attr-defined]
    assert _codes(checked.issues) == _codes(processed.issues)  # type: ignore[attr-defined]


def test_check_takes_the_unit_size_from_the_registry_as_process_does(settings: Settings, fill_template: Fill) -> None:
    """Issue 14: 19 people listed in a unit of 20 with no evaluator: ``check`` took the size
    from the list (19 < 20: no evaluator needed); the registry's 20 requires one (§2.2.b)."""
    with open_ledger(settings) as led:
        _registry(led, 20)
    path = fill_template("02", _rows(19))
    checked, processed = _check_then_process(settings, path)
    required = [i for i in checked.issues if i.code == "authority-evaluator-required"]  # type: ignore[attr-defined]
    assert len(required) == 19 and not checked.ok  # type: ignore[attr-defined]
    assert processed.outcome == checked.outcome == "rejected"  # type: ignore[attr-defined]
    assert _codes(checked.issues) == _codes(processed.issues)  # type: ignore[attr-defined]


def test_check_without_a_ledger_says_what_it_could_not_check(settings: Settings, fill_template: Fill) -> None:
    path = fill_template("02", _rows(2))
    result = check_files([path], settings)
    assert result.files[0].ok and result.files[0].outcome == "accepted"
    assert NO_LEDGER in result.not_checked and NO_REGISTRY in result.not_checked
    assert not (settings.workdir / "danhgia.sqlite3").exists()  # no ledger created


def test_check_reads_the_ledger_and_writes_nothing(settings: Settings, fill_template: Fill) -> None:
    with open_ledger(settings) as led:
        _registry(led, 5)
        led.set_lock("2022-01", None, locked=True, by="admin")
        before = (len(led.files()), len(led.lock_history()))
    path = fill_template("02", _rows(3))
    result = check_files([path], settings)
    assert [i.code for i in result.files[0].issues if not i.code.startswith("late-")] == ["period-locked"]
    assert result.not_checked == []
    with open_ledger(settings) as led:
        assert (len(led.files()), len(led.lock_history())) == before


def test_a_list_replacing_a_recorded_one_is_announced_by_check(settings: Settings, fill_template: Fill) -> None:
    with open_ledger(settings) as led:
        _registry(led, 5)
    first = fill_template("02", _rows(3))
    settings.inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(first, settings.inbox / "a.xlsx")
    assert process_inbox(settings, write_reports=False).files[0].outcome == "accepted"
    second = fill_template("02", _rows(4))
    checked, processed = _check_then_process(settings, second)
    assert "list-superseded" in [i.code for i in checked.issues]  # type: ignore[attr-defined]
    assert _codes(checked.issues) == _codes(processed.issues)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["02"])
def test_a_lock_between_decision_and_record_is_decided_again(
    settings: Settings, fill_template: Fill, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A period locked after the decision and before the record: the ledger refuses the
    decision (its context changed) and the pipeline decides again: period-locked."""
    from danhgia_batch.pipeline import context as ctx_mod

    with open_ledger(settings) as led:
        _registry(led, 5)
    real = ctx_mod.context_for
    calls: list[int] = []

    def context_then_lock(ledger: Ledger | None, form: object) -> object:
        found = real(ledger, form)  # type: ignore[arg-type]
        if not calls and ledger is not None:
            ledger.set_lock("2022-01", None, locked=True, by="admin")
        calls.append(1)
        return found

    monkeypatch.setattr(ctx_mod, "context_for", context_then_lock)
    settings.inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(fill_template(kind, _rows(3)), settings.inbox / "a.xlsx")
    done = process_inbox(settings, write_reports=False).files[0]
    assert len(calls) == 2
    assert done.outcome == "rejected" and "period-locked" in [i.code for i in done.issues]


def test_lists_recorded_before_migration_5_get_their_results_once(settings: Settings, fill_template: Fill) -> None:
    """A ledger upgraded to migration 5 has lists without recorded quota verdicts, §2.6 notes
    or covered flags: the pipeline gives them the decision's results, the same as recording
    them now would."""
    from danhgia_batch.ledger import schema as s
    from danhgia_batch.pipeline.context import backfill_results

    settings.inbox.mkdir(parents=True, exist_ok=True)
    rows = _rows(3)
    rows[1] = {**rows[1], "person_code": "PNV002", "full_name": "Lê Thị Mai", "final_grade": "C", "note": "Lý do"}
    shutil.copy(fill_template("02", rows), settings.inbox / "ds.xlsx")
    shutil.copy(fill_template("01"), settings.inbox / "phieu.xlsx")
    assert {f.outcome for f in process_inbox(settings, write_reports=False).files} == {"accepted"}

    def seen(led: Ledger) -> tuple[object, ...]:
        view = led.unit_view("2022-01", "PNV")
        return (
            [(lv.file_name, [(i.cell, i.code) for i in lv.issues], lv.quota) for lv in view.lists],
            sorted(r.person_code for r in view.rows),
            [(y.person_code, y.grades) for y in led.year_rows(2022)],
        )

    with open_ledger(settings) as led:
        before = seen(led)
        codes = [c for _, issues, _ in before[0] for _, c in issues]  # type: ignore[index]
        assert "form-covered-by-list" in codes and "form-list-conflict" in codes
        with led.engine.begin() as conn:  # as a ledger of migration 2 would be
            conn.execute(s.quota_verdicts.delete())
            conn.execute(s.list_notes.delete())
            conn.execute(s.lists.update().values(covered=False))
        assert seen(led) != before
    with open_ledger(settings) as led:
        assert backfill_results(led, settings) == 1
        assert seen(led) == before
        assert backfill_results(led, settings) == 0
