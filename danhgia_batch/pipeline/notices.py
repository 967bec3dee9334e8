"""Result notices (issue 20): after publication, each person with an address in the registry
("Email" column of template 00, sheet CanBo) is e-mailed their own result. Off by default
(``[notices] enabled = false``).

A notice is sent once per person, period and result: republishing the same results sends
nothing; a result changed after a reopening is a new notice. Only valid lists are final
(a list over the A-quota waits for its correction), so only their people are told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..ledger import Ledger
from ..ledger.mailing import Sending
from ..reports.reminders import notice_text, split_addresses
from ..settings import Settings
from .mailer import Outgoing, deliver

log = logging.getLogger(__name__)


@dataclass
class NoticeResult:
    """What the notices of one publication did: counts per outcome, people without an address."""

    counts: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # person codes

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "failed": self.failed}


def _total_text(total: Any) -> str:
    return "" if total is None else f"{total:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def send_result_notices(
    settings: Settings, ledger: Ledger, period: str, block: str | None = None, *, now: datetime | None = None
) -> NoticeResult:
    """E-mail each person of the published valid lists of ``period`` (``block``) their result."""
    now = now or datetime.now()
    result = NoticeResult()
    addresses = ledger.contacts(period, "person")
    view = ledger.period_view(period, block)
    for unit in view.units:
        for lst in unit.lists:
            if lst.status != "valid":
                continue
            for row in lst.rows:
                to, _bad = split_addresses(addresses.get(row.person_code, ""))
                if not to:
                    result.counts["no-address"] = result.counts.get("no-address", 0) + 1
                    continue
                total = _total_text(row.final_total)
                subject, body = notice_text(row.full_name, row.person_code, unit.unit_name, period,
                                            row.final_grade, total)  # fmt: skip
                reason = f"result-{row.final_grade}-{total.replace(',', '_') or 'none'}"
                out = Outgoing(Sending("notice", period, row.person_code, reason), to, subject, body)
                done = deliver(settings, ledger, out, now)
                result.counts[done.outcome] = result.counts.get(done.outcome, 0) + 1
                if done.outcome in ("failed", "uncertain"):
                    result.failed.append(row.person_code)
    log.info("result notices of %s: %s", period, result.counts)
    return result
