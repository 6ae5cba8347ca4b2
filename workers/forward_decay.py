"""Forward decay in event time: exponential fading without touching stored masses.

A post at event time ``t`` adds ``exp(rate * (t - landmark))`` to a sum
instead of every sum being multiplied down at each step (Cormode et al.,
"Forward decay", ICDE 2009). Ratios of such sums are exact decayed ratios,
and a sum's decayed value at time ``t`` is the sum times
:meth:`ForwardDecay.factor_to`. Weights grow with event time, so the
landmark moves forward now and then and every stored sum is multiplied once
by the factor :meth:`ForwardDecay.advance` returns.

Several decays can share one landmark (the engine's centroids fade with a
12 h half-life, its keyword counts with 3 days): :meth:`ForwardDecay.sibling`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Move the landmark once exp(rate * dt) would exceed e^300: squared sums
#: (e^600) then stay below float64 overflow (e^709), and with a 12 h
#: half-life the rescale runs once per ~200 days of event time.
RESCALE_EXPONENT = 300.0
#: Largest exponent a decay factor is computed with. A factor for a time far
#: before the landmark (after a jump of event time, or for a very late post)
#: would overflow float64 (e^709); capped, it stays a huge finite number and
#: the masses it scales stay comparable instead of becoming inf or NaN.
MAX_FACTOR_EXPONENT = 700.0


class _Landmark:
    """The landmark time shared by a decay and its siblings (``None`` until first use)."""

    __slots__ = ("t",)

    def __init__(self) -> None:
        self.t: float | None = None


class ForwardDecay:
    """Forward-decay weights at one half-life, relative to a (shared) landmark.

    Parameters
    ----------
    half_life_s
        Event-time seconds after which a post's weight has halved.

    Examples
    --------
    >>> import numpy as np
    >>> from workers.forward_decay import ForwardDecay
    >>> decay = ForwardDecay(half_life_s=3600.0)
    >>> decay.advance(1000.0)  # the first time sets the landmark
    1.0
    >>> w = decay.weights(np.array([1000.0, 4600.0]))
    >>> [round(float(v), 3) for v in w]  # a post an hour later weighs twice as much
    [1.0, 2.0]
    >>> round(float(w.sum()) * decay.factor_to(4600.0), 3)  # the sum as of 4600 s
    1.5
    """

    def __init__(self, half_life_s: float, _landmark: _Landmark | None = None) -> None:
        self.half_life_s = half_life_s
        self.rate = math.log(2.0) / half_life_s
        self._landmark = _landmark if _landmark is not None else _Landmark()

    @property
    def landmark(self) -> float | None:
        """Event time at which a post weighs exactly 1 (``None`` before the first post)."""
        return self._landmark.t

    @landmark.setter
    def landmark(self, t: float | None) -> None:
        self._landmark.t = t

    def sibling(self, half_life_s: float) -> ForwardDecay:
        """A decay at another half-life that shares this one's landmark (moved by this one)."""
        return ForwardDecay(half_life_s, self._landmark)

    def weights(self, ts: np.ndarray) -> np.ndarray:
        """Weight ``exp(rate * (t - landmark))`` of posts at event times ``ts``."""
        return np.exp(self.rate * (ts - self.landmark))

    def exponents(self, ts: np.ndarray) -> np.ndarray:
        """``log`` of :meth:`weights` (compared with log masses without overflow)."""
        return self.rate * (ts - self.landmark)

    def factor_to(self, t: float) -> float:
        """Factor turning a forward-decayed sum into its decayed value at time ``t``."""
        if self.landmark is None:
            return 1.0
        return math.exp(min(-self.rate * (t - self.landmark), MAX_FACTOR_EXPONENT))

    def factors_to(self, ts: np.ndarray) -> np.ndarray:
        """:meth:`factor_to` for each time in ``ts``."""
        return np.exp(np.minimum(-self.rate * (ts - self.landmark), MAX_FACTOR_EXPONENT))

    def advance(self, now: float) -> float:
        """Set the landmark at the first post; move it to ``now`` before weights overflow.

        Returns the factor every sum stored under the old landmark must be
        multiplied by (1.0 when the landmark stayed, so nothing needs doing).
        """
        if self.landmark is None:
            self.landmark = now
            return 1.0
        if self.rate * (now - self.landmark) <= RESCALE_EXPONENT:
            return 1.0
        factor = math.exp(-self.rate * (now - self.landmark))
        self.landmark = now
        return factor

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The landmark (siblings share it: only one of them needs saving)."""
        return {}, {"landmark": self.landmark}

    def load(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        self.landmark = meta["landmark"]

    def sibling_factor(self, sibling: ForwardDecay, factor: float) -> float:
        """The factor for ``sibling``'s sums when :meth:`advance` returned ``factor``."""
        return factor ** (sibling.rate / self.rate)
