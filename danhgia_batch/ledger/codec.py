"""Conversions between the typed values of :mod:`danhgia_batch.models` and ledger rows.

Scores are stored as integer hundredths: SQLite has no decimal type, and a float would turn
89.99 into 89.98999… (SPEC §5: the grade follows the exact total).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any

from ..issues import Issue, Severity
from ..models import EvaluationRow

HUNDRED = Decimal(100)


def to_hundredths(value: Decimal | None) -> int | None:
    """Decimal score → integer hundredths (``None`` stays ``None``)."""
    if value is None:
        return None
    return int((Decimal(value) * HUNDRED).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_hundredths(value: int | None) -> Decimal | None:
    """Integer hundredths → Decimal with two decimals."""
    if value is None:
        return None
    return (Decimal(int(value)) / HUNDRED).quantize(Decimal("0.01"))


def parts_to_json(parts: Mapping[str, Decimal]) -> dict[str, int | None]:
    return {k: to_hundredths(v) for k, v in parts.items()}


def parts_from_json(data: Mapping[str, Any] | None) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for k, v in (data or {}).items():
        d = from_hundredths(v)
        if d is not None:
            out[k] = d
    return out


@lru_cache(maxsize=4096)
def norm_text(value: str) -> str:
    """Names compared for 'the same decider': NFC, spacing collapsed, casefolded (cached: a
    school's forms compare each decider name once per recorded form, issue 19)."""
    return " ".join(unicodedata.normalize("NFC", value or "").split()).casefold()


def issue_to_row(issue: Issue, file_id: int) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "code": issue.code,
        "severity": str(issue.severity),
        "sheet": issue.sheet,
        "cell": issue.cell,
        "row": issue.row,
        "column_name": issue.column,
        "value": issue.value,
        "message": issue.message,
    }


def issue_from_row(row: Any, file_name: str = "") -> Issue:
    return Issue(
        code=row.code,
        severity=Severity(row.severity),
        message=row.message,
        file=file_name,
        sheet=row.sheet,
        cell=row.cell,
        row=row.row,
        column=row.column_name,
        value=row.value,
    )


def evaluation_to_row(ev: EvaluationRow, list_id: int, period: str) -> dict[str, Any]:
    """The ``evaluations`` row of ``ev`` on list ``list_id`` of ``period``."""
    criteria = {k: [to_hundredths(a), to_hundredths(b)] for k, (a, b) in ev.criteria.items()}
    return {
        "list_id": list_id,
        "period": period,
        "row": ev.row,
        "person_code": ev.person_code,
        "full_name": ev.full_name,
        "birth_date": ev.birth_date,
        "position_title": ev.position_title,
        "position_code": ev.position_code,
        "category": ev.category,
        "grp": ev.group,
        "self_parts": parts_to_json(ev.self_parts),
        "final_parts": parts_to_json(ev.final_parts),
        "criteria": criteria,
        "self_total": to_hundredths(ev.self_total),
        "final_total": to_hundredths(ev.final_total),
        "self_grade": ev.self_grade,
        "final_grade": ev.final_grade,
        "self_date": ev.self_date,
        "evaluator_name": ev.evaluator_name,
        "evaluator_position": ev.evaluator_position,
        "note": ev.note,
        "cells": dict(ev.cells),
        "inputs": (
            {"products": {k: to_hundredths(v) for k, v in ev.inputs.items()}, "flags": list(ev.flags)}
            if ev.inputs or ev.flags
            else None
        ),
    }


def evaluation_from_row(row: Any) -> EvaluationRow:
    criteria = {
        k: (from_hundredths(v[0]), from_hundredths(v[1])) for k, v in (row.criteria or {}).items() if len(v) == 2
    }
    return EvaluationRow(
        row=row.row,
        person_code=row.person_code,
        full_name=row.full_name,
        position_code=row.position_code,
        category=row.category,
        group=row.grp,
        birth_date=row.birth_date,
        position_title=row.position_title,
        self_parts=parts_from_json(row.self_parts),
        final_parts=parts_from_json(row.final_parts),
        self_total=from_hundredths(row.self_total),
        final_total=from_hundredths(row.final_total),
        self_grade=row.self_grade,
        final_grade=row.final_grade,
        self_date=row.self_date,
        evaluator_name=row.evaluator_name,
        evaluator_position=row.evaluator_position,
        note=row.note,
        criteria=criteria,
        cells=dict(row.cells or {}),
        **_inputs_from(getattr(row, "inputs", None)),
    )


def flags_from(value: Any) -> tuple[str, ...]:
    """The cap flags ("discipline", …) of an evaluation from its ``inputs`` column."""
    return tuple(_inputs_from(value).get("flags", ()))


def _inputs_from(value: Any) -> dict[str, Any]:
    """``inputs`` and ``flags`` of an evaluation from the ``inputs`` column (SPEC §13)."""
    if not isinstance(value, dict):
        return {}
    products = {k: from_hundredths(v) for k, v in (value.get("products") or {}).items()}
    return {"inputs": {k: v for k, v in products.items() if v is not None}, "flags": tuple(value.get("flags") or ())}
