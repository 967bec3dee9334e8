"""Schema versions and ordered migrations, run every time a ledger is opened (both engines).

``schema_version`` holds one row per applied migration. :data:`MIGRATIONS` is append-only:
a later release adds ``(2, "…", upgrade_function)`` and an existing ledger is upgraded in
place the next time it is opened. Migrations run in one transaction; on PostgreSQL an
advisory lock keeps two watchers starting at once from migrating twice (SQLite's
``BEGIN IMMEDIATE`` does the same there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, inspect, select, text, update

from ..errors import LedgerError
from . import schema as s

log = logging.getLogger(__name__)

Migration = tuple[int, str, Callable[[Connection], None]]

_ADVISORY_KEY = 528_2022  # letter 528-CV/QU, 2022: any constant shared by every watcher


def _v1_initial(conn: Connection) -> None:
    tables = [
        s.files,
        s.lists,
        s.evaluations,
        s.issues,
        s.registry_versions,
        s.registry_units,
        s.registry_people,
        s.period_locks,
    ]
    s.metadata.create_all(conn, tables=tables)


def _v2_pending_rollups(conn: Connection) -> None:
    s.pending_rollups.create(conn, checkfirst=True)


def _v3_mail(conn: Connection) -> None:
    s.registry_contacts.create(conn, checkfirst=True)
    s.mail_sendings.create(conn, checkfirst=True)


def _v4_registry_org(conn: Connection) -> None:
    s.registry_moves.create(conn, checkfirst=True)
    have = {c["name"] for c in inspect(conn).get_columns("registry_units")}
    table = s.registry_units
    for name in s.ORG_COLUMNS:
        if name in have:
            continue
        column = table.c[name]
        kind = column.type.compile(dialect=conn.dialect)
        default = "" if name.startswith("valid_") else " NOT NULL DEFAULT ''"
        conn.execute(text(f"ALTER TABLE registry_units ADD COLUMN {name} {kind}{default}"))


def _v5_decision_results(conn: Connection) -> None:
    """What the one decision records besides issues (issue 14): ``lists.covered`` and the
    tables ``list_notes`` and ``quota_verdicts``. A ledger created by migration 1 of this
    release already has the column (the table is defined with it)."""
    if "covered" not in {c["name"] for c in inspect(conn).get_columns("lists")}:
        conn.execute(text("ALTER TABLE lists ADD COLUMN covered BOOLEAN NOT NULL DEFAULT FALSE"))
    s.metadata.create_all(conn, tables=[s.list_notes, s.quota_verdicts])


def _v6_regimes(conn: Connection) -> None:
    """The regime (id, content hash) that judged each file and the A-quota exceptions granted
    per unit and period (issue 15, SPEC §13)."""
    s.quota_exceptions.create(conn, checkfirst=True)
    if not inspect(conn).has_table("files"):
        return  # nothing recorded yet (a ledger that never had files gets them from migration 1)
    have = {c["name"] for c in inspect(conn).get_columns("files")}
    for name, size in (("regime_id", 60), ("regime_hash", 64)):
        if name not in have:
            conn.execute(text(f"ALTER TABLE files ADD COLUMN {name} VARCHAR({size}) NOT NULL DEFAULT ''"))
    if inspect(conn).has_table("evaluations") and "inputs" not in {
        c["name"] for c in inspect(conn).get_columns("evaluations")
    }:
        conn.execute(text("ALTER TABLE evaluations ADD COLUMN inputs JSON"))


def _v7_evaluation_period(conn: Connection) -> None:
    """Each evaluation row keeps its list's period, indexed with the person code (issue 19):
    the lookup of a file's people (``queries.people_listed``) then reads only that period's
    rows however many months the ledger holds. The index replaces the one on the person code
    alone (its prefix serves the same lookups)."""
    if not inspect(conn).has_table("evaluations"):
        return
    if "period" not in {c["name"] for c in inspect(conn).get_columns("evaluations")}:
        conn.execute(text("ALTER TABLE evaluations ADD COLUMN period VARCHAR(7) NOT NULL DEFAULT ''"))
    e, lists = s.evaluations, s.lists
    period = select(lists.c.period).where(lists.c.id == e.c.list_id).scalar_subquery()
    conn.execute(update(e).where(e.c.period == "").values(period=period))
    have = {i["name"] for i in inspect(conn).get_indexes("evaluations")}
    if s.EVALUATIONS_PERSON_PERIOD not in have:
        next(i for i in e.indexes if i.name == s.EVALUATIONS_PERSON_PERIOD).create(conn)
    if "ix_evaluations_person_code" in have:
        conn.execute(text("DROP INDEX ix_evaluations_person_code"))


MIGRATIONS: list[Migration] = [
    (1, "Sổ cái ban đầu: tệp, lỗi, danh sách, kết quả, danh mục, khóa kỳ", _v1_initial),
    (2, "Bảng tổng hợp chờ ghi lại (pending_rollups)", _v2_pending_rollups),
    (3, "Địa chỉ e-mail trong danh mục, thư nhắc và thư báo kết quả đã gửi", _v3_mail),
    (4, "Danh mục đơn vị: cấp, tiêu đề văn bản, người ký, thời hạn hiệu lực", _v4_registry_org),
    (5, "Kết quả quyết định: phiếu đã có trong danh sách, ghi chú §2.6, tỷ lệ loại A", _v5_decision_results),
    (6, "Bộ quy định (mã, mã băm) đã dùng để quyết định mỗi tệp; ngoại lệ tỷ lệ loại A", _v6_regimes),
    (7, "Kỳ đánh giá ghi kèm từng dòng kết quả, tra cứu người theo (mã người, kỳ)", _v7_evaluation_period),
]


def current_version(conn: Connection) -> int:
    """Highest applied migration, 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(s.schema_version.c.version), 0))).scalar_one())


def migrate(engine: Engine, migrations: list[Migration] | None = None) -> int:
    """Apply the pending migrations in order; return the resulting version.

    Raises:
        LedgerError: the ledger is newer than this program (written by a later release).
    """
    steps = MIGRATIONS if migrations is None else migrations
    latest = max(v for v, _, _ in steps)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        s.schema_version.create(conn, checkfirst=True)
        version = current_version(conn)
        if version > latest:
            raise LedgerError(
                f"Sổ cái ở phiên bản {version}, mới hơn phiên bản chương trình hỗ trợ ({latest}); "
                "hãy cập nhật danhgia_batch."
            )
        for number, description, step in sorted(steps, key=lambda m: m[0]):
            if number <= version:
                continue
            log.info("ledger migration %s: %s", number, description)
            step(conn)
            conn.execute(
                insert(s.schema_version).values(version=number, applied_at=datetime.now(), description=description)
            )
            version = number
    return version
