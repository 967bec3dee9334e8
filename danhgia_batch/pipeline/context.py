"""The ledger read and write around the one decision (:func:`.decide.decide`): build the
context from the ledger, decide, record; decide again from a fresh context when the ledger
changed meanwhile (another worker recorded a list of the same unit, a period was locked).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, TypeVar

from ..errors import LedgerError
from ..layout import KIND_REGISTRY
from ..models import FormResult
from ..settings import Settings
from ..textsafe import fs_text
from ..verdict import Ask, ContextChanged, ContextQuery, DecisionContext, FileFacts, Record, fingerprint
from .decide import decide, facts, judge_recorded

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ..ledger import FileRecord, Ledger, Recorded

T = TypeVar("T")
ATTEMPTS = 16  # decisions made again after a change of context before giving up (a crowd of racing workers)
OPTIMISTIC = 2  # attempts without the unit's decision lock; later ones hold it (Ledger.decision_lock)


def context_query(form: FormResult) -> ContextQuery | None:
    """What the ledger reads for ``form``'s context (``None``: a registry, an empty context)."""
    if form.kind == KIND_REGISTRY:
        return None
    h = form.header
    return ContextQuery(
        period=h.period,
        unit_code=h.unit_code.strip(),
        kind=form.kind,
        decider=(h.decider_position, h.decider_name),
        persons=[r.person_code for r in form.rows],
    )


def context_for(ledger: Ledger | None, form: FormResult) -> DecisionContext:
    """The ledger's snapshot for ``form`` (an empty context without a ledger)."""
    if ledger is None:
        return DecisionContext(has_ledger=False)
    query = context_query(form)
    if query is None:
        return DecisionContext()
    return ledger.decision_context(**query._asdict())


def decide_and_record_batch(
    ledger: Ledger, settings: Settings, work: Sequence[tuple[FileRecord, FormResult]]
) -> list[Recorded | Exception]:
    """Decide about several forms and record them, in order, in one ledger transaction
    (:meth:`~danhgia_batch.ledger.Ledger.record_batch`, issue 19): each form's context is read
    after the forms before it were applied, and :func:`.decide.decide` is the same pure
    decision as :func:`decide_and_record`'s and ``check``'s. The result of each form is what
    was recorded, or the exception that is its own outcome (nothing of it was recorded)."""
    asks = [Ask(file.id, context_query(form), _decider(form, settings, facts(file))) for file, form in work]
    return ledger.record_batch(asks)


def _decider(form: FormResult, settings: Settings, file: FileFacts) -> Callable[[DecisionContext], Record]:
    return lambda context: decide(form, context, settings, file)


def decide_and_record(
    ledger: Ledger, settings: Settings, file: FileRecord, form: FormResult, record: Callable[[Record], T]
) -> T:
    """Decide about ``form`` and record it with ``record``; again if the context changed."""
    for attempt in range(ATTEMPTS):
        with _held(ledger, form, attempt):
            rec = decide(form, context_for(ledger, form), settings, facts(file))
            try:
                return record(rec)
            except ContextChanged as exc:
                log.info("deciding %s again (%d): %s", fs_text(file.name), attempt + 1, exc)
        time.sleep(random.uniform(0, 0.02 * 2 ** min(attempt, 5)))  # jitter: racing workers fall out of step
    raise LedgerError(f"Tệp '{file.name}': sổ cái thay đổi liên tục, chưa ghi nhận được; sẽ thử lại.")


def _held(ledger: Ledger, form: FormResult, attempt: int) -> AbstractContextManager[None]:
    if attempt < OPTIMISTIC or form.kind == KIND_REGISTRY:
        return nullcontext()
    return ledger.decision_lock(form.header.period, form.header.unit_code.strip())


def backfill_results(ledger: Ledger, settings: Settings) -> int:
    """Give the lists recorded before migration 5 their quota verdicts, §2.6 notes and covered
    flags, once (:func:`.decide.judge_recorded`); return the number of units done."""
    if ledger.results_checked:  # once per open ledger (the watcher keeps one open)
        return 0
    units = ledger.units_without_results()
    for period, unit in units:
        places, rows = ledger.unit_snapshot(period, unit)
        snapshot = fingerprint(None, (), places.get("01", ()), places.get("02", ()))
        ledger.record_results(period, unit, judge_recorded(places, rows, settings), snapshot)
    if units:
        log.info("recorded the decision's results of %d units recorded before ledger migration 5", len(units))
    ledger.results_checked = True
    return len(units)
