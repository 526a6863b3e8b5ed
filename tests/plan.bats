#!/usr/bin/env bats
# The platform plan's "Database Schema Design" (tests/plan-schema.txt) holds
# in the migrated database: its tables and columns by the plan's names, its
# enum types and its indexes; and migrating a database that has rows keeps
# every one of them under the new names (sql/006_plan_names.sql).

load helper

setup_file() {
	use_db
}

setup() {
	with_db
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	if [ -n "${MIG_DB:-}" ]; then
		psql_admin -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $MIG_DB WITH (FORCE)" >/dev/null
	fi
}

# plan_facts: the fact lines of tests/plan-schema.txt (no comments, no blank
# lines); fails when one has not exactly three TAB-separated fields.
plan_facts() {
	local file=$BATS_TEST_DIRNAME/plan-schema.txt bad
	bad=$(grep -v -e '^#' -e '^$' "$file" | awk -F'\t' 'NF != 3')
	if [ -n "$bad" ]; then
		printf 'plan-schema.txt: not TABLE<TAB>COLUMN<TAB>TYPE:\n%s\n' "$bad" >&2
		return 1
	fi
	grep -v -e '^#' -e '^$' "$file"
}

# compatible FAMILY DATA_TYPE UDT_NAME ENUMS: whether a column of that
# information_schema data_type and udt_name has the plan's type FAMILY;
# ENUMS lists the plan's enum types, one a line.
compatible() {
	case $1 in
	uuid | integer | bigint | boolean | inet) [ "$2" = "$1" ] ;;
	text) [ "$2" = text ] || [ "$2" = "character varying" ] ;;
	'text[]') [ "$2" = ARRAY ] && { [ "$3" = _text ] || [ "$3" = _varchar ]; } ;;
	numeric) [ "$2" = numeric ] || [ "$2" = "double precision" ] ;;
	timestamp) [ "$2" = "timestamp without time zone" ] || [ "$2" = "timestamp with time zone" ] ;;
	*) grep -qxF -- "$1" <<<"$4" && [ "$2" = USER-DEFINED ] && [ "$3" = "$1" ] ;;
	esac
}

@test "the database has every table and column of the plan, by its name and a compatible type" {
	local facts enums cols t c want dt udt got wrong='' n=0
	local -A have
	facts=$(plan_facts)
	enums=$(awk -F'\t' '$1 == "enum" { print $2 }' <<<"$facts")
	cols=$(sql "SELECT table_name, column_name, data_type, udt_name FROM information_schema.columns
		WHERE table_schema = current_schema()" | tr '|' '\t')
	while IFS=$'\t' read -r t c dt udt; do
		have[$t.$c]=$dt$'\t'$udt
	done <<<"$cols"
	while IFS=$'\t' read -r t c want; do
		case $t in enum | index) continue ;; esac
		n=$((n + 1))
		got=${have[$t.$c]-}
		if [ -z "$got" ]; then
			wrong+="  $t.$c: missing (the plan: $want)"$'\n'
			continue
		fi
		dt=${got%%$'\t'*}
		udt=${got#*$'\t'}
		if ! compatible "$want" "$dt" "$udt" "$enums"; then
			wrong+="  $t.$c: $dt ($udt), the plan: $want"$'\n'
		fi
	done <<<"$facts"
	if [ -n "$wrong" ]; then
		printf 'columns not as the plan has them:\n%s' "$wrong" >&2
	fi
	[ "$n" -gt 0 ]
	[ -z "$wrong" ]
}

@test "the plan's enum types have the plan's labels" {
	local facts kind name want got wrong='' n=0
	facts=$(plan_facts)
	while IFS=$'\t' read -r kind name want; do
		case $kind in enum) ;; *) continue ;; esac
		n=$((n + 1))
		got=$(sql "SELECT coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '(no such enum type)')
			FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
			WHERE t.typname = '$name' AND t.typnamespace = current_schema()::regnamespace")
		if [ "$got" != "$want" ]; then
			wrong+="  $name: $got; the plan: $want"$'\n'
		fi
	done <<<"$facts"
	if [ -n "$wrong" ]; then
		printf 'enum types not as the plan has them:\n%s' "$wrong" >&2
	fi
	[ "$n" -gt 0 ]
	[ -z "$wrong" ]
}

@test "the plan's indexes exist on the plan's columns" {
	local facts kind name want got wrong='' n=0
	facts=$(plan_facts)
	while IFS=$'\t' read -r kind name want; do
		case $kind in index) ;; *) continue ;; esac
		n=$((n + 1))
		# TABLE(COL[ DESC],...) of the index's key columns, in order
		got=$(sql "SELECT c.relname || '(' || string_agg(coalesce(a.attname, '(expression)')
				|| CASE WHEN k.opt & 1 = 1 THEN ' DESC' ELSE '' END, ',' ORDER BY k.ord) || ')'
			FROM pg_class i
			JOIN pg_index x ON x.indexrelid = i.oid
			JOIN pg_class c ON c.oid = x.indrelid
			CROSS JOIN LATERAL ROWS FROM (unnest(x.indkey::int2[]), unnest(x.indoption::int2[]))
				WITH ORDINALITY AS k(attnum, opt, ord)
			LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE i.relname = '$name' AND i.relnamespace = current_schema()::regnamespace
				AND k.ord <= x.indnkeyatts
			GROUP BY c.relname")
		if [ "$got" != "${want//, /,}" ]; then
			wrong+="  $name: ${got:-(no such index)}; the plan: $want"$'\n'
		fi
	done <<<"$facts"
	if [ -n "$wrong" ]; then
		printf 'indexes not as the plan has them:\n%s' "$wrong" >&2
	fi
	[ "$n" -gt 0 ]
	[ -z "$wrong" ]
}

# dump_before: the rows of every table at the schema before 006, one JSON
# object a row without the bigserial ids, in an order that does not depend
# on them.
dump_before() {
	echo "-- videos"
	sql "SELECT to_jsonb(t) FROM videos t ORDER BY slug"
	echo "-- video_qualities"
	sql "SELECT to_jsonb(t) - 'id' FROM video_qualities t ORDER BY video_id, quality"
	echo "-- video_chapters"
	sql "SELECT to_jsonb(t) - 'id' FROM video_chapters t ORDER BY video_id, position"
	echo "-- video_progress"
	sql "SELECT to_jsonb(t) FROM video_progress t ORDER BY user_id, video_id"
	echo "-- video_analytics"
	sql "SELECT to_jsonb(t) - 'id' FROM video_analytics t ORDER BY session_id"
	echo "-- video_keys"
	sql "SELECT to_jsonb(t) FROM video_keys t ORDER BY video_id"
	echo "-- video_jobs"
	sql "SELECT to_jsonb(t) FROM video_jobs t ORDER BY video_id"
}

# dump_after: the same rows after 006, read by the new names and shown by
# the old ones. A column the migration lost or changed, or one it added that
# is not named here, shows as a difference.
dump_after() {
	echo "-- videos"
	sql "SELECT to_jsonb(t) - ARRAY['file_size_bytes', 'created_by', 'is_public', 'duration_seconds',
			'duration_exact_seconds', 'fallback_url', 'fallback_quality']
		|| jsonb_build_object('source_size', t.file_size_bytes, 'duration_seconds', t.duration_exact_seconds)
		FROM videos t ORDER BY slug"
	echo "-- video_qualities"
	sql "SELECT to_jsonb(t) - ARRAY['id', 'quality_label', 'resolution_width', 'resolution_height',
			'file_size_bytes', 'processing_status', 'bitrate_kbps']
		|| jsonb_build_object('quality', t.quality_label, 'width', t.resolution_width,
			'height', t.resolution_height, 'file_size', t.file_size_bytes, 'status', t.processing_status)
		FROM video_qualities t ORDER BY video_id, quality_label"
	echo "-- video_chapters"
	sql "SELECT to_jsonb(t) - ARRAY['id', 'start_time_seconds', 'end_time_seconds', 'chapter_order',
			'description', 'created_at']
		|| jsonb_build_object('start_seconds', t.start_time_seconds, 'end_seconds', t.end_time_seconds,
			'position', t.chapter_order)
		FROM video_chapters t ORDER BY video_id, chapter_order"
	echo "-- video_progress"
	sql "SELECT to_jsonb(t) - ARRAY['id', 'current_time_seconds', 'is_completed', 'last_watched_at']
		|| jsonb_build_object('position_seconds', t.current_time_seconds, 'completed', t.is_completed,
			'last_event_at', t.last_watched_at)
		FROM video_progress t ORDER BY user_id, video_id"
	echo "-- video_analytics"
	sql "SELECT to_jsonb(t) - ARRAY['id', 'quality_selected', 'buffer_events', 'seek_events', 'quality_switches',
			'session_start', 'session_end', 'bandwidth_kbps', 'country_code', 'origin', 'failovers']
		|| jsonb_build_object('quality', t.quality_selected, 'buffering_events', t.buffer_events,
			'seek_count', t.seek_events, 'quality_changes', t.quality_switches,
			'started_at', t.session_start, 'ended_at', t.session_end)
		FROM video_analytics t ORDER BY session_id"
	echo "-- video_keys"
	sql "SELECT to_jsonb(t) FROM video_keys t ORDER BY video_id"
	echo "-- video_jobs"
	sql "SELECT to_jsonb(t) FROM video_jobs t ORDER BY video_id"
}

@test "migrating a database populated at the schema before 006 keeps every row" {
	local -a files
	local f t n id
	MIG_DB="t_$(basename "$BATS_TEST_FILENAME" .bats | tr -c 'a-zA-Z0-9\n' '_')_mig"
	psql_admin -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $MIG_DB WITH (FORCE)" \
		-c "CREATE DATABASE $MIG_DB" >/dev/null
	export VS_DATABASE_URL=${VS_TEST_PG_URL/\/\/\/vs\?/\/\/\/$MIG_DB?}

	# the schema of 005, recorded as libvs/migrate.c records it
	files=("$VS_TOP"/sql/00[1-5]_*.sql)
	[ "${#files[@]}" -eq 5 ]
	sql "CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
	for f in "${files[@]}"; do
		psql -X -q -1 -v ON_ERROR_STOP=1 "$VS_DATABASE_URL" -f "$f"
		sql "INSERT INTO schema_migrations (version) VALUES ('$(basename "$f" .sql)')"
	done
	run -0 --separate-stderr vs-db status
	[[ $output == *"pending  006_plan_names"* ]]

	# rows at that schema, every column given, with hostile text
	psql -X -q -v ON_ERROR_STOP=1 "$VS_DATABASE_URL" <<-'EOF'
		INSERT INTO videos (id, slug, title, description, tags, category, duration_seconds,
		    thumbnail_url, original_filename, content_type, source_path, source_size, source_sha256,
		    probe, upload_status, is_published, published_at, error, created_at, updated_at)
		VALUES
		('11111111-1111-4111-8111-111111111111', 'limits-and-continuity',
		 E'It''s "Limits"\nsecond line\twith a tab and a \\ backslash',
		 E'''); DROP TABLE videos; --\r\nÉtude ☃ \u00e9',
		 ARRAY['math', 'a,b', 'say "hi"', '{braces}', E'it''s', E'new\nline', ''],
		 E'Calc\'ulus', 1234.567, 'https://cdn.example/t/1.jpg?a=1&b=''2''',
		 E'Lecture 1 "final" (v2)\n.mp4', 'video/mp4', '/media/src/1.mp4', 987654321,
		 repeat('a', 64),
		 '{"format": {"duration": "1234.567", "tags": {"title": "It''s \"x\"\n"}}, "streams": [1, 2.5, null, true]}',
		 'ready', true, '2024-03-01 10:00:00.123456+00', NULL,
		 '2024-02-29 23:59:59.999999+00', '2024-03-01 10:00:00+00'),
		('22222222-2222-4222-8222-222222222222', 'second-video', 'Second', '', '{}', NULL, NULL,
		 NULL, NULL, NULL, NULL, NULL, repeat('b', 64), NULL,
		 'failed', false, NULL, E'encode failed: "x264"\nexit 1',
		 '2024-04-01 00:00:00+00', '2024-04-02 00:00:00+00');

		INSERT INTO video_qualities (video_id, quality, width, height, bitrate, codecs, file_path, file_url,
		    file_size, status, error, created_at, updated_at)
		VALUES
		('11111111-1111-4111-8111-111111111111', '720p', 1280, 720, 2499500, 'avc1.64001f,mp4a.40.2',
		 '/media/1/720p.m3u8', 'https://cdn.example/1/720p.m3u8', 123456789, 'completed', NULL,
		 '2024-03-01 09:00:00+00', '2024-03-01 09:30:00+00'),
		('11111111-1111-4111-8111-111111111111', '360p', 640, 360, 800000, 'avc1.42c01e',
		 '/media/1/360p.m3u8', E'https://cdn.example/1/360p.m3u8?x=''y''', 23456789, 'completed', NULL,
		 '2024-03-01 09:00:00+00', '2024-03-01 09:20:00+00'),
		('22222222-2222-4222-8222-222222222222', '360p', 640, 360, 1234, NULL,
		 NULL, NULL, NULL, 'failed', E'x264 said:\n"no"', '2024-04-01 00:00:00+00', '2024-04-01 00:01:00+00'),
		('22222222-2222-4222-8222-222222222222', '1080p', NULL, NULL, NULL, NULL,
		 NULL, NULL, NULL, 'pending', NULL, '2024-04-01 00:00:00+00', '2024-04-01 00:00:00+00');

		INSERT INTO video_chapters (video_id, title, start_seconds, end_seconds, position) VALUES
		('11111111-1111-4111-8111-111111111111', E'Intro: "what''s a limit"\n', 0, 61.25, 1),
		('11111111-1111-4111-8111-111111111111', 'Continuity', 61.25, 1234.567, 2),
		('22222222-2222-4222-8222-222222222222', 'Only', 0.5, NULL, 0);

		INSERT INTO video_progress (user_id, video_id, position_seconds, completed_percentage, completed,
		    completed_at, watch_count, last_event_at, created_at, updated_at, finished_last)
		VALUES
		('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '11111111-1111-4111-8111-111111111111', 1200.125, 97.25, true,
		 '2024-03-02 12:00:00+00', 3, '2024-03-02 12:00:00.5+00', '2024-03-01 11:00:00+00',
		 '2024-03-02 12:00:01+00', true),
		('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '11111111-1111-4111-8111-111111111111', 10.5, 0.85, false,
		 NULL, 1, NULL, '2024-03-03 00:00:00+00', '2024-03-03 00:00:00+00', false),
		('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '22222222-2222-4222-8222-222222222222', 0, 0, false,
		 NULL, 0, '2024-04-03 00:00:00+00', '2024-04-03 00:00:00+00', '2024-04-03 00:00:00+00', false);

		INSERT INTO video_analytics (started_at, video_id, watch_time_seconds, buffering_time_ms, watched_percent,
		    buffering_events, quality_changes, seek_count, error_count, started, completed, load_time_ms,
		    quality, device_type, browser, os, user_id, viewer_id, session_id, max_position_seconds,
		    last_error, quality_seconds, user_agent, ip_address, ended_at, created_at, updated_at)
		VALUES
		('2024-03-02 11:40:00.25+00', '11111111-1111-4111-8111-111111111111', 1180.5, 4200, 97.25,
		 3, 2, 5, 1, true, true, 850, '720p', 'desktop', 'Firefox', 'Linux',
		 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', NULL, E'sess-\'1\'', 1200.125,
		 E'MEDIA_ERR "3"\nretry', '{"720p": 1100.5, "360p": 80}',
		 E'Mozilla/5.0 (X11; "Linux") \\ \'q\'', '203.0.113.0/24',
		 '2024-03-02 12:00:00+00', '2024-03-02 11:40:01+00', '2024-03-02 12:00:01+00'),
		('2024-03-03 00:00:00+00', '11111111-1111-4111-8111-111111111111', 10.5, 0, 0.85,
		 0, 0, 0, 0, true, false, 300, '360p', 'mobile', 'Safari', 'iOS',
		 NULL, E'viewer "anon"', 'sess-2', 10.5, NULL, '{"360p": 10.5}', NULL, '2001:db8:1::/48',
		 NULL, '2024-03-03 00:00:00+00', '2024-03-03 00:00:10+00'),
		('2024-04-03 00:00:00+00', '22222222-2222-4222-8222-222222222222', 0, 0, 0,
		 0, 0, 0, 0, false, false, NULL, NULL, NULL, NULL, NULL,
		 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', NULL, 'sess-3', NULL, NULL, NULL, NULL, NULL,
		 NULL, '2024-04-03 00:00:00+00', '2024-04-03 00:00:00+00');

		INSERT INTO video_keys (video_id, method, key, iv, created_at, updated_at) VALUES
		('11111111-1111-4111-8111-111111111111', 'AES-128', '\x00112233445566778899aabbccddeeff',
		 '\x27000000000000000000000000000a0d', '2024-03-01 09:00:00+00', '2024-03-01 09:00:00+00');

		INSERT INTO video_jobs (video_id, state, attempts, last_error, lease_owner, lease_expires_at,
		    next_attempt_at, claimed_at, finished_at, created_at, updated_at)
		VALUES
		('11111111-1111-4111-8111-111111111111', 'done', 1, NULL, NULL, NULL,
		 '2024-03-01 08:00:00+00', '2024-03-01 08:00:01+00', '2024-03-01 10:00:00+00',
		 '2024-03-01 08:00:00+00', '2024-03-01 10:00:00+00'),
		('22222222-2222-4222-8222-222222222222', 'pending', 2, E'vs-encode: "x264"\nexit 1',
		 E'host\'1:42', '2024-04-02 00:10:00+00', '2024-04-02 00:05:00+00', '2024-04-02 00:00:00+00',
		 NULL, '2024-04-01 00:00:00+00', '2024-04-02 00:00:00+00');
	EOF
	for t in videos:2 video_qualities:4 video_chapters:3 video_progress:3 video_analytics:3 video_keys:1 video_jobs:2; do
		[ "$(sql "SELECT count(*) FROM ${t%%:*}")" = "${t#*:}" ]
	done
	dump_before >before.txt

	run -0 --separate-stderr vs-db migrate
	[ "${lines[0]}" = "applied 006_plan_names" ]
	[[ $output != *"applied 00"[1-5]* ]]

	dump_after >after.txt
	diff -u before.txt after.txt
	# 010's columns, new to every row: no origin known, no failover
	[ "$(sql "SELECT count(*) FROM video_analytics WHERE origin IS NULL AND failovers = 0")" = 3 ]
	# 011's: no progressive MP4 known for a package made before it
	[ "$(sql "SELECT count(*) FROM videos WHERE fallback_url IS NULL AND fallback_quality IS NULL")" = 2 ]
	# the dump saw every row (it is no comparison of two empty files)
	[ "$(grep -vc '^-- ' after.txt)" -eq 18 ]

	# every converted id a distinct uuid, and new rows get one by default
	for t in video_qualities:4 video_chapters:3 video_progress:3 video_analytics:3; do
		n=${t#*:}
		t=${t%%:*}
		[ "$(sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '$t'::regclass AND attname = 'id'")" = uuid ]
		[ "$(sql "SELECT count(*) || ' ' || count(id) || ' ' || count(DISTINCT id) FROM $t")" = "$n $n $n" ]
	done
	id=$(sql "INSERT INTO video_qualities (video_id, quality_label) VALUES ('22222222-2222-4222-8222-222222222222', '240p') RETURNING id")
	[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	id=$(sql "INSERT INTO video_chapters (video_id, title, start_time_seconds, chapter_order) VALUES ('22222222-2222-4222-8222-222222222222', 'New', 1, 1) RETURNING id")
	[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	id=$(sql "INSERT INTO video_progress (user_id, video_id) VALUES ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '22222222-2222-4222-8222-222222222222') RETURNING id")
	[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	id=$(sql "INSERT INTO video_analytics (video_id, session_id) VALUES ('22222222-2222-4222-8222-222222222222', 'sess-new') RETURNING id")
	[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	for t in video_qualities:5 video_chapters:4 video_progress:4 video_analytics:4; do
		n=${t#*:}
		t=${t%%:*}
		[ "$(sql "SELECT count(*) || ' ' || count(DISTINCT id) FROM $t")" = "$n $n" ]
	done
	# a viewer still has one progress row per video
	run -1 sql "INSERT INTO video_progress (user_id, video_id) VALUES ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '22222222-2222-4222-8222-222222222222')"
	[[ $output == *"video_progress_user_id_video_id_key"* ]]

	# the plan's new columns, on the rows that were there
	[ "$(sql "SELECT string_agg(slug || ':' || coalesce(created_by::text, 'NULL') || ':' || is_public, ',' ORDER BY slug) FROM videos")" = "limits-and-continuity:NULL:true,second-video:NULL:true" ]
	[ "$(sql "SELECT string_agg(quality_label || '=' || coalesce(bitrate_kbps::text, 'NULL'), ',' ORDER BY video_id, quality_label) FROM video_qualities WHERE quality_label <> '240p'")" = "360p=800,720p=2500,1080p=NULL,360p=1" ]
	# the plan's whole seconds follow the exact duration
	[ "$(sql "SELECT count(duration_seconds), count(*) FILTER (WHERE duration_seconds IS DISTINCT FROM floor(duration_exact_seconds + 0.5)::int) FROM videos")" = "1|0" ]
	[ "$(sql "SELECT count(*) FROM video_chapters WHERE description IS NULL AND created_at IS NOT NULL")" = 4 ]
	[ "$(sql "SELECT count(*) FROM video_analytics WHERE bandwidth_kbps IS NULL AND country_code IS NULL")" = 4 ]

	run -0 --separate-stderr vs-db status
	[[ $output != *pending* ]]
}
