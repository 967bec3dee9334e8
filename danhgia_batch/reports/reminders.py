"""The words of a reminder to a unit and of a result notice to a person (issue 20).

Pure functions from the status figures (``StatusResult.to_dict()`` units) and the views: a
subject and a plain-text body in Vietnamese. Names come from clerks' files: they are
flattened to one line (a header must never carry a line break) and never interpreted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..models import RejectedFile
from .common import period_title

STEP_LABEL = {
    "self_assessment": "tự đánh giá",
    "decision": "quyết định xếp loại",
    "publication": "công khai kết quả",
}
REASON_TITLE = {
    "missing": "Nhắc nộp danh sách đánh giá, xếp loại",
    "rejected": "Tệp bị trả lại, đề nghị sửa và nộp lại",
    "invalid": "Danh sách vượt tỷ lệ loại A, đề nghị nộp lại",
    "late": "Danh sách nộp muộn",
}
FOOTER = (
    "Đơn vị nộp tệp vào thư mục dùng chung của đơn vị như thường lệ.\n"
    "Thư này do chương trình danhgia_batch gửi tự động thay Văn phòng; xin đừng trả lời thư này."
)
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def one_line(text: str) -> str:
    """``text`` on one line, whitespace collapsed (for headers and subjects)."""
    return " ".join(str(text).split())


def split_addresses(written: str) -> tuple[list[str], list[str]]:
    """Addresses of a registry cell ("a@x.vn; b@x.vn, c@x.vn"): (valid, not understood)."""
    good: list[str] = []
    bad: list[str] = []
    for part in re.split(r"[;,\s]+", written or ""):
        if part:
            (good if _ADDRESS.match(part) else bad).append(part)
    return list(dict.fromkeys(good)), bad


@dataclass(frozen=True)
class Deadline:
    """The deadline a reminder is about: the step, its last on-time day, passed or not."""

    step: str
    day: date
    passed: bool

    def text(self) -> str:
        late = " (đã quá hạn)" if self.passed else ""
        return f"Hạn {STEP_LABEL[self.step]}: hết ngày {self.day:%d/%m/%Y}{late}."


def reminder_reason(unit: dict[str, Any]) -> str | None:
    """Why a unit of ``status --json`` is reminded: missing, rejected, invalid, late, or not."""
    state = unit["state"]
    if state in ("missing", "rejected", "invalid"):
        return str(state)
    if state == "valid" and unit["on_time"] is False:
        return "late"
    return None


def reminder_text(
    unit: dict[str, Any],
    reason: str,
    period: str,
    deadline: Deadline,
    *,
    now: datetime,
    rejected: RejectedFile | None = None,
    violations: list[str] | None = None,
) -> tuple[str, str]:
    """(subject, body) of the reminder to ``unit`` for ``reason``."""
    title = period_title(period)
    name = one_line(unit["unit_name"] or unit["unit_code"])
    subject = f"[Đánh giá, xếp loại {title}] {REASON_TITLE[reason]} – {name}"
    if reason == "missing":
        what = (
            f"Đến {now:%H:%M} ngày {now:%d/%m/%Y}, Văn phòng chưa nhận được danh sách tổng hợp kết quả "
            f"đánh giá, xếp loại {title} của đơn vị."
        )
    elif reason == "rejected":
        sent = f" lúc {rejected.arrival:%H:%M ngày %d/%m/%Y}" if rejected else ""
        file = f"“{one_line(rejected.name)}”" if rejected else "của đơn vị"
        what = (
            f"Tệp {file} đơn vị gửi{sent} bị trả lại vì có lỗi. Tệp báo lỗi đính kèm tô màu và ghi chú "
            "từng ô cần sửa; đề nghị đơn vị sửa và nộp lại."
        )
    elif reason == "invalid":
        found = "".join(f"\n  - {one_line(v)}" for v in violations or [])
        what = (
            f"Danh sách {title} của đơn vị đã được ghi nhận nhưng vượt tỷ lệ loại A (Công văn 528-CV/QU "
            f"§2.5.a):{found}\nĐề nghị đơn vị điều chỉnh và nộp lại danh sách."
        )
    else:
        what = (
            f"Danh sách {title} của đơn vị đã được ghi nhận nhưng nộp muộn so với hạn. "
            "Đề nghị đơn vị lưu ý hoàn thành đúng hạn."
        )
    body = f"Kính gửi: {name} (mã {one_line(unit['unit_code'])}),\n\n{what}\n\n{deadline.text()}\n\n{FOOTER}\n"
    return subject, body


def notice_text(
    person_name: str, person_code: str, unit_name: str, period: str, grade: str, total: str
) -> tuple[str, str]:
    """(subject, body) of a person's own result notice after publication."""
    title = period_title(period)
    labels = {
        "A": "Hoàn thành xuất sắc nhiệm vụ (loại A)",
        "B": "Hoàn thành tốt nhiệm vụ (loại B)",
        "C": "Hoàn thành nhiệm vụ (loại C)",
        "D": "Không hoàn thành nhiệm vụ (loại D)",
        "KXL": "Không xếp loại",
    }
    subject = f"[Đánh giá, xếp loại {title}] Kết quả của {one_line(person_name)}"
    body = (
        f"Kính gửi: {one_line(person_name)} (mã {one_line(person_code)}), {one_line(unit_name)},\n\n"
        f"Kết quả đánh giá, xếp loại {title} của đồng chí đã được công khai:\n"
        f"  - Tổng điểm: {total}\n  - Xếp loại: {labels.get(grade, grade)}\n\n"
        "Nếu có ý kiến, đồng chí liên hệ bộ phận tổ chức của đơn vị.\n"
        "Thư này do chương trình danhgia_batch gửi tự động; xin đừng trả lời thư này.\n"
    )
    return subject, body
