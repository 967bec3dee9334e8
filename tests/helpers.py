"""Test helpers shared by several test modules (import with ``from helpers import valid_row``)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from danhgia_batch.domain import DATA_DIR, Framework, load_framework
from danhgia_batch.issues import make_issue
from danhgia_batch.ledger import FileRecord, Ledger, Record, Recorded
from danhgia_batch.models import EvaluationRow, ListHeader
from danhgia_batch.settings import GradingSettings, Settings, load_settings

_DEFAULT_FRAMEWORK: Framework | None = None


def default_framework() -> Framework:
    """The shipped default framework (HN-THANG), loaded once."""
    global _DEFAULT_FRAMEWORK
    if _DEFAULT_FRAMEWORK is None:
        _DEFAULT_FRAMEWORK = load_framework(DATA_DIR / "framework_default.toml")
    return _DEFAULT_FRAMEWORK


def band(total: Decimal, grading: GradingSettings | None = None) -> str:
    """Grade band of ``total`` (letter §2.5, default thresholds)."""
    g = grading or GradingSettings()
    if total >= Decimal(str(g.a)):
        return "A"
    if total >= Decimal(str(g.b)):
        return "B"
    if total >= Decimal(str(g.c)):
        return "C"
    return "D"


def split_score(total: Decimal | float | str, framework: Framework | None = None) -> dict[str, Decimal]:
    """Part scores (code → score, 2 decimals) summing exactly to ``total``, each within its part."""
    fw = framework or default_framework()
    target = Decimal(str(total))
    positive = [p for p in fw.parts if p.max > 0]
    weight = sum((p.max for p in positive), Decimal(0))
    out: dict[str, Decimal] = {p.code: Decimal(0) for p in fw.parts}
    left = target
    for p in positive[:-1]:
        share = min(p.max, (target * p.max / weight).quantize(Decimal("0.01")))
        out[p.code] = share
        left -= share
    out[positive[-1].code] = left
    return out


def valid_row(
    *,
    score: Decimal | float | str = 80,
    self_score: Decimal | float | str | None = None,
    final_score: Decimal | float | str | None = None,
    framework: Framework | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A consistent template 02 row: part scores add up to the totals, grades within band.

    ``score`` sets both totals (``self_score`` / ``final_score`` set one); the part scores are
    split in proportion to the part maxima. Grades follow the totals unless given in
    ``overrides``; any column key (``person_code``, ``final_II``, ``note``…) may be overridden.
    """
    fw = framework or default_framework()
    self_total = Decimal(str(self_score if self_score is not None else score))
    final_total = Decimal(str(final_score if final_score is not None else score))
    row: dict[str, Any] = {
        "person_code": "PNV001",
        "full_name": "Nguyễn Văn An",
        "birth_date": date(1985, 3, 14),
        "position_title": "Chuyên viên",
        "position_code": "CONG_CHUC",
        "category": "CBCC",
        "group": "CBCC",
    }
    row.update({f"self_{k}": v for k, v in split_score(self_total, fw).items()})
    row["self_grade"] = band(self_total)
    row["self_date"] = date(2022, 1, 20)
    row.update({f"final_{k}": v for k, v in split_score(final_total, fw).items()})
    row["final_grade"] = band(final_total)
    row.update(overrides)
    return row


def default_criteria(framework: Framework | None = None, ratio: str = "0.8") -> dict[str, tuple[Decimal, Decimal]]:
    """Template 01 criteria scores: each criterion at ``ratio`` of its maximum (self = final)."""
    fw = framework or default_framework()
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for p in fw.parts:
        for c in p.criteria or ():
            s = (c.max * Decimal(ratio)).quantize(Decimal("0.01")) if c.max > 0 else Decimal(0)
            out[c.code] = (s, s)
        if not p.criteria:
            s = (p.max * Decimal(ratio)).quantize(Decimal("0.01")) if p.max > 0 else Decimal(0)
            out[p.code] = (s, s)
    return out


# ---- a tiny formula evaluator (IF, SUM, COUNT, comparisons) for generated templates ------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>\"[^\"]*\")|(?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)"
    r"|(?P<fn>[A-Z]+)\(|(?P<num>\d+(?:\.\d+)?)|(?P<op>>=|<=|<>|[=<>,()&+-]))"
)


def _tokens(formula: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, formula.lstrip("=")
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot parse {formula!r} at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class FormulaEvaluator:
    """Evaluate the formulas the generator writes, over the cell values of one worksheet.

    Referenced formula cells are evaluated recursively; empty cells are ``None``.
    """

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def cell(self, ref: str) -> Any:
        value = self.ws[ref.replace("$", "")].value
        if isinstance(value, str) and value.startswith("="):
            return self.formula(value)
        return value

    def formula(self, text: str) -> Any:
        saved = getattr(self, "_toks", []), getattr(self, "_i", 0)  # referenced formulas recurse
        self._toks, self._i = _tokens(text), 0
        value = self._compare()
        assert self._i == len(self._toks), f"trailing tokens in {text!r}"
        self._toks, self._i = saved
        return value

    def refs(self, text: str) -> list[str]:
        """Cell references (ranges expanded) of a formula."""
        out: list[str] = []
        for kind, tok in _tokens(text):
            if kind == "ref":
                out.extend(self._expand(tok))
        return out

    def _expand(self, ref: str) -> list[str]:
        ref = ref.replace("$", "")
        if ":" not in ref:
            return [ref]
        return [c.coordinate for row in self.ws[ref] for c in row]

    def _peek(self) -> tuple[str, str]:
        return self._toks[self._i] if self._i < len(self._toks) else ("", "")

    def _take(self) -> tuple[str, str]:
        tok = self._peek()
        self._i += 1
        return tok

    def _compare(self) -> Any:
        left = self._additive()
        kind, op = self._peek()
        if kind == "op" and op in ("=", ">=", "<=", "<>", ">", "<"):
            self._take()
            right = self._additive()
            blank = (None, "")
            if op == "=":
                return left == right or (left in blank and right in blank)
            if op == "<>":
                return not (left == right or (left in blank and right in blank))
            lnum, rnum = Decimal(str(left or 0)), Decimal(str(right or 0))
            return {">=": lnum >= rnum, "<=": lnum <= rnum, ">": lnum > rnum, "<": lnum < rnum}[op]
        return left

    def _additive(self) -> Any:
        value = self._primary()
        while self._peek() in (("op", "+"), ("op", "-")):
            op = self._take()[1]
            other = self._primary()
            value = Decimal(str(value or 0)) + (1 if op == "+" else -1) * Decimal(str(other or 0))
        return value

    def _args(self) -> list[Any]:
        args: list[Any] = []
        while self._peek() != ("op", ")"):
            kind, tok = self._peek()
            if kind == "ref" and ":" in tok:
                self._take()
                args.append([self.cell(r) for r in self._expand(tok)])
            else:
                args.append(self._compare())
            if self._peek() == ("op", ","):
                self._take()
        self._take()
        return args

    def _primary(self) -> Any:
        kind, tok = self._take()
        if kind == "str":
            return tok[1:-1]
        if kind == "num":
            return Decimal(tok)
        if kind == "ref":
            return self.cell(tok)
        if (kind, tok) == ("op", "("):
            value = self._compare()
            self._take()
            return value
        if (kind, tok) == ("op", "-"):
            return -Decimal(str(self._primary() or 0))
        if kind == "fn":
            args = self._args()
            flat = [v for a in args for v in (a if isinstance(a, list) else [a])]
            numbers = [
                Decimal(str(v)) for v in flat if isinstance(v, int | float | Decimal) and not isinstance(v, bool)
            ]
            if tok == "SUM":
                return sum(numbers, Decimal(0))
            if tok == "COUNT":
                return len(numbers)
            if tok == "IF":
                return args[1] if args[0] else (args[2] if len(args) > 2 else False)
        raise ValueError(f"unsupported token {tok!r}")


_DEFAULT_SETTINGS: list[Settings] = []


def record_decided(led: Ledger, file: FileRecord, rec: Record, settings: Settings | None = None) -> Recorded:
    """Record ``rec`` as the pipeline would: an accepted list is first placed among the
    recorded ones by the decision (:func:`danhgia_batch.pipeline.decide.place`) from the
    ledger's context."""
    from danhgia_batch.pipeline.decide import facts, place

    if rec.outcome in ("accepted", "invalid") and rec.kind in ("01", "02") and rec.header is not None:
        if settings is None:
            if not _DEFAULT_SETTINGS:
                _DEFAULT_SETTINGS.append(load_settings(cwd=Path(tempfile.mkdtemp()), env={}))
            settings = _DEFAULT_SETTINGS[0]
        h = rec.header
        ctx = led.decision_context(
            period=rec.period,
            unit_code=rec.unit_code,
            kind=rec.kind,
            decider=(h.decider_position, h.decider_name),
            persons=[r.person_code for r in rec.rows],
        )
        rec.fingerprint = ctx.fingerprint
        place(rec, ctx, settings, facts(file))
    return led.record(file.id, rec)


def ledger_row(code: str, total: str, grade: str) -> EvaluationRow:
    """An evaluation row as the ledger stores it (parts I = 20, II = the rest)."""
    t = Decimal(total)
    return EvaluationRow(
        row=10,
        person_code=code,
        full_name=f"Người {code}",
        position_code="CONG_CHUC",
        category="CBCC",
        group="CBCC",
        self_parts={"I": Decimal(20), "II": t - 20},
        final_parts={"I": Decimal(20), "II": t - 20},
        self_total=t,
        final_total=t,
        self_grade=grade,
        final_grade=grade,
    )


class Sender:
    """Records files in the plain ledger as another process's ``danhgia process`` would."""

    def __init__(self, led: Ledger, period: str = "2022-01") -> None:
        self.led, self.n, self.period = led, 0, period

    def _claim(self) -> Any:
        self.n += 1
        sha = f"{self.n:064x}"
        c = self.led.claim(sha, name=f"f{self.n}.xlsx", inbox_path=f"f{self.n}.xlsx", unit_folder=None, size=10)
        assert c.action == "process"
        return c

    def send(self, unit: str, block: str, people: list[str], grade: str = "B") -> None:
        c = self._claim()
        h = ListHeader(
            period=self.period,
            unit_code=unit,
            unit_name=f"Đơn vị {unit}",
            block=block,
            decider_name="Trần Văn Hùng",
            decider_position="TRUONG_PHONG",
            decision_date=date(2022, 1, 26),
        )
        rows = [ledger_row(p, "80", grade) for p in people]
        record_decided(self.led, c.file, Record("accepted", "02", self.period, unit, block, [], h, rows))
        self.led.mark_done(c.file.id, None)

    def reject(self, unit: str, block: str) -> None:
        c = self._claim()
        rec = Record("rejected", "02", self.period, unit, block, [make_issue("table-empty")])
        self.led.record(c.file.id, rec)
        self.led.mark_done(c.file.id, None)


# the header of a decider's list (template 02) as a clerk fills it: conftest fill_template's defaults
LIST_HEADER_02: dict[str, object] = {
    "period": "01/2022",
    "unit_code": "PNV",
    "unit_name": "Phòng Nội vụ",
    "block": "CHINH_QUYEN",
    "decider_name": "Trần Văn Hùng",
    "decider_position": "TRUONG_PHONG",
    "decision_date": date(2022, 1, 26),
    "prepared_by": "Nguyễn Thị Lan",
    "prepared_date": date(2022, 1, 27),
}


def die_at_once(*_args: object) -> None:
    """A child process's job that ends its process at once (a writer killed by the system)."""
    os._exit(70)


GATE_SECONDS = 120.0  # bound on the wait of :func:`unit_writer_behind_gate` (a failure, not a timing)


def unit_writer_behind_gate(settings: Any, *args: Any) -> Any:
    """The unit writer process's job, held until ``<workdir>/gate`` exists, then done for real:
    a writer busy for as long as a test needs (the test's code in this process opens the gate)."""
    import time

    from danhgia_batch.pipeline import effects

    deadline = time.monotonic() + GATE_SECONDS
    while not (settings.workdir / "gate").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return effects.write_unit_outputs_apart(settings, *args)


def stuck_file(path: Path) -> Path:
    """A path whose reader never gets past ``open``: a FIFO nobody writes to.

    A reader worker sent this path hangs until the parent's deadline kills it, however fast or
    busy the machine is, so a wall-clock limit is certain to be hit (a real file read in a
    millisecond-long limit is a race: the answer may be back before the parent looks)."""
    os.mkfifo(path)
    return path


@contextmanager
def stalled_once(path: Path, real: Path) -> Iterator[Path]:
    """``path`` hangs its first reader (a :func:`stuck_file`) and holds ``real``'s bytes for the
    retry: the FIFO is swapped for the real file when the reader pool logs, in this process,
    that it will read ``path`` again (after killing the first attempt, before handing out the
    retry), so which attempt hangs never depends on timing."""
    stuck_file(path)

    class Swap(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if path.exists() and stat.S_ISFIFO(path.lstat().st_mode) and str(path) in record.getMessage():
                spare = path.with_name(path.name + ".real")
                shutil.copyfile(real, spare)
                os.replace(spare, path)

    logger = logging.getLogger("danhgia_batch.safe")
    handler = Swap(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
