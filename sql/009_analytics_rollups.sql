-- Rollups of the viewing sessions, kept by the transaction that writes the
-- sessions (a beacon, an import, a psql COPY alike: triggers on
-- video_analytics), so that a report over every video reads a few rows an
-- hour, never the sessions themselves (vs-report --exact still does):
--
--   analytics_audience_hours  an hour's figures, in all and by device type,
--                             browser, operating system and rendition
--   analytics_video_hours     an hour's figures of a video
--   analytics_video_days      a day's retention buckets of a video
--   analytics_startup_hours   an hour's startup times, as a histogram
--   analytics_viewer_hours    an hour's viewers, as a HyperLogLog sketch
--
-- A statement's sessions are folded in at once (transition tables): a new
-- session adds, a repeated beacon adds its difference (the new row less the
-- old one), a deletion subtracts. What one session counts towards is
-- analytics_contrib(), for the triggers, the rebuild and the reports alike.
-- Hours and days are UTC, as started_hour and started_day.

-- Startup-time bins: 5 ms wide below 1 s, 25 ms to 10 s, 250 ms to 60 s,
-- 5 s after (the last, from 300 s on, open), so that p50 and p95 read
-- from them are within half a bin and every edge of vs-report's histogram
-- (250 ms, 500 ms, 1, 2, 3, 5 and 10 s) is an edge of theirs. Bin b holds
-- [analytics_startup_bin_floor(b), analytics_startup_bin_floor(b + 1)).
CREATE FUNCTION analytics_startup_bin(ms integer) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ms < 1000 THEN greatest(ms, 0) / 5
                WHEN ms < 10000 THEN 200 + (ms - 1000) / 25
                WHEN ms < 60000 THEN 560 + (ms - 10000) / 250
                ELSE 760 + least((ms - 60000) / 5000, 48) END::smallint
$$;

CREATE FUNCTION analytics_startup_bin_floor(bin integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN bin < 200 THEN bin * 5
                WHEN bin < 560 THEN 1000 + (bin - 200) * 25
                WHEN bin < 760 THEN 10000 + (bin - 560) * 250.0
                ELSE 60000 + (bin - 760) * 5000.0 END
$$;

-- Unique viewers: HyperLogLog (Flajolet et al., 2007) over viewer_key, a
-- 64-bit hash: its low 11 bits choose one of 2048 registers, which keeps
-- the highest rank seen (the position of the lowest 1 bit in the other
-- 53, from 1; 54 when they are all 0). Standard error 1.04/sqrt(2048),
-- 2.3%; libvs/rollup estimates from the merged registers.
CREATE FUNCTION analytics_viewer_register(viewer_key bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (viewer_key & 2047)::integer $$;

CREATE FUNCTION analytics_viewer_rank(viewer_key bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(position('1' IN reverse((viewer_key >> 11)::bit(53)::text)), 0), 54)
$$;

-- What one session counts towards (a set-returning SQL function of one
-- row, so that the planner inlines it).
CREATE FUNCTION analytics_contrib(a video_analytics)
RETURNS TABLE (hour timestamptz, day timestamptz, video_id uuid, views integer, started integer,
               completed integer, watched_percent float8, start_failures integer, errored integer,
               watch_seconds float8, buffering_ms float8, buffer_events integer, quality_switches integer,
               seek_events integer, bucket smallint, startup_bin smallint, device text, browser text,
               os text, quality text, viewer_register integer, viewer_rank integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT a.started_hour, a.started_day, a.video_id, 1, a.started::integer,
           (a.started AND a.completed)::integer,               -- completion, of started views
           CASE WHEN a.started THEN a.watched_percent ELSE 0 END,
           (NOT a.started AND a.error_count > 0)::integer,     -- failed before the first frame
           (a.error_count > 0)::integer, a.watch_time_seconds, a.buffering_time_ms::float8,
           a.buffer_events, a.quality_switches, a.seek_events,
           CASE WHEN a.started THEN a.watched_bucket END,
           CASE WHEN a.started AND a.load_time_ms IS NOT NULL THEN analytics_startup_bin(a.load_time_ms) END,
           coalesce(a.device_type, ''), coalesce(a.browser, ''), coalesce(a.os, ''),
           coalesce(a.quality_selected, ''),                  -- '' is unknown, or no rendition
           analytics_viewer_register(a.viewer_key), analytics_viewer_rank(a.viewer_key)
$$;

-- The figures that add up, in every table of figures
CREATE TABLE analytics_audience_hours (
    hour                timestamptz NOT NULL,
    dimension           text NOT NULL CHECK (dimension IN ('all', 'device', 'browser', 'os', 'quality')),
    key                 text NOT NULL,                 -- '' for 'all', and for unknown
    views               bigint NOT NULL,
    started             bigint NOT NULL,
    start_failures      bigint NOT NULL,
    errored             bigint NOT NULL,
    watch_seconds       float8 NOT NULL,
    buffering_ms        float8 NOT NULL,
    buffer_events       bigint NOT NULL,
    quality_switches    bigint NOT NULL,
    seek_events         bigint NOT NULL,
    PRIMARY KEY (hour, dimension, key)
);

CREATE TABLE analytics_video_hours (
    video_id            uuid NOT NULL,                 -- no foreign key: a deleted video's
                                                       -- sessions subtract themselves
    hour                timestamptz NOT NULL,
    views               bigint NOT NULL,
    started             bigint NOT NULL,
    completed           bigint NOT NULL,
    watched_percent     float8 NOT NULL,               -- the sum, over started views
    start_failures      bigint NOT NULL,
    errored             bigint NOT NULL,
    watch_seconds       float8 NOT NULL,
    buffering_ms        float8 NOT NULL,
    PRIMARY KEY (video_id, hour)
);
CREATE INDEX analytics_video_hours_hour_idx ON analytics_video_hours (hour);

CREATE TABLE analytics_video_days (
    video_id            uuid NOT NULL,
    day                 timestamptz NOT NULL,
    retention           bigint[] NOT NULL,             -- started views by watched_bucket, 0 to 100
    PRIMARY KEY (video_id, day)
);

CREATE TABLE analytics_startup_hours (
    hour                timestamptz NOT NULL,
    bin                 smallint NOT NULL,
    views               bigint NOT NULL,
    PRIMARY KEY (hour, bin)
);

CREATE TABLE analytics_viewer_hours (
    hour                timestamptz PRIMARY KEY,
    registers           bytea NOT NULL CHECK (length(registers) = 2048)
);

-- Raises the registers of analytics_viewer_hours: (hours[i], regs[i]) to
-- at least ranks[i], the elements sorted by hour. A sketch only grows: a
-- session deleted stays counted until the rollups are rebuilt.
CREATE FUNCTION analytics_viewers_add(hours timestamptz[], regs integer[], ranks integer[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(array_length(hours, 1), 0);
    i integer := 1;
    h timestamptz;
    r bytea;
BEGIN
    WHILE i <= n LOOP
        h := hours[i];
        INSERT INTO analytics_viewer_hours VALUES (h, decode(repeat('00', 2048), 'hex')) ON CONFLICT DO NOTHING;
        SELECT registers INTO r FROM analytics_viewer_hours WHERE hour = h FOR UPDATE;
        WHILE i <= n AND hours[i] = h LOOP
            IF get_byte(r, regs[i]) < ranks[i] THEN
                r := set_byte(r, regs[i], ranks[i]);
            END IF;
            i := i + 1;
        END LOOP;
        UPDATE analytics_viewer_hours SET registers = r WHERE hour = h;
    END LOOP;
END $$;

-- The statements that fold src into the rollups: src is a query of rows
-- (sign, a), a the session (video_analytics), sign 1 to add it or -1 to
-- take it away. Rows are written in key order, so that writers at once
-- take their row locks in one order.
CREATE FUNCTION analytics_rollup_sql(src text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT format('WITH c AS (SELECT s.sign, x.* FROM (%s) s CROSS JOIN LATERAL analytics_contrib(s.a) x) ', src) || q
    FROM (VALUES
        ($$INSERT INTO analytics_audience_hours AS r
          SELECT c.hour, d.dimension, d.key, sum(c.sign * c.views), sum(c.sign * c.started),
                 sum(c.sign * c.start_failures), sum(c.sign * c.errored), sum(c.sign * c.watch_seconds),
                 sum(c.sign * c.buffering_ms), sum(c.sign * c.buffer_events), sum(c.sign * c.quality_switches),
                 sum(c.sign * c.seek_events)
          FROM c CROSS JOIN LATERAL (VALUES ('all', ''), ('device', c.device), ('browser', c.browser),
                                            ('os', c.os), ('quality', c.quality)) d (dimension, key)
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
          ON CONFLICT (hour, dimension, key) DO UPDATE SET views = r.views + EXCLUDED.views,
              started = r.started + EXCLUDED.started, start_failures = r.start_failures + EXCLUDED.start_failures,
              errored = r.errored + EXCLUDED.errored, watch_seconds = r.watch_seconds + EXCLUDED.watch_seconds,
              buffering_ms = r.buffering_ms + EXCLUDED.buffering_ms,
              buffer_events = r.buffer_events + EXCLUDED.buffer_events,
              quality_switches = r.quality_switches + EXCLUDED.quality_switches,
              seek_events = r.seek_events + EXCLUDED.seek_events$$),
        ($$INSERT INTO analytics_video_hours AS r
          SELECT c.video_id, c.hour, sum(c.sign * c.views), sum(c.sign * c.started), sum(c.sign * c.completed),
                 sum(c.sign * c.watched_percent), sum(c.sign * c.start_failures), sum(c.sign * c.errored),
                 sum(c.sign * c.watch_seconds), sum(c.sign * c.buffering_ms)
          FROM c GROUP BY 1, 2 ORDER BY 1, 2
          ON CONFLICT (video_id, hour) DO UPDATE SET views = r.views + EXCLUDED.views,
              started = r.started + EXCLUDED.started, completed = r.completed + EXCLUDED.completed,
              watched_percent = r.watched_percent + EXCLUDED.watched_percent,
              start_failures = r.start_failures + EXCLUDED.start_failures, errored = r.errored + EXCLUDED.errored,
              watch_seconds = r.watch_seconds + EXCLUDED.watch_seconds,
              buffering_ms = r.buffering_ms + EXCLUDED.buffering_ms$$),
        ($$, b AS (SELECT c.video_id, c.day, c.bucket, sum(c.sign) AS n FROM c WHERE c.bucket IS NOT NULL
                   GROUP BY 1, 2, 3 HAVING sum(c.sign) <> 0)
          INSERT INTO analytics_video_days AS r
          SELECT k.video_id, k.day, array_agg(coalesce(b.n, 0) ORDER BY i)
          FROM (SELECT DISTINCT video_id, day FROM b) k CROSS JOIN generate_series(0, 100) i
          LEFT JOIN b ON b.video_id = k.video_id AND b.day = k.day AND b.bucket = i
          GROUP BY 1, 2 ORDER BY 1, 2
          ON CONFLICT (video_id, day) DO UPDATE SET retention =
              (SELECT array_agg(x + y ORDER BY i) FROM unnest(r.retention, EXCLUDED.retention)
               WITH ORDINALITY u (x, y, i))$$),
        ($$INSERT INTO analytics_startup_hours AS r
          SELECT c.hour, c.startup_bin, sum(c.sign) FROM c WHERE c.startup_bin IS NOT NULL
          GROUP BY 1, 2 HAVING sum(c.sign) <> 0 ORDER BY 1, 2
          ON CONFLICT (hour, bin) DO UPDATE SET views = r.views + EXCLUDED.views$$),
        ($$SELECT analytics_viewers_add(array_agg(hour ORDER BY hour, reg), array_agg(reg ORDER BY hour, reg),
                                        array_agg(rank ORDER BY hour, reg))
          FROM (SELECT c.hour, c.viewer_register AS reg, max(c.viewer_rank) AS rank FROM c WHERE c.sign > 0
                GROUP BY 1, 2) v$$)
    ) AS t (q)
$fn$;

CREATE FUNCTION analytics_rollup_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    src text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, ROW(n.*)::video_analytics AS a FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, ROW(o.*)::video_analytics AS a FROM old_rows o'
        ELSE 'SELECT 1 AS sign, ROW(n.*)::video_analytics AS a FROM new_rows n'
             ' UNION ALL SELECT -1, ROW(o.*)::video_analytics FROM old_rows o' END;
    q text;
BEGIN
    FOR q IN SELECT analytics_rollup_sql(src) LOOP
        EXECUTE q;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_rollup_insert AFTER INSERT ON video_analytics
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_rollup_trigger();
CREATE TRIGGER analytics_rollup_update AFTER UPDATE ON video_analytics
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_rollup_trigger();
CREATE TRIGGER analytics_rollup_delete AFTER DELETE ON video_analytics
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_rollup_trigger();

-- Made again from the sessions (vs-report rollup --rebuild): after a
-- change of these rules, or to shrink the viewer sketches after
-- deletions. Locks video_analytics against writers meanwhile.
CREATE FUNCTION analytics_rollup_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    q text;
BEGIN
    LOCK TABLE video_analytics IN SHARE MODE;
    TRUNCATE analytics_audience_hours, analytics_video_hours, analytics_video_days, analytics_startup_hours,
             analytics_viewer_hours;
    FOR q IN SELECT analytics_rollup_sql('SELECT 1 AS sign, a FROM video_analytics a') LOOP
        EXECUTE q;
    END LOOP;
END $$;

CREATE FUNCTION analytics_rollup_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE analytics_audience_hours, analytics_video_hours, analytics_video_days, analytics_startup_hours,
             analytics_viewer_hours;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_rollup_truncate AFTER TRUNCATE ON video_analytics
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_rollup_truncate();

-- The sessions there are already
SELECT analytics_rollup_rebuild();
