-- Content keys of encrypted packages (vs-package --encrypt aes-128). Kept
-- here and beside the media, never in the published package; vs-cgi hands a
-- key out only with a valid signed token for its video.
CREATE TABLE video_keys (
    video_id    uuid PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    method      text NOT NULL CHECK (method = 'AES-128'),
    key         bytea NOT NULL CHECK (length(key) = 16),
    iv          bytea NOT NULL CHECK (length(iv) = 16),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
