-- One row per event and assignment version.
--
-- version 0 is the assignment made when the event was processed (topic_id -1
-- when it waited in the engine's outlier buffer); versions 1, 2, ... are late
-- assignments, written when a topic was born from that buffer or a newborn
-- topic took the event back from an older one. Kafka delivers
-- at least once, so the same (event_id, version) row may be inserted twice:
-- ReplacingMergeTree(version) keeps one row per (stream, event_id), the highest
-- version. Merges are eventual, so exact reads use FINAL (or argMax by version).
--
-- Partitioned by event month so retention is `ALTER TABLE events DROP
-- PARTITION 202401` (ClickHouse 18.16 has no TTL). Both versions of an event
-- share its ts, hence its partition, so deduplication is not split by it.
CREATE TABLE IF NOT EXISTS events (
    event_id String,
    stream String,
    ts DateTime,
    text String,
    user_id String,
    lang String,
    source String,
    topic_id Int64,
    similarity Float32,
    topk_ids Array(Int64),
    topk_probs Array(Float32),
    version UInt32,
    ingested_at DateTime
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (stream, event_id)
