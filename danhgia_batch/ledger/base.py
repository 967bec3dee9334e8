"""What every part of :class:`~.store.Ledger` shares: the engine, this run's worker id, the
registry and evaluation caches (the attributes :meth:`Ledger.__init__` sets)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from sqlalchemy import Engine

from ..errors import LedgerError
from ..models import EvaluationRow
from ..registry import Registry


class ClaimLost(LedgerError):
    """Another process took over a file this process was working on."""


class LedgerBase:
    """Attributes of a ledger; the parts (claims, recording, locks, reading) are mixins of it."""

    url: str
    engine: Engine
    reader: Engine  # the engine for transactions that only read (engine.read_only)
    stale_after: float
    worker: str
    _beat: datetime
    _registry: Registry | None
    _registry_id: int | None
    _units_only: Registry | None  # the units of a registry version, no people (the unit writer process)
    # list id → its decoded evaluation rows (never change once inserted); only committed
    # lists: ids of a rolled-back transaction may be reused (SQLite), see Ledger.record
    _evals: OrderedDict[int, list[EvaluationRow]]
    _evals_new: set[int]
    results_checked: bool  # the pipeline gave older lists their decision's results (migration 5)
