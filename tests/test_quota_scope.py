"""Issue 14 ¶5, end to end: the A-quota's scope cannot be dodged (letter §2.5.a; SPEC §3, §6).

Lists are filled through the real templates (``fill_template``), dropped in the inbox and
processed; outcomes, issue cells and the outputs are read back.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import valid_row

from danhgia_batch.domain import DATA_DIR
from danhgia_batch.ledger import open_ledger
from danhgia_batch.pipeline import BatchResult, process_inbox
from danhgia_batch.reports.paths import commendation_path
from danhgia_batch.settings import Settings, load_settings

Fill = Callable[..., Path]
SHEET = "DanhSach"
FIRST = 17  # first data row of template 02


def drop(settings: Settings, source: Path, rel: str) -> None:
    dest = settings.inbox / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, dest)


def only(result: BatchResult) -> Any:
    (f,) = [f for f in result.files if f.outcome != "skipped"]
    return f


def where(file: Any) -> set[tuple[str, str, str]]:
    return {(i.sheet, i.cell, i.code) for i in file.issues}


def person(code: str, name: str, **over: Any) -> dict[str, Any]:
    return {
        "person_code": code,
        "full_name": name,
        "unit_code": "PNV",
        "position_code": "CONG_CHUC",
        "category": "CBCC",
        "active": True,
        **over,
    }


def load_registry(settings: Settings, fill_template: Fill, people: list[dict[str, Any]]) -> None:
    units = [{"unit_code": "PNV", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG"}]
    drop(settings, fill_template("00", units=units, people=people), "danh_muc.xlsx")
    loaded = only(process_inbox(settings))
    assert loaded.outcome == "accepted", loaded.issues


def commendation_names(settings: Settings) -> set[str]:
    path = commendation_path(settings, "2022-01", "CHINH_QUYEN", "PNV")
    if not path.is_file():
        return set()
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None}
    wb.close()
    return out


def test_one_person_groups_cannot_multiply_the_a(settings: Settings, fill_template: Fill) -> None:
    # issue 14: 10 civil servants, all A, groups NHOM1…NHOM10: each "under 5", so ten A
    rows = [
        valid_row(person_code=f"PNV{i:03d}", full_name=f"Người số {i}", score=95, group=f"NHOM{i}")
        for i in range(1, 11)
    ]
    drop(settings, fill_template("02", rows), "PNV/ds.xlsx")
    f = only(process_inbox(settings))
    assert f.outcome == "rejected"
    assert {(SHEET, f"H{FIRST + i}", "code-unknown") for i in range(10)} <= where(f)
    assert not any("Người số" in t for t in commendation_names(settings))


def test_a_group_typed_as_an_alias_is_its_code(settings: Settings, fill_template: Fill) -> None:
    row = valid_row(position_code="LDHD", category="LDHD", group="LĐHĐ")
    drop(settings, fill_template("02", [row]), "PNV/ds.xlsx")
    f = only(process_inbox(settings))
    assert f.outcome == "accepted", f.issues
    with open_ledger(settings) as led:
        assert [r.group for r in led.unit_view("2022-01", "PNV").rows] == ["LDHD"]


SMALL_UNIT = [  # 2 CBCC + 2 LĐHĐ, one A in each group
    ("PNV001", "Nguyễn Văn An", "CONG_CHUC", "CBCC", 95),
    ("PNV002", "Lê Thị Mai", "CONG_CHUC", "CBCC", 80),
    ("PNV003", "Đỗ Văn Nam", "LDHD", "LDHD", 93),
    ("PNV004", "Phạm Thị Hoa", "LDHD", "LDHD", 80),
]


@pytest.mark.parametrize(("total", "outcome"), [(True, "invalid"), (False, "accepted")])
def test_a_unit_under_five_has_one_a_in_total(
    settings: Settings, fill_template: Fill, total: bool, outcome: str
) -> None:
    s = dataclasses.replace(settings, quota=dataclasses.replace(settings.quota, small_unit_total=total))
    rows = [
        valid_row(person_code=c, full_name=n, position_code=p, category=g, group=g, score=score)
        for c, n, p, g, score in SMALL_UNIT
    ]
    drop(s, fill_template("02", rows), "PNV/ds.xlsx")
    f = only(process_inbox(s))
    assert f.outcome == outcome
    if total:  # the lower-scored A (Đỗ Văn Nam, 93) is the one suggested for B
        assert [(i.sheet, i.cell, i.code) for i in f.issues if i.severity == "violation"] == [
            (SHEET, f"T{FIRST + 2}", "quota-unit-exceeded")
        ]
        assert "Nguyễn Văn An" not in commendation_names(s)
    else:
        assert {"Nguyễn Văn An", "Đỗ Văn Nam"} <= commendation_names(s)


def test_the_registry_position_wins_over_the_list(settings: Settings, fill_template: Fill) -> None:
    # issue 14: a CONG_CHUC typed as CAP_PHO in a 25-person department escapes the evaluator rule
    people = [person("PNV000", "Trần Văn Hùng", position_code="TRUONG_PHONG")]
    people += [person(f"PNV{i:03d}", f"Cán bộ số {i}") for i in range(1, 25)]
    load_registry(settings, fill_template, people)
    row = valid_row(person_code="PNV001", full_name="Cán bộ số 1", birth_date=None, position_code="CAP_PHO")
    drop(settings, fill_template("02", [row]), "PNV/ds.xlsx")
    f = only(process_inbox(settings))
    assert f.outcome == "rejected"
    assert (SHEET, f"F{FIRST}", "registry-position-mismatch") in where(f)


@pytest.mark.parametrize(
    ("typed", "code"),
    [({"category": "VC", "group": "VC"}, "registry-category-mismatch"), ({"group": "KCT"}, "registry-group-mismatch")],
)
def test_category_and_group_mismatches_name_the_cell(
    settings: Settings, fill_template: Fill, typed: dict[str, str], code: str
) -> None:
    load_registry(settings, fill_template, [person("PNV001", "Nguyễn Văn An")])
    drop(settings, fill_template("02", [valid_row(birth_date=None, **typed)]), "PNV/ds.xlsx")
    f = only(process_inbox(settings))
    cell = {"registry-category-mismatch": "G", "registry-group-mismatch": "H"}[code]
    assert f.outcome == "rejected" and (SHEET, f"{cell}{FIRST}", code) in where(f)


def _with_extra_group(settings: Settings) -> Settings:
    codes = (DATA_DIR / "codes.toml").read_text(encoding="utf-8")
    codes += '\n[[group]]\ncode = "LANH_DAO"\nlabel = "Lãnh đạo phòng"\n'
    (settings.workdir / "ma.toml").write_text(codes, encoding="utf-8")
    (settings.workdir / "danhgia.toml").write_text('[domain]\ncodes = "ma.toml"\n', encoding="utf-8")
    return load_settings(cwd=settings.workdir, env={})


def test_a_blank_group_takes_the_registrys(settings: Settings, fill_template: Fill) -> None:
    s = _with_extra_group(settings)
    assert s.codes.codes("groups")[-1] == "LANH_DAO"
    load_registry(s, fill_template, [person("PNV001", "Nguyễn Văn An", group="LANH_DAO")])
    drop(s, fill_template("02", [valid_row(birth_date=None, group=None)]), "PNV/ds.xlsx")
    f = only(process_inbox(s))
    assert f.outcome == "accepted", f.issues
    with open_ledger(s) as led:
        assert [r.group for r in led.unit_view("2022-01", "PNV").rows] == ["LANH_DAO"]


def test_an_individual_form_with_an_unknown_group_is_rejected_at_its_cell(
    settings: Settings, fill_template: Fill
) -> None:
    path = fill_template("01", group="NHOM1")
    wb = openpyxl.load_workbook(path)
    ((sheet, coord),) = wb.defined_names["NHOM_DOI_TUONG"].destinations
    wb.close()
    drop(settings, path, "PNV/phieu.xlsx")
    f = only(process_inbox(settings))
    assert f.outcome == "rejected" and (sheet, coord.replace("$", ""), "code-unknown") in where(f)
