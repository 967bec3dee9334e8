"""The CLI's chrome in Vietnamese: help pages, usage lines and usage errors.

typer (0.29) vendors click (as a private module) with its English wording written into the code
(no gettext). This module uses only public interfaces to replace that wording: typer's public
command classes (``typer.core.TyperCommand`` / ``TyperGroup``) and the documented methods every
click command has (``format_usage``, ``format_help``, ``get_params``, ``get_help_record``,
``list_commands``, ``get_short_help_str``, ``get_help_option``), so the help page is laid out here
in Vietnamese rather than translated after the fact, and the columns line up. Errors escaping
the root command (``standalone_mode=False``) are recognised by their public attributes
(``format_message()``, ``exit_code``, ``ctx``), not by importing the private exception classes.
No library object is patched.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

HELP_TEXT = "Hiện hướng dẫn này rồi thoát."
OPTIONS_METAVAR = "[TÙY_CHỌN]"
SUBCOMMAND_METAVAR = "LỆNH [ĐỐI_SỐ]..."
USAGE = "Cách dùng: "
WIDTH = 78
COL_MAX = 30
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
    # the same reasons as click words them (typer before 0.29)
    (r"'(.*)' is not a valid int(?:eger)?\.", "phải là một số nguyên."),
    (r"'(.*)' is not a valid float\.", "phải là một số."),
    (r"(.+) is not in the range x>=(.+)\.", "phải lớn hơn hoặc bằng {2}."),
    (r"(.+) is not in the range x>(.+)\.", "phải lớn hơn {2}."),
    (r"(.+) is not in the range x<=(.+)\.", "phải nhỏ hơn hoặc bằng {2}."),
    (r"(.+) is not in the range x<(.+)\.", "phải nhỏ hơn {2}."),
    (r"(.+) is not in the range (.+)<=x<=(.+)\.", "phải từ {2} đến {3}."),
    (r"(?i:file|directory|path) (.+) does not exist\.", "không tìm thấy {1}."),
    (r"(?i:file|path) (.+) is a directory\.", "{1} là một thư mục, cần một tệp."),
    (r"(?i:directory) (.+) is a file\.", "{1} là một tệp, cần một thư mục."),
    (r"(?i:file|directory|path) (.+) is not (?:readable|writable|executable)\.", "không có quyền với {1}."),
]

# Options of the root command that may also be written after the subcommand (SPEC §11).
GLOBAL_FLAGS = frozenset({"--json", "--verbose"})
GLOBAL_VALUED = frozenset({"--config", "-c", "--ledger"})


def translate(message: str) -> str:
    """A click/pydantic message in Vietnamese (unknown wording is returned unchanged)."""
    message = message.strip()
    for pattern, text in MESSAGES:
        m = re.fullmatch(pattern, message, flags=re.DOTALL)
        if m:
            groups = [m.group(0), *(translate(g) if i == len(m.groups()) else g for i, g in enumerate(m.groups(), 1))]
            return text.format(*groups)
    return message


def _vi_extra(text: str) -> str:
    def extra(m: re.Match[str]) -> str:
        out = m.group(0).replace("default:", "mặc định:").replace("env var:", "biến môi trường:")
        return out.replace("required", "bắt buộc")

    return _EXTRA.sub(extra, text)


def _vi_types(text: str) -> str:
    return _TYPE.sub(lambda m: f"<{TYPE_NAMES.get(m.group(1), m.group(1))}>", text)


def definition_list(rows: Sequence[tuple[str, str]], width: int = WIDTH) -> list[str]:
    """Two aligned columns, the second wrapped (click's layout, computed on the Vietnamese text)."""
    first = min(max((len(a) for a, _ in rows), default=0), COL_MAX) + 2
    lines: list[str] = []
    for term, text in rows:
        wrapped = textwrap.wrap(text, max(width - first - 2, 20)) or [""]
        if len(term) <= COL_MAX:
            lines.append(f"  {term:<{first}}{wrapped[0]}".rstrip())
        else:
            lines.append(f"  {term}")
            lines.append(f"  {'':<{first}}{wrapped[0]}".rstrip())
        lines += [f"  {'':<{first}}{w}" for w in wrapped[1:]]
    return lines


def usage_line(command_path: str, pieces: Sequence[str], width: int = WIDTH) -> str:
    """``Cách dùng: danhgia status [TÙY_CHỌN]``, wrapped under the command."""
    head = f"{USAGE}{command_path} "
    return textwrap.fill(
        " ".join(pieces), width, initial_indent=head, subsequent_indent=" " * len(head), break_on_hyphens=False
    )


def help_page(command: Any, ctx: Any) -> str:
    """The whole help page of ``command``: usage, description, arguments, options, subcommands."""
    width = WIDTH
    out = [usage_line(ctx.command_path, command.collect_usage_pieces(ctx), width)]
    text = (command.help or "").strip()
    for paragraph in re.split(r"\n\s*\n", textwrap.dedent(text)) if text else []:
        out += ["", textwrap.fill(" ".join(paragraph.split()), width, initial_indent="  ", subsequent_indent="  ")]
    arguments: list[tuple[str, str]] = []
    options: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        row = (_vi_types(record[0]), _vi_extra(record[1]))
        (arguments if param.param_type_name == "argument" else options).append(row)
    for heading, rows in (("Đối số:", arguments), ("Tùy chọn:", options)):
        if rows:
            out += ["", heading, *definition_list(rows, width)]
    commands = _subcommands(command, ctx)
    if commands:
        limit = width - 6 - max(len(name) for name, _ in commands)
        rows = [(name, sub.get_short_help_str(limit)) for name, sub in commands]
        out += ["", "Lệnh:", *definition_list(rows, width)]
    return "\n".join(out) + "\n"


def _subcommands(command: Any, ctx: Any) -> list[tuple[str, Any]]:
    if not hasattr(command, "list_commands"):
        return []
    found = [(name, command.get_command(ctx, name)) for name in command.list_commands(ctx)]
    return [(name, sub) for name, sub in found if sub is not None and not sub.hidden]


class _Vietnamese:
    """Mixed into typer's command classes: Vietnamese usage line, help page and --help text."""

    options_metavar: str | None

    def _vi_init(self) -> None:
        if self.options_metavar == "[OPTIONS]":
            self.options_metavar = OPTIONS_METAVAR

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """click's pieces, a variadic argument's ending in ``...`` (``{TỆP}...``: several
        files) whichever typer release wrote its metavar."""
        pieces: list[str] = list(super().collect_usage_pieces(ctx))  # type: ignore[misc]
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if param.param_type_name == "argument" and param.nargs == -1:
                for last in param.get_usage_pieces(ctx)[-1:]:
                    if not last.endswith("...") and last in pieces:
                        pieces[pieces.index(last)] = f"{last}..."
        return pieces

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write(usage_line(ctx.command_path, self.collect_usage_pieces(ctx)) + "\n")

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(help_page(self, ctx))


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
        hoisted = hoist_global_options(list(sys.argv[1:] if args is None else args))
        if hoisted is not None:
            args = hoisted

        def call() -> Any:
            return super(ViGroup, self).main(
                args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra
            )

        if not standalone_mode:
            return call()
        try:
            code = call()
        except typer.Abort:
            typer.echo("Đã hủy.", err=True)
            sys.exit(1)
        except Exception as exc:
            if not _is_cli_error(exc):
                raise
            show_error(exc)
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        sys.exit(code if isinstance(code, int) else 0)


def _is_cli_error(exc: BaseException) -> bool:
    """A usage or parameter error of the (vendored) click: it formats itself and has an exit code."""
    return callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int)


def show_error(exc: Any) -> None:
    """What click's ``show()`` prints, in Vietnamese: usage and a hint for usage errors, then the error."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        typer.echo(ctx.get_usage(), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            typer.echo(f"Gõ '{ctx.command_path} {ctx.help_option_names[0]}' để xem hướng dẫn.", err=True)
        typer.echo("", err=True)
    typer.echo(f"Lỗi: {translate(exc.format_message())}", err=True)


def hoist_global_options(args: list[str]) -> list[str] | None:
    """``danhgia status -p 2026-11 --json`` → ``danhgia --json status -p 2026-11``.

    Root options written after the subcommand are moved before it (SPEC §11: options such as
    ``--json`` work before or after the subcommand). Returns ``None`` when nothing moves, so
    the original argument list (and Windows' wildcard expansion) is kept.
    """
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":  # leading root options
        i += 2 if args[i] in GLOBAL_VALUED else 1
    if i >= len(args):
        return None
    front, rest = args[:i], args[i:]
    moved: list[str] = []
    kept: list[str] = []
    j = 0
    while j < len(rest):
        token = rest[j]
        if token == "--":
            kept += rest[j:]
            break
        name = token.split("=", 1)[0]
        if token in GLOBAL_FLAGS or re.fullmatch(r"-v+", token):
            moved.append(token)
        elif name in GLOBAL_VALUED and ("=" in token or j + 1 < len(rest)):
            moved += [token] if "=" in token else rest[j : j + 2]
            j += 0 if "=" in token else 1
        else:
            kept.append(token)
        j += 1
    return [*front, *moved, *kept] if moved else None


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar fed by the library's ``progress(step, done, total)`` callback when
    ``enabled`` (a terminal, no ``--json``); else ``None``: the command prints only its summary."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield update
