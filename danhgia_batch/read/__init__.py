"""Read stage: untrusted workbooks → :class:`~danhgia_batch.models.FormResult` (SPEC §8, §9).

- :func:`read_form` reads one file in a limited child process and returns its rows and all
  its issues (container, template, values, framework, batch schema);
- :func:`read_forms` reads many with a pool of such workers, yielding in completion order.

Neither raises on bad input. Modules: ``preflight`` (the zip container), ``safe`` (child
processes and limits), ``workbook`` (calamine cell access), ``recognise`` (kind, version,
framework, header fields, columns), ``normalise`` (values), ``tables`` / ``individual`` (the
three templates), ``checks`` (typed-over formulas), ``schema`` (pandera, in the parent, one
DataFrame per call of the pool).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..models import FormResult
from ..safe import Pool, batches, validate_read
from ..settings import Settings

# files a worker reads ahead at once: half a chunk of 64 (pipeline.process.CHUNK), so that the two
# workers read the whole next chunk while the caller records this one. With 8, the workers
# waited for the caller half of the time and the caller for them a third (city month, issue 19)
PREFETCH_BATCH = 32


def read_forms(paths: Sequence[Path], settings: Settings, *, workers: int | None = None) -> Iterator[FormResult]:
    """Read ``paths`` in worker processes (memory limit, per-file timeout); yield as they finish.

    Args:
        paths: workbook files (any content: bad input becomes issues).
        settings: resolved settings; ``[reader]`` gives the limits and the default worker count.
        workers: number of worker processes (default ``settings.reader.workers``).

    Yields:
        One :class:`FormResult` per path, in completion order (match them by ``.path``).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return
    n = max(1, workers or settings.reader.workers)
    work = batches(paths, n)
    yield from Pool(settings, min(n, len(work))).run(work)


class RunReader(Pool):
    """Reader workers kept across the calls of one run (``danhgia process`` reads its inbox a
    small batch of claims at a time); called like :func:`read_forms`; :meth:`shutdown` ends them.
    The watcher's ``WarmReader`` keeps one for its whole life. A dead idle worker (the OOM
    killer, an operator) is replaced; one abandoned mid-batch is never reused.

    :meth:`prefetch` starts reading the next files while the caller records the last ones
    (reading has no effect); a call takes a prefetched result only if the file's
    :func:`stat_key` did not change since the prefetch, and reads the others itself.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.reader.workers)
        self.workers = max(1, settings.reader.workers)
        self._ahead: dict[Path, tuple[int, ...]] = {}  # prefetched path -> its stat key then

    def prefetch(self, paths: Sequence[Path], settings: Settings) -> None:
        """Hand ``paths`` to idle workers now, without waiting for them."""
        keys = {p: k for p in map(Path, paths) if p not in self._ahead and (k := stat_key(p)) is not None}
        if not keys:
            return
        self._drop_dead()
        self._ahead.update(keys)
        self.size = self.workers
        # one batch per worker: its files are read now (queued batches wait for the caller to
        # come back); the results wait in the pipes. At most PREFETCH_BATCH files each: a
        # worker holds its batch's results until the caller takes them (a city month's
        # process tree is at its 500 MB limit, issue 19)
        ahead = list(keys)
        size = min(PREFETCH_BATCH, math.ceil(len(ahead) / self.workers))
        self.queue.extend(ahead[i : i + size] for i in range(0, len(ahead), size))
        self._dispatch()

    def __call__(self, paths: Sequence[Path], settings: Settings) -> Iterator[FormResult]:
        paths = [Path(p) for p in paths]
        if not paths:
            return
        self._drop_dead()
        ahead, self._ahead = self._ahead, {}
        try:
            got: dict[Path, FormResult] = {}
            if self.queue or any(x.batch for x in self.slots):  # the prefetched files, all of them
                got = {f.path: f for f in Pool._read(self, [])}
            forms = [got[p] for p in paths if p in got and stat_key(p) == ahead.get(p)]
            have = {f.path for f in forms}
            rest = [p for p in paths if p not in have]
            work = batches(rest, self.workers)
            self.size = min(self.workers, max(1, len(work)))
            forms += Pool._read(self, work)
            if self.validate:
                validate_read(forms, self.settings)
            yield from forms
        finally:
            for slot in [x for x in self.slots if x.batch]:  # abandoned mid-batch: never reuse
                self._kill(slot)
            self.queue.clear()

    def _drop_dead(self) -> None:
        for slot in [x for x in self.slots if not x.batch and not x.proc.is_alive()]:
            self._kill(slot)

    def close(self) -> None:
        """Keep the workers between calls (:meth:`Pool.run` calls this when it ends)."""

    def shutdown(self) -> None:
        """Stop every worker."""
        self._ahead = {}
        Pool.close(self)


def stat_key(path: Path) -> tuple[int, ...] | None:
    """What says a file is the same as when it was read: device, inode, size, mtime (ns)."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def read_form(path: Path, settings: Settings) -> FormResult:
    """Read one workbook safely (a child process) and return its rows and every issue."""
    return next(iter(read_forms([Path(path)], settings, workers=1)))


__all__ = ["RunReader", "read_form", "read_forms"]
