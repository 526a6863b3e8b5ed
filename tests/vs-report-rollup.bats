#!/usr/bin/env bats
# vs-report from the rollups (sql/009_analytics_rollups.sql) against a scan
# of the sessions themselves (--exact), on random sessions written by
# inserts, updates, deletes and COPY; repeated sessions; the rebuild.

load helper

# Random sessions over three days from 2026-11-10 (setseed: the same each
# run), with unknown devices, sessions that never started, errors.
random_sessions() { # SEED COUNT PREFIX
	sql "SELECT setseed($1);
INSERT INTO video_analytics (video_id, user_id, viewer_id, session_id, watch_time_seconds, load_time_ms,
    buffer_events, buffering_time_ms, seek_events, quality_switches, error_count, max_position_seconds,
    watched_percent, completed, started, quality_selected, device_type, browser, os, session_start)
SELECT v.id, CASE WHEN random() < 0.5 THEN ('00000000-0000-4000-8000-' || lpad((i % 700)::text, 12, '0'))::uuid END,
       'viewer-' || (i % 1500), '$3' || i, w, CASE WHEN ok THEN (100 + random() ^ 3 * 9000)::int END,
       b, b * 300, (random() * 3)::int, (random() * 2)::int, CASE WHEN ok THEN 0 ELSE 1 END,
       least(w, v.duration_exact_seconds), 100 * least(w, v.duration_exact_seconds) / v.duration_exact_seconds,
       w >= v.duration_exact_seconds * 0.9, ok,
       CASE WHEN random() < 0.2 THEN NULL ELSE (ARRAY['360p','720p','1080p'])[1 + (i % 3)] END,
       CASE WHEN random() < 0.1 THEN NULL ELSE (ARRAY['desktop','mobile','tablet'])[1 + (i % 3)] END,
       (ARRAY['Chrome','Safari','Firefox'])[1 + (i % 3)], (ARRAY['Windows','iOS','Linux'])[1 + (i % 3)],
       timestamptz '2026-11-10 00:00:00+00' + make_interval(secs => random() * 3 * 86400)
FROM (SELECT i, random() < 0.95 AS ok, (random() ^ 2 * 700)::float8 AS w, (random() * 3)::int AS b,
             1 + (i % 3) AS vn
      FROM generate_series(1, $2) i) s
JOIN (SELECT id, duration_exact_seconds, row_number() OVER (ORDER BY slug) AS vn FROM videos) v USING (vn)" >/dev/null
}

setup_file() {
	use_db
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	sql "INSERT INTO videos (id, slug, title, duration_exact_seconds, source_sha256, upload_status, is_published)
	     SELECT gen_random_uuid(), 'rollup-' || i, 'Rollup ' || i, 120 * i, encode(sha256(i::text::bytea), 'hex'),
	            'ready', true FROM generate_series(1, 3) i" >/dev/null
	random_sessions 0.25 2000 a-
	random_sessions 0.5 2000 b-
	# updates change sessions' figures, as repeated beacons do
	sql "UPDATE video_analytics SET watch_time_seconds = watch_time_seconds + 5, load_time_ms = load_time_ms + 40,
	         device_type = 'tv', started = NOT started
	     WHERE session_id LIKE 'a-%' AND session_id::text ~ '[05]\$'" >/dev/null
	# COPY, as a bulk load by hand would
	printf '%s\n' "$(sql "SELECT video_id, 'c-' || session_id, watch_time_seconds, coalesce(load_time_ms::text, '\\N'),
	                     started, session_start + interval '1 day'
	                 FROM video_analytics WHERE session_id LIKE 'a-1%'" | tr '|' '\t')" >"$BATS_FILE_TMPDIR/copy.tsv"
	psql -X -q -v ON_ERROR_STOP=1 "$VS_DATABASE_URL" \
		-c "\\copy video_analytics (video_id, session_id, watch_time_seconds, load_time_ms, started, session_start) FROM '$BATS_FILE_TMPDIR/copy.tsv'"
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	cd "$BATS_TEST_TMPDIR"
}

# same KIND ARGS...: the report from the rollups (estimates too) and from
# the sessions agree, and so do their exit statuses: exactly but for
# unique viewers (within 5%; not at all with SKIP_VIEWERS=1) and startup
# p50 and p95 (within 1%)
same() {
	local est exact rollup_status
	run --separate-stderr vs-report --exact-up-to 0 "$@"
	rollup_status=$status
	printf '%s\n' "$output" >rollup.json
	run --separate-stderr vs-report --exact "$@"
	[ "$status" -eq "$rollup_status" ]
	[ "$status" -le 1 ]
	printf '%s\n' "$output" >exact.json
	strip='del(.generated_at) | del(.engagement.unique_viewers) | del(.qoe.startup_time_ms_p50) | del(.qoe.startup_time_ms_p95)'
	diff <(jq -S "$strip" rollup.json) <(jq -S "$strip" exact.json)
	[ "$(jq '.views // ([.devices[].views] | add)' exact.json)" -gt 0 ]
	for f in .engagement.unique_viewers .qoe.startup_time_ms_p50 .qoe.startup_time_ms_p95; do
		est=$(jq "$f" rollup.json)
		exact=$(jq "$f" exact.json)
		if [ "$exact" = null ]; then
			[ "$est" = null ]
			continue
		fi
		tol=0.01
		if [ "$f" = .engagement.unique_viewers ]; then
			[ "${SKIP_VIEWERS:-}" != 1 ] || continue
			tol=0.05
		fi
		echo "$f: $est against $exact" >&2
		python3 -c "import sys; e, x, t = map(float, sys.argv[1:]); sys.exit(abs(e - x) > t * x)" "$est" "$exact" "$tol"
	done
}

@test "the rollups and a scan of the sessions agree on random sessions: every video, all time" {
	same summary
	[ "$(jq '.engagement.views' exact.json)" -gt 3000 ]
	same qoe
}

@test "the rollups and a scan agree over windows of whole hours, parts of hours and within one hour" {
	same summary --since 2026-11-10T06:00:00Z --until 2026-11-11T18:00:00Z
	same summary --since 2026-11-10T06:17:31Z --until 2026-11-11T18:42:05Z
	same summary --since 2026-11-10T23:10:00Z --until 2026-11-11T01:05:00Z
	same summary --since 2026-11-11T12:05:00Z --until 2026-11-11T12:55:00Z
	same summary --since 2026-11-11T12:05:00Z
	same summary --until 2026-11-11T12:05:00Z
	same alerts --since 2026-11-10T06:17:31Z --min-views 1
}

@test "by default a window of few sessions is exact in every figure, estimates included" {
	run -0 --separate-stderr vs-report summary --since 2026-11-10T06:17:31Z --until 2026-11-10T18:42:05Z
	jq -S 'del(.generated_at)' <<<"$output" >default.json
	run -0 --separate-stderr vs-report summary --exact --since 2026-11-10T06:17:31Z --until 2026-11-10T18:42:05Z
	diff default.json <(jq -S 'del(.generated_at)' <<<"$output")
}

@test "a repeated session moves the rollups by its difference; a deleted one takes itself away" {
	id=$(sql "SELECT id FROM videos WHERE slug = 'rollup-1'")
	hour=2026-11-20T10:00:00Z
	figures() { sql "SELECT views, started, watch_seconds FROM analytics_video_hours WHERE video_id = '$id' AND hour = '$hour'"; }
	[ -z "$(figures)" ]
	echo '{"video":"rollup-1","session_id":"again","watch_time_seconds":10,"load_time_ms":700,"started":true,"started_at":"2026-11-20T10:10:00Z"}' >one.ndjson
	run -0 --separate-stderr vs-report import <one.ndjson
	[ "$(figures)" = "1|1|10" ]
	echo '{"video":"rollup-1","session_id":"again","watch_time_seconds":25,"load_time_ms":700,"started":true,"started_at":"2026-11-20T10:10:00Z"}' >one.ndjson
	run -0 --separate-stderr vs-report import <one.ndjson
	[ "$(figures)" = "1|1|25" ]
	run -0 --separate-stderr vs-report import <one.ndjson
	[ "$(figures)" = "1|1|25" ]
	[ "$(sql "SELECT views FROM analytics_audience_hours WHERE hour = '$hour' AND dimension = 'all'")" = 1 ]
	[ "$(sql "SELECT sum(views) FROM analytics_startup_hours WHERE hour = '$hour'")" = 1 ]
	# moved to another hour, the session takes its figures along
	sql "UPDATE video_analytics SET session_start = session_start + interval '1 hour' WHERE session_id = 'again'" >/dev/null
	[ "$(figures)" = "0|0|0" ]
	hour=2026-11-20T11:00:00Z
	[ "$(figures)" = "1|1|25" ]
	sql "DELETE FROM video_analytics WHERE session_id = 'again'" >/dev/null
	[ "$(figures)" = "0|0|0" ]
	[ "$(sql "SELECT coalesce(sum(views), 0) FROM analytics_startup_hours WHERE hour = '$hour'")" = 0 ]
	# deleted sessions and their figures: gone (their viewers stay in the
	# sketches until a rebuild: unique viewers only grow till then)
	sql "DELETE FROM video_analytics WHERE session_id LIKE 'b-%' AND session_id ~ '7\$'" >/dev/null
	SKIP_VIEWERS=1 same summary
	SKIP_VIEWERS=1 same summary --since 2026-11-10T06:17:31Z --until 2026-11-11T18:42:05Z
	run -0 --separate-stderr vs-report rollup --rebuild
	same summary
}

@test "vs-report rollup says how the rollups stand; --rebuild makes them again from the sessions" {
	run -0 --separate-stderr vs-report rollup
	sessions=$(jq '.rollup.sessions' <<<"$output")
	[ "$sessions" -gt 3000 ]
	[ "$(jq '.rollup.rolled_up' <<<"$output")" = "$sessions" ]
	[ "$(jq '.rollup.rebuilt' <<<"$output")" = false ]
	[ "$(jq -r '.rollup.first_hour' <<<"$output")" = 2026-11-10T00:00:00Z ]
	# rollups changed by hand, then rebuilt
	sql "UPDATE analytics_audience_hours SET views = views + 7 WHERE dimension = 'all';
	     UPDATE analytics_video_hours SET watch_seconds = 0;
	     DELETE FROM analytics_startup_hours WHERE bin % 2 = 0" >/dev/null
	run -0 --separate-stderr vs-report rollup
	[ "$(jq '.rollup.rolled_up' <<<"$output")" -gt "$sessions" ]
	run -0 --separate-stderr vs-report rollup --rebuild
	[ "$(jq '.rollup.rebuilt' <<<"$output")" = true ]
	[ "$(jq '.rollup.rolled_up' <<<"$output")" = "$sessions" ]
	same summary
	run -2 --separate-stderr vs-report rollup extra
}
