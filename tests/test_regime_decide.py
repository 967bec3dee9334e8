"""Regimes in the one decision (SPEC §13): every recorded file names the regime (id, content
hash) that judged it, ``check`` and ``process`` agree, and a published period keeps its regime."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from helpers import valid_row
from sqlalchemy import select

from danhgia_batch.ledger import open_ledger
from danhgia_batch.ledger import schema as s
from danhgia_batch.models import Person, Unit
from danhgia_batch.pipeline import process_inbox, publish_period, reopen_period
from danhgia_batch.pipeline.check import check_files
from danhgia_batch.settings import Settings

Fill = Callable[..., Path]
WARD = {"unit_name": "Phòng Văn hóa - Xã hội", "decider_position": "TRUONG_PHONG_PHUONG"}
MARCH = {**WARD, "period": "03/2026", "decision_date": date(2026, 3, 26), "prepared_date": date(2026, 3, 27)}


def _use(settings: Settings, *ids: str) -> Settings:
    return replace(settings, catalogue=replace(settings.catalogue, in_force=ids))


def _registry(settings: Settings) -> None:
    units = [Unit("PNV", "Phòng Văn hóa - Xã hội", "CHINH_QUYEN", "PHONG_PHUONG")]  # a ward's (SPEC App. B)
    people = [Person(f"PNV{i:03d}", f"Nguyễn Văn {i}", "PNV", "CONG_CHUC", "CBCC", "CBCC") for i in range(1, 6)]
    people.append(Person("PNV900", "Trần Văn Hùng", "PNV", "TRUONG_PHONG_PHUONG", "CBCC", "CBCC"))
    with open_ledger(settings) as led:
        led.save_registry(units, people, "danh_muc.xlsx")


def _rows(day: date, score: int = 80) -> list[dict[str, Any]]:
    return [
        valid_row(person_code=f"PNV{i:03d}", full_name=f"Nguyễn Văn {i}", score=score, self_date=day)
        for i in range(1, 6)
    ]


def _process(settings: Settings, path: Path) -> Any:
    target = settings.inbox / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target)
    return process_inbox(settings, write_reports=False).files[0]


def _file_regimes(settings: Settings) -> list[tuple[str, str, str, str]]:
    with open_ledger(settings) as led, led.engine.connect() as conn:
        q = select(s.files.c.name, s.files.c.period, s.files.c.regime_id, s.files.c.regime_hash).order_by(s.files.c.id)
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def test_recorded_files_carry_the_regime_and_check_agrees(settings: Settings, fill_template: Fill) -> None:
    _registry(settings)
    path = fill_template("02", _rows(date(2026, 3, 20)), **MARCH)
    checked = check_files([path], settings).files[0]
    processed = _process(settings, path)
    assert checked.outcome == processed.outcome == "accepted", [i.code for i in processed.issues]
    letter = settings.catalogue.regimes["hn-1841"]
    assert _file_regimes(settings) == [(path.name, "2026-03", "hn-1841", letter.digest)]


def test_a_published_period_keeps_its_regime(settings: Settings, fill_template: Fill) -> None:
    _registry(settings)
    first = _process(settings, fill_template("02", _rows(date(2026, 3, 20)), **MARCH))
    assert first.outcome == "accepted"
    publish_period(settings, "2026-03", by="Quản trị")
    reopen_period(settings, "2026-03", by="Quản trị", reason="Sửa một điểm")

    # Decree 335 is switched on after March was published: March stays with the letter ...
    both = _use(settings, "hn-1841", "nd-335-cong-chuc")
    again = _process(both, fill_template("02", _rows(date(2026, 3, 21), 81), **MARCH))
    assert again.outcome == "accepted", [i.code for i in again.issues]
    assert [r[2] for r in _file_regimes(settings)] == ["hn-1841", "hn-1841"]
    # ... while April, never published, is judged by Decree 335 (whose framework the letter's form lacks)
    april = {**WARD, "period": "04/2026", "decision_date": date(2026, 4, 27), "prepared_date": date(2026, 4, 27)}
    new = _process(both, fill_template("02", _rows(date(2026, 4, 20)), **april))
    assert new.outcome == "rejected"
    assert "regime-framework" in {i.code for i in new.issues}


def test_a_quota_exception_granted_to_the_unit(settings: Settings, fill_template: Fill) -> None:
    """2 A for 5 B is over 20 % (floor(1.0) = 1); granted 40 % for March, the same list is valid."""
    import pytest
    from typer.testing import CliRunner

    from danhgia_batch.cli import app
    from danhgia_batch.errors import UsageError
    from danhgia_batch.pipeline.regimes import grant_quota

    units = [Unit("PNV", "Phòng Văn hóa - Xã hội", "CHINH_QUYEN", "PHONG_PHUONG")]
    people = [Person(f"PNV{i:03d}", f"Nguyễn Văn {i}", "PNV", "CONG_CHUC", "CBCC", "CBCC") for i in range(1, 8)]
    people.append(Person("PNV900", "Trần Văn Hùng", "PNV", "TRUONG_PHONG_PHUONG", "CBCC", "CBCC"))
    with open_ledger(settings) as led:
        led.save_registry(units, people, "danh_muc.xlsx")
    rows = [
        valid_row(person_code=f"PNV{i:03d}", full_name=f"Nguyễn Văn {i}", score=95 if i <= 2 else 80,
                  self_date=date(2026, 3, 20))
        for i in range(1, 8)
    ]  # fmt: skip
    first = _process(settings, fill_template("02", rows, **MARCH))
    assert first.outcome == "invalid" and "quota-exceeded" in {i.code for i in first.issues}

    with pytest.raises(UsageError):
        grant_quota(settings, "03/2026", "KHONG_CO", 0.4, by="Chủ tịch UBND phường", reason="Tập thể xuất sắc")
    (settings.workdir / "danhgia.toml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["--config", str(settings.workdir / "danhgia.toml"), "quota", "grant", "-p", "03/2026", "-u", "pnv",
         "--ratio", "0.4", "--by", "Chủ tịch UBND phường", "--reason", "Quyết định 12/QĐ-UBND: tập thể xuất sắc"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "PNV" in result.output and "40%" in result.output
    # the same list sent again (a note added: an identical file within the same second would be
    # the same bytes, a file-duplicate)
    again = _process(settings, fill_template("02", [{**rows[0], "note": "Gửi lại"}, *rows[1:]], **MARCH))
    assert again.outcome == "accepted", [i.code for i in again.issues]
    with open_ledger(settings) as led:
        grants = led.quota_grants("2026-03")
    assert [(g["unit_code"], g["ratio"], g["by"]) for g in grants] == [("PNV", 0.4, "Chủ tịch UBND phường")]


def test_the_ledger_keeps_the_products_and_flags_judged(tmp_path: Path) -> None:
    """SPEC §13: what a regime judged besides the scores is recorded with the evaluation."""
    from decimal import Decimal

    from danhgia_batch.ledger.codec import evaluation_from_row, evaluation_to_row
    from danhgia_batch.models import EvaluationRow

    row = EvaluationRow(
        row=9, person_code="VH001", full_name="An", position_code="CONG_CHUC", category="CBCC", group="CBCC"
    )
    row.inputs = {"assigned": Decimal(12), "completed": Decimal("11.5")}
    row.flags = ("discipline",)
    stored = evaluation_to_row(row, 1, "2026-01")
    assert stored["inputs"] == {"products": {"assigned": 1200, "completed": 1150}, "flags": ["discipline"]}

    class Row:
        def __init__(self, d: dict[str, Any]) -> None:
            self.__dict__.update(d)

    back = evaluation_from_row(Row(stored))
    assert (back.inputs, back.flags) == (row.inputs, row.flags)
    plain = evaluation_to_row(
        EvaluationRow(row=1, person_code="X", full_name="", position_code="", category="", group=""), 1, "2026-01"
    )
    assert plain["inputs"] is None


def test_the_typed_grade_by_score_is_checked_with_the_regimes_bands(settings: Settings, fill_template: Fill) -> None:
    """A regime with other thresholds (A from 85): 87 typed over as "A" is right under it and
    wrong under the letter's bands; 88 typed "B" is the reverse (SPEC §8, §13)."""
    from datetime import datetime

    from danhgia_batch.pipeline.decide import decide
    from danhgia_batch.read import read_forms
    from danhgia_batch.regimes import REGIMES_DIR, load_regime
    from danhgia_batch.verdict import DecisionContext, FileFacts

    letter = load_regime(REGIMES_DIR / "hn-1841.toml")
    a85 = replace(letter, id="hn-a85", valid_from="2026-01", bands=replace(letter.bands, a=85))
    rows = [
        valid_row(person_code="PNV001", full_name="Nguyễn Văn 1", score=87, band_grade="A", final_grade="A",
                  self_grade="A", self_date=date(2026, 3, 20)),
        valid_row(person_code="PNV002", full_name="Nguyễn Văn 2", score=88, band_grade="B", final_grade="B",
                  self_grade="B", self_date=date(2026, 3, 20)),
        *_rows(date(2026, 3, 20))[2:],
    ]  # fmt: skip
    path = fill_template("02", rows, **MARCH)
    form = next(iter(read_forms([path], settings)))
    cells = {r.person_code: r.cells["band_grade"] for r in form.rows}

    def judged(*ids: str) -> list[tuple[str, str, str]]:
        catalogue = replace(settings.catalogue, regimes={**settings.catalogue.regimes, a85.id: a85}, in_force=ids)
        rec = decide(form, DecisionContext(), replace(settings, catalogue=catalogue),
                     FileFacts(1, path.name, datetime(2026, 3, 27, 9)))  # fmt: skip
        bands = [(i.cell, i.code, i.message) for i in rec.issues if i.code.startswith("formula-")]
        assert {rec.regime_id} == {ids[-1]}
        return bands

    under_a85 = judged("hn-1841", "hn-a85")
    assert [(c, code) for c, code, _ in under_a85] == [(cells["PNV002"], "formula-overwritten")]
    assert "A" in under_a85[0][2]  # expected A (88 ≥ 85)
    under_letter = judged("hn-1841")
    assert [(c, code) for c, code, _ in under_letter] == [(cells["PNV001"], "formula-overwritten")]
