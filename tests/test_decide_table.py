"""The one decision as a table (issue 14): one row per rule, each a change to a clean list (02)
or individual form (01) and its context, and the (cell, code) the decision must give.

The forms are read once from templates filled like a clerk would; every row works on a copy,
so the decision (:func:`danhgia_batch.pipeline.decide.decide`) runs pure, without I/O.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import valid_row

from danhgia_batch.issues import CATALOGUE, make_issue
from danhgia_batch.models import FormResult, Person, Unit
from danhgia_batch.pipeline.decide import decide
from danhgia_batch.registry import Registry
from danhgia_batch.rules import deadline_for
from danhgia_batch.settings import Settings, load_settings
from danhgia_batch.verdict import DecisionContext, FileFacts, LockRow, PlaceList

PACKAGE = Path(__file__).resolve().parents[1] / "danhgia_batch"
ARRIVAL = datetime(2022, 1, 28, 9, 0)
PERIOD = "2022-01"
BOTH = ("hn-1841", "nd-335-cong-chuc")


def _on_time_regime() -> Any:
    """Decree 335's regime with 366-QĐ/TW's condition "B needs every task on time"."""
    from danhgia_batch.regimes import REGIMES_DIR, Condition, load_regime

    nd = load_regime(REGIMES_DIR / "nd-335-cong-chuc.toml")
    return replace(nd, id="thu-366", bands=replace(nd.bands, conditions=(Condition("B", 100),)))


@dataclass
class Case:
    """A change to the clean form and to its context; ``cell`` = ("row", i, key) | ("header", key) | ""."""

    kind: str
    change: Callable[[FormResult, dict[str, Any]], None]
    code: str | None  # None: the decision finds nothing
    cell: Any = ""
    outcome: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _people(n: int = 6, unit: str = "PNV") -> dict[str, Person]:
    people = {
        f"PNV{i:03d}": Person(f"PNV{i:03d}", f"Nguyễn Văn {i}", unit, "CONG_CHUC", "CBCC", "CBCC", date(1985, 3, 14))
        for i in range(1, n + 1)
    }
    people["PNV002"] = replace(people["PNV002"], full_name="Lê Thị Mai", birth_date=date(1988, 5, 12))
    people["PTP001"] = Person("PTP001", "Phạm Văn Tư", "PTP", "CONG_CHUC", "CBCC", "CBCC")
    people["PNV900"] = Person("PNV900", "Trần Văn Hùng", unit, "TRUONG_PHONG", "CBCC", "CBCC")
    people["PTP900"] = Person("PTP900", "Đỗ Văn Năm", "PTP", "TRUONG_PHONG", "CBCC", "CBCC")  # PTP's own head
    return people


def _registry(staff: int = 6, **person_changes: Any) -> Registry:
    units = {
        "PNV": Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG"),
        "PTP": Unit("PTP", "Phòng Tư pháp", "CHINH_QUYEN", "PHONG"),
    }
    people = _people(staff)
    for code, changes in person_changes.items():
        people[code] = replace(people[code], **changes)
    return Registry(units=units, people=people, version=1)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(cwd=tmp_path_factory.mktemp("work"), env={})


@pytest.fixture(scope="module")
def clean(
    template_dir: Callable[[Any], Path], tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> dict[str, FormResult]:
    """A clean 6-person list of PNV (02) and a clean form of PNV002 (01), read once."""
    from conftest import _HEADER_01, _HEADER_02
    from helpers import default_criteria

    from danhgia_batch import layout
    from danhgia_batch.read import read_forms
    from danhgia_batch.templates import fill_individual, fill_unit_list

    out = tmp_path_factory.mktemp("clean")
    rows = [valid_row(person_code=f"PNV{i:03d}", full_name=f"Nguyễn Văn {i}", score=80) for i in range(1, 7)]
    rows[1] = {**rows[1], "full_name": "Lê Thị Mai", "birth_date": date(1988, 5, 12)}
    list_path = fill_unit_list(template_dir(None) / layout.FILE_NAMES["02"], out / "ds.xlsx", _HEADER_02, rows)
    form_path = fill_individual(
        template_dir(None) / layout.FILE_NAMES["01"],
        out / "phieu.xlsx",
        _HEADER_01,
        default_criteria(None),
        {"self_grade": "B", "final_grade": "B"},
    )
    forms = {f.kind: f for f in read_forms([list_path, form_path], settings)}
    assert forms["02"].issues == [] and forms["01"].issues == []
    return forms


# ---------------------------------------------------------------- changes


def row(i: int, **changes: Any) -> Callable[[FormResult, dict[str, Any]], None]:
    def change(form: FormResult, ctx: dict[str, Any]) -> None:
        form.rows[i] = replace(form.rows[i], **changes)

    return change


def header(**changes: Any) -> Callable[[FormResult, dict[str, Any]], None]:
    def change(form: FormResult, ctx: dict[str, Any]) -> None:
        form.header = replace(form.header, **changes)

    return change


def ctx(**changes: Any) -> Callable[[FormResult, dict[str, Any]], None]:
    def change(form: FormResult, context: dict[str, Any]) -> None:
        context.update(changes)

    return change


def both(*changes: Callable[[FormResult, dict[str, Any]], None]) -> Callable[[FormResult, dict[str, Any]], None]:
    def change(form: FormResult, context: dict[str, Any]) -> None:
        for c in changes:
            c(form, context)

    return change


def framework(fid: str) -> Callable[[FormResult, dict[str, Any]], None]:
    def change(form: FormResult, context: dict[str, Any]) -> None:
        form.framework_id = fid

    return change


def led_by(i: int, led_units: int) -> Callable[[FormResult, dict[str, Any]], None]:
    """Row ``i`` a deputy (CAP_PHO) who typed ``led_units`` % for the units they run."""

    def change(form: FormResult, context: dict[str, Any]) -> None:
        r = form.rows[i]
        inputs = {"assigned": Decimal(1), "completed": Decimal(1), "led_units": Decimal(led_units)}
        form.rows[i] = replace(
            r, position_code="CAP_PHO", inputs=inputs, cells={**r.cells, "kpi_led_units": f"X{r.row}"}
        )

    return change


def all_rows(**changes: Any) -> Callable[[FormResult, dict[str, Any]], None]:
    def change(form: FormResult, context: dict[str, Any]) -> None:
        form.rows = [replace(r, **changes) for r in form.rows]

    return change


def scores(*totals: int, grade: str = "A") -> Callable[[FormResult, dict[str, Any]], None]:
    """Final totals per row (final parts left as read: the rules use the totals)."""

    def change(form: FormResult, context: dict[str, Any]) -> None:
        form.rows = [
            replace(r, final_total=Decimal(t), final_grade=grade, self_total=Decimal(t), self_grade=grade)
            for r, t in zip(form.rows, totals, strict=False)
        ]

    return change


def reader_issue(code: str) -> Callable[[FormResult, dict[str, Any]], None]:
    def change(form: FormResult, context: dict[str, Any]) -> None:
        form.issues.append(make_issue(code, file=form.path.name, sheet=form.sheet, cell="I17"))

    return change


def _place(**kw: Any) -> PlaceList:
    base: dict[str, Any] = {
        "id": 7,
        "file_id": 70,
        "file_name": "truoc.xlsx",
        "decider_position": "TRUONG_PHONG",
        "decider_name": "Trần Văn Hùng",
        "person_code": "",
        "version": 1,
        "status": "valid",
        "arrival": datetime(2022, 1, 27, 9, 0),
    }
    base.update(kw)
    return PlaceList(**base)


def other_form_with_a(form: FormResult, context: dict[str, Any]) -> None:
    """The decider's earlier form of PNV001 graded A; this one (PNV002) graded A too: 2 A in a
    group of 2 (letter §2.5.a: a group under 5 may have one A)."""
    mine = form.rows[0]
    form.rows[0] = replace(mine, final_total=Decimal(95), final_grade="A", self_total=Decimal(95), self_grade="A")
    other = replace(form.rows[0], person_code="PNV001", full_name="Nguyễn Văn 1")
    context["place"] = (_place(person_code="PNV001"),)
    context["form_rows"] = {7: [other]}


def overlap_list(conflict: bool) -> Callable[[FormResult, dict[str, Any]], None]:
    """PNV002 is already on the decider's list (02) of the unit; with ``conflict``, graded C there."""

    def change(form: FormResult, context: dict[str, Any]) -> None:
        lst = replace(form.rows[0], final_grade="C" if conflict else form.rows[0].final_grade)
        context["others"] = (_place(id=9, file_id=90, file_name="ds.xlsx"),)
        context["other_rows"] = {9: [lst]}

    return change


def _dates() -> dict[str, date]:
    s = load_settings(cwd=Path("/"), env={})
    return {
        "decision": deadline_for(PERIOD, "decision", s),
        "self": deadline_for(PERIOD, "self_assessment", s),
    }


D = _dates()
LATE = datetime(2022, 3, 20, 9, 0)
REG = {"registry": _registry()}

CASES: dict[str, Case] = {
    # ---- the clean forms and outcomes
    "list clean": Case("02", ctx(), None, outcome="accepted"),
    "form clean": Case("01", ctx(), None, outcome="accepted"),
    "list clean with registry": Case("02", ctx(**REG), None, outcome="accepted"),
    "form clean with registry": Case("01", ctx(**REG), None, outcome="accepted"),
    "reader issue passes through": Case("02", reader_issue("score-range"), "score-range", "I17", "rejected"),
    # ---- grades (letter §2.5)
    "list grade above band": Case("02", row(0, final_grade="A"), "grade-above-band", ("row", 0, "final_grade")),
    "list self grade above band": Case("02", row(0, self_grade="A"), "self-grade-above-band", ("row", 0, "self_grade")),
    "list grade below band": Case(
        "02", row(2, final_grade="C"), "grade-below-band-no-reason", ("row", 2, "final_grade")
    ),
    "list kxl without reason": Case("02", row(3, final_grade="KXL"), "kxl-no-reason", ("row", 3, "note")),
    "list grade without score": Case("02", row(1, final_total=None), "grade-missing-score", ("row", 1, "final_grade")),
    "list self grade without score": Case(
        "02", row(1, self_total=None), "grade-missing-score", ("row", 1, "self_grade")
    ),
    "form grade above band": Case("01", row(0, final_grade="A"), "grade-above-band", ("row", 0, "final_grade")),
    "form self grade above band": Case("01", row(0, self_grade="A"), "self-grade-above-band", ("row", 0, "self_grade")),
    "form grade below band": Case(
        "01", row(0, final_grade="C"), "grade-below-band-no-reason", ("row", 0, "final_grade")
    ),
    "form kxl without reason": Case("01", row(0, final_grade="KXL"), "kxl-no-reason", ("row", 0, "note")),
    # ---- the A-quota (letter §2.5.a)
    "list quota exceeded": Case(
        "02", scores(96, 95, 94, 93, 92, 91), "quota-exceeded", ("row", 1, "final_grade"), "invalid"
    ),
    "list quota per group": Case(
        "02", both(scores(96, 95, 94, 93, 92, 91), all_rows(group="VC")), "quota-exceeded", ("row", 1, "final_grade")
    ),
    "list quota within limit": Case(
        "02",
        row(0, final_total=Decimal(96), final_grade="A", self_total=Decimal(96), self_grade="A"),
        None,
        outcome="accepted",
    ),
    "form quota over the decider's forms": Case(
        "01", other_form_with_a, "quota-unit-exceeded", ("row", 0, "final_grade"), "invalid"
    ),
    "list of 4 with 2 A in two groups (small unit total)": Case(
        "02",
        both(
            lambda form, ctx: form.rows.__delitem__(slice(4, None)),
            row(0, final_total=Decimal(96), final_grade="A", self_total=Decimal(96), self_grade="A"),
            row(1, final_total=Decimal(95), final_grade="A", self_total=Decimal(95), self_grade="A", group="VC"),
        ),
        "quota-unit-exceeded",
        ("row", 1, "final_grade"),
        "invalid",
    ),
    # ---- authority (letter §2.2)
    "list unknown position": Case(
        "02", row(0, position_code="KHONG_CO"), "authority-unknown-position", ("row", 0, "position_code")
    ),
    "list wrong decider": Case(
        "02", header(decider_position="CT_UBND_Q"), "authority-decider", ("row", 0, "position_code")
    ),
    "list evaluator required (registry size 20)": Case(
        "02", ctx(registry=_registry(20)), "authority-evaluator-required", ("row", 0, "evaluator_position")
    ),
    "list wrong evaluator": Case(
        "02",
        row(0, evaluator_position="CONG_CHUC", evaluator_name="Ai Đó"),
        "authority-evaluator",
        ("row", 0, "evaluator_position"),
    ),
    "form unknown position": Case(
        "01", row(0, position_code="KHONG_CO"), "authority-unknown-position", ("row", 0, "position_code")
    ),
    "form wrong decider": Case(
        "01", header(decider_position="CT_UBND_Q"), "authority-decider", ("row", 0, "position_code")
    ),
    "form wrong evaluator": Case(
        "01",
        row(0, evaluator_position="CONG_CHUC", evaluator_name="Ai Đó"),
        "authority-evaluator",
        ("row", 0, "evaluator_position"),
    ),
    "form evaluator required (registry size 20)": Case(
        "01", ctx(registry=_registry(20)), "authority-evaluator-required", ("row", 0, "evaluator_position")
    ),
    # ---- deadlines (letter §2.3)
    "list late decision": Case(
        "02",
        both(header(decision_date=D["decision"].replace(day=D["decision"].day + 1)), ctx(arrival=LATE)),
        "late-decision",
        ("header", "decision_date"),
        "accepted",
    ),
    "list late arrival": Case("02", ctx(arrival=LATE), "late-arrival", "", "accepted"),
    "list late self assessment": Case(
        "02",
        both(
            row(0, self_date=D["self"].replace(day=D["self"].day + 1)),
            header(decision_date=date(2022, 2, 20)),
            ctx(arrival=LATE),
        ),
        "late-self-assessment",
        ("row", 0, "self_date"),
    ),
    "list decision after arrival": Case(
        "02", header(decision_date=date(2022, 1, 29)), "date-after-arrival", ("header", "decision_date")
    ),
    "list self date after arrival": Case(
        "02", row(0, self_date=date(2022, 1, 29)), "date-after-arrival", ("row", 0, "self_date")
    ),
    "list decision outside period": Case(
        "02", header(decision_date=date(2021, 12, 1)), "date-outside-period", ("header", "decision_date")
    ),
    "list self date outside period": Case(
        "02", row(0, self_date=date(2021, 12, 1)), "date-outside-period", ("row", 0, "self_date")
    ),
    "list decision before self assessment": Case(
        "02",
        both(row(0, self_date=date(2022, 1, 27)), header(decision_date=date(2022, 1, 26))),
        "date-order",
        ("row", 0, "self_date"),
    ),
    "form late arrival": Case("01", ctx(arrival=LATE), "late-arrival", "", "accepted"),
    "form decision after arrival": Case(
        "01", header(decision_date=date(2022, 1, 29)), "date-after-arrival", ("header", "decision_date")
    ),
    "form decision outside period": Case(
        "01", header(decision_date=date(2021, 12, 1)), "date-outside-period", ("header", "decision_date")
    ),
    "form late decision": Case(
        "01",
        both(header(decision_date=D["decision"].replace(day=D["decision"].day + 1)), ctx(arrival=LATE)),
        "late-decision",
        ("header", "decision_date"),
    ),
    # ---- registry cross-checks (SPEC §3)
    "list unit unknown": Case(
        "02", both(ctx(**REG), header(unit_code="PXX")), "registry-unit-unknown", ("header", "unit_code"), "rejected"
    ),
    "list block mismatch": Case(
        "02", both(ctx(**REG), header(block="DANG")), "registry-block-mismatch", ("header", "block")
    ),
    "list person unknown": Case(
        "02", both(ctx(**REG), row(0, person_code="PNV999")), "registry-person-unknown", ("row", 0, "person_code")
    ),
    "list person inactive": Case(
        "02", ctx(registry=_registry(PNV003={"active": False})), "registry-person-inactive", ("row", 2, "person_code")
    ),
    "list person of another unit": Case(
        "02",
        ctx(registry=_registry(PNV004={"unit_code": "PTP"})),
        "registry-person-wrong-unit",
        ("row", 3, "person_code"),
    ),
    "list name typo": Case(
        "02", both(ctx(**REG), row(0, full_name="Nguyen Van 1")), "registry-name-typo", ("row", 0, "full_name")
    ),
    "list name mismatch": Case(
        "02", both(ctx(**REG), row(0, full_name="Hoàng Thị Yến")), "registry-name-mismatch", ("row", 0, "full_name")
    ),
    "list birth date mismatch": Case(
        "02",
        both(ctx(**REG), row(0, birth_date=date(1990, 1, 1))),
        "registry-birthdate-mismatch",
        ("row", 0, "birth_date"),
    ),
    "list group other than the registry's": Case(
        "02", both(ctx(**REG), row(0, group="VC")), "registry-group-mismatch", ("row", 0, "group")
    ),
    "list blank group takes the registry's": Case(
        "02", both(ctx(**REG), row(0, group="VC", group_given=False)), None, outcome="accepted"
    ),
    "list position other than the registry's": Case(
        "02",
        both(ctx(**REG), row(0, position_code="CAP_PHO")),
        "registry-position-mismatch",
        ("row", 0, "position_code"),
    ),
    "list category other than the registry's": Case(
        "02", both(ctx(**REG), row(0, category="VC")), "registry-category-mismatch", ("row", 0, "category")
    ),
    "form group other than the registry's": Case(
        "01", both(ctx(**REG), row(0, group="VC")), "registry-group-mismatch", ("row", 0, "group")
    ),
    "list person listed elsewhere": Case(
        "02",
        ctx(listed_elsewhere={"PNV005": "Phòng Tư pháp, Phạm Văn Tư"}, **REG),
        "registry-person-twice",
        ("row", 4, "person_code"),
    ),
    "form unit unknown": Case(
        "01", both(ctx(**REG), header(unit_code="PXX")), "registry-unit-unknown", ("header", "unit_code")
    ),
    "form person unknown": Case(
        "01", both(ctx(**REG), row(0, person_code="PNV999")), "registry-person-unknown", ("row", 0, "person_code")
    ),
    "form person inactive": Case(
        "01", ctx(registry=_registry(PNV002={"active": False})), "registry-person-inactive", ("row", 0, "person_code")
    ),
    "form person of another unit": Case(
        "01",
        ctx(registry=_registry(PNV002={"unit_code": "PTP"})),
        "registry-person-wrong-unit",
        ("row", 0, "person_code"),
    ),
    "form name mismatch": Case(
        "01", both(ctx(**REG), row(0, full_name="Hoàng Thị Yến")), "registry-name-mismatch", ("row", 0, "full_name")
    ),
    "form birth date mismatch": Case(
        "01",
        both(ctx(**REG), row(0, birth_date=date(1990, 1, 1))),
        "registry-birthdate-mismatch",
        ("row", 0, "birth_date"),
    ),
    "form person listed elsewhere": Case(
        "01",
        ctx(listed_elsewhere={"PNV002": "Phòng Tư pháp"}, **REG),
        "registry-person-twice",
        ("row", 0, "person_code"),
    ),
    # ---- the file's place: folder, lock, superseding
    "list in another unit's folder": Case(
        "02", ctx(unit_folder="PTP"), "unit-folder-mismatch", ("header", "unit_code"), "rejected"
    ),
    "form in another unit's folder": Case(
        "01", ctx(unit_folder="PTP"), "unit-folder-mismatch", ("header", "unit_code")
    ),
    "list in its own folder": Case("02", ctx(unit_folder="pnv"), None, outcome="accepted"),
    "list period locked": Case(
        "02", ctx(locks=(LockRow(1, "", True),)), "period-locked", ("header", "period"), "rejected"
    ),
    "list block locked": Case(
        "02", ctx(locks=(LockRow(1, "CHINH_QUYEN", True),)), "period-locked", ("header", "period")
    ),
    "list other block locked": Case("02", ctx(locks=(LockRow(1, "DANG", True),)), None, outcome="accepted"),
    "list period reopened": Case(
        "02", ctx(locks=(LockRow(1, "", True), LockRow(2, "", False))), None, outcome="accepted"
    ),
    "form period locked": Case("01", ctx(locks=(LockRow(1, "", True),)), "period-locked", ("header", "period")),
    "list supersedes an earlier list": Case("02", ctx(place=(_place(),)), "list-superseded", "", "accepted"),
    "form supersedes an earlier form": Case("01", ctx(place=(_place(person_code="PNV002"),)), "list-superseded", ""),
    "list of another decider supersedes nothing": Case(
        "02", ctx(place=(_place(decider_name="Lê Văn Khác"),)), None, outcome="accepted"
    ),
    "list arrived before a recorded one": Case(
        "02", ctx(place=(_place(arrival=datetime(2022, 1, 28, 10, 0)),)), None, outcome="accepted"
    ),
    # ---- a person on a list and on a form (letter §2.6)
    "form covered by a list": Case("01", overlap_list(False), "form-covered-by-list", "", "accepted"),
    "form differing from the list": Case(
        "01", overlap_list(True), "form-list-conflict", ("row", 0, "final_grade"), "accepted"
    ),
    # SPEC §13: regimes (``regimes``: the ids in force instead of the default hn-1841)
    "list quarter under the monthly letter": Case(
        "02", header(period="2022-Q1"), "regime-none", ("header", "period"), "rejected"
    ),
    "list of categories under two regimes": Case(
        "02",
        both(header(period="2026-03"), row(2, category="VC", group="VC"), ctx(regimes=BOTH)),
        "regime-mixed",
        ("header", "period"),
        "rejected",
    ),
    "list of the letter's framework under Decree 335": Case(
        "02", both(header(period="2026-03"), ctx(regimes=BOTH)), "regime-framework", ("header", "period"), "rejected"
    ),
    "form of the letter's framework under Decree 335": Case(
        "01", both(header(period="2026-Q1"), ctx(regimes=BOTH)), "regime-framework", ("header", "period"), "rejected"
    ),
    "list grading a disciplined person above D under Decree 335": Case(
        "02",
        both(header(period="2026-03"), row(0, flags=("discipline",)), ctx(regimes=BOTH)),
        "grade-cap",
        ("row", 0, "final_grade"),
        "rejected",
    ),
    "list grading B a person with a task late under a regime needing every task on time": Case(
        "02",
        both(
            header(period="2026-03"),
            row(0, inputs={"assigned": Decimal(10), "on_time": Decimal(9)}),
            ctx(extra_regime=_on_time_regime()),
        ),
        "grade-condition",
        ("row", 0, "final_grade"),
        "rejected",
    ),
    "list where a deputy's unit result ignores a D of the unit under Decree 335": Case(
        "02",
        both(
            header(period="2026-03"), framework("ND335-CC"), led_by(0, 100), row(1, final_grade="D"), ctx(regimes=BOTH)
        ),
        "kpi-led-unit-d",
        ("row", 0, "kpi_led_units"),
        "rejected",
    ),
    "list after the regime file changed since publication": Case(
        "02", ctx(period_regimes=(("hn-1841", "0" * 64),)), "regime-changed", ("header", "period"), "accepted"
    ),
}


def _cell(form: FormResult, where: Any) -> str:
    if isinstance(where, str):
        return where
    if where[0] == "row":
        return form.rows[where[1]].cells.get(where[2], "")
    return form.header.cells.get(where[1], "")


def _decide(case: Case, clean: dict[str, FormResult], settings: Settings) -> tuple[FormResult, Any]:
    form = copy.deepcopy(clean[case.kind])
    given: dict[str, Any] = {}
    case.change(form, given)
    arrival = given.pop("arrival", ARRIVAL)
    folder = given.pop("unit_folder", None)
    use = given.pop("regimes", None)
    if use is not None:
        settings = replace(settings, catalogue=replace(settings.catalogue, in_force=use))
    extra = given.pop("extra_regime", None)
    if extra is not None:
        regimes = {**settings.catalogue.regimes, extra.id: extra}
        settings = replace(
            settings, catalogue=replace(settings.catalogue, regimes=regimes, in_force=("hn-1841", extra.id))
        )
    context = DecisionContext(**{k: v for k, v in given.items() if k not in ("others", "other_rows")})
    if "others" in given:
        context = replace(context, others=given["others"], other_rows=given["other_rows"])
    return form, decide(form, context, settings, FileFacts(99, form.path.name, arrival, folder))


@pytest.mark.parametrize("name", list(CASES))
def test_decision_table(name: str, clean: dict[str, FormResult], settings: Settings) -> None:
    case = CASES[name]
    form, rec = _decide(case, clean, settings)
    notes = [(i.cell, i.code) for lv in rec.overlap_notes.values() for i in lv] if rec.overlap_notes else []
    found = [(i.cell, i.code) for i in rec.issues] + notes
    if case.code is None:
        assert found == []
    else:
        assert (_cell(form, case.cell), case.code) in found
    if case.outcome is not None:
        assert rec.outcome == case.outcome, [(i.cell, i.code) for i in rec.issues]


def _decision_codes() -> set[str]:
    """Codes the decision itself can give: those named in the rules, the registry cross-checks
    and the decision module (the reader's pass through unchanged)."""
    files = [*PACKAGE.glob("rules/*.py"), PACKAGE / "registry/crosscheck.py", PACKAGE / "pipeline/decide.py"]
    named = {m for f in files for m in re.findall(r'"([a-z]+(?:-[a-z]+)+)"', f.read_text(encoding="utf-8"))}
    # file-duplicate is decided before reading (decide_duplicate), not by decide()
    return (named & set(CATALOGUE)) - {"file-duplicate"}


def test_the_table_covers_every_code_of_the_decision() -> None:
    covered = {c.code for c in CASES.values() if c.code}
    assert _decision_codes() - covered == set()
    assert len(CASES) >= 60
