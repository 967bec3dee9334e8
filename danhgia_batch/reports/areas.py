"""Roll-ups at every level present (SPEC §3, §10; issue 16): a ward, a commune, a district, a city.

An area is a registry unit with a level (``Cấp hành chính``). Its roll-up covers the units
under it; its file name and title come from its own name ("tong_hop_phuong_long_bien_…",
"TOÀN PHƯỜNG LONG BIÊN"), never from a word in the code. A registry without levels has one
roll-up named after ``[reports] district`` in ``danhgia.toml``.

``scope`` (``danhgia report --scope``): ``all`` (default; also ``district`` and ``city``, the
words of earlier releases), a level code (``PHUONG``: every ward), ``LEVEL:CODE`` or a unit code
(that area only).
"""

from __future__ import annotations

from dataclasses import replace

from ..models import PeriodView, Unit
from ..settings import Settings
from .letterhead import area_of, chain_in

ALL_SCOPES = ("all", "district", "city")


def areas_in(view: PeriodView) -> list[Unit]:
    """The areas of the period's registry, registry order."""
    return [u for u in view.org.values() if u.level]


def root_area(view: PeriodView) -> Unit | None:
    """The single area no other area contains (the ward of a ward's ledger, the city of a
    city's); ``None`` without areas or with several roots."""
    roots = [a for a in areas_in(view) if area_of(chain_in(view.org, a)) is None]
    return roots[0] if len(roots) == 1 else None


def select_areas(view: PeriodView, scope: str) -> list[Unit]:
    """Areas of ``view`` chosen by ``scope`` (module docstring); raises ValueError when none match."""
    areas = areas_in(view)
    wanted = scope.strip()
    if wanted.lower() in ALL_SCOPES:
        return areas
    level, _, code = wanted.upper().partition(":")
    chosen = [a for a in areas if (a.level == level and (not code or a.code == code)) or a.code == level]
    if not chosen:
        raise ValueError(wanted)
    return chosen


_LINEAGE: list[tuple[dict[str, Unit], dict[str, frozenset[str]]]] = []  # the last org and its lineage


def _lineage(org: dict[str, Unit]) -> dict[str, frozenset[str]]:
    """Unit code → the codes of the unit and its ancestors in ``org`` (:func:`chain_in`),
    worked out once per org: a city's roll-ups ask it of every unit for every ward (issue 19)."""
    if _LINEAGE and _LINEAGE[0][0] is org:
        return _LINEAGE[0][1]
    lineage = {code: frozenset(u.code for u in chain_in(org, unit)) for code, unit in org.items()}
    _LINEAGE[:] = [(org, lineage)]
    return lineage


def area_view(view: PeriodView, area: Unit) -> PeriodView:
    """The part of ``view`` under ``area`` (units whose chain of parents reaches it)."""
    lineage = _lineage(view.org)

    def inside(code: str) -> bool:
        return area.code in lineage.get(code, ())

    return replace(
        view,
        units=[u for u in view.units if inside(u.unit_code)],
        expected_units=[u for u in view.expected_units if inside(u.code)],
    )


def area_scope_title(area: Unit | None, settings: Settings, scope: str) -> str:
    """ "TOÀN PHƯỜNG LONG BIÊN"; without levels, ``[reports] district`` (or the whole city)."""
    if area is not None:
        return f"TOÀN {area.name.upper()}"
    return "TOÀN THÀNH PHỐ" if scope == "city" else f"TOÀN {settings.reports.district.upper()}"
