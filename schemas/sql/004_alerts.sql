-- Alerts: a topic emerging or bursting. Columns are deliberately broad; the
-- alerting issue refines them. alert_id is deterministic for one alert (e.g.
-- stream/topic/kind/window), so redelivered alerts collapse into one row.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id String,
    stream String,
    topic_id Int64,
    kind String,
    score Float64,
    window_start DateTime,
    window_end DateTime,
    first_seen DateTime,
    keywords Array(String),
    label String,
    examples Array(String),
    created_at DateTime
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY alert_id
