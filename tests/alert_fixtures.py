"""An alert as the detector publishes it, for tests of everything that carries alerts."""

from __future__ import annotations

from workers.alerts import Alert


def make_alert(i: int = 1, kind: str = "new", end: float = 1_741_940_000.0) -> dict:
    return Alert(
        alert_id=f"a{i}",
        stream="default",
        topic_id=i,
        kind=kind,
        score=3.5,
        window_start=end - 3600,
        window_end=end,
        first_seen=end - 7200,
        size=25,
        keywords=["phone", "nova"],
        label="phone · nova",
        examples=["Leaked photos of the Nova phone"],
        created_at=1_800_000_000.0,
    ).to_dict()
