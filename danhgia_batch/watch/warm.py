"""What the watcher keeps warm between events, so that one file costs one file's work (issue 9).

``danhgia process`` opens the ledger, starts reader workers and reads the whole period for the
roll-ups on every call; the watcher calls it for every file that settles. :class:`WarmSession`
keeps instead, for the life of the watcher:

- :class:`WarmReader`: the reader workers of :class:`~danhgia_batch.read.RunReader` (the same
  isolated children as :mod:`danhgia_batch.safe`: forkserver, ``RLIMIT_AS``, per-file
  timeout; a worker that crashed or timed out is replaced) kept alive across events and
  recycled after :data:`RECYCLE_FILES` files;
- :class:`WatchLedger`: one open ledger (the registry is loaded once per registry version, not
  once per event), whose :meth:`~WatchLedger.period_views` re-reads from the ledger only the
  units whose lists or rejected files changed since the last roll-up — by anyone: a cheap
  fingerprint query of the period decides — and falls back to a full read when the registry,
  the locks, the people evaluated or a unit's block changed, or every :data:`FULL_EVERY` seconds.

The session is dropped (workers stopped, ledger closed, which retires this run's claims) when
processing raises, and rebuilt on the next event.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..ledger import Ledger
from ..models import FormResult, PeriodView, UnitView
from ..read import RunReader
from ..registry import norm_code
from ..settings import Settings

log = logging.getLogger(__name__)

RECYCLE_FILES = 256  # files read by the warm workers before they are replaced (memory stays flat)
FULL_EVERY = 900.0  # seconds: a full read of the period at least this often (belt and braces)
CACHE_MAX_ROWS = 60_000  # evaluation rows: a bigger period (a whole city) is read in full each time
CACHE_PERIODS = 2  # periods kept (this month and the last)


# --------------------------------------------------------------------------- reader


class WarmReader(RunReader):
    """A :class:`~danhgia_batch.read.RunReader` kept for the watcher's life: its workers are
    recycled after :data:`RECYCLE_FILES` files (their memory stays flat)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._files = 0

    def __call__(self, paths: Sequence[Path], settings: Settings) -> Iterator[FormResult]:
        if not paths:
            return
        if self._files >= RECYCLE_FILES:
            self.shutdown()
        self._files += len(paths)
        yield from super().__call__(paths, settings)

    def shutdown(self) -> None:
        """Stop every worker (the next call starts new ones)."""
        super().shutdown()
        self._files = 0


# --------------------------------------------------------------------------- ledger


_Key = tuple[tuple[Any, ...], dict[str, tuple[Any, ...]], dict[str, set[str]]]  # see WatchLedger._fingerprint


@dataclass
class _Cached:
    """The whole-period view as last built, and what it was built from."""

    base: PeriodView  # expected units, registry flag, lock of the whole period
    units: dict[str, UnitView]
    fingerprint: dict[str, tuple[Any, ...]]
    blocks: dict[str, str]  # unit code -> its single block
    global_key: tuple[Any, ...]
    built: float
    block_views: dict[str, PeriodView] = field(default_factory=dict)  # block -> expected units, lock


class WatchLedger(Ledger):
    """A :class:`Ledger` whose :meth:`period_views` reuses the unchanged units of the last call.

    Equal to :meth:`Ledger.period_views` by construction: the units re-read are read with
    :meth:`Ledger.unit_views` (the same code), and every change that could touch another unit
    (registry, locks, someone evaluated no longer, a unit spanning several blocks) takes the
    full read instead.
    """

    def __init__(
        self, url: str, *, schema: str | None = None, stale_after: float = 600.0, blocks: Sequence[str] = ()
    ) -> None:
        super().__init__(url, schema=schema, stale_after=stale_after)
        self._blocks = list(blocks)  # read with every full read, so that any block's roll-up can follow
        self._cache: dict[str, _Cached] = {}
        # the last unit_views read of a cached period (the unit outputs of the event) and the
        # fingerprint taken just before it: the roll-ups that follow reuse those views
        self._recent: dict[str, tuple[_Key, dict[str, UnitView]]] = {}

    @classmethod
    def open(cls, settings: Settings) -> WatchLedger:
        """The ledger of ``settings``, as :func:`danhgia_batch.ledger.open_ledger` opens it."""
        stale_after = settings.watcher.claim_timeout_minutes * 60
        return cls(settings.ledger_url, stale_after=stale_after, blocks=settings.codes.codes("blocks"))

    def unit_views(self, period: str, unit_codes: Iterable[str]) -> dict[str, UnitView]:
        codes = sorted(set(unit_codes))
        key = None
        if period in self._cache:
            try:
                key = self._fingerprint(period)
            except Exception:  # only an optimisation: read as usual
                log.debug("fingerprint of %s failed", period, exc_info=True)
        found = super().unit_views(period, codes)
        if key is not None:
            self._recent[period] = (key, found)
        return found

    def period_views(
        self, period: str, blocks: Sequence[str | None], *, summary: bool = False
    ) -> dict[str | None, PeriodView]:
        if summary:  # a large period: summarised views, read in batches, never cached
            self._cache.pop(period, None)
            return super().period_views(period, blocks, summary=True)
        try:
            found = self._incremental(period, blocks)
        except Exception:  # never let the shortcut break a roll-up: read it all
            log.exception("incremental roll-up view of %s failed; reading the whole period", period)
            found = None
        if found is not None:
            return found
        return self._full(period, blocks)

    # -- full read ---------------------------------------------------------------------------

    def _full(self, period: str, blocks: Sequence[str | None]) -> dict[str | None, PeriodView]:
        self._cache.pop(period, None)
        global_key, fingerprint, unit_blocks = self._fingerprint(period)
        wanted = list(dict.fromkeys([*blocks, None, *self._blocks]))  # one read serves every block
        found = super().period_views(period, wanted)
        whole = found[None]
        rows = sum(len(lst.rows) for u in whole.units for lst in u.lists)
        # a unit spanning blocks: every call reads it all; a huge period is not kept in memory
        if rows <= CACHE_MAX_ROWS and all(len(b) == 1 for b in unit_blocks.values()):
            while len(self._cache) >= CACHE_PERIODS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[period] = _Cached(
                base=replace(whole, units=[]),
                units={u.unit_code: u for u in whole.units},
                fingerprint=fingerprint,
                blocks={code: next(iter(b)) for code, b in unit_blocks.items()},
                global_key=global_key,
                built=time.monotonic(),
                block_views={b: replace(v, units=[]) for b, v in found.items() if b},
            )
        return {b: found[b] for b in blocks}

    # -- incremental -------------------------------------------------------------------------

    def _incremental(self, period: str, blocks: Sequence[str | None]) -> dict[str | None, PeriodView] | None:
        cached = self._cache.get(period)
        if cached is None or time.monotonic() - cached.built > FULL_EVERY:
            return None
        if any(b and b not in cached.block_views for b in blocks):
            return None
        global_key, fingerprint, unit_blocks = self._fingerprint(period)
        if global_key != cached.global_key or any(len(b) != 1 for b in unit_blocks.values()):
            return None
        if any(not code for code in fingerprint):  # rows without a unit code: leave them to the full read
            return None
        changed = {
            c for c in set(fingerprint) | set(cached.fingerprint) if fingerprint.get(c) != cached.fingerprint.get(c)
        }
        units = dict(cached.units)
        if changed:
            fresh = self._recent_views(period, global_key, fingerprint, changed) or Ledger.unit_views(
                self, period, changed
            )
            before = _people(cached.units[c] for c in changed if c in cached.units)
            after = _people(fresh.values())
            if before - after:  # someone no longer evaluated: other units' missing people grow
                return None
            gained = after - before
            # someone newly evaluated leaves the missing people of their registry unit
            also = {
                code
                for code, view in cached.units.items()
                if code not in changed and any(norm_code(p.code) in gained for p in view.missing_people or [])
            }
            if also:
                fresh.update(Ledger.unit_views(self, period, also))
            for code, view in fresh.items():
                if code in fingerprint:
                    units[code] = view
                else:  # nothing left of it in the period
                    units.pop(code, None)
        new_blocks = {code: next(iter(b)) for code, b in unit_blocks.items()}
        self._cache[period] = replace(cached, units=units, fingerprint=fingerprint, blocks=new_blocks)
        now = datetime.now()
        ordered = sorted(units.values(), key=lambda u: (u.block, u.unit_code))
        out: dict[str | None, PeriodView] = {}
        for b in blocks:
            base = cached.block_views[b] if b else cached.base
            mine = ordered if not b else [u for u in ordered if new_blocks.get(u.unit_code) == b]
            out[b] = replace(base, units=mine, generated_at=now)
        log.debug("roll-up views of %s: %d unit(s) re-read", period, len(changed))
        return out

    def _recent_views(
        self, period: str, global_key: tuple[Any, ...], fingerprint: dict[str, tuple[Any, ...]], changed: set[str]
    ) -> dict[str, UnitView] | None:
        """The views of ``changed`` from the last :meth:`unit_views` call, if none of them (and
        nothing else: ``changed`` is everything since the cached read) changed after it."""
        recent = self._recent.pop(period, None)
        if recent is None:
            return None
        (then_global, then, _blocks), views = recent
        if then_global != global_key or not changed <= set(views):
            return None
        if any(then.get(code) != fingerprint.get(code) for code in changed):
            return None
        return {code: views[code] for code in changed}

    def _fingerprint(self, period: str) -> _Key:
        """(registry and lock key, per-unit key of its lists and rejected files, per-unit blocks)."""
        return self.period_fingerprint(period)


def _people(views: Any) -> set[str]:
    return {norm_code(r.person_code) for v in views for r in v.rows}


# --------------------------------------------------------------------------- session


class WarmSession:
    """The watcher's processing function with a warm reader pool and one open ledger."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reader = WarmReader(settings)
        self._ledger: WatchLedger | None = None

    def __call__(self, settings: Settings, *, paths: Sequence[Path]) -> Any:
        from ..pipeline import process_inbox

        if self._ledger is None:
            self._ledger = WatchLedger.open(settings)
        try:
            return process_inbox(settings, paths=paths, ledger=self._ledger, reader=self.reader)
        except BaseException:
            self.close()  # claims of this run retire with the ledger: a new one takes them over
            raise

    def close(self) -> None:
        self.reader.shutdown()
        if self._ledger is not None:
            with contextlib.suppress(Exception):
                self._ledger.close()
            self._ledger = None
