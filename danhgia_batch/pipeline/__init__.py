"""pipeline stage: ties intake, reader, rules, registry, ledger and reports together.

Only this package (and ``watch``/``demo`` on top of it) calls several stages.
"""

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
