"""The public shape of the three templates (SPEC §8), shared by the generator and the reader.

Header fields are reached through Excel defined names (a stable public interface); table
columns are found by their header label, folded with :func:`fold_label`, so a clerk who
inserts or reorders columns is still read correctly. Score columns come from the framework,
so a different framework yields different columns with no code change.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .domain import Framework, Part

TEMPLATE_VERSION = "1.0"
SUPPORTED_VERSIONS = {"00": {"1.0"}, "01": {"1.0"}, "02": {"1.0"}}

KIND_REGISTRY = "00"
KIND_INDIVIDUAL = "01"
KIND_UNIT_LIST = "02"
LIST_KINDS = (KIND_INDIVIDUAL, KIND_UNIT_LIST)  # the kinds that evaluate people (not the registry)

FILE_NAMES = {
    KIND_REGISTRY: "danh_muc.xlsx",
    KIND_INDIVIDUAL: "mau_01_phieu_ca_nhan.xlsx",
    KIND_UNIT_LIST: "mau_02_tong_hop_don_vi.xlsx",
}
KIND_TITLES = {
    KIND_REGISTRY: "Mẫu 00 - Danh mục đơn vị và cán bộ",
    KIND_INDIVIDUAL: "Mẫu 01 - Phiếu tự đánh giá, xếp loại hằng tháng",
    KIND_UNIT_LIST: "Mẫu 02 - Danh sách tổng hợp kết quả đánh giá, xếp loại của đơn vị",
}

META_SHEET = "_meta"
LISTS_SHEET = "_lists"
HELP_SHEET = "HuongDan"
SHEET_UNIT_LIST = "DanhSach"
SHEET_INDIVIDUAL = "Phieu"
SHEET_UNITS = "DonVi"
SHEET_PEOPLE = "CanBo"

# _meta sheet: column A key, column B value.
META_KEYS = ("template_kind", "template_version", "framework_id", "framework_version", "generator")

_SPACE_RE = re.compile(r"\s+")
_TRIM_CHARS = " *:.()[]"


def fold_label(text: object) -> str:
    """Fold a header label for matching: NFC, casefolded, spacing collapsed, decoration trimmed."""
    if isinstance(text, str) and len(text) <= _FOLD_CACHED_LEN:
        return _fold_cached(text)
    return _fold(text)


_FOLD_CACHED_LEN = 200  # the labels and the short values a header scan meets again and again


@functools.lru_cache(maxsize=4096)
def _fold_cached(text: str) -> str:
    return _fold(text)


def _fold(text: object) -> str:
    s = unicodedata.normalize("NFC", str(text or ""))
    s = _SPACE_RE.sub(" ", s.replace("\n", " ")).strip().casefold()
    return s.strip(_TRIM_CHARS).replace(" - ", " ").replace("–", "-")


def strip_accents(text: str) -> str:
    """Remove Vietnamese diacritics (đ → d) for a secondary, accent-insensitive comparison."""
    s = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in s if not unicodedata.combining(ch)))


@dataclass(frozen=True)
class Field:
    """A header field or a table column.

    ``kind``: text, code, date, period, score, total, grade, int.
    ``codes``: for kind ``code``/``grade``, the CodeLists attribute giving allowed values.
    ``part``: for score/total columns, the framework part code (``None`` for totals).
    ``formula``: the generated cell holds a formula (the reader recomputes it).
    """

    key: str
    label: str
    kind: str = "text"
    required: bool = False
    codes: str = ""
    name: str = ""  # defined name for header fields
    part: str | None = None
    formula: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def folded(self) -> tuple[str, ...]:
        return tuple(fold_label(x) for x in (self.label, *self.aliases))


# ---- header fields ------------------------------------------------------------------

_PERIOD = Field("period", "Kỳ đánh giá (tháng/năm)", "period", True, name="KY_DANH_GIA", aliases=("Kỳ đánh giá",))
_UNIT_CODE = Field("unit_code", "Mã đơn vị", "text", True, name="MA_DON_VI")
_UNIT_NAME = Field("unit_name", "Tên đơn vị", "text", True, name="TEN_DON_VI")
_BLOCK = Field("block", "Khối", "code", True, codes="blocks", name="KHOI")
_DECIDER = Field("decider_name", "Người quyết định xếp loại", "text", True, name="NGUOI_QUYET_DINH")
_DECIDER_POS = Field(
    "decider_position",
    "Chức danh người quyết định",
    "code",
    True,
    codes="positions",
    name="CHUC_DANH_NGUOI_QUYET_DINH",
)
_DECISION_DATE = Field("decision_date", "Ngày quyết định xếp loại", "date", True, name="NGAY_QUYET_DINH")
_PREPARER = Field("prepared_by", "Người lập biểu", "text", False, name="NGUOI_LAP")
_PREPARED_DATE = Field("prepared_date", "Ngày lập", "date", False, name="NGAY_LAP")

UNIT_LIST_HEADER: tuple[Field, ...] = (
    _PERIOD,
    _UNIT_CODE,
    _UNIT_NAME,
    _BLOCK,
    _DECIDER,
    _DECIDER_POS,
    _DECISION_DATE,
    _PREPARER,
    _PREPARED_DATE,
)

INDIVIDUAL_HEADER: tuple[Field, ...] = (
    _PERIOD,
    _UNIT_CODE,
    _UNIT_NAME,
    _BLOCK,
    Field("person_code", "Mã cán bộ", "text", True, name="MA_CAN_BO"),
    Field("full_name", "Họ và tên", "text", True, name="HO_TEN"),
    Field("birth_date", "Ngày sinh", "date", False, name="NGAY_SINH"),
    Field("position_title", "Chức vụ", "text", False, name="CHUC_VU"),
    Field("position_code", "Mã chức danh", "code", True, codes="positions", name="MA_CHUC_DANH"),
    Field("category", "Đối tượng", "code", True, codes="categories", name="DOI_TUONG"),
    Field("group", "Nhóm đối tượng", "code", False, codes="groups", name="NHOM_DOI_TUONG"),
    Field("self_date", "Ngày tự đánh giá", "date", True, name="NGAY_TU_DANH_GIA"),
    Field("evaluator_name", "Người nhận xét, đánh giá", "text", False, name="NGUOI_NHAN_XET"),
    Field(
        "evaluator_position",
        "Chức danh người nhận xét",
        "code",
        False,
        codes="positions",
        name="CHUC_DANH_NGUOI_NHAN_XET",
    ),
    _DECIDER,
    _DECIDER_POS,
    _DECISION_DATE,
    _PREPARER,
    _PREPARED_DATE,
)

# Result cells of template 01 (below the criteria table), also reached by defined names.
INDIVIDUAL_RESULTS: tuple[Field, ...] = (
    Field("self_total", "Tổng điểm tự chấm", "total", formula=True, name="TONG_DIEM_TU_CHAM"),
    Field("final_total", "Tổng điểm cấp có thẩm quyền", "total", formula=True, name="TONG_DIEM"),
    Field("self_grade", "Tự xếp loại", "grade", True, codes="grades", name="TU_XEP_LOAI"),
    Field("band_grade", "Xếp loại theo điểm", "grade", formula=True, name="XEP_LOAI_THEO_DIEM"),
    Field("final_grade", "Xếp loại của cấp có thẩm quyền", "grade", True, codes="grades", name="XEP_LOAI"),
    Field("comments", "Nhận xét của người nhận xét, đánh giá", "text", name="NHAN_XET"),
    Field("note", "Ghi chú (lý do hạ loại, không xếp loại)", "text", name="GHI_CHU", aliases=("Ghi chú",)),
)

# Criteria table of template 01: one row per part (subtotal formulas) and per criterion.
INDIVIDUAL_TABLE: tuple[Field, ...] = (
    Field("code", "Mã", "text", True),
    Field("name", "Tiêu chí đánh giá", "text", True),
    Field("max", "Điểm tối đa", "score", True),
    Field("self_score", "Điểm tự chấm", "score", True),
    Field("final_score", "Điểm cấp có thẩm quyền chấm", "score", True),
)


def criterion_label(side: str, code: str) -> str:
    """Column label used in messages for a criterion score cell (``side``: self or final)."""
    f = INDIVIDUAL_TABLE[3] if side == "self" else INDIVIDUAL_TABLE[4]
    return f"{f.label} ({code})"


# ---- template 02 table ------------------------------------------------------------------


def self_part_label(part_code: str) -> str:
    return f"Tự chấm Phần {part_code}"


def final_part_label(part_code: str) -> str:
    return f"Cấp có thẩm quyền chấm Phần {part_code}"


# SPEC §13, Decree 335: the inputs of a computed task part (rules/kpi.py keeps the formula)
KPI_INPUTS: tuple[tuple[str, str], ...] = (
    ("assigned", "Số sản phẩm được giao"),
    ("completed", "Số sản phẩm hoàn thành"),
    ("quality", "Số sản phẩm đạt chất lượng"),
    ("on_time", "Số sản phẩm hoàn thành đúng hạn"),
    ("failed_checks", "Số lần kiểm tra không đạt do lỗi lớn"),
    ("delays", "Số lần chậm tiến độ"),
)


# SPEC §13, Decree 335: a leader's or deputy's three more components, percentages typed by the
# evaluator (kpi.LEADER_INPUTS; the product's reading, marked in the regime)
KPI_LEADER_INPUTS: tuple[tuple[str, str], ...] = (
    ("led_units", "Lãnh đạo: kết quả đơn vị phụ trách (%)"),
    ("leadership", "Lãnh đạo: năng lực lãnh đạo, quản lý, điều hành (%)"),
    ("cohesion", "Lãnh đạo: năng lực tập hợp, đoàn kết (%)"),
)


def kpi_columns(framework: Framework) -> tuple[Field, ...]:
    """Input columns of the framework's computed parts (none for the letter's frameworks),
    and the leader components when a computed part has the leader variant."""
    if not any(p.computed for p in framework.parts):
        return ()
    staff = tuple(Field(f"kpi_{k}", label, "score") for k, label in KPI_INPUTS)
    if not any(p.computed and p.leaders for p in framework.parts):
        return staff
    return staff + tuple(Field(f"kpi_{k}", label, "score") for k, label in KPI_LEADER_INPUTS)


def individual_inputs(framework: Framework, flags: tuple[tuple[str, str], ...] = ()) -> tuple[Field, ...]:
    """Template 01's fields for a computed part's inputs (and, with the leader variant, the
    leader components, as template 02's columns: :func:`kpi_columns`) and the regime's cap flags
    (defined names ``SP_…`` and ``GIOI_HAN_…``), none for the letter's frameworks (SPEC §13)."""
    out = [
        Field(f.key, f.label, f.kind, name="SP_" + f.key.removeprefix("kpi_").upper()) for f in kpi_columns(framework)
    ]
    out += [
        Field(f"flag_{flag}", f"{label} (ghi x nếu có)", "text", name=f"GIOI_HAN_{flag.upper()}")
        for flag, label in flags
    ]
    return tuple(out)


def _part_fields(parts: Sequence[Part], prefix: str, label: Callable[[str], str]) -> tuple[Field, ...]:
    """One score column per part (``self_…`` or ``final_…``); a computed part's is a formula."""
    return tuple(
        Field(f"{prefix}_{p.code}", label(p.code), "score", not p.computed, part=p.code, formula=bool(p.computed))
        for p in parts
    )


def unit_list_columns(framework: Framework, flags: tuple[tuple[str, str], ...] = ()) -> tuple[Field, ...]:
    """Columns of template 02, in generated order, for ``framework`` (``flags``: the (flag,
    label) cap columns of the regime the framework belongs to, SPEC §13)."""
    parts = framework.parts
    return (
        Field("stt", "STT", "int"),
        Field("person_code", "Mã cán bộ", "text", True),
        Field("full_name", "Họ và tên", "text", True),
        Field("birth_date", "Ngày sinh", "date"),
        Field("position_title", "Chức vụ", "text"),
        Field("position_code", "Mã chức danh", "code", True, codes="positions"),
        Field("category", "Đối tượng", "code", True, codes="categories"),
        Field("group", "Nhóm đối tượng", "code", codes="groups"),
        *kpi_columns(framework),
        *(Field(f"flag_{flag}", label, "text") for flag, label in flags),
        *_part_fields(parts, "self", self_part_label),
        Field("self_total", "Tổng điểm tự chấm", "total", formula=True),
        Field("self_grade", "Tự xếp loại", "grade", True, codes="grades"),
        Field("self_date", "Ngày tự đánh giá", "date", True),
        *_part_fields(parts, "final", final_part_label),
        Field("final_total", "Tổng điểm cấp có thẩm quyền", "total", formula=True),
        Field("band_grade", "Xếp loại theo điểm", "grade", formula=True),
        Field("final_grade", "Xếp loại", "grade", True, codes="grades", aliases=("Xếp loại của cấp có thẩm quyền",)),
        Field("evaluator_name", "Người nhận xét", "text"),
        Field("evaluator_position", "Chức danh người nhận xét", "code", codes="positions"),
        Field("note", "Ghi chú", "text"),
    )


# ---- template 00 tables -----------------------------------------------------------------

UNIT_COLUMNS: tuple[Field, ...] = (
    Field("unit_code", "Mã đơn vị", "text", True),
    Field("unit_name", "Tên đơn vị", "text", True),
    Field("block", "Khối", "code", True, codes="blocks"),
    Field("unit_kind", "Loại đơn vị", "code", True, codes="unit_kinds"),
    Field("parent_code", "Mã đơn vị cấp trên", "text"),
    # issue 20: where reminders go; several addresses separated by ";" or ","; optional
    Field("emails", "Email liên hệ", "text", aliases=("E-mail liên hệ", "Email đơn vị")),
    # SPEC §3, §10: levels and the letterhead of each unit; optional (older registries have
    # none of them and keep working: blanks are derived, reports/letterhead.py).
    Field("level", "Cấp hành chính", "code", codes="levels", aliases=("Cấp",)),
    Field("header_top", "Cơ quan chủ quản", "text"),
    Field("header_issuer", "Tên cơ quan ban hành", "text"),
    Field("header_form", "Thể thức", "text"),
    Field("place", "Địa danh", "text"),
    Field("signer_authority", "Thẩm quyền ký", "text"),
    Field("signer_title", "Chức danh người ký", "text"),
    Field("signer_name", "Họ tên người ký", "text"),
    Field("administers", "Quản trị khối", "code", codes="blocks"),
    Field("valid_from", "Hiệu lực từ ngày", "date"),
    Field("valid_to", "Hết hiệu lực từ ngày", "date"),
)

# "Thể thức" of a unit's papers (SPEC §10): Party (Hướng dẫn 36-HD/VPTW) or State (Decree 30/2020).
HEADER_FORM_WORDS = {"dang": "party", "party": "party", "nha nuoc": "state", "state": "state", "chinh quyen": "state"}

PEOPLE_COLUMNS: tuple[Field, ...] = (
    Field("person_code", "Mã cán bộ", "text", True),
    Field("full_name", "Họ và tên", "text", True),
    Field("birth_date", "Ngày sinh", "date"),
    Field("unit_code", "Mã đơn vị", "text", True),
    Field("position_title", "Chức vụ", "text"),
    Field("position_code", "Mã chức danh", "code", True, codes="positions"),
    Field("category", "Đối tượng", "code", True, codes="categories"),
    Field("group", "Nhóm đối tượng", "code", codes="groups"),
    Field("active", "Đang công tác", "text", aliases=("Đang công tác (Có/Không)",)),
    Field("email", "Email", "text", aliases=("E-mail", "Email cá nhân")),  # result notices; optional
)

ACTIVE_YES = ("có", "co", "x", "1", "true", "yes")
ACTIVE_NO = ("không", "khong", "0", "false", "no")
