"""ledger stage: SQLAlchemy Core schema, migrations and the :class:`Ledger` (SQLite / PostgreSQL).

The reports never import this package: they receive the views (:class:`~danhgia_batch.models.UnitView`,
:class:`~danhgia_batch.models.PeriodView`, :class:`~danhgia_batch.models.YearRow`) it builds.
"""

from .claims import Claim, FileRecord
from .store import ClaimLost, ContextChanged, Ledger, Record, Recorded, open_ledger, open_ledger_read_only

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
