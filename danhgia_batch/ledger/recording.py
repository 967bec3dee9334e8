"""Recording of the :class:`~.store.Ledger`: it builds the read-only context a decision is made
from (:meth:`RecordingMixin.decision_context`) and applies the decision
(:meth:`RecordingMixin.record`). It decides nothing itself (issue 14): in the write transaction it
only checks that the context is unchanged (:func:`~danhgia_batch.verdict.fingerprint` of the
registry version, the period's lock rows and the lists of the place) and raises
:class:`~danhgia_batch.verdict.ContextChanged` otherwise, so that the pipeline decides again.

On PostgreSQL the recording of one unit's period is serialised with an advisory lock; on
SQLite ``BEGIN IMMEDIATE`` already serialises every writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any, ClassVar, TypeVar

from sqlalchemy import JSON, Connection, bindparam, insert, text, update

from ..errors import LedgerError
from ..issues import Issue, make_issue
from ..layout import LIST_KINDS
from ..models import EvaluationRow, QuotaVerdict
from ..verdict import (
    NEW_LIST,
    SUPERSEDED,
    Ask,
    ContextChanged,
    ContextQuery,
    DecisionContext,
    ListPlan,
    PlaceList,
    Record,
    fingerprint,
)
from . import claims as c
from . import queries as q
from . import registry_rows as rr
from . import schema as s
from . import year as y
from .base import ClaimLost
from .codec import evaluation_from_row, evaluation_to_row, issue_to_row, norm_text
from .locks import LocksMixin, guard_period, lock_key
from .retry import retrying, transient

# decoded evaluation rows of this many lists kept for the quota regrouping (a school's group is ~110)
EVALUATION_CACHE = 256
_OTHER = {"01": "02", "02": "01"}

_RECORD_FILE = (  # only while this run holds the claim (another process may have taken it over)
    update(s.files)
    .where(
        s.files.c.id == bindparam("r_id"),
        s.files.c.claimed_by == bindparam("me"),
        s.files.c.state == s.STATE_CLAIMED,
    )
    .values(
        {
            k: bindparam(k)
            for k in (
                "kind",
                "period",
                "unit_code",
                "block",
                "outcome",
                "issue_count",
                "duplicate_of",
                "state",
                "recorded_at",
                "regime_id",
                "regime_hash",
            )
        }
    )
)
_SET_STATUS = (
    update(s.lists).where(s.lists.c.id.in_(bindparam("ids", expanding=True))).values(status=bindparam("status"))
)
_BUMP_VERSION = (
    update(s.lists).where(s.lists.c.id.in_(bindparam("ids", expanding=True))).values(version=s.lists.c.version + 1)
)
_SET_COVERED = (
    update(s.lists).where(s.lists.c.id.in_(bindparam("ids", expanding=True))).values(covered=bindparam("covered"))
)
_INSERT_LIST = insert(s.lists).returning(s.lists.c.id)
_INSERT_ISSUES = insert(s.issues)  # statements run for every file, built once
_INSERT_EVALUATIONS = insert(s.evaluations)
_SUPERSEDE = (
    update(s.lists)
    .where(s.lists.c.id == bindparam("old_id"))
    .values(status=s.SUPERSEDED, superseded_by=bindparam("new_id"))
)
_COUNT_NOTE = update(s.files).where(s.files.c.id == bindparam("f_id")).values(issue_count=s.files.c.issue_count + 1)
_JSON_COLUMNS = [col.name for col in s.evaluations.columns if isinstance(col.type, JSON)]


T = TypeVar("T")


def _as_stored(row: dict[str, Any]) -> SimpleNamespace:
    """An evaluation row as the ledger returns it: its JSON columns through JSON and back."""
    stored = dict(row)
    for name in _JSON_COLUMNS:
        stored[name] = json.loads(json.dumps(stored[name]))
    return SimpleNamespace(**stored)


@dataclass
class Results:
    """The A-quota verdicts, letter §2.6 notes and covered flags decisions gave, per list id
    (a later decision's replace an earlier one's), written by :meth:`write`: once per file, or
    once per batch after its last file (no context reads them)."""

    quota: dict[int, list[QuotaVerdict]] = field(default_factory=dict)
    notes: dict[int, list[Issue]] = field(default_factory=dict)
    covered: dict[int, bool] = field(default_factory=dict)
    new: set[int] = field(default_factory=set)  # lists inserted meanwhile: no verdict rows yet

    def add(self, rec: Record, list_id: int) -> None:
        """What ``rec`` gives (:data:`NEW_LIST` in it = ``list_id``, the list it inserted)."""
        real = {NEW_LIST: list_id}
        self.quota.update((k, v) for k, v in rec.quota_by_list.items() if k != NEW_LIST)
        if list_id != NEW_LIST:
            self.quota[list_id] = rec.quota
            self.new.add(list_id)
        self.notes.update((real.get(k, k), v) for k, v in rec.overlap_notes.items())
        self.covered.update((real.get(k, k), v) for k, v in rec.covered.items())

    def write(self, conn: Connection) -> None:
        """Replace the lists' verdicts and notes, set their covered flags."""
        q.replace_quota(conn, self.quota, self.new)
        if self.notes:
            q.replace_notes(conn, self.notes)
        flags: dict[bool, list[int]] = {}
        for k, covered in self.covered.items():
            flags.setdefault(covered, []).append(k)
        for covered, ids in sorted(flags.items()):
            conn.execute(_SET_COVERED, {"ids": sorted(ids), "covered": covered})


@dataclass
class _BatchMemo:
    """What the contexts of one :meth:`~RecordingMixin.record_batch` transaction share, read
    once (issue 19: the lock history, registry head and a school's lists were read again for
    each of its ~110 individual forms, the lists quadratically).

    Exact inside the transaction: the batch writes no lock rows and no quota grants; a
    registry it saves clears :attr:`head`; each list it records updates :attr:`places` as the
    statements just run changed the rows (:meth:`applied`), or drops the unit's entry when a
    plan names a list it does not hold. On SQLite the write transaction shuts out every other
    writer; on PostgreSQL the units' advisory locks shut out other recorders of these units,
    and the periods' (:func:`~.locks.guard_period`) publishing, reopening and quota grants.
    ``VERIFY`` (the test suite sets it) compares every answer from the memo with the ledger's
    own and raises :class:`MemoMismatch` on a difference."""

    VERIFY: ClassVar[bool] = False

    history: dict[str, list[Any]] = field(default_factory=dict)
    head: dict[tuple[str, str], tuple[int | None, tuple[int, float] | None]] = field(default_factory=dict)
    places: dict[tuple[str, str], dict[str, tuple[PlaceList, ...]]] = field(default_factory=dict)

    def lock_history(self, conn: Connection, period: str) -> list[Any]:
        return _kept(self.history, period, lambda: q.lock_history(conn, period), self.VERIFY)

    def latest_and_grant(self, conn: Connection, period: str, unit_code: str) -> tuple[Any, Any]:
        return _kept(self.head, (period, unit_code), lambda: q.latest_and_grant(conn, period, unit_code), self.VERIFY)

    def unit_places(self, conn: Connection, period: str, unit_code: str) -> dict[str, tuple[PlaceList, ...]]:
        return _kept(self.places, (period, unit_code), lambda: q.unit_places(conn, period, unit_code), self.VERIFY)

    def applied(self, key: tuple[str, str], kind: str, new: PlaceList, plan: ListPlan) -> None:
        """The unit's lists after :meth:`RecordingMixin._apply_list` ran ``plan`` and inserted
        ``new``, in the same order of statements (bump, insert, supersede, set status)."""
        places = self.places.get(key)
        if places is None:
            return
        found = {p.id: p for kind_lists in places.values() for p in kind_lists}
        steps: list[tuple[int, dict[str, Any]]] = [(i, {"version": None}) for i in plan.bump]
        steps += [(old.id, {"status": SUPERSEDED}) for old in plan.supersedes]
        steps += [(i, {"status": status}) for i, status in plan.set_status.items()]
        for list_id, values in steps:
            if list_id not in found:  # a list this memo never read: ask the ledger next time
                del self.places[key]
                return
            if "version" in values:
                values = {"version": found[list_id].version + 1}
            found[list_id] = replace(found[list_id], **values)
        out = {k: tuple(found[p.id] for p in v) for k, v in places.items()}
        out[kind] = tuple(sorted((*out.get(kind, ()), new), key=lambda p: (p.arrival, p.id)))
        self.places[key] = out


class MemoMismatch(BaseException):
    """A batch memo answered otherwise than the ledger (``_BatchMemo.VERIFY``, tests only): a
    ``BaseException`` so that no per-file handler turns it into one file's failure."""


def _kept(store: dict[Any, T], key: Any, read: Callable[[], T], verify: bool) -> T:
    """``store[key]``, read once with ``read``; with ``verify``, read again and compared."""
    if key not in store:
        store[key] = read()
    elif verify and store[key] != (now := read()):
        raise MemoMismatch(f"_BatchMemo {key!r}: {store[key]!r} != {now!r}")
    return store[key]


@dataclass
class Recorded:
    """Result of :meth:`RecordingMixin.record`."""

    file: c.FileRecord
    issues: list[Issue]
    list_ids: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)


class RecordingMixin(LocksMixin):
    """Decision contexts and the recording of decisions."""

    # ------------------------------------------------------------------ context

    @retrying
    def decision_context(
        self,
        *,
        period: str,
        unit_code: str,
        kind: str,
        decider: tuple[str, str] = ("", ""),
        persons: Sequence[str] = (),
    ) -> DecisionContext:
        """The read-only snapshot a decision about a list or form of ``kind`` is made from.

        ``decider`` = (position, name) of the header; ``persons`` the person codes of its rows
        (the first is the person of an individual form).
        """
        with self.reader.connect() as conn:  # one snapshot: registry, locks, lists (fewest statements)
            return self._context(conn, ContextQuery(period, unit_code, kind, decider, persons))

    def _context(self, conn: Connection, query: ContextQuery, memo: _BatchMemo | None = None) -> DecisionContext:
        """:meth:`decision_context` read through ``conn`` (a reading transaction, or the write
        transaction of :meth:`record_batch` with its ``memo``; alone, a memo of this context)."""
        memo = _BatchMemo() if memo is None else memo
        period, unit_code, kind, decider, persons = query
        history = memo.lock_history(conn, period)
        locks = q.lock_rows(conn, period, history)
        latest, grant = memo.latest_and_grant(conn, period, unit_code)
        if not unit_code:
            grant = None
        # the registry in force for the period (locks.registry_for, from the rows just read)
        registry = self._registry_version(conn, rr.registry_version_from(conn, history, latest), period)
        # SPEC §13: a period once published keeps the regimes it was judged with
        regimes = q.period_regimes(conn, period) if locks else ()
        place: tuple[PlaceList, ...] = ()
        others: tuple[PlaceList, ...] = ()
        if kind in LIST_KINDS:
            places = memo.unit_places(conn, period, unit_code)
            place = places[kind]
            others = tuple(p for p in places[_OTHER[kind]] if p.status != SUPERSEDED)
        elsewhere: dict[str, str] = {}
        if registry is not None and period and kind in LIST_KINDS:
            exclude = (unit_code, decider[0], decider[1])
            elsewhere = q.people_listed(conn, period, exclude, list(persons))
        other_rows: dict[int, list[EvaluationRow]] = {}
        if others:  # a unit with lists and forms: every active row of both (letter §2.6)
            ids = [p.id for p in (*place, *others) if p.status != SUPERSEDED]
            other_rows = self._evaluations_of(conn, ids)
        form_rows: dict[int, list[EvaluationRow]] = {}
        if kind == "01":
            person = persons[0] if persons else ""
            active = [p for p in place if p.status != SUPERSEDED]
            deciders = {(decider[0], norm_text(decider[1]))}
            deciders |= {(p.decider_position, norm_text(p.decider_name)) for p in active if p.person_code == person}
            ids = [p.id for p in active if (p.decider_position, norm_text(p.decider_name)) in deciders]
            form_rows = self._evaluations_of(conn, ids)
        return DecisionContext(
            registry=registry,
            registry_id=registry.version if registry is not None else None,
            locks=locks,
            place=place,
            listed_elsewhere=elsewhere,
            form_rows=form_rows,
            others=others,
            other_rows=other_rows,
            period_regimes=regimes,
            quota_ratio=grant[1] if grant else None,
            fingerprint=fingerprint(latest, locks, place, others, grant[0] if grant else None),
        )

    def _verify(self, conn: Connection, rec: Record) -> None:
        """Raise :class:`ContextChanged` when the context of ``rec`` is no longer the ledger's."""
        if rec.plan is None or not rec.fingerprint:
            return
        places = q.unit_marks(conn, rec.period, rec.unit_code)  # what the fingerprint reads, no more
        others = [p for p in places[_OTHER[rec.kind]] if p.status != SUPERSEDED]
        latest, grant = q.latest_and_grant(conn, rec.period, rec.unit_code)
        now = fingerprint(
            latest,
            q.lock_rows(conn, rec.period),
            places[rec.kind],
            others,
            grant[0] if grant else None,
        )
        if now != rec.fingerprint:
            raise ContextChanged(f"{rec.period} {rec.unit_code}: sổ cái đã thay đổi trong lúc quyết định")

    def _evaluations_of(self, conn: Connection, list_ids: list[int]) -> dict[int, list[EvaluationRow]]:
        """Decoded evaluation rows of ``list_ids``, from the cache where possible: regrouping a
        decider's individual forms after each new form would otherwise decode the whole group
        every time (quadratic in the forms of a school)."""
        cache = self._evals
        missing = [i for i in list_ids if i not in cache]
        if missing:
            fetched = q.evaluations_of(conn, missing)
            for i in missing:
                cache[i] = fetched.get(i, [])
        out = {}
        for i in list_ids:
            out[i] = cache[i]
            cache.move_to_end(i)
        while len(cache) > max(EVALUATION_CACHE, len(list_ids)):
            cache.popitem(last=False)
        return out

    # ------------------------------------------------------------------ recording

    @retrying
    def record(self, file_id: int, rec: Record) -> Recorded:
        """Apply the decision ``rec`` about a claimed file in one transaction.

        Raises:
            ClaimLost: this run no longer holds the file.
            ContextChanged: the lists, locks or registry the decision was made from changed.
        """
        self._evals_new.clear()
        try:
            return self._record(file_id, rec)
        except BaseException:
            for list_id in self._evals_new:  # not committed: the id may be given to another list
                self._evals.pop(list_id, None)
            raise
        finally:
            self._evals_new.clear()

    def _record(self, file_id: int, rec: Record) -> Recorded:
        with self.engine.begin() as conn:
            if rec.period:
                guard_period(conn, rec.period, shared=True)
            self._serialise(conn, rec.period, rec.unit_code)
            marks: set[tuple[str, str]] = set()
            results = Results()
            out = self._record_in(conn, file_id, rec, marks, results, verify=True)
            results.write(conn)
            for period, block in sorted(marks):
                y.mark_rollups(conn, period, block)
            return out

    @retrying
    def record_batch(self, asks: Sequence[Ask]) -> list[Recorded | Exception]:
        """Decide and record several claimed files, in order, in one write transaction.

        Each file's context (:meth:`_context`) is read inside the transaction, after the files
        before it were applied, so nothing can change it before its record: no fingerprint is
        checked and no decision is made again. The decision itself is the caller's pure
        ``ask.decide`` (the ledger decides nothing). The quota verdicts, notes and covered
        flags (which no context reads) are written once, after the last file.

        A file whose decision or recording fails has the exception as its result
        (:class:`ClaimLost`: another process took it over): the transaction is rolled back and
        the batch is decided and recorded again without it, so nothing of that file stays and
        the others are judged as if it had not come. A transient failure of the transaction
        retries the whole batch. PostgreSQL: the units' advisory locks are taken first, in one
        order, and the roll-up marks set last, in order, so that two batches never wait for
        each other in a cycle.
        """
        failed: dict[int, Exception] = {}
        while True:
            self._evals_new.clear()
            cached = (self._registry, self._registry_id)
            try:
                return self._record_batch(asks, failed)
            except _FileFailed as exc:
                self._forget_uncommitted(cached)
                failed[exc.index] = exc.error
            except BaseException:
                self._forget_uncommitted(cached)
                raise
            finally:
                self._evals_new.clear()

    def _record_batch(self, asks: Sequence[Ask], failed: dict[int, Exception]) -> list[Recorded | Exception]:
        out: list[Recorded | Exception] = []
        marks: set[tuple[str, str]] = set()
        results = Results()
        memo = _BatchMemo()
        with self.engine.begin() as conn:
            units = {(a.query.period, a.query.unit_code) for a in asks if a.query is not None}
            for period in sorted({p for p, _ in units if p}):
                guard_period(conn, period, shared=True)  # no publish, reopen or grant meanwhile
            for period, unit_code in sorted(units):
                self._serialise(conn, period, unit_code)
            files = c.by_ids(conn, [a.file_id for a in asks])  # one statement, not one per file
            for index, ask in enumerate(asks):
                if index in failed:
                    out.append(failed[index])
                    continue
                try:
                    context = DecisionContext() if ask.query is None else self._context(conn, ask.query, memo)
                    rec = ask.decide(context)
                    if rec.plan is not None and (rec.period, rec.unit_code) not in units:
                        self._serialise(conn, rec.period, rec.unit_code)  # never for a list of its header
                    out.append(
                        self._record_in(
                            conn,
                            ask.file_id,
                            rec,
                            marks,
                            results,
                            verify=False,
                            memo=memo,
                            known=files.get(ask.file_id),
                        )
                    )
                except Exception as exc:
                    if transient(exc):
                        raise  # the transaction's (lock, connection): the whole batch again
                    raise _FileFailed(index, exc) from exc
            results.write(conn)
            for period, block in sorted(marks):
                y.mark_rollups(conn, period, block)
        return out

    def _forget_uncommitted(self, registry: tuple[Any, int | None]) -> None:
        """Drop what the caches took from a transaction that was rolled back (SQLite may give
        its ids again): the evaluation rows of its lists, and a registry version read since
        ``registry`` (the cache as it was) was taken."""
        for list_id in self._evals_new:
            self._evals.pop(list_id, None)
        self._registry, self._registry_id = registry

    def _record_in(
        self,
        conn: Connection,
        file_id: int,
        rec: Record,
        marks: set[tuple[str, str]],
        results: Results,
        *,
        verify: bool,
        memo: _BatchMemo | None = None,
        known: c.FileRecord | None = None,
    ) -> Recorded:
        """Apply ``rec`` through ``conn``; the roll-ups to mark are added to ``marks``, the
        lists' verdicts, notes and flags to ``results`` (the caller writes both). ``known``: the
        file's row as read in this transaction (its claim is checked again by the update)."""
        file = known if known is not None else c.by_id(conn, file_id)
        if file.claimed_by == self.worker and file.state == s.STATE_RECORDED:
            # a retry after a commit whose acknowledgement was lost: already recorded
            return Recorded(file=file, issues=q.issues_of(conn, [file_id]).get(file_id, []))
        if file.claimed_by != self.worker or file.state != s.STATE_CLAIMED:
            raise ClaimLost(f"Tệp '{file.name}' đã được tiến trình khác xử lý")
        if verify:
            self._verify(conn, rec)
        out = Recorded(file=file, issues=list(rec.issues))
        if rec.outcome in (s.ACCEPTED, s.INVALID) and rec.kind in LIST_KINDS:
            if rec.plan is None or rec.header is None:
                raise LedgerError(f"Tệp '{file.name}': danh sách không có quyết định về vị trí")
            self._apply_list(conn, file, rec, rec.plan, out, results, memo)
            marks.add((rec.period, rec.block))
        if rec.outcome == s.ACCEPTED and rec.registry is not None:
            self._save_registry(conn, rec.registry[0], rec.registry[1], file.name)
            if memo is not None:
                memo.head.clear()  # a newer registry version
        if out.issues:
            conn.execute(_INSERT_ISSUES, [issue_to_row(i, file_id) for i in out.issues])
        duplicate_of = rec.duplicate_of if rec.duplicate_of is not None else file.duplicate_of
        recorded = conn.execute(
            _RECORD_FILE,
            {
                "r_id": file_id,
                "me": self.worker,
                "kind": rec.kind,
                "period": rec.period,
                "unit_code": rec.unit_code,
                "block": rec.block,
                "outcome": rec.outcome,
                "issue_count": len(out.issues),
                "duplicate_of": duplicate_of,
                "state": s.STATE_RECORDED,
                "recorded_at": datetime.now(),
                "regime_id": rec.regime_id,
                "regime_hash": rec.regime_hash,
            },
        )
        if recorded.rowcount != 1:  # taken over since it was read: nothing of this file may stay
            raise ClaimLost(f"Tệp '{file.name}' đã được tiến trình khác xử lý")
        out.file = replace(
            file,
            kind=rec.kind,
            period=rec.period,
            unit_code=rec.unit_code,
            block=rec.block,
            outcome=rec.outcome,
            issue_count=len(out.issues),
            duplicate_of=duplicate_of,
            state=s.STATE_RECORDED,
        )  # the row as just updated (no other statement of this transaction changes it)
        return out

    def _serialise(self, conn: Connection, period: str, unit_code: str) -> None:
        if conn.dialect.name == "postgresql" and period and unit_code:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("record", period, unit_code)})

    @contextmanager
    def decision_lock(self, period: str, unit_code: str) -> Iterator[None]:
        """Hold the unit's period for one worker from its context to its record.

        The pipeline takes it only after its optimistic attempts saw the context change
        (several workers recording versions of one unit's list at once): the holder's decision
        can then only be overtaken by workers still in their optimistic attempts, so it ends.
        PostgreSQL: a session advisory lock on a connection of its own (another key than
        :meth:`_serialise`'s transaction lock, which the holder takes inside it). SQLite:
        nothing more (``BEGIN IMMEDIATE`` serialises writers; the retries' jitter does the rest).
        """
        if self.engine.dialect.name != "postgresql" or not (period and unit_code):
            yield
            return
        key = lock_key("decide", period, unit_code)
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()

    def _apply_list(
        self,
        conn: Connection,
        file: c.FileRecord,
        rec: Record,
        plan: ListPlan,
        out: Recorded,
        results: Results,
        memo: _BatchMemo | None = None,
    ) -> None:
        """Insert the list as ``plan`` places it; supersede and renumber the others; its quota
        verdicts, notes and covered flags (and those of the lists it regroups) go to ``results``."""
        header = rec.header
        assert header is not None
        if plan.bump:
            conn.execute(_BUMP_VERSION, {"ids": plan.bump})
        later = plan.superseded_by
        values = {
            "file_id": file.id,
            "kind": rec.kind,
            "period": rec.period,
            "unit_code": rec.unit_code,
            "unit_name": header.unit_name,
            "block": rec.block,
            "decider_position": header.decider_position,
            "decider_name": header.decider_name,
            "person_code": rec.rows[0].person_code if rec.kind == "01" and rec.rows else "",
            "decision_date": header.decision_date,
            "prepared_by": header.prepared_by,
            "prepared_date": header.prepared_date,
            "header_cells": dict(header.cells),
            "version": plan.version,
            "status": plan.status,
            "superseded_by": later.id if later else None,
            "arrival": file.arrival,
        }
        list_id = int(conn.execute(_INSERT_LIST, values).scalar_one())
        out.list_ids.append(list_id)
        if rec.rows:
            evaluation_rows = [evaluation_to_row(r, list_id, rec.period) for r in rec.rows]
            conn.execute(_INSERT_EVALUATIONS, evaluation_rows)
            if rec.kind == "01":  # regrouped later: cached as the ledger will give them back
                self._evals[list_id] = [evaluation_from_row(_as_stored(e)) for e in evaluation_rows]
                self._evals_new.add(list_id)
        if later:  # arrived before a list already recorded: that one replaces this one
            note = make_issue("list-superseded", value=f"{file.name}, phiên bản {plan.version}")
            conn.execute(_INSERT_ISSUES, issue_to_row(note, later.file_id))
            conn.execute(_COUNT_NOTE, {"f_id": later.file_id})
        for old in plan.supersedes:
            conn.execute(_SUPERSEDE, {"old_id": old.id, "new_id": list_id})
            out.superseded.append(old.id)
        by_status: dict[str, list[int]] = {}
        for lid, status in plan.set_status.items():
            by_status.setdefault(status, []).append(lid)
        for status, ids in sorted(by_status.items()):
            conn.execute(_SET_STATUS, {"ids": sorted(ids), "status": status})
        results.add(rec, list_id)
        if memo is not None:
            new = PlaceList(
                list_id,
                file.id,
                file.name,
                header.decider_position,
                header.decider_name,
                str(values["person_code"]),
                plan.version,
                plan.status,
                file.arrival,
            )
            memo.applied((rec.period, rec.unit_code), rec.kind, new, plan)

    # ------------------------------------------------------------------ results of older ledgers

    @retrying
    def units_without_results(self) -> list[tuple[str, str]]:
        """(period, unit) of the active lists that carry no quota verdict: lists recorded before
        migration 5, whose verdicts and notes the decision has to give once."""
        with self.engine.connect() as conn:
            return q.units_without_results(conn)

    @retrying
    def unit_snapshot(
        self, period: str, unit_code: str
    ) -> tuple[dict[str, tuple[PlaceList, ...]], dict[int, list[EvaluationRow]]]:
        """Every list of a unit and period per kind, and the rows of the active ones."""
        with self.engine.connect() as conn:
            places = q.unit_places(conn, period, unit_code)
            ids = [p.id for kind in places.values() for p in kind if p.status != SUPERSEDED]
            return places, self._evaluations_of(conn, ids)

    @retrying
    def record_results(self, period: str, unit_code: str, rec: Record, snapshot: str) -> None:
        """Store the verdicts, notes and covered flags of ``rec`` for lists already recorded,
        unless the unit changed since ``snapshot`` (its :func:`fingerprint`): then a newer
        decision has given them."""
        with self.engine.begin() as conn:
            self._serialise(conn, period, unit_code)
            places = q.unit_places(conn, period, unit_code)
            if fingerprint(None, (), places.get("01", ()), places.get("02", ())) != snapshot:
                return
            results = Results()
            results.add(rec, NEW_LIST)
            results.write(conn)


class _FileFailed(Exception):
    """One file of :meth:`RecordingMixin.record_batch` failed: roll back, and again without it."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index, self.error = index, error
