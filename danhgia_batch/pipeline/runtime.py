"""What a ``process`` run sets up around its files: the candidates of the inbox (and the
entries that are not regular files, issue 17 ¶7), the reader workers kept for the run, the
progress bar."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..intake import scan_inbox, scan_odd
from ..models import FormResult
from ..settings import Settings
from ..textsafe import fs_text
from .results import OddEntry

log = logging.getLogger(__name__)

Reader = Callable[[Sequence[Path], Settings], Iterable[FormResult]]  # read.read_forms or a warm pool


_ODD_LOGGED: set[tuple[str, str]] = set()


def odd_entries(settings: Settings) -> list[OddEntry]:
    """Inbox entries that are not regular files (issue 17 ¶7); each logged once per process."""
    found = [OddEntry(fs_text(p), kind) for p, kind in scan_odd(settings.inbox)]
    for odd in found:
        if (odd.path, odd.kind) not in _ODD_LOGGED:
            _ODD_LOGGED.add((odd.path, odd.kind))
            log.warning("Bỏ qua %s trong hộp thư đến: không phải tệp thường (%s)", fs_text(odd.path), odd.kind)
    return found


def candidates(settings: Settings, paths: Sequence[Path] | None) -> Iterator[tuple[Path, Path | None]]:
    """(file, root it was found under) pairs; root is None for a file given outside the inbox."""
    inbox = settings.inbox.resolve()
    if paths is None:
        yield from ((p, inbox) for p in scan_inbox(inbox))
        return
    seen: set[Path] = set()
    for given in paths:
        p = Path(given).resolve()
        found: list[tuple[Path, Path | None]] = []
        if p.is_dir():
            found = [(q, inbox if _inside(q, inbox) else p) for q in scan_inbox(p)]
        if p.is_file():
            found = [(p, inbox if _inside(p, inbox) else None)]
        for q, root in found:
            if q not in seen:
                seen.add(q)
                yield q, root


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


class _RunReader:
    """The reader workers of one run, started on the first file to read (a run with nothing
    new starts none)."""

    def __init__(self) -> None:
        self.pool: Any = None

    def _pool(self, settings: Settings) -> Any:
        if self.pool is None:
            from ..read import RunReader

            self.pool = RunReader(settings)
        return self.pool

    def __call__(self, paths: Sequence[Path], settings: Settings) -> Iterable[FormResult]:
        return self._pool(settings)(paths, settings)

    def prefetch(self, paths: Sequence[Path], settings: Settings) -> None:
        self._pool(settings).prefetch(paths, settings)


def stop_reader(read: Reader | None) -> None:
    """Stop this run's own reader workers once every file is read, so that their memory is
    free before the roll-ups (issue 19); the watcher's warm pool (given) is left alone."""
    if isinstance(read, _RunReader) and read.pool is not None:
        read.pool.shutdown()
        read.pool = None


@contextmanager
def run_reader(given: Reader | None) -> Iterator[Reader | None]:
    """``given`` (the watcher's warm pool), else reader workers kept for the chunks of this run."""
    if given is not None:
        yield given
        return
    read = _RunReader()
    try:
        yield read
    finally:
        if read.pool is not None:
            read.pool.shutdown()
