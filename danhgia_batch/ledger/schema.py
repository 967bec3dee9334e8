"""Ledger tables (SQLAlchemy Core). Scores are integer hundredths (SPEC §5: at most two decimals).

Column names follow the domain (``ma_don_vi``-style Vietnamese only where the template uses
it; here plain English for the code). The same tables run on SQLite and PostgreSQL; they are
created and upgraded by :mod:`.migrate`, never by ``create_all`` at random.

``files.claim_key`` is the exactly-once claim (issue 10): it equals the SHA-256 for a file
that is processed, so a second process inserting the same bytes hits the unique constraint
(``ON CONFLICT DO NOTHING``) and knows the file is someone else's. A byte-identical copy that
arrives later gets a key derived from its path and mtime: ``dup:…`` (recorded as a duplicate,
not processed) when the earlier bytes were recorded, or ``again:…`` (processed again) when they
were rejected — the same bytes may pass once the period is reopened or the registry fixed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

# files.state: claimed → recorded → done; failed (processing error, retried a few times).
STATE_CLAIMED = "claimed"
STATE_RECORDED = "recorded"
STATE_DONE = "done"
STATE_FAILED = "failed"

# files.outcome
ACCEPTED = "accepted"
REJECTED = "rejected"
DUPLICATE = "duplicate"
INVALID = "invalid"  # recorded, but the list breaks the A-quota (letter §2.5)
FAILED = "failed"  # unexpected processing error; the original stays in the inbox

# lists.status
VALID = "valid"
INVALID_QUOTA = "invalid-quota"
SUPERSEDED = "superseded"

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime, nullable=False),
    Column("description", String(200), nullable=False, default=""),
)

files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("claim_key", String(120), nullable=False, unique=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("name", String(400), nullable=False),
    Column("inbox_path", String(1000), nullable=False, default=""),  # relative to the inbox
    Column("unit_folder", String(100)),
    Column("size", BigInteger, nullable=False, default=0),
    Column("arrival", DateTime, nullable=False),  # local time the file was taken (our clock)
    Column("kind", String(4), nullable=False, default=""),
    Column("period", String(7), nullable=False, default="", index=True),
    Column("unit_code", String(100), nullable=False, default=""),
    Column("block", String(40), nullable=False, default=""),
    Column("state", String(12), nullable=False, default=STATE_CLAIMED),
    Column("outcome", String(12)),
    Column("issue_count", Integer, nullable=False, default=0),
    Column("duplicate_of", Integer, ForeignKey("files.id")),
    Column("attempts", Integer, nullable=False, default=1),
    Column("claimed_by", String(200)),
    Column("claimed_at", DateTime),  # UTC
    Column("heartbeat", DateTime),  # UTC
    Column("archived_path", String(1000)),
    Column("error_report", String(1000)),
    Column("recorded_at", DateTime),
    Column("done_at", DateTime),
    # the regime that judged the file (SPEC §13): id and sha256 of its file (migration 6)
    Column("regime_id", String(60), nullable=False, default="", server_default=""),
    Column("regime_hash", String(64), nullable=False, default="", server_default=""),
)
Index("ix_files_state", files.c.state)

lists = Table(
    "lists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_id", Integer, ForeignKey("files.id"), nullable=False, index=True),
    Column("kind", String(4), nullable=False),
    Column("period", String(7), nullable=False),
    Column("unit_code", String(100), nullable=False),
    Column("unit_name", String(400), nullable=False, default=""),
    Column("block", String(40), nullable=False, default=""),
    Column("decider_position", String(60), nullable=False, default=""),
    Column("decider_name", String(200), nullable=False, default=""),
    Column("person_code", String(60), nullable=False, default=""),  # template 01: the one person
    Column("decision_date", Date),
    Column("prepared_by", String(200), nullable=False, default=""),
    Column("prepared_date", Date),
    Column("header_cells", JSON, nullable=False, default=dict),
    Column("version", Integer, nullable=False, default=1),
    Column("status", String(16), nullable=False),
    Column("superseded_by", Integer, ForeignKey("lists.id")),
    Column("arrival", DateTime, nullable=False),
    # template 01: a list of the unit holds the person, so the form counts nowhere (letter §2.6);
    # set by the decision (migration 5)
    Column("covered", Boolean, nullable=False, default=False, server_default=false()),
)
Index("ix_lists_period_unit", lists.c.period, lists.c.unit_code)

EVALUATIONS_PERSON_PERIOD = "ix_evaluations_person_period"
evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", Integer, ForeignKey("lists.id"), nullable=False, index=True),
    Column("row", Integer, nullable=False, default=0),
    Column("person_code", String(60), nullable=False),
    Column("full_name", String(200), nullable=False, default=""),
    Column("birth_date", Date),
    Column("position_title", String(200), nullable=False, default=""),
    Column("position_code", String(60), nullable=False, default=""),
    Column("category", String(20), nullable=False, default=""),
    Column("grp", String(60), nullable=False, default=""),
    Column("self_parts", JSON, nullable=False, default=dict),  # part code -> hundredths
    Column("final_parts", JSON, nullable=False, default=dict),
    Column("criteria", JSON, nullable=False, default=dict),  # criterion -> [self, final] hundredths
    Column("self_total", Integer),  # hundredths
    Column("final_total", Integer),
    Column("self_grade", String(8), nullable=False, default=""),
    Column("final_grade", String(8), nullable=False, default=""),
    Column("self_date", Date),
    Column("evaluator_name", String(200), nullable=False, default=""),
    Column("evaluator_position", String(60), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("cells", JSON, nullable=False, default=dict),
    # SPEC §13: what a regime judged besides the scores: the products of a computed part
    # (hundredths) and the cap flags marked, {"products": {...}, "flags": [...]} (migration 6)
    Column("inputs", JSON),
    # the list's period, kept beside each row (migration 7): a file's people are looked up by
    # (person, period) without visiting their lists of every other month (issue 19)
    Column("period", String(7), nullable=False, default="", server_default=""),
)
Index(EVALUATIONS_PERSON_PERIOD, evaluations.c.person_code, evaluations.c.period)


def _issue_columns() -> list[Column[Any]]:
    """The columns of one issue (a file's in ``issues``, a list's in ``list_notes``)."""
    return [
        Column("code", String(60), nullable=False),
        Column("severity", String(12), nullable=False),
        Column("sheet", String(100), nullable=False, default=""),
        Column("cell", String(20), nullable=False, default=""),
        Column("row", Integer),
        Column("column_name", String(200), nullable=False, default=""),
        Column("value", Text, nullable=False, default=""),
        Column("message", Text, nullable=False, default=""),
    ]


issues = Table(
    "issues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_id", Integer, ForeignKey("files.id"), nullable=False, index=True),
    *_issue_columns(),
)

registry_versions = Table(
    "registry_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(1000), nullable=False, default=""),
    Column("loaded_at", DateTime, nullable=False),
    Column("unit_count", Integer, nullable=False, default=0),
    Column("people_count", Integer, nullable=False, default=0),
)

# SPEC §3, §10: levels, letterheads and validity dates of registry units (issue 16, migration 4).
ORG_COLUMNS = (
    "level",
    "header_top",
    "header_issuer",
    "header_form",
    "place",
    "signer_authority",
    "signer_title",
    "signer_name",
    "administers",
    "valid_from",
    "valid_to",
)

registry_units = Table(
    "registry_units",
    metadata,
    Column("version_id", Integer, ForeignKey("registry_versions.id"), primary_key=True),
    Column("code", String(100), primary_key=True),
    Column("name", String(400), nullable=False, default=""),
    Column("block", String(40), nullable=False, default=""),
    Column("kind", String(60), nullable=False, default=""),
    Column("parent_code", String(100), nullable=False, default=""),
    # migration 4 (issue 16): levels, letterheads, validity (SPEC §3, §10)
    Column("level", String(40), nullable=False, default=""),
    Column("header_top", String(400), nullable=False, default=""),
    Column("header_issuer", String(400), nullable=False, default=""),
    Column("header_form", String(20), nullable=False, default=""),
    Column("place", String(200), nullable=False, default=""),
    Column("signer_authority", String(200), nullable=False, default=""),
    Column("signer_title", String(200), nullable=False, default=""),
    Column("signer_name", String(200), nullable=False, default=""),
    Column("administers", String(40), nullable=False, default=""),
    Column("valid_from", Date),
    Column("valid_to", Date),
)

registry_people = Table(
    "registry_people",
    metadata,
    Column("version_id", Integer, ForeignKey("registry_versions.id"), primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("full_name", String(200), nullable=False, default=""),
    Column("unit_code", String(100), nullable=False, default=""),
    Column("position_code", String(60), nullable=False, default=""),
    Column("category", String(20), nullable=False, default=""),
    Column("grp", String(60), nullable=False, default=""),
    Column("birth_date", Date),
    Column("position_title", String(200), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
)

# SPEC §3 (migration 4, issue 16): the further rows of people listed in a unit that ended and
# in its successor; registry_people holds each person's first row.
registry_moves = Table(
    "registry_moves",
    metadata,
    Column("version_id", Integer, ForeignKey("registry_versions.id"), primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("full_name", String(200), nullable=False, default=""),
    Column("unit_code", String(100), primary_key=True),
    Column("position_code", String(60), nullable=False, default=""),
    Column("category", String(20), nullable=False, default=""),
    Column("grp", String(60), nullable=False, default=""),
    Column("birth_date", Date),
    Column("position_title", String(200), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
)

period_locks = Table(
    "period_locks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("period", String(7), nullable=False, index=True),
    Column("block", String(40), nullable=False, default=""),  # "" = the whole period
    Column("locked", Boolean, nullable=False),
    Column("by", String(200), nullable=False, default=""),
    Column("at", DateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

# SPEC §13: an A-quota exception granted for one unit and period (Decree 335: outstanding
# organisations may have a higher ratio), with who granted it and why (migration 6).
quota_exceptions = Table(
    "quota_exceptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("period", String(7), nullable=False, index=True),
    Column("unit_code", String(100), nullable=False),
    Column("ratio_pct", Integer, nullable=False),  # the ratio in hundredths of a percent (30 % → 3000)
    Column("by", String(200), nullable=False, default=""),
    Column("at", DateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

# Roll-ups (block, district) waiting to be rewritten: marked in the transaction that records a
# list, cleared once written; so a crash between the two leaves them marked (migration 2).
pending_rollups = Table(
    "pending_rollups",
    metadata,
    Column("period", String(7), primary_key=True),
    Column("block", String(40), primary_key=True),  # "" = the district (all blocks)
    Column("generation", Integer, nullable=False, default=1),
)

# Contact e-mail addresses of a registry version (issue 20): units' "Email liên hệ" and
# people's "Email" columns of template 00; rows only where an address was written (migration 3).
registry_contacts = Table(
    "registry_contacts",
    metadata,
    Column("version_id", Integer, ForeignKey("registry_versions.id"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # "unit" | "person"
    Column("code", String(100), primary_key=True),
    Column("emails", Text, nullable=False, default=""),
)

# Every e-mail sent (issue 20): reminders to units, result notices to people. The intent is
# recorded ("sending") before the SMTP session and marked "sent" after it, so a message is
# never sent twice for one (kind, period, recipient code, reason, deadline); a failure is
# marked "failed" and retried by the next run (migration 3).
SENDING = "sending"
SENT = "sent"
SEND_FAILED = "failed"

mail_sendings = Table(
    "mail_sendings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(12), nullable=False),  # "reminder" | "notice"
    Column("period", String(7), nullable=False),
    Column("code", String(100), nullable=False),  # unit code (reminder) or person code (notice)
    Column("reason", String(60), nullable=False),
    Column("deadline", String(10), nullable=False, default=""),  # ISO date the reminder is about
    Column("recipients", Text, nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("message_id", String(300), nullable=False, default=""),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("error", Text, nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    UniqueConstraint("kind", "period", "code", "reason", "deadline", name="uq_mail_sendings_once"),
)

# What the decision recorded about a list besides its file's issues (migration 5): the notes of
# letter §2.6 on a decider's list (forms it covers, differing results), replaced whenever a
# list or form of its unit and period is recorded, and the A-quota verdict of each subject
# group (letter §2.5.a) that the reports show.
list_notes = Table(
    "list_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", Integer, ForeignKey("lists.id"), nullable=False, index=True),
    *_issue_columns(),
)

quota_verdicts = Table(
    "quota_verdicts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", Integer, ForeignKey("lists.id"), nullable=False, index=True),
    Column("grp", String(60), nullable=False),
    Column("ranked", Integer, nullable=False),
    Column("count_a", Integer, nullable=False),
    Column("limit_a", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
)
