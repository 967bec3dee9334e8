"""Helpers shared by the rule modules: where an issue points, and Vietnamese formatting.

Every rule builds its issues with ``make_issue("<literal code>", **where.row(row, key), …)`` so
the catalogue test (tests/test_issues.py) sees each code it emits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import Framework
from ..layout import (
    INDIVIDUAL_HEADER,
    INDIVIDUAL_RESULTS,
    KIND_INDIVIDUAL,
    UNIT_LIST_HEADER,
    unit_list_columns,
)
from ..models import EvaluationRow, ListHeader

_ROW_RE = re.compile(r"(\d+)$")
# A framework with no parts gives the fixed (non-score) columns of template 02.
_NO_PARTS = Framework(id="", version="", name="", parts=())


def column_labels(kind: str) -> dict[str, str]:
    """Field key → the Vietnamese label the clerk sees, for template ``kind`` ("01"/"02")."""
    if kind == KIND_INDIVIDUAL:
        fields = (*INDIVIDUAL_HEADER, *INDIVIDUAL_RESULTS)
    else:
        fields = (*unit_list_columns(_NO_PARTS), *UNIT_LIST_HEADER)
    return {f.key: f.label for f in fields}


@dataclass(frozen=True)
class Where:
    """File, sheet and column labels of the form being checked; builds issue locations."""

    file: str = ""
    sheet: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: column_labels("02"))

    def row(self, row: EvaluationRow, key: str) -> dict[str, Any]:
        """Location kwargs of ``make_issue`` for cell ``key`` of ``row``."""
        return {
            "file": self.file,
            "sheet": self.sheet,
            "cell": row.cells.get(key, ""),
            "row": row.row,
            "column": self.labels.get(key, ""),
        }

    def header(self, header: ListHeader, key: str) -> dict[str, Any]:
        """Location kwargs of ``make_issue`` for header field ``key``."""
        cell = header.cells.get(key, "")
        m = _ROW_RE.search(cell)
        return {
            "file": self.file,
            "sheet": self.sheet,
            "cell": cell,
            "row": int(m.group(1)) if m else None,
            "column": self.labels.get(key, ""),
        }


def fmt_score(value: Decimal | None) -> str:
    """A score the Vietnamese way: decimal comma, no useless zeros (89,5 / 90)."""
    if value is None:
        return ""
    if not value.is_finite():
        return str(value)
    text = f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}".rstrip("0")
    return text.replace(".", ",")


def fmt_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def position_label(settings: Any, code: str) -> str:
    """Vietnamese name of position ``code`` (the code itself when unknown)."""
    return str(settings.codes.label("positions", code))


def position_labels(settings: Any, codes: tuple[str, ...] | list[str]) -> str:
    """'X hoặc Y' of the Vietnamese names of ``codes``."""
    return " hoặc ".join(position_label(settings, c) for c in codes)
