"""ledger stage: SQLAlchemy Core schema, migrations and the :class:`Ledger` (SQLite / PostgreSQL).

The reports never import this package: they receive the views (:class:`~danhgia_batch.models.UnitView`,
:class:`~danhgia_batch.models.PeriodView`, :class:`~danhgia_batch.models.YearRow`) it builds.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .claims import Claim, FileRecord
    from .store import ClaimLost, ContextChanged, Ledger, Record, Recorded, open_ledger, open_ledger_read_only

# Imported on first use (PEP 562): importing ``ledger.codec`` (pure conversions, used by the
# decision) must not import SQLAlchemy, so that ``danhgia check`` without a ledger never does.
_HOME = {"Claim": "claims", "FileRecord": "claims"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME.get(name, 'store')}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Claim",
    "ClaimLost",
    "ContextChanged",
    "FileRecord",
    "Ledger",
    "Record",
    "Recorded",
    "open_ledger",
    "open_ledger_read_only",
]
