-- trending_topics: the trending ranking of every stream for dashboards and
-- Grafana, with a fixed 15-minute window, 24-hour baseline and support of 5
-- posts (TrendSettings' defaults). Same formula and event-time "now" (the
-- stream's newest minute with an assigned event) as
-- schemas/queries/trending.sql, which `topictrack trending` runs with any
-- window; label and keywords come from each topic's newest snapshot.
--
--   SELECT * FROM trending_topics WHERE stream = 'default' ORDER BY score DESC LIMIT 10
--
-- score = (window_count - expected) / sqrt(expected + 1) with
-- expected = baseline_count * 900 / 86400; growth = (window_count + 1) / (expected + 1).
-- The joins are ALL (each right side has one row per key): modern ClickHouse's
-- ANY INNER JOIN would keep one row per key on the left too.
CREATE VIEW IF NOT EXISTS trending_topics AS
SELECT
    stream,
    topic_id,
    topic_label AS label,
    topic_keywords AS keywords,
    window_count,
    baseline_count,
    expected,
    growth,
    score,
    now_ts
FROM (
    SELECT
        stream,
        topic_id,
        window_count,
        baseline_count,
        baseline_count * 900 / 86400 AS expected,
        (window_count + 1) / (expected + 1) AS growth,
        (window_count - expected) / sqrt(expected + 1) AS score,
        toUInt32(newest_minute) AS now_ts
    FROM (
        SELECT
            stream,
            survivor_id AS topic_id,
            uniqExactMergeIf(events, minute > now_minute - 900) AS window_count,
            uniqExactMergeIf(events, minute <= now_minute - 900) AS baseline_count,
            any(now_minute) AS newest_minute
        FROM (
            SELECT stream, if(was_merged = 1, merged_into, topic_id) AS survivor_id, minute, events
            FROM topic_minute_counts
            ALL LEFT JOIN (
                SELECT stream, topic_id, 1 AS was_merged, any(merged_into) AS merged_into
                FROM topics
                WHERE status = 'merged'
                GROUP BY stream, topic_id
            ) AS merges USING (stream, topic_id)
            WHERE topic_id >= 0
        ) AS counts
        ALL INNER JOIN (
            SELECT stream, max(minute) AS now_minute
            FROM topic_minute_counts
            WHERE topic_id >= 0
            GROUP BY stream
        ) AS newest USING (stream)
        WHERE minute > now_minute - (900 + 86400)
        GROUP BY stream, survivor_id
    )
    WHERE window_count >= 5
) AS ranked
ALL LEFT JOIN (
    SELECT
        stream,
        topic_id,
        argMax(label, version) AS topic_label,
        argMax(keywords, version) AS topic_keywords
    FROM topics
    GROUP BY stream, topic_id
) AS names USING (stream, topic_id)
