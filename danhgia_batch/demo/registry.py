"""The sample registry (template 00) of the demo district: what ``danhgia init`` writes."""

from __future__ import annotations

from pathlib import Path

from .. import layout
from ..settings import Settings
from ..templates import fill_registry
from .district import District, build_district
from .inbox import template_paths


def write_sample_registry(settings: Settings, path: Path, *, district: District | None = None) -> Path:
    """Fill template 00 with the units and people of the demo district (SPEC Appendix A).

    Args:
        settings: resolved settings (templates are generated into ``[paths] templates`` when
            missing).
        path: the registry workbook to write (``danh_muc.xlsx``).
        district: the district to write; default ``build_district()`` (seed 2022, ~5,000
            people). The same district gives the same codes as the demo's lists.

    Returns:
        ``path``.
    """
    district = district or build_district()
    units, people = district.registry_rows()
    template = template_paths(settings)[layout.KIND_REGISTRY]
    return fill_registry(template, Path(path), units, people)
