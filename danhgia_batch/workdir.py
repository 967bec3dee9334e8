"""``danhgia init``: create a working folder an administrator runs every command in.

The folder gets ``danhgia.toml`` (every key of every section, with its default and a
Vietnamese comment), ``inbox/``, ``outbox/``, ``archive/``, ``logs/``, the three templates in
``templates_xlsx/`` and a sample registry ``danh_muc_mau.xlsx`` (SPEC §11).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from .errors import UsageError
from .settings import CONFIG_NAME, SECTIONS, load_settings

log = logging.getLogger(__name__)

SAMPLE_REGISTRY = "danh_muc_mau.xlsx"
FOLDERS = ("inbox", "outbox", "archive", "logs", "templates")


class WorkdirExistsError(UsageError):
    """``danhgia.toml`` already exists and ``--force`` was not given (exit code 2)."""


SECTION_HELP = {
    "paths": "Thư mục làm việc (tương đối so với thư mục chứa tệp này)",
    "ledger": "Sổ cái lưu kết quả",
    "grading": "Mức điểm xếp loại (Công văn 528-CV/QU, mục 2.5)",
    "quota": "Tỷ lệ loại A (Công văn 528-CV/QU, mục 2.5)",
    "deadlines": "Thời hạn hằng tháng (Công văn 528-CV/QU, mục 2.3)",
    "watcher": "Theo dõi thư mục inbox",
    "reader": "Giới hạn khi đọc tệp Excel gửi đến",
    "reports": "Báo cáo đầu ra",
    "domain": "Tệp dữ liệu nghiệp vụ thay thế (để trống = dùng tệp mặc định kèm theo chương trình)",
    "regimes": 'Bộ quy định áp dụng (xem README, mục "Thêm một bộ quy định")',
}

KEY_HELP = {
    "reminders.period_kind": 'Nhắc theo kỳ "month" (tháng) hoặc "quarter" (quý, bộ quy định đánh giá theo quý)',
    "deadlines.publication_after_days": "Khác 0: công khai chậm nhất bấy nhiêu ngày sau ngày cuối kỳ (thay cho publication_day)",
    "quota.scopes": 'Phạm vi tỷ lệ loại A: "group" (từng nhóm đối tượng), "agency" (toàn cơ quan, Nghị định 335)',
    "regimes.use": "Mã các bộ quy định được áp dụng (kèm theo chương trình hoặc trong thư mục regimes/)",
    "paths.inbox": "Thư mục nhận tệp của các đơn vị (có thể là thư mục chia sẻ SMB)",
    "paths.outbox": "Thư mục ghi báo cáo kết quả",
    "paths.archive": "Thư mục lưu tệp gốc đã xử lý",
    "paths.templates": "Thư mục biểu mẫu Excel",
    "paths.logs": "Thư mục nhật ký",
    "ledger.url": "Địa chỉ cơ sở dữ liệu (SQLAlchemy URL); để trống = tệp SQLite danhgia.sqlite3 tại đây,"
    " ví dụ PostgreSQL: postgresql+psycopg://user:pass@host/danhgia",
    "grading.a": "Điểm tối thiểu loại A - Hoàn thành xuất sắc nhiệm vụ",
    "grading.b": "Điểm tối thiểu loại B - Hoàn thành tốt nhiệm vụ",
    "grading.c": "Điểm tối thiểu loại C - Hoàn thành nhiệm vụ (dưới mức này là loại D)",
    "quota.ratio": "Số loại A không vượt quá tỷ lệ này",
    "quota.base": "Cơ số tính tỷ lệ: good_only = số loại B (đúng văn bản); good_or_better = số loại A và B",
    "quota.rounding": "Làm tròn số loại A tối đa: floor (xuống), round, ceil (lên)",
    "quota.small_group_size": "Đơn vị, nhóm đối tượng có dưới số người này được xếp loại A cho ...",
    "quota.small_group_max_a": "... tối đa bấy nhiêu người (nếu đạt đủ điều kiện loại A)",
    "quota.small_unit_total": "true = danh sách có dưới small_group_size người được xếp loại chỉ được"
    " small_group_max_a người loại A cho cả đơn vị, dù chia nhiều nhóm; false = chỉ xét theo từng nhóm",
    "deadlines.self_assessment_day": "Cá nhân tự đánh giá trước ngày này hằng tháng",
    "deadlines.decision_day": "Cấp có thẩm quyền quyết định xếp loại trước ngày này",
    "deadlines.publication_day": "Công khai kết quả trước ngày này của tháng sau",
    "deadlines.december_day": "Tháng 12: hoàn thành trước ngày này của tháng 12",
    "deadlines.inclusive": 'true = tính cả ngày hạn ("trước ngày 25" gồm cả ngày 25)',
    "watcher.settle_seconds": "Chờ tệp đứng yên (kích thước, thời điểm sửa) bao nhiêu giây mới xử lý",
    "watcher.polling": "true = quét định kỳ thay vì nhận sự kiện (nên bật với thư mục mạng)",
    "watcher.polling_interval": "Chu kỳ quét (giây) khi polling = true",
    "watcher.rescan_seconds": "Quét lại toàn bộ inbox sau mỗi bấy nhiêu giây",
    "watcher.heartbeat_minutes": 'Ghi nhật ký "còn hoạt động" sau mỗi bấy nhiêu phút',
    "watcher.lock_wait_seconds": "Chờ tối đa bấy nhiêu giây khi tệp đang mở trong Excel (có tệp ~$…)",
    "watcher.claim_timeout_minutes": "Tệp đang xử lý dở mà tiến trình giữ nó im lặng quá bấy nhiêu phút thì tiến trình khác nhận xử lý thay",
    "reader.cpu_seconds": "Thời gian CPU tối đa để đọc một tệp (giây); đo theo tệp, không theo độ bận của máy",
    "reader.timeout_seconds": "Thời gian chờ tối đa (giây, theo đồng hồ) khi đọc một tệp; quá hạn thì đọc lại một lần",
    "reader.retry_timeout_seconds": "Thời gian chờ của lần đọc lại (giây); 0 = gấp 4 lần timeout_seconds",
    "reader.memory_mb": "Bộ nhớ tối đa khi đọc một tệp (MB)",
    "reader.max_file_mb": "Kích thước tệp tối đa (MB)",
    "reader.max_uncompressed_mb": "Dung lượng giải nén tối đa (MB)",
    "reader.max_members": "Số thành phần tối đa trong tệp xlsx",
    "reader.max_ratio": "Tỷ lệ nén tối đa (chống tệp bom nén)",
    "reader.max_rows": "Số dòng tối đa mỗi sheet (trừ danh mục mẫu 00)",
    "reader.max_registry_rows": "Số dòng tối đa mỗi sheet của danh mục mẫu 00 (DonVi, CanBo)",
    "reader.registry_memory_mb": "Bộ nhớ tối đa khi đọc danh mục lớn hơn max_rows dòng (MB)",
    "reader.max_cols": "Số cột tối đa mỗi sheet",
    "reader.workers": "Số tiến trình đọc song song",
    "reports.commendation_grades": "Các loại được đưa vào danh sách đề nghị khen thưởng",
    "reports.place": "Địa danh ghi ở dòng ngày tháng",
    "reports.party_committee": "Tên Đảng bộ ghi ở tiêu đề báo cáo khối Đảng",
    "reports.district": "Tên cấp hành chính ghi ở tiêu đề báo cáo",
    "reports.write_reports": "false = chỉ ghi sổ cái, không ghi báo cáo",
    "reports.pdf": "true = in thêm bản PDF của mọi báo cáo (cần LibreOffice: gói libreoffice-calc-nogui)",
    "domain.frameworks": 'Các tệp khung tiêu chí (TOML), ví dụ ["khung_2023.toml"]',
    "domain.default_framework": "Mã khung tiêu chí dùng để tạo biểu mẫu",
    "domain.authority": "Tệp ma trận thẩm quyền đánh giá (TOML)",
    "domain.codes": "Tệp danh mục mã: khối, đối tượng, chức danh (TOML)",
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def config_text() -> str:
    """The commented ``danhgia.toml`` written by ``init``: every key with its default."""
    lines = [
        "# Cấu hình danhgia_batch - đánh giá, xếp loại CBCCVC, LĐHĐ hằng tháng (Công văn 528-CV/QU).",
        "# Mỗi khóa có thể ghi đè bằng biến môi trường DANHGIA_<MỤC>_<KHÓA>, ví dụ DANHGIA_LEDGER_URL;",
        "# tham số dòng lệnh được ưu tiên nhất.",
    ]
    for section, cls in SECTIONS.items():
        lines += ["", f"# {SECTION_HELP.get(section, section)}", f"[{section}]"]
        defaults = cls()
        for f in dataclasses.fields(cls):
            comment = KEY_HELP.get(f"{section}.{f.name}")
            if comment:
                lines.append(f"# {comment}")
            lines.append(f"{f.name} = {_toml_value(getattr(defaults, f.name))}")
    return "\n".join(lines) + "\n"


def init_workdir(directory: Path, force: bool = False) -> list[Path]:
    """Create a working folder in ``directory`` (created if missing).

    Returns:
        The paths created: ``danhgia.toml``, the folders, the templates and the sample registry.

    Raises:
        WorkdirExistsError: ``danhgia.toml`` exists and ``force`` is false.
    """
    directory = Path(directory).resolve()
    config = directory / CONFIG_NAME
    if config.exists() and not force:
        raise WorkdirExistsError(f"Thư mục {directory} đã có {CONFIG_NAME}; dùng --force để ghi đè")
    directory.mkdir(parents=True, exist_ok=True)
    config.write_text(config_text(), encoding="utf-8")
    created = [config]
    settings = load_settings(config)
    for name in FOLDERS:
        folder = settings.path(name)
        folder.mkdir(parents=True, exist_ok=True)
        created.append(folder)

    from .templates import generate_templates

    created += generate_templates(settings, settings.path("templates"))
    from .sample import write_sample_registry

    created.append(write_sample_registry(settings, directory / SAMPLE_REGISTRY))
    log.info("work folder ready in %s", directory)
    return created
