"""Synthetic embedding streams with known topics, for engine tests.

Posts of a topic are its centre plus isotropic noise, renormalised. With
``noise=0.04`` in 384 dimensions a post sits at cosine ~0.79 from its centre
and ~0.62 from another post of its topic: a tight story.
"""

from __future__ import annotations

import numpy as np

DIM = 384


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def centres(k: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    """``k`` random unit vectors (nearly orthogonal in high dimension)."""
    # Separate random streams for centres and posts: equal seeds must not
    # make a post's noise equal another topic's centre.
    return unit(np.random.default_rng([seed, 0]).standard_normal((k, dim))).astype(np.float32)


def posts(centre: np.ndarray, n: int, seed: int = 1, noise: float = 0.04) -> np.ndarray:
    """``n`` unit vectors scattered around ``centre``."""
    rng = np.random.default_rng([seed, 1])
    return unit(centre + noise * rng.standard_normal((n, centre.shape[-1]))).astype(np.float32)


def texts_for(words: list[str], n: int, seed: int = 2) -> list[str]:
    """``n`` short texts drawn from a topic's own vocabulary plus filler words."""
    rng = np.random.default_rng(seed)
    filler = ["today", "people", "report", "update", "news"]
    return [
        " ".join(rng.choice(words, size=4).tolist() + rng.choice(filler, size=2).tolist())
        for _ in range(n)
    ]
