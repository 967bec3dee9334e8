"""The :class:`Ledger`: every file recorded once, every accepted evaluation row, locks, registry.

One write transaction per step (claim, record, done), so a crash between steps leaves the
ledger in a state a restart can finish (SPEC §9, issue 6 ¶3). The parts live in their own
modules: claims (:mod:`.claiming`), decision contexts and recording (:mod:`.recording`), locks
and registry versions (:mod:`.locks`), files, lists and views (:mod:`.reading`).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, delete

from ..errors import LedgerError
from ..settings import Settings
from ..verdict import ContextChanged, Record
from . import claims as c
from . import schema as s
from .base import ClaimLost
from .claiming import ClaimsMixin
from .engine import MOUNTS, make_engine
from .engine import read_only as reading_engine
from .migrate import MIGRATIONS, current_version, migrate
from .outreach import OutreachMixin
from .reading import ReadingMixin
from .recording import Recorded, RecordingMixin


class Ledger(ClaimsMixin, RecordingMixin, ReadingMixin, OutreachMixin):
    """The ledger database (SQLAlchemy Core; SQLite or PostgreSQL).

    Args:
        url: SQLAlchemy URL.
        schema: PostgreSQL schema to use (tests); ``None`` = the default search path.
        stale_after: seconds without a heartbeat after which a claim may be taken over.
        read_only: never migrate (``danhgia check``): a ledger of another schema version is
            refused rather than upgraded. The caller writes nothing through it.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        stale_after: float = 600.0,
        mounts: Path = MOUNTS,
        read_only: bool = False,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, schema=schema, mounts=mounts)
        self.reader = reading_engine(self.engine)  # a decision's context: no write lock (SQLite)
        if read_only:  # ``danhgia check``, the unit writer process: no transaction of theirs writes
            self.engine = self.reader
        self.stale_after = stale_after
        try:
            self.version = _schema_version(self.engine) if read_only else migrate(self.engine)
        except LedgerError:
            self.engine.dispose()
            raise
        except Exception as exc:  # unreachable server, permissions…
            self.engine.dispose()
            raise LedgerError(f"Không mở được sổ cái '{_safe_url(url)}': {exc}") from exc
        self.worker = c.new_worker_id()
        self._beat = c.utcnow()
        self._registry = None
        self._registry_id = None
        self._units_only = None
        self._evals = OrderedDict()
        self._evals_new = set()
        self.results_checked = False

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Release the engine; this run's claims count as dead from now on."""
        c.retire_worker_id(self.worker)
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def reset_for_tests(self) -> None:
        """Delete every row (tests that share one PostgreSQL schema)."""
        with self.engine.begin() as conn:
            for table in reversed(s.metadata.sorted_tables):
                if table.name != "schema_version":
                    conn.execute(delete(table))


def _schema_version(engine: Engine) -> int:
    """The schema version of a ledger opened read-only; it must be this program's."""
    with engine.connect() as conn:
        version = current_version(conn)
    if version != len(MIGRATIONS):
        raise LedgerError(
            f"Sổ cái ở phiên bản {version}, chương trình cần {len(MIGRATIONS)}: hãy chạy 'danhgia process'."
        )
    return version


def _safe_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "?"


def open_ledger(settings: Settings) -> Ledger:
    """The ledger of ``settings`` (``ledger.url``, default SQLite in the work dir)."""
    return Ledger(settings.ledger_url, stale_after=settings.watcher.claim_timeout_minutes * 60)


def open_ledger_read_only(settings: Settings) -> Ledger | None:
    """The ledger of ``settings`` for reading only (``danhgia check``), ``None`` when there is
    none: a SQLite file that does not exist is not created.

    Raises:
        LedgerError: the ledger exists but cannot be opened, or has another schema version.
    """
    from sqlalchemy.engine import make_url

    url = settings.ledger_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or not Path(database).is_file():
            return None
    return Ledger(url, stale_after=settings.watcher.claim_timeout_minutes * 60, read_only=True)


__all__ = ["ClaimLost", "ContextChanged", "Ledger", "Record", "Recorded", "open_ledger", "open_ledger_read_only"]
