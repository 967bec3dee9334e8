"""The closed catalogue of issue codes, and the :class:`Issue` value.

Validation and rules never raise on bad input: they return ``list[Issue]``. Every code a
stage emits must be in :data:`CATALOGUE`, and every code of the catalogue must be emitted
somewhere (tests check both). Tests assert codes and cells, never wording. Severities:

- ``error``: the file is rejected;
- ``violation``: a list-level rule violation (the A-quota): recorded, the list is invalid;
- ``warning``: recorded and reported, the file is accepted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from .textsafe import visible


class Severity(StrEnum):
    ERROR = "error"
    VIOLATION = "violation"
    WARNING = "warning"


@dataclass(frozen=True)
class IssueType:
    """A catalogue entry: code, severity, Vietnamese title and message template."""

    code: str
    severity: Severity
    title: str
    template: str


@dataclass(frozen=True)
class Issue:
    """One problem found in one file, at cell precision where it has a cell."""

    code: str
    severity: Severity
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""

    @property
    def title(self) -> str:
        return CATALOGUE[self.code].title

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = str(self.severity)
        return d

    def where(self) -> str:
        """Vietnamese location text: 'sheet DanhSach, ô F12'."""
        parts = []
        if self.sheet:
            parts.append(f"trang tính {self.sheet}")
        if self.cell:
            parts.append(f"ô {self.cell}")
        return ", ".join(parts)


E, V, W = Severity.ERROR, Severity.VIOLATION, Severity.WARNING

_ENTRIES: list[tuple[str, Severity, str, str]] = [
    # ---- the file as a container (read/safe) -------------------------------------------
    ("file-empty", E, "Tệp rỗng", "Tệp có dung lượng 0 byte, không có dữ liệu."),
    (
        "file-not-xlsx",
        E,
        "Sai định dạng",
        "Sai định dạng: {detail}. Hãy mở tệp bằng Excel hoặc LibreOffice Calc và lưu lại dưới dạng"
        " Excel Workbook (.xlsx), rồi gửi lại tệp .xlsx đó.",
    ),
    (
        "file-corrupt",
        E,
        "Tệp bị hỏng",
        "Tệp bị hỏng hoặc chưa sao chép xong, không mở được ({detail}). Hãy gửi lại tệp.",
    ),
    (
        "file-encrypted",
        E,
        "Tệp có mật khẩu",
        "Tệp được bảo vệ bằng mật khẩu. Hãy gỡ mật khẩu (File > Info > Protect Workbook) rồi gửi lại.",
    ),
    (
        "file-macro",
        E,
        "Tệp chứa macro",
        "Tệp chứa macro (VBA), không được chấp nhận. Hãy lưu lại dưới dạng .xlsx không có macro.",
    ),
    (
        "file-strict-ooxml",
        E,
        "Định dạng Strict Open XML",
        "Tệp được lưu ở định dạng 'Strict Open XML', không đọc được. Hãy lưu lại dưới dạng Excel Workbook (.xlsx).",
    ),
    ("file-too-large", E, "Tệp quá lớn", "Tệp quá lớn hoặc nén bất thường ({detail}); giới hạn là {limit}."),
    (
        "file-unsafe-xml",
        E,
        "Nội dung XML không an toàn",
        "Tệp chứa cấu trúc XML không an toàn ({detail}), không được xử lý.",
    ),
    ("file-timeout", E, "Đọc tệp quá thời gian", "Đọc tệp vượt quá {limit} giây, tệp có thể quá lớn hoặc bị lỗi."),
    (
        "file-reader-crash",
        E,
        "Không đọc được tệp",
        "Trình đọc tệp bị dừng bất thường ({detail}); tệp có thể bị lỗi hoặc quá lớn.",
    ),
    ("file-no-sheets", E, "Không có trang tính", "Tệp không có trang tính nào đọc được."),
    (
        "file-too-many-cells",
        E,
        "Vùng dữ liệu quá lớn",
        "Trang tính {sheet} có vùng dữ liệu quá lớn ({detail}); giới hạn {limit}.",
    ),
    # ---- template recognition (read) ---------------------------------------------------
    (
        "template-unknown",
        E,
        "Không phải biểu mẫu của hệ thống",
        "Không nhận ra biểu mẫu: thiếu trang '_meta' hoặc thông tin mẫu. Hãy dùng biểu mẫu trong thư mục templates_xlsx.",
    ),
    (
        "template-version",
        E,
        "Phiên bản biểu mẫu không hỗ trợ",
        "Biểu mẫu {kind} phiên bản {version} không còn được hỗ trợ; hãy dùng phiên bản {expected}.",
    ),
    ("template-kind", E, "Sai loại biểu mẫu", "Đây là biểu mẫu {kind}, không dùng được ở đây ({detail})."),
    (
        "framework-unknown",
        E,
        "Khung tiêu chí không xác định",
        "Khung tiêu chí {framework} phiên bản {version} không có trong cấu hình.",
    ),
    (
        "framework-period",
        E,
        "Khung tiêu chí không áp dụng cho kỳ này",
        "Khung tiêu chí {framework} phiên bản {version} không áp dụng cho kỳ {period}; hãy dùng biểu mẫu của phiên bản {expected}.",
    ),
    ("sheet-missing", E, "Thiếu trang tính", "Không tìm thấy trang tính '{expected}'."),
    # ---- header fields (validate) ------------------------------------------------------
    ("header-missing", E, "Thiếu thông tin chung", "Chưa điền '{column}'."),
    (
        "period-invalid",
        E,
        "Kỳ đánh giá không hợp lệ",
        "Kỳ đánh giá '{value}' không hợp lệ; ghi theo dạng MM/YYYY (ví dụ 01/2022) hoặc quý (ví dụ Quý I/2026).",
    ),
    (
        "unit-folder-mismatch",
        E,
        "Sai thư mục đơn vị",
        "Tệp của đơn vị {value} được nộp vào thư mục của đơn vị {expected}; một đơn vị không được nộp thay đơn vị khác.",
    ),
    (
        "period-locked",
        E,
        "Kỳ đã công khai, đã khóa",
        "Kỳ {period} đã được công khai và khóa; liên hệ quản trị khối để mở lại trước khi nộp.",
    ),
    # ---- regimes (pipeline/decide, SPEC §13) ---------------------------------------------
    (
        "regime-none",
        E,
        "Không có bộ quy định áp dụng",
        "Không có bộ quy định nào áp dụng cho kỳ {period}, đối tượng {value}; xem lệnh 'danhgia regime list'.",
    ),
    (
        "regime-mixed",
        E,
        "Danh sách thuộc nhiều bộ quy định",
        "Trong kỳ {period}, người thuộc đối tượng {value} được đánh giá theo các bộ quy định khác nhau "
        "({detail}); hãy lập danh sách riêng cho từng bộ quy định.",
    ),
    (
        "regime-framework",
        E,
        "Khung tiêu chí không thuộc bộ quy định",
        "Biểu mẫu dùng khung tiêu chí {framework}, nhưng kỳ {period} được đánh giá theo bộ quy định {value} "
        "(khung {expected}); hãy dùng biểu mẫu tạo bằng 'danhgia templates --regime {value}'.",
    ),
    (
        "regime-changed",
        W,
        "Bộ quy định đã sửa sau khi công khai",
        "Kỳ {period} đã được công khai theo bộ quy định {value} (mã băm {expected}); tệp bộ quy định nay đã "
        "khác (mã băm {detail}). Tệp này được đánh giá theo nội dung hiện tại của bộ quy định {value}.",
    ),
    (
        "kpi-input-invalid",
        E,
        "Số liệu sản phẩm không hợp lệ",
        "Cột '{column}' ghi {value}, cần {expected} (Nghị định 335/2025/NĐ-CP: điểm kết quả thực hiện nhiệm vụ "
        "tính từ số sản phẩm).",
    ),
    (
        # SPEC §13, Decree 335 as publicly implemented (the product's reading): a leader's "result
        # of the units they run" is 100 % if everyone under them is at least C, 50 % if anyone is D
        "kpi-led-unit-d",
        E,
        "Kết quả đơn vị phụ trách không khớp xếp loại",
        "Cột '{column}' ghi {value} %, nhưng trong đơn vị do người này phụ trách có {detail} xếp loại D nên tỷ lệ "
        "này tối đa là {expected} % (100 % nếu mọi người đạt từ loại C trở lên, 50 % nếu có người loại D).",
    ),
    (
        "grade-condition",
        E,
        "Chưa đủ điều kiện của mức xếp loại",
        "Xếp loại {value} cần ít nhất {expected} sản phẩm hoàn thành đúng hạn (điều kiện của loại {grade}); "
        "người này đạt {detail}.",
    ),
    (
        "grade-cap",
        E,
        "Xếp loại vượt mức giới hạn",
        "Người có đánh dấu '{detail}' chỉ được xếp loại tối đa {expected}, nhưng được xếp loại {value}.",
    ),
    # ---- table structure and values (validate) -----------------------------------------
    ("column-missing", E, "Thiếu cột", "Không tìm thấy cột '{column}' trong dòng tiêu đề."),
    ("column-duplicate", E, "Cột bị trùng", "Cột '{column}' xuất hiện nhiều lần (ô {detail})."),
    ("table-empty", E, "Danh sách trống", "Danh sách không có người nào."),
    ("value-required", E, "Thiếu dữ liệu", "Chưa điền '{column}'."),
    ("value-not-number", E, "Không phải số", "'{column}' phải là số, nhận được '{value}'."),
    (
        "value-ambiguous",
        E,
        "Số không rõ ràng",
        "Giá trị '{value}' ở cột '{column}' không rõ là số thập phân hay số có dấu phân cách hàng nghìn; hãy ghi rõ, ví dụ 9,5.",
    ),
    (
        "score-range",
        E,
        "Điểm ngoài khoảng cho phép",
        "'{column}' = {value} nằm ngoài khoảng {minimum} đến {maximum} điểm.",
    ),
    ("score-decimals", E, "Quá hai chữ số thập phân", "'{column}' = {value} có quá hai chữ số thập phân."),
    (
        "score-as-text",
        W,
        "Điểm nhập dạng chữ",
        "Điểm '{value}' ở cột '{column}' được nhập dạng chữ nên công thức tổng của bảng tính không cộng ô này"
        " (tổng trên bảng tính khác tổng đúng, tổng đúng được ghi nhận); hãy nhập lại dạng số.",
    ),
    (
        "formula-cached-mismatch",
        E,
        "Bảng tính chưa tính lại",
        "Ô '{column}' đang hiển thị {value} nhưng tính lại từ các điểm được {expected}: bảng tính chưa được tính"
        " lại, hoặc có điểm nhập dạng chữ (ví dụ '9,05' thay vì 9.05). Hãy nhập điểm dạng số, tính lại bảng"
        " tính (F9) rồi lưu và gửi lại.",
    ),
    (
        "formula-overwritten",
        E,
        "Công thức bị ghi đè",
        "Ô '{column}' đã bị ghi đè bằng giá trị {value} thay vì công thức; giá trị đúng là {expected}.",
    ),
    (
        "code-unknown",
        E,
        "Mã không có trong danh mục",
        "'{column}' = '{value}' không có trong danh mục; chọn từ danh sách thả xuống.",
    ),
    (
        "date-invalid",
        E,
        "Ngày không hợp lệ",
        "'{column}' = '{value}' không phải ngày hợp lệ; ghi theo dạng dd/mm/yyyy.",
    ),
    ("text-too-long", E, "Nội dung quá dài", "'{column}' dài quá {limit} ký tự."),
    ("text-control-chars", W, "Ký tự điều khiển", "'{column}' chứa ký tự điều khiển, đã được loại bỏ."),
    (
        "name-control-chars",
        E,
        "Tên chứa ký tự ẩn",
        "'{column}' = '{value}' chứa ký tự điều khiển hoặc ký tự đảo chiều chữ (hiện ở dạng \\x… hoặc \\u…); "
        "hãy gõ lại tên.",
    ),
    (
        "person-duplicate",
        E,
        "Trùng mã cán bộ",
        "Mã cán bộ '{value}' xuất hiện nhiều lần trong danh sách (các dòng {detail}).",
    ),
    # ---- grades (rules/grading, letter §2.5) -------------------------------------------
    (
        "grade-above-band",
        E,
        "Xếp loại cao hơn mức điểm",
        "Xếp loại {value} cao hơn mức tương ứng với tổng điểm {score} (tối đa {expected}).",
    ),
    (
        "self-grade-above-band",
        E,
        "Tự xếp loại cao hơn mức điểm",
        "Tự xếp loại {value} cao hơn mức tương ứng với tổng điểm tự chấm {score} (tối đa {expected}).",
    ),
    (
        "grade-below-band-no-reason",
        W,
        "Hạ loại không ghi lý do",
        "Xếp loại {value} thấp hơn mức theo điểm ({expected}) nhưng cột 'Ghi chú' không ghi lý do.",
    ),
    (
        "kxl-no-reason",
        E,
        "Không xếp loại thiếu lý do",
        "Trường hợp không xếp loại phải ghi lý do ở cột 'Ghi chú' (nghỉ dài ngày, mới tuyển dụng…).",
    ),
    ("grade-missing-score", E, "Xếp loại thiếu điểm", "Có xếp loại {value} nhưng chưa có tổng điểm."),
    # ---- quota (rules/quota, letter §2.5.a) --------------------------------------------
    (
        "quota-exceeded",
        V,
        "Vượt tỷ lệ loại A",
        "Nhóm '{group}': {count} người loại A, vượt mức tối đa {limit} người ({detail}). "
        "Đề nghị chuyển {moves} người sang loại B: {suggestion}.",
    ),
    (
        "quota-unit-exceeded",
        V,
        "Vượt tỷ lệ loại A của đơn vị dưới 05 người",
        "Danh sách chỉ có {size} người được xếp loại (dưới {small} người): cả đơn vị chỉ được {limit} người "
        "loại A, hiện có {count} người. Đề nghị chuyển {moves} người sang loại B: {suggestion}.",
    ),
    # ---- authority (rules/authority, letter §2.2) --------------------------------------
    (
        "authority-decider",
        E,
        "Sai thẩm quyền quyết định",
        "{person} ({value}) phải do {expected} quyết định xếp loại, không phải {actual}.",
    ),
    (
        "authority-evaluator-required",
        E,
        "Thiếu người nhận xét",
        "Đơn vị có {detail} CBCCVC, LĐHĐ: cấp trưởng ủy quyền cho {expected} nhận xét, đánh giá; hãy ghi người nhận xét.",
    ),
    (
        "authority-evaluator",
        E,
        "Sai người nhận xét",
        "Người nhận xét có chức danh {value}; theo quy định phải là {expected}.",
    ),
    (
        "authority-unknown-position",
        E,
        "Chức danh không có trong ma trận thẩm quyền",
        "Không có quy định thẩm quyền cho chức danh {value}.",
    ),
    # ---- deadlines (rules/deadlines, letter §2.3) --------------------------------------
    ("late-self-assessment", W, "Tự đánh giá muộn", "Ngày tự đánh giá {value} muộn {days} ngày so với hạn {expected}."),
    ("late-decision", W, "Quyết định xếp loại muộn", "Ngày quyết định {value} muộn {days} ngày so với hạn {expected}."),
    ("late-arrival", W, "Nộp tệp muộn", "Tệp đến lúc {value}, muộn {days} ngày so với hạn {expected}."),
    (
        "date-after-arrival",
        W,
        "Ngày ghi sau thời điểm nhận tệp",
        "'{column}' = {value} là ngày sau thời điểm tệp được nhận ({detail}); có thể ghi nhầm ngày, tháng hoặc năm.",
    ),
    ("date-order", E, "Thứ tự ngày không hợp lệ", "Ngày quyết định {value} trước ngày tự đánh giá {expected}."),
    (
        "date-outside-period",
        E,
        "Ngày ngoài kỳ đánh giá",
        "'{column}' = {value} nằm ngoài khoảng thời gian hợp lệ của kỳ {period} ({detail}).",
    ),
    # ---- a person on a decider's list and on an individual form (rules/overlap, §2.6) ----
    (
        "form-covered-by-list",
        W,
        "Phiếu cá nhân trùng với danh sách",
        "{count} phiếu cá nhân ({value}) có người đã có trong danh sách này; kết quả được tính theo danh sách của cấp có thẩm quyền, không tính hai lần.",
    ),
    (
        "form-list-conflict",
        W,
        "Phiếu cá nhân khác danh sách",
        "Kết quả của {value} trong phiếu cá nhân '{detail}' ({actual}) khác danh sách ({expected}); kết quả theo danh sách được tính, đề nghị kiểm tra lại.",
    ),
    # ---- registry cross-checks (registry, SPEC §3) -------------------------------------
    # People of the registry missing from a period (SPEC §9, a warning) are not a per-file
    # issue: one decider's list cannot know that another decider's list or an individual form
    # holds the rest of the unit. They are computed per unit and period from everything active
    # (UnitView.missing_people): the "Còn thiếu" note of the unit report, the roll-up column
    # and ``danhgia status``. A typed-over total is formula-overwritten (the reader recomputes
    # every total), so there is no separate "total does not add up" code.
    ("registry-unit-unknown", E, "Đơn vị không có trong danh mục", "Mã đơn vị '{value}' không có trong danh mục."),
    ("registry-block-mismatch", E, "Sai khối", "Đơn vị {value} thuộc {expected}, không thuộc {actual}."),
    ("registry-person-unknown", E, "Cán bộ không có trong danh mục", "Mã cán bộ '{value}' không có trong danh mục."),
    (
        "registry-person-inactive",
        E,
        "Cán bộ không còn công tác",
        "Cán bộ {value} được đánh dấu không còn công tác trong danh mục.",
    ),
    (
        "registry-person-wrong-unit",
        E,
        "Cán bộ thuộc đơn vị khác",
        "Cán bộ {value} thuộc đơn vị {expected} theo danh mục, không thuộc {actual}.",
    ),
    (
        "registry-name-typo",
        W,
        "Họ tên có thể gõ sai",
        "Họ tên '{value}' khác danh mục ('{expected}'), có thể do gõ sai dấu.",
    ),
    (
        "registry-name-mismatch",
        E,
        "Họ tên không khớp danh mục",
        "Họ tên '{value}' không khớp với danh mục ('{expected}') của mã cán bộ này.",
    ),
    (
        "registry-birthdate-mismatch",
        E,
        "Ngày sinh không khớp danh mục",
        "Ngày sinh {value} khác danh mục ({expected}).",
    ),
    (
        "registry-person-twice",
        E,
        "Cán bộ có trong danh sách khác",
        "Cán bộ {value} đã có trong danh sách được chấp nhận của {expected} cùng kỳ.",
    ),
    # ---- registry file validation (template 00) ----------------------------------------
    (
        "registry-position-mismatch",
        E,
        "Mã chức danh khác danh mục",
        "Cán bộ {value}: danh mục ghi mã chức danh '{expected}', danh sách ghi '{actual}'.",
    ),
    (
        "registry-category-mismatch",
        E,
        "Đối tượng khác danh mục",
        "Cán bộ {value}: danh mục ghi đối tượng '{expected}', danh sách ghi '{actual}'.",
    ),
    (
        "registry-group-mismatch",
        E,
        "Nhóm đối tượng khác danh mục",
        "Cán bộ {value}: danh mục ghi nhóm đối tượng '{expected}', danh sách ghi '{actual}'"
        " (tỷ lệ loại A tính theo nhóm trong danh mục).",
    ),
    ("registry-code-duplicate", E, "Mã bị trùng trong danh mục", "Mã '{value}' xuất hiện nhiều lần ({detail})."),
    (
        "registry-parent-unknown",
        E,
        "Đơn vị cấp trên không tồn tại",
        "Mã đơn vị cấp trên '{value}' không có trong danh mục.",
    ),
    ("registry-cycle", E, "Vòng lặp đơn vị cấp trên", "Đơn vị {value} nằm trong vòng lặp cấp trên: {detail}."),
    (
        "registry-validity-order",
        E,
        "Thời hạn hiệu lực không hợp lệ",
        "'{column}' = {value} không sau ngày bắt đầu hiệu lực của đơn vị.",
    ),
    (
        "registry-kind-block-mismatch",
        E,
        "Loại đơn vị không thuộc khối",
        "Loại đơn vị {value} thuộc {expected}, không dùng được cho đơn vị thuộc {actual}.",
    ),
    # ---- processing (intake/pipeline) --------------------------------------------------
    ("file-duplicate", W, "Tệp đã được xử lý", "Tệp giống hệt tệp '{value}' đã nhận lúc {detail}; không xử lý lại."),
    (
        "list-superseded",
        W,
        "Thay thế danh sách trước",
        "Danh sách này thay thế danh sách đã nộp trước đó của cùng người quyết định, cùng kỳ ({value}).",
    ),
    (
        "processing-failed",
        E,
        "Lỗi xử lý",
        "Có lỗi ngoài dự kiến khi xử lý tệp ({detail}); tệp gốc được giữ lại, hãy báo quản trị.",
    ),
]

CATALOGUE: dict[str, IssueType] = {c: IssueType(c, s, t, m) for c, s, t, m in _ENTRIES}


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def make_issue(
    code: str,
    *,
    file: str = "",
    sheet: str = "",
    cell: str = "",
    row: int | None = None,
    column: str = "",
    value: Any = "",
    **params: Any,
) -> Issue:
    """Build an :class:`Issue` from the catalogue; ``params`` fill the message template.

    ``column`` and ``value`` are also available to the template. Unknown codes raise
    ``KeyError`` (a programming error, caught by the catalogue test).
    """
    entry = CATALOGUE[code]
    # text from a file or its name: no control character, bidi override or undecodable
    # byte reaches a message, a log, the ledger or a workbook (issue 17 ¶1, ¶4)
    text_value = "" if value is None else visible(str(value))
    file, sheet, column = visible(file), visible(sheet), visible(column)
    params = {k: visible(v) if isinstance(v, str) else v for k, v in params.items()}
    fields = _Default(params, column=column, value=text_value, sheet=sheet)
    return Issue(
        code=code,
        severity=entry.severity,
        message=entry.template.format_map(fields),
        file=file,
        sheet=sheet,
        cell=cell,
        row=row,
        column=column,
        value=text_value,
    )


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity is Severity.ERROR for i in issues)
