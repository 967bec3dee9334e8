"""Where outputs go (SPEC §10): ``outbox/<YYYY-MM>/<KHOI>/<MA_DON_VI>/`` and roll-ups beside.

File names are ASCII slugs carrying the period and the unit code, so they survive SMB shares,
zip tools and e-mail attachments that mangle Vietnamese letters.
"""

from __future__ import annotations

from pathlib import Path

from ..settings import Settings
from .common import safe_code, slug


def period_dir(settings: Settings, period: str) -> Path:
    """``outbox/<YYYY-MM>/``."""
    return settings.outbox / safe_code(period)


def block_dir(settings: Settings, period: str, block: str) -> Path:
    """``outbox/<YYYY-MM>/<KHOI>/``."""
    return period_dir(settings, period) / safe_code(block)


def unit_dir(settings: Settings, period: str, block: str, unit_code: str) -> Path:
    """``outbox/<YYYY-MM>/<KHOI>/<MA_DON_VI>/``: the unit's list and commendation list."""
    return block_dir(settings, period, block) / safe_code(unit_code)


def unit_list_path(settings: Settings, period: str, block: str, unit_code: str) -> Path:
    """``…/<MA_DON_VI>/danh_sach_tong_hop_<ma_don_vi>_<yyyy-mm>.xlsx``."""
    return unit_dir(settings, period, block, unit_code) / f"danh_sach_tong_hop_{slug(unit_code)}_{period}.xlsx"


def commendation_path(settings: Settings, period: str, block: str, unit_code: str) -> Path:
    """``…/<MA_DON_VI>/de_nghi_khen_thuong_<ma_don_vi>_<yyyy-mm>.xlsx``."""
    return unit_dir(settings, period, block, unit_code) / f"de_nghi_khen_thuong_{slug(unit_code)}_{period}.xlsx"


def block_rollup_path(settings: Settings, period: str, block: str) -> Path:
    """``outbox/<YYYY-MM>/<KHOI>/tong_hop_khoi_<khoi>_<yyyy-mm>.xlsx``."""
    return block_dir(settings, period, block) / f"tong_hop_khoi_{slug(block)}_{period}.xlsx"


def area_rollup_path(settings: Settings, period: str, name: str) -> Path:
    """``outbox/<YYYY-MM>/tong_hop_<ten_cap>_<yyyy-mm>.xlsx``: the roll-up of an area (a ward,
    a district, a city), named after the area itself ("tong_hop_phuong_long_bien_2026-12")."""
    return period_dir(settings, period) / f"tong_hop_{slug(name)}_{period}.xlsx"


def district_rollup_path(settings: Settings, period: str, scope: str = "district") -> Path:
    """The top roll-up of a registry without levels, named after ``[reports] district``
    ("tong_hop_quan_long_bien_<yyyy-mm>.xlsx"; ``scope="city"``: the whole city)."""
    return area_rollup_path(settings, period, "Thành phố" if scope == "city" else settings.reports.district)


def year_view_path(settings: Settings, year: int) -> Path:
    """``outbox/nam_<YYYY>/tong_hop_nam_<YYYY>.xlsx``."""
    return settings.outbox / f"nam_{year}" / f"tong_hop_nam_{year}.xlsx"


def area_dashboard_path(settings: Settings, period: str, name: str) -> Path:
    """``outbox/<YYYY-MM>/tong_hop_<ten_cap>_<yyyy-mm>.html``: the dashboard of an area of a
    city's ledger, beside its roll-up workbook of the same name."""
    return area_rollup_path(settings, period, name).with_suffix(".html")


def dashboard_path(settings: Settings, period: str, block: str | None = None) -> Path:
    """``outbox/<YYYY-MM>/index.html`` (the district or city), ``…/<KHOI>/index.html`` (a block)."""
    folder = block_dir(settings, period, block) if block else period_dir(settings, period)
    return folder / "index.html"
