"""Command line ``danhgia``: a thin shell over the library.

Each command parses options, resolves settings, calls one library function of the same
name and maps :class:`~danhgia_batch.errors.DanhgiaError` to a one-line Vietnamese message and
an exit code (SPEC §11: 0 all accepted, 1 something rejected or invalid, 2 usage or
configuration error, or the ledger cannot be opened; 3 for ``process``: the disk or a folder
stopped the run, issue 17). Heavy libraries are imported inside the commands, never here.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from . import __version__
from .chrome import ViCommand, ViGroup, progress_bar, translate

__all__ = ["ViCommand", "ViGroup", "app", "main", "translate"]
from .errors import DanhgiaError

app = typer.Typer(
    cls=ViGroup,
    help="Xử lý hàng loạt phiếu đánh giá, xếp loại CBCCVC, LĐHĐ hằng tháng từ các tệp Excel.",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["--help", "-h"]},
)
registry_app = typer.Typer(cls=ViGroup, help="Danh mục đơn vị và cán bộ (mẫu 00).", invoke_without_command=True)
app.add_typer(registry_app, name="registry")
regime_app = typer.Typer(cls=ViGroup, help="Bộ quy định đánh giá, xếp loại (tháng hoặc quý).", no_args_is_help=True)
app.add_typer(regime_app, name="regime")
quota_app = typer.Typer(cls=ViGroup, help="Ngoại lệ tỷ lệ loại A theo đơn vị và kỳ.", no_args_is_help=True)
app.add_typer(quota_app, name="quota")


@registry_app.callback()
def registry_options(ctx: typer.Context) -> None:
    """Danh mục đơn vị và cán bộ (mẫu 00)."""
    _help_without_command(ctx)


T = TypeVar("T")


@dataclass
class Context:
    """Options common to every command."""

    config: Path | None = None
    ledger: str | None = None
    as_json: bool = False
    verbose: int = 0

    def settings(self, **overrides: dict[str, Any]) -> Any:
        """Resolve settings: flags > environment > danhgia.toml > defaults."""
        from .settings import load_settings

        flags: dict[str, dict[str, Any]] = {k: dict(v) for k, v in overrides.items() if v}
        if self.ledger:
            flags.setdefault("ledger", {})["url"] = self.ledger
        return load_settings(self.config, overrides=flags)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"danhgia {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Tệp cấu hình danhgia.toml.")] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", help="Địa chỉ sổ cái (SQLAlchemy URL).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="In thêm nhật ký.")] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="In phiên bản rồi thoát.")
    ] = False,
) -> None:
    """Đánh giá, xếp loại CBCCVC, LĐHĐ hằng tháng (Công văn 528-CV/QU)."""
    gc.enable()  # paused by main() while typer built the command line (its imports)
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(config=config, ledger=ledger, as_json=as_json, verbose=verbose)
    _help_without_command(ctx)


def _help_without_command(ctx: typer.Context) -> None:
    """``danhgia`` or ``danhgia registry`` alone: the help page, exit code 2 (a usage error)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def _start_readers() -> None:
    """Let the reader's forkserver import its preloads while this process imports the pipeline."""
    from .safe import start_early

    start_early()


_quick_exit = False  # set by a short command that finished: main() calls quick_exit()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line message to stderr and exit with ``code``."""
    typer.echo(f"Lỗi: {message}", err=True)
    raise typer.Exit(code)


def run(call: Callable[[], T]) -> T:
    """Call a library function, mapping DanhgiaError to a message and exit code."""
    try:
        return call()
    except DanhgiaError as exc:
        fail(str(exc), exc.exit_code)


def echo_lines(lines: Iterable[str]) -> None:
    """Print each line to stdout."""
    for line in lines:
        typer.echo(line)


def emit(ctx: typer.Context, result: Any, text: Callable[[], None]) -> None:
    """Print ``result`` as JSON with ``--json``, else call ``text`` to print it for people."""
    if ctx.obj.as_json:
        payload = result.to_dict() if hasattr(result, "to_dict") else result
        echo_json(payload)
    else:
        text()


JSON_PIECE = 1 << 20  # characters of JSON written at once


def echo_json(payload: Any) -> None:
    """``typer.echo(json.dumps(payload, …))`` written a piece at a time: the same text, but a city
    month's result (26 MB of JSON, ~180 MB as one Python string) is never held whole (issue 19)."""
    pieces: list[str] = []
    size = 0
    for chunk in json.JSONEncoder(ensure_ascii=False, indent=2, default=str).iterencode(payload):
        pieces.append(chunk)
        size += len(chunk)
        if size >= JSON_PIECE:  # JSON has no raw control characters: no ANSI code is cut in two
            typer.echo("".join(pieces), nl=False)
            pieces, size = [], 0
    typer.echo("".join(pieces))


def show_progress(ctx: typer.Context) -> bool:
    """A progress bar only for people at a terminal (not with --json, not in a log)."""
    return not ctx.obj.as_json and sys.stderr.isatty()


def written_summary(paths: list[Path], what: str = "tệp") -> str:
    """One line for many written files: how many workbooks (and PDFs), and the folder."""
    books = [p for p in paths if p.suffix == ".xlsx"]
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    folders = [p.parent for p in paths]
    common = Path(*_common_parts(folders)) if folders else None
    line = f"Đã ghi {len(books)} {what} Excel" + (f" và {len(pdfs)} tệp PDF" if pdfs else "")
    return line + (f" vào {common}" if common else "") + "."


def _common_parts(folders: list[Path]) -> list[str]:
    parts = list(folders[0].parts)
    for f in folders[1:]:
        k = 0
        while k < min(len(parts), len(f.parts)) and parts[k] == f.parts[k]:
            k += 1
        parts = parts[:k]
    return parts


@app.command("init", cls=ViCommand)
def init_cmd(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(metavar="THƯ_MỤC", help="Thư mục làm việc (mặc định: thư mục hiện tại).")
    ] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Ghi đè danhgia.toml nếu đã có.")] = False,
) -> None:
    """Tạo thư mục làm việc: danhgia.toml, inbox/, outbox/, archive/, biểu mẫu, danh mục mẫu."""
    from .workdir import init_workdir

    created = run(lambda: init_workdir(directory, force=force))
    emit(ctx, [str(p) for p in created], lambda: echo_lines(f"Đã tạo {p}" for p in created))


@app.command("templates", cls=ViCommand)
def templates_cmd(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Thư mục ghi biểu mẫu.")] = None,
    framework: Annotated[str | None, typer.Option("--framework", help="Mã khung tiêu chí.")] = None,
    regime: Annotated[str | None, typer.Option("--regime", help="Mã bộ quy định (xem: danhgia regime list).")] = None,
    period: Annotated[str | None, typer.Option("--period", "-p", help="Kỳ điền sẵn (2026-03, Quý I/2026…).")] = None,
) -> None:
    """Tạo các biểu mẫu Excel (00 danh mục, 01 phiếu cá nhân, 02 tổng hợp đơn vị)."""
    from .templates import generate_templates

    settings = run(ctx.obj.settings)
    target = out or settings.path("templates")
    paths = run(lambda: generate_templates(settings, target, framework, regime=regime, period=period))
    emit(ctx, [str(p) for p in paths], lambda: echo_lines(f"Đã tạo {p}" for p in paths))


@registry_app.command("load", cls=ViCommand)
def registry_load_cmd(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="TỆP", help="Tệp danh mục (mẫu 00; init tạo sẵn danh_muc_mau.xlsx).", exists=True, dir_okay=False
        ),
    ],
) -> None:
    """Nạp danh mục đơn vị và cán bộ từ tệp mẫu 00; mỗi lần nạp là một phiên bản mới."""
    from .pipeline.registry import load_registry_file

    settings = run(ctx.obj.settings)
    with progress_bar(show_progress(ctx)) as progress:
        result = run(lambda: load_registry_file(file, settings, progress=progress))

    def text() -> None:
        if result.ok:
            typer.echo(f"Đã nạp danh mục phiên bản {result.version}: {result.units} đơn vị, {result.people} cán bộ.")
        else:
            typer.echo(f"Danh mục {file.name} không được chấp nhận ({len(result.issues)} vấn đề):")
        for issue in result.issues:
            where = issue.where()
            typer.echo(f"  - [{issue.code}] {where + ': ' if where else ''}{issue.message}")
        echo_lines(f"Tệp báo lỗi: {p}" for p in result.error_files)

    emit(ctx, result, text)
    raise typer.Exit(result.exit_code)


@registry_app.command("show", cls=ViCommand)
def registry_show_cmd(ctx: typer.Context) -> None:
    """In danh mục đang áp dụng: đơn vị theo khối và số người."""
    from .pipeline.registry import show_registry

    settings = run(ctx.obj.settings)
    summary = run(lambda: show_registry(settings))

    def text() -> None:
        if not summary.has_registry:
            typer.echo(
                "Chưa có danh mục đơn vị và cán bộ. Nạp bằng lệnh: danhgia registry load danh_muc_mau.xlsx (tệp mẫu do init tạo, sửa thành danh mục thật)"
            )
            return
        typer.echo(f"Danh mục phiên bản {summary.version}: {summary.units} đơn vị, {summary.people} người.")
        for block in summary.blocks:
            typer.echo("")
            typer.echo(f"{block.label} ({block.block}): {len(block.units)} đơn vị, {block.people} người")
            width = max(len("Mã đơn vị"), *(len(u.code) for u in block.units))
            name_w = max(len("Tên đơn vị"), *(len(u.name) for u in block.units))
            typer.echo(f"  {'Mã đơn vị':<{width}}  {'Tên đơn vị':<{name_w}}  {'Số người':>8}  {'CBCCVC, LĐHĐ':>12}")
            for u in block.units:
                typer.echo(f"  {u.code:<{width}}  {u.name:<{name_w}}  {u.people:>8}  {u.size:>12}")

    emit(ctx, summary, text)


def _run_logging(settings: Any, name: str) -> logging.Handler | None:
    """A rotating log file ``name`` in the work dir's logs folder, at INFO (the console keeps
    the level of -v); a log that cannot be opened is no reason to stop the run."""
    from logging.handlers import RotatingFileHandler

    logs = settings.path("logs")
    try:
        logs.mkdir(parents=True, exist_ok=True)
        # errors=: a file name with undecodable bytes is logged with escapes, never a logging error
        handler = RotatingFileHandler(
            logs / name, maxBytes=5_000_000, backupCount=10, encoding="utf-8", errors="backslashreplace"
        )
    except OSError as exc:
        typer.echo(f"Cảnh báo: không ghi được nhật ký vào {logs}: {exc}", err=True)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    for h in root.handlers:  # the console keeps the level chosen with -v
        if h.level == logging.NOTSET:
            h.setLevel(root.level)
    root.setLevel(min(root.level, logging.INFO))
    root.addHandler(handler)
    return handler


def _close_log(handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _watch_logging(settings: Any, verbose: int) -> None:
    """Watcher logs: console plus a rotating file in the work dir's logs folder."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    if settings.inbox.is_dir():  # not a work folder: watch_inbox refuses it, leave nothing there
        _run_logging(settings, "danhgia-watch.log")
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    # watchdog's inotify emitter reports its own normal shutdown race as an error; not ours to show
    logging.getLogger("watchdog.observers.inotify").addFilter(
        lambda record: "called when the thread is inactive" not in str(record.msg)
    )


@app.command("watch", cls=ViCommand)
def watch_cmd(
    ctx: typer.Context,
    polling: Annotated[
        bool, typer.Option("--polling", help="Thăm dò định kỳ thay cho sự kiện hệ thống (thư mục chia sẻ SMB/NFS).")
    ] = False,
    once: Annotated[
        bool, typer.Option("--once", help="Quét một lần, xử lý các tệp đã ổn định rồi thoát (dùng cho cron).")
    ] = False,
) -> None:
    """Theo dõi thư mục inbox và xử lý mọi tệp đến cho tới khi bị dừng (Ctrl-C hoặc SIGTERM)."""
    from .watch import watch_inbox

    settings = run(lambda: ctx.obj.settings(watcher={"polling": True} if polling else {}))
    _watch_logging(settings, ctx.obj.verbose)
    code = run(lambda: watch_inbox(settings, polling=True if polling else None, once=once))
    raise typer.Exit(code)


# ---- processing and period administration (pipeline/process.py, pipeline/admin.py) ----

PeriodOpt = Annotated[str, typer.Option("--period", "-p", help="Kỳ đánh giá YYYY-MM (ví dụ 2022-01).")]
BlockOpt = Annotated[str | None, typer.Option("--block", "-k", help="Chỉ một khối (DANG, CHINH_QUYEN, TRUONG_HOC).")]
PdfOpt = Annotated[
    bool | None,
    typer.Option(
        "--pdf/--no-pdf", help="In thêm bản PDF của mọi báo cáo (cần LibreOffice); mặc định theo reports.pdf."
    ),
]


RICH_TABLE_ROWS = 500  # beyond this, plain aligned lines: rich took ~20 s for a city month's 44,000 files


def _terminal() -> bool:
    return sys.stdout.isatty()


def _print_table(title: str, headers: list[str], rows: Iterable[Iterable[object]]) -> None:
    """A titled table: a rich table on a terminal; plain aligned columns in a log (rich cut
    long file names to fit 80 columns there) or for a long table (a city month), every row and
    every name in full."""
    cells = [[str(v) for v in r] for r in rows]
    if len(cells) > RICH_TABLE_ROWS or not _terminal():
        widths = [max([len(h), *(len(r[n]) for r in cells)]) for n, h in enumerate(headers)]
        lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
        typer.echo("\n".join(lines))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for h in headers:
        table.add_column(h)
    for r in cells:
        table.add_row(*r)
    Console().print(table)


@app.command("check", cls=ViCommand)
def check_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="TỆP", help="Các tệp Excel cần kiểm tra.")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Thư mục ghi tệp báo lỗi (bản sao tô đỏ ô sai + tệp .txt).")
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Chờ tệp sẵn sàng (chép xong, đã đóng Excel) rồi mới kiểm tra; chờ tối đa watcher.lock_wait_seconds.",
        ),
    ] = False,
) -> None:
    """Kiểm tra tệp như khi xử lý (biểu mẫu, khung tiêu chí, quy tắc, danh mục, sổ cái) mà không ghi gì vào sổ."""
    global _quick_exit
    _start_readers()  # before the settings: the forkserver needs none of them
    settings = run(ctx.obj.settings)
    from .pipeline.check import check_files

    if wait and not ctx.obj.as_json:
        bound = settings.watcher.lock_wait_seconds
        typer.echo(f"Đang chờ tệp sẵn sàng (chép xong, đã đóng Excel), tối đa {bound:g} giây…", err=True)
    result = run(lambda: check_files(files, settings, report_dir=report, wait=wait))

    def text() -> None:
        for f in result.files:
            name = f.name
            regime = f", bộ quy định {f.regime}" if f.regime else ""
            typer.echo(f"{name}: {'đạt' if f.ok else 'không đạt'} ({len(f.issues)} vấn đề{regime})")
            for i in f.issues:
                where = ", ".join(x for x in (i.sheet, i.cell) if x) or "toàn tệp"
                typer.echo(f"  {name} | {where} | {i.code} | {i.message}")
            for p in f.reports:
                typer.echo(f"  Đã ghi {p}")
        for note in result.not_checked:
            typer.echo(f"Chưa kiểm tra: {note}")

    emit(ctx, result, text)
    _quick_exit = True  # a short command: main() ends it without the interpreter's teardown
    raise typer.Exit(result.exit_code)


@app.command("process", cls=ViCommand)
def process_cmd(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="ĐƯỜNG_DẪN", help="Tệp hoặc thư mục cần xử lý (mặc định: inbox)."),
    ] = None,
    period: Annotated[str | None, typer.Option("--period", "-p", help="Chỉ ghi nhận tệp của kỳ YYYY-MM.")] = None,
    no_reports: Annotated[bool, typer.Option("--no-reports", help="Không ghi báo cáo tổng hợp.")] = False,
) -> None:
    """Xử lý một lần mọi tệp trong inbox rồi thoát (dùng cho cron / Task Scheduler).

    Mã thoát: 0 mọi tệp được chấp nhận; 1 có tệp bị trả lại, vi phạm tỷ lệ hoặc lỗi xử lý; 2 lỗi
    dùng lệnh, cấu hình hoặc không mở được sổ cái; 3 lỗi môi trường (đĩa đầy, thư mục outbox/archive
    chỉ đọc hoặc không còn): tệp chưa xong vẫn ở inbox, sửa lỗi rồi chạy lại.
    """
    settings = run(ctx.obj.settings)
    _start_readers()
    from .pipeline import OUTCOME_LABELS, normalise_period, process_inbox, summary_rows

    wanted = run(lambda: normalise_period(period)) if period else None
    missing = [str(p) for p in paths or [] if not p.exists()]
    if missing:  # a mistyped path would otherwise be a run that finds nothing
        fail(f"Không tìm thấy: {', '.join(missing)}.", 2)
    handler = _run_logging(settings, "danhgia-process.log") if settings.inbox.is_dir() else None
    try:
        with progress_bar(show_progress(ctx)) as progress:
            result = run(
                lambda: process_inbox(
                    settings,
                    paths=paths or None,
                    period=wanted,
                    write_reports=False if no_reports else None,
                    progress=progress,
                    settle=settings.watcher.settle_seconds,
                )
            )
    finally:
        _close_log(handler)

    def text() -> None:
        shown = [f for f in result.files if f.outcome != "skipped"]
        if shown:
            _print_table(
                "Kết quả từng tệp",
                ["Tệp", "Kết quả", "Đơn vị", "Kỳ", "Số vấn đề"],
                (
                    (f.name, OUTCOME_LABELS.get(f.outcome, f.outcome), f.unit_code, f.period, len(f.issues))
                    for f in shown
                ),
            )
        for odd in result.odd:
            typer.echo(f"Bỏ qua {odd.path}: không phải tệp thường ({ODD_KINDS.get(odd.kind, odd.kind)}).")
        _print_table("Tổng hợp", ["Kết quả", "Số tệp"], summary_rows(result))
        for f in result.files:
            if f.outcome in ("rejected", "invalid", "failed"):
                errors = [i for i in f.issues if i.severity.value == "error"] or f.issues
                reason = f"{errors[0].message}" + (f" (và {len(errors) - 1} lỗi khác)" if len(errors) > 1 else "")
                typer.echo(f"{f.name}: {OUTCOME_LABELS.get(f.outcome, f.outcome)} — {reason or 'xem tệp báo lỗi'}")
                for p in f.error_files:
                    typer.echo(f"  Tệp báo lỗi: {p}")
        if result.outputs:
            typer.echo(written_summary(result.outputs, "báo cáo"))

    emit(ctx, result, text)
    if result.problem:  # never reported as success (issue 17 ¶2): one line saying what to fix
        typer.echo(f"Lỗi: {result.problem}", err=True)
    raise typer.Exit(result.exit_code)


ODD_KINDS = {
    "symlink": "liên kết tượng trưng",
    "fifo": "ống FIFO",
    "folder": "thư mục",
    "socket": "socket",
    "device": "thiết bị",
    "unreadable": "không đọc được",
}


@regime_app.command("list", cls=ViCommand)
def regime_list_cmd(
    ctx: typer.Context,
    period: Annotated[
        str | None, typer.Option("--period", "-p", help="Kỳ đánh giá (2026-03, 2026-Q1, Quý I/2026…).")
    ] = None,
) -> None:
    """Các bộ quy định: bộ nào áp dụng cho kỳ nào, đối tượng nào."""
    from .pipeline.regimes import list_regimes

    settings = run(ctx.obj.settings)
    result = run(lambda: list_regimes(settings, period))
    kinds = {"month": "tháng", "quarter": "quý"}

    def text() -> None:
        rows = [
            [r.id + ("" if r.shipped else " *"), "Có" if r.in_force else "Không",
             ", ".join(kinds[k] for k in r.period_kinds),
             f"từ {r.valid_from}" + ("" if r.valid_to == "9999-12" else f" đến {r.valid_to}"),
             ", ".join(r.categories + r.blocks) or "Tất cả", r.hash[:8]]
            for r in result.rows
        ]  # fmt: skip
        headers = ["Mã", "Áp dụng", "Loại kỳ", "Hiệu lực", "Đối tượng", "Mã băm"]
        _print_table("Các bộ quy định (*: trong thư mục regimes/)", headers, rows)
        for name, details in result.broken:
            typer.echo(f"Bỏ qua regimes/{name} (có lỗi, chưa áp dụng): {details}")
        if result.period:
            judged = [[c, r or "Không có bộ quy định nào áp dụng"] for c, r in result.judged.items()]
            _print_table(f"Kỳ {result.period}: bộ quy định theo đối tượng", ["Đối tượng", "Bộ quy định"], judged)

    emit(ctx, result, text)


@regime_app.command("copy", cls=ViCommand)
def regime_copy_cmd(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="MÃ_GỐC", help="Mã bộ quy định để chép.")],
    new_id: Annotated[str, typer.Argument(metavar="MÃ_MỚI", help="Mã của bộ mới, ví dụ hn-kpi-2026.")],
) -> None:
    """Chép một bộ quy định vào thư mục regimes/ để sửa thành bộ mới."""
    from .pipeline.regimes import copy_regime

    settings = run(ctx.obj.settings)
    path = run(lambda: copy_regime(settings, source, new_id))
    emit(ctx, {"path": str(path)}, lambda: typer.echo(f"Đã chép bộ quy định {source} sang {path}"))


@regime_app.command("check", cls=ViCommand)
def regime_check_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="TỆP", help="Tệp bộ quy định (.toml).")],
) -> None:
    """Kiểm tra một tệp bộ quy định; báo từng lỗi kèm khóa và dòng."""
    from .pipeline.regimes import check_regime

    result = run(lambda: check_regime(file, ctx.obj.config))

    def text() -> None:
        if result.ok:
            typer.echo(
                f"Tệp {file} hợp lệ: bộ quy định {result.id}, phiên bản {result.version}, mã băm {result.digest[:12]}."
            )
        else:
            typer.echo(f"Tệp {file} có {len(result.mistakes)} lỗi:")
        echo_lines(f"  - {m.text()}" for m in result.mistakes)

    emit(ctx, result, text)
    raise typer.Exit(result.exit_code)


@quota_app.command("grant", cls=ViCommand)
def quota_grant_cmd(
    ctx: typer.Context,
    period: Annotated[str, typer.Option("--period", "-p", help="Kỳ đánh giá (2026-03, Quý I/2026…).")],
    unit: Annotated[str, typer.Option("--unit", "-u", help="Mã đơn vị.")],
    ratio: Annotated[float, typer.Option("--ratio", help="Tỷ lệ loại A được phép, ví dụ 0.3.")],
    by: Annotated[str, typer.Option("--by", help="Người quyết định ngoại lệ.")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do, căn cứ (số văn bản).")],
) -> None:
    """Ghi ngoại lệ tỷ lệ loại A cho một đơn vị trong một kỳ (ví dụ tập thể xuất sắc)."""
    from .pipeline.regimes import grant_quota

    settings = run(ctx.obj.settings)
    result = run(lambda: grant_quota(settings, period, unit, ratio, by=by, reason=reason))
    text = f"Đã ghi ngoại lệ số {result.id}: đơn vị {result.unit_code}, kỳ {result.period}, tỷ lệ loại A {result.ratio:.0%}."
    emit(ctx, result, lambda: typer.echo(text))


@app.command("status", cls=ViCommand)
def status_cmd(ctx: typer.Context, period: PeriodOpt, block: BlockOpt = None) -> None:
    """Tình hình nộp của một kỳ: đơn vị đã nộp, hợp lệ, vi phạm tỷ lệ, bị trả lại, chưa nộp, muộn.

    Mã thoát: 0 mọi đơn vị đã nộp danh sách hợp lệ; 1 còn đơn vị chưa nộp, bị trả lại hoặc vi
    phạm tỷ lệ; 2 sai cách dùng hoặc cấu hình.
    """
    from .pipeline import period_status

    settings = run(ctx.obj.settings)
    status = run(lambda: period_status(settings, period, block))
    names = {"valid": "Hợp lệ", "invalid": "Vi phạm tỷ lệ", "rejected": "Bị trả lại", "missing": "Chưa nộp"}

    def text() -> None:
        typer.echo(f"Kỳ {status.period} · {status.area}" + (" (đã công khai, đang khóa)" if status.locked else ""))
        for odd in status.odd:
            typer.echo(f"Bỏ qua {odd.path}: không phải tệp thường ({ODD_KINDS.get(odd.kind, odd.kind)}).")
        if not status.has_registry:
            typer.echo("Chưa có danh mục: không xác định được đơn vị chưa nộp.")
        for b in status.blocks:
            rows = []
            for u in b.units:
                timing = "" if u.on_time is None else "Đúng hạn" if u.on_time else "Muộn"
                rows.append(
                    [u.unit_code, u.unit_name, names[u.state], timing, u.people, *u.grades.values(), len(u.warnings)]
                )
            counts = ", ".join(f"{names[s]} {b.count(s)}" for s in names)
            _print_table(
                f"{b.label or 'Chưa rõ khối'} — {counts}",
                ["Mã", "Đơn vị", "Trạng thái", "Hạn", "Số người", "A", "B", "C", "D", "KXL", "Cảnh báo"],
                rows,
            )
        for u in (u for b in status.blocks for u in b.units if u.warnings):
            typer.echo(f"Cảnh báo của {u.unit_code}:")
            echo_lines(f"  - {w}" for w in u.warnings)

    emit(ctx, status, text)
    raise typer.Exit(status.exit_code)


@app.command("remind", cls=ViCommand)
def remind_cmd(
    ctx: typer.Context,
    period: PeriodOpt,
    send: Annotated[
        bool, typer.Option("--send", help="Gửi thật qua máy chủ thư [smtp] (mặc định: chỉ ghi thư ra tệp).")
    ] = False,
) -> None:
    """Nhắc các đơn vị chưa nộp, nộp muộn, bị trả lại, không hợp lệ trước hạn kế tiếp (e-mail)."""
    from .pipeline.remind import OUTCOME_TEXT, remind_units

    settings = run(ctx.obj.settings)
    res = run(lambda: remind_units(settings, period, send=send))

    def text() -> None:
        typer.echo(f"Kỳ {res.period}. {res.deadline.text()}")
        rows = [[ln.unit_code, ln.unit_name, ln.reason, ", ".join(ln.recipients), OUTCOME_TEXT[ln.outcome]]
                for ln in res.lines]  # fmt: skip
        _print_table(f"Thư nhắc ({len(rows)} đơn vị)", ["Mã", "Đơn vị", "Lý do", "Gửi tới", "Kết quả"], rows)
        typer.echo(f"Tóm tắt: {res.summary}")

    emit(ctx, res, text)
    raise typer.Exit(res.exit_code)


@app.command("publish", cls=ViCommand)
def publish_cmd(
    ctx: typer.Context,
    period: PeriodOpt,
    by: Annotated[str, typer.Option("--by", help="Người công khai (bắt buộc).")],
    block: BlockOpt = None,
    pdf: PdfOpt = None,
) -> None:
    """Công khai kết quả một kỳ: khóa kỳ và ghi các danh sách công khai."""
    from .pipeline import publish_period

    settings = run(ctx.obj.settings)
    with progress_bar(show_progress(ctx)) as progress:
        res = run(lambda: publish_period(settings, period, block, by=by, progress=progress, pdf=pdf))
    emit(ctx, res, lambda: echo_lines([f"Đã khóa kỳ {res.period}.", written_summary(res.outputs, "danh sách")]))


@app.command("reopen", cls=ViCommand)
def reopen_cmd(
    ctx: typer.Context,
    period: PeriodOpt,
    by: Annotated[str, typer.Option("--by", help="Người mở lại kỳ.")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do mở lại.")],
    block: BlockOpt = None,
) -> None:
    """Mở lại một kỳ đã khóa (ghi lại người mở và lý do trong sổ cái)."""
    from .pipeline import reopen_period

    settings = run(ctx.obj.settings)
    with progress_bar(show_progress(ctx)) as progress:
        res = run(lambda: reopen_period(settings, period, block, by=by, reason=reason, progress=progress))
    emit(ctx, res, lambda: echo_lines([f"Đã mở lại kỳ {res.period}.", written_summary(res.outputs, "bảng tổng hợp")]))


@app.command("report", cls=ViCommand)
def report_cmd(
    ctx: typer.Context,
    period: PeriodOpt,
    block: BlockOpt = None,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="Chỉ một đơn vị (mã đơn vị).")] = None,
    scope: Annotated[
        str,
        typer.Option(
            "--scope",
            help="Cấp tổng hợp theo danh mục: all (mọi cấp), một mã cấp (PHUONG, XA, QUAN, THANH_PHO…), "
            "CẤP:MÃ (PHUONG:P_LONGBIEN) hoặc mã đơn vị của cấp đó.",
        ),
    ] = "all",
    pdf: PdfOpt = None,
) -> None:
    """Ghi lại các báo cáo của một kỳ từ sổ cái."""
    from .pipeline import regenerate_reports

    settings = run(ctx.obj.settings)
    with progress_bar(show_progress(ctx)) as progress:
        paths = run(lambda: regenerate_reports(settings, period, block, unit, scope, progress=progress, pdf=pdf))
    emit(ctx, [str(p) for p in paths], lambda: typer.echo(written_summary(paths, "báo cáo")))


@app.command("year", cls=ViCommand)
def year_cmd(ctx: typer.Context, year: Annotated[int, typer.Argument(metavar="NĂM", help="Năm (YYYY).")]) -> None:
    """Tổng hợp cả năm: mỗi người một dòng, mỗi tháng một cột xếp loại."""
    from .pipeline import year_view

    settings = run(ctx.obj.settings)
    with progress_bar(show_progress(ctx)) as progress:
        path = run(lambda: year_view(settings, year, progress=progress))
    emit(ctx, {"path": str(path)}, lambda: typer.echo(f"Đã ghi {path}"))


@app.command("backup", cls=ViCommand)
def backup_cmd(
    ctx: typer.Context,
    dest: Annotated[
        Path | None,
        typer.Argument(metavar="ĐÍCH", help="Tệp hoặc thư mục ghi bản sao lưu (mặc định: thư mục backup/)."),
    ] = None,
) -> None:
    """Sao lưu sổ cái SQLite an toàn cả khi 'danhgia watch' đang chạy (PostgreSQL: dùng pg_dump)."""
    from .pipeline.backup import backup_ledger

    settings = run(ctx.obj.settings)
    res = run(lambda: backup_ledger(settings, dest))
    emit(ctx, res, lambda: typer.echo(f"Đã sao lưu sổ cái ({res.files} tệp đã nhận) vào {res.path}."))


@app.command("restore", cls=ViCommand)
def restore_cmd(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(metavar="BẢN_SAO_LƯU", help="Tệp sao lưu do 'danhgia backup' ghi.")],
    force: Annotated[
        bool, typer.Option("--force", help="Thay cả sổ cái đang có dữ liệu (sổ cái cũ được sao lưu trước).")
    ] = False,
) -> None:
    """Khôi phục sổ cái SQLite từ một bản sao lưu (hãy dừng 'danhgia watch' trước)."""
    from .pipeline.backup import restore_ledger

    settings = run(ctx.obj.settings)
    res = run(lambda: restore_ledger(settings, source, force=force))
    emit(ctx, res, lambda: typer.echo(f"Đã khôi phục sổ cái {res.ledger} từ {res.path} ({res.files} tệp đã nhận)."))


@app.command("demo", cls=ViCommand)
def demo_cmd(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option("--dir", help="Thư mục demo (tạo mới hoặc tạo lại).")] = Path("demo"),
    historic: Annotated[
        bool, typer.Option("--historic", help="Quận Long Biên năm 2022 (đơn vị của công văn 528-CV/QU).")
    ] = False,
    scale: Annotated[
        str, typer.Option("--scale", help="ward: một phường (mặc định); city: nhiều phường, xã của thành phố.")
    ] = "ward",
    wards: Annotated[int, typer.Option("--wards", min=1, help="Số phường, xã khi --scale city.")] = 6,
    units: Annotated[
        int | None, typer.Option("--units", min=1, help="Chỉ lấy N đơn vị của quận (--historic, chạy nhanh).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Hạt giống ngẫu nhiên của dữ liệu giả lập.")] = None,
    period: Annotated[str | None, typer.Option("--period", "-p", help="Kỳ YYYY-MM (mặc định: tháng này).")] = None,
) -> None:
    """Tạo đơn vị mẫu (dữ liệu giả lập) với các lỗi thường gặp, rồi xử lý toàn bộ.

    Mặc định: phường Long Biên (trực thuộc thành phố Hà Nội từ 01/07/2025), tháng hiện tại.
    """
    from .demo import describe, run_demo

    chosen = "historic" if historic else scale
    with progress_bar(show_progress(ctx)) as progress:
        result = run(
            lambda: run_demo(
                directory, units=units, seed=seed, period=period, progress=progress, scale=chosen, wards=wards
            )
        )
    emit(ctx, result, lambda: echo_lines(describe(result)))
    raise typer.Exit(result.exit_code)


def main() -> None:
    """Console entry point."""
    gc.disable()  # typer's imports (pydantic) make long-lived objects only; main_options resumes
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit as exc:
        if _quick_exit and isinstance(exc.code, int):
            quick_exit(exc.code)
        raise


def quick_exit(code: int) -> NoReturn:
    """End the process now: run the exit handlers (logging, multiprocessing, safe.py's) and
    flush the output, then skip the teardown of every imported module and the last garbage
    collections, ~0.1 s of a ``danhgia check`` (issue 19). Only from :func:`main`, after the
    command returned: its files and the ledger are closed."""
    import atexit
    import contextlib
    import os

    run_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython
    if run_handlers is None:
        sys.exit(code)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (``| head``): output gone anyway
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
