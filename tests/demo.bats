#!/usr/bin/env bats
# make demo's own run (scripts/demo, what `make demo` runs once it has
# built): a lecture with a voice and captions, what it prints, and a Ctrl-C
# that leaves no process behind but PostgreSQL. A small picture
# (VS_DEMO_SIZE) and a directory of the test's own (VS_DEMO_VAR).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	# short, and reachable by the 'postgres' user
	DEMO_VAR=$(mktemp -d /tmp/vs-demo-test.XXXXXX)
	chmod 0755 "$DEMO_VAR"
	PORT=$(free_port)
}

teardown() {
	stop_bg
	VS_PG_DIR=$DEMO_VAR/pg "$VS_TOP/scripts/pg" destroy >/dev/null 2>&1 || :
	rm -rf "$DEMO_VAR"
}

# the processes, PostgreSQL's aside, whose command line or environment
# names the demo's directory: what the demo started
demo_processes() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" != "$$" ] || continue
		if tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -q "$DEMO_VAR" ||
			tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -q "$DEMO_VAR"; then
			case $(cat "$p/comm" 2>/dev/null) in postgres | pg_ctl | '') continue ;; esac
			echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")"
		fi
	done
}

@test "make demo: a spoken lecture with captions and chapters, the plan's progress fields, nothing left after Ctrl-C" {
	bg demo.err env VS_DEMO_VAR="$DEMO_VAR" VS_DEMO_PORT="$PORT" VS_DEMO_SIZE=640x360 \
		"$VS_TOP/tests/sigint-default" sh -c 'exec "$0" >demo.out' "$VS_TOP/scripts/demo"
	demo=$BG_PID
	for _ in $(seq 600); do
		grep -q "serving http://127.0.0.1:$PORT/ until Ctrl-C" demo.err && break
		kill -0 "$demo" 2>/dev/null || { cat demo.err; return 1; }
		sleep 0.5
	done
	grep -q "serving http://127.0.0.1:$PORT/ until Ctrl-C" demo.err
	wait_port "$PORT"
	cat demo.out

	# the lecture: five slides as chapters, fourteen spoken lines as cues
	lecture=$DEMO_VAR/demo/lecture.mp4
	[ "$(grep -c -- '-->' "$DEMO_VAR/demo/lecture.en.vtt")" = 14 ]
	[ "$(ffprobe -v error -show_entries chapter_tags=title -of csv=p=0 "$lecture" | wc -l)" = 5 ]
	mean=$(ffmpeg -hide_banner -nostdin -i "$lecture" -map 0:a -af volumedetect -f null - 2>&1 |
		sed -n 's/.*mean_volume: \(-*[0-9.]*\) dB/\1/p')
	awk -v m="$mean" 'BEGIN { exit !(m > -40) }' # a voice, not silence
	ingested=$(grep '^{"id"' demo.out)
	[ "$(jq -c '[(.chapters | length), .captions[0].language, .captions[0].default, .captions[0].cues]' <<<"$ingested")" = '[5,"en",true,14]' ]
	id=$(jq -r .id <<<"$ingested")

	# what the viewing left, by the plan's names, as the database has it
	progress=$(grep '^{"video_id"' demo.out)
	[ "$(jq -c 'keys_unsorted' <<<"$progress")" = \
		'["video_id","current_time","completed_percentage","is_completed","watch_count","last_watched_at"]' ]
	[ "$(jq -r '[.[] | select(. == null)] | length' <<<"$progress")" = 0 ]
	[ "$(jq -r .video_id <<<"$progress")" = "$id" ]
	url=$(VS_PG_DIR=$DEMO_VAR/pg "$VS_TOP/scripts/pg" url)
	[ "$(psql -X -At "$url" -c "SELECT round(current_time_seconds::numeric, 3), watch_count FROM video_progress
		WHERE video_id = '$id' AND user_id = '00000000-0000-4000-8000-00000000d3e0'")" = \
		"$(jq -r '"\(.current_time)|\(.watch_count)"' <<<"$progress")" ]
	awk -v t="$(jq -r .current_time <<<"$progress")" 'BEGIN { exit !(t > 1) }'
	grep -q '^views 1, ' demo.out
	grep -q "^watched up to [0-9]* s with hls.js" demo.out
	# it ends by saying what to open and what to try
	grep -q "http://127.0.0.1:$PORT/?v=$id#token=" demo.err
	grep -q '^Try: c turns the captions on and off' demo.err

	# Ctrl-C: the terminal's SIGINT to the demo's process group; the demo
	# (scripts/serve by now) ends lighttpd and its FastCGI vs-cgi processes,
	# PostgreSQL goes on
	[ -n "$(demo_processes)" ]
	kill -INT -- "-$demo"
	gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat")" = Z ]; }
	for _ in $(seq 150); do gone "$demo" && break; sleep 0.1; done
	gone "$demo"
	wait "$demo" || :
	left=$(demo_processes)
	[ -z "$left" ] || { echo "left after Ctrl-C: $left"; return 1; }
	VS_PG_DIR=$DEMO_VAR/pg "$VS_TOP/scripts/pg" status
}
