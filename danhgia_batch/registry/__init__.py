"""The registry of units and people (template 00, SPEC §3) and the checks that use it.

Pure functions: the registry arrives as a :class:`~danhgia_batch.models.FormResult` (read by
the reader) or from the ledger; nothing here touches files or the database.

- :func:`validate_registry` checks a template 00 file (codes unique, parents known, no cycle,
  codes known); :func:`registry_from_form` turns it into a :class:`Registry`.
- :func:`crosscheck` checks an evaluation list (template 02) or form (template 01) against it;
  :func:`adopt_registry_groups` gives rows with a blank subject group the registry's.
- :func:`unit_size`, :func:`missing_people` and :func:`completeness` feed the authority rule
  and the reports.

Codes (unit, person, block, kind, position, category) are compared after :func:`norm_code`
(NFC, trimmed, upper case); names after :func:`norm_name` (NFC, spacing collapsed, casefolded).
Without a registry every check here is skipped by the caller (``current_registry()`` is None).
"""

from .crosscheck import adopt_registry_groups, compare_names, crosscheck
from .model import (
    SIZE_CATEGORIES,
    Registry,
    UnitCompleteness,
    completeness,
    missing_people,
    norm_code,
    norm_name,
    person_blocks,
    unit_size,
)
from .template import registry_from_form, validate_registry

__all__ = [
    "SIZE_CATEGORIES",
    "Registry",
    "UnitCompleteness",
    "adopt_registry_groups",
    "compare_names",
    "completeness",
    "crosscheck",
    "missing_people",
    "norm_code",
    "norm_name",
    "person_blocks",
    "registry_from_form",
    "unit_size",
    "validate_registry",
]
