-- The platform plan's names. The plan's "Database Schema Design" is the
-- contract the platform's other services are written against: every one of
-- its tables has every one of its columns by the plan's name, with the
-- plan's enum types and indexes. Where a column of ours meant the same
-- thing it is renamed (its rows kept); the columns the plan does not have
-- (measured bits/s, high-water marks, the report columns) stay beside them.
-- The plan's ids are uuids: the bigserial ids become random uuids (no other
-- table refers to them).

-- videos: the plan's duration is whole seconds; the exact one (which the
-- progress rules and the player need) stays beside it
ALTER TABLE videos RENAME COLUMN duration_seconds TO duration_exact_seconds;
ALTER TABLE videos ADD COLUMN duration_seconds integer
    GENERATED ALWAYS AS (floor(duration_exact_seconds + 0.5)::integer) STORED;
ALTER TABLE videos RENAME COLUMN source_size TO file_size_bytes;
ALTER TABLE videos ADD COLUMN created_by uuid;                 -- the uploader (users table)
ALTER TABLE videos ADD COLUMN is_public boolean NOT NULL DEFAULT true;

DROP INDEX videos_upload_status_idx;
CREATE INDEX idx_videos_status ON videos (upload_status, is_published);
ALTER INDEX videos_category_idx RENAME TO idx_videos_category;
ALTER INDEX videos_created_at_idx RENAME TO idx_videos_created_at;

-- video_qualities
ALTER TABLE video_qualities RENAME COLUMN quality TO quality_label;
ALTER TABLE video_qualities RENAME COLUMN width TO resolution_width;
ALTER TABLE video_qualities RENAME COLUMN height TO resolution_height;
ALTER TABLE video_qualities RENAME COLUMN file_size TO file_size_bytes;
ALTER TABLE video_qualities RENAME COLUMN status TO processing_status;
-- bitrate stays the measured bits per second; the plan's kbps follows it
ALTER TABLE video_qualities ADD COLUMN bitrate_kbps integer
    GENERATED ALWAYS AS (((bitrate::bigint + 500) / 1000)::integer) STORED;
ALTER TABLE video_qualities DROP CONSTRAINT video_qualities_pkey;
ALTER TABLE video_qualities ALTER COLUMN id DROP DEFAULT;
ALTER TABLE video_qualities ALTER COLUMN id TYPE uuid USING gen_random_uuid();
ALTER TABLE video_qualities ALTER COLUMN id SET DEFAULT gen_random_uuid();
ALTER TABLE video_qualities ADD PRIMARY KEY (id);
DROP SEQUENCE video_qualities_id_seq;
ALTER TABLE video_qualities RENAME CONSTRAINT video_qualities_video_id_quality_key
    TO video_qualities_video_id_quality_label_key;
ALTER INDEX video_qualities_status_idx RENAME TO video_qualities_processing_status_idx;

-- video_progress: the plan's id is the key; a viewer has one row per video
ALTER TABLE video_progress RENAME COLUMN position_seconds TO current_time_seconds;
ALTER TABLE video_progress RENAME COLUMN completed TO is_completed;
-- the event time of the last applied update (NULL before the first)
ALTER TABLE video_progress RENAME COLUMN last_event_at TO last_watched_at;
ALTER TABLE video_progress ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE video_progress DROP CONSTRAINT video_progress_pkey;
ALTER TABLE video_progress ADD CONSTRAINT video_progress_user_id_video_id_key UNIQUE (user_id, video_id);
ALTER TABLE video_progress ADD PRIMARY KEY (id);
CREATE INDEX idx_video_progress_user ON video_progress (user_id);
ALTER INDEX video_progress_video_idx RENAME TO idx_video_progress_video;

-- video_chapters
ALTER TABLE video_chapters RENAME COLUMN start_seconds TO start_time_seconds;
ALTER TABLE video_chapters RENAME COLUMN end_seconds TO end_time_seconds;
ALTER TABLE video_chapters RENAME COLUMN position TO chapter_order;
ALTER TABLE video_chapters ADD COLUMN description text;
ALTER TABLE video_chapters ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE video_chapters DROP CONSTRAINT video_chapters_pkey;
ALTER TABLE video_chapters ALTER COLUMN id DROP DEFAULT;
ALTER TABLE video_chapters ALTER COLUMN id TYPE uuid USING gen_random_uuid();
ALTER TABLE video_chapters ALTER COLUMN id SET DEFAULT gen_random_uuid();
ALTER TABLE video_chapters ADD PRIMARY KEY (id);
DROP SEQUENCE video_chapters_id_seq;
ALTER TABLE video_chapters RENAME CONSTRAINT video_chapters_video_id_position_key
    TO video_chapters_video_id_chapter_order_key;

-- video_analytics: one row per viewing session
ALTER TABLE video_analytics RENAME COLUMN quality TO quality_selected;      -- the rendition watched most
ALTER TABLE video_analytics RENAME COLUMN buffering_events TO buffer_events;
ALTER TABLE video_analytics RENAME COLUMN seek_count TO seek_events;
ALTER TABLE video_analytics RENAME COLUMN quality_changes TO quality_switches;
ALTER TABLE video_analytics RENAME COLUMN started_at TO session_start;
ALTER TABLE video_analytics RENAME COLUMN ended_at TO session_end;
-- the player's bandwidth estimate, and the viewer's country (ISO 3166-1 alpha-2)
ALTER TABLE video_analytics ADD COLUMN bandwidth_kbps integer CHECK (bandwidth_kbps >= 0);
ALTER TABLE video_analytics ADD COLUMN country_code text CHECK (country_code ~ '^[A-Z]{2}$');
ALTER TABLE video_analytics DROP CONSTRAINT video_analytics_pkey;
ALTER TABLE video_analytics ALTER COLUMN id DROP DEFAULT;
ALTER TABLE video_analytics ALTER COLUMN id TYPE uuid USING gen_random_uuid();
ALTER TABLE video_analytics ALTER COLUMN id SET DEFAULT gen_random_uuid();
ALTER TABLE video_analytics ADD PRIMARY KEY (id);
DROP SEQUENCE video_analytics_id_seq;
CREATE INDEX idx_video_analytics_video ON video_analytics (video_id);
DROP INDEX video_analytics_started_idx;
CREATE INDEX idx_video_analytics_session ON video_analytics (session_start DESC);
ALTER INDEX video_analytics_video_started_idx RENAME TO video_analytics_video_session_start_idx;
