"""``danhgia report`` (regenerate_reports): which workbooks one read of the period rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Sender
from openpyxl import load_workbook

from danhgia_batch.errors import UsageError
from danhgia_batch.ledger import Ledger
from danhgia_batch.pipeline import regenerate_reports
from danhgia_batch.settings import Settings

PERIOD = "2022-01"


def _names(paths: list[Path], settings: Settings) -> list[str]:
    return sorted(str(Path(p).relative_to(settings.outbox)) for p in paths)


def test_report_rewrites_the_units_with_lists_and_the_roll_ups_of_their_blocks(
    settings: Settings, ledger: Ledger
) -> None:
    send = Sender(ledger, PERIOD)
    send.send("PNV", "CHINH_QUYEN", ["P1", "P2"])
    send.send("PTP", "CHINH_QUYEN", ["T1"])
    send.send("BTC", "DANG", ["B1"])
    send.reject("VPQU", "DANG")  # only a rejected file: no unit report
    unit = "{b}/{u}/{k}_{s}_2022-01.xlsx"

    def reports(b: str, u: str) -> list[str]:
        return [unit.format(b=b, u=u, k=k, s=u.lower()) for k in ("danh_sach_tong_hop", "de_nghi_khen_thuong")]

    everything = regenerate_reports(settings, PERIOD)
    assert _names(everything, settings) == sorted(
        [f"{PERIOD}/{p}" for p in reports("CHINH_QUYEN", "PNV") + reports("CHINH_QUYEN", "PTP")]
        + [f"{PERIOD}/{p}" for p in reports("DANG", "BTC")]
        + [
            f"{PERIOD}/CHINH_QUYEN/tong_hop_khoi_chinh_quyen_{PERIOD}.xlsx",
            f"{PERIOD}/DANG/tong_hop_khoi_dang_{PERIOD}.xlsx",
            f"{PERIOD}/tong_hop_quan_long_bien_{PERIOD}.xlsx",
        ]
        + [f"{PERIOD}/CHINH_QUYEN/index.html", f"{PERIOD}/DANG/index.html", f"{PERIOD}/index.html"]  # dashboards
    )
    assert _names(regenerate_reports(settings, PERIOD, block="DANG"), settings) == sorted(
        [f"{PERIOD}/{p}" for p in reports("DANG", "BTC")]
        + [f"{PERIOD}/DANG/tong_hop_khoi_dang_{PERIOD}.xlsx", f"{PERIOD}/tong_hop_quan_long_bien_{PERIOD}.xlsx"]
        + [f"{PERIOD}/DANG/index.html", f"{PERIOD}/index.html"]
    )
    assert _names(regenerate_reports(settings, PERIOD, unit="PTP"), settings) == sorted(
        [f"{PERIOD}/{p}" for p in reports("CHINH_QUYEN", "PTP")]
        + [
            f"{PERIOD}/CHINH_QUYEN/tong_hop_khoi_chinh_quyen_{PERIOD}.xlsx",
            f"{PERIOD}/tong_hop_quan_long_bien_{PERIOD}.xlsx",
        ]
        + [f"{PERIOD}/CHINH_QUYEN/index.html", f"{PERIOD}/index.html"]
    )
    for block, unit, period in (("DANG", "PNV", PERIOD), (None, None, "2022-02")):
        with pytest.raises(UsageError):  # nothing found is said, not an empty success (issue 18)
            regenerate_reports(settings, period, block=block, unit=unit)
    # the unit report is the unit's own: its people, nobody else's
    ws = load_workbook(settings.outbox / PERIOD / "CHINH_QUYEN" / "PNV" / f"danh_sach_tong_hop_pnv_{PERIOD}.xlsx")
    names = {c.value for row in ws["DanhSach"].iter_rows() for c in row if isinstance(c.value, str)}
    assert {"Người P1", "Người P2"} <= names and not names & {"Người T1", "Người B1"}
    # the district roll-up counts every unit, including the one with only a rejected file
    ws = load_workbook(settings.outbox / PERIOD / f"tong_hop_quan_long_bien_{PERIOD}.xlsx")["DonVi"]
    codes = {c.value for row in ws.iter_rows() for c in row}
    assert {"PNV", "PTP", "BTC", "VPQU"} <= codes
    # a unit whose only file was rejected: "Bị trả lại", as ``danhgia status`` says (issue 18)
    (vpqu,) = [[c.value for c in row] for row in ws.iter_rows() if row[1].value == "VPQU"]
    assert "Bị trả lại" in vpqu
