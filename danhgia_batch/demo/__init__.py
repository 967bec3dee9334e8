"""The demo: a realistic synthetic Long Biên district, processed end to end (SPEC §11 ``demo``)."""

from __future__ import annotations

from ..sample import District, build_district, write_sample_registry
from .runner import DemoResult, describe, run_demo

__all__ = ["DemoResult", "District", "build_district", "describe", "run_demo", "write_sample_registry"]
