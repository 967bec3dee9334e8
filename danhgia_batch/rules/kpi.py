"""Band caps of a regime (SPEC §13, Decree 335): a person whose cap flag is marked
(disciplined — reprimand or worse — in the year; degradation concluded) gets at most the cap's
grade; a higher final grade is ``grade-cap`` at the final grade's cell. The computed task
part itself is :mod:`danhgia_batch.kpi` (a base module: the reader recomputes it)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import Any

from ..issues import Issue, make_issue
from ..kpi import DEDUCTION, LED_UNITS_ANY_D, TaskInputs, TaskResult, input_problems, task_points
from ..models import EvaluationRow
from .common import Where

GRADE_ORDER = {"A": 4, "B": 3, "C": 2, "D": 1}

__all__ = [
    "TaskInputs",
    "TaskResult",
    "capped",
    "check_caps",
    "check_conditions",
    "check_led_units",
    "input_problems",
    "task_points",
]


def capped(grade: str, flags: Collection[str], caps: Sequence[Any]) -> str:
    """``grade`` lowered to the cap of each marked flag (a year's grade from the average score
    of a person disciplined in the year is D: Decree 335)."""
    for cap in caps:
        if cap.flag in flags and GRADE_ORDER.get(grade, 0) > GRADE_ORDER[cap.grade]:
            grade = cap.grade
    return grade


def check_caps(rows: Sequence[EvaluationRow], caps: Sequence[Any], where: Where | None = None) -> list[Issue]:
    """``grade-cap`` for each row whose final grade is above the cap of a marked flag
    (``caps``: :class:`~danhgia_batch.regimes.Cap`; ``row.flags``: the marked flags)."""
    where = where or Where()
    out: list[Issue] = []
    for row in rows:
        for cap in caps:
            flag, grade, label = cap.flag, cap.grade, cap.label
            if flag in row.flags and GRADE_ORDER.get(row.final_grade, 0) > GRADE_ORDER[grade]:
                out.append(
                    make_issue(
                        "grade-cap",
                        **where.row(row, "final_grade"),
                        value=row.final_grade,
                        expected=grade,
                        detail=label,
                    )
                )
    return out


def check_conditions(
    rows: Sequence[EvaluationRow], conditions: Sequence[Any], where: Where | None = None
) -> list[Issue]:
    """``grade-condition`` for each row graded at or above a condition's grade whose products
    done on time are below its share (366-QĐ/TW: A and B need every task on time; C allows
    ≤ 20 % late). Rows without the product columns are not judged here."""
    where = where or Where()
    out: list[Issue] = []
    for row in rows:
        assigned = row.inputs.get("assigned")
        if not assigned:
            continue
        on_time = max(
            Decimal(0), Decimal(row.inputs.get("on_time") or 0) - DEDUCTION * Decimal(row.inputs.get("delays") or 0)
        )
        share = on_time / Decimal(assigned) * 100
        for c in conditions:
            if GRADE_ORDER.get(row.final_grade, 0) >= GRADE_ORDER[c.grade] and share < Decimal(str(c.min_on_time)):
                out.append(
                    make_issue(
                        "grade-condition",
                        **where.row(row, "final_grade"),
                        value=row.final_grade,
                        expected=f"{Decimal(str(c.min_on_time)).normalize():f} %",
                        detail=f"{share.quantize(Decimal('0.01'))} %",
                        grade=c.grade,
                    )
                )
                break
    return out


def check_led_units(
    rows: Sequence[EvaluationRow],
    leaders: frozenset[str],
    unit_of: Callable[[EvaluationRow], str],
    where: Where | None = None,
) -> list[Issue]:
    """``kpi-led-unit-d`` at the "result of the units they run" cell of each leader or deputy
    who typed more than 50 % while someone of the unit they run, on the same list, is graded D
    (SPEC §13, Decree 335 as publicly implemented: 100 % if everyone under them is at least C,
    50 % if anyone is D).

    The product's reading: the people a leader runs are the rows of the same unit
    (``unit_of``: the registry's unit of the person, else the list's) whose position is not a
    leader's or deputy's. Units not on the list are not judged (their lists come separately)."""
    where = where or Where()
    graded_d: dict[str, list[str]] = {}
    for row in rows:
        if row.position_code not in leaders and row.final_grade == "D":
            graded_d.setdefault(unit_of(row), []).append(row.person_code or row.full_name)
    out: list[Issue] = []
    for row in rows:
        value = row.inputs.get("led_units")
        if row.position_code not in leaders or value is None or Decimal(value) <= LED_UNITS_ANY_D:
            continue
        under = graded_d.get(unit_of(row), [])
        if under:
            out.append(
                make_issue(
                    "kpi-led-unit-d",
                    **where.row(row, "kpi_led_units"),
                    value=f"{Decimal(value).normalize():f}",
                    expected=f"{LED_UNITS_ANY_D.normalize():f}",
                    detail=", ".join(under),
                )
            )
    return out
