"""A deterministic synthetic ward after 01/07/2025 (SPEC Appendix B): Phường Long Biên.

Resolution 1656/NQ-UBTVQH15 ended Long Biên district on 01/07/2025; its area became the wards
Long Biên, Bồ Đề, Việt Hưng and Phúc Lợi, directly under Hà Nội. A ward has its Party
Committee with boards and office, the Fatherland Front and mass organisations, the People's
Council and People's Committee with three offices (Văn phòng HĐND và UBND; Phòng Kinh tế,
Hạ tầng và Đô thị; Phòng Văn hóa – Xã hội), public service units and the public schools now
under the ward People's Committee. Unit names are the public shape of a ward; people are
synthetic. Position codes and unit kinds are those of the ward matrix in ``authority.toml``
(valid from 2025-07-01, the product's reading).

The registry carries the hierarchy and every name a printout shows (SPEC §3, §10): the ward
is an area (level ``PHUONG``) under the city (``THANH_PHO``, only in a city of several wards),
each unit has its letterhead, the administrators of the blocks are marked, and the ward's and
the administrators' signers are named from the people generated.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from ..models import Person, Unit
from .district import District, _people_of
from .plans import SCHOOL_LEVELS, UnitPlan, _school, ascii_code

WARD_START = date(2025, 7, 1)  # Resolution 1656/NQ-UBTVQH15
CITY = "Thành phố Hà Nội"
CITY_CODE = "HN"
# The four wards of the former Long Biên district, then other wards and communes of Hà Nội.
WARD_NAMES = (
    ("PHUONG", "Long Biên"), ("PHUONG", "Bồ Đề"), ("PHUONG", "Việt Hưng"), ("PHUONG", "Phúc Lợi"),
    ("PHUONG", "Hoàn Kiếm"), ("PHUONG", "Ba Đình"), ("PHUONG", "Cầu Giấy"), ("XA", "Sóc Sơn"),
    ("XA", "Đông Anh"), ("XA", "Gia Lâm"), ("PHUONG", "Hà Đông"), ("XA", "Ba Vì"),
)  # fmt: skip
LEVEL_WORD = {"PHUONG": "phường", "XA": "xã"}
# Schools of the ward: (level prefix, name).
SCHOOLS = (
    ("MN", "Long Biên"), ("MN", "Hoa Sữa"), ("MN", "Ánh Sao"),
    ("TH", "Long Biên"), ("TH", "Ái Mộ"), ("TH", "Gia Quất"),
    ("THCS", "Long Biên"), ("THCS", "Ái Mộ"), ("THCS", "Gia Thụy"),
)  # fmt: skip
INDIVIDUAL_UNITS = ("HCCB", "UBKT")  # units whose people send individual forms (template 01)


def _unit(code: str, name: str, block: str, kind: str, head: tuple[str, str], staff: list[tuple]) -> UnitPlan:
    return UnitPlan(code, name, block, kind, "", ((head[0], head[1], staff[0][2], (1, 1)), *staff))


def ward_plans(word: str, name: str) -> list[UnitPlan]:
    """The units of one ward or commune (``word``: "phường" or "xã"), head first."""
    cv = "CBCC"
    w = f"{word} {name}"
    dang = [
        UnitPlan("DU", f"Đảng ủy {w}", "DANG", "DANG_UY_PHUONG", "", (
            ("BI_THU_DU_PHUONG", f"Bí thư Đảng ủy {word}", cv, (1, 1)),
            ("PBT_TT_DU_PHUONG", f"Phó Bí thư Thường trực Đảng ủy {word}", cv, (1, 1)),
            ("LDHD", "Nhân viên hợp đồng", "LDHD", (1, 1)),
            ("KCT", "Người hoạt động không chuyên trách", "KCT", (2, 4)),
        ), ages=(40, 58)),
        _unit("BXDD", f"Ban Xây dựng Đảng Đảng ủy {word}", "DANG", "BAN_DANG_PHUONG",
              ("TRUONG_BAN_DU_PHUONG", "Trưởng ban"),
              [("CAP_PHO", "Phó Trưởng ban", cv, (2, 2)), ("CONG_CHUC", "Chuyên viên", cv, (4, 6))]),
        _unit("UBKT", f"Ủy ban Kiểm tra Đảng ủy {word}", "DANG", "BAN_DANG_PHUONG",
              ("TRUONG_BAN_DU_PHUONG", "Chủ nhiệm"),
              [("CAP_PHO", "Phó Chủ nhiệm", cv, (1, 2)), ("CONG_CHUC", "Kiểm tra viên", cv, (2, 3))]),
        _unit("VPDU", f"Văn phòng Đảng ủy {word}", "DANG", "BAN_DANG_PHUONG",
              ("TRUONG_BAN_DU_PHUONG", "Chánh Văn phòng"),
              [("CAP_PHO", "Phó Chánh Văn phòng", cv, (1, 2)), ("CONG_CHUC", "Chuyên viên", cv, (3, 4)),
               ("LDHD", "Nhân viên hợp đồng", "LDHD", (1, 2))]),
        _unit("MTTQ", f"Ủy ban Mặt trận Tổ quốc Việt Nam {word}", "DANG", "DOAN_THE_PHUONG",
              ("TRUONG_DOAN_THE_PHUONG", "Chủ tịch"),
              [("CAP_PHO", "Phó Chủ tịch", cv, (2, 2)), ("CONG_CHUC", "Chuyên viên", cv, (4, 6)),
               ("KCT", "Người hoạt động không chuyên trách", "KCT", (2, 4))]),
        _unit("HLHPN", f"Hội Liên hiệp Phụ nữ {word}", "DANG", "DOAN_THE_PHUONG",
              ("TRUONG_DOAN_THE_PHUONG", "Chủ tịch"),
              [("CAP_PHO", "Phó Chủ tịch", cv, (1, 1)), ("KCT", "Người hoạt động không chuyên trách", "KCT", (1, 2))]),
        _unit("DTN", f"Đoàn Thanh niên Cộng sản Hồ Chí Minh {word}", "DANG", "DOAN_THE_PHUONG",
              ("TRUONG_DOAN_THE_PHUONG", "Bí thư Đoàn"),
              [("CAP_PHO", "Phó Bí thư Đoàn", cv, (1, 1)), ("KCT", "Người hoạt động không chuyên trách", "KCT", (1, 2))]),
        _unit("HCCB", f"Hội Cựu chiến binh {word}", "DANG", "DOAN_THE_PHUONG",
              ("TRUONG_DOAN_THE_PHUONG", "Chủ tịch"),
              [("CAP_PHO", "Phó Chủ tịch", cv, (1, 1)), ("KCT", "Người hoạt động không chuyên trách", "KCT", (1, 2))]),
    ]  # fmt: skip
    office = [("CAP_PHO", "Phó Trưởng phòng", cv, (2, 2)), ("LDHD", "Nhân viên hợp đồng", "LDHD", (1, 3))]
    service = [("CAP_PHO", "Phó Giám đốc", "VC", (1, 2)), ("LDHD", "Nhân viên hợp đồng", "LDHD", (1, 2))]
    chinh_quyen = [
        UnitPlan("HDND", f"Thường trực Hội đồng nhân dân {w}", "CHINH_QUYEN", "HDND_PHUONG", "", (
            ("CT_HDND_PHUONG", f"Chủ tịch HĐND {word}", cv, (1, 1)),
            ("PCT_HDND_PHUONG", f"Phó Chủ tịch HĐND {word}", cv, (1, 1)),
            ("PCT_HDND_PHUONG", f"Trưởng ban HĐND {word}", cv, (2, 2)),
        ), ages=(40, 58)),
        UnitPlan("UBND", f"Ủy ban nhân dân {w} (lãnh đạo)", "CHINH_QUYEN", "UBND_PHUONG", "", (
            ("CT_UBND_PHUONG", f"Chủ tịch UBND {word}", cv, (1, 1)),
            ("PCT_UBND_PHUONG", f"Phó Chủ tịch UBND {word}", cv, (2, 3)),
        ), ages=(40, 58)),
        _unit("VPHU", "Văn phòng HĐND và UBND", "CHINH_QUYEN", "PHONG_PHUONG",
              ("TRUONG_PHONG_PHUONG", "Chánh Văn phòng"),
              [("CAP_PHO", "Phó Chánh Văn phòng", cv, (2, 2)), ("CONG_CHUC", "Chuyên viên", cv, (14, 18)),
               ("LDHD", "Nhân viên hợp đồng", "LDHD", (2, 4))]),
        _unit("PKTHTDT", "Phòng Kinh tế, Hạ tầng và Đô thị", "CHINH_QUYEN", "PHONG_PHUONG",
              ("TRUONG_PHONG_PHUONG", "Trưởng phòng"), [office[0], ("CONG_CHUC", "Chuyên viên", cv, (10, 14)), office[1]]),
        _unit("PVHXH", "Phòng Văn hóa – Xã hội", "CHINH_QUYEN", "PHONG_PHUONG",
              ("TRUONG_PHONG_PHUONG", "Trưởng phòng"), [office[0], ("CONG_CHUC", "Chuyên viên", cv, (7, 10)), office[1]]),
        _unit("TTHCC", "Trung tâm Phục vụ hành chính công", "CHINH_QUYEN", "DVSN_PHUONG",
              ("TRUONG_PHONG_PHUONG", "Giám đốc"), [service[0], ("VIEN_CHUC", "Viên chức", "VC", (8, 12)), service[1]]),
        _unit("TTVHTT", "Trung tâm Văn hóa, Thông tin và Thể thao", "CHINH_QUYEN", "DVSN_PHUONG",
              ("TRUONG_PHONG_PHUONG", "Giám đốc"), [service[0], ("VIEN_CHUC", "Viên chức", "VC", (6, 9)), service[1]]),
        _unit("TYT", f"Trạm Y tế {w}", "CHINH_QUYEN", "DVSN_PHUONG",
              ("TRUONG_PHONG_PHUONG", "Trưởng trạm"),
              [("CAP_PHO", "Phó Trưởng trạm", "VC", (1, 1)), ("VIEN_CHUC", "Bác sĩ, điều dưỡng, dược sĩ", "VC", (6, 10)),
               service[1]]),
    ]  # fmt: skip
    schools = [_school(prefix, school) for prefix, school in SCHOOLS]
    return [*dang, *chinh_quyen, *schools]


# letterheads and signers by unit code (SPEC §10; Decree 30/2020, Hướng dẫn 36-HD/VPTW)
def _letterhead(plan: UnitPlan, word: str, name: str) -> dict[str, str]:
    ward = f"{word} {name}".upper()
    if plan.code == "DU":
        return {"header_top": f"ĐẢNG BỘ {CITY.upper()}", "header_issuer": f"ĐẢNG ỦY {ward}",
                "signer_authority": "T/M ĐẢNG ỦY", "signer_title": "BÍ THƯ"}  # fmt: skip
    if plan.block == "DANG":
        titles = {"BXDD": "TRƯỞNG BAN", "UBKT": "CHỦ NHIỆM", "VPDU": "CHÁNH VĂN PHÒNG", "DTN": "BÍ THƯ"}
        top = f"ĐẢNG ỦY {ward}" if plan.kind == "BAN_DANG_PHUONG" else f"MẶT TRẬN TỔ QUỐC {ward}"
        issuer = plan.name.split(f" Đảng ủy {word}")[0].split(f" {word}")[0]  # "Ban Xây dựng Đảng"
        return {"header_top": top, "header_issuer": issuer.upper(), "signer_title": titles.get(plan.code, "CHỦ TỊCH")}
    if plan.code == "HDND":
        return {"header_top": "", "header_issuer": f"HỘI ĐỒNG NHÂN DÂN {ward}",
                "signer_authority": "TM. THƯỜNG TRỰC HĐND", "signer_title": "CHỦ TỊCH"}  # fmt: skip
    if plan.code == "UBND":
        return {"header_top": "", "header_issuer": f"ỦY BAN NHÂN DÂN {ward}",
                "signer_authority": "TM. ỦY BAN NHÂN DÂN", "signer_title": "CHỦ TỊCH"}  # fmt: skip
    titles = {"VPHU": "CHÁNH VĂN PHÒNG", "TTHCC": "GIÁM ĐỐC", "TTVHTT": "GIÁM ĐỐC", "TYT": "TRƯỞNG TRẠM"}
    return {"header_top": f"UBND {ward}", "signer_title": titles.get(plan.code, "TRƯỞNG PHÒNG")} | (
        {"signer_title": "HIỆU TRƯỞNG"} if plan.block == "TRUONG_HOC" else {}
    )


ADMINISTERS = {"BXDD": "DANG", "VPHU": "CHINH_QUYEN", "PVHXH": "TRUONG_HOC"}


def build_ward(
    seed: int = 2026, *, level: str = "PHUONG", name: str = "Long Biên", prefix: str = "", code_prefix: str = "PLB",
    parent: str = "", size_factor: float = 1.0,
) -> District:  # fmt: skip
    """The synthetic ward (about 600–900 people), deterministic for ``seed``.

    Args:
        level: ``PHUONG`` (ward) or ``XA`` (commune).
        name: the ward's name ("Long Biên").
        prefix: prepended to every unit code (several wards in one ledger: ``P01_``).
        code_prefix: person-code prefix (``PLB00001``…).
        parent: the city's unit code, when the city is in the registry.
        size_factor: scales the staff (not the leaders) of every unit.
    """
    word = LEVEL_WORD[level]
    rng = random.Random(seed)
    counter: Iterator[str] = iter(f"{code_prefix}{n:05d}" for n in range(1, 100_000))
    area_code = f"{prefix}{level[0]}_{ascii_code(name)}"
    plans = ward_plans(word, name)
    people: list[Person] = []
    units: list[Unit] = []
    for plan in plans:
        people.extend(_people_of(plan, rng, counter, size_factor))
    holder = {p.position_code: p for p in reversed(people)}  # the first holder of each position
    heads: dict[str, Person] = {}
    for p in people:
        heads.setdefault(p.unit_code, p)
    for plan in plans:
        org: dict[str, Any] = _letterhead(plan, word, name)
        if plan.code in ADMINISTERS:
            org |= {"administers": ADMINISTERS[plan.code], "signer_name": heads[plan.code].full_name}
        units.append(
            Unit(prefix + plan.code, plan.name, plan.block, plan.kind, area_code, valid_from=WARD_START, **org)
        )
    chair = holder.get("CT_UBND_PHUONG")
    area = Unit(
        area_code, f"{word.capitalize()} {name}", "CHINH_QUYEN", "DIA_BAN", parent, level=level,
        header_top="", header_issuer=f"ỦY BAN NHÂN DÂN {word.upper()} {name.upper()}", header_form="state",
        place=name, signer_authority="TM. ỦY BAN NHÂN DÂN", signer_title="CHỦ TỊCH",
        signer_name=chair.full_name if chair else "", valid_from=WARD_START,
    )  # fmt: skip
    people = [replace(p, unit_code=prefix + p.unit_code) for p in people]
    return District(seed, [area, *units], people, frozenset(p.position_code for p in people))


def build_city(wards: int = 4, seed: int = 2026, *, size_factor: float = 1.0) -> District:
    """Several wards and communes of Hà Nội in one registry, under the city (SPEC §3, §12)."""
    city = Unit(
        CITY_CODE, CITY, "CHINH_QUYEN", "DIA_BAN", "", level="THANH_PHO",
        header_top="", header_issuer=f"ỦY BAN NHÂN DÂN {CITY.upper()}", place="Hà Nội",
        signer_authority="TM. ỦY BAN NHÂN DÂN", signer_title="CHỦ TỊCH", valid_from=WARD_START,
    )  # fmt: skip
    units: list[Unit] = [city]
    people: list[Person] = []
    for i in range(wards):
        level, name = WARD_NAMES[i % len(WARD_NAMES)]
        n = i // len(WARD_NAMES)
        ward = build_ward(
            seed + i, level=level, name=name if not n else f"{name} {n + 1}", prefix=f"P{i + 1:02d}_",
            code_prefix=f"P{i + 1:02d}", parent=CITY_CODE, size_factor=size_factor,
        )  # fmt: skip
        units += ward.units
        people += ward.people
    return District(seed, units, people, frozenset(p.position_code for p in people))


def ward_school_count() -> dict[str, int]:
    """Schools of a ward per level (kindergarten, primary, lower secondary)."""
    return {SCHOOL_LEVELS[p]: sum(1 for q, _ in SCHOOLS if q == p) for p in SCHOOL_LEVELS}
