-- Per-user topic interests, as the track stage publishes them on `user-interests`
-- (docs/interests.md). One row per profile change: the user's row of the
-- user-topic matrix R (topic ids with their share of the user's decayed mass
-- and the decayed weight as of `as_of`, the stream's newest event time), the
-- post count, keywords and the dense interest vector.
--
-- `version` grows with every change of any profile of the stream (it is
-- checkpointed with the engine), so ReplacingMergeTree(version) keeps the
-- newest row per (stream, user_id) and a redelivered row collapses into its
-- copy. Readers take the newest with `ORDER BY version DESC LIMIT 1 BY ...`,
-- which chdb and ClickHouse 18.16 both run.
CREATE TABLE IF NOT EXISTS user_interests (
    stream String,
    user_id String,
    version UInt64,
    as_of DateTime,
    last_ts DateTime,
    posts UInt64,
    mass Float64,
    topic_ids Array(Int64),
    shares Array(Float32),
    weights Array(Float32),
    topic_last_ts Array(UInt32),
    keywords Array(String),
    keyword_scores Array(Float32),
    vector Array(Float32),
    published_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY (stream, user_id)
