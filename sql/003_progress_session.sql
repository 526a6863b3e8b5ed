-- What the progress rules need beyond the initial table: whether the last
-- event ended the video (so that the next one starts a new viewing
-- session), and rows made before their first event (last_event_at NULL).
ALTER TABLE video_progress ADD COLUMN finished_last boolean NOT NULL DEFAULT false;
