"""Decider lists of the demo district, as the authority matrix dictates (letter §2.2).

Each template 02 workbook is the list of the people one decider decides in one unit for one
month (SPEC §7). The lists here are derived from the shipped matrix, not hard-coded: for each
person the matrix names the decider position; the decider is the holder of that position in
the person's own unit (a department head for the department's staff), else its single holder
in the district (the People's Committee chair for ward chairs and department heads, the
Education Office head for principals), else someone outside the district (the City Party
deputy secretary for the district secretary). The list is submitted by the decider's unit.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..domain import AuthorityRule
from ..layout import strip_accents
from ..models import Person, Unit
from ..registry import SIZE_CATEGORIES
from ..sample.district import District
from ..sample.names import given_name, person_name
from ..settings import Settings


@dataclass(frozen=True)
class Decider:
    """Who decides a list: a registry person, or someone outside the district (``code`` empty)."""

    name: str
    position: str
    code: str = ""


@dataclass
class DeciderList:
    """The people one decider decides, submitted by ``unit`` (the decider's unit)."""

    unit: Unit
    decider: Decider
    members: list[Person]
    evaluators: dict[str, Person] = field(default_factory=dict)  # person code -> evaluator

    @property
    def slug(self) -> str:
        """File-name part: the unit code, plus the decider's position when the unit sends several lists."""
        return f"{self.unit.code}_{self.decider.position}"


def _rule_for(settings: Settings, person: Person, unit: Unit, period: str | None) -> AuthorityRule | None:
    rules = settings.authority.rules_for(person.position_code, unit.block, unit.kind, period)
    return rules[0] if rules else None


def unit_size(district: District, unit_code: str) -> int:
    """Head count for the delegation rule of letter §2.2.b (CBCC, VC and LĐHĐ of the unit)."""
    return sum(1 for p in district.people_of(unit_code) if p.category in SIZE_CATEGORIES)


def _position_order(settings: Settings) -> dict[str, int]:
    order = {code: i for i, code in enumerate(settings.codes.codes("positions"))}
    if "GIAO_VIEN" in order and "VIEN_CHUC" in order:  # a school lists its teachers before its staff
        order["GIAO_VIEN"] = order["VIEN_CHUC"] - 0.5  # type: ignore[assignment]
    return order


def sort_members(members: Sequence[Person], settings: Settings) -> list[Person]:
    """Lists are ordered by position, then by given name (SPEC Appendix A)."""
    order = _position_order(settings)

    def key(p: Person) -> tuple[int, str, str, str]:
        given = given_name(p.full_name)
        return (order.get(p.position_code, 99), strip_accents(given), given, p.full_name)

    return sorted(members, key=key)


def _find_decider(district: District, person: Person, positions: Sequence[str]) -> Person | str | None:
    """The registry person holding one of ``positions`` for ``person``; a position string when
    nobody in the full district holds it (an outside decider); None when the holder is not in
    this (trimmed) district."""
    for pos in positions:
        same = [p for p in district.people_of(person.unit_code) if p.position_code == pos and p is not person]
        if same:
            return same[0]
    for pos in positions:
        holders = [p for p in district.holders(pos) if p is not person]
        if holders:
            return holders[0]
    outside = [pos for pos in positions if pos not in district.positions_held]
    return outside[0] if outside else None


def _evaluator(
    district: District, settings: Settings, person: Person, rule: AuthorityRule, decider_unit: str, turn: dict[str, int]
) -> Person | None:
    """The evaluator (người nhận xét) of a row, or None when the decider comments himself.

    Letter §2.2.b: in a department or service unit of 20 or more CBCCVC, LĐHĐ the head
    delegates the comments to a deputy (compulsory). Elsewhere, where the matrix allows an
    evaluator (school management board, the vice chair in charge of a field), one is named.
    Nobody evaluates a peer of their own position.
    """
    positions: tuple[str, ...] = rule.evaluator_positions
    if rule.delegate is not None:
        # a smaller unit's head comments himself
        if person.position_code in rule.delegate.exempt_positions:
            return None
        if unit_size(district, person.unit_code) < rule.delegate.min_unit_size:
            return None
        positions = rule.delegate.evaluator_positions
    if not positions or person.position_code in positions:
        return None
    for unit_code in (person.unit_code, decider_unit):
        candidates = [
            p for p in district.people_of(unit_code) if p.position_code == positions[0] and p is not person
        ] or [p for p in district.people_of(unit_code) if p.position_code in positions and p is not person]
        if candidates:
            i = turn.get(unit_code, 0)
            turn[unit_code] = i + 1
            return candidates[i % len(candidates)]
    return None


def decider_lists(district: District, settings: Settings, period: str | None = None) -> list[DeciderList]:
    """Every decider list of the district, in registry order of the submitting unit, by the
    rules in force for ``period`` (default: the first rule of each position, any date)."""
    by_unit = {u.code: u for u in district.units}
    outside_rng = random.Random(district.seed * 7919 + 1)
    outsiders: dict[str, Decider] = {}
    lists: dict[tuple[str, str], DeciderList] = {}
    turn: dict[str, int] = {}
    for person in district.people:
        unit = by_unit[person.unit_code]
        rule = _rule_for(settings, person, unit, period)
        if rule is None:
            continue
        found = _find_decider(district, person, rule.deciders)
        if found is None:
            continue  # the decider's unit is not in this (trimmed) district
        if isinstance(found, str):
            if found not in outsiders:
                outsiders[found] = Decider(person_name(outside_rng, female=False), found)
            decider, submitting = outsiders[found], unit
        else:
            decider, submitting = Decider(found.full_name, found.position_code, found.code), by_unit[found.unit_code]
        key = (submitting.code, decider.code or decider.position)
        lst = lists.get(key)
        if lst is None:
            lst = lists[key] = DeciderList(submitting, decider, [])
        lst.members.append(person)
        evaluator = _evaluator(district, settings, person, rule, submitting.code, turn)
        if evaluator is not None:
            lst.evaluators[person.code] = evaluator
    order = {u.code: i for i, u in enumerate(district.units)}
    out = sorted(lists.values(), key=lambda lst: (order[lst.unit.code], lst.decider.code == ""))
    for lst in out:
        lst.members = sort_members(lst.members, settings)
    return out
