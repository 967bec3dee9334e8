"""reports stage: the xlsxwriter workbooks leaders receive (SPEC §10, letter §2.6).

Inputs are only the report views of :mod:`danhgia_batch.models` and the settings; this
package never imports the ledger.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..atomic import atomic_path, atomic_write_text
    from .commendation import write_commendation
    from .common import atomic_workbook, slug
    from .paths import (
        area_rollup_path,
        block_rollup_path,
        commendation_path,
        district_rollup_path,
        unit_dir,
        unit_list_path,
        year_view_path,
    )
    from .rollup import write_area_rollups, write_block_rollup, write_district_rollup
    from .unit import write_unit_list, write_unit_reports, write_unit_reports_of
    from .year import write_year_view

# Imported on first use (PEP 562): ``reports.common`` or ``reports.errors`` alone (the process
# path without reports) does not import every writer (issue 19).
_HOME = {
    "area_rollup_path": ".paths",
    "atomic_path": "..atomic",
    "atomic_workbook": ".common",
    "atomic_write_text": "..atomic",
    "block_rollup_path": ".paths",
    "commendation_path": ".paths",
    "district_rollup_path": ".paths",
    "slug": ".common",
    "unit_dir": ".paths",
    "unit_list_path": ".paths",
    "write_area_rollups": ".rollup",
    "write_block_rollup": ".rollup",
    "write_commendation": ".commendation",
    "write_district_rollup": ".rollup",
    "write_unit_list": ".unit",
    "write_unit_reports": ".unit",
    "write_unit_reports_of": ".unit",
    "write_year_view": ".year",
    "year_view_path": ".paths",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "area_rollup_path",
    "atomic_path",
    "atomic_workbook",
    "atomic_write_text",
    "block_rollup_path",
    "commendation_path",
    "district_rollup_path",
    "slug",
    "unit_dir",
    "unit_list_path",
    "write_area_rollups",
    "write_block_rollup",
    "write_commendation",
    "write_district_rollup",
    "write_unit_list",
    "write_unit_reports",
    "write_unit_reports_of",
    "write_year_view",
    "year_view_path",
]
