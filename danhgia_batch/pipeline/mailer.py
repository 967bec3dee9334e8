"""E-mail: building messages and sending them once (issue 20).

Python's standard library does all of it (``email`` builds MIME with UTF-8 headers,
``smtplib`` speaks SMTP with STARTTLS or implicit TLS): no dependency is added for a few
dozen messages a month.

:func:`deliver` is the only sender. It records the intent in the ledger before the SMTP
session and the outcome after it (:mod:`danhgia_batch.ledger.mailing`), so a dropped
connection is retried and a message the server accepted is never sent again.
"""

from __future__ import annotations

import email.policy
import logging
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from ..errors import ConfigError
from ..ledger import Ledger
from ..ledger.mailing import ALREADY_SENT, GO, Sending
from ..settings import Settings

log = logging.getLogger(__name__)

ATTEMPTS = 2  # per run: a dropped connection is tried once more on a fresh one
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DRY_FROM = "van-phong@localhost"
# Python 3.11 folds a long non-ASCII header with the space between two encoded words left
# outside them, and readers drop it ("sửa vànộp"): long lines keep each header one encoded run
POLICY = email.policy.default.clone(max_line_length=900)


@dataclass(frozen=True)
class Outgoing:
    """One message, what makes it unique (``sending``) and its attachments."""

    sending: Sending
    to: list[str]
    subject: str
    body: str
    attachments: tuple[Path, ...] = ()


def message_id(s: Sending, sender: str) -> str:
    """The same Message-ID for every attempt of one sending: a receiver can tell a retry."""
    domain = sender.rpartition("@")[2] or "localhost"
    parts = [s.kind, s.period, s.code, s.reason, s.deadline]
    return "<danhgia." + ".".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts if p) + f"@{domain}>"


def build_message(out: Outgoing, sender: str, now: datetime) -> EmailMessage:
    """A MIME message (UTF-8 text, attachments as files) for ``out``."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(out.to)
    msg["Subject"] = out.subject
    msg["Date"] = format_datetime(now.astimezone())
    msg["Message-ID"] = message_id(out.sending, sender)
    msg.set_content(out.body)
    for path in out.attachments:
        maintype, subtype = XLSX if path.suffix.lower() == ".xlsx" else ("text", "plain")
        data = path.read_bytes()
        if maintype == "text":
            msg.add_attachment(data.decode("utf-8", "replace"), filename=path.name)
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def write_eml(msg: EmailMessage, path: Path) -> Path:
    """The message as an .eml file (opens in Outlook, Thunderbird): the dry run's output."""
    from ..atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(bytes(msg))
    return path


def check_smtp(settings: Settings) -> None:
    """Fail before anything is claimed when sending cannot work.

    Raises:
        ConfigError: no server or no sender address configured.
    """
    cfg = settings.smtp
    if not cfg.host or not cfg.from_address:
        raise ConfigError("Chưa cấu hình máy chủ thư: cần [smtp] host và from_address trong danhgia.toml.")
    if cfg.user and not settings.smtp_password:
        raise ConfigError(f"Chưa có mật khẩu máy chủ thư: đặt biến môi trường {cfg.password_env}.")


def _connect(settings: Settings) -> smtplib.SMTP:
    cfg = settings.smtp
    cafile = str(settings.workdir / cfg.ca_file) if cfg.ca_file else None  # an absolute path stays as it is
    context = ssl.create_default_context(cafile=cafile)
    smtp: smtplib.SMTP
    if cfg.security == "ssl":
        smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context)
    else:
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    try:
        if cfg.security == "starttls":
            smtp.starttls(context=context)
        if cfg.user:
            smtp.login(cfg.user, settings.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _transient(exc: Exception) -> bool:
    """A dropped connection, a timeout or a 4xx answer: worth another try."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | socket.timeout | TimeoutError)


def _send_once(settings: Settings, msg: EmailMessage) -> dict[str, str]:
    """One SMTP session for ``msg``; the recipients refused (others were accepted)."""
    smtp = _connect(settings)
    try:
        refused = smtp.send_message(msg)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
    return {addr: f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
            for addr, (code, text) in refused.items()}  # fmt: skip


@dataclass
class Delivery:
    """What happened to one message: ``sent``, ``already-sent``, ``uncertain`` or ``failed``."""

    outcome: str
    attempts: int = 0
    error: str = ""
    refused: dict[str, str] | None = None


def deliver(settings: Settings, ledger: Ledger, out: Outgoing, now: datetime) -> Delivery:
    """Send ``out`` unless the ledger says it went (or may have gone) already."""
    sender = settings.smtp.from_address
    sending = Sending(**{**out.sending.__dict__, "recipients": ", ".join(out.to), "subject": out.subject,
                         "message_id": message_id(out.sending, sender)})  # fmt: skip
    msg = build_message(out, sender, now)  # before the claim: a message that cannot be built claims nothing
    state, sid = ledger.claim_sending(sending, now)
    if state != GO:
        return Delivery("already-sent" if state == ALREADY_SENT else "uncertain")
    error = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            refused = _send_once(settings, msg)
        except Exception as exc:  # anything before the server's "250": the message was not accepted
            error = f"{type(exc).__name__}: {exc}"
            log.warning("sending %s to %s failed (attempt %s): %s", out.subject, out.to, attempt, error)
            if attempt < ATTEMPTS and _transient(exc):
                continue
            ledger.finish_sending(sid, ok=False, error=error, now=datetime.now())
            return Delivery("failed", attempt, error)
        ledger.finish_sending(sid, ok=True, now=datetime.now())
        return Delivery("sent", attempt, error, refused or None)
    raise AssertionError("unreachable")  # pragma: no cover
