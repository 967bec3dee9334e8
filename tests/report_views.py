"""Report views built by hand for the reports tests (the reports never see the ledger)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from danhgia_batch.issues import make_issue
from danhgia_batch.models import (
    EvaluationRow,
    ListHeader,
    ListView,
    PeriodView,
    Person,
    QuotaVerdict,
    Unit,
    UnitView,
    YearRow,
)

EVIL_NAME = '=HYPERLINK("http://x")'
PHONE = "+84 912"


def grade_of(score: float) -> str:
    return "A" if score >= 90 else "B" if score >= 70 else "C" if score >= 50 else "D"


def row(
    n: int,
    name: str,
    score: float | None,
    *,
    grade: str | None = None,
    position: str = "CONG_CHUC",
    title: str = "",
    category: str = "CBCC",
    group: str = "",
    note: str = "",
) -> EvaluationRow:
    """One evaluated person; ``score=None`` with ``grade="KXL"`` for someone not ranked."""
    total = Decimal(str(score)) if score is not None else None
    final = grade or (grade_of(score) if score is not None else "")
    return EvaluationRow(
        row=10 + n,
        person_code=f"P{n:03d}",
        full_name=name,
        position_code=position,
        position_title=title,
        category=category,
        group=group or category,
        self_total=total,
        self_grade=final,
        final_total=total,
        final_grade=final,
        note=note,
    )


def lst(
    rows: list[EvaluationRow],
    *,
    unit: str = "PNV",
    period: str = "2022-01",
    decider: str = "Nguyễn Văn Quyết",
    position: str = "TRUONG_PHONG",
    status: str = "valid",
    late: bool = False,
    list_id: int = 1,
) -> ListView:
    issues = []
    if late:
        issues.append(make_issue("late-decision", value="30/01/2022", days=2, expected="28/01/2022"))
    if status != "valid":
        issues.append(make_issue("quota-exceeded", group="CBCC", count=3, limit=1, detail="20% của 5", suggestion="…"))
    header = ListHeader(
        period=period,
        unit_code=unit,
        decider_name=decider,
        decider_position=position,
        decision_date=date(2022, 1, 27),
        prepared_by="Trần Thị Lập",
    )
    view = ListView(list_id, f"{unit}_{period}.xlsx", datetime(2022, 1, 27, 9, 0), header, rows, status, issues)
    view.quota = recorded_quota(rows)
    return view


def recorded_quota(rows: list[EvaluationRow]) -> list[QuotaVerdict]:
    """The quota verdicts the decision records with a list of ``rows`` (shipped settings)."""
    from pathlib import Path

    from danhgia_batch.rules import check_quota
    from danhgia_batch.settings import load_settings

    findings, _ = check_quota(rows, load_settings(cwd=Path("/"), env={}))
    return [QuotaVerdict(f.group, f.ranked_size, f.count_a, f.limit, f.ok) for f in findings]


def staff_rows(scores: list[float], *, start: int = 1) -> list[EvaluationRow]:
    names = ["Nguyễn Thị Thu Hà", "Trần Văn Minh", "Lê Quang Huy", "Phạm Thị Lan", "Hoàng Văn Bình",
             "Vũ Thị Mai", "Đặng Văn Nam", "Bùi Thị Hồng", "Đỗ Minh Tuấn", "Ngô Thị Yến", "Dương Văn Cường",
             "Lý Thị Hoa"]  # fmt: skip
    return [row(start + i, names[i % len(names)], s) for i, s in enumerate(scores)]


def unit_view(
    lists: list[ListView],
    *,
    unit: str = "PNV",
    name: str = "Phòng Nội vụ",
    block: str = "CHINH_QUYEN",
    missing: list[Person] | None = None,
    registry_size: int | None = None,
    period: str = "2022-01",
) -> UnitView:
    return UnitView(period, unit, name, block, "PHONG", lists, missing_people=missing, registry_size=registry_size)


def person(code: str, name: str, unit: str = "PNV") -> Person:
    return Person(code, name, unit, "CONG_CHUC", "CBCC", "CBCC")


def district(period: str = "2022-01") -> PeriodView:
    """Three blocks; some units submitted (one late, one over the quota), some not."""
    units = [
        Unit("VPQU", "Văn phòng Quận ủy", "DANG", "BAN_DANG"),
        Unit("BTCQU", "Ban Tổ chức Quận ủy", "DANG", "BAN_DANG"),
        Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG"),
        Unit("PTP", "Phòng Tư pháp", "CHINH_QUYEN", "PHONG"),
        Unit("UBND_BD", "Ủy ban nhân dân phường Bồ Đề", "CHINH_QUYEN", "UBND_PHUONG"),
        Unit("MN_HS", "Trường Mầm non Hoa Sữa", "TRUONG_HOC", "TRUONG"),
    ]
    views = [
        unit_view([lst(staff_rows([95, 85, 80, 75, 72, 70, 60]), unit="VPQU")], unit="VPQU",
                  name="Văn phòng Quận ủy", block="DANG", missing=[], registry_size=7),
        unit_view([lst(staff_rows([92, 91, 93, 80, 40]), unit="PNV", status="invalid-quota", late=True)],
                  missing=[person("P999", "Đinh Văn Vắng")], registry_size=6),
        unit_view([lst(staff_rows([88, 75, 71]), unit="PTP")], unit="PTP", name="Phòng Tư pháp",
                  missing=[], registry_size=3),
        unit_view([lst([*staff_rows([96, 85, 84, 83, 82, 81]), row(50, "Mai Thị Nghỉ", None, grade="KXL",
                                                             note="Nghỉ thai sản")], unit="XTRA")],
                  unit="XTRA", name="Đơn vị ngoài danh mục", block="CHINH_QUYEN", missing=[], registry_size=7),
        unit_view([lst(staff_rows([90, 85, 80, 78, 77, 76, 75, 74, 73, 72, 55]), unit="MN_HS",
                       position="HIEU_TRUONG")], unit="MN_HS", name="Trường Mầm non Hoa Sữa", block="TRUONG_HOC",
                  missing=[], registry_size=11),
    ]  # fmt: skip
    return PeriodView(period, views, units, has_registry=True, generated_at=datetime(2022, 2, 3, 8, 0))


def year_rows() -> list[YearRow]:
    return [
        YearRow("P001", "Nguyễn Thị Thu Hà", "PNV", "Phòng Nội vụ", "CHINH_QUYEN", "Chuyên viên",
                {1: "A", 2: "B", 3: "B", 4: "KXL"}),
        YearRow("P002", EVIL_NAME, "PNV", "Phòng Nội vụ", "CHINH_QUYEN", PHONE, {1: "B", 2: "C", 3: "D"}),
        YearRow("P010", "Lê Quang Huy", "VPQU", "Văn phòng Quận ủy", "DANG", "Chuyên viên",
                {m: "B" for m in range(1, 13)}),
        YearRow("P020", "Phạm Thị Lan", "MN_HS", "Trường Mầm non Hoa Sữa", "TRUONG_HOC", "Giáo viên", {1: "A"}),
    ]  # fmt: skip


# ---- reading outputs back ------------------------------------------------------------------


def find(ws, text: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(row, column) of the first cell whose value is exactly ``text``."""
    for r in ws.iter_rows():
        for c in r:
            if c.value == text:
                return c.row, c.column
    raise AssertionError(f"{text!r} not in sheet {ws.title}")


def texts(ws) -> list[str]:  # type: ignore[no-untyped-def]
    """Every string value of a sheet, in reading order."""
    return [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]


def row_values(ws, row: int, first: int = 1, last: int | None = None) -> list[object]:  # type: ignore[no-untyped-def]
    last = last or ws.max_column
    return [ws.cell(row, c).value for c in range(first, last + 1)]


def assert_no_formula_or_link(path) -> None:  # type: ignore[no-untyped-def]
    """No cell holds a formula and no sheet has a hyperlink (outputs never evaluate input)."""
    import zipfile

    from openpyxl import load_workbook

    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = zf.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, f"formula in {name}"
                assert "<hyperlink" not in xml, f"hyperlink in {name}"
        assert not any(
            "hyperlink" in zf.read(n).decode("utf-8", "ignore") for n in zf.namelist() if n.endswith(".rels")
        )
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for r in ws.iter_rows():
            for c in r:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                assert c.hyperlink is None, (ws.title, c.coordinate)
