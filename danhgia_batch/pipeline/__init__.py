"""pipeline stage: ties intake, reader, rules, registry, ledger and reports together.

Only this package (and ``watch``/``demo`` on top of it) calls several stages. Its names are
imported on first use (PEP 562): ``danhgia check`` imports :mod:`.check` without the
process, admin and report modules (issue 19).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .admin import (
        LockResult,
        StatusResult,
        normalise_period,
        period_status,
        publish_period,
        regenerate_reports,
        reopen_period,
        year_view,
    )
    from .process import OUTCOME_LABELS, process_inbox, summary_rows
    from .results import BatchResult, FileResult

_WHERE = {
    "LockResult": "admin",
    "StatusResult": "admin",
    "normalise_period": "admin",
    "period_status": "admin",
    "publish_period": "admin",
    "regenerate_reports": "admin",
    "reopen_period": "admin",
    "year_view": "admin",
    "OUTCOME_LABELS": "process",
    "process_inbox": "process",
    "summary_rows": "process",
    "BatchResult": "results",
    "FileResult": "results",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "OUTCOME_LABELS",
    "BatchResult",
    "FileResult",
    "LockResult",
    "StatusResult",
    "normalise_period",
    "period_status",
    "process_inbox",
    "publish_period",
    "regenerate_reports",
    "reopen_period",
    "summary_rows",
    "year_view",
]
