"""A stream's event-time clock, guarded: no single event may move it far.

Every window, decay and alert runs on event time, so an event from a device
with a wrong clock could age every topic into dormancy, or make every later
valid event look years late (measured: 63 events two years ahead of a 2013
stream broke every later batch). :class:`EventClock` keeps a per-stream
*watermark* (the newest accepted event time) and sorts each arriving event
into one of four verdicts (policy and reasons in docs/event_time.md):

- ``OK``: within ``[watermark - allowed_lateness_s, watermark + max_future_skew_s]``:
  learned by the engine; the watermark moves up to it;
- ``LATE``: older than the allowed lateness: stored and counted in its own
  time bucket (assigned without learning), never touching the engine's clock;
- ``HELD``: further ahead of the watermark than ``max_future_skew_s``: kept
  aside until the stream confirms the jump. A stream that resumes after a
  pause sends nothing but such events, so once ``confirm_min`` of them
  arrived with no in-bounds event between them, the held events are
  released (re-admitted in time order). Any in-bounds event starts the
  count again: a wrong clock among a live stream's events is never
  confirmed, even when its events outnumber the valid ones. A stream that
  falls quiet for ``hold_wall_s`` right after such events, with no in-bounds
  event since, confirms them too: the newest thing it said is all the
  evidence there is, and a slow stream's first posts after a pause must not
  wait for four more (a live stream's watermark trails the wall clock only
  when it was quiet). Held events are rejected after ``hold_arrivals`` more
  arrivals, after ``hold_wall_s`` once an in-bounds event came after them,
  or when more than ``hold_capacity`` wait;
- ``REJECTED``: ahead of the wall clock by more than ``max_wall_skew_s`` (no
  correct clock does that), or held and never confirmed: dead-lettered with
  the reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

OK, LATE, HELD, REJECTED = 0, 1, 2, 3


@dataclass(frozen=True)
class EventTimePolicy:
    """Bounds of event time against the stream's watermark and the wall clock.

    Examples
    --------
    >>> from workers import EventTimePolicy
    >>> EventTimePolicy().max_future_skew_s / 3600
    12.0
    """

    #: How far behind the watermark an event may be and still be learned. A
    #: week: the engine's wake window; a post later than that describes a
    #: story the engine has archived or let go dormant.
    allowed_lateness_s: float = 7 * 86400.0
    #: How far ahead of the watermark an event may be without confirmation.
    #: One centroid half-life (12 h): a wrong clock within it ages a topic's
    #: weight by at most half, and gaps shorter than it (a quiet night) need
    #: no confirmation.
    max_future_skew_s: float = 12 * 3600.0
    #: Ahead of the wall clock by more than this is rejected outright: clock
    #: skew between hosts, not a real event.
    max_wall_skew_s: float = 15 * 60.0
    #: Events ahead of the watermark, with no in-bounds event between them,
    #: that confirm a jump (a stream resumed after a pause).
    confirm_min: int = 5
    #: A held event is rejected after this many later arrivals without
    #: confirmation, or when more than ``hold_capacity`` events wait, or when
    #: it waited ``hold_wall_s`` of wall time (a stream that went quiet brings
    #: no evidence either way; the event should not wait in limbo for ever).
    hold_arrivals: int = 1000
    hold_capacity: int = 1000
    hold_wall_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("allowed_lateness_s", "max_future_skew_s", "max_wall_skew_s", "hold_wall_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {v!r}")
        for name in ("confirm_min", "hold_arrivals", "hold_capacity"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


@dataclass
class Admission:
    """What :meth:`EventClock.admit` decided for one batch, in its arrival order."""

    #: ``(n,)`` int8: ``OK``, ``LATE``, ``HELD`` or ``REJECTED`` per event.
    verdict: np.ndarray
    #: Position -> why it was rejected.
    reasons: dict[int, str] = field(default_factory=dict)
    #: Tokens of earlier held events released now: learn them with this batch.
    released: list[int] = field(default_factory=list)
    #: Tokens of earlier held events rejected now, with the reason.
    expired: list[tuple[int, str]] = field(default_factory=list)


def _ahead(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.0f} hours"
    return f"{seconds:,.0f} s"


class EventClock:
    """The guarded event-time clock of one stream (see the module docstring).

    Parameters
    ----------
    policy:
        The bounds; defaults when None.
    wall_clock:
        Returns the wall time in epoch seconds (tests pass a fixed one).

    Examples
    --------
    A stream at 2013 gets two events two years ahead among valid ones: they
    are held, never confirmed, and the watermark stays where the stream is.

    >>> import numpy as np
    >>> from workers import EventClock, EventTimePolicy
    >>> from workers.event_clock import HELD, OK
    >>> clock = EventClock(EventTimePolicy(hold_arrivals=3))
    >>> t0 = 1_360_000_000.0
    >>> clock.admit(np.array([t0, t0 + 60])).verdict.tolist() == [OK, OK]
    True
    >>> a = clock.admit(np.array([t0 + 63e6, t0 + 120, t0 + 63e6 + 5]), tokens=[7, 8, 9])
    >>> a.verdict.tolist() == [HELD, OK, HELD]
    True
    >>> b = clock.admit(np.array([t0 + 180, t0 + 240, t0 + 300]))
    >>> [token for token, _ in b.expired], clock.watermark == t0 + 300
    ([7, 9], True)
    """

    def __init__(
        self,
        policy: EventTimePolicy | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy or EventTimePolicy()
        self.wall_clock = wall_clock
        self.watermark: float | None = None
        #: Events seen, in arrival order (the hold's clock).
        self.arrivals = 0
        #: Held events: token -> (event time, arrival number when held).
        self.held: dict[int, tuple[float, int]] = {}
        #: Wall time each held event was held at.
        self.held_since: dict[int, float] = {}
        #: Events held since the last in-bounds event.
        self._ahead = 0
        #: The arrival count at the last in-bounds event: held events that
        #: arrived after it are the current streak (no evidence against them).
        self._streak_from = 0
        self.counts = {"ok": 0, "late": 0, "held": 0, "released": 0, "rejected": 0}

    # -- the verdicts ----------------------------------------------------
    def admit(self, ts: np.ndarray, tokens: list[int] | None = None) -> Admission:
        """Sort a batch (arrival order) into verdicts; held events are remembered by token.

        ``tokens`` name the batch's events for a later release (their
        positions when omitted); a caller that holds events keeps their
        payload under the same token.
        """
        ts = np.asarray(ts, dtype=np.float64)
        n = len(ts)
        p = self.policy
        out = Admission(verdict=np.full(n, OK, dtype=np.int8))
        if n == 0:
            return out
        wall_limit = self.wall_clock() + p.max_wall_skew_s
        w = self.watermark
        # The common case in one vectorised test: everything in bounds, nothing held.
        if (
            w is not None
            and not self.held
            and float(ts.max()) <= min(w + p.max_future_skew_s, wall_limit)
            and float(ts.min()) >= w - p.allowed_lateness_s
        ):
            self.watermark = max(w, float(ts.max()))
            self.arrivals += n
            self.counts["ok"] += n
            return out
        tokens = list(range(n)) if tokens is None else tokens
        if w is None:
            # A new stream starts its clock at its first batch's median time (of
            # the times that are not ahead of the wall clock): one wrong clock
            # among the first posts cannot set it.
            sane = ts[np.isfinite(ts) & (ts <= wall_limit)]
            if len(sane):
                self.watermark = float(np.median(sane))
        for i in range(n):
            self._admit_one(i, float(ts[i]), tokens[i], wall_limit, out)
        self._expire(out)
        return out

    def settle(self) -> Admission:
        """Held events that waited too long: ``released`` (a quiet stream's newest
        streak: learn them) and ``expired`` (rejected, with the reason).

        Called with every batch, and by a timer while a stream is quiet.
        """
        out = Admission(verdict=np.zeros(0, dtype=np.int8))
        self._expire(out)
        return out

    def _admit_one(self, i: int, t: float, token: int, wall_limit: float, out: Admission) -> None:
        p = self.policy
        self.arrivals += 1
        if not math.isfinite(t) or t > wall_limit:
            ahead = t - (wall_limit - p.max_wall_skew_s)
            out.verdict[i] = REJECTED
            out.reasons[i] = (
                f"event time {t:.0f} is {_ahead(ahead)} ahead of the wall clock "
                f"(at most {p.max_wall_skew_s:.0f} s of clock skew is accepted)"
            )
            self.counts["rejected"] += 1
            return
        w = self.watermark
        if w is None:  # only when no time in the first batch was usable
            self.watermark = t
            self.counts["ok"] += 1
        elif t > w + p.max_future_skew_s:
            self._ahead += 1
            self.held[token] = (t, self.arrivals)
            self.held_since[token] = self.wall_clock()
            out.verdict[i] = HELD
            self.counts["held"] += 1
        elif t < w - p.allowed_lateness_s:
            out.verdict[i] = LATE
            self.counts["late"] += 1
        else:
            # The old era is alive (an in-bounds event arrived): the held events
            # are not a stream that moved, however many they are. Any in-bounds
            # event counts, even one at or behind the watermark: a live stream
            # sends many posts in the same second, and a stream that resumed
            # after a pause sends none of the old era.
            self._ahead = 0
            self._streak_from = self.arrivals
            self.watermark = max(w, t)
            self.counts["ok"] += 1
        if self.held and self._confirmed():
            self._release(out)

    def _confirmed(self) -> bool:
        return self._ahead >= self.policy.confirm_min

    def _release(self, out: Admission) -> None:
        """The stream moved: re-admit the held events in time order from the earliest."""
        p = self.policy
        waiting = sorted(self.held.items(), key=lambda kv: kv[1][0])
        since = self.held_since
        self.held, self.held_since = {}, {}
        self.watermark = waiting[0][1][0]
        for token, (t, held_at) in waiting:
            if t > self.watermark + p.max_future_skew_s:
                # Still far ahead of its own group: wait again (its hold count goes on).
                self.held[token] = (t, held_at)
                self.held_since[token] = since.get(token, self.wall_clock())
                continue
            self.watermark = max(self.watermark, t)
            out.released.append(token)
            self.counts["released"] += 1
        # Events still held are far ahead of the confirmed group: they need their
        # own confirmation (else one release would chain into the next).
        self._ahead = 0
        self._streak_from = self.arrivals

    def _expire(self, out: Admission) -> None:
        """Settle held events that waited too many arrivals, too long, or beyond the
        capacity: a quiet stream's current streak is released, the rest rejected."""
        p = self.policy
        if not self.held:
            return
        by_age = sorted(self.held.items(), key=lambda kv: kv[1][1])
        excess = len(by_age) - p.hold_capacity
        now = self.wall_clock()
        # The current streak (held since the last in-bounds event) is settled as one:
        # released once the stream has been quiet hold_wall_s since its newest event.
        streak = {tok for tok, (_, at) in self.held.items() if at > self._streak_from}
        newest = max((self.held_since.get(tok, now) for tok in streak), default=now)
        streak_quiet = bool(streak) and now - newest >= p.hold_wall_s
        quiet_streak: list[tuple[float, int]] = []
        for k, (token, (t, held_at)) in enumerate(by_age):
            waited = self.arrivals - held_at
            idle = now - self.held_since.get(token, now)
            if token in streak and waited < p.hold_arrivals and k >= excess:
                if streak_quiet:  # nothing in bounds since, and quiet since: it moved
                    del self.held[token]
                    self.held_since.pop(token, None)
                    quiet_streak.append((t, token))
                continue
            if waited < p.hold_arrivals and k >= excess and idle < p.hold_wall_s:
                continue
            del self.held[token]
            self.held_since.pop(token, None)
            ahead = t - self.watermark if self.watermark is not None else 0.0
            out.expired.append(
                (
                    token,
                    f"event time {t:.0f} is {_ahead(ahead)} ahead of the stream's watermark "
                    f"(at most {p.max_future_skew_s:.0f} s without confirmation) and "
                    f"{waited} later events in {idle:.0f} s did not confirm the jump",
                )
            )
            self.counts["rejected"] += 1
        if quiet_streak:
            # The stream went quiet on these: it moved. As in a confirmed release, the
            # watermark starts at the earliest; one far ahead even of them is rejected.
            quiet_streak.sort()
            first = quiet_streak[0][0]
            self.watermark = first if self.watermark is None else max(self.watermark, first)
            for t, token in quiet_streak:
                if t > self.watermark + p.max_future_skew_s:
                    out.expired.append(
                        (
                            token,
                            f"event time {t:.0f} is {_ahead(t - self.watermark)} ahead "
                            "even of the events the stream resumed with",
                        )
                    )
                    self.counts["rejected"] += 1
                    continue
                self.watermark = t
                out.released.append(token)
                self.counts["released"] += 1
            self._ahead = 0
            self._streak_from = self.arrivals
        if not self.held:
            self._ahead = 0

    # -- state -----------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-able state (checkpointed with the stream's engine)."""
        return {
            "policy": asdict(self.policy),
            "watermark": self.watermark,
            "arrivals": self.arrivals,
            "held": [
                [token, t, at, self.held_since.get(token)] for token, (t, at) in self.held.items()
            ],
            "ahead": self._ahead,
            "streak_from": self._streak_from,
            "counts": dict(self.counts),
        }

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        policy: EventTimePolicy | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> EventClock:
        """Rebuild from :meth:`state`; ``policy`` (today's settings) wins over the saved one."""
        clock = cls(policy or EventTimePolicy(**state["policy"]), wall_clock)
        clock.watermark = state["watermark"]
        clock.arrivals = int(state["arrivals"])
        now = wall_clock()
        clock.held = {int(h[0]): (float(h[1]), int(h[2])) for h in state["held"]}
        # A restart does not reset the wait (older states lack the wall time: from now).
        clock.held_since = {
            int(h[0]): float(h[3]) if len(h) > 3 and h[3] is not None else now
            for h in state["held"]
        }
        clock._ahead = int(state.get("ahead", 0))
        # Older states lack it: the streak is the newest ``ahead`` held events.
        streak = sorted((at for _, at in clock.held.values()), reverse=True)[: clock._ahead]
        clock._streak_from = int(state.get("streak_from", min(streak, default=clock.arrivals) - 1))
        clock.counts.update(state["counts"])
        return clock
