"""Who issues and who signs each printout, from the registry (SPEC §3, §10; issue 16).

Vietnamese official form: Decree 30/2020/NĐ-CP Art. 8 and Appendix I for State bodies,
Hướng dẫn 36-HD/VPTW for Party bodies. Top left, the governing body over the issuing body
(with "*" under a Party body); top right, the national motto or "ĐẢNG CỘNG SẢN VIỆT NAM";
the number line "Số: …" under the issuing body and the place and date line under the motto;
at the end "Nơi nhận" on the left and the signature block on the right: the authority line
("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH") where it applies, the signer's title and name.

Every name comes from the registry (template 00, sheet ``DonVi``): a unit's own letterhead
columns where filled, else derived from its area (the ancestor with a level: ward, commune,
district, city), else from ``[reports]`` in ``danhgia.toml`` (a registry of 2022 with no
levels prints what it printed then).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..models import ListView, PeriodView, Unit, UnitView
from ..settings import Settings
from .common import header_style as block_style

PARTY, STATE = "party", "state"
# the default signer titles when the registry names none (codes.toml may give one per unit kind)
UNIT_SIGNER = "THỦ TRƯỞNG ĐƠN VỊ"
BLOCK_SIGNER = "LÃNH ĐẠO CƠ QUAN"
AREA_SIGNER = "LÃNH ĐẠO"


@dataclass(frozen=True)
class Head:
    """The letterhead and signature of one printout.

    ``top`` None: the default first line of ``style`` (``[reports]``); "" prints none.
    """

    style: str
    issuer: str
    top: str | None = None
    place: str = ""
    authority: str = ""  # "TM. …" / "KT. …" line over the title (blank: signs in person)
    title: str = ""  # the signer's title ("HIỆU TRƯỞNG")
    name: str = ""  # the signer's name
    recipients: tuple[str, ...] = field(default_factory=tuple)
    symbol: str = "DS"  # kind of paper in the number line: DS (danh sách), BC (báo cáo)


def area_of(chain: Sequence[Unit], *, include_self: bool = False) -> Unit | None:
    """The nearest area (a unit with a level) among ``chain`` (a unit and its ancestors)."""
    return next((u for u in (chain if include_self else chain[1:]) if u.level), None)


def area_title(area: Unit | None, settings: Settings) -> str:
    """The name of an area as headers print it: "PHƯỜNG LONG BIÊN" (``[reports]`` without one)."""
    return area.name.upper() if area else settings.reports.district.upper()


def _default_top(style: str, area: Unit | None, settings: Settings) -> str | None:
    """The governing body over a unit of ``area``: its Party committee or People's Committee."""
    if area is None:
        return None  # the [reports] names, as before levels existed
    return f"ĐẢNG BỘ {area_title(area, settings)}" if style == PARTY else f"UBND {area_title(area, settings)}"


def _place(chain: Iterable[Unit], settings: Settings) -> str:
    return next((u.place for u in chain if u.place), settings.reports.place)


def _kind_signer(settings: Settings, kind: str) -> str:
    for code in settings.codes.unit_kinds:
        if code.code == kind:
            return str(code.extra.get("signer", ""))
    return ""


def administrator(org: dict[str, Unit], block: str, area: Unit | None = None) -> Unit | None:
    """The unit that administers ``block`` (column "Quản trị khối") directly in ``area``
    (its nearest area); without ``area``, the first one."""
    found = [u for u in org.values() if u.administers == block]
    if area is not None:
        found = [u for u in found if (area_of(chain_in(org, u)) or u).code == area.code]
    return found[0] if found else None


def chain_in(org: dict[str, Unit], unit: Unit) -> list[Unit]:
    """``unit`` and its ancestors found in ``org``, the unit first."""
    out = [unit]
    while out[-1].parent_code and out[-1].parent_code in org and org[out[-1].parent_code] not in out:
        out.append(org[out[-1].parent_code])
    return out


# --------------------------------------------------------------------------- units


def unit_signer_name(view: UnitView) -> str:
    """The head who signs a unit's papers when the registry names nobody.

    With several deciders in one unit (a Party Standing Committee lists its heads of boards and
    sends the list on which the City decides its Secretary), the signer is the decider who is
    a member of the unit (listed in one of its lists); else the decider of most rows.
    """
    deciders = Counter[str]()
    for lst in view.lists:
        if lst.header.decider_name:
            deciders[lst.header.decider_name] += max(len(lst.rows), 1)
    if len(deciders) <= 1:
        return next(iter(deciders), "")
    members = {r.full_name for lst in view.lists for r in lst.rows}
    inside = [name for name in deciders if name in members]
    if len(inside) == 1:
        return inside[0]
    return deciders.most_common(1)[0][0]


def unit_head(view: UnitView, settings: Settings, recipients: Sequence[str] = ()) -> Head:
    """Letterhead and signer of a unit's list and commendation list."""
    unit = view.chain[0] if view.chain else None
    style = (unit.header_form if unit and unit.header_form else "") or block_style(settings, view.block)
    area = area_of(view.chain)
    name = view.unit_name or view.unit_code
    if unit is None:
        return Head(style, name, title=UNIT_SIGNER, name=unit_signer_name(view), recipients=tuple(recipients))
    admin = view.administrator
    return Head(
        style=style,
        issuer=unit.header_issuer or name,
        top=unit.header_top or _default_top(style, area, settings),
        place=_place(view.chain, settings),
        authority=unit.signer_authority,
        title=unit.signer_title or _kind_signer(settings, unit.kind) or UNIT_SIGNER,
        name=unit.signer_name or unit_signer_name(view),
        recipients=tuple(recipients) or _unit_recipients(admin, unit, area, settings, view.block),
    )


def _unit_recipients(
    admin: Unit | None, unit: Unit, area: Unit | None, settings: Settings, block: str
) -> tuple[str, ...]:
    """Where a unit's list goes: its block's administrator; the administrator's own list goes to
    the area's leaders."""
    if area is not None and (admin is None or admin.code == unit.code):
        return (f"- Lãnh đạo {area.name} (để báo cáo);", "- Lưu: VT.")
    label = (
        admin.name
        if admin
        else next((str(b.extra.get("administrator", "")) for b in settings.codes.blocks if b.code == block), "")
    )
    out = [f"- {label} (để tổng hợp);"] if label else []
    return (*out, "- Lưu: VT.")


def list_signer(lst: ListView) -> str:
    """The decider of one list (a unit with one list signs with that decider's name)."""
    return lst.header.decider_name


# --------------------------------------------------------------------------- roll-ups


def block_head(view: PeriodView, block: str, settings: Settings, area: Unit | None = None) -> Head:
    """Letterhead of a block roll-up: the unit of ``area`` that administers the block (registry
    column "Quản trị khối"); the area itself when none does; the administrator named in
    codes.toml for a registry without levels."""
    admin = administrator(view.org, block, area)
    style = block_style(settings, block)
    if admin is None and area is not None:
        return replace(area_head(area, view, settings), style=style if not area.header_form else area.header_form)
    if admin is None:
        label = next((str(b.extra.get("administrator", "")) for b in settings.codes.blocks if b.code == block), "")
        label = label or settings.codes.label("blocks", block)
        return Head(style, label, title=BLOCK_SIGNER, recipients=("- Lãnh đạo (để báo cáo);", "- Lưu: VT."))
    chain = chain_in(view.org, admin)
    style = admin.header_form or style
    top_area = area_of(chain)
    upward = f"- Lãnh đạo {top_area.name} (để báo cáo);" if top_area else "- Lãnh đạo (để báo cáo);"
    return Head(
        style=style,
        issuer=admin.header_issuer or admin.name,
        top=admin.header_top or _default_top(style, top_area, settings),
        place=_place(chain, settings),
        authority=admin.signer_authority,
        title=admin.signer_title or BLOCK_SIGNER,
        name=admin.signer_name,
        recipients=(upward, "- Các đơn vị trong khối;", "- Lưu: VT."),
        symbol="BC",
    )


def area_head(area: Unit | None, view: PeriodView, settings: Settings) -> Head:
    """Letterhead of the roll-up of an area (a ward, a district, a city); ``None``: the
    ``[reports]`` district of a registry without levels."""
    if area is None:
        return Head(
            STATE, f"UBND {area_title(None, settings)}", "", title=AREA_SIGNER,
            recipients=("- Thường trực cấp ủy (để báo cáo);", "- Lưu: VT."), symbol="BC",
        )  # fmt: skip
    chain = chain_in(view.org, area)
    style = area.header_form or STATE
    parent = area_of(chain)
    default_issuer = f"ỦY BAN NHÂN DÂN {area.name.upper()}" if style == STATE else f"ĐẢNG ỦY {area.name.upper()}"
    upward = f"- {parent.name} (để báo cáo);" if parent else "- Thường trực cấp ủy (để báo cáo);"
    return Head(
        style=style,
        issuer=area.header_issuer or default_issuer,
        top=area.header_top,
        place=_place(chain, settings),
        authority=area.signer_authority,
        title=area.signer_title or AREA_SIGNER,
        name=area.signer_name,
        recipients=(upward, "- Lưu: VT."),
        symbol="BC",
    )
