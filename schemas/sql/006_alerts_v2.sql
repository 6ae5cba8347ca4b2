-- Alerts get every field of schemas/alert.schema.json: `size` (posts in the
-- topic when the alert fired) and `extra` (optional detail as a JSON string:
-- ClickHouse 18.16 has no JSON or Map type). Times stay DateTime: they are
-- epoch seconds (18.16 has no DateTime64), window_end being the event time
-- the alert fired at.
--
-- One ALTER per column, written IF NOT EXISTS. ClickHouse 18.16 does not
-- parse that clause on ALTER; the migration runner (streamer/store/base.py)
-- checks system.columns itself and runs the ALTER without it, on both
-- engines, so an interrupted migration can simply be repeated.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS size UInt64 DEFAULT 0 AFTER first_seen;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS extra String DEFAULT '{}' AFTER created_at
