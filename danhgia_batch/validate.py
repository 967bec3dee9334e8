"""Validation stage (SPEC §9): pandera batch schema (one file: the same rules in plain Python)
plus the framework checks.

The reader's worker processes only read (they import no pandas or pandera, issue 19); the
process that called the reader validates the rows of every file of one call at once, in one
DataFrame (:func:`danhgia_batch.safe.validate_read`; the rows of a single file are checked in
plain Python from the same rules, without importing pandas). Imports go one way (read → validate),
so the implementation lives in :mod:`danhgia_batch.read.schema` (batch schema: required
values, code lists, score ranges per part/criterion, duplicate person codes) and the per-file
reader modules (header fields, period, framework id/version/period, types, decimals,
typed-over totals). This module is its public face for the other stages.
"""

from __future__ import annotations

from collections.abc import Sequence

from .models import FormResult
from .read.schema import PEOPLE_CODES, PEOPLE_REQUIRED, validate_batch
from .settings import Settings

__all__ = ["PEOPLE_CODES", "PEOPLE_REQUIRED", "validate_batch", "validate_forms"]


def validate_forms(forms: Sequence[FormResult], settings: Settings) -> None:
    """Validate the rows of ``forms`` together (pandera, lazy) and append the issues found.

    :func:`danhgia_batch.read.read_forms` already does this for the files it reads; call it for
    forms built in memory (e.g. by a test or an import).
    """
    validate_batch(forms, settings)
