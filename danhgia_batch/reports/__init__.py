"""reports stage: the xlsxwriter workbooks leaders receive (SPEC §10, letter §2.6).

Inputs are only the report views of :mod:`danhgia_batch.models` and the settings; this
package never imports the ledger.
"""

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
from .unit import write_unit_list, write_unit_reports
from .year import write_year_view

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
    "write_year_view",
    "year_view_path",
]
