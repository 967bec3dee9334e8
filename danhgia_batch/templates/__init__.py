"""The three Excel templates of SPEC §8: generation (xlsxwriter) and filling (openpyxl).

``generate_templates`` writes templates 00, 01 and 02 from the settings and a scoring
framework; the ``fill_*`` functions fill a generated template the way a clerk's Excel does
(used by the demo and the tests).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .. import layout
from ..errors import ConfigError
from ..periods import Period
from ..regimes import apply_regime
from ..settings import Settings
from .fill import fill_individual, fill_registry, fill_unit_list
from .individual import write_individual
from .registry import write_registry
from .unit_list import write_unit_list

__all__ = ["fill_individual", "fill_registry", "fill_unit_list", "generate_templates"]

log = logging.getLogger(__name__)


def generate_templates(
    settings: Settings,
    out_dir: Path,
    framework_id: str | None = None,
    *,
    regime: str | None = None,
    period: str | None = None,
) -> list[Path]:
    """Write templates 00, 01 and 02 into ``out_dir`` (created if needed).

    Args:
        settings: resolved settings (code lists, grading bands, frameworks).
        out_dir: destination folder; existing template files are overwritten.
        framework_id: framework to generate 01 and 02 from (latest version of that id);
            default ``settings.default_framework``.

        regime: a regime id (SPEC §13): its framework (the first, or ``framework_id`` among its
            own) and its bands; ``period`` (any form clerks type) is then typed in beforehand.
        period: the period the templates are for (needs ``regime`` or works alone).

    Returns:
        The written paths, in the order 00, 01, 02.

    Raises:
        ConfigError: ``framework_id`` names no loaded framework, ``regime`` no regime, or
            ``period`` is not one the regime covers.
    """
    when = Period.parse(period) if period else None
    if period and when is None:
        raise ConfigError(f"Kỳ đánh giá '{period}' không hợp lệ; ví dụ 2026-03, 2026-Q1, Quý I/2026.")
    chosen = None
    if regime is not None:
        chosen = settings.catalogue.get(regime)
        if chosen is None:
            known = ", ".join(sorted(settings.catalogue.regimes))
            raise ConfigError(f"Không có bộ quy định '{regime}' (các bộ hiện có: {known})")
        if when is not None and not chosen.covers(when.code):
            raise ConfigError(f"Bộ quy định '{regime}' không áp dụng cho kỳ {when.title}")
        settings = apply_regime(settings, chosen)
        if framework_id is None and chosen.frameworks:
            framework_id = chosen.frameworks[0].id
    if framework_id is None:
        framework = settings.default_framework
    else:
        found = [f for f in settings.frameworks.values() if f.id == framework_id]
        found += settings.catalogue.frameworks_by_id(framework_id)
        if when is not None:
            found = [f for f in found if f.applies_to(when.code)] or found
        if not found:
            known = ", ".join(sorted({f.id for f in settings.frameworks.values()}))
            raise ConfigError(f"Không có khung tiêu chí '{framework_id}' (các khung hiện có: {known})")
        framework = max(found, key=lambda f: (Period.of(f.valid_from), f.version))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [
        write_registry(out_dir / layout.FILE_NAMES[layout.KIND_REGISTRY], settings),
        write_individual(out_dir / layout.FILE_NAMES[layout.KIND_INDIVIDUAL], settings, framework, when, chosen),
        write_unit_list(out_dir / layout.FILE_NAMES[layout.KIND_UNIT_LIST], settings, framework, when, chosen),
    ]
    log.info("templates written to %s (framework %s %s)", out_dir, framework.id, framework.version)
    return paths
