"""Contact addresses of the registry and the record of every e-mail sent (issue 20).

A message is sent at most once per (kind, period, code, reason, deadline): the intent is
inserted as ``sending`` in its own transaction before the SMTP session, and marked ``sent``
or ``failed`` after it. A ``failed`` row is taken again by the next run; a row left
``sending`` (the run died between the server's acceptance and the mark) is never resent
automatically, since the server may have accepted it: it is reported for a person to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..models import Person, Unit
from . import schema as s

_C, _M = s.registry_contacts, s.mail_sendings


def save_contacts(conn: Connection, vid: int, units: Mapping[str, Unit], people: Mapping[str, Person]) -> None:
    """The addresses written in template 00 for registry version ``vid``, by the codes the
    registry is stored under (no address: no row)."""
    rows: dict[tuple[str, str], str] = {}
    for code, u in units.items():
        if u.emails.strip():
            rows[("unit", code)] = u.emails.strip()
    for code, p in people.items():
        if p.email.strip():
            rows[("person", code)] = p.email.strip()
    if rows:
        conn.execute(insert(_C), [{"version_id": vid, "kind": k, "code": c, "emails": e} for (k, c), e in rows.items()])


def contacts(conn: Connection, vid: int, kind: str) -> dict[str, str]:
    """Code → addresses as written, for units (``kind="unit"``) or people (``"person"``)."""
    q = select(_C.c.code, _C.c.emails).where(_C.c.version_id == vid, _C.c.kind == kind)
    return {r.code: r.emails for r in conn.execute(q)}


@dataclass(frozen=True)
class Sending:
    """One message to send (or sent): what makes it unique, and what it says."""

    kind: str  # "reminder" | "notice"
    period: str
    code: str  # unit code or person code
    reason: str
    deadline: str = ""
    recipients: str = ""
    subject: str = ""
    message_id: str = ""


GO, ALREADY_SENT, UNCERTAIN = "go", "sent", "uncertain"


def claim_sending(conn: Connection, m: Sending, now: datetime) -> tuple[str, int]:
    """Record the intent to send ``m``: (``go``, id) when this caller must send it now,
    (``sent``, id) when it went before, (``uncertain``, id) when an earlier attempt may have
    gone (left ``sending``) or another process is sending it right now."""
    key = (_M.c.kind == m.kind, _M.c.period == m.period, _M.c.code == m.code, _M.c.reason == m.reason)
    where = (*key, _M.c.deadline == m.deadline)
    row = conn.execute(select(_M.c.id, _M.c.state).where(*where)).first()
    if row is None:  # a concurrent insert raises IntegrityError: the caller runs this again
        values = {**m.__dict__, "state": s.SENDING, "attempts": 1, "error": "", "created_at": now}
        new_id = conn.execute(insert(_M).values(**values)).inserted_primary_key
        assert new_id is not None
        return GO, int(new_id[0])
    if row.state == s.SENT:
        return ALREADY_SENT, int(row.id)
    if row.state == s.SEND_FAILED:
        taken = conn.execute(
            update(_M)
            .where(_M.c.id == row.id, _M.c.state == s.SEND_FAILED)
            .values(state=s.SENDING, attempts=_M.c.attempts + 1, recipients=m.recipients, subject=m.subject)
        ).rowcount
        return (GO if taken == 1 else UNCERTAIN), int(row.id)
    return UNCERTAIN, int(row.id)


def finish_sending(conn: Connection, sending_id: int, *, ok: bool, error: str, now: datetime) -> None:
    """Mark a claimed sending ``sent`` (``ok``) or ``failed`` with the server's answer."""
    values: dict[str, Any] = {"state": s.SENT, "sent_at": now, "error": ""} if ok else {"state": s.SEND_FAILED}
    if not ok:
        values["error"] = error[:2000]
    conn.execute(update(_M).where(_M.c.id == sending_id).values(**values))


def sendings(conn: Connection, period: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Every recorded sending of ``period`` (of ``kind``), oldest first."""
    q = select(_M).where(_M.c.period == period).order_by(_M.c.id)
    if kind:
        q = q.where(_M.c.kind == kind)
    return [dict(r._mapping) for r in conn.execute(q)]
