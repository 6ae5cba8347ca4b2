-- Per-topic, per-minute (event time) counts, maintained on insert into events.
--
-- The count is uniqExact(event_id), not count(): a materialized view sees every
-- inserted block, including rows Kafka redelivered after a crash, before
-- ReplacingMergeTree has merged them away. count() would count a redelivered
-- event twice; a uniqExact state merges duplicates of the same event_id, so
-- the counts stay exact under at-least-once delivery. Read with
-- uniqExactMerge(events) ... GROUP BY.
--
-- An event assigned late (version 1) is counted under its topic from that row
-- on, and stays counted under topic -1 (unassigned) from its version-0 row:
-- counts for real topics are exact, topic -1 counts "ever waited in the
-- buffer". One exception: an event a newborn topic took back from an older
-- one (a later version with another topic) stays counted under the older
-- topic too; a materialized view cannot uncount it.
CREATE TABLE IF NOT EXISTS topic_minute_counts (
    stream String,
    topic_id Int64,
    minute DateTime,
    events AggregateFunction(uniqExact, String)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (stream, topic_id, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS topic_minute_counts_mv
TO topic_minute_counts
AS SELECT
    stream,
    topic_id,
    toStartOfMinute(ts) AS minute,
    uniqExactState(event_id) AS events
FROM events
GROUP BY stream, topic_id, minute
