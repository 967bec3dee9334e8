"""Retry a ledger transaction through transient failures (issue 10 ¶3).

A PostgreSQL restart, a dropped connection or a SQLite ``database is locked`` after the busy
timeout are retried with exponential backoff; every retried method is one transaction that
is either committed or rolled back, and written so that running it again is harmless.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy.exc import DBAPIError, OperationalError

from ..errors import LedgerError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)  # about 16 s in all: a PostgreSQL restart fits in it


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure worth retrying (connection lost, server restarting, lock)."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def retrying(method: F) -> F:
    """Decorate a :class:`~.store.Ledger` method: retry transient failures, then raise LedgerError."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        delays = getattr(self, "retry_delays", DELAYS)
        for attempt in range(len(delays) + 1):
            try:
                return method(self, *args, **kwargs)
            except DBAPIError as exc:
                if not transient(exc) or attempt == len(delays):
                    raise LedgerError(f"Lỗi sổ cái ({method.__name__}): {exc.orig or exc}") from exc
                log.warning(
                    "ledger %s failed (%s); retry %d in %.1f s", method.__name__, exc, attempt + 1, delays[attempt]
                )
                time.sleep(delays[attempt])
        raise AssertionError("unreachable")

    return cast(F, wrapper)
