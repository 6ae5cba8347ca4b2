"""One progress line on stderr for long commands (``produce``).

On a terminal rich redraws it in place; elsewhere (CI logs, pipes) it is
printed as a plain line every ``every`` seconds and once at the end, so a log
gets a few readable lines instead of thousands of carriage returns.
"""

from __future__ import annotations

import math
import sys
import time
from typing import IO

from rich.live import Live
from rich.text import Text

from streamer.cli.live_table import console_for

#: Seconds between redraws on a terminal.
TTY_EVERY = 0.25


class ProgressLine:
    """Show ``update(text)`` calls: in place on a TTY (4/s), else every ``every`` s."""

    def __init__(
        self, stream: IO[str] = sys.stderr, enabled: bool = True, every: float = 5.0
    ) -> None:
        self.enabled = enabled
        self.console = console_for(stream)
        self.every = every
        self.started = time.monotonic()
        self._last = -math.inf
        self._live: Live | None = None

    def update(self, text: str, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        tty = self.console.is_terminal
        # Callers report per event; formatting that many lines would cost more than sending.
        if not final and now - self._last < (TTY_EVERY if tty else self.every):
            return
        self._last = now
        if tty:
            if self._live is None:
                self._live = Live(Text(text), console=self.console, auto_refresh=False)
                self._live.start()
            self._live.update(Text(text), refresh=True)
            if final:
                self._live.stop()
                self._live = None
            return
        self.console.print(text)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
