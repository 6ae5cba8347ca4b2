"""Progress of a long loop on stderr: a rich bar on a terminal, a plain line now and then elsewhere.

Embedding a stream for ``topictrack eval`` takes minutes on a CPU. On a
terminal a bar shows how far it is; in a CI log or a file a bar's carriage
returns would pile up into one unreadable line (or thousands of them), so
there a plain line is written every :data:`LOG_EVERY_S` seconds and a summary
at the end. The bar is redrawn from the caller's thread when it reports
progress, never from a background thread: the replay times the engine in
process CPU time, which a refresh thread would add to.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

#: Seconds between two plain progress lines when stderr is not a terminal.
LOG_EVERY_S = 10.0
#: Seconds between two redraws of the bar on a terminal (4 per second look live).
REDRAW_EVERY_S = 0.25


class ProgressReport:
    """Report ``done`` out of ``total`` items while a loop runs (a context manager).

    Parameters
    ----------
    description
        What is being done, e.g. ``embedding``.
    total
        Items the loop will have done at the end.
    unit
        What an item is, e.g. ``docs``.
    enabled
        ``False`` prints nothing (``--quiet``).
    console
        Where to write; stderr when omitted.
    clock
        Seconds, for the pace of the reports (tests pass a fake one).

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> from workers.progress import ProgressReport
    >>> out = io.StringIO()
    >>> ticks = iter(range(0, 1000, 4))  # a fake clock: 4 s per call
    >>> with ProgressReport("embedding", 5, console=Console(file=out),
    ...                     clock=lambda: float(next(ticks))) as report:
    ...     for done in range(1, 6):
    ...         report.update(done)
    >>> print(out.getvalue(), end="")
    embedding 3/5 docs, 0.25 docs/s, eta 8 s
    embedding 5/5 docs in 24 s (0.21 docs/s)
    """

    def __init__(
        self,
        description: str,
        total: int,
        unit: str = "docs",
        enabled: bool = True,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.enabled = enabled and total > 0
        self.console = console or Console(stderr=True)
        self.clock = clock
        self.done = 0
        self._started = 0.0
        self._shown = -math.inf
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressReport:
        if not self.enabled:
            return self
        self._started = self._shown = self.clock()
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
                auto_refresh=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, rate="")
        return self

    def update(self, done: int) -> None:
        """``done`` items are finished (shown when the next report is due)."""
        if not self.enabled:
            return
        self.done = done
        now = self.clock()
        if self._bar is not None:
            if now - self._shown >= REDRAW_EVERY_S or done >= self.total:
                self._redraw(now)
        elif now - self._shown >= LOG_EVERY_S:
            self._line(now, final=False)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self._bar is not None:
            self._redraw(now)
            self._bar.stop()
        else:
            self._line(now, final=True)

    def _rate(self, now: float) -> float:
        elapsed = now - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def _redraw(self, now: float) -> None:
        assert self._bar is not None and self._task is not None
        rate = f"{_number(self._rate(now))} {self.unit}/s"
        self._bar.update(self._task, completed=self.done, rate=rate)
        self._bar.refresh()
        self._shown = now

    def _line(self, now: float, final: bool) -> None:
        rate = self._rate(now)
        head = f"{self.description} {self.done:,}/{self.total:,} {self.unit}"
        if final:
            text = f"{head} in {now - self._started:,.0f} s ({_number(rate)} {self.unit}/s)"
        else:
            eta = (self.total - self.done) / rate if rate > 0 else math.inf
            text = f"{head}, {_number(rate)} {self.unit}/s, eta {eta:,.0f} s"
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        self._shown = now


def _number(x: float) -> str:
    """``1,234`` or ``0.25``: whole numbers once they are large enough to read."""
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"
