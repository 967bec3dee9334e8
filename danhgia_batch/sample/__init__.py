"""The sample district: synthetic units and people of Long Biên (SPEC Appendix A).

``danhgia init`` writes its registry (:func:`write_sample_registry`) into every new work folder;
the demo (:mod:`danhgia_batch.demo`) builds its month of lists and forms on the same district.
Imports go one way: ``demo → workdir → sample``.
"""

from __future__ import annotations

from .district import District, build_district
from .registry import template_paths, write_sample_registry

__all__ = ["District", "build_district", "template_paths", "write_sample_registry"]
