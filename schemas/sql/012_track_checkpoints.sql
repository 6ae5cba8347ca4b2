-- Track-stage checkpoints where every track worker reaches them (--checkpoints
-- store): one row per (namespace = consumer group, Kafka partition of
-- `embedded`, generation), the checkpoint packed as a zip and base64-encoded
-- in `state` (engine and alert snapshots, the offsets they cover, waiting
-- rows). A worker that takes over a partition reads the highest generation;
-- ReplacingMergeTree(generation) lets older generations collapse away.
CREATE TABLE IF NOT EXISTS track_checkpoints (
    namespace String,
    kafka_partition UInt32,
    generation UInt64,
    saved_at DateTime,
    state String
) ENGINE = ReplacingMergeTree(generation)
ORDER BY (namespace, kafka_partition)
