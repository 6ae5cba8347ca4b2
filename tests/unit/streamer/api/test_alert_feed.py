"""The live alert feed's cursors: resume after any position, never repeat."""

from __future__ import annotations

from streamer.api.alert_feed import LiveFeed
from tests.alert_fixtures import make_alert


class Log:
    def __init__(self, total: int, recent: list[dict]) -> None:
        self.total, self.recent = total, recent

    def alert_log(self):
        return 5, self.total, self.recent


def test_cursors_number_alerts_across_a_log_that_forgets_old_ones():
    log = Log(3, [make_alert(1), make_alert(2), make_alert(3)])
    feed = LiveFeed(log)  # type: ignore[arg-type]
    assert feed.cursor() == "L5.3"
    items, cur = feed.after("L5.1")
    assert [i for i, _ in items] == ["L5.2", "L5.3"] and cur == "L5.3"
    assert feed.after(cur)[0] == []
    # Two more raised; the log keeps the newest three only.
    log.total, log.recent = 5, [make_alert(3), make_alert(4), make_alert(5)]
    items, cur = feed.after("L5.3")
    assert [a["topic_id"] for _, a in items] == [4, 5] and cur == "L5.5"
    # A cursor older than the log: everything the log still has, once.
    assert [a["topic_id"] for _, a in feed.after("L5.0")[0]] == [3, 4, 5]
    # Garbage and other processes' cursors start from this process's log.
    assert [a["topic_id"] for _, a in feed.after("nonsense")[0]] == [3, 4, 5]
    assert feed.after("L5.99")[0] == []
