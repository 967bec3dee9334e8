"""Exceptions for conditions under which a run cannot go on.

Bad input is never an exception (it is a list of :class:`~danhgia_batch.issues.Issue`);
these are for bad configuration, an unreachable ledger and the like. ``cli`` catches
:class:`DanhgiaError` in one place and maps it to a one-line Vietnamese message and exit code.
"""


class DanhgiaError(Exception):
    """Base class; ``str(exc)`` is a Vietnamese message fit for the user."""

    exit_code = 1


class ConfigError(DanhgiaError):
    """Invalid settings or domain data (exit code 2)."""

    exit_code = 2


class UsageError(DanhgiaError):
    """Invalid command-line usage (exit code 2)."""

    exit_code = 2


class LedgerError(DanhgiaError):
    """The ledger cannot be opened or written."""

    exit_code = 2


class LockedError(DanhgiaError):
    """Another process holds a lock that this one needs (e.g. a second SQLite watcher)."""

    exit_code = 2


class NotSettledError(DanhgiaError):
    """A file did not settle (still being copied, or open in Excel) within the bound."""

    exit_code = 1
