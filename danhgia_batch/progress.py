"""Progress of long runs, reported by the library and shown by the CLI (STYLE.md: only
``cli.py`` prints).

A long library function takes ``progress: Progress | None`` and calls it as
``progress(step, done, total)``: ``step`` is a short Vietnamese label of what is being done
("Ghi báo cáo"), ``done`` of ``total`` items are finished. The CLI draws a rich progress bar
on a terminal and prints nothing but its one summary line otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


class Steps:
    """Counts items of one step and reports each to ``progress`` (nothing when it is ``None``)."""

    def __init__(self, progress: Progress | None, step: str, total: int) -> None:
        self.progress, self.step, self.total, self.done = progress, step, total, 0
        if progress is not None:
            progress(step, 0, total)

    def advance(self, count: int = 1) -> None:
        """``count`` more items are finished."""
        self.done += count
        if self.progress is not None:
            self.progress(self.step, min(self.done, self.total), self.total)
