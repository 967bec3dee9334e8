"""Grades and score bands (letter §2.5, SPEC §6).

A ≥ 90, B ≥ 70, C ≥ 50, D below (thresholds from ``[grading]``). The band is computed from
the exact total (SPEC §5: 89.99 is B even if a cell displays "90"). A grade may be at most the
band of its total; a final grade below its band needs a reason in "Ghi chú" unless the A-quota
forced it; ``KXL`` (not ranked) needs a reason and counts nowhere.

Missing or invalid values are the reader's issues: a check whose value is ``None`` is skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..issues import Issue, make_issue
from ..models import EvaluationRow
from .common import Where, fmt_score

RANKED_GRADES = ("A", "B", "C", "D")  # best first
NOT_RANKED = "KXL"
_RANK = {"A": 4, "B": 3, "C": 2, "D": 1}


def grade_rank(grade: str) -> int:
    """A=4 > B=3 > C=2 > D=1; anything else (KXL, empty, unknown) is 0."""
    return _RANK.get(grade, 0)


def _bound(value: float) -> Decimal:
    # Decimal(str(...)) keeps a configured 70.1 as 70.1, not its binary approximation.
    return Decimal(str(value))


def grade_for(total: Decimal, grading: Any) -> str:
    """The band of ``total`` (letter §2.5): "A", "B", "C" or "D".

    Never raises: a total above 100 is still "A" (the range itself is the reader's
    ``score-range`` issue) and a value that is not a number (NaN, garbage) is "D".

    Args:
        total: the exact total (``Decimal``; int/float/str are converted through ``str``).
        grading: ``settings.grading`` (lower bounds ``a``, ``b``, ``c``).
    """
    try:
        value = total if isinstance(total, Decimal) else Decimal(str(total))
        if value.is_nan():
            return "D"
        for grade, bound in (("A", grading.a), ("B", grading.b), ("C", grading.c)):
            if value >= _bound(bound):
                return grade
    except (InvalidOperation, TypeError, ValueError):
        return "D"
    return "D"


def check_grades(
    rows: Iterable[EvaluationRow],
    settings: Any,
    *,
    where: Where | None = None,
    quota_full_groups: Collection[str] = (),
) -> list[Issue]:
    """Grade rules of letter §2.5 on each row.

    Args:
        rows: the rows of one list (or one individual form).
        settings: the run's settings (``settings.grading``).
        where: file, sheet and column labels for the issues.
        quota_full_groups: subject groups whose A count already reaches their quota limit;
            an A-band person graded B there needs no reason (the quota explains it).
    """
    where = where or Where()
    out: list[Issue] = []
    for row in rows:
        out.extend(_check_self(row, settings, where))
        out.extend(_check_final(row, settings, where, quota_full_groups))
    return out


def _check_self(row: EvaluationRow, settings: Any, where: Where) -> list[Issue]:
    grade = row.self_grade
    if grade not in _RANK:
        return []  # KXL, empty or unknown: nothing to compare (unknown codes are the reader's)
    if row.self_total is None:
        return [make_issue("grade-missing-score", **where.row(row, "self_grade"), value=grade)]
    band = grade_for(row.self_total, settings.grading)
    if grade_rank(grade) > grade_rank(band):
        # letter §2.5: the self grade is at most the band of the self score
        return [
            make_issue(
                "self-grade-above-band",
                **where.row(row, "self_grade"),
                value=grade,
                score=fmt_score(row.self_total),
                expected=band,
            )
        ]
    return []


def _check_final(row: EvaluationRow, settings: Any, where: Where, quota_full_groups: Collection[str]) -> list[Issue]:
    grade = row.final_grade
    reason = row.note.strip()
    if grade == NOT_RANKED:
        # letter §2.5 / SPEC §6: KXL needs a reason; the cell to fix is "Ghi chú"
        if reason:
            return []
        key = "note" if "note" in row.cells else "final_grade"
        return [make_issue("kxl-no-reason", **where.row(row, key), value=grade)]
    if grade not in _RANK:
        return []
    if row.final_total is None:
        return [make_issue("grade-missing-score", **where.row(row, "final_grade"), value=grade)]
    band = grade_for(row.final_total, settings.grading)
    if grade_rank(grade) > grade_rank(band):
        # letter §2.5: the final grade is at most the band of the final (authority) score
        return [
            make_issue(
                "grade-above-band",
                **where.row(row, "final_grade"),
                value=grade,
                score=fmt_score(row.final_total),
                expected=band,
            )
        ]
    if grade_rank(grade) < grade_rank(band) and not reason:
        # SPEC §6: lowered below the band without a reason, except an A-band person moved to B
        # in a group whose A count already reaches the quota (letter §2.5.a)
        group = row.group or row.category
        if band == "A" and grade == "B" and group in quota_full_groups:
            return []
        return [make_issue("grade-below-band-no-reason", **where.row(row, "final_grade"), value=grade, expected=band)]
    return []
