-- The progressive MP4 of a published package (vs-package's progressive.mp4,
-- the lowest rung whole) for players with neither MSE nor HLS: its URL on
-- the origin and the rung it is, or NULL for a package without one (an
-- encrypted package, --no-fallback, or one packaged before it existed).
ALTER TABLE videos ADD COLUMN fallback_url text;
ALTER TABLE videos ADD COLUMN fallback_quality text CHECK (length(fallback_quality) <= 64);
