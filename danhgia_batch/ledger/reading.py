"""Reading the :class:`~.store.Ledger`: files, lists, the views the reports consume, the
year view, pending roll-ups, and the watcher's per-period fingerprint."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..issues import Issue
from ..models import PeriodView, UnitView, YearRow
from . import claims as c
from . import queries as q
from . import schema as s
from . import views
from . import year as y
from .locks import LocksMixin
from .retry import retrying


class ReadingMixin(LocksMixin):
    """Files, lists and views."""

    @retrying
    def file(self, file_id: int) -> c.FileRecord:
        with self.reader.connect() as conn:
            return c.by_id(conn, file_id)

    @retrying
    def duplicate_of(self, sha256: str, inbox_path: str) -> c.FileRecord | None:
        """The recorded file that bytes ``sha256`` arriving at ``inbox_path`` would be recorded a
        duplicate of, as :meth:`claim` decides it (``None``: they would be read and decided)."""
        with self.reader.connect() as conn:
            original = c.original_of(conn, sha256)
        if original is None or not c.settled(original, inbox_path) or original.outcome == s.REJECTED:
            return None
        return original

    @retrying
    def files(self, *, period: str | None = None, outcome: str | None = None) -> list[c.FileRecord]:
        """Files in arrival order, optionally for one period / outcome."""
        q = select(s.files).order_by(s.files.c.arrival, s.files.c.id)
        if period is not None:
            q = q.where(s.files.c.period == period)
        if outcome is not None:
            q = q.where(s.files.c.outcome == outcome)
        with self.reader.connect() as conn:
            return [c.FileRecord.from_row(r) for r in conn.execute(q)]

    @retrying
    def file_issues(self, file_id: int) -> list[Issue]:
        with self.reader.connect() as conn:
            return q.issues_of(conn, [file_id]).get(file_id, [])

    @retrying
    def lists(self, *, period: str | None = None, unit_code: str | None = None) -> list[Any]:
        """Rows of ``lists`` (all statuses), for inspection and tests."""
        q = select(s.lists).order_by(s.lists.c.id)
        if period is not None:
            q = q.where(s.lists.c.period == period)
        if unit_code is not None:
            q = q.where(s.lists.c.unit_code == unit_code)
        with self.reader.connect() as conn:
            return list(conn.execute(q))

    @retrying
    def evaluation_count(self, *, period: str | None = None, active_only: bool = True) -> int:
        with self.reader.connect() as conn:
            return q.evaluation_count(conn, period, active_only)

    @retrying
    def people_listed(
        self,
        period: str,
        *,
        exclude: tuple[str, str, str] | None = None,
        persons: Iterable[str] | None = None,
    ) -> dict[str, str]:
        """Person code → "unit – decider" of the active lists of ``period`` holding them.

        ``exclude`` = (unit, decider position, decider name): the list about to be replaced;
        ``persons``: only these person codes (default everyone).
        """
        with self.reader.connect() as conn:
            return q.people_listed(conn, period, exclude, persons)

    @retrying
    def unit_view(self, period: str, unit_code: str) -> UnitView:
        """Everything the unit reports need for one unit and period."""
        registry = self.registry_for(period)
        with self.reader.connect() as conn:
            found = views.unit_views(conn, period, registry, unit_codes=[unit_code])
        return found.get(unit_code) or views.empty_unit_view(period, unit_code, registry)

    def period_view(self, period: str, block: str | None = None) -> PeriodView:
        """All units of a period (optionally one block): the input of the roll-ups."""
        return self.period_views(period, [block])[block]

    @retrying
    def period_views(
        self, period: str, blocks: Sequence[str | None], *, summary: bool = False
    ) -> dict[str | None, PeriodView]:
        """:meth:`period_view` of several blocks (``None``: the whole period) in one read.

        ``summary``: units as :func:`~.views.summarise` leaves them (no evaluation rows, the
        grades counted), read a batch of units at a time: roll-ups of a large period.
        """
        registry = self.registry_for(period)
        with self.reader.connect() as conn:
            found = views.unit_views_by_block(conn, period, registry, blocks, summary=summary)
            locked = {b: q.locked(conn, period, b) for b in found}
        return {
            b: PeriodView(
                period=period,
                units=sorted(units.values(), key=lambda u: (u.block, u.unit_code)),
                expected_units=registry.expected_units(b) if registry else [],
                has_registry=registry is not None,
                org=dict(registry.units) if registry else {},
                locked=locked[b],
                generated_at=datetime.now(),
            )
            for b, units in found.items()
        }

    @retrying
    def unit_views(self, period: str, unit_codes: Iterable[str]) -> dict[str, UnitView]:
        """:meth:`unit_view` of several units in one go (a chunk's outputs)."""
        codes = sorted(set(unit_codes))
        registry = self.registry_for(period)
        with self.reader.connect() as conn:
            found = views.unit_views(conn, period, registry, unit_codes=codes)
        return {c: found.get(c) or views.empty_unit_view(period, c, registry) for c in codes}

    @retrying
    def unit_views_given(self, period: str, unit_codes: Iterable[str], staff: views.StaffSlice) -> dict[str, UnitView]:
        """:meth:`unit_views`, given the registry's people of ``unit_codes`` (``staff``, from
        :func:`.views.staff_slice` in the deciding process): when its version is the one in
        force for ``period``, only the registry's units are loaded here (the unit writer
        process, issue 19: a city's 170,000 people cost ~80 MB per process); else the same
        as :meth:`unit_views`."""
        registry = self.registry_units_for(period, staff.version)
        if registry is None:  # another registry is in force now: the whole one
            return self.unit_views(period, unit_codes)
        codes = sorted(set(unit_codes))
        with self.reader.connect() as conn:
            found = views.unit_views(conn, period, registry, unit_codes=codes, people=staff.people)
        given = views.Staff.of(staff.people, ())
        return {c: found.get(c) or views.empty_unit_view(period, c, registry, given) for c in codes}

    def unit_view_batches(self, period: str, unit_codes: Iterable[str], size: int) -> Iterator[dict[str, UnitView]]:
        """:meth:`unit_views` of ``unit_codes``, ``size`` units at a time (bounded memory).

        One connection serves every batch (the registry's staff index is read once); not retried as a whole, since a batch may already have been used.
        """
        codes = sorted(set(unit_codes))
        registry = self.registry_for(period)
        with self.reader.connect() as conn:
            for batch in views.unit_view_batches(conn, period, registry, [None], unit_codes=codes, batch_units=size):
                found = batch[None]
                yield {c: found[c] for c in sorted(found)}

    @retrying
    def pending_rollups(self) -> list[tuple[str, str, int]]:
        """(period, block, generation) of roll-ups to rewrite; block "" is the district."""
        with self.reader.connect() as conn:
            return y.pending_rollups(conn)

    @retrying
    def rollup_written(self, period: str, block: str, generation: int) -> None:
        """Clear a pending roll-up unless a newer list arrived meanwhile (generation moved on)."""
        with self.engine.begin() as conn:
            y.clear_rollup(conn, period, block, generation)

    @retrying
    def year_rows(self, year: int) -> list[YearRow]:
        """One row per person with a final grade per month of ``year`` (active lists only)."""
        with self.reader.connect() as conn:
            return y.year_rows(conn, year, self.registry_for(f"{year:04d}-12"))

    @retrying
    def period_fingerprint(self, period: str) -> views.PeriodKey:
        """:func:`.views.period_fingerprint` of ``period`` (the watcher's cache key)."""
        with self.reader.connect() as conn:
            return views.period_fingerprint(conn, period)
