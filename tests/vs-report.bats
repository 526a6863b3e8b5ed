#!/usr/bin/env bats
# vs-report: every figure checked against a small set of sessions computed
# by hand, windows, formats (CSV read by Python's csv module, the HTML page
# rendered by Chromium), alerts and their exit status, and import.

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	# video A: 4 s (completion point 3.6 s); video B: 2 s
	vs-ingest "$(fixture lecture.mp4)" --slug video-a --title 'A <script>alert(1)</script> & "B"' >/dev/null
	vs-ingest "$(fixture other.mp4)" --slug video-b --title "=HYPERLINK(\"http://x\")" >/dev/null
	# published, for vs-cgi
	psql -X -q "$VS_DATABASE_URL" -c "UPDATE videos SET is_published = true, upload_status = 'ready' WHERE slug = 'video-b'"
	chrome='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'
	iphone='Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
	tablet='Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/115.0 Safari/537.36'
	U1=11111111-1111-4111-8111-111111111111
	U2=22222222-2222-4222-8222-222222222222
	cat >"$BATS_FILE_TMPDIR/sessions.ndjson" <<EOF
{"video":"video-a","session_id":"s1","user":"$U1","watch_time_seconds":4,"load_time_ms":500,"started":true,"max_position_seconds":4,"quality":"720p","user_agent":"$chrome","ip":"203.0.113.77","started_at":"2026-11-20T10:00:00Z"}
{"video":"video-a","session_id":"s2","user":"$U1","watch_time_seconds":2,"load_time_ms":1500,"started":true,"max_position_seconds":2,"buffering_events":2,"buffering_time_ms":1000,"seeks":1,"quality_changes":1,"quality_seconds":{"360p":1.5,"720p":0.5},"user_agent":"$iphone","started_at":"2026-11-20T11:00:00Z"}
{"video":"video-a","session_id":"s3","viewer_id":"anon-1","started":false,"errors":1,"last_error":"manifestLoadError","started_at":"2026-11-20T12:00:00Z"}
{"video":"video-a","session_id":"s4","viewer_id":"anon-2","started_at":"2026-11-20T13:00:00Z"}
{"video":"video-a","session_id":"s5","viewer_id":"anon-1","watch_time_seconds":1,"load_time_ms":3500,"max_position_seconds":1,"quality":"720p","started_at":"2026-11-20T14:00:00Z"}
{"video":"video-b","session_id":"s6","user":"$U2","watch_time_seconds":2,"load_time_ms":800,"started":true,"max_position_seconds":2,"quality":"360p","user_agent":"$tablet","started_at":"2026-11-22T09:30:00Z"}
EOF
	vs-report import <"$BATS_FILE_TMPDIR/sessions.ndjson" >"$BATS_FILE_TMPDIR/import.json"
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_bg
	own_cluster_destroy
}

report() { # [-N] ARGS → report.json; vs-report must exit N (default 0)
	local want=-0
	case ${1:-} in -[0-9]*) want=$1; shift ;; esac
	run "$want" --separate-stderr vs-report "$@"
	printf '%s\n' "$output" >report.json
}

@test "vs-report --help prints usage and exits 0" {
	run -0 --separate-stderr vs-report --help
	[[ $output == "usage: vs-report "* ]]
	run -0 --separate-stderr vs-report --version
}

@test "vs-report usage errors exit 2" {
	run -2 --separate-stderr vs-report
	run -2 --separate-stderr vs-report frob
	run -2 --separate-stderr vs-report video
	run -2 --separate-stderr vs-report summary extra
	run -2 --separate-stderr vs-report summary --format xml
	run -2 --separate-stderr vs-report summary --since yesterday
	[[ $stderr == *"--since"*"is not a time"* ]]
	run -2 --separate-stderr vs-report summary --since 2026-11-22 --until 2026-11-21
	run -2 --separate-stderr vs-report import --ip some
	run -2 --separate-stderr env -u VS_DATABASE_URL vs-report summary
	[[ $stderr == *"needs a database"* ]]
}

@test "vs-report exits 75 when the database cannot be reached" {
	run -75 --separate-stderr vs-report --database "postgresql:///x?host=$BATS_TEST_TMPDIR" summary
}

@test "vs-report import stores every session once" {
	[ "$(jqr "$BATS_FILE_TMPDIR/import.json" .import.imported)" = 6 ]
	[ "$(sql "SELECT count(*), count(DISTINCT session_id) FROM video_analytics")" = "6|6" ]
	# parsed from the User-Agent; the address kept to its /24
	[ "$(sql "SELECT device_type, browser, os, host(ip_address) FROM video_analytics WHERE session_id = 's1'")" = "desktop|Chrome|Linux|203.0.113.0" ]
	[ "$(sql "SELECT device_type, browser, os FROM video_analytics WHERE session_id = 's6'")" = "tablet|Chrome|Android" ]
	# the main rendition from quality_seconds when none is given
	[ "$(sql "SELECT quality_selected FROM video_analytics WHERE session_id = 's2'")" = 360p ]
	# a startup time means it started
	[ "$(sql "SELECT started FROM video_analytics WHERE session_id = 's5'")" = t ]
}

@test "vs-report summary: the engagement figures, by hand" {
	report summary
	[ "$status" -eq 0 ]
	[ "$(jq -c .engagement report.json)" = '{"views":6,"unique_viewers":4,"watch_time_seconds":9,"average_watch_time_seconds":1.5,"completion_rate":50,"average_percentage_watched":68.75}' ]
}

@test "vs-report summary: the quality-of-experience figures, by hand" {
	report summary
	[ "$status" -eq 0 ]
	[ "$(jq -c .qoe report.json)" = '{"startup_time_ms_p50":1150,"startup_time_ms_p95":3200,"video_start_success_rate":80,"exits_before_start":1,"rebuffer_percentage":11.11,"rebuffer_frequency_per_minute":13.333,"quality_switches_per_minute":6.667,"seeks_per_view":0.17,"error_rate":16.67}' ]
	[ "$(jq -c '[.startup_histogram[] | .views]' report.json)" = '[0,0,2,1,0,1,0,0]' ]
}

@test "vs-report summary: quality mix, devices, browsers, top videos" {
	report summary
	[ "$(jq -c '[.quality_mix[] | [.quality, .watch_time_seconds, .share]]' report.json)" = '[["720p",5,55.56],["360p",4,44.44]]' ]
	[ "$(jq -c '[.devices[] | [.device_type, .views, .share]]' report.json)" = '[["unknown",3,50],["desktop",1,16.67],["mobile",1,16.67],["tablet",1,16.67]]' ]
	[ "$(jq -c '.browsers[0]' report.json)" = '{"browser":"unknown","views":3,"share":50}' ]
	[ "$(jq -c '[.videos[] | [.slug, .views, .completion_rate, .average_percentage_watched, .video_start_success_rate]]' report.json)" = '[["video-a",5,33.33,58.33,75],["video-b",1,100,100,100]]' ]
}

@test "vs-report retention: the share still watching at each point, by hand" {
	report retention video-a
	[ "$status" -eq 0 ]
	[ "$(jqr report.json .views)" = 3 ]
	[ "$(jq -c '[.points[0, 25, 26, 50, 51, 100] | .viewers_percent]' report.json)" = '[100,100,66.67,66.67,33.33,33.33]' ]
	[ "$(jq -c '.points[50]' report.json)" = '{"percent":50,"position_seconds":2,"viewers_percent":66.67}' ]
	[ "$(jq '.points | length' report.json)" = 101 ]
}

@test "vs-report video: one video's figures and unique viewers" {
	report video video-a
	[ "$status" -eq 0 ]
	[ "$(jqr report.json .video.slug)" = video-a ]
	[ "$(jq -c '[.engagement.views, .engagement.unique_viewers, .engagement.completion_rate]' report.json)" = '[5,3,33.33]' ]
	report -1 video no-such-video
	[ "$status" -eq 1 ]
	[[ $stderr == *"no video 'no-such-video'"* ]]
	report -1 video "x'; DROP TABLE videos;--"
	[ "$status" -eq 1 ]
	[ "$(sql "SELECT count(*) FROM videos")" = 2 ]
}

@test "vs-report --since and --until choose sessions by their start" {
	report summary --since 2026-11-21
	[ "$(jq -c '[.engagement.views, .engagement.unique_viewers, .window.since]' report.json)" = '[1,1,"2026-11-21T00:00:00Z"]' ]
	report summary --since 2026-11-20T11:00:00Z --until 2026-11-20T13:00:00Z
	[ "$(jqr report.json .engagement.views)" = 2 ]
	# a day's window is shown hour by hour, empty hours too
	report qoe --since 2026-11-20 --until 2026-11-21
	[ "$(jq '.over_time | length' report.json)" = 24 ]
	[ "$(jq -c '.over_time[10] | [.start, .views, .error_rate]' report.json)" = '["2026-11-20T10:00:00Z",1,0]' ]
	[ "$(jq -c '.over_time[12] | [.start, .views, .error_rate]' report.json)" = '["2026-11-20T12:00:00Z",1,100]' ]
	[ "$(jq 'has("engagement")' report.json)" = false ]
}

@test "vs-report over no sessions: zeros and nulls, exit 0" {
	report summary --since 2030-01-01
	[ "$status" -eq 0 ]
	[ "$(jq -c .engagement report.json)" = '{"views":0,"unique_viewers":0,"watch_time_seconds":0,"average_watch_time_seconds":0,"completion_rate":null,"average_percentage_watched":null}' ]
	[ "$(jq -c '[.qoe.startup_time_ms_p50, .qoe.error_rate, (.videos | length)]' report.json)" = '[null,null,0]' ]
	report alerts --since 2030-01-01
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.critical, .warning]' report.json)" = '[0,0]' ]
	report summary --since 2030-01-01 --format html
	[ "$status" -eq 0 ]
	[[ $output == *"No viewing sessions"* ]]
}

@test "vs-report alerts exits 1 when a critical threshold is crossed" {
	report -1 alerts --min-views 3
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.alerts[] | [.severity, .metric, .scope]]' report.json)" = '[["critical","video_start_success_rate","all"],["critical","error_rate","all"],["warning","rebuffer_percentage","all"],["warning","completion_rate","video-a"]]' ]
	[ "$(jq -c '[.critical, .warning]' report.json)" = '[2,2]' ]
	# only video B's day: nothing crosses a threshold
	report alerts --since 2026-11-22
	[ "$status" -eq 0 ]
	[ "$(jq '.alerts | length' report.json)" = 0 ]
}

@test "vs-report alerts with warnings only exits 0" {
	# a window with the buffering session and the healthy ones around it
	report alerts --since 2026-11-20T10:00:00Z --until 2026-11-20T12:00:00Z --min-views 100
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.alerts[] | .metric]' report.json)" = '["rebuffer_percentage"]' ]
}

@test "vs-report --format csv is read by a CSV reader; formulas are defused" {
	report summary --format csv
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >report.csv
	run -0 python3 -c '
import csv, sys
rows = list(csv.reader(open("report.csv", newline="")))
assert rows[0] == ["section", "name", "value"], rows[0]
d = {(r[0], r[1]): r[2] for r in rows[1:]}
assert d[("engagement", "views")] == "6", d
assert d[("qoe", "video_start_success_rate")] == "80", d
assert d[("quality_mix", "720p")] == "55.56", d
assert d[("video:video-b", "title")] == "\x27=HYPERLINK(\"http://x\")", d[("video:video-b", "title")]
print("ok")'
	report retention video-a --format csv
	[ "${lines[0]}" = $'percent,position_seconds,viewers_percent\r' ]
	[ "${lines[51]}" = $'50,2.0,66.67\r' ]
	report -1 alerts --format csv
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = $'severity,metric,scope,value,threshold,message\r' ]
}

@test "vs-report --format html: one self-contained page that Chromium renders" {
	report summary --format html -o report.html
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -q '<svg' report.html
	grep -q 'Audience retention' report.html
	grep -q 'Startup time' report.html
	grep -q 'Rebuffering over time' report.html
	grep -q 'Quality mix' report.html
	# the hostile title is text, not markup; nothing is fetched from elsewhere
	grep -q 'A &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;B&quot;' report.html
	run -1 grep -q '<script' report.html
	run -1 grep -Eq '(src|href)=' report.html
	mkdir -p "$VS_TOP/var/screenshots"
	rm -f "$VS_TOP/var/screenshots/vs-report-summary.png"
	timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$BATS_TEST_TMPDIR/chromium" --window-size=1100,2600 \
		--screenshot="$VS_TOP/var/screenshots/vs-report-summary.png" "file://$PWD/report.html" 2>/dev/null
	[ "$(stat -c %s "$VS_TOP/var/screenshots/vs-report-summary.png")" -gt 20000 ]
}

@test "vs-report import reports a bad line with its number and skips it" {
	cat >bad.ndjson <<'EOF'
{"video":"video-b","session_id":"imp-1","watch_time_seconds":1,"started_at":"2026-11-23T10:00:00Z"}
not json
{"video":"video-b","session_id":"imp-2","watch_time_seconds":-5}
{"video":"no-such-video","session_id":"imp-3"}
{"video":"video-b","session_id":"s1"}
{"video":"video-b","session_id":"imp-4","load_time_ms":"fast"}
{"video":"video-b","session_id":"imp-5","user":"not-a-uuid"}
{"video":"video-b","session_id":"imp-6","started_at":"soon"}
{"video":"video-b","session_id":"imp-7","ip":"999.1.1.1"}
{"video":"video-b","session_id":"imp-8","quality_seconds":[1,2]}
{"video":"video-b","session_id":"","watch_time_seconds":1}
{"video":"video-b","session_id":"imp-9","last_error":"x\u0000y"}
{"video":"video-b","session_id":"imp-10","watch_time_seconds":1e300}
{"video":"video-b","session_id":"imp-11","watch_time_seconds":2}
EOF
	run -1 --separate-stderr vs-report import <bad.ndjson
	printf '%s\n' "$output" >out.ndjson
	[ "$(jq -c 'select(.line) | .line' out.ndjson | tr '\n' ' ')" = "2 3 4 5 6 7 8 9 10 11 12 13 " ]
	[ "$(jq -c 'select(.import) | .import' out.ndjson)" = '{"imported":2,"rejected":12}' ]
	[[ $stderr == *"stdin:3: 'watch_time_seconds' must be a number, at least 0"* ]]
	[[ $stderr == *"stdin:5: session 's1' belongs to another video or viewer"* ]]
	[ "$(sql "SELECT string_agg(session_id, ',' ORDER BY session_id) FROM video_analytics WHERE session_id LIKE 'imp-%'")" = "imp-1,imp-11" ]
	# s1 still belongs to video A, untouched
	[ "$(sql "SELECT v.slug, a.watch_time_seconds FROM video_analytics a JOIN videos v ON v.id = a.video_id WHERE session_id = 's1'")" = "video-a|4" ]
	sql "DELETE FROM video_analytics WHERE session_id LIKE 'imp-%'"
}

@test "viewers' addresses as --ip and VS_ANALYTICS_IP say: truncated by default, full, or none" {
	ip() { # TAG ENV... -- ARGS...: imports one session from 203.0.113.77 and one from
		# 2001:db8:abcd:12::1 with vs-report import ARGS under ENV, prints what was kept
		local tag=$1 env=() args=()
		shift
		while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
		[ $# -eq 0 ] || { shift; args=("$@"); }
		printf '%s\n' "{\"video\":\"video-b\",\"session_id\":\"ip-$tag-4\",\"ip\":\"203.0.113.77\"}" \
			"{\"video\":\"video-b\",\"session_id\":\"ip-$tag-6\",\"ip\":\"2001:db8:abcd:12::1\"}" >ip.ndjson
		env "${env[@]}" vs-report import "${args[@]}" <ip.ndjson >/dev/null
		sql "SELECT string_agg(coalesce(host(ip_address), 'none'), ' ' ORDER BY session_id) FROM video_analytics WHERE session_id LIKE 'ip-$tag-%'"
	}
	[ "$(ip a)" = "203.0.113.0 2001:db8:abcd::" ]
	[ "$(ip b -- --ip full)" = "203.0.113.77 2001:db8:abcd:12::1" ]
	[ "$(ip c -- --ip none)" = "none none" ]
	[ "$(ip d VS_ANALYTICS_IP=full)" = "203.0.113.77 2001:db8:abcd:12::1" ]
	[ "$(ip e VS_ANALYTICS_IP=none)" = "none none" ]
	# the flag wins over the environment
	[ "$(ip f VS_ANALYTICS_IP=full -- --ip truncate)" = "203.0.113.0 2001:db8:abcd::" ]
	# vs-cgi keeps a beacon's REMOTE_ADDR the same way
	beacon() { # SESSION ENV...
		local body="{\"session_id\":\"$1\",\"watch_time_seconds\":1}" s=$1
		shift
		run -0 --separate-stderr env "$@" REQUEST_METHOD=POST PATH_INFO=/videos/video-b/analytics CONTENT_LENGTH=${#body} \
			CONTENT_TYPE=application/json GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=198.51.100.23 vs-cgi <<<"$body"
		[[ ${lines[0]} == "Status: 204"* ]]
		sql "SELECT coalesce(host(ip_address), 'none') FROM video_analytics WHERE session_id = '$s'"
	}
	[ "$(beacon ip-cgi-1)" = 198.51.100.0 ]
	[ "$(beacon ip-cgi-2 VS_ANALYTICS_IP=full)" = 198.51.100.23 ]
	[ "$(beacon ip-cgi-3 VS_ANALYTICS_IP=none)" = none ]
	sql "DELETE FROM video_analytics WHERE session_id LIKE 'ip-%'"
}

@test "PostgreSQL gone in the middle of vs-report import: exit 75, and nothing of the import kept" {
	own_cluster
	url=$VS_DATABASE_URL
	views() { psql -X -At "$url" -c "SELECT count(*) FROM video_analytics WHERE session_id LIKE 'gone-%'"; }
	rolled=$(psql -X -At "$url" -c "SELECT sum(views) FROM analytics_video_hours")
	seq 1 15000 | awk '{ printf "{\"video\":\"video-b\",\"session_id\":\"gone-%d\",\"watch_time_seconds\":1,\"started_at\":\"2026-11-23T10:00:00Z\"}\n", $1 }' >gone.ndjson
	mkfifo feed
	bg import.err sh -c 'exec vs-report import <feed >import.out'
	imp=$BG_PID
	exec 7>feed
	# 12,000 lines: written once the import has read them (a pipe holds
	# 64 KiB), so a chunk of 10,000 has gone to the server
	head -n 12000 gone.ndjson >&7
	# until the first chunk is applied: the import's transaction has
	# written rows and waits for the next chunk
	written() { psql -X -At "$url" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vs-report'
		AND state = 'idle in transaction' AND backend_xid IS NOT NULL"; }
	for _ in $(seq 1800); do
		[ "$(written)" = 1 ] && break
		kill -0 "$imp" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(written)" = 1 ] || {
		cat import.err
		psql -X -At "$url" -c "SELECT application_name, state, backend_xid, query FROM pg_stat_activity"
		return 1
	}
	own_cluster_stop
	tail -n +12001 gone.ndjson >&7 2>/dev/null || :
	exec 7>&-
	st=0
	wait "$imp" || st=$?
	[ "$st" -eq 75 ] || { cat import.err; return 1; }
	[[ $(cat import.err) == *"vs-report: "* ]]
	own_cluster_start
	# all or nothing: nothing, and the rollups as they were
	[ "$(views)" = 0 ]
	[ "$(psql -X -At "$url" -c "SELECT sum(views) FROM analytics_video_hours")" = "$rolled" ]
	# the same import again, the server up: everything
	run -0 --separate-stderr vs-report import <gone.ndjson
	[ "$(views)" = 15000 ]
}

@test "vs-report import of a repeated session keeps its highest totals" {
	printf '%s\n' '{"video":"video-b","session_id":"rep-1","watch_time_seconds":5,"buffering_events":1,"load_time_ms":700}' \
		'{"video":"video-b","session_id":"rep-1","watch_time_seconds":3,"buffering_events":2,"load_time_ms":900}' >rep.ndjson
	run -0 --separate-stderr vs-report import --ip none <rep.ndjson
	[ "$(sql "SELECT count(*), max(watch_time_seconds), max(buffer_events), max(load_time_ms) FROM video_analytics WHERE session_id = 'rep-1'")" = "1|5|2|700" ]
	sql "DELETE FROM video_analytics WHERE session_id = 'rep-1'"
}

@test "vs-cgi stores a beacon's QoE fields through the same code" {
	body='{"session_id":"cgi-1","watch_time_seconds":3,"load_time_ms":900,"started":true,"max_position_seconds":2,"seeks":2,"errors":0,"viewer_id":"v-9","quality_seconds":{"720p":3}}'
	run -0 --separate-stderr env REQUEST_METHOD=POST PATH_INFO=/videos/video-b/analytics CONTENT_LENGTH=${#body} \
		CONTENT_TYPE=application/json GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=2001:db8:abcd:12::1 \
		HTTP_USER_AGENT='Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1' \
		vs-cgi <<<"$body"
	[[ ${lines[0]} == "Status: 204"* ]]
	[ "$(sql "SELECT seek_events, started, completed, watched_percent, quality_selected, device_type, os, host(ip_address) FROM video_analytics WHERE session_id = 'cgi-1'")" = "2|t|t|100|720p|tablet|iPadOS|2001:db8:abcd::" ]
	# a player that failed over says where it ended and how often it moved:
	# the last origin said, the most moves said
	for b in '{"session_id":"cgi-1","viewer_id":"v-9","failovers":2,"origin":"https://cdn-b.example.net"}' \
		'{"session_id":"cgi-1","viewer_id":"v-9","failovers":1}' '{"session_id":"cgi-1","viewer_id":"v-9"}'; do
		run -0 --separate-stderr env REQUEST_METHOD=POST PATH_INFO=/videos/video-b/analytics CONTENT_LENGTH=${#b} \
			CONTENT_TYPE=application/json GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<"$b"
		[[ ${lines[0]} == "Status: 204"* ]] || { echo "$b: $output $stderr"; return 1; }
	done
	[ "$(sql "SELECT origin, failovers FROM video_analytics WHERE session_id = 'cgi-1'")" = "https://cdn-b.example.net|2" ]
	for b in '{"session_id":"cgi-2","failovers":-1}' '{"session_id":"cgi-2","failovers":"x"}' \
		"{\"session_id\":\"cgi-2\",\"origin\":\"$(printf 'h%.0s' {1..300})\"}"; do
		run -0 --separate-stderr env REQUEST_METHOD=POST PATH_INFO=/videos/video-b/analytics CONTENT_LENGTH=${#b} \
			CONTENT_TYPE=application/json GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<"$b"
		[[ ${lines[0]} == "Status: 422"* ]] || { echo "$b: ${lines[0]}"; return 1; }
	done
	[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id = 'cgi-2'")" = 0 ]
	sql "DELETE FROM video_analytics WHERE session_id = 'cgi-1'"
}
