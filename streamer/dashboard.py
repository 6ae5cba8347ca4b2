"""The live table of top topics shown by ``topictrack demo`` and ``run``.

``render`` is pure (tested); ``LiveTable`` redraws it in place on a terminal
and prints it every few seconds otherwise (logs, CI).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def render(
    topics: Sequence[Mapping[str, Any]],
    recent: Mapping[int, int] | None = None,
    *,
    header: str = "",
    limit: int = 10,
    width: int = 100,
    window_label: str = "15m",
) -> list[str]:
    """Lines of a table: id, size, recent count (event time), status, keywords."""
    recent = recent or {}
    lines = [header] if header else []
    lines.append(f"{'topic':>6} {'size':>6} {'last ' + window_label:>8}  {'status':<8} keywords")
    kw_width = max(10, width - 33)
    shown = sorted(topics, key=lambda t: (-float(t.get("weight", 0)), -int(t.get("size", 0))))
    for t in shown[:limit]:
        tid = int(t["topic_id"])
        kws = ", ".join(list(t.get("keywords") or [])[:8]) or t.get("label", "")
        lines.append(
            f"{tid:>6} {int(t.get('size', 0)):>6} {recent.get(tid, 0):>8}  "
            f"{str(t.get('status', ''))[:8]:<8} {_fit(kws, kw_width)}"
        )
    if not shown:
        lines.append("   (no topics yet)")
    elif len(shown) > limit:
        lines.append(f"   ... {len(shown) - limit} more topic(s)")
    return lines


def render_alerts(
    alerts: Sequence[Mapping[str, Any]], *, last: int = 5, width: int = 100
) -> list[str]:
    """Alert count by kind and the ``last`` newest (event time, kind, topic, label)."""
    if not alerts:
        return ["alerts: none yet"]
    kinds: dict[str, int] = {}
    for a in alerts:
        kinds[str(a["kind"])] = kinds.get(str(a["kind"]), 0) + 1
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    lines = [f"alerts: {len(alerts)} ({by_kind}); latest:"]
    newest = sorted(alerts, key=lambda a: (a["window_end"], a.get("created_at", 0)))[-last:]
    for a in newest:
        when = time.strftime("%H:%M", time.gmtime(float(a["window_end"])))
        kws = ", ".join(list(a.get("keywords") or [])[:5])
        text = f"  {when} {a['kind']:<5} topic {int(a['topic_id']):>4}  {a['label']} | {kws}"
        lines.append(_fit(text, width))
    return lines


class LiveTable:
    """Draws successive renderings: in place on a TTY, every ``plain_every`` s otherwise."""

    def __init__(self, stream: IO[str] = sys.stderr, plain_every: float = 10.0):
        self.stream = stream
        self.tty = stream.isatty()
        self.plain_every = plain_every
        self._drawn = 0
        self._last_plain = 0.0

    def draw(self, lines: list[str], force: bool = False) -> None:
        if self.tty:
            # Move up over the previous drawing and clear to the end of screen.
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            self.stream.write(up + "\x1b[J" + "\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            now = time.monotonic()
            if not force and now - self._last_plain < self.plain_every:
                return
            self._last_plain = now
            self.stream.write("\n".join(lines) + "\n\n")
        self.stream.flush()
