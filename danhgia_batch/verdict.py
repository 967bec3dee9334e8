"""What a decision about one file is made from and what it produces (issue 14, "one verdict").

:class:`DecisionContext` is a read-only snapshot the ledger builds (the registry in force for
the period, the lock rows, the lists already recorded for the same unit, period and kind, the
people listed elsewhere, the rows of the decider's other individual forms) together with a
``fingerprint`` of what it was built from. :class:`Record` is everything the decision says
is to be recorded. The pure function that goes from one to the other,
:func:`danhgia_batch.pipeline.decide.decide`, is the only place a verdict is worked out;
the ledger applies a :class:`Record` and, in the same transaction, refuses it
(:class:`ContextChanged`) when the fingerprint no longer matches (two workers racing on one
unit): the pipeline then decides again from a fresh context.

A base module: every stage may import it (the ledger builds and applies, the pipeline decides).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .errors import LedgerError
from .issues import Issue
from .models import EvaluationRow, ListHeader, Person, QuotaVerdict, Unit

if TYPE_CHECKING:  # the registry stage imports models; the type is only named here
    from .registry import Registry

# list statuses (the ledger's ``lists.status``)
VALID, INVALID_QUOTA, SUPERSEDED = "valid", "invalid-quota", "superseded"
NEW_LIST = 0  # in a Record's per-list maps: the list being recorded (its id is not known yet)


class ContextChanged(LedgerError):
    """The lists, locks or registry a decision was made from changed before it was recorded."""


@dataclass(frozen=True)
class PlaceList:
    """A recorded list (any status) of the unit, period and kind of the file at hand."""

    id: int
    file_id: int
    file_name: str
    decider_position: str
    decider_name: str
    person_code: str
    version: int
    status: str
    arrival: datetime


@dataclass(frozen=True)
class LockRow:
    """One row of the lock history of the period (``block`` "" = the whole period)."""

    id: int
    block: str
    locked: bool


@dataclass(frozen=True)
class FileFacts:
    """The file being decided: its id and arrival order its place among the recorded lists;
    ``unit_folder`` the inbox sub-folder it came from (``None``: the inbox root, or ``check``)."""

    id: int
    name: str
    arrival: datetime
    unit_folder: str | None = None


@dataclass(frozen=True)
class DecisionContext:
    """Read-only snapshot of the ledger a decision is made from.

    ``registry`` is ``None`` when no registry was loaded (or ``check`` ran without a ledger:
    ``has_ledger`` False). ``place`` holds every list of (period, unit, kind) in arrival order;
    ``form_rows`` the evaluation rows of the active individual forms (01) of the deciders the
    file touches (the A-quota of a decider is judged over all their forms, letter §2.5.a).
    ``others`` are the active lists of the other kind (02 for a form, 01 for a list) of the
    unit and period; when there are any, ``other_rows`` holds the rows of every active list
    and form of the unit and period (letter §2.6: a person on a list and on a form).
    """

    registry: Registry | None = None
    registry_id: int | None = None
    locks: tuple[LockRow, ...] = ()
    place: tuple[PlaceList, ...] = ()
    listed_elsewhere: Mapping[str, str] = field(default_factory=dict)
    form_rows: Mapping[int, list[EvaluationRow]] = field(default_factory=dict)
    others: tuple[PlaceList, ...] = ()
    other_rows: Mapping[int, list[EvaluationRow]] = field(default_factory=dict)
    has_ledger: bool = True
    # SPEC §13: (regime id, hash) the period's files were judged with, when it was ever locked
    period_regimes: tuple[tuple[str, str], ...] = ()
    # SPEC §13: the A-quota ratio granted to the unit for the period (danhgia quota grant)
    quota_ratio: float | None = None
    fingerprint: str = ""

    def is_locked(self, block: str | None) -> bool:
        """The latest lock row of (period, whole) or (period, block) decides."""
        keys = {"", block} if block else {""}
        rows = [r for r in self.locks if r.block in keys]
        return bool(rows) and max(rows, key=lambda r: r.id).locked


class Marked(Protocol):
    """What :func:`fingerprint` reads of a list (a :class:`PlaceList`, or the ledger's lighter
    row of the write transaction's check)."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def version(self) -> int: ...


def fingerprint(
    registry_id: int | None,
    locks: Iterable[LockRow],
    place: Iterable[Marked],
    others: Iterable[Marked] = (),
    grant: int | None = None,
) -> str:
    """What a decision depends on that another worker may change: the last registry version
    loaded (with the lock rows, it fixes the version in force for the period), the period's
    lock rows, the id, status and version of every list of the place and of the
    active lists of the other kind."""
    parts = [f"r{registry_id}", *(f"k{r.id}" for r in locks), *(f"l{p.id}:{p.status}:{p.version}" for p in place)]
    parts += [f"o{p.id}:{p.status}" for p in others]
    if grant is not None:  # an A-quota exception granted to the unit for the period
        parts.append(f"g{grant}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass
class ListPlan:
    """How recording a list (02) or form (01) changes the lists of its place.

    ``status``/``version``/``superseded_by`` are the new list's; ``supersedes`` the lists it
    replaces; ``bump`` the lists that arrived later and move one version up; ``set_status``
    list id → status of other lists (a decider's individual forms regrouped for the quota).
    """

    status: str
    version: int
    superseded_by: PlaceList | None = None
    supersedes: list[PlaceList] = field(default_factory=list)
    bump: list[int] = field(default_factory=list)
    set_status: dict[int, str] = field(default_factory=dict)


@dataclass
class Record:
    """Everything decided about one claimed file, applied by the ledger in one transaction.

    ``issues`` are the file's own; ``plan`` is set for an accepted or invalid list (``None``
    for a rejection); ``quota`` the A-quota verdicts of the new list (of its decider's forms,
    for 01); ``quota_by_list`` those of other lists whose group was judged again;
    ``overlap_notes`` 02 list id → its complete letter §2.6 notes and ``covered`` 01 form id →
    whether a list covers it (:data:`NEW_LIST` for the new list); ``fingerprint`` the
    context's (empty: nothing to verify, e.g. a rejection).
    """

    outcome: str
    kind: str = ""
    period: str = ""
    unit_code: str = ""
    block: str = ""
    issues: list[Issue] = field(default_factory=list)
    header: ListHeader | None = None
    rows: list[EvaluationRow] = field(default_factory=list)
    registry: tuple[list[Unit], list[Person]] | None = None  # template 00: the new registry
    duplicate_of: int | None = None
    plan: ListPlan | None = None
    quota: list[QuotaVerdict] = field(default_factory=list)
    quota_by_list: dict[int, list[QuotaVerdict]] = field(default_factory=dict)
    overlap_notes: dict[int, list[Issue]] = field(default_factory=dict)
    covered: dict[int, bool] = field(default_factory=dict)
    fingerprint: str = ""
    regime_id: str = ""  # SPEC §13: the regime that judged the file and its content hash
    regime_hash: str = ""


Decision = Record  # the name the issue uses


class ContextQuery(NamedTuple):
    """What :meth:`RecordingMixin.decision_context` reads for one file: its header's period and
    unit, its kind, its decider (position, name) and the person codes of its rows."""

    period: str
    unit_code: str
    kind: str
    decider: tuple[str, str] = ("", "")
    persons: Sequence[str] = ()


@dataclass(frozen=True)
class Ask:
    """One file of :meth:`RecordingMixin.record_batch`: the claimed file, the context to read
    for it (``None``: an empty one) and the pure decision to make from that context."""

    file_id: int
    query: ContextQuery | None
    decide: Callable[[DecisionContext], Record]


__all__ = [
    "INVALID_QUOTA",
    "NEW_LIST",
    "SUPERSEDED",
    "VALID",
    "Ask",
    "ContextChanged",
    "ContextQuery",
    "Decision",
    "DecisionContext",
    "FileFacts",
    "ListPlan",
    "LockRow",
    "PlaceList",
    "QuotaVerdict",
    "Record",
    "fingerprint",
]
