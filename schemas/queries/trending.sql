-- Trending topics of one stream, in event time: the trend_score of
-- workers/trending.py over the per-minute counts.
--
--   now      = the newest minute with an assigned event in this stream
--              (event time, never the wall clock; TrendCounter's newest bucket)
--   window   = the %(window_s)s seconds of minutes ending at `now` (inclusive)
--   baseline = the %(baseline_s)s seconds of minutes before the window
--   expected = baseline_count * window_s / baseline_s
--   score    = (window_count - expected) / sqrt(expected + 1)
--   growth   = (window_count + 1) / (expected + 1)
--
-- Topics with fewer than %(min_support)s posts in the window never trend.
-- Counts are exact (uniqExact over event ids, so Kafka redeliveries count
-- once). A topic that was merged away counts under the topic it merged into,
-- as in the live TrendCounter (one level only: when that survivor was itself
-- merged later, the chain is not followed). Unassigned posts (topic -1) are
-- not a topic. Parameters are clickhouse-driver style, filled in by
-- streamer/alert_queries.py (comment lines are dropped). Runs unchanged on chdb and
-- ClickHouse 18.16 (no CTEs, no window functions: one JOIN per SELECT).
-- The joins are ALL: each right side has one row per key, and modern
-- ClickHouse's ANY INNER JOIN would also keep only one row per key on the left.
SELECT
    topic_id,
    window_count,
    baseline_count,
    baseline_count * %(window_s)s / %(baseline_s)s AS expected,
    (window_count + 1) / (expected + 1) AS growth,
    (window_count - expected) / sqrt(expected + 1) AS score,
    toUInt32(newest_minute) AS now_ts
FROM (
    SELECT
        survivor_id AS topic_id,
        uniqExactMergeIf(events, minute > now_minute - %(window_s)s) AS window_count,
        uniqExactMergeIf(events, minute <= now_minute - %(window_s)s) AS baseline_count,
        any(now_minute) AS newest_minute
    FROM (
        SELECT stream, if(was_merged = 1, merged_into, topic_id) AS survivor_id, minute, events
        FROM topic_minute_counts
        ALL LEFT JOIN (
            SELECT stream, topic_id, 1 AS was_merged, any(merged_into) AS merged_into
            FROM topics
            WHERE stream = %(stream)s AND status = 'merged'
            GROUP BY stream, topic_id
        ) AS merges USING (stream, topic_id)
        WHERE stream = %(stream)s AND topic_id >= 0
    ) AS counts
    ALL INNER JOIN (
        SELECT stream, max(minute) AS now_minute
        FROM topic_minute_counts
        WHERE stream = %(stream)s AND topic_id >= 0
        GROUP BY stream
    ) AS newest USING (stream)
    WHERE minute > now_minute - (%(window_s)s + %(baseline_s)s)
    GROUP BY survivor_id
)
WHERE window_count >= %(min_support)s
ORDER BY score DESC, topic_id
LIMIT %(limit)s
