"""Band caps of a regime (SPEC §13, Decree 335): a person whose cap flag is marked
(disciplined — reprimand or worse — in the year; degradation concluded) gets at most the cap's
grade; a higher final grade is ``grade-cap`` at the final grade's cell. The computed task
part itself is :mod:`danhgia_batch.kpi` (a base module: the reader recomputes it)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..issues import Issue, make_issue
from ..kpi import DEDUCTION, TaskInputs, TaskResult, input_problems, task_points
from ..models import EvaluationRow
from .common import Where

GRADE_ORDER = {"A": 4, "B": 3, "C": 2, "D": 1}

__all__ = ["TaskInputs", "TaskResult", "check_caps", "check_conditions", "input_problems", "task_points"]


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
