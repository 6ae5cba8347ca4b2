"""The terminal view of topics and alerts shown by ``topictrack demo``, ``run`` and ``topics``.

``topics_table`` and ``alerts_table`` build rich tables (pure, tested);
:class:`LiveTable` redraws them in place on a terminal (rich's ``Live``) and
prints them every few seconds otherwise, so CI logs get readable snapshots
instead of cursor escapes.
"""

from __future__ import annotations

import io
import math
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

#: Columns of a table on a non-terminal (logs): wide enough for keywords.
PLAIN_WIDTH = 100


def topics_table(
    topics: Sequence[Mapping[str, Any]],
    recent: Mapping[int, int] | None = None,
    *,
    title: str = "",
    limit: int = 10,
    window_label: str = "15m",
) -> Table:
    """Top topics by decayed weight: id, size, recent count (event time), status, keywords."""
    recent = recent or {}
    table = Table(title=title or None, title_justify="left", expand=False, box=None)
    table.add_column("topic", justify="right")
    table.add_column("size", justify="right")
    table.add_column(f"last {window_label}", justify="right")
    table.add_column("status")
    table.add_column("keywords", overflow="ellipsis", no_wrap=True, max_width=70)
    shown = sorted(topics, key=lambda t: (-float(t.get("weight", 0)), -int(t.get("size", 0))))
    for t in shown[:limit]:
        tid = int(t["topic_id"])
        kws = ", ".join(list(t.get("keywords") or [])[:8]) or str(t.get("label", ""))
        table.add_row(
            str(tid), str(int(t.get("size", 0))), str(recent.get(tid, 0)), t.get("status", ""), kws
        )
    if not shown:
        table.caption = "no topics yet"
    elif len(shown) > limit:
        table.caption = f"... {len(shown) - limit} more topic(s)"
    table.caption_justify = "left"
    return table


def alerts_table(alerts: Sequence[Mapping[str, Any]], *, last: int = 5) -> Table:
    """Alert count by kind and the ``last`` newest (event time, kind, topic, label, keywords)."""
    kinds: dict[str, int] = {}
    for a in alerts:
        kinds[str(a["kind"])] = kinds.get(str(a["kind"]), 0) + 1
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    title = f"alerts: {len(alerts)} ({by_kind}); latest" if alerts else "alerts: none yet"
    table = Table(title=title, title_justify="left", box=None, show_header=bool(alerts))
    table.add_column("time (UTC)")
    table.add_column("kind")
    table.add_column("topic", justify="right")
    table.add_column("label | keywords", overflow="ellipsis", no_wrap=True, max_width=70)
    newest = sorted(alerts, key=lambda a: (a["window_end"], a.get("created_at", 0)))[-last:]
    for a in newest:
        when = time.strftime("%m-%d %H:%M", time.gmtime(float(a["window_end"])))
        kws = ", ".join(list(a.get("keywords") or [])[:5])
        table.add_row(when, str(a["kind"]), str(int(a["topic_id"])), f"{a['label']} | {kws}")
    return table


def view(header: str, *parts: RenderableType) -> Group:
    """A header line above tables: one screen of the live view."""
    return Group(Text(header), *parts)


def console_for(stream: IO[str]) -> Console:
    """A console on ``stream``: colours on a terminal, fixed-width plain text otherwise."""
    if stream.isatty():
        return Console(file=stream)
    return Console(file=stream, width=PLAIN_WIDTH, no_color=True, highlight=False)


def to_text(renderable: RenderableType, width: int = PLAIN_WIDTH) -> str:
    """Plain text of a renderable (the demo's summary, tests)."""
    out = io.StringIO()
    Console(file=out, width=width, no_color=True, highlight=False).print(renderable)
    return out.getvalue()


class LiveTable:
    """Draws successive views: in place on a terminal, every ``plain_every`` s otherwise."""

    def __init__(self, stream: IO[str] = sys.stderr, plain_every: float = 10.0) -> None:
        self.console = console_for(stream)
        self.tty = self.console.is_terminal
        self.plain_every = plain_every
        self._last_plain = -math.inf
        self._live: Live | None = None

    def draw(self, renderable: RenderableType, force: bool = False) -> None:
        if self.tty:
            if self._live is None:
                self._live = Live(renderable, console=self.console, auto_refresh=False)
                self._live.start()
            self._live.update(renderable, refresh=True)
            return
        now = time.monotonic()
        if not force and now - self._last_plain < self.plain_every:
            return
        self._last_plain = now
        self.console.print(renderable)
        self.console.print()

    def close(self) -> None:
        """Leave the last drawing on screen and give the cursor back."""
        if self._live is not None:
            self._live.stop()
            self._live = None
