-- Versioned topic snapshots, as published on `topic-updates`.
--
-- Every publication of a topic is a new version, so the full history of a
-- topic (growth, drift of its centroid and keywords, merge/split lineage) is
-- kept. The version is part of the sorting key: ReplacingMergeTree only
-- collapses rows that share (stream, topic_id, version), i.e. redeliveries of
-- the same snapshot. The latest state is the row with max(version).
--
-- merged_into / split_from are -1 when the topic has no such lineage edge.
CREATE TABLE IF NOT EXISTS topics (
    topic_id Int64,
    stream String,
    version UInt32,
    born_at DateTime,
    updated_at DateTime,
    size UInt64,
    weight Float64,
    centroid Array(Float32),
    keywords Array(String),
    keyword_scores Array(Float32),
    label String,
    status String,
    merged_into Int64,
    split_from Int64,
    examples Array(String),
    published_at DateTime
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(born_at)
ORDER BY (stream, topic_id, version)
