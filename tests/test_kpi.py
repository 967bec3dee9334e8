"""Decree 335's computed task part (SPEC §13): the formula to the hundredth, the template's
input columns and formulas, the reader's recomputation, the caps, and one list judged under
the letter's regime and under Decree 335."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from danhgia_batch import layout
from danhgia_batch.kpi import TaskInputs, input_problems, task_points
from danhgia_batch.pipeline.decide import decide
from danhgia_batch.read import read_forms
from danhgia_batch.settings import Settings, load_settings
from danhgia_batch.templates import fill_unit_list, generate_templates
from danhgia_batch.verdict import DecisionContext, FileFacts

D = Decimal


@pytest.mark.parametrize(
    ("inputs", "quantity", "quality", "progress", "points"),
    [
        # 11/12 = 91.67 %; (10 − 2×0.25)/12 = 79.17 %; (9 − 3×0.25)/12 = 68.75 %;
        # mean 28.75/36 = 79.8611 %; × 70 = 55.9027… → 55.90
        ((12, 11, 10, 9, 2, 3), "91.67", "79.17", "68.75", "55.90"),
        # 8/8 = 100 %; (7 − 0.25)/8 = 84.375 %; (6 − 0.5)/8 = 68.75 %; mean 84.375 %; × 70 = 59.0625 → 59.06
        ((8, 8, 7, 6, 1, 2), "100.00", "84.38", "68.75", "59.06"),
        ((5, 5, 5, 5, 0, 0), "100.00", "100.00", "100.00", "70.00"),
        # deductions never take a percentage below 0: (1 − 8×0.25)/4 → 0 %; (3 − 0)/4 = 75 %
        ((4, 3, 1, 3, 8, 0), "75.00", "0.00", "75.00", "35.00"),
        # converted units may be fractional: 2.5/3, 2/3, (2.5 − 0.25)/3 → mean 7/12; × 70 = 40.8333 → 40.83
        (("3", "2.5", "2", "2.5", 0, 1), "83.33", "66.67", "75.00", "52.50"),
    ],
)
def test_task_points_to_the_hundredth(
    inputs: tuple[Any, ...], quantity: str, quality: str, progress: str, points: str
) -> None:
    result = task_points(TaskInputs(*(D(str(v)) for v in inputs)))
    assert (result.shown("quantity"), result.shown("quality"), result.shown("progress")) == (
        D(quantity),
        D(quality),
        D(progress),
    )
    assert result.points == D(points)


def test_nothing_assigned_gives_no_points_and_bad_inputs_are_named() -> None:
    assert task_points(TaskInputs(D(0), D(0), D(0), D(0))).points == 0
    problems = input_problems(TaskInputs(D(5), D(6), D(7), D(2), D(-1), D(0)))
    assert [k for k, _ in problems] == ["failed_checks", "completed", "quality"]


# --------------------------------------------------------------------------- template → reader


@pytest.fixture
def both(tmp_path: Path) -> Settings:
    work = tmp_path / "work"
    work.mkdir()
    (work / "danhgia.toml").write_text('[regimes]\nuse = ["hn-1841", "nd-335-cong-chuc"]\n', encoding="utf-8")
    return load_settings(cwd=work, env={})


HEADER = {
    "period": "Quý I/2026",
    "unit_code": "VHXH",
    "unit_name": "Phòng Văn hóa - Xã hội",
    "block": "CHINH_QUYEN",
    "decider_name": "Trần Văn Hùng",
    "decider_position": "TRUONG_PHONG_PHUONG",
    "decision_date": date(2026, 3, 26),
}
# (code, part I, inputs assigned..delays, final grade, discipline), hand-computed totals:
PEOPLE = [
    ("VH001", "28", (12, 11, 10, 9, 2, 3), "B", False),  # 28 + 55.90 = 83.90 → B
    ("VH002", "29.5", (10, 10, 10, 10, 0, 0), "A", False),  # 29.5 + 70 = 99.50 → A
    ("VH003", "27", (8, 8, 7, 6, 1, 2), "B", False),  # 27 + 59.06 = 86.06 → B
    ("VH004", "30", (10, 10, 10, 10, 0, 0), "A", True),  # 100, but disciplined → at most D
    # (10 + 9 + 9)/30 × 70 = 65.33; + 20 = 85.33 → B
    *((f"VH00{i}", "20", (10, 10, 9, 9, 0, 0), "B", False) for i in range(5, 9)),
]
PEOPLE_CODES = {code for code, *_ in PEOPLE}
TOTALS = {"VH001": "83.90", "VH002": "99.50", "VH003": "86.06", "VH004": "100.00"}
TOTALS |= {f"VH00{i}": "85.33" for i in range(5, 9)}


def _rows(grades: dict[str, str] | None = None) -> list[dict[str, Any]]:
    out = []
    for code, part1, inputs, grade, disciplined in PEOPLE:
        row: dict[str, Any] = {
            "person_code": code,
            "full_name": f"Nguyễn Văn {code[-1]}",
            "position_code": "CONG_CHUC",
            "category": "CBCC",
            "self_I": D(part1),
            "final_I": D(part1),
            "self_grade": (grades or {}).get(code, grade),
            "final_grade": (grades or {}).get(code, grade),
            "self_date": date(2026, 3, 20),
            **{f"kpi_{k}": v for (k, _), v in zip(layout.KPI_INPUTS, inputs, strict=True)},
        }
        if disciplined:
            row["flag_discipline"] = "x"
            row["note"] = "Bị kỷ luật khiển trách tháng 02/2026"
        out.append(row)
    return out


def _filled(settings: Settings, tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    out = tmp_path / "tpl"
    generate_templates(settings, out, regime="nd-335-cong-chuc", period="Quý I/2026")
    fw = settings.framework_for("ND335-CC", "2026-Q1")
    assert fw is not None
    columns = layout.unit_list_columns(fw, settings.catalogue.caps_for(fw.id))
    return fill_unit_list(out / layout.FILE_NAMES["02"], tmp_path / "ds.xlsx", HEADER, rows, columns)


def test_the_regime_template_carries_inputs_formulas_and_the_quarter(both: Settings, tmp_path: Path) -> None:
    out = tmp_path / "tpl"
    generate_templates(both, out, regime="nd-335-cong-chuc", period="2026-Q1")
    ws = openpyxl.load_workbook(out / layout.FILE_NAMES["02"])[layout.SHEET_UNIT_LIST]
    labels = {c.value: c for row in ws.iter_rows(max_row=20) for c in row if isinstance(c.value, str)}
    for _, label in layout.KPI_INPUTS:
        assert label in labels
    assert "Bị xử lý kỷ luật (khiển trách trở lên) trong năm" in labels
    head = labels[layout.final_part_label("II")]
    formula = ws.cell(row=head.row + 1, column=head.column).value
    assert isinstance(formula, str) and formula.startswith("=IF(N(") and "ROUND(" in formula and "*70,2)" in formula
    assert "I/2026" in [c.value for row in ws.iter_rows(max_row=8) for c in row]
    assert "QUÝ" in str(ws["A1"].value)


def test_the_reader_recomputes_the_task_points(both: Settings, tmp_path: Path) -> None:
    form = next(iter(read_forms([_filled(both, tmp_path, _rows())], both)))
    assert [i.code for i in form.issues] == []
    assert form.header.period == "2026-Q1"
    got = {r.person_code: (r.final_parts["II"], r.final_total, r.flags) for r in form.rows}
    assert {k: v for k, v in got.items() if k < "VH005"} == {
        "VH001": (D("55.90"), D("83.90"), ()),
        "VH002": (D("70.00"), D("99.50"), ()),
        "VH003": (D("59.06"), D("86.06"), ()),
        "VH004": (D("70.00"), D("100.00"), ("discipline",)),
    }
    assert {k: str(v[1]) for k, v in got.items()} == TOTALS


def test_impossible_inputs_are_named_at_their_cells(both: Settings, tmp_path: Path) -> None:
    rows = _rows()
    rows[0]["kpi_completed"] = 13  # more than the 12 assigned
    form = next(iter(read_forms([_filled(both, tmp_path, rows)], both)))
    bad = [(i.code, i.column) for i in form.issues]
    assert ("kpi-input-invalid", "Số sản phẩm hoàn thành") in bad


def _judge(settings: Settings, form: Any) -> dict[str, Any]:
    rec = decide(form, DecisionContext(), settings, FileFacts(1, form.path.name, datetime(2026, 3, 28, 9)))
    return {"outcome": rec.outcome, "regime": rec.regime_id, "codes": sorted({i.code for i in rec.issues})}


def _letter_list(settings: Settings, tmp_path: Path, grades: dict[str, str]) -> Path:
    """The same people and final totals on the letter's monthly list (framework HN-THANG)."""
    from helpers import valid_row

    out = tmp_path / "letter"
    generate_templates(settings, out)
    header = {**HEADER, "period": "03/2026"}
    rows = [
        valid_row(
            person_code=code, full_name=f"Nguyễn Văn {code[-1]}", score=D(TOTALS[code]), self_date=date(2026, 3, 20),
            final_grade=grades.get(code, grade), self_grade=grades.get(code, grade),
        )
        for code, _, _, grade, _ in PEOPLE
    ]  # fmt: skip
    return fill_unit_list(out / layout.FILE_NAMES["02"], tmp_path / "ds_thu.xlsx", header, rows)


@pytest.mark.parametrize(
    ("regime", "grades", "expected"),
    [
        # Decree 335: VH004 is disciplined, so A is over the cap (error), and 2 A for 6 B is over
        # the ratio (floor(20 % × 6) = 1)
        ("nd-335-cong-chuc", {}, {"outcome": "rejected", "codes": ["grade-cap", "quota-exceeded"]}),
        # graded D: within the cap, and 1 A for 6 B
        ("nd-335-cong-chuc", {"VH004": "D"}, {"outcome": "accepted", "codes": []}),
        # the letter has no cap: the same list is only over the ratio (recorded, invalid)
        ("hn-1841", {}, {"outcome": "invalid", "codes": ["quota-exceeded"]}),
        ("hn-1841", {"VH004": "B"}, {"outcome": "accepted", "codes": []}),
    ],
)
def test_the_same_list_under_both_regimes(
    both: Settings, tmp_path: Path, regime: str, grades: dict[str, str], expected: dict[str, Any]
) -> None:
    if regime == "nd-335-cong-chuc":
        rows = _rows(grades)
        path = _filled(both, tmp_path, rows)
        settings = both
    else:  # the letter's regime alone in force (a VC/mixed list would say the same)
        path = _letter_list(both, tmp_path, grades)
        settings = load_settings(cwd=tmp_path, env={})
    form = next(iter(read_forms([path], settings)))
    assert [i.code for i in form.issues] == []
    assert _judge(settings, form) == {**expected, "regime": regime}


# --------------------------------------------------------------------------- a quarter end to end


def test_a_quarter_end_to_end(both: Settings, tmp_path: Path) -> None:
    """templates (nd-335, Quý I/2026) → filled → process → unit report titled "QUÝ I/2026"
    → year view with the quarter's grade and the average score."""
    import shutil

    from danhgia_batch.ledger import open_ledger
    from danhgia_batch.models import Person, Unit
    from danhgia_batch.pipeline import process_inbox, year_view

    units = [Unit("VHXH", "Phòng Văn hóa - Xã hội", "CHINH_QUYEN", "PHONG_PHUONG")]
    people = [Person(code, f"Nguyễn Văn {code[-1]}", "VHXH", "CONG_CHUC", "CBCC", "CBCC") for code, *_ in PEOPLE]
    people.append(Person("VH900", "Trần Văn Hùng", "VHXH", "TRUONG_PHONG_PHUONG", "CBCC", "CBCC"))
    with open_ledger(both) as led:
        led.save_registry(units, people, "danh_muc.xlsx")
    path = _filled(both, tmp_path, _rows({"VH004": "D"}))
    both.inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, both.inbox / "vhxh_quy1.xlsx")
    result = process_inbox(both)
    assert [f.outcome for f in result.files] == ["accepted"], [i.code for f in result.files for i in f.issues]

    reports = list((both.outbox / "2026-Q1").rglob("*.xlsx"))
    assert reports, "no outputs for the quarter"
    unit_report = next(p for p in reports if p.name.startswith("danh_sach_tong_hop_vhxh"))
    texts = [c.value for row in openpyxl.load_workbook(unit_report).active.iter_rows(max_row=12) for c in row]
    assert any(isinstance(t, str) and "QUÝ I/2026" in t for t in texts), texts
    table = [[c.value for c in row] for row in openpyxl.load_workbook(unit_report).active.iter_rows()]
    head = next(r for r in table if "Số SP được giao" in r)
    vh001 = next(r for r in table if "VH001" in r)
    assert vh001[head.index("Số SP được giao")] == 12
    assert vh001[head.index("Tỷ lệ hoàn thành nhiệm vụ (%)")] == 79.86  # 55.90 / 70, hand-computed

    ws = openpyxl.load_workbook(year_view(both, 2026)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    head = next(r for r in rows if "Q1" in r)
    mai = next(r for r in rows if "VH001" in r)
    assert mai[head.index("Q1")] == "B"
    top = next(r for r in rows if "Điểm bình quân" in r)  # merged over the two header rows
    assert mai[top.index("Điểm bình quân")] == 83.9
    assert mai[top.index("Xếp loại theo điểm bình quân")] == "B"
    # VH004 averages 100 but was disciplined in the quarter: the year's grade is D (Decree 335:
    # D when disciplined in the year), in the year view and in the year's A-quota
    vh004 = next(r for r in rows if "VH004" in r)
    assert vh004[top.index("Điểm bình quân")] == 100 and vh004[top.index("Xếp loại theo điểm bình quân")] == "D"
    # the year's A-quota per group (a proposal), on the band of the average: VH002 (99.5) is the
    # only A by the average for 6 B, within the one A allowed
    quota = openpyxl.load_workbook(year_view(both, 2026))["TyLeLoaiA"]
    marked = {
        r[3]: (r[5], r[-1]) for r in ([c.value for c in row] for row in quota.iter_rows()) if r[3] in PEOPLE_CODES
    }
    assert marked == {"VH002": (99.5, "Trong tỷ lệ")}


def test_the_individual_form_computes_the_task_part_too(both: Settings, tmp_path: Path) -> None:
    from danhgia_batch.templates import fill_individual

    out = tmp_path / "tpl"
    generate_templates(both, out, regime="nd-335-cong-chuc", period="03/2026")
    header = {
        **{k: v for k, v in HEADER.items()},
        "period": "03/2026",
        "person_code": "VH001",
        "full_name": "Nguyễn Văn 1",
        "position_code": "CONG_CHUC",
        "category": "CBCC",
        "self_date": date(2026, 3, 20),
        **{f"kpi_{k}": v for (k, _), v in zip(layout.KPI_INPUTS, (12, 11, 10, 9, 2, 3), strict=True)},
        "flag_discipline": "x",
    }
    criteria = {"I.1": (D(9), D(9)), "I.2": (D(9), D(9)), "I.3": (D(10), D(10))}
    path = fill_individual(
        out / layout.FILE_NAMES["01"], tmp_path / "phieu.xlsx", header, criteria,
        {"self_grade": "B", "final_grade": "B"},
    )  # fmt: skip
    sheet = openpyxl.load_workbook(out / layout.FILE_NAMES["01"])[layout.SHEET_INDIVIDUAL]
    assert sheet["A1"].value == "PHIẾU TỰ ĐÁNH GIÁ, XẾP LOẠI THÁNG 03/2026"
    form = next(iter(read_forms([path], both)))
    assert [i.code for i in form.issues] == []
    row = form.rows[0]
    assert (row.final_parts["II"], row.final_total, row.flags) == (D("55.90"), D("83.90"), ("discipline",))
    assert _judge(both, form)["codes"] == ["grade-cap"]  # disciplined: at most D


# --------------------------------------------------------------------------- leaders and deputies

# A deputy (CAP_PHO, a leader position in codes.toml): products (10, 10, 9, 8, 1 failed check,
# 2 delays) and the three leader components typed 100 / 90 / 80 %:
# 10/10 = 1; (9 − 0.25)/10 = 0.875; (8 − 0.5)/10 = 0.75; + 1 + 0.9 + 0.8 = 5.325; ÷ 6 = 0.8875;
# × 70 = 62.125 → 62.13 (half up); + part I 28 = 90.13 → A. The staff formula would give
# (1 + 0.875 + 0.75)/3 × 70 = 61.25.
LEADER_INPUTS = (10, 10, 9, 8, 1, 2)
LEADER = {"kpi_led_units": 100, "kpi_leadership": 90, "kpi_cohesion": 80}


def test_leader_points_to_the_hundredth() -> None:
    from danhgia_batch.kpi import leader_points, leader_problems

    inputs = TaskInputs(*(D(v) for v in LEADER_INPUTS))
    components = {k.removeprefix("kpi_"): D(v) for k, v in LEADER.items()}
    result = leader_points(inputs, components)
    assert result.task == D("0.8875") and result.points == D("62.13")
    assert task_points(inputs).points == D("61.25")
    assert leader_points(inputs, components | {"led_units": D(50)}).points == D(
        "56.29"
    )  # 5.825/6 … 4.825/6 × 70 = 56.291…
    assert [k for k, _ in leader_problems({"led_units": D(120), "leadership": D(-1)})] == [
        "led_units",
        "leadership",
        "cohesion",
    ]


def _leader_row(**extra: Any) -> dict[str, Any]:
    return {
        "person_code": "VH009",
        "full_name": "Lê Thị Hạnh",
        "position_code": "CAP_PHO",
        "category": "CBCC",
        "self_I": D(28),
        "final_I": D(28),
        "self_grade": "A",
        "final_grade": "A",
        "self_date": date(2026, 3, 20),
        **{f"kpi_{k}": v for (k, _), v in zip(layout.KPI_INPUTS, LEADER_INPUTS, strict=True)},
        **LEADER,
        **extra,
    }


def test_the_template_has_the_leader_columns_and_formula(both: Settings, tmp_path: Path) -> None:
    out = tmp_path / "tpl"
    generate_templates(both, out, regime="nd-335-cong-chuc", period="2026-Q1")
    ws = openpyxl.load_workbook(out / layout.FILE_NAMES["02"])[layout.SHEET_UNIT_LIST]
    labels = {c.value: c for row in ws.iter_rows(max_row=20) for c in row if isinstance(c.value, str)}
    for _, label in layout.KPI_LEADER_INPUTS:
        assert label in labels
    head = labels[layout.final_part_label("II")]
    formula = str(ws.cell(row=head.row + 1, column=head.column).value)
    pos = labels["Mã chức danh"].column_letter
    assert f"ISNUMBER(MATCH({pos}{head.row + 1},'_lists'!" in formula and ")/6," in formula and ")/3)" in formula
    assert "/100))" in formula  # the components are typed as percentages


def test_the_reader_scores_a_leader_by_the_mean_of_six(both: Settings, tmp_path: Path) -> None:
    form = next(iter(read_forms([_filled(both, tmp_path, [*_rows({"VH004": "D"}), _leader_row()])], both)))
    assert [i.code for i in form.issues] == []
    got = {r.person_code: (r.final_parts["II"], r.final_total) for r in form.rows}
    assert got["VH009"] == (D("62.13"), D("90.13"))
    assert got["VH001"] == (D("55.90"), D("83.90"))  # staff rows keep the staff formula
    leader = next(r for r in form.rows if r.person_code == "VH009")
    assert leader.inputs["led_units"] == 100 and leader.inputs["cohesion"] == 80


def test_impossible_or_missing_leader_components_are_named(both: Settings, tmp_path: Path) -> None:
    rows = [*_rows(), _leader_row(kpi_leadership=120, kpi_cohesion=None)]
    form = next(iter(read_forms([_filled(both, tmp_path, rows)], both)))
    cols = {c.value: c.column_letter for c in next(form_sheet_header(form))}
    row = next(r for r in form.rows if r.person_code == "VH009")
    bad = sorted((i.code, i.cell) for i in form.issues)
    assert bad == sorted(
        [
            ("kpi-input-invalid", f"{cols['Lãnh đạo: năng lực lãnh đạo, quản lý, điều hành (%)']}{row.row}"),
            ("kpi-input-invalid", f"{cols['Lãnh đạo: năng lực tập hợp, đoàn kết (%)']}{row.row}"),
        ]
    )


def form_sheet_header(form: Any) -> Any:
    """The header row of the read list (the row holding "Mã cán bộ")."""
    ws = openpyxl.load_workbook(form.path)[layout.SHEET_UNIT_LIST]
    return (row for row in ws.iter_rows() if any(c.value == "Mã cán bộ" for c in row))


@pytest.mark.parametrize(("led_units", "expected"), [(100, ["kpi-led-unit-d"]), (50, [])])
def test_the_units_a_leader_runs_are_checked_against_the_list(
    both: Settings, tmp_path: Path, led_units: int, expected: list[str]
) -> None:
    """VH004 (staff of the same unit, on the list) is graded D: the deputy's "result of the
    units they run" may be at most 50 %."""
    rows = [*_rows({"VH004": "D", "VH002": "B"}), _leader_row(kpi_led_units=led_units)]
    form = next(iter(read_forms([_filled(both, tmp_path, rows)], both)))
    assert [i.code for i in form.issues] == []
    rec = decide(form, DecisionContext(), both, FileFacts(1, form.path.name, datetime(2026, 3, 28, 9)))
    found = [i for i in rec.issues if i.code == "kpi-led-unit-d"]
    assert [i.code for i in found] == expected
    if found:
        leader = next(r for r in form.rows if r.person_code == "VH009")
        assert found[0].cell == leader.cells["kpi_led_units"] and "VH004" in found[0].message
        assert found[0].column == "Lãnh đạo: kết quả đơn vị phụ trách (%)"


# ------------------------------------------------------------- leaders on the individual form (01)


def _individual(settings: Settings, tmp_path: Path, name: str, position: str, **inputs: Any) -> Path:
    """Template 01 of the Decree 335 regime filled as a clerk's Excel would (openpyxl through the
    defined names): part I 9 + 9 + 10 = 28, the deputy's products (LEADER_INPUTS), ``inputs``
    (leader components; ``None`` leaves a cell blank)."""
    from danhgia_batch.templates import fill_individual

    out = tmp_path / "tpl"
    if not out.exists():
        generate_templates(settings, out, regime="nd-335-cong-chuc", period="03/2026")
    header = {
        **HEADER,
        "period": "03/2026",
        "person_code": "VH009",
        "full_name": "Lê Thị Hạnh",
        "position_code": position,
        "category": "CBCC",
        "self_date": date(2026, 3, 20),
        **{f"kpi_{k}": v for (k, _), v in zip(layout.KPI_INPUTS, LEADER_INPUTS, strict=True)},
        **{k: v for k, v in inputs.items() if v is not None},
    }
    criteria = {"I.1": (D(9), D(9)), "I.2": (D(9), D(9)), "I.3": (D(10), D(10))}
    grades = {"self_grade": "A", "final_grade": "A"}
    return fill_individual(out / layout.FILE_NAMES["01"], tmp_path / f"{name}.xlsx", header, criteria, grades)


def _defined_cell(path: Path, name: str) -> str:
    sheet, ref = next(openpyxl.load_workbook(path).defined_names[name].destinations)
    assert sheet == layout.SHEET_INDIVIDUAL
    return ref.replace("$", "")


def test_the_individual_form_has_the_leader_cells_and_formula(both: Settings, tmp_path: Path) -> None:
    out = tmp_path / "tpl"
    generate_templates(both, out, regime="nd-335-cong-chuc", period="03/2026")
    wb = openpyxl.load_workbook(out / layout.FILE_NAMES["01"])
    ws = wb[layout.SHEET_INDIVIDUAL]
    labels = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for key, label in layout.KPI_LEADER_INPUTS:  # the labels of template 02's columns
        assert label in labels
        name = f"SP_{key.upper()}"
        assert labels[label].row == ws[_defined_cell(out / layout.FILE_NAMES["01"], name)].row
    part = next(c for c in ws["A"] if c.value == "II")
    formula = str(ws.cell(row=part.row, column=5).value)
    assert "ISNUMBER(MATCH(MA_CHUC_DANH,'_lists'!" in formula and ")/6," in formula and ")/3)" in formula
    assert "N(SP_LED_UNITS)/100" in formula and "N(SP_COHESION)/100" in formula
    lists = wb[layout.LISTS_SHEET]
    column = next(col for col in lists.iter_cols() if col[0].value == "leaders")
    assert {c.value for c in column[1:] if c.value} == set(both.codes.leaders())


def test_the_individual_form_scores_a_leader_by_the_mean_of_six(both: Settings, tmp_path: Path) -> None:
    """The deputy of the list's example on the form: 62.13 (hand calculation above) + 28."""
    leader = next(iter(read_forms([_individual(both, tmp_path, "pho", "CAP_PHO", **LEADER)], both)))
    assert [i.code for i in leader.issues] == []
    row = leader.rows[0]
    assert (row.self_parts["II"], row.final_parts["II"], row.final_total) == (D("62.13"), D("62.13"), D("90.13"))
    assert row.inputs["led_units"] == 100 and row.inputs["leadership"] == 90 and row.inputs["cohesion"] == 80
    # staff: the staff formula (61.25 + 28), the leader cells ignored, whether typed or blank
    for name, typed in (("cc", LEADER), ("cc_blank", {})):
        staff = next(iter(read_forms([_individual(both, tmp_path, name, "CONG_CHUC", **typed)], both)))
        assert [i.code for i in staff.issues] == [], name
        assert (staff.rows[0].final_parts["II"], staff.rows[0].final_total) == (D("61.25"), D("89.25")), name


def test_a_leaders_missing_or_impossible_component_is_named_at_its_cell(both: Settings, tmp_path: Path) -> None:
    path = _individual(both, tmp_path, "pho", "CAP_PHO", **{**LEADER, "kpi_leadership": 120, "kpi_cohesion": None})
    form = next(iter(read_forms([path], both)))
    found = sorted((i.code, i.sheet, i.cell) for i in form.issues)
    assert found == sorted(
        ("kpi-input-invalid", layout.SHEET_INDIVIDUAL, _defined_cell(path, name))
        for name in ("SP_LEADERSHIP", "SP_COHESION")
    )


@pytest.mark.slow
def test_the_individual_forms_formula_gives_the_readers_points(both: Settings, tmp_path: Path) -> None:
    """The leader's and the staff's filled forms recalculated by LibreOffice: part II and the
    total of the form's formulas equal the reader's (skipped without soffice, except CI)."""
    import os
    import shutil
    import subprocess

    if shutil.which("soffice") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must have soffice (.ci/run installs libreoffice-calc-nogui)")
        pytest.skip("not installed: soffice")
    filled = tmp_path / "filled"
    filled.mkdir()
    cases = {
        "pho": ("CAP_PHO", LEADER, 62.13),
        "pho_50": ("CAP_PHO", {**LEADER, "kpi_led_units": 50}, 56.29),
        "cc": ("CONG_CHUC", LEADER, 61.25),
    }
    for name, (position, typed, _) in cases.items():
        _individual(both, filled, name, position, **typed)
    out = tmp_path / "out"
    profile = (tmp_path / "profile").as_uri()
    files = sorted(str(p) for p in filled.glob("*.xlsx"))
    cmd = ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx", "--outdir", str(out)]
    subprocess.run([*cmd, *files], check=True, capture_output=True, timeout=300)
    for name, (_, _, points) in cases.items():
        wb = openpyxl.load_workbook(out / f"{name}.xlsx", data_only=True)
        ws = wb[layout.SHEET_INDIVIDUAL]
        part = next(c for c in ws["A"] if c.value == "II")
        assert (ws.cell(row=part.row, column=4).value, ws.cell(row=part.row, column=5).value) == (points, points), name
        form = next(iter(read_forms([filled / f"{name}.xlsx"], both)))
        assert form.rows[0].final_parts["II"] == D(str(points)), name
        total = ws[_defined_cell(out / f"{name}.xlsx", "TONG_DIEM")].value
        assert D(str(total)).quantize(D("0.01")) == form.rows[0].final_total, name


@pytest.mark.parametrize("name", ["mau_01_phieu_ca_nhan.xlsx", "mau_02_tong_hop_don_vi.xlsx"])
def test_the_help_sheet_of_a_decree_335_template_explains_its_rules(both: Settings, tmp_path: Path, name: str) -> None:
    """The clerk's instructions cite the regime and explain the products, the leaders' six
    components, the cap flags and quarters; the letter's templates keep citing the letter."""
    out = tmp_path / "tpl"
    generate_templates(both, out, regime="nd-335-cong-chuc", period="Quý I/2026")
    text = "\n".join(
        str(r[0]) for r in openpyxl.load_workbook(out / name)[layout.HELP_SHEET].iter_rows(values_only=True) if r[0]
    )
    assert "2. Mức xếp loại và tỷ lệ (Nghị định 335/2025/NĐ-CP" in text and "528-CV/QU" not in text
    assert "5. Kết quả thực hiện nhiệm vụ tính từ sản phẩm" in text
    assert "mỗi lần chậm trừ 25% điểm tiến độ" in text and "bình quân sáu tỷ lệ" in text
    assert "Bị xử lý kỷ luật (khiển trách trở lên) trong năm: đánh dấu ô tương ứng; xếp loại tối đa D." in text
    assert "Quý I/2026" in text and "tháng cuối quý" in text
    letter = tmp_path / "letter"
    generate_templates(both, letter)
    plain = "\n".join(
        str(r[0]) for r in openpyxl.load_workbook(letter / name)[layout.HELP_SHEET].iter_rows(values_only=True) if r[0]
    )
    assert "(Công văn 528-CV/QU, mục 2.5)" in plain and "sản phẩm" not in plain and "hằng tháng" in plain
