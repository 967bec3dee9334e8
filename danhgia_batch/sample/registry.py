"""The sample registry (template 00) of the demo district: what ``danhgia init`` writes."""

from __future__ import annotations

from pathlib import Path

from .. import layout
from ..settings import Settings
from ..templates import fill_registry, generate_templates
from .district import District, build_district


def template_paths(settings: Settings) -> dict[str, Path]:
    """The generated templates (generated into ``[paths] templates`` when missing)."""
    folder = settings.path("templates")
    paths = {kind: folder / name for kind, name in layout.FILE_NAMES.items()}
    if not all(p.is_file() for p in paths.values()):
        generate_templates(settings, folder)
    return paths


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
