-- Where a viewing session's media came from, for a player that fails over
-- between several origins or CDNs (VS_PUBLIC_BASE_URL names them in
-- order): the origin that served last (its scheme, host and port) and how
-- many times the player moved to another.
ALTER TABLE video_analytics ADD COLUMN origin text CHECK (length(origin) <= 128);
ALTER TABLE video_analytics ADD COLUMN failovers integer NOT NULL DEFAULT 0 CHECK (failovers >= 0);
