"""Progress reports: a bar on a terminal, readable lines in a log."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
from rich.console import Console

from workers.embedding_cache import cached_embeddings
from workers.progress import LOG_EVERY_S, REDRAW_EVERY_S, ProgressReport


def clock(step: float) -> Iterator[float]:
    i = 0
    while True:
        yield i * step
        i += 1


def test_a_log_gets_a_line_every_few_seconds_and_a_summary() -> None:
    out = io.StringIO()
    ticks = clock(0.01)  # 10,000 updates over 100 s
    with ProgressReport(
        "clustering", 10_000, console=Console(file=out), clock=lambda: next(ticks)
    ) as r:
        for done in range(1, 10_001):
            r.update(done)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert len(lines) == 100 / LOG_EVERY_S + 1  # one every 10 s, then the summary
    assert lines[0].startswith("clustering 1,000/10,000 docs, 100 docs/s, eta 90 s")
    assert lines[-1] == "clustering 10,000/10,000 docs in 100 s (100 docs/s)"


def test_a_terminal_gets_a_bar_redrawn_a_few_times_a_second_at_most() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    ticks = clock(0.001)  # 2,000 updates over 2 s
    with ProgressReport("embedding", 2000, console=console, clock=lambda: next(ticks)) as r:
        for done in range(1, 2001):
            r.update(done)
    text = out.getvalue()
    assert "embedding" in text and "2000/2000" in text
    redraws = text.count("embedding")  # every redraw writes the whole line again
    assert 2 <= redraws <= 2 / REDRAW_EVERY_S + 4  # not 2,000: one per update


def test_quiet_prints_nothing_and_the_cache_reports_its_work(tmp_path, capsys) -> None:
    texts = [f"t{i}" for i in range(5)]

    def encode(batch: list[str]) -> np.ndarray:
        return np.ones((len(batch), 3), np.float32)

    cached_embeddings(texts, encode, "k", cache_dir=tmp_path, progress=False)
    assert capsys.readouterr().err == ""
    got = cached_embeddings([*texts, "t5"], encode, "k", cache_dir=tmp_path)
    assert got.shape == (6, 3)
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("embedding 1/1 docs in ")  # only the missing row
