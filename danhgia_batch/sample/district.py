"""A deterministic synthetic Long Biên district (SPEC Appendix A): units and people.

Unit names are the public names of Long Biên's bodies in 2022; the people are synthetic.
Each unit gets its head, deputies and staff with the position codes of the authority matrix
(``danhgia_batch/data/authority.toml``) and the unit kinds of ``codes.toml``, so that the
decider lists built by :mod:`danhgia_batch.demo.lists` pass the authority rules of letter §2.2.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..models import Person, Unit
from .names import birth_date, person_name
from .plans import REFERENCE_DAY, UnitPlan, unit_plans


@dataclass
class District:
    """Units and people of the synthetic district; lists are in registry order."""

    seed: int
    units: list[Unit]
    people: list[Person]
    # positions held by someone in the full district (before ``units=N`` trimmed it): a
    # decider position held by nobody is outside the district (the City Party deputy secretary).
    positions_held: frozenset[str] = frozenset()
    _by_unit: dict[str, list[Person]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_unit = {}
        for p in self.people:
            self._by_unit.setdefault(p.unit_code, []).append(p)

    def unit(self, code: str) -> Unit:
        for u in self.units:
            if u.code == code:
                return u
        raise KeyError(code)

    def people_of(self, unit_code: str) -> list[Person]:
        return list(self._by_unit.get(unit_code, []))

    def holders(self, position: str) -> list[Person]:
        """People holding ``position``, registry order."""
        return [p for p in self.people if p.position_code == position]

    def registry_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """DonVi and CanBo rows for ``templates.fill_registry`` (keys of layout.*_COLUMNS)."""
        units: list[dict[str, Any]] = [
            {
                "unit_code": u.code,
                "unit_name": u.name,
                "block": u.block,
                "unit_kind": u.kind,
                "parent_code": u.parent_code,
                "emails": f"vanthu.{u.code.lower()}@longbien.example",  # RFC 2606: never delivered
                **_org_row(u),
            }
            for u in self.units
        ]
        people: list[dict[str, Any]] = [
            {
                "person_code": p.code,
                "full_name": p.full_name,
                "birth_date": p.birth_date,
                "unit_code": p.unit_code,
                "position_title": p.position_title,
                "position_code": p.position_code,
                "category": p.category,
                "group": p.group,
                "active": p.active,
            }
            for p in self.people
        ]
        return units, people


_FORM_WORDS = {"party": "Đảng", "state": "Nhà nước"}
_ORG_KEYS = ("level", "header_top", "header_issuer", "place", "signer_authority", "signer_title", "signer_name")


def _org_row(u: Unit) -> dict[str, Any]:
    """The level and letterhead columns of a unit that has them (SPEC §3, §10)."""
    row: dict[str, Any] = {k: getattr(u, k) for k in _ORG_KEYS if getattr(u, k)}
    if u.header_form:
        row["header_form"] = _FORM_WORDS.get(u.header_form, u.header_form)
    if u.administers:
        row["administers"] = u.administers
    for key in ("valid_from", "valid_to"):
        if getattr(u, key) is not None:
            row[key] = getattr(u, key)
    return row


# ---- people ------------------------------------------------------------------------------


STAFF_POSITIONS = ("CONG_CHUC", "VIEN_CHUC", "GIAO_VIEN", "LDHD", "KCT")


def _people_of(plan: UnitPlan, rng: random.Random, next_code: Iterator[str], factor: float = 1.0) -> list[Person]:
    out: list[Person] = []
    for position, title, category, (low, high) in plan.staff:
        leader = position not in STAFF_POSITIONS
        if not leader and factor != 1.0:
            low, high = round(low * factor), round(high * factor)
        for _ in range(rng.randint(low, high)):
            female = rng.random() < plan.female_share
            ages = (max(plan.ages[0], 36), plan.ages[1]) if leader else plan.ages
            out.append(
                Person(
                    code=next(next_code),
                    full_name=person_name(rng, female),
                    unit_code=plan.code,
                    position_code=position,
                    category=category,
                    group=category,
                    birth_date=birth_date(rng, REFERENCE_DAY, *ages),
                    position_title=title,
                )
            )
    return out


def representative_order(codes: Sequence[str]) -> list[str]:
    """Unit codes with a small, varied selection first (for ``--units N``).

    The first six are a department, a school, a Party board, a ward's People's Committee, the
    Party Standing Committee (which lists the heads of Party boards) and the Education Office
    (which also lists the principals): seven decider lists.
    """
    first = ["PNV", "THCS_BODE", "BTCQU", "UBND_BODE", "TTQU", "PGDDT", "DU_BODE", "LDUBND", "HCCB", "VPHU"]
    head = [c for c in first if c in codes]
    return head + [c for c in codes if c not in head]


def build_district(
    seed: int = 2022,
    units: int | None = None,
    *,
    prefix: str = "LB",
    unit_prefix: str = "",
    size_factor: float = 1.0,
) -> District:
    """The synthetic Long Biên district: ~130 units, ~5,000 people, deterministic for ``seed``.

    Args:
        seed: random seed; the same seed gives the same district.
        units: keep only the first ``units`` units of :func:`representative_order` (small
            demos and tests); the kept units and their people are the same as in the full
            district.
        prefix: person-code prefix (``LB00001``…); distinct prefixes give disjoint codes
            when several districts share one ledger (the city benchmark).
        unit_prefix: prepended to every unit code (``Q01_PNV``) for the same reason.
        size_factor: scales the staff (not the leaders) of every unit (the city benchmark's
            bigger districts).
    """
    rng = random.Random(seed)
    counter = iter(f"{prefix}{n:05d}" for n in range(1, 100_000))
    all_units: list[Unit] = []
    all_people: list[Person] = []
    for plan in unit_plans():
        all_units.append(Unit(plan.code, plan.name, plan.block, plan.kind, plan.parent))
        all_people.extend(_people_of(plan, rng, counter, size_factor))
    held = frozenset(p.position_code for p in all_people)
    if units is not None:
        keep = set(representative_order([u.code for u in all_units])[: max(units, 1)])
        all_units = [
            Unit(u.code, u.name, u.block, u.kind, u.parent_code if u.parent_code in keep else "")
            for u in all_units
            if u.code in keep
        ]
        all_people = [p for p in all_people if p.unit_code in keep]
    if unit_prefix:
        all_units = [
            replace(u, code=unit_prefix + u.code, parent_code=unit_prefix + u.parent_code if u.parent_code else "")
            for u in all_units
        ]
        all_people = [replace(p, unit_code=unit_prefix + p.unit_code) for p in all_people]
    return District(seed, all_units, all_people, held)
