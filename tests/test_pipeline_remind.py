"""``danhgia remind`` (issue 20) against a real SMTP server on 127.0.0.1 (aiosmtpd): the
messages, their recipients and attachment, a refusing server, a dropped connection, and
never a message twice."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from helpers import Sender, ledger_row, record_decided
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.errors import ConfigError
from danhgia_batch.issues import make_issue
from danhgia_batch.ledger import open_ledger
from danhgia_batch.ledger.mailing import Sending
from danhgia_batch.ledger.store import Record
from danhgia_batch.models import ListHeader, Person, Unit
from danhgia_batch.pipeline.remind import next_deadline, remind_units
from danhgia_batch.read import read_form
from danhgia_batch.settings import Settings, SmtpSettings, load_settings

PERIOD = "2022-02"
NOW = datetime(2022, 2, 22, 8, 0)  # three days before the self-assessment deadline
SENDER = "vanphong@quan.example"


# ---------------------------------------------------------------- a real SMTP server


class Handler:
    """Keeps what the server accepted; ``mode``: ok, refuse (550), drop (close before answering)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.drops_left = 0
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.tls: list[bool] = []  # per message accepted: whether its session was encrypted

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str | None:
        if self.mode == "refuse":
            return "550 5.7.1 Message refused"
        if self.mode == "drop" or self.drops_left > 0:
            self.drops_left -= 1
            server.transport.close()  # the connection drops before the server answers
            return None
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), msg))
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, int]]:
    handler = Handler()

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"mat-khau-thu"
        if isinstance(data, LoginPassword):
            handler.logins.append((data.login, data.password))
        return AuthResult(success=ok)

    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


# ---------------------------------------------------------------- a district with every case


def _send(led: Any, sender: Sender, unit: str, *, late: bool = False, invalid: bool = False) -> None:
    c = sender._claim()
    header = ListHeader(period=PERIOD, unit_code=unit, unit_name=f"Phòng {unit}", block="CHINH_QUYEN",
                        decider_name="Trần Văn Hùng", decider_position="TRUONG_PHONG",
                        decision_date=date(2022, 2, 26))  # fmt: skip
    issues = [make_issue("late-arrival", value="07/03/2022", days=2, expected="05/03/2022")] if late else []
    if invalid:
        issues.append(make_issue("quota-exceeded", group="CBCC", count=2, limit=1, ranked=2))
    rows = [ledger_row(f"{unit}-{i}", "95" if invalid else "80", "A" if invalid else "B") for i in range(2)]
    record_decided(led, c.file, Record("invalid" if invalid else "accepted", "02", PERIOD, unit, "CHINH_QUYEN",
                                       issues, header, rows))  # fmt: skip
    led.mark_done(c.file.id, None)


@pytest.fixture
def district(settings: Settings, tmp_path: Path) -> Settings:
    """U1 on time (no reminder), U2 late, U3 invalid, U4 rejected (error workbook), U5 missing
    (two addresses), U6 missing without an address."""
    emails = {"U2": "u2@don-vi.example", "U3": "u3@don-vi.example", "U4": "u4@don-vi.example",
              "U5": "van-thu.u5@don-vi.example; truong.u5@don-vi.example, sai-dia-chi"}  # fmt: skip
    units = [Unit(f"U{i}", f"Phòng U{i}", "CHINH_QUYEN", "PHONG", emails=emails.get(f"U{i}", "")) for i in range(1, 7)]
    people = [Person(f"U{i}-{j}", f"Người {i}{j}", f"U{i}", "CONG_CHUC", "CBCC", "CBCC") for i in range(1, 7)
              for j in range(2)]  # fmt: skip
    error_book = settings.outbox / "_loi" / "7_TongHop_U4_loi.xlsx"
    error_book.parent.mkdir(parents=True)
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Lỗi"
    wb.save(error_book)
    with open_ledger(settings) as led:
        led.save_registry(units, people, "danh_muc.xlsx")
        sender = Sender(led, PERIOD)
        _send(led, sender, "U1")
        _send(led, sender, "U2", late=True)
        _send(led, sender, "U3", invalid=True)
        c = sender._claim()
        led.record(c.file.id, Record("rejected", "02", PERIOD, "U4", "CHINH_QUYEN", [make_issue("table-empty")]))
        led.mark_done(c.file.id, None, str(error_book))
    return settings


def _with_smtp(settings: Settings, port: int, **extra: Any) -> Settings:
    smtp = SmtpSettings(**{"host": "127.0.0.1", "port": port, "security": "none", "from_address": SENDER, **extra})
    return dataclasses.replace(settings, smtp=smtp)


# ---------------------------------------------------------------- tests


def test_the_dry_run_writes_one_message_per_unit_and_records_nothing(district: Settings) -> None:
    res = remind_units(district, PERIOD, now=NOW)
    assert {ln.unit_code: ln.reason for ln in res.lines} == {
        "U2": "late", "U3": "invalid", "U4": f"rejected-{_rejected_id(district)}", "U5": "missing", "U6": "missing",
    }  # fmt: skip
    assert (res.deadline.step, res.deadline.day, res.deadline.passed) == ("self_assessment", date(2022, 2, 24), False)
    by = {ln.unit_code: ln for ln in res.lines}
    assert by["U5"].recipients == ["van-thu.u5@don-vi.example", "truong.u5@don-vi.example"]
    assert by["U5"].bad_addresses == ["sai-dia-chi"]
    assert (by["U6"].outcome, by["U2"].outcome) == ("no-address", "written")
    folder = district.outbox / PERIOD / "_nhac_nho"
    assert res.summary == folder / "chay_thu.txt" and "U6" in res.summary.read_text(encoding="utf-8")
    msg = email.message_from_bytes(Path(by["U4"].eml).read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert [a.get_filename() for a in msg.iter_attachments()] == ["7_TongHop_U4_loi.xlsx"]
    with open_ledger(district) as led:
        assert led.sendings(PERIOD) == []  # a dry run never blocks the real sending


def _rejected_id(settings: Settings) -> int:
    with open_ledger(settings) as led:
        return led.rejected_files(PERIOD)[0].file_id


def test_send_delivers_each_reminder_once_with_its_recipients_body_and_attachment(
    district: Settings, smtp: tuple[Handler, int]
) -> None:
    handler, port = smtp
    settings = _with_smtp(district, port)
    res = remind_units(settings, PERIOD, send=True, now=NOW)
    assert {ln.unit_code: ln.outcome for ln in res.lines} == {
        "U2": "sent", "U3": "sent", "U4": "sent", "U5": "sent", "U6": "no-address",
    }  # fmt: skip
    assert res.exit_code == 0
    got = {msg["Subject"]: (rcpt, msg) for rcpt, msg in handler.received}
    assert len(handler.received) == 4
    rcpt, msg = next(v for s, v in got.items() if s.endswith("Phòng U5"))
    assert rcpt == ["van-thu.u5@don-vi.example", "truong.u5@don-vi.example"]
    assert msg["From"] == SENDER and "Nhắc nộp danh sách" in msg["Subject"] and "02/2022" in msg["Subject"]
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "chưa nhận được danh sách" in text and "24/02/2022" in text
    rcpt, msg = next(v for s, v in got.items() if s.endswith("Phòng U4"))
    assert rcpt == ["u4@don-vi.example"]
    files = [(a.get_filename(), a.get_content()) for a in msg.iter_attachments()]
    error_book = district.outbox / "_loi" / "7_TongHop_U4_loi.xlsx"
    assert files == [(error_book.name, error_book.read_bytes())]
    # run again: nothing goes twice
    again = remind_units(settings, PERIOD, send=True, now=NOW)
    assert {ln.outcome for ln in again.lines if ln.recipients} == {"already-sent"}
    assert len(handler.received) == 4
    with open_ledger(settings) as led:
        rows = led.sendings(PERIOD, "reminder")
    assert sorted(r["code"] for r in rows) == ["U2", "U3", "U4", "U5"] and {r["state"] for r in rows} == {"sent"}


def test_a_refusing_server_is_reported_and_the_next_run_sends(district: Settings, smtp: tuple[Handler, int]) -> None:
    handler, port = smtp
    settings = _with_smtp(district, port)
    handler.mode = "refuse"
    res = remind_units(settings, PERIOD, send=True, now=NOW)
    failed = [ln for ln in res.lines if ln.recipients]
    assert {ln.outcome for ln in failed} == {"failed"} and all("550" in ln.error for ln in failed)
    assert all(ln.attempts == 1 for ln in failed)  # a permanent refusal is not retried at once
    assert res.exit_code == 1 and "550" in (res.summary.read_text(encoding="utf-8") if res.summary else "")
    assert handler.received == []
    handler.mode = "ok"
    res = remind_units(settings, PERIOD, send=True, now=NOW)
    assert {ln.outcome for ln in res.lines if ln.recipients} == {"sent"}
    assert len(handler.received) == 4


def test_a_dropped_connection_is_retried_reported_and_never_sent_twice(
    district: Settings, smtp: tuple[Handler, int]
) -> None:
    handler, port = smtp
    settings = _with_smtp(district, port)
    handler.drops_left = 1  # the first message's session drops once
    res = remind_units(settings, PERIOD, send=True, now=NOW)
    assert sorted(ln.attempts for ln in res.lines if ln.recipients) == [1, 1, 1, 2]
    retried = next(ln for ln in res.lines if ln.attempts == 2)
    assert retried.outcome == "sent" and "Disconnected" in retried.error  # reported
    assert len(handler.received) == 4
    assert len({m["Message-ID"] for _, m in handler.received}) == 4

    # a server that keeps dropping: failed, reported; once it recovers, each goes once
    handler.received.clear()
    later = datetime(2022, 2, 26, 8, 0)  # next deadline (decision): a new reminder for each
    handler.mode = "drop"
    res = remind_units(settings, PERIOD, send=True, now=later)
    assert {ln.outcome for ln in res.lines if ln.recipients} == {"failed"}
    assert handler.received == []
    handler.mode = "ok"
    assert {ln.outcome for ln in remind_units(settings, PERIOD, send=True, now=later).lines if ln.recipients} == {
        "sent"
    }
    assert {ln.outcome for ln in remind_units(settings, PERIOD, send=True, now=later).lines if ln.recipients} == {
        "already-sent"
    }
    assert len(handler.received) == 4


def test_an_interrupted_sending_is_never_resent(district: Settings, smtp: tuple[Handler, int]) -> None:
    handler, port = smtp
    settings = _with_smtp(district, port)
    with open_ledger(settings) as led:  # a run died after the server accepted, before the mark
        state, _ = led.claim_sending(Sending("reminder", PERIOD, "U2", "late", "2022-02-24"), NOW)
    assert state == "go"
    res = remind_units(settings, PERIOD, send=True, now=NOW)
    by = {ln.unit_code: ln.outcome for ln in res.lines}
    assert by["U2"] == "uncertain" and by["U3"] == "sent" and res.exit_code == 1
    assert all(not m["Subject"].endswith("Phòng U2") for _, m in handler.received)


def test_login_uses_the_password_from_the_named_environment_variable(
    district: Settings, smtp: tuple[Handler, int], tmp_path: Path
) -> None:
    handler, port = smtp
    config = tmp_path / "work" / "danhgia.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nuser = "vanphong"\n'
        f'from_address = "{SENDER}"\npassword_env = "MAT_KHAU_THU"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, env={"MAT_KHAU_THU": "mat-khau-thu"})
    assert "mat-khau-thu" not in repr(settings)
    remind_units(settings, PERIOD, send=True, now=NOW)
    assert handler.logins and set(handler.logins) == {(b"vanphong", b"mat-khau-thu")}
    assert len(handler.received) == 4
    with pytest.raises(ConfigError):  # a user without the password: nothing is claimed
        remind_units(load_settings(config, env={}), PERIOD, send=True, now=NOW)
    config.write_text('[smtp]\npassword = "lo-ra"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"smtp\.password"):  # never a key of the file
        load_settings(config, env={})


def test_the_cli_prints_the_same_result_as_json(district: Settings) -> None:
    config = district.workdir / "danhgia.toml"
    config.write_text("", encoding="utf-8")
    res = CliRunner().invoke(app, ["-c", str(config), "--json", "remind", "--period", "02/2022"])
    assert res.exit_code == 0, res.stdout
    data = json.loads(res.stdout)
    assert data["period"] == PERIOD and data["send"] is False
    assert {u["unit_code"] for u in data["units"]} == {"U2", "U3", "U4", "U5", "U6"}


@pytest.mark.parametrize(
    ("today", "step", "day", "passed"),
    [
        (date(2022, 2, 1), "self_assessment", date(2022, 2, 24), False),
        (date(2022, 2, 25), "decision", date(2022, 2, 27), False),
        (date(2022, 3, 4), "publication", date(2022, 3, 4), False),
        (date(2022, 3, 9), "publication", date(2022, 3, 4), True),
    ],
)
def test_the_next_deadline(settings: Settings, today: date, step: str, day: date, passed: bool) -> None:
    d = next_deadline(settings, PERIOD, today)
    assert (d.step, d.day, d.passed) == (step, day, passed)


def test_template_00_carries_addresses_and_an_old_registry_still_loads(fill_template: Any, settings: Settings) -> None:
    units = [{"unit_code": "PNV", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG",
              "emails": "a@pnv.example; b@pnv.example"}]  # fmt: skip
    people = [{"person_code": "PNV001", "full_name": "Nguyễn Văn An", "unit_code": "PNV",
               "position_code": "CONG_CHUC", "category": "CBCC", "email": "an@pnv.example"}]  # fmt: skip
    path = fill_template("00", units=units, people=people)
    form = read_form(path, settings)
    assert form.ok and form.units[0].emails == "a@pnv.example; b@pnv.example"
    assert form.people[0].email == "an@pnv.example"
    wb = openpyxl.load_workbook(path)
    for sheet, label in (("DonVi", "Email liên hệ"), ("CanBo", "Email")):
        ws = wb[sheet]
        col = next(c.column for row in ws.iter_rows(max_row=10) for c in row if c.value == label)
        ws.delete_cols(col)
    wb.save(path)
    old = read_form(path, settings)
    assert old.ok and old.units[0].emails == "" and old.people[0].email == ""


def test_a_sending_is_claimed_once_on_both_engines(any_ledger: Any) -> None:
    m = Sending("reminder", PERIOD, "U9", "missing", "2022-02-24", "a@x.example", "Nhắc")
    state, sid = any_ledger.claim_sending(m, NOW)
    assert state == "go"
    other = type(any_ledger)(any_ledger.url)  # another process, same ledger
    try:
        assert other.claim_sending(m, NOW) == ("uncertain", sid)  # being sent (or died sending)
        any_ledger.finish_sending(sid, ok=False, error="421 thử lại sau", now=NOW)
        assert other.claim_sending(m, NOW) == ("go", sid)  # a failure is taken again, by one
        assert any_ledger.claim_sending(m, NOW) == ("uncertain", sid)
        other.finish_sending(sid, ok=True, now=NOW)
        assert any_ledger.claim_sending(m, NOW) == ("sent", sid)
        row = any_ledger.sendings(PERIOD)[0]
        assert (row["state"], row["attempts"], row["error"]) == ("sent", 2, "")
    finally:
        other.close()


# ---------------------------------------------------------------- result notices


def test_result_notices_are_off_by_default_and_each_person_gets_only_their_own(
    district: Settings, smtp: tuple[Handler, int]
) -> None:
    from danhgia_batch.pipeline import publish_period, reopen_period
    from danhgia_batch.settings import NoticeSettings

    handler, port = smtp
    with open_ledger(district) as led:  # the registry again, now with people's addresses
        units = [Unit(f"U{i}", f"Phòng U{i}", "CHINH_QUYEN", "PHONG") for i in range(1, 7)]
        people = [Person(f"U{i}-{j}", f"Người {i}{j}", f"U{i}", "CONG_CHUC", "CBCC", "CBCC",
                         email=f"nguoi.{i}{j}@don-vi.example" if (i, j) != (1, 1) else "")
                  for i in range(1, 7) for j in range(2)]  # fmt: skip
        led.save_registry(units, people, "danh_muc_2.xlsx")
    settings = _with_smtp(district, port)
    assert settings.notices.enabled is False
    publish_period(settings, PERIOD, by="Văn phòng")
    assert handler.received == []  # off by default

    reopen_period(settings, PERIOD, by="Văn phòng", reason="gửi thông báo kết quả")
    on = dataclasses.replace(settings, notices=NoticeSettings(enabled=True))
    res = publish_period(on, PERIOD, by="Văn phòng")
    # valid lists only: U1 (U1-1 has no address) and U2 (late but valid); U3 broke the quota
    assert res.notices == {"counts": {"sent": 3, "no-address": 1}, "failed": []}
    got = {tuple(rcpt): msg for rcpt, msg in handler.received}
    assert set(got) == {("nguoi.10@don-vi.example",), ("nguoi.20@don-vi.example",), ("nguoi.21@don-vi.example",)}
    msg = got[("nguoi.20@don-vi.example",)]
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Người U2-0" in msg["Subject"] and "Người U2-0" in text and "(loại B)" in text and "80" in text
    assert "U2-1" not in text
    reopen_period(on, PERIOD, by="Văn phòng", reason="công khai lại")
    again = publish_period(on, PERIOD, by="Văn phòng")
    assert again.notices == {"counts": {"already-sent": 3, "no-address": 1}, "failed": []}
    assert len(handler.received) == 3


# ---------------------------------------------------------------- TLS: STARTTLS and SSL, verified


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA, as an office's mail server's)."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must have openssl")
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "may_chu_thu.pem", tmp_path / "may_chu_thu.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_sessions_are_verified_against_the_configured_ca(
    district: Settings, certificate: tuple[Path, Path], security: str
) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    handler = Handler()
    port = _free_port()
    if security == "ssl":  # SMTPS: TLS from the first byte
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True)
    controller.start()
    try:
        untrusted = _with_smtp(district, port, security=security)  # the system CAs do not know it
        res = remind_units(untrusted, PERIOD, send=True, now=NOW)
        failed = [ln for ln in res.lines if ln.recipients]
        assert {ln.outcome for ln in failed} == {"failed"} and all("CERTIFICATE" in ln.error.upper() for ln in failed)
        assert handler.received == [] and res.exit_code == 1
        trusted = _with_smtp(district, port, security=security, ca_file=str(cert))
        res = remind_units(trusted, PERIOD, send=True, now=NOW)
        assert {ln.outcome for ln in res.lines if ln.recipients} == {"sent"}
        assert len(handler.received) == 4 and all(handler.tls)  # every message came over TLS
    finally:
        controller.stop()
