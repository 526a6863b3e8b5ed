#!/usr/bin/env bats
# vs-progress: the progress rules, through the CLI and psql.

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	# a 4 s video, and a long one registered by hand (600 s)
	VS_DATABASE_URL=$VS_TEST_DB_URL vs-ingest "$(fixture lecture.mp4)" --slug short-video >/dev/null
	VS_DATABASE_URL=$VS_TEST_DB_URL psql -X -q "$VS_TEST_DB_URL" -c \
		"INSERT INTO videos (id, slug, title, source_sha256, duration_exact_seconds) VALUES ('aaaaaaaa-0000-5000-8000-000000000001', 'long-video', 'Long', repeat('b', 64), 600)"
}

setup() {
	with_db
	cd "$BATS_TEST_TMPDIR"
	U=$(printf '%08x-1111-4111-8111-111111111111' "$BATS_TEST_NUMBER")
}

teardown() {
	own_cluster_destroy
	return 0
}

import_() { # [-N] FILE → out.json and $stderr; it must exit N (default 0)
	local want=-0
	case ${1:-} in -[0-9]*) want=$1; shift ;; esac
	run "$want" --separate-stderr vs-progress import <"$1"
	echo "$output" >out.json
}

imported() { tail -1 out.json | jq -c .import; } # the import's summary

set_() { # [-N] POSITION AT → out.json; it must exit N (default 0)
	local want=-0
	case ${1:-} in -[0-9]*) want=$1; shift ;; esac
	run "$want" --separate-stderr vs-progress set --user "$U" --video long-video --position "$1" --at "$2"
	echo "$output" >out.json
}

state() { sql "SELECT round(current_time_seconds::numeric, 1), round(completed_percentage::numeric, 1), is_completed, watch_count FROM video_progress WHERE user_id = '$U'"; }

@test "vs-progress --help prints usage and exits 0" {
	run -0 --separate-stderr vs-progress --help
	[[ $output == "usage: vs-progress "* ]]
}

@test "vs-progress needs a database and a command, exit 2" {
	run -2 --separate-stderr env -u VS_DATABASE_URL vs-progress get --user "$U"
	[[ $stderr == *"needs a database"* ]]
	run -2 --separate-stderr vs-progress
	run -2 --separate-stderr vs-progress frob
	run -2 --separate-stderr vs-progress set --user "$U" --video long-video
	run -2 --separate-stderr vs-progress set --user "$U" --video long-video --position abc
	run -2 --separate-stderr vs-progress set --user "$U" --video long-video --position 1 --at yesterday
}

@test "vs-progress set records the position and the furthest point" {
	set_ 120 1000
	[ "$status" -eq 0 ]
	[ "$(jqr out.json .current_time)" = "120" ]
	[ "$(jqr out.json .completed_percentage)" = "20" ]
	[ "$(jqr out.json .is_completed)" = "false" ]
	set_ 60 1010
	[ "$(state)" = "60.0|20.0|f|1" ]
}

@test "vs-progress ignores late and duplicate events: last write wins by event time" {
	set_ 300 2000
	set_ 400 2000   # the same instant again: not later, ignored
	set_ 100 1500   # a second device, older: ignored, though it comes last
	[ "$status" -eq 0 ]
	[ "$(state)" = "300.0|50.0|f|1" ]
	[ "$(sql "SELECT extract(epoch FROM last_watched_at)::int FROM video_progress WHERE user_id = '$U'")" = 2000 ]
	# the answer to the late event is the row as it stands
	[ "$(jqr out.json .current_time)" = 300 ]
	[ "$(jqr out.json .last_watched_at)" = "$(date -u -d @2000 +%Y-%m-%dT%H:%M:%S.000Z)" ]
}

@test "vs-progress completes at 90% or in the last 30 s, stays completed, resets the resume point" {
	set_ 539 1000
	[ "$(jqr out.json .is_completed)" = "false" ]
	set_ 571 1010   # within the last 30 s (and over 90%)
	[ "$(jqr out.json .is_completed)" = "true" ]
	[ "$(jqr out.json .current_time)" = "0" ]
	set_ 10 1020    # watching again: a new session, still completed
	[ "$(state)" = "10.0|95.2|t|2" ]
}

@test "vs-progress starts a new session after 30 minutes idle" {
	set_ 10 1000
	set_ 20 1100
	set_ 30 $((1100 + 1801))
	[ "$(jqr out.json .watch_count)" = "2" ]
}

@test "vs-progress clamps positions to the duration and refuses negative ones" {
	set_ 9999 1000
	[ "$(jqr out.json .completed_percentage)" = "100" ]
	run -1 --separate-stderr vs-progress set --user "$U" --video long-video --position -1
	[[ $stderr == *"at least 0"* ]]
	run -1 --separate-stderr vs-progress set --user "$U" --video long-video --position nan
	run -1 --separate-stderr vs-progress set --user not-a-uuid --video long-video --position 1
	[[ $stderr == *"UUID"* ]]
	run -1 --separate-stderr vs-progress set --user "$U" --video "x'; DROP TABLE videos; --" --position 1
	[[ $stderr == *"no video"* ]]
	[ "$(sql "SELECT count(*) > 0 FROM videos")" = "t" ]
}

@test "vs-progress uses the video's own duration, or --duration" {
	run -0 --separate-stderr vs-progress set --user "$U" --video short-video --position 2 --at 1000
	echo "$output" >out.json
	[ "$(jqr out.json .completed_percentage)" = "50" ]
	run -0 --separate-stderr vs-progress set --user "$U" --video short-video --position 2 --duration 8 --at 1001
	echo "$output" >out.json
	[ "$(jqr out.json .completed_percentage)" = "50" ]
}

@test "vs-progress get lists a user's progress" {
	set_ 60 1000
	run -0 --separate-stderr vs-progress get --user "$U"
	[ "$(echo "$output" | jq -r .video_id)" = "aaaaaaaa-0000-5000-8000-000000000001" ]
	run -0 --separate-stderr vs-progress get --user "$U" --video long-video
	[ "$(echo "$output" | wc -l)" -eq 1 ]
}

@test "vs-progress import applies events in batches and reports bad lines" {
	{
		for i in $(seq 1 1200); do
			printf '{"user":"%s","video":"long-video","position":%d,"at":%d}\n' "$U" $((i % 600)) $((1000 + i))
		done
		echo 'not json'
		printf '{"user":"%s","video":"long-video","position":-5}\n' "$U"
		printf '{"user":"%s","video":"long-video","position":"x"}\n' "$U"
	} >events.ndjson
	import_ -1 events.ndjson
	[ "$status" -eq 1 ]
	[ "$(imported)" = '{"imported":1200,"rejected":3}' ]
	[ "$(sed -n 1p out.json | jq -r .line)" = "1201" ]
	[[ $stderr == *"stdin:1202: position must be"* ]]
	# two passes through the video: three sessions (the last pass restarts at 0)
	[ "$(state)" = "0.0|99.8|t|3" ]
}

@test "two devices updating one user's progress concurrently keep the newest" {
	# device 1 sends its newest event (at 5000) first, then forty older ones;
	# device 2 forty events at once, all older than 5000: whatever the order
	# they reach the database in, the row is device 1's first event
	pids=()
	for d in 1 2; do
		(
			[ "$d" = 2 ] || vs-progress set --user "$U" --video long-video --position 77 --at 5000 >/dev/null
			for i in $(seq 1 40); do
				vs-progress set --user "$U" --video long-video --position $((d * 100 + i)) --at $((1000 + i * 2 + d)) >/dev/null
			done
		) 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	[ "$(sql "SELECT round(current_time_seconds::numeric), extract(epoch FROM last_watched_at)::int FROM video_progress WHERE user_id = '$U'")" = "77|5000" ]
}

@test "vs-progress export writes every row" {
	set_ 60 1000
	run -0 --separate-stderr vs-progress export
	[ "$(echo "$output" | wc -l)" -eq "$(sql "SELECT count(*) FROM video_progress WHERE last_watched_at IS NOT NULL")" ]
}

@test "vs-progress exits 75 when the database is down" {
	run -75 --separate-stderr env VS_DATABASE_URL="postgresql:///x?host=$BATS_TEST_TMPDIR" vs-progress get --user "$U"
}

@test "PostgreSQL stopped in the middle of an import: exit 75, the rows consistent, a re-run completes" {
	own_cluster
	url=$VS_DATABASE_URL
	# five viewers, 600 events each, interleaved; never past 90 %: the last event decides
	for i in $(seq 1 600); do
		for u in 1 2 3 4 5; do
			printf '{"user_id":"0000000%d-2222-4222-8222-222222222222","video_id":"long-video","current_time":%d,"last_watched_at":%d}\n' \
				"$u" $(((i * 7 + u) % 500)) $((2000 + i))
		done
	done >events.ndjson
	half=$(($(wc -l <events.ndjson) / 2))
	mkfifo feed
	vs-progress import <feed >import.out 2>import.err 3>&- &
	imp=$!
	exec 7>feed
	head -n "$half" events.ndjson >&7
	# until a batch has landed, then the database goes away mid-import
	landed() { psql -X -At "$url" -c "SELECT count(*) FROM video_progress WHERE user_id::text LIKE '%-2222-4222-8222-222222222222'"; }
	for _ in $(seq 300); do
		[ "$(landed)" -gt 0 ] && break
		sleep 0.05
	done
	[ "$(landed)" -gt 0 ] # a batch landed before the stop
	own_cluster_stop
	# (vs-progress may stop reading once the database is gone: a broken pipe here)
	tail -n +"$((half + 1))" events.ndjson >&7 2>/dev/null || :
	exec 7>&-
	st=0
	wait "$imp" || st=$?
	[ "$st" -eq 75 ]
	own_cluster_start
	# what landed is whole: every row is the one its last event left
	run -0 psql -X -At "$url" -c "SELECT count(*) FROM video_progress p WHERE user_id::text LIKE '%-2222-4222-8222-222222222222'
		AND (p.last_watched_at IS NULL OR p.current_time_seconds <> ((extract(epoch FROM p.last_watched_at)::int - 2000) * 7
		+ substr(p.user_id::text, 8, 1)::int) % 500)"
	[ "$output" = 0 ]
	# the same events again: every viewer ends at their last event
	run -0 --separate-stderr vs-progress import <events.ndjson
	[ "$(tail -1 <<<"$output" | jq -r .import.rejected)" = 0 ]
	for u in 1 2 3 4 5; do
		[ "$(psql -X -At "$url" -c "SELECT round(current_time_seconds), extract(epoch FROM last_watched_at)::int FROM video_progress WHERE user_id = '0000000$u-2222-4222-8222-222222222222'")" = "$(((600 * 7 + u) % 500))|2600" ]
	done
}

# The rows of the oracle's viewers, as progress-oracle prints them.
oracle_rows() {
	sql "SELECT p.user_id, v.slug, to_char(current_time_seconds, 'FM999990.000'),
		to_char(completed_percentage, 'FM990.00'), is_completed, watch_count,
		to_char(extract(epoch FROM last_watched_at), 'FM9999999990.000')
		FROM video_progress p JOIN videos v ON v.id = p.video_id
		WHERE user_id::text LIKE '%-0000-4000-8000-000000000000' ORDER BY 1, 2"
}

@test "random events, imported set-based, agree with the rules applied one at a time" {
	oracle=${VS_UNIT_DIR:-$VS_TOP/build/default/tests}/progress-oracle
	[ -x "$oracle" ] || make -C "$VS_TOP" -s "${oracle#$VS_TOP/}"
	for seed in 1 2 3; do
		sql "DELETE FROM video_progress WHERE user_id::text LIKE '%-0000-4000-8000-000000000000'"
		"$oracle" generate 4000 "$seed" >events.ndjson
		"$oracle" apply <events.ndjson >expected
		# in three imports (rows there before, chunks of several events a
		# row), and a few events one at a time in between
		head -n 1500 events.ndjson >part1
		sed -n 1501,1510p events.ndjson >part2
		tail -n +1511 events.ndjson >part3
		run -0 --separate-stderr vs-progress import <part1
		[ "$(jq -c .import <<<"$output")" = '{"imported":1500,"rejected":0}' ]
		while read -r ev; do
			run -0 --separate-stderr vs-progress set --user "$(jq -r .user <<<"$ev")" --video "$(jq -r .video <<<"$ev")" \
				--position "$(jq -r .position <<<"$ev")" --duration "$(jq -r .duration <<<"$ev")" --at "$(jq -r .at <<<"$ev")"
		done <part2
		run -0 --separate-stderr vs-progress import <part3
		oracle_rows >got
		diff expected got
	done
	# the data is not trivial: rows completed and not, several sessions
	[ "$(cut -d'|' -f5 expected | sort -u | tr -d '\n')" = "ft" ]
	[ "$(cut -d'|' -f6 expected | sort -n | tail -1)" -gt 3 ]
}

@test "completion: a short video is not complete at once; the last 30 s complete one over a minute" {
	run -0 --separate-stderr vs-progress set --user "$U" --video long-video --position 5 --duration 20 --at 1000
	[ "$(jq -r .is_completed <<<"$output")" = false ]
	run -0 --separate-stderr vs-progress set --user "$U" --video long-video --position 17.99 --duration 20 --at 1001
	[ "$(jq -r .is_completed <<<"$output")" = false ]
	run -0 --separate-stderr vs-progress set --user "$U" --video short-video --position 31 --duration 60.1 --at 1000
	[ "$(jq -r .is_completed <<<"$output")" = true ]
	[ "$(jq -r .completed_at <<<"$output")" = "1970-01-01T00:16:40.000Z" ]
}

@test "vs-progress import: hostile ids and values are reported by line, nothing else changes" {
	{
		printf '{"user":"%s","video":"x%s; DROP TABLE videos; --","position":1,"at":1000}\n' "$U" "'"
		printf '{"user":"%s","video":"tab\\there\\\\back\\nline","position":1,"at":1000}\n' "$U"
		printf '{"user":"%s","video":"aaaaaaaa-0000-5000-8000-00000000000f","position":1,"at":1000}\n' "$U"
		printf '{"user":"--help","video":"long-video","position":1,"at":1000}\n'
		printf '{"user":"%s","video":"long-video","position":1,"at":1e300}\n' "$U"
		printf '{"user":"%s","video":"long-video","position":1e300,"at":1001}\n' "$U"
		printf '{"user":"%s","video":"long-video","position":1,"at":"yesterday"}\n' "$U"
		printf '{"user":"%s","video":"long-video","position":1,"duration":"x","at":1000}\n' "$U"
		printf '\n{"user":"%s","video":"long-video","position":60,"at":1002}\n' "$U"
		printf '{"user":"%s","video":"long-video","error":{"tool":"vs-x","message":"earlier"}}\n' "$U"
	} >events.ndjson
	import_ -1 events.ndjson
	[ "$status" -eq 1 ]
	[ "$(imported)" = '{"imported":2,"rejected":7}' ]
	[ "$(head -n -1 out.json | jq -r .line | tr '\n' ' ')" = "1 2 3 4 5 7 8 " ]
	[ "$(sed -n 1p out.json | jq -r .error.code)" = not_found ]
	[ "$(sed -n 2p out.json | jq -r .error.message)" = "no video 'tab	here\\back
line'" ]
	[[ $stderr == *"stdin:4: user must be a UUID"* ]]
	[[ $stderr == *"stdin:5: 'last_watched_at' (or 'at') is not a time"* ]]
	[ "$(sql "SELECT count(*) FROM videos")" -ge 2 ]
	# a huge position is the end of the video (line 6), then 60 s (line 10)
	[ "$(state)" = "60.0|100.0|t|2" ]
}

@test "vs-progress import: a slow producer's events land as they come, not when the input ends" {
	mkfifo feed
	vs-progress import <feed >import.out 2>import.err 3>&- &
	imp=$!
	exec 7>feed
	printf '{"user":"%s","video":"long-video","position":42,"at":1000}\n' "$U" >&7
	for _ in $(seq 100); do
		[ "$(state)" = "42.0|7.0|f|1" ] && break
		sleep 0.05
	done
	[ "$(state)" = "42.0|7.0|f|1" ]
	printf '{"user":"%s","video":"long-video","position":43,"at":1001}\n' "$U" >&7
	exec 7>&-
	wait "$imp"
	[ "$(state)" = "43.0|7.2|f|1" ]
	[ "$(jq -c .import import.out)" = '{"imported":2,"rejected":0}' ]
}

@test "two imports of the same viewers' events at once: no update is lost" {
	# 2000 viewers with a row each; one import brings older events, the
	# other newer ones, both at once: each viewer ends at the newest
	for u in $(seq 1 2000); do
		printf '{"user":"%08x-3333-4333-8333-333333333333","video":"long-video","position":1,"at":1000}\n' "$u"
	done >first
	run -0 --separate-stderr vs-progress import <first
	for at in 2000 2001 2002; do
		for u in $(seq 1 2000); do
			printf '{"user":"%08x-3333-4333-8333-333333333333","video":"long-video","position":%d,"at":%d}\n' "$u" $((at - 1990)) "$at"
		done
	done >older
	sed -e 's/"at":200/"at":300/' -e 's/"position":1\([012]\)/"position":2\1/' older >newer
	vs-progress import <older >older.out 2>&1 3>&- &
	a=$!
	vs-progress import <newer >newer.out 2>&1 3>&- &
	b=$!
	wait "$a"
	wait "$b"
	[ "$(sql "SELECT count(*), min(extract(epoch FROM last_watched_at))::int, max(extract(epoch FROM last_watched_at))::int,
		min(current_time_seconds), max(current_time_seconds)
		FROM video_progress WHERE user_id::text LIKE '%-3333-4333-8333-333333333333'")" = "2000|3002|3002|22|22" ]
}
