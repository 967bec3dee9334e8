"""Command line ``danhgia``: a thin shell over the library.

Each command parses options, resolves settings, calls one library function of the same
name and maps :class:`~danhgia_batch.errors.DanhgiaError` to a one-line Vietnamese message and
an exit code (SPEC §11: 0 all accepted, 1 something rejected or invalid, 2 usage or
configuration error, or the ledger cannot be opened; 3 for ``process``: the disk or a folder
stopped the run, issue 17). Heavy libraries are imported inside the commands, never here.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .errors import DanhgiaError

# ---- Vietnamese chrome -----------------------------------------------------------------------
# typer (0.29) vendors click as ``typer._click`` with its English wording written into the code
# (no gettext), so every piece of chrome is replaced here, in one place, through the hooks the
# classes offer: a HelpFormatter subclass (usage prefix, section headings, "[default: …]"), the
# Context's ``formatter_class``, ``get_help_option`` (the --help line), ``options_metavar`` /
# ``subcommand_metavar``, and ``main`` of the root group, which shows usage errors itself
# (typer would call ``ClickException.show()``, whose "Try …"/"Error:" lines are English)
# after translating click's messages with the table below. No library object is patched.

HELP_TEXT = "Hiện hướng dẫn này rồi thoát."
OPTIONS_METAVAR = "[TÙY_CHỌN]"
SUBCOMMAND_METAVAR = "LỆNH [ĐỐI_SỐ]..."
HEADINGS = {"Options": "Tùy chọn", "Arguments": "Đối số", "Commands": "Lệnh"}
TYPE_NAMES = {"str": "chuỗi", "text": "chuỗi", "path": "đường_dẫn", "file": "tệp", "directory": "thư_mục"}
TYPE_NAMES |= {"int": "số", "float": "số", "int range": "số", "float range": "số", "bool": "có/không"}
TYPE_NAMES |= {"list[Path]": "các đường_dẫn", "list[str]": "các chuỗi"}
_EXTRA = re.compile(r"\[(?:default|required|env var)[^\]]*\]")
_TYPE = re.compile(r"<([^<>\s][^<>]*)>")

# click's and pydantic's messages → Vietnamese (first match wins; ``{n}`` are the groups).
MESSAGES: list[tuple[str, str]] = [
    (r"Missing option (.+)\.", "Thiếu tùy chọn {1}."),
    (r"Missing argument (.+)\.", "Thiếu đối số {1}."),
    (r"Missing parameter: (.+)", "Thiếu tham số {1}."),
    (r"Missing command\.", "Thiếu lệnh."),
    (r"No such command (.+)\.", "Không có lệnh {1}."),
    (r"No such option: (\S+) Did you mean (.+)\?", "Không có tùy chọn {1}. Có phải là {2}?"),
    (r"No such option: (\S+) \(Possible options: (.+)\)", "Không có tùy chọn {1} (gần giống: {2})."),
    (r"No such option: (\S+)", "Không có tùy chọn {1}."),
    (r"Option (.+) requires an argument\.", "Tùy chọn {1} cần một giá trị."),
    (r"Option (.+) requires (\d+) arguments\.", "Tùy chọn {1} cần {2} giá trị."),
    (r"Option (.+) does not take a value\.", "Tùy chọn {1} không nhận giá trị."),
    (r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", "Thừa đối số: {1}."),
    (r"Invalid value for (.+?): (.+)", "Giá trị không hợp lệ cho {1}: {2}"),
    (r"Invalid value: (.+)", "Giá trị không hợp lệ: {1}"),
    # the reasons given after "Invalid value for …:" (typer validates with pydantic)
    (r"Input should be a valid integer.*", "phải là một số nguyên."),
    (r"Input should be a valid number.*", "phải là một số."),
    (r"Input should be greater than or equal to (.+)", "phải lớn hơn hoặc bằng {1}."),
    (r"Input should be greater than (.+)", "phải lớn hơn {1}."),
    (r"Input should be less than or equal to (.+)", "phải nhỏ hơn hoặc bằng {1}."),
    (r"Input should be less than (.+)", "phải nhỏ hơn {1}."),
    (r"Input should be (.+)", "phải là {1}."),
    (r"(?:file|directory|path) (.+) does not exist\.", "không tìm thấy {1}."),
    (r"(?:file|path) (.+) is a directory\.", "{1} là một thư mục, cần một tệp."),
    (r"directory (.+) is a file\.", "{1} là một tệp, cần một thư mục."),
    (r"(?:file|directory|path) (.+) is not (?:readable|writable|executable)\.", "không có quyền với {1}."),
]


def translate(message: str) -> str:
    """A click/pydantic message in Vietnamese (unknown wording is returned unchanged)."""
    message = message.strip()
    for pattern, text in MESSAGES:
        m = re.fullmatch(pattern, message, flags=re.DOTALL)
        if m:
            groups = [m.group(0), *(translate(g) if i == len(m.groups()) else g for i, g in enumerate(m.groups(), 1))]
            return text.format(*groups)
    return message


class ViHelpFormatter(_click.formatting.HelpFormatter):
    """click's help formatter with Vietnamese chrome."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Cách dùng: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(HEADINGS.get(heading, heading))

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        def extra(m: re.Match[str]) -> str:
            text = m.group(0).replace("default:", "mặc định:").replace("env var:", "biến môi trường:")
            return text.replace("required", "bắt buộc")

        def types(m: re.Match[str]) -> str:
            return f"<{TYPE_NAMES.get(m.group(1), m.group(1))}>"

        super().write_dl([(_TYPE.sub(types, a), _EXTRA.sub(extra, b)) for a, b in rows], col_max, col_spacing)


class ViContext(typer.Context):
    formatter_class = ViHelpFormatter


class _Vietnamese:
    """Mixed into typer's command classes: Vietnamese formatter, --help text, metavars."""

    context_class: type[_click.Context] = ViContext
    options_metavar: str | None

    def _vi_init(self) -> None:
        if self.options_metavar == "[OPTIONS]":
            self.options_metavar = OPTIONS_METAVAR

    def get_help_option(self, ctx: _click.Context) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option


class ViCommand(_Vietnamese, TyperCommand):
    """A typer command whose help and errors are in Vietnamese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._vi_init()


class ViGroup(_Vietnamese, TyperGroup):
    """A typer group whose help and errors are in Vietnamese; as the root, shows usage errors."""

    command_class = ViCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._vi_init()
        if self.subcommand_metavar in (None, "COMMAND [ARGS]...", "COMMAND1 [ARGS]... [COMMAND2 [ARGS]...]..."):
            self.subcommand_metavar = SUBCOMMAND_METAVAR

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def call() -> Any:
            return super(ViGroup, self).main(
                args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra
            )

        if not standalone_mode:
            return call()
        try:
            code = call()
        except _click.exceptions.NoArgsIsHelpError as exc:  # the help itself, as click does
            typer.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except _click.exceptions.UsageError as exc:
            show_usage_error(exc)
            sys.exit(exc.exit_code)
        except _click.exceptions.ClickException as exc:
            typer.echo(f"Lỗi: {translate(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Đã hủy.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def show_usage_error(exc: _click.exceptions.UsageError) -> None:
    """What ``UsageError.show()`` prints, in Vietnamese."""
    ctx = exc.ctx
    if ctx is not None:
        typer.echo(ctx.get_usage(), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            typer.echo(f"Gõ '{ctx.command_path} {ctx.help_option_names[0]}' để xem hướng dẫn.", err=True)
        typer.echo("", err=True)
    typer.echo(f"Lỗi: {translate(exc.format_message())}", err=True)


app = typer.Typer(
    cls=ViGroup,
    help="Xử lý hàng loạt phiếu đánh giá, xếp loại CBCCVC, LĐHĐ hằng tháng từ các tệp Excel.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["--help", "-h"]},
)
registry_app = typer.Typer(cls=ViGroup, help="Danh mục đơn vị và cán bộ (mẫu 00).", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
regime_app = typer.Typer(cls=ViGroup, help="Bộ quy định đánh giá, xếp loại (tháng hoặc quý).", no_args_is_help=True)
app.add_typer(regime_app, name="regime")
quota_app = typer.Typer(cls=ViGroup, help="Ngoại lệ tỷ lệ loại A theo đơn vị và kỳ.", no_args_is_help=True)
app.add_typer(quota_app, name="quota")

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
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(config=config, ledger=ledger, as_json=as_json, verbose=verbose)


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
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        text()


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
        Path, typer.Argument(metavar="TỆP", help="Tệp danh mục (mẫu 00, danh_muc.xlsx).", exists=True, dir_okay=False)
    ],
) -> None:
    """Nạp danh mục đơn vị và cán bộ từ tệp mẫu 00; mỗi lần nạp là một phiên bản mới."""
    from .pipeline.registry import load_registry_file

    settings = run(ctx.obj.settings)
    result = run(lambda: load_registry_file(file, settings))

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
            typer.echo("Chưa có danh mục đơn vị và cán bộ. Nạp bằng lệnh: danhgia registry load danh_muc.xlsx")
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


def _watch_logging(settings: Any, verbose: int) -> None:
    """Watcher logs: console plus a rotating file in the work dir's logs folder."""
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    logs = settings.path("logs")
    logs.mkdir(parents=True, exist_ok=True)
    # errors=: a file name with undecodable bytes is logged with escapes, never a logging error
    handler = RotatingFileHandler(
        logs / "danhgia-watch.log", maxBytes=5_000_000, backupCount=10, encoding="utf-8", errors="backslashreplace"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
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


def _print_table(title: str, headers: list[str], rows: Iterable[Iterable[object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for h in headers:
        table.add_column(h)
    for r in rows:
        table.add_row(*(str(v) for v in r))
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
    from .pipeline.check import check_files

    settings = run(ctx.obj.settings)
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
    from .pipeline import OUTCOME_LABELS, normalise_period, process_inbox, summary_rows

    settings = run(ctx.obj.settings)
    wanted = run(lambda: normalise_period(period)) if period else None
    missing = [str(p) for p in paths or [] if not p.exists()]
    if missing:  # a mistyped path would otherwise be a run that finds nothing
        fail(f"Không tìm thấy: {', '.join(missing)}.", 2)
    result = run(
        lambda: process_inbox(
            settings,
            paths=paths or None,
            period=wanted,
            write_reports=False if no_reports else None,
            progress=not ctx.obj.as_json and sys.stderr.isatty(),
            settle=settings.watcher.settle_seconds,
        )
    )

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
    """Tình hình nộp của một kỳ: đơn vị đã nộp, hợp lệ, vi phạm tỷ lệ, bị trả lại, chưa nộp, muộn."""
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
                rows.append([u.unit_code, u.unit_name, names[u.state], timing, u.people, *u.grades.values()])
            counts = ", ".join(f"{names[s]} {b.count(s)}" for s in names)
            _print_table(
                f"{b.label or 'Chưa rõ khối'} — {counts}",
                ["Mã", "Đơn vị", "Trạng thái", "Hạn", "Số người", "A", "B", "C", "D", "KXL"],
                rows,
            )

    emit(ctx, status, text)


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
    block: BlockOpt = None,
    by: Annotated[str, typer.Option("--by", help="Người công khai.")] = "",
) -> None:
    """Công khai kết quả một kỳ: khóa kỳ và ghi các danh sách công khai."""
    from .pipeline import publish_period

    settings = run(ctx.obj.settings)
    res = run(lambda: publish_period(settings, period, block, by=by))
    emit(ctx, res, lambda: echo_lines([f"Đã khóa kỳ {res.period}", *(f"Đã ghi {p}" for p in res.outputs)]))


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
    res = run(lambda: reopen_period(settings, period, block, by=by, reason=reason))
    emit(ctx, res, lambda: typer.echo(f"Đã mở lại kỳ {res.period}"))


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
) -> None:
    """Ghi lại các báo cáo của một kỳ từ sổ cái."""
    from .pipeline import regenerate_reports

    settings = run(ctx.obj.settings)
    paths = run(lambda: regenerate_reports(settings, period, block, unit, scope))
    emit(ctx, [str(p) for p in paths], lambda: echo_lines(f"Đã ghi {p}" for p in paths))


@app.command("year", cls=ViCommand)
def year_cmd(ctx: typer.Context, year: Annotated[int, typer.Argument(metavar="NĂM", help="Năm (YYYY).")]) -> None:
    """Tổng hợp cả năm: mỗi người một dòng, mỗi tháng một cột xếp loại."""
    from .pipeline import year_view

    settings = run(ctx.obj.settings)
    path = run(lambda: year_view(settings, year))
    emit(ctx, {"path": str(path)}, lambda: typer.echo(f"Đã ghi {path}"))


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

    progress = not ctx.obj.as_json and sys.stderr.isatty()
    chosen = "historic" if historic else scale
    result = run(
        lambda: run_demo(directory, units=units, seed=seed, period=period, progress=progress, scale=chosen, wards=wards)
    )
    emit(ctx, result, lambda: echo_lines(describe(result)))
    raise typer.Exit(result.exit_code)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
