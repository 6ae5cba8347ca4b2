"""Small kafka-python helpers: topic creation and quieter logging."""

from __future__ import annotations

import contextlib
import logging

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from streamer.config import ALL_TOPICS


def quiet_kafka_logging() -> None:
    """Silence kafka-python's event-loop stall warnings.

    kafka-python 3 warns when its I/O loop waits >0.1 s for the GIL, which is
    routine while the model runs in the same process (the demo); real send
    failures still surface through the send futures.
    """
    logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)


def ensure_topics(
    bootstrap_servers: str, names: tuple[str, ...] = ALL_TOPICS, partitions: int = 1
) -> list[str]:
    """Create the topics that do not exist yet (replication 1); return those created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="topictrack-admin")
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            # Another process may create one meanwhile: that is fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(n, partitions, 1) for n in missing])
        return missing
    finally:
        admin.close()
