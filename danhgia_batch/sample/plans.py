"""The units of the synthetic Long Biên district (SPEC Appendix A) and their staffing.

Unit names are the public names of Long Biên's bodies in 2022. Each plan lists its staffing
lines, head first, with the position codes of the authority matrix and the unit kinds of
``codes.toml`` (letter §2.2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ..layout import strip_accents

WARDS = (
    "Bồ Đề", "Cự Khối", "Đức Giang", "Gia Thụy", "Giang Biên", "Long Biên", "Ngọc Lâm",
    "Ngọc Thụy", "Phúc Đồng", "Phúc Lợi", "Sài Đồng", "Thạch Bàn", "Thượng Thanh", "Việt Hưng",
)  # fmt: skip

# Schools beyond the three per ward: (kind prefix, name).
EXTRA_SCHOOLS = (
    ("MN", "Hoa Sữa"), ("MN", "Hoa Mộc Lan"), ("MN", "Sơn Ca"), ("MN", "Hoa Thủy Tiên"),
    ("MN", "Hoa Anh Đào"), ("MN", "Ánh Sao"), ("MN", "Hoa Mai"), ("MN", "Thạch Cầu"),
    ("MN", "Hoa Hướng Dương"), ("MN", "Đô thị Việt Hưng"),
    ("TH", "Ái Mộ"), ("TH", "Gia Quất"), ("TH", "Thanh Am"), ("TH", "Lý Thường Kiệt"),
    ("TH", "Đoàn Khuê"), ("TH", "Lê Ngọc Hân"), ("TH", "Đô thị Sài Đồng"), ("TH", "Ngô Gia Tự"),
    ("THCS", "Ái Mộ"), ("THCS", "Chu Văn An"), ("THCS", "Lê Quý Đôn"), ("THCS", "Nguyễn Gia Thiều"),
    ("THCS", "Đô thị Việt Hưng"), ("THCS", "Thanh Am"), ("THCS", "Trần Quốc Toản"),
    ("THCS", "Nguyễn Bỉnh Khiêm"),
)  # fmt: skip
SCHOOL_LEVELS = {"MN": "Trường Mầm non", "TH": "Trường Tiểu học", "THCS": "Trường THCS"}

REFERENCE_DAY = date(2022, 1, 1)  # ages are computed at the letter's year

# A staffing line: (position code, position title, category, how many (min, max)).
Staff = tuple[str, str, str, tuple[int, int]]


@dataclass(frozen=True)
class UnitPlan:
    """A unit to create and the staffing lines of its people (head first)."""

    code: str
    name: str
    block: str
    kind: str
    parent: str
    staff: tuple[Staff, ...]
    female_share: float = 0.5
    ages: tuple[int, int] = (24, 59)


def ascii_code(text: str) -> str:
    """ "Ngọc Lâm" → "NGOCLAM": unit codes are short upper-case ASCII."""
    return "".join(ch for ch in strip_accents(text).upper() if ch.isalnum())


# ---- the unit plans ----------------------------------------------------------------------


def _board(code: str, name: str, kind: str, head: str, deputy: str, staff: Staff, n_dep: int = 2) -> UnitPlan:
    cat = staff[2]
    return UnitPlan(
        code,
        name,
        "DANG",
        kind,
        "TTQU",
        (
            ("TRUONG_BAN_QU", head, cat, (1, 1)),
            ("CAP_PHO", deputy, cat, (n_dep, n_dep)),
            staff,
            ("LDHD", "Nhân viên hợp đồng", "LDHD", (0, 2)),
        ),
    )


def _dang_plans() -> list[UnitPlan]:
    cv = ("CONG_CHUC", "Chuyên viên", "CBCC")
    plans = [
        UnitPlan(
            "TTQU",
            "Thường trực Quận ủy",
            "DANG",
            "QUAN_UY",
            "",
            (
                ("BI_THU_QU", "Bí thư Quận ủy", "CBCC", (1, 1)),
                ("THUONG_TRUC_QU", "Phó Bí thư Thường trực Quận ủy", "CBCC", (1, 1)),
            ),
            ages=(45, 58),
        ),
        _board("VPQU", "Văn phòng Quận ủy", "BAN_DANG", "Chánh Văn phòng", "Phó Chánh Văn phòng", (*cv, (9, 13))),
        _board("BTCQU", "Ban Tổ chức Quận ủy", "BAN_DANG", "Trưởng ban", "Phó Trưởng ban", (*cv, (6, 9))),
        _board("BTGQU", "Ban Tuyên giáo Quận ủy", "BAN_DANG", "Trưởng ban", "Phó Trưởng ban", (*cv, (5, 7))),
        _board("BDVQU", "Ban Dân vận Quận ủy", "BAN_DANG", "Trưởng ban", "Phó Trưởng ban", (*cv, (4, 6))),
        _board(
            "UBKTQU",
            "Ủy ban Kiểm tra Quận ủy",
            "BAN_DANG",
            "Chủ nhiệm",
            "Phó Chủ nhiệm",
            ("CONG_CHUC", "Kiểm tra viên", "CBCC", (5, 8)),
        ),
        _board(
            "TTCT",
            "Trung tâm Chính trị quận",
            "BAN_DANG",
            "Giám đốc",
            "Phó Giám đốc",
            ("VIEN_CHUC", "Giảng viên", "VC", (4, 6)),
            n_dep=1,
        ),
        _board("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam quận", "DOAN_THE", "Chủ tịch", "Phó Chủ tịch", (*cv, (5, 8))),
        _board("HLHPN", "Hội Liên hiệp Phụ nữ quận", "DOAN_THE", "Chủ tịch", "Phó Chủ tịch", (*cv, (4, 6))),
        _board("QDOAN", "Quận đoàn Long Biên", "DOAN_THE", "Bí thư Quận đoàn", "Phó Bí thư", (*cv, (4, 6))),
        _board("HCCB", "Hội Cựu chiến binh quận", "DOAN_THE", "Chủ tịch", "Phó Chủ tịch", (*cv, (2, 4)), n_dep=1),
        _board("LDLD", "Liên đoàn Lao động quận", "DOAN_THE", "Chủ tịch", "Phó Chủ tịch", (*cv, (4, 6))),
        UnitPlan(
            "DUKDN",
            "Đảng ủy Khối Doanh nghiệp quận",
            "DANG",
            "DANG_UY_KHOI",
            "TTQU",
            (
                ("BI_THU_DUK_DN", "Bí thư Đảng ủy Khối", "CBCC", (1, 1)),
                ("CAP_PHO", "Phó Bí thư Đảng ủy Khối", "CBCC", (1, 1)),
                ("CONG_CHUC", "Chuyên viên", "CBCC", (3, 5)),
            ),
        ),
    ]
    # Hội LHPN is mostly women, Hội CCB mostly older men.
    plans = [
        replace(p, female_share=0.9)
        if p.code == "HLHPN"
        else replace(p, female_share=0.1, ages=(45, 59))
        if p.code == "HCCB"
        else p
        for p in plans
    ]
    for ward in WARDS:
        plans.append(
            UnitPlan(
                f"DU_{ascii_code(ward)}",
                f"Đảng ủy phường {ward}",
                "DANG",
                "DANG_UY_PHUONG",
                "TTQU",
                (
                    ("BI_THU_DU_PHUONG", "Bí thư Đảng ủy phường", "CBCC", (1, 1)),
                    ("PBT_TT_DU_PHUONG", "Phó Bí thư Thường trực Đảng ủy phường", "CBCC", (1, 1)),
                    ("TRUONG_DOAN_THE_PHUONG", "Chủ tịch Ủy ban MTTQ phường", "CBCC", (1, 1)),
                    ("TRUONG_DOAN_THE_PHUONG", "Phó Chủ tịch Ủy ban MTTQ phường", "CBCC", (1, 1)),
                    ("TRUONG_DOAN_THE_PHUONG", "Chủ tịch Hội Liên hiệp Phụ nữ phường", "CBCC", (1, 1)),
                    ("TRUONG_DOAN_THE_PHUONG", "Bí thư Đoàn phường", "CBCC", (1, 1)),
                    ("TRUONG_DOAN_THE_PHUONG", "Chủ tịch Hội Cựu chiến binh phường", "CBCC", (1, 1)),
                    ("LDHD", "Nhân viên Văn phòng Đảng ủy", "LDHD", (1, 1)),
                    ("KCT", "Người hoạt động không chuyên trách", "KCT", (3, 6)),
                ),
            )
        )
    return plans


def _department(
    code: str, name: str, n: tuple[int, int], head: str = "Trưởng phòng", deputy: str = "Phó Trưởng phòng"
) -> UnitPlan:
    head_code = "TRUONG_PHONG_GDDT" if code == "PGDDT" else "TRUONG_PHONG"
    return UnitPlan(
        code,
        name,
        "CHINH_QUYEN",
        "PHONG",
        "LDUBND",
        (
            (head_code, head, "CBCC", (1, 1)),
            ("CAP_PHO", deputy, "CBCC", (2, 3)),
            ("CONG_CHUC", "Chuyên viên", "CBCC", n),
            ("LDHD", "Nhân viên hợp đồng", "LDHD", (1, 3)),
        ),
    )


def _service_unit(code: str, name: str, n: tuple[int, int], head: str = "Giám đốc") -> UnitPlan:
    deputy = "Phó " + head[0].lower() + head[1:]
    return UnitPlan(
        code,
        name,
        "CHINH_QUYEN",
        "DVSN",
        "LDUBND",
        (
            ("TRUONG_PHONG", head, "VC", (1, 1)),
            ("CAP_PHO", deputy, "VC", (2, 3)),
            ("VIEN_CHUC", "Viên chức", "VC", n),
            ("LDHD", "Nhân viên hợp đồng", "LDHD", (2, 5)),
        ),
    )


WARD_CIVIL_SERVANTS = (
    "Công chức Văn phòng - Thống kê",
    "Công chức Địa chính - Xây dựng - Đô thị và Môi trường",
    "Công chức Tài chính - Kế toán",
    "Công chức Tư pháp - Hộ tịch",
    "Công chức Văn hóa - Xã hội",
)


def _chinh_quyen_plans() -> list[UnitPlan]:
    plans = [
        UnitPlan(
            "HDND",
            "Thường trực Hội đồng nhân dân quận",
            "CHINH_QUYEN",
            "HDND_Q",
            "",
            (
                ("CT_HDND_Q", "Chủ tịch HĐND quận", "CBCC", (1, 1)),
                ("PCT_HDND_Q", "Phó Chủ tịch HĐND quận", "CBCC", (1, 1)),
                ("TRUONG_BAN_HDND", "Trưởng ban chuyên trách HĐND quận", "CBCC", (2, 2)),
                ("PHO_BAN_HDND", "Phó Trưởng ban chuyên trách HĐND quận", "CBCC", (2, 2)),
            ),
            ages=(40, 58),
        ),
        UnitPlan(
            "LDUBND",
            "Ủy ban nhân dân quận (lãnh đạo)",
            "CHINH_QUYEN",
            "UBND_Q",
            "",
            (
                ("CT_UBND_Q", "Chủ tịch UBND quận", "CBCC", (1, 1)),
                ("PCT_UBND_Q", "Phó Chủ tịch UBND quận", "CBCC", (3, 4)),
            ),
            ages=(40, 58),
        ),
        _department("VPHU", "Văn phòng HĐND và UBND quận", (18, 24), "Chánh Văn phòng", "Phó Chánh Văn phòng"),
        _department("PNV", "Phòng Nội vụ", (8, 12)),
        _department("PTP", "Phòng Tư pháp", (4, 6)),
        _department("PTCKH", "Phòng Tài chính – Kế hoạch", (13, 18)),
        _department("PKT", "Phòng Kinh tế", (7, 10)),
        _department("PQLDT", "Phòng Quản lý đô thị", (15, 19)),
        _department("PTNMT", "Phòng Tài nguyên và Môi trường", (10, 14)),
        _department("PLDTBXH", "Phòng Lao động – Thương binh và Xã hội", (9, 13)),
        _department("PVHTT", "Phòng Văn hóa và Thông tin", (5, 8)),
        _department("PGDDT", "Phòng Giáo dục và Đào tạo", (10, 14)),
        _department("PYT", "Phòng Y tế", (3, 5)),
        _department("TTRA", "Thanh tra quận", (7, 10), "Chánh Thanh tra", "Phó Chánh Thanh tra"),
        _service_unit("BQLDA", "Ban Quản lý dự án đầu tư xây dựng quận", (20, 28)),
        _service_unit("TTVHTT", "Trung tâm Văn hóa – Thông tin và Thể thao", (16, 22)),
        _service_unit("TTPTQD", "Trung tâm Phát triển quỹ đất", (12, 18)),
        _service_unit("DQLTTXD", "Đội Quản lý trật tự xây dựng đô thị", (20, 26), head="Đội trưởng"),
        _service_unit("TTGDNN", "Trung tâm Giáo dục nghề nghiệp – Giáo dục thường xuyên quận", (14, 20)),
    ]
    for ward in WARDS:
        plans.append(
            UnitPlan(
                f"UBND_{ascii_code(ward)}",
                f"UBND phường {ward}",
                "CHINH_QUYEN",
                "UBND_PHUONG",
                "LDUBND",
                (
                    ("CT_UBND_PHUONG", "Chủ tịch UBND phường", "CBCC", (1, 1)),
                    ("PCT_UBND_PHUONG", "Phó Chủ tịch UBND phường", "CBCC", (2, 2)),
                    ("CONG_CHUC", "Chỉ huy trưởng Ban Chỉ huy Quân sự phường", "CBCC", (1, 1)),
                    *(("CONG_CHUC", title, "CBCC", (2, 3)) for title in WARD_CIVIL_SERVANTS),
                    ("LDHD", "Lao động hợp đồng", "LDHD", (4, 9)),
                    ("KCT", "Người hoạt động không chuyên trách", "KCT", (12, 26)),
                ),
            )
        )
    return plans


def _school(prefix: str, name: str) -> UnitPlan:
    level = SCHOOL_LEVELS[prefix]
    teachers, staff, contract, women = {
        "MN": ((22, 45), "Nhân viên", (6, 12), 0.98),
        "TH": ((30, 60), "Nhân viên", (2, 5), 0.85),
        "THCS": ((32, 70), "Nhân viên", (2, 4), 0.75),
    }[prefix]
    return UnitPlan(
        f"{prefix}_{ascii_code(name)}",
        f"{level} {name}",
        "TRUONG_HOC",
        "TRUONG",
        "PGDDT",
        (
            ("HIEU_TRUONG", "Hiệu trưởng", "VC", (1, 1)),
            ("PHO_HIEU_TRUONG", "Phó Hiệu trưởng", "VC", (1, 3)),
            ("GIAO_VIEN", "Giáo viên", "VC", teachers),
            ("VIEN_CHUC", "Kế toán", "VC", (1, 1)),
            ("VIEN_CHUC", staff + " y tế", "VC", (0, 1)),
            ("VIEN_CHUC", staff + " văn thư", "VC", (1, 1)),
            ("LDHD", "Nhân viên bảo vệ, phục vụ", "LDHD", contract),
        ),
        female_share=women,
        ages=(23, 58),
    )


def _school_plans() -> list[UnitPlan]:
    plans = [_school(prefix, ward) for ward in WARDS for prefix in ("MN", "TH", "THCS")]
    plans.extend(_school(prefix, name) for prefix, name in EXTRA_SCHOOLS)
    return plans


def unit_plans() -> list[UnitPlan]:
    """All unit plans of the district, registry order (Party, government, schools)."""
    return [*_dang_plans(), *_chinh_quyen_plans(), *_school_plans()]
