-- The initial schema: videos, their renditions, chapters, viewers' progress
-- and viewing sessions. Migrations are never edited once landed: a change is
-- a new numbered file.

CREATE TYPE video_upload_status AS ENUM (
    'uploading',   -- the source is being received
    'processing',  -- ingested; encoding and packaging under way
    'ready',       -- published to the origin or CDN
    'failed',      -- a step failed for good
    'deleted'      -- published objects removed
);

CREATE TYPE video_processing_status AS ENUM (
    'pending',
    'processing',
    'completed',
    'failed'
);

CREATE TABLE videos (
    id                  uuid PRIMARY KEY,
    slug                text NOT NULL UNIQUE
                        CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    title               text NOT NULL CHECK (length(title) <= 500),
    description         text NOT NULL DEFAULT '',
    tags                text[] NOT NULL DEFAULT '{}',
    category            text,
    duration_seconds    double precision CHECK (duration_seconds >= 0),
    thumbnail_url       text,
    original_filename   text,
    content_type        text,
    source_path         text,
    source_size         bigint CHECK (source_size >= 0),
    source_sha256       char(64) NOT NULL UNIQUE CHECK (source_sha256 ~ '^[0-9a-f]{64}$'),
    probe               jsonb,
    upload_status       video_upload_status NOT NULL DEFAULT 'uploading',
    is_published        boolean NOT NULL DEFAULT false,
    published_at        timestamptz,
    error               text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX videos_upload_status_idx ON videos (upload_status);
CREATE INDEX videos_published_idx ON videos (published_at DESC) WHERE is_published;
CREATE INDEX videos_category_idx ON videos (category);
CREATE INDEX videos_tags_idx ON videos USING gin (tags);
CREATE INDEX videos_created_at_idx ON videos (created_at DESC);

CREATE TABLE video_qualities (
    id                  bigserial PRIMARY KEY,
    video_id            uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    quality             text NOT NULL,              -- rung label: '360p', '720p', ...
    width               integer CHECK (width > 0),
    height              integer CHECK (height > 0),
    bitrate             integer CHECK (bitrate >= 0), -- bits per second, measured
    codecs              text,                         -- RFC 6381, 'avc1.64001f,mp4a.40.2'
    file_path           text,
    file_url            text,
    file_size           bigint CHECK (file_size >= 0),
    status              video_processing_status NOT NULL DEFAULT 'pending',
    error               text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (video_id, quality)
);

CREATE INDEX video_qualities_status_idx ON video_qualities (status);

CREATE TABLE video_chapters (
    id                  bigserial PRIMARY KEY,
    video_id            uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    title               text NOT NULL,
    start_seconds       double precision NOT NULL CHECK (start_seconds >= 0),
    end_seconds         double precision CHECK (end_seconds >= start_seconds),
    position            integer NOT NULL,
    UNIQUE (video_id, position)
);

CREATE INDEX video_chapters_video_start_idx ON video_chapters (video_id, start_seconds);

CREATE TABLE video_progress (
    user_id                 uuid NOT NULL,
    video_id                uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position_seconds        double precision NOT NULL DEFAULT 0 CHECK (position_seconds >= 0),
    completed_percentage    double precision NOT NULL DEFAULT 0
                            CHECK (completed_percentage BETWEEN 0 AND 100),
    completed               boolean NOT NULL DEFAULT false,
    completed_at            timestamptz,
    watch_count             integer NOT NULL DEFAULT 0 CHECK (watch_count >= 0),
    last_event_at           timestamptz,               -- event time of the last applied update
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);

CREATE INDEX video_progress_user_recent_idx ON video_progress (user_id, updated_at DESC);
CREATE INDEX video_progress_video_idx ON video_progress (video_id);

CREATE TABLE video_analytics (
    id                  bigserial PRIMARY KEY,
    video_id            uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    user_id             uuid,                        -- NULL for anonymous viewers
    session_id          text NOT NULL UNIQUE CHECK (length(session_id) BETWEEN 1 AND 128),
    watch_time_seconds  double precision NOT NULL DEFAULT 0 CHECK (watch_time_seconds >= 0),
    load_time_ms        integer CHECK (load_time_ms >= 0),
    buffering_events    integer NOT NULL DEFAULT 0 CHECK (buffering_events >= 0),
    buffering_time_ms   bigint NOT NULL DEFAULT 0 CHECK (buffering_time_ms >= 0),
    quality_changes     integer NOT NULL DEFAULT 0 CHECK (quality_changes >= 0),
    quality             text,                        -- the rung watched most
    device_type         text,
    browser             text,
    os                  text,
    user_agent          text,
    ip_address          inet,                        -- truncated (/24, /48) by default
    started_at          timestamptz NOT NULL DEFAULT now(),
    ended_at            timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX video_analytics_video_started_idx ON video_analytics (video_id, started_at);
CREATE INDEX video_analytics_user_idx ON video_analytics (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX video_analytics_started_idx ON video_analytics (started_at);
