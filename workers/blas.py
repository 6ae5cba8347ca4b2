"""Run small matrix products on one BLAS thread.

The engine's products are small (a micro-batch against a few hundred
centroids). OpenBLAS splits even those over all cores, and when the other
core is busy (the model, the broker) its threads wait on each other: measured
here, the outlier buffer's products ran 30x slower with two threads than with
one on a loaded 2-core machine. The limit is set around each engine call, not
process-wide, so other numpy work keeps its threads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    # Scanning the loaded libraries takes milliseconds: do it once.
    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (about 12 µs per use, measured)."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
