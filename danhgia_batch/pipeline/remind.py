"""``danhgia remind``: a message to each unit that is missing, late, rejected or invalid at the
next deadline of a period (issue 20).

The units and their states are those of ``danhgia status`` (:func:`status_from_view` of the
same view). Without ``send`` the messages are written as .eml files with a summary in
``outbox/<YYYY-MM>/_nhac_nho/`` (a dry run records nothing); with ``send`` they go through
SMTP, each recorded in the ledger so that none is sent twice for one unit, period, reason
and deadline (:func:`~.mailer.deliver`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..ledger import Ledger, open_ledger
from ..ledger.mailing import Sending
from ..models import PeriodView, RejectedFile
from ..reports.common import period_label, safe_code
from ..reports.paths import period_dir
from ..reports.reminders import Deadline, reminder_reason, reminder_text, split_addresses
from ..reports.stats import quota_violations
from ..rules.deadlines import STEPS, deadline_for
from ..settings import Settings
from .admin import normalise_period, status_from_view
from .mailer import DRY_FROM, Outgoing, build_message, check_smtp, deliver, write_eml

log = logging.getLogger(__name__)

REMINDERS_DIR = "_nhac_nho"
OUTCOME_TEXT = {
    "written": "Đã ghi thư (chạy thử, chưa gửi)",
    "sent": "Đã gửi",
    "already-sent": "Đã gửi từ trước, không gửi lại",
    "uncertain": "Lần gửi trước bị gián đoạn, chưa rõ đã đến hay chưa: cần kiểm tra, không gửi lại",
    "failed": "Gửi không được, sẽ thử lại ở lần chạy sau",
    "no-address": "Đơn vị chưa có địa chỉ e-mail trong danh mục (mẫu 00, cột Email liên hệ)",
}


def next_deadline(settings: Settings, period: str, today: date) -> Deadline:
    """The first deadline of ``period`` (letter §2.3) not yet passed on ``today``, else the last."""
    days = [(step, deadline_for(period, step, settings)) for step in STEPS]
    for step, day in days:
        if day >= today:
            return Deadline(step, day, passed=False)
    step, day = days[-1]
    return Deadline(step, day, passed=True)


@dataclass
class ReminderLine:
    """One unit reminded (or not): why, to whom, and what happened."""

    unit_code: str
    unit_name: str
    block: str
    reason: str
    recipients: list[str]
    outcome: str = ""
    attempts: int = 0
    error: str = ""
    eml: str = ""
    attachments: list[str] = field(default_factory=list)
    bad_addresses: list[str] = field(default_factory=list)


@dataclass
class RemindResult:
    """Result of :func:`remind_units` (``--json`` prints ``to_dict()``)."""

    period: str
    deadline: Deadline
    send: bool
    lines: list[ReminderLine] = field(default_factory=list)
    summary: Path | None = None

    @property
    def exit_code(self) -> int:
        return 1 if any(ln.outcome in ("failed", "uncertain") for ln in self.lines) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "deadline": {"step": self.deadline.step, "day": self.deadline.day.isoformat(),
                         "passed": self.deadline.passed},
            "send": self.send,
            "summary": str(self.summary) if self.summary else None,
            "units": [asdict(ln) for ln in self.lines],
        }  # fmt: skip


def remind_units(settings: Settings, period: str, *, send: bool = False, now: datetime | None = None) -> RemindResult:
    """``danhgia remind``: write (dry run) or send the reminders of ``period``.

    Raises:
        UsageError: the period is not a month.
        ConfigError: ``send`` without an SMTP server configured.
    """
    period = normalise_period(period)
    now = now or datetime.now()
    if send:
        check_smtp(settings)
    deadline = next_deadline(settings, period, now.date())
    result = RemindResult(period, deadline, send)
    folder = period_dir(settings, period) / REMINDERS_DIR
    with open_ledger(settings) as ledger:
        view = ledger.period_view(period)
        for out, line in _outgoing(settings, ledger, view, deadline, now):
            result.lines.append(line)
            if send:
                _send(settings, ledger, out, line, now)
            else:
                line.outcome = "written" if line.recipients else "no-address"
                name = f"{safe_code(line.unit_code)}_{out.sending.reason}.eml"
                msg = build_message(out, settings.smtp.from_address or DRY_FROM, now)
                line.eml = str(write_eml(msg, folder / name))
    result.summary = atomic_write_text(folder / ("da_gui.txt" if send else "chay_thu.txt"), _summary(result, now))
    return result


def _send(settings: Settings, ledger: Ledger, out: Outgoing, line: ReminderLine, now: datetime) -> None:
    if not line.recipients:
        line.outcome = "no-address"
        return
    done = deliver(settings, ledger, out, now)
    line.outcome, line.attempts, line.error = done.outcome, done.attempts, done.error
    if done.refused:
        line.error = "; ".join(f"{a}: {why}" for a, why in done.refused.items())


def _outgoing(
    settings: Settings, ledger: Ledger, view: PeriodView, deadline: Deadline, now: datetime
) -> list[tuple[Outgoing, ReminderLine]]:
    status = status_from_view(settings, view, None).to_dict()
    rejected: dict[str, RejectedFile] = {r.unit_code: r for r in ledger.rejected_files(view.period)}  # latest wins
    contacts = ledger.contacts(view.period)
    violations = {u.unit_code: [i.message for lst in u.lists for i in quota_violations(lst)] for u in view.units}
    out = []
    for block in status["blocks"]:
        for unit in block["units"]:
            reason = reminder_reason(unit)
            if reason is None:
                continue
            code = unit["unit_code"]
            rf = rejected.get(code) if reason == "rejected" else None
            subject, body = reminder_text(unit, reason, view.period, deadline, now=now, rejected=rf,
                                          violations=violations.get(code))  # fmt: skip
            good, bad = split_addresses(contacts.get(code, ""))
            attachments = _error_workbooks(rf)
            key = f"rejected-{rf.file_id}" if rf else reason  # a new rejected file is a new reminder
            sending = Sending("reminder", view.period, code, key, deadline.day.isoformat())
            line = ReminderLine(code, unit["unit_name"], unit["block"], key, good,
                                attachments=[str(p) for p in attachments], bad_addresses=bad)  # fmt: skip
            out.append((Outgoing(sending, good, subject, body, tuple(attachments)), line))
    return out


def _error_workbooks(rf: RejectedFile | None) -> list[Path]:
    """The error workbook of a rejected file (its .txt summary when the workbook is missing)."""
    if rf is None or not rf.error_report:
        return []
    path = Path(rf.error_report)
    for candidate in (path, path.with_suffix(".txt")):
        if candidate.is_file():
            return [candidate]
    return []


def _summary(result: RemindResult, now: datetime) -> str:
    head = "GỬI THƯ NHẮC" if result.send else "CHẠY THỬ THƯ NHẮC (chưa gửi thư nào)"
    lines = [
        f"{head} – kỳ {period_label(result.period)} – lúc {now:%H:%M ngày %d/%m/%Y}",
        result.deadline.text(),
        f"Số đơn vị cần nhắc: {len(result.lines)}",
        "",
    ]
    for ln in result.lines:
        to = ", ".join(ln.recipients) or "(không có địa chỉ)"
        lines.append(f"- {ln.unit_code} – {ln.unit_name}: {ln.reason} → {to}")
        lines.append(f"    {OUTCOME_TEXT[ln.outcome]}" + (f" ({ln.error})" if ln.error else ""))
        if ln.bad_addresses:
            lines.append(f"    Địa chỉ không hợp lệ, bỏ qua: {', '.join(ln.bad_addresses)}")
    return "\n".join(lines) + "\n"
