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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .errors import LedgerError
from .issues import Issue
from .models import EvaluationRow, ListHeader, Person, Unit

if TYPE_CHECKING:  # the registry stage imports models; the type is only named here
    from .registry import Registry

# list statuses (the ledger's ``lists.status``)
VALID, INVALID_QUOTA, SUPERSEDED = "valid", "invalid-quota", "superseded"


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
    """

    registry: Registry | None = None
    registry_id: int | None = None
    locks: tuple[LockRow, ...] = ()
    place: tuple[PlaceList, ...] = ()
    listed_elsewhere: Mapping[str, str] = field(default_factory=dict)
    form_rows: Mapping[int, list[EvaluationRow]] = field(default_factory=dict)
    has_ledger: bool = True
    fingerprint: str = ""

    def is_locked(self, block: str | None) -> bool:
        """The latest lock row of (period, whole) or (period, block) decides."""
        keys = {"", block} if block else {""}
        rows = [r for r in self.locks if r.block in keys]
        return bool(rows) and max(rows, key=lambda r: r.id).locked


def fingerprint(registry_id: int | None, locks: Iterable[LockRow], place: Iterable[PlaceList]) -> str:
    """What a decision depends on that another worker may change: the registry version, the
    period's lock rows, and the id, status and version of every list of the place."""
    parts = [f"r{registry_id}", *(f"k{r.id}" for r in locks), *(f"l{p.id}:{p.status}:{p.version}" for p in place)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class QuotaVerdict:
    """The A-quota of one subject group (letter §2.5.a): ``group`` "" is the unit as a whole."""

    group: str
    ranked: int
    count_a: int
    limit: int
    ok: bool


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
    for a rejection); ``quota`` the A-quota verdicts the decision was made with;
    ``fingerprint`` the context's (empty: nothing to verify, e.g. a rejection).
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
    fingerprint: str = ""


Decision = Record  # the name the issue uses

__all__ = [
    "INVALID_QUOTA",
    "SUPERSEDED",
    "VALID",
    "ContextChanged",
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
