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
    stored = evaluation_to_row(row, 1)
    assert stored["inputs"] == {"products": {"assigned": 1200, "completed": 1150}, "flags": ["discipline"]}

    class Row:
        def __init__(self, d: dict[str, Any]) -> None:
            self.__dict__.update(d)

    back = evaluation_from_row(Row(stored))
    assert (back.inputs, back.flags) == (row.inputs, row.flags)
    plain = evaluation_to_row(
        EvaluationRow(row=1, person_code="X", full_name="", position_code="", category="", group=""), 1
    )
    assert plain["inputs"] is None
