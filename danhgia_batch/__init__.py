"""danhgia_batch: spreadsheet-driven batch processor for the monthly evaluation of CBCCVC, LĐHĐ.

The package reads as the path a file travels: intake → read → validate → rules → ledger →
reports; ``pipeline`` ties the stages, ``watch`` and ``cli`` sit on top.
"""

__version__ = "0.1.0"
