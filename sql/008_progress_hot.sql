-- Heartbeats and imports update video_progress rows in place: with no
-- indexed column changing and room on the page, PostgreSQL makes them
-- heap-only (HOT) updates that touch none of the table's five indexes.
-- updated_at was the one indexed column a heartbeat changes: a viewer's
-- rows are few, and idx_video_progress_user finds them to be sorted.
DROP INDEX video_progress_user_recent_idx;
ALTER TABLE video_progress SET (fillfactor = 80);
