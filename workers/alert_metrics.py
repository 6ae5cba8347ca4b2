"""How good are the alerts on a labeled stream? (``topictrack eval``'s alert columns)

For every label, its first document in time is a new event. An alert
*names* a label when the documents its topic holds at alert time (as
assigned when processed) are mostly that label. Then:

- recall: share of labels that some alert names;
- precision: share of alerts that name a label no earlier alert named;
- delay: documents of the label seen before its first naming alert, and
  event-time minutes from the label's first document to that alert;
- false alarms per day: alerts that are not precise, per day of stream.

``development`` alerts (a later topic of an already-announced story) are
counted apart (``<prefix>_developments``) and left out of all of the above:
a development naming a label no other alert named is an event announced as
an old story's development, i.e. a miss (``<prefix>_developments_unnamed``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Alert kind of a later topic of an already-announced story (workers.alerts).
DEVELOPMENT = "development"


@dataclass
class AlertRecord:
    """An alert as seen by the evaluation."""

    ts: float  # event time of the alert
    docs_seen: int  # documents processed when it fired
    topic_id: int
    kind: str
    label: str | None = None  # the label it names, if any
    story_id: int | None = None  # the story the alert belongs to
    topic_label: str = ""  # the topic's label (top keywords) when it fired

    def to_dict(self) -> dict[str, object]:
        """One row of the eval JSON's ``alerts`` array: why the alert fired, what it named."""
        return {
            "ts": self.ts,
            "docs_seen": self.docs_seen,
            "topic_id": self.topic_id,
            "kind": self.kind,
            "names_label": self.label,
            "story_id": self.story_id,
            "topic_label": self.topic_label,
        }


def majority_label(
    pred: np.ndarray, labels: Sequence[str], topic_id: int, docs_seen: int
) -> str | None:
    """The label of more than half of ``topic_id``'s documents among the first ``docs_seen``."""
    members = np.flatnonzero(pred[:docs_seen] == topic_id)
    if len(members) == 0:
        return None
    label, count = Counter(labels[i] for i in members).most_common(1)[0]
    return label if count * 2 > len(members) else None


def alert_scores(
    records: Sequence[AlertRecord], labels: Sequence[str], ts: np.ndarray, prefix: str = "alerts"
) -> dict[str, float]:
    """The alert yardsticks (module docstring) under keys ``<prefix>_...``."""
    labels = list(labels)
    developments = [r for r in records if r.kind == DEVELOPMENT]
    records = [r for r in records if r.kind != DEVELOPMENT]
    first_idx: dict[str, int] = {}
    for i, lab in enumerate(labels):
        first_idx.setdefault(lab, i)
    label_arr = np.asarray(labels, dtype=object)
    named: dict[str, AlertRecord] = {}
    precise = 0
    for rec in sorted(records, key=lambda r: (r.docs_seen, r.ts)):
        if rec.label is not None and rec.label not in named:
            named[rec.label] = rec
            precise += 1
    delays_docs = [int(np.sum(label_arr[: rec.docs_seen] == lab)) for lab, rec in named.items()]
    delays_min = [(rec.ts - ts[first_idx[lab]]) / 60.0 for lab, rec in named.items()]
    days = max((float(ts[-1]) - float(ts[0])) / 86400.0, 1e-9) if len(ts) else 1.0
    n = len(records)
    nan = float("nan")
    return {
        f"{prefix}_total": n,
        f"{prefix}_recall": len(named) / len(first_idx) if first_idx else 0.0,
        f"{prefix}_precision": precise / n if n else 0.0,
        f"{prefix}_median_delay_docs": float(np.median(delays_docs)) if delays_docs else nan,
        f"{prefix}_p90_delay_docs": float(np.percentile(delays_docs, 90)) if delays_docs else nan,
        f"{prefix}_median_delay_minutes": float(np.median(delays_min)) if delays_min else nan,
        # "alerts" -> "false_alarms_per_day", "naive_alerts" -> "naive_false_alarms_per_day"
        prefix.replace("alerts", "false_alarms_per_day"): (n - precise) / days,
        f"{prefix}_developments": len(developments),
        f"{prefix}_developments_unnamed": sum(
            1 for r in developments if r.label is not None and r.label not in named
        ),
    }
