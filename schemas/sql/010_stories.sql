-- Stories above topics (workers/stories.py): every topic and every alert
-- names the story it belongs to, the id of the story's first alerted topic
-- (a topic that starts a story carries its own id). A later topic that
-- continues an announced story (a sub-story, a language variant) shares its
-- story_id, so dashboards group topics by story with a plain GROUP BY.
-- -1: a row written before stories existed.
--
-- One ALTER per column, IF NOT EXISTS checked by the migration runner
-- (streamer/store/base.py), as in 006_alerts_v2.sql.
ALTER TABLE topics ADD COLUMN IF NOT EXISTS story_id Int64 DEFAULT -1 AFTER published_at;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS story_id Int64 DEFAULT -1 AFTER extra
