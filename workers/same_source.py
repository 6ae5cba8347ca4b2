"""When are two topics one topic? The expected cosine between two sample means.

Posts of one topic scatter around a mean direction ``mu`` (``|mu| < 1`` since
posts are unit vectors). The mean of ``n`` posts has expected squared norm
``|mu|² + (1 - |mu|²) / n``, so the cosine between the means of two samples
of sizes ``n1`` and ``n2`` from the SAME source is about

    |mu|² / sqrt((|mu|² + (1-|mu|²)/n1) * (|mu|² + (1-|mu|²)/n2))

Small topics have noisy centroids (two 5-post samples of one event sit at
~0.77); large ones are sharp (two 200-post samples at ~0.99). Comparing the
observed cosine with this expectation lets one rule decide merges, wake-ups
and group joins at every size, where a fixed cosine either merges distinct
large topics or misses duplicate small ones.
"""

from __future__ import annotations

import numpy as np


def unbiased_sq_norm(sq_norm_of_mean: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Estimate ``|mu|²`` from the squared norm of a mean of ``n`` unit vectors."""
    n = np.maximum(np.asarray(n, dtype=np.float64), 1.0 + 1e-9)
    est = (n * np.asarray(sq_norm_of_mean, dtype=np.float64) - 1.0) / (n - 1.0)
    return np.clip(est, 1e-3, 1.0)


def expected_same_source_cosine(
    n1: np.ndarray, sq1: np.ndarray, n2: np.ndarray, sq2: np.ndarray
) -> np.ndarray:
    """Expected cosine between two sample means if both samples came from one source.

    ``sq1``/``sq2`` are the squared norms of the sample means; ``|mu|²`` is
    pooled from both, weighted by sample size.
    """
    n1 = np.maximum(np.asarray(n1, dtype=np.float64), 1.0)
    n2 = np.maximum(np.asarray(n2, dtype=np.float64), 1.0)
    mu2 = (n1 * unbiased_sq_norm(sq1, n1) + n2 * unbiased_sq_norm(sq2, n2)) / (n1 + n2)
    return mu2 / np.sqrt((mu2 + (1 - mu2) / n1) * (mu2 + (1 - mu2) / n2))


def same_topic_threshold(
    n1: np.ndarray, sq1: np.ndarray, n2: np.ndarray, sq2: np.ndarray, slack: float, floor: float
) -> np.ndarray:
    """Cosine at or above which two centroids are taken for one topic.

    The cosine distance may be up to ``slack`` times the expected same-source
    distance, and the cosine never below ``floor``.
    """
    expected = expected_same_source_cosine(n1, sq1, n2, sq2)
    return np.maximum(floor, 1.0 - slack * (1.0 - expected))
