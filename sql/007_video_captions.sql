-- Captions and subtitles: one WebVTT track per video, language and kind,
-- checked when it came in (vs-ingest --captions, a source's own subtitle
-- streams, vs-video captions add) and kept under the media root; vs-package
-- makes the HLS SUBTITLES group and the DASH text adaptation sets from them.
CREATE TABLE video_captions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    video_id        uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    language        varchar(35) NOT NULL CHECK (language ~ '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$'),
    label           varchar(100) NOT NULL CHECK (label <> ''),
    kind            varchar(16) NOT NULL DEFAULT 'captions' CHECK (kind IN ('captions', 'subtitles')),
    is_default      boolean NOT NULL DEFAULT false,
    path            text NOT NULL,                   -- the checked WebVTT file
    checksum        char(64) NOT NULL,               -- its SHA-256, hex
    cue_count       integer NOT NULL CHECK (cue_count >= 0),
    source          varchar(16) NOT NULL DEFAULT 'file' CHECK (source IN ('file', 'stream')),
    url             text,                            -- the whole WebVTT file where vs-publish put it
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (video_id, language, kind)
);

-- a video has at most one track its players select by default
CREATE UNIQUE INDEX video_captions_one_default_idx ON video_captions (video_id) WHERE is_default;
