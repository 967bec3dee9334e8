"""The parts of :class:`~.store.Ledger` behind the dashboard and the e-mails (issue 20): the
trend of the last periods, rejected files, registry contact addresses, and the record of every
message sent (:mod:`.mailing`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from ..models import RejectedFile, TrendPoint
from . import history, mailing
from .registry_rows import registry_version_for
from .retry import retrying


class OutreachMixin:
    """Dashboard queries and sent e-mails; a mixin of :class:`~.store.Ledger`."""

    engine: Engine

    @retrying
    def trend(
        self,
        period: str,
        blocks: Sequence[str | None],
        count: int = 12,
        areas: Mapping[str, Collection[str]] | None = None,
    ) -> dict[str | None, list[TrendPoint]]:
        """Unit states and grades of the last ``count`` periods up to ``period`` (dashboard), for
        each of ``blocks`` and each of ``areas`` (key → unit codes)."""
        with self.engine.connect() as conn:
            return history.trend(conn, history.recent_periods(conn, period, count), blocks, areas)

    @retrying
    def rejected_files(self, period: str) -> list[RejectedFile]:
        """Rejected files of ``period`` attributed to a unit, with their error workbooks."""
        with self.engine.connect() as conn:
            return history.rejected_files(conn, period)

    @retrying
    def contacts(self, period: str, kind: str = "unit") -> dict[str, str]:
        """E-mail addresses (as written) of units or people in the registry in force for ``period``."""
        with self.engine.connect() as conn:
            vid = registry_version_for(conn, period)
            return mailing.contacts(conn, vid, kind) if vid is not None else {}

    @retrying
    def claim_sending(self, m: mailing.Sending, now: datetime) -> tuple[str, int]:
        """Record the intent to send ``m`` (:func:`mailing.claim_sending`)."""
        try:
            with self.engine.begin() as conn:
                return mailing.claim_sending(conn, m, now)
        except IntegrityError:  # another process recorded the same message first
            with self.engine.begin() as conn:
                return mailing.claim_sending(conn, m, now)

    @retrying
    def finish_sending(self, sending_id: int, *, ok: bool, error: str = "", now: datetime) -> None:
        """Mark a claimed sending sent or failed."""
        with self.engine.begin() as conn:
            mailing.finish_sending(conn, sending_id, ok=ok, error=error, now=now)

    @retrying
    def sendings(self, period: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The e-mails recorded for ``period`` (reminders, notices)."""
        with self.engine.connect() as conn:
            return mailing.sendings(conn, period, kind)
