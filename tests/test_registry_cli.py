"""Loading and showing the registry: ``danhgia registry load|show`` (issue 5, SPEC §3).

The registry file is filled the way a clerk's Excel fills it (openpyxl on the generated
template 00), loaded through the CLI into a SQLite ledger in a temporary work dir, and read
back. A rejected file yields an error workbook whose bad cells are checked with openpyxl.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.issues import CATALOGUE
from danhgia_batch.models import FormResult, Person, Unit
from danhgia_batch.pipeline.registry import register_form, summarize
from danhgia_batch.registry import registry_from_form
from danhgia_batch.settings import Settings

UNITS: list[dict[str, Any]] = [
    {"unit_code": "PNV", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG"},
    {"unit_code": "UBND_PBD", "unit_name": "UBND phường Bồ Đề", "block": "CHINH_QUYEN", "unit_kind": "UBND_PHUONG"},
    {"unit_code": "BTC", "unit_name": "Ban Tổ chức Quận ủy", "block": "DANG", "unit_kind": "BAN_DANG"},
]
STAFF = {
    "PNV": [("TRUONG_PHONG", "CBCC", 1), ("CAP_PHO", "CBCC", 2), ("CONG_CHUC", "CBCC", 16), ("LDHD", "LDHD", 2)],
    "UBND_PBD": [("CT_UBND_PHUONG", "CBCC", 1), ("CONG_CHUC", "CBCC", 4), ("KCT", "KCT", 3)],
    "BTC": [("TRUONG_BAN_QU", "CBCC", 1), ("CONG_CHUC", "CBCC", 4)],
}
NAMES = ["Nguyễn Thị Thu Hà", "Trần Văn Minh", "Lê Quang Huy", "Phạm Thị Lan", "Hoàng Đức Dũng", "Vũ Ngọc Bình"]


def people_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for unit, staff in STAFF.items():
        for position, category, count in staff:
            for _ in range(count):
                n = len(rows)
                rows.append(
                    {
                        "person_code": f"CB{n + 1:03d}",
                        "full_name": NAMES[n % len(NAMES)],
                        "birth_date": date(1975 + n % 20, 1 + n % 12, 1 + n % 28),
                        "unit_code": unit,
                        "position_title": position.replace("_", " ").title(),
                        "position_code": position,
                        "category": category,
                        "active": True,
                    }
                )
    rows[-1]["active"] = False  # a BTC clerk who has left
    return rows


class FakeLedger:
    """Records save_registry calls (the ledger's contract: save_registry(units, people, source) -> int)."""

    def __init__(self) -> None:
        self.saved: list[tuple[list[Unit], list[Person], str]] = []

    def save_registry(self, units: list[Unit], people: list[Person], source: str) -> int:
        self.saved.append((units, people, source))
        return len(self.saved)


def small_form() -> FormResult:
    units = [Unit(u["unit_code"], u["unit_name"], u["block"], u["unit_kind"], row=i + 4) for i, u in enumerate(UNITS)]
    people = [
        Person(
            p["person_code"],
            p["full_name"],
            p["unit_code"],
            p["position_code"],
            p["category"],
            "",
            p["birth_date"],
            active=p["active"],
            row=i + 4,
        )
        for i, p in enumerate(people_rows())
    ]
    return FormResult(path=Path("danh_muc.xlsx"), kind="00", units=units, people=people)


# --------------------------------------------------------------------------- library, no I/O


def test_register_form_saves_a_valid_registry(settings: Settings) -> None:
    ledger = FakeLedger()
    issues, version = register_form(small_form(), settings, ledger, source="danh_muc.xlsx")
    assert (issues, version) == ([], 1)
    units, people, source = ledger.saved[0]
    assert [u.code for u in units] == ["PNV", "UBND_PBD", "BTC"] and len(people) == 34 and source == "danh_muc.xlsx"
    assert {p.group for p in people} == {"CBCC", "LDHD", "KCT"}  # group defaults to the category


def test_register_form_rejects_an_invalid_registry(settings: Settings) -> None:
    form = small_form()
    form.people[3].unit_code = "PHONG_LA"
    ledger = FakeLedger()
    issues, version = register_form(form, settings, ledger, source="x.xlsx")
    assert version is None and ledger.saved == []
    assert [(i.sheet, i.row, i.code) for i in issues] == [("CanBo", 7, "registry-unit-unknown")]


def test_register_form_rejects_another_template(settings: Settings) -> None:
    form = FormResult(path=Path("ds.xlsx"), kind="02")
    issues, version = register_form(form, settings, FakeLedger(), source="ds.xlsx")
    assert version is None and [i.code for i in issues] == ["template-kind"]


def test_summary_per_block(settings: Settings) -> None:
    summary = summarize(registry_from_form(small_form(), version=3), settings)
    assert summary.version == 3 and summary.units == 3 and summary.people == 33
    assert [b.block for b in summary.blocks] == ["DANG", "CHINH_QUYEN"]  # code-list order
    pnv, ward = summary.blocks[1].units
    assert (pnv.code, pnv.people, pnv.size) == ("PNV", 21, 21)
    assert (ward.code, ward.people, ward.size) == ("UBND_PBD", 8, 5)  # KCT are not CBCCVC/LĐHĐ
    btc = summary.blocks[0].units[0]
    assert (btc.people, btc.inactive) == (4, 1)
    data = summary.to_dict()
    assert data["has_registry"] and data["blocks"][1]["units"][0]["size"] == 21
    assert summarize(None, settings).to_dict() == {
        "has_registry": False,
        "version": None,
        "units": 0,
        "people": 0,
        "blocks": [],
    }


# --------------------------------------------------------------------------- CLI, real files


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A work dir with an empty danhgia.toml (shipped defaults, SQLite ledger inside)."""
    work = tmp_path / "cli_work"
    work.mkdir()
    (work / "danhgia.toml").write_text("", encoding="utf-8")
    return work


@pytest.fixture
def registry_file(tmp_path: Path, settings: Settings) -> Any:
    """Fill the generated template 00 with openpyxl, as a clerk would."""
    from danhgia_batch.templates import generate_templates
    from danhgia_batch.templates.fill import fill_registry

    templates = generate_templates(settings, tmp_path / "templates")
    template = next(p for p in templates if p.name == "danh_muc.xlsx")

    def make(name: str, units: list[dict[str, Any]], people: list[dict[str, Any]]) -> Path:
        return fill_registry(template, tmp_path / name, units, people)

    return make


def invoke(work: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--config", str(work / "danhgia.toml"), *args])
    return result


def test_cli_load_then_show(work: Path, registry_file: Any) -> None:
    path = registry_file("danh_muc.xlsx", UNITS, people_rows())
    shown = invoke(work, "registry", "show")
    assert shown.exit_code == 0 and "Chưa có danh mục" in shown.output
    loaded = invoke(work, "--json", "registry", "load", str(path))
    assert loaded.exit_code == 0, loaded.output
    data = json.loads(loaded.output)
    assert data["ok"] and data["version"] and (data["units"], data["people"]) == (3, 34)
    shown = invoke(work, "--json", "registry", "show")
    summary = json.loads(shown.output)
    assert summary["version"] == data["version"] and summary["people"] == 33
    by_code = {u["code"]: u for b in summary["blocks"] for u in b["units"]}
    assert (by_code["PNV"]["size"], by_code["UBND_PBD"]["size"]) == (21, 5)
    text = invoke(work, "registry", "show")
    assert text.exit_code == 0
    assert "Khối Chính quyền" in text.output and "Phòng Nội vụ" in text.output
    # A second load is a new version; the newest is in force.
    again = json.loads(invoke(work, "--json", "registry", "load", str(path)).output)
    assert again["version"] > data["version"]
    assert json.loads(invoke(work, "--json", "registry", "show").output)["version"] == again["version"]


def test_cli_load_rejects_a_bad_registry_with_an_error_workbook(work: Path, registry_file: Any) -> None:
    import openpyxl

    people = people_rows()
    people[5]["unit_code"] = "PHONG_LA"  # CanBo row 4 + 5 = 9, column D
    people[7]["person_code"] = people[6]["person_code"]  # duplicate, second occurrence row 11
    units = [
        *UNITS,
        {
            "unit_code": "TO_1",
            "unit_name": "Tổ 1",
            "block": "CHINH_QUYEN",
            "unit_kind": "PHONG",
            "parent_code": "KHONG_CO",
        },
    ]
    path = registry_file("danh_muc_sai.xlsx", units, people)
    result = invoke(work, "--json", "registry", "load", str(path))
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert not data["ok"] and data["version"] is None
    found = {(i["sheet"], i["cell"], i["code"]) for i in data["issues"]}
    assert found == {
        ("CanBo", "D9", "registry-unit-unknown"),  # header on row 3: people[5] is on row 9
        ("CanBo", "A11", "registry-code-duplicate"),  # the second occurrence
        ("DonVi", "E7", "registry-parent-unknown"),
    }
    assert all(i["code"] in CATALOGUE for i in data["issues"])
    cells = {(i["sheet"], i["code"]): i["cell"] for i in data["issues"]}
    workbook = next(Path(p) for p in data["error_files"] if p.endswith(".xlsx"))
    wb = openpyxl.load_workbook(workbook)
    for (sheet, _code), cell in cells.items():
        if cell:
            assert wb[sheet][cell].comment is not None, (sheet, cell)
    assert json.loads(invoke(work, "--json", "registry", "show").output)["has_registry"] is False


def test_cli_load_missing_file_is_a_usage_error(work: Path) -> None:
    result = invoke(work, "registry", "load", str(work / "khong_co.xlsx"))
    assert result.exit_code == 2


def test_processed_lists_are_crosschecked_against_the_loaded_registry(
    work: Path, registry_file: Any, fill_template: Any
) -> None:
    """End to end: after ``registry load``, ``process`` checks lists against the registry and
    takes the unit size of the delegation rule (letter §2.2.b) from it."""
    from helpers import valid_row

    people = {p["person_code"]: p for p in people_rows()}
    assert (
        invoke(work, "registry", "load", str(registry_file("danh_muc.xlsx", UNITS, list(people.values())))).exit_code
        == 0
    )

    def row(code: str, **overrides: Any) -> dict[str, Any]:
        p = people.get(code, {"full_name": "Người Lạ", "birth_date": None, "position_code": "CONG_CHUC"})
        values = {
            "person_code": code,
            "full_name": p["full_name"],
            "birth_date": p["birth_date"],
            "position_code": p["position_code"],
            "evaluator_name": people["CB002"]["full_name"],
            "evaluator_position": "CAP_PHO",
            **overrides,
        }
        return valid_row(**values)

    good = fill_template("02", [row("CB004"), row("CB005")], path=work / "inbox" / "pnv_dung.xlsx", unit_code="PNV")
    bad = fill_template(
        "02",
        [
            row("CB006", evaluator_name="", evaluator_position=""),  # PNV has 21 CBCCVC, LĐHĐ: evaluator required
            row("CB404"),  # not in the registry
            row("CB024"),  # a ward clerk
            row("CB007", full_name=people["CB007"]["full_name"].upper().replace("Ễ", "E")),
        ],
        path=work / "inbox" / "pnv_sai.xlsx",
        unit_code="PNV",
    )
    result = invoke(work, "--json", "process")
    data = json.loads(result.output)
    files = {Path(f["path"]).name: f for f in data["files"]}
    assert files[good.name]["outcome"] == "accepted", files[good.name]["issues"]
    assert files[bad.name]["outcome"] == "rejected"
    codes = sorted((i["cell"], i["code"]) for i in files[bad.name]["issues"] if i["code"] != "late-arrival")
    assert codes == [
        ("B18", "registry-person-unknown"),
        ("B19", "registry-person-wrong-unit"),
        ("C20", "registry-name-typo"),
        ("V17", "authority-evaluator-required"),  # unit size 21 from the registry
    ]
