"""The registry model: units and people in force, head counts and completeness (SPEC §3).

Codes (unit, person, block, kind, position, category) are compared after :func:`norm_code`
(NFC, trimmed, upper case); names after :func:`norm_name` (NFC, spacing collapsed, casefolded).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..domain import period_start
from ..models import Person, Unit

# Letter §2.2.b: "đơn vị có từ 20 CBCCVC, LĐHĐ trở lên". Part-time ward workers (KCT) are
# neither CBCCVC nor LĐHĐ, so they do not count towards the size. In practice the rule only
# applies to departments and public service units (CQ-3), which employ no KCT.
SIZE_CATEGORIES = frozenset({"CBCC", "VC", "LDHD"})


def norm_code(value: object) -> str:
    """A code as compared everywhere: NFC, trimmed, upper case (``" lb01 "`` → ``"LB01"``)."""
    if type(value) is str:
        return _norm_text_code(value)
    return unicodedata.normalize("NFC", str(value or "")).strip().upper()


def norm_text_code(value: str) -> str:
    """:func:`norm_code` of a text, not cached: for codes seen once (a period's 170,000
    evaluated people), which would only push the codes compared again out of the cache."""
    return unicodedata.normalize("NFC", value).strip().upper()


# pure; the same codes are compared for every row of every file
_norm_text_code = lru_cache(maxsize=1 << 12)(norm_text_code)


def norm_name(value: object) -> str:
    """A person's name as compared: NFC, spacing collapsed, casefolded."""
    return " ".join(unicodedata.normalize("NFC", str(value or "")).split()).casefold()


@dataclass
class Registry:
    """Units and people in force, keyed by normalised code; ``version`` is the ledger's id."""

    units: dict[str, Unit] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    version: int | None = None
    # people listed once per unit they were in, in units never in force together (a unit that
    # ended and its successor, SPEC §3): person code → every row; ``people`` holds the first
    moves: dict[str, list[Person]] = field(default_factory=dict)
    # people by home unit, built on first use (a city registry has 200,000 people and
    # thousands of units: a scan per unit would be quadratic); rebuilt if people change size.
    _by_unit: dict[str, list[Person]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _indexed: int = field(default=-1, init=False, repr=False, compare=False)
    _periods: dict[str, Registry] = field(default_factory=dict, init=False, repr=False, compare=False)
    _admins: dict[tuple[str, str], Unit] | None = field(default=None, init=False, repr=False, compare=False)
    _sizes: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _index(self) -> dict[str, list[Person]]:
        if self._indexed != len(self.people):
            by_unit: dict[str, list[Person]] = {}
            for p in self.people.values():
                by_unit.setdefault(norm_code(p.unit_code), []).append(p)
            self._by_unit, self._indexed = by_unit, len(self.people)
            self._sizes = {}
        return self._by_unit

    def unit(self, unit_code: str) -> Unit | None:
        return self.units.get(norm_code(unit_code))

    def person(self, person_code: str) -> Person | None:
        return self.people.get(norm_code(person_code))

    def chain(self, unit_code: str) -> list[Unit]:
        """The unit and its ancestors, the unit first (a cycle or unknown parent ends it)."""
        out: list[Unit] = []
        unit = self.unit(unit_code)
        while unit is not None and unit not in out:
            out.append(unit)
            unit = self.unit(unit.parent_code) if unit.parent_code else None
        return out

    def administrator_of(self, unit_code: str) -> Unit | None:
        """The unit that administers the block of ``unit_code`` in its nearest area (column
        "Quản trị khối"); without an area, a unit with no area administering the block."""
        chain = self.chain(unit_code)
        if not chain:
            return None
        if self._admins is None:  # (nearest area code or "", block) → administrator, built once
            self._admins = {}
            for u in self.units.values():
                if u.administers:
                    area = next((a for a in self.chain(u.code) if a.level), None)
                    self._admins.setdefault((area.code if area else "", u.administers), u)
        area = next((u for u in chain if u.level), None)
        block = chain[0].block
        return self._admins.get((area.code if area else "", block))

    def areas(self) -> list[Unit]:
        """Units with a level (wards, communes, districts, a city), registry order (SPEC §3)."""
        return [u for u in self.units.values() if u.level]

    def in_force(self, period: str) -> Registry:
        """The registry of ``period``: units in force on its first day and their people.

        SPEC §3: units end on a date and their successors begin that date; a period uses the
        structure in force for it. Without validity dates the registry itself is returned.
        """
        day = period_start(period)
        if day is None or not any(u.valid_from or u.valid_to for u in self.units.values()):
            return self
        if period in self._periods:  # a city registry is filtered once per period, not per file
            return self._periods[period]
        units = {c: u for c, u in self.units.items() if u.in_force(day)}
        people = {c: p for c, p in self.people.items() if norm_code(p.unit_code) in units}
        for code, rows in self.moves.items():  # the row of the unit in force, if any
            here = [p for p in rows if norm_code(p.unit_code) in units]
            if here:
                people[code] = here[0]
        if len(units) == len(self.units) and len(people) == len(self.people) and not self.moves:
            found = self  # everything is in force: no copy of a city's 170,000 people (issue 19)
        else:
            found = Registry(units=units, people=people, version=self.version)
        self._periods[period] = found
        return found

    def block_of(self, unit_code: str) -> str | None:
        """Block of a unit, or None when the unit is not in the registry."""
        unit = self.unit(unit_code)
        return unit.block if unit else None

    def unit_kind(self, unit_code: str) -> str | None:
        unit = self.unit(unit_code)
        return unit.kind if unit else None

    def people_of(self, unit_code: str, *, active_only: bool = True) -> list[Person]:
        """People whose home unit is ``unit_code`` (not those of its sub-units), registry order."""
        return [p for p in self._index().get(norm_code(unit_code), []) if p.active or not active_only]

    def expected_units(self, block: str | None = None) -> list[Unit]:
        """Units expected to submit each month: those with at least one active person.

        A unit with no people of its own (a grouping parent) submits nothing and is never
        "not submitted". Registry order, optionally restricted to one block.
        """
        index = self._index()
        return [
            u
            for c, u in self.units.items()
            if (block is None or u.block == block) and any(p.active for p in index.get(c, []))
        ]


def unit_size(registry: Registry, unit_code: str) -> int:
    """Head count for the "20 or more CBCCVC, LĐHĐ" delegation rule (letter §2.2.b).

    Active people of the unit itself whose category is CBCC, VC or LĐHĐ; KCT do not count
    (see :data:`SIZE_CATEGORIES`). 0 for a unit not in the registry.
    """
    index = registry._index()  # (first: it forgets the sizes when the people changed)
    key = norm_code(unit_code)
    size = registry._sizes.get(key)
    if size is None:  # counted once per unit: every form of a school asks (issue 19)
        size = sum(1 for p in index.get(key, []) if p.active and norm_code(p.category) in SIZE_CATEGORIES)
        registry._sizes[key] = size
    return size


def missing_people(registry: Registry, unit_code: str, evaluated: set[str]) -> list[Person]:
    """Active people of the unit with no accepted evaluation in the period.

    ``evaluated`` should hold the person codes evaluated anywhere in the period, not only in
    the unit's own lists: a ward chair is decided on the district chair's list (letter §2.2.b).
    """
    done = {norm_code(c) for c in evaluated}
    return [p for p in registry.people_of(unit_code) if norm_code(p.code) not in done]


def person_blocks(registry: Registry, person_codes: Iterable[str]) -> dict[str, str]:
    """Block of each known person's home unit (``check_form(person_blocks=...)``)."""
    out: dict[str, str] = {}
    for code in person_codes:
        person = registry.person(code)
        block = registry.block_of(person.unit_code) if person else None
        if block:
            out[code] = block
    return out


# --------------------------------------------------------------------------- completeness


@dataclass
class UnitCompleteness:
    """One expected unit in one period: who was evaluated, who is missing."""

    unit: Unit
    submitted: bool
    evaluated: int  # active registry people of the unit evaluated anywhere in the period
    expected: int  # active registry people of the unit
    missing: list[Person] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit.code,
            "unit_name": self.unit.name,
            "block": self.unit.block,
            "submitted": self.submitted,
            "evaluated": self.evaluated,
            "expected": self.expected,
            "missing": [p.code for p in self.missing],
        }


def completeness(
    registry: Registry, period_units: Mapping[str, set[str]], *, block: str | None = None
) -> dict[str, UnitCompleteness]:
    """Completeness of a period per expected unit (SPEC §4, issue 5 ¶3).

    Args:
        registry: the registry in force for the period.
        period_units: unit code → person codes of that unit's accepted lists in the period.
            A unit absent from the mapping has no accepted list: "not submitted".
        block: restrict to the units of one block.

    Returns:
        unit code → :class:`UnitCompleteness`, in registry order.
    """
    submitted = {norm_code(c) for c in period_units}
    evaluated = {norm_code(p) for codes in period_units.values() for p in codes}
    out: dict[str, UnitCompleteness] = {}
    for unit in registry.expected_units(block):
        people = registry.people_of(unit.code)
        missing = [p for p in people if norm_code(p.code) not in evaluated]
        out[unit.code] = UnitCompleteness(
            unit=unit,
            submitted=norm_code(unit.code) in submitted,
            evaluated=len(people) - len(missing),
            expected=len(people),
            missing=missing,
        )
    return out
