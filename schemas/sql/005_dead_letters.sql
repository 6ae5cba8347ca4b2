-- Inputs that could not be processed: the reason, the stage that rejected it
-- (validate, embed, track, sink) and the original bytes (`raw`; invalid UTF-8
-- is kept as \xNN escapes). The source position (Kafka topic, partition,
-- offset) plus a hash of the raw bytes (one message may hold several bad rows)
-- identify a dead letter, so a redelivered one collapses into one row.
CREATE TABLE IF NOT EXISTS dead_letters (
    reason String,
    stage String,
    raw String,
    source_topic String,
    source_partition Int32,
    source_offset Int64,
    received_at DateTime
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (source_topic, source_partition, source_offset, stage, cityHash64(raw))
