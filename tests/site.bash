# The site the browser tests play: a lesson ingested, encoded, packaged and
# published to a local origin, scripts/serve serving the reference player,
# vs-cgi and the origin, and tests/shaper.js in front of it (a link whose
# rate and round trip a test may set; unlimited otherwise). Every URL a
# browser sees goes through the shaper. And the checks that the browser
# test files share, each a scenario of tests/e2e.js judged.
#
#   load helper
#   load site
#   setup_file()    { start_site; }
#   teardown_file() { stop_site; }
#   setup()         { site_viewer; }

# The lesson: 60 s at 854x480 with four rungs, long enough for a network
# that drops mid-playback, and rungs on both sides of the data saver's cap.
SITE_LADDER=144p,240p,360p,480p

start_site() {
	use_db
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	# lighttpd's FastCGI processes run as root here, but the origin must be
	# reachable whoever serves it
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_FILE_TMPDIR" 2>/dev/null || true
	E2E_PORT=$(free_port)
	E2E_ROOT="$BATS_FILE_TMPDIR/www"
	E2E_RUN=$(mktemp -d /tmp/vs-e2e-run.XXXXXX)
	export E2E_PORT E2E_ROOT E2E_RUN
	node "$VS_TOP/tests/shaper.js" --to "127.0.0.1:$E2E_PORT" >"$E2E_RUN/shaper.out" 2>"$E2E_RUN/shaper.err" 3>&- &
	SHAPER_PID=$!
	export SHAPER_PID
	for _ in $(seq 100); do
		[ -s "$E2E_RUN/shaper.out" ] && break
		sleep 0.1
	done
	read -r _ E2E_SHAPED E2E_CONTROL_PORT <"$E2E_RUN/shaper.out"
	export E2E_SHAPED E2E_CONTROL="http://127.0.0.1:$E2E_CONTROL_PORT"
	export VS_PUBLIC_BASE_URL="http://127.0.0.1:$E2E_SHAPED/vod"
	printf 'e2e jwt secret' >"$BATS_FILE_TMPDIR/jwt.key"
	printf 'e2e signing secret' >"$BATS_FILE_TMPDIR/sign.key"
	export VS_JWT_SECRET_FILE="$BATS_FILE_TMPDIR/jwt.key" VS_SIGNING_KEY_FILE="$BATS_FILE_TMPDIR/sign.key"

	"$VS_TOP/scripts/make-sample" "$BATS_FILE_TMPDIR/lesson.mp4" 854x480 60
	# English captions, the lesson's default, and French subtitles
	printf 'WEBVTT\n\n00:00.200 --> 00:02.800\nWelcome to limits\n\n00:03.000 --> 00:30.000\nA limit is where a function heads\n' \
		>"$BATS_FILE_TMPDIR/en.vtt"
	printf '1\n00:00:00,200 --> 00:00:02,800\nBienvenue aux limites\n\n2\n00:00:03,000 --> 00:00:30,000\nUne limite\n' \
		>"$BATS_FILE_TMPDIR/fr.srt"
	jq -nc --arg src "$BATS_FILE_TMPDIR/lesson.mp4" --arg d "$BATS_FILE_TMPDIR" '{source: $src, captions: [
		{language: "en", path: "\($d)/en.vtt", default: true}, {language: "fr", path: "\($d)/fr.srt", kind: "subtitles"}]}' |
		vs-ingest --slug e2e-lesson --title "Limits, in a browser" |
		vs-encode --preset ultrafast --ladder "$SITE_LADDER" | vs-package |
		vs-publish --to "file://$E2E_ROOT/vod" --base-url "$VS_PUBLIC_BASE_URL" >"$BATS_FILE_TMPDIR/lesson.json"
	vs-ingest "$(fixture hd.mp4)" --slug e2e-other | vs-encode --preset ultrafast --ladder 180p |
		vs-package |
		vs-publish --to "file://$E2E_ROOT/vod" --base-url "$VS_PUBLIC_BASE_URL" >"$BATS_FILE_TMPDIR/other.json"
	# an encrypted lesson (AES-128): its key from vs-cgi's key endpoint, for the stream's token
	vs-ingest "$(fixture lecture.mp4)" --slug e2e-secret --title "A protected lesson" |
		vs-encode --preset ultrafast --ladder 180p | vs-package --encrypt aes-128 |
		vs-publish --to "file://$E2E_ROOT/vod" --base-url "$VS_PUBLIC_BASE_URL" >"$BATS_FILE_TMPDIR/secret.json"
	"$VS_TOP/scripts/serve" --port "$E2E_PORT" --root "$E2E_ROOT" --run "$E2E_RUN" --background >/dev/null
}

stop_site() {
	[ -n "${E2E_RUN:-}" ] && "$VS_TOP/scripts/serve" stop --run "$E2E_RUN"
	stop_pid "${SHAPER_PID:-}"
	[ -n "${E2E_RUN:-}" ] && rm -rf "$E2E_RUN"
	return 0
}

# site_viewer: this test's viewer (a token of its own) and the player's URL
site_viewer() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	cd "$BATS_TEST_TMPDIR"
	ID=$(jqr "$BATS_FILE_TMPDIR/lesson.json" .id)
	VIEWER=e2e00000-0000-4000-8000-$(printf '%012d' "$BATS_TEST_NUMBER")
	TOKEN=$("$VS_TOP/scripts/token" "$VIEWER" 3600)
	SITE="http://127.0.0.1:$E2E_SHAPED"
	export VS_PUBLIC_BASE_URL="$SITE/vod" # helper.bash unsets it
	PLAYER="$SITE/?v=e2e-lesson#token=$TOKEN"
	# the link is unlimited unless a test says otherwise
	curl -fsS "$E2E_CONTROL/set?mbits=0&rtt=0" >/dev/null
}

# e2e BROWSER SCENARIO ARGS… → out.json
e2e() {
	local browser=$1
	shift
	run --separate-stderr node "$VS_TOP/tests/e2e.js" --browser "$browser" "$@"
	printf '%s\n' "$output" >out.json
	echo "e2e $browser $1: $output" # shown when the test fails
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
}

# ---- the checks: each a scenario, judged ----

# check_play BROWSER ENGINE [URL]: plays 3 s on ENGINE, everything there
check_play() {
	e2e "$1" play "${3:-$PLAYER}"
	[ "$(jqr out.json .engine)" = "$2" ]
	[ "$(jq '.currentTime >= 3' out.json)" = true ]
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jq -c .pageErrors out.json)" = '[]' ]
	# nothing covers the picture while it plays
	[ "$(jq -c '.onTop | unique' out.json)" = '["video#video"]' ] || { jq -c .onTop out.json; return 1; }
	# and the screen shows the decoded frame (a lit one: else this tests nothing)
	echo "# $1: picture $(jq -c .picture out.json)" >&3
	[ "$(jq '.picture.frameLight > 40 and .picture.meanDiff < 20' out.json)" = true ] || { jq -c .picture out.json; return 1; }
	[ "$(jqr out.json .title)" = "Limits, in a browser" ]
	[ "$(jqr out.json .chapters)" = 3 ]
	[ "$(jq '.storyboard > 0' out.json)" = true ]
	[ "$(jq -c .levels out.json)" = "$(jq -Rc 'split(",")' <<<"$SITE_LADDER")" ]
}

# check_quality BROWSER [URL]: another rung from the menu, same position
check_quality() {
	e2e "$1" quality "${2:-$PLAYER}"
	[ "$(jqr out.json .after.level)" = "$(jqr out.json .target)" ]
	[ "$(jq '.after.currentTime >= .switchedAt + 4' out.json)" = true ]
	[ "$(jqr out.json .after.fatal)" = null ]
	[ "$(jq '.after.session.quality_switches >= 1' out.json)" = true ]
}

# check_resume BROWSER [URL]: a reload resumes near the saved position,
# which the database holds
check_resume() {
	e2e "$1" resume "${2:-$PLAYER}"
	paused=$(jqr out.json .paused.currentTime)
	[ "$(jq '.reloaded.resumed' out.json)" = true ]
	[ "$(jq '(.reloaded.resumeFrom - .paused.currentTime) | fabs < 1.5' out.json)" = true ]
	[ "$(jq '.reloaded.currentTime >= .reloaded.resumeFrom - 0.5' out.json)" = true ]
	[[ $(jqr out.json .reloaded.status) == "Resumed at 0:0"[3-6]. ]]
	# the database: the paused position, or a later one the reloaded page
	# saved (the browser, closing after the snapshot, sends its last
	# position by beacon: seconds later with a slow close)
	played=$(jqr out.json .reloaded.currentTime)
	[ "$(sql "SELECT current_time_seconds > $paused - 1.5 AND current_time_seconds < $played + 5, watch_count >= 1 FROM video_progress WHERE user_id = '$VIEWER' AND video_id = '$ID'")" = "t|t" ] ||
		{ sql "SELECT current_time_seconds, watch_count FROM video_progress WHERE user_id = '$VIEWER' AND video_id = '$ID'"; return 1; }
}

# check_session BROWSER UA-BROWSER: the viewing session in the database
check_session() {
	e2e "$1" watch "$PLAYER" 3 # plays, pauses, leaves the page
	sid=$(jqr out.json .session.session_id)
	# the last beacons may still be on their way
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id = '$sid' AND started")" = 1 ] && break
		sleep 0.2
	done
	[ "$(sql "SELECT count(*), bool_and(started), bool_and(load_time_ms > 0), bool_and(watch_time_seconds > 0) FROM video_analytics WHERE session_id = '$sid'")" = "1|t|t|t" ]
	[ "$(sql "SELECT user_id, device_type, browser, viewer_id IS NOT NULL FROM video_analytics WHERE session_id = '$sid'")" = "$VIEWER|desktop|$2|t" ]
	run -0 --separate-stderr vs-report video e2e-lesson
	printf '%s\n' "$output" >report.json
	[ "$(jq '.engagement.views >= 1' report.json)" = true ]
}

# check_startup BROWSER MBITS RTT [RESUME-S]: two fresh visits through
# the shaper each reach the first `playing` event, without an error; the
# player's own startup figure (what analytics gets) within 10 % of the one
# measured from outside. How fast is scripts/bench-startup's to say: a
# threshold here would only measure how loaded the machine is.
check_startup() {
	local resume=()
	[ -z "${4:-}" ] || resume=(--resume "$4")
	run --separate-stderr node "$VS_TOP/tests/startup.js" --browser "$1" --url "$SITE/?v=e2e-lesson" \
		--control "$E2E_CONTROL" --api "http://127.0.0.1:$E2E_PORT/api/v1" --secret "$VS_JWT_SECRET_FILE" \
		--mbits "$2" --rtt "$3" --runs 2 "${resume[@]}"
	curl -fsS "$E2E_CONTROL/set?mbits=0&rtt=0" >/dev/null
	printf '%s\n' "$output" >out.json
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
	echo "# startup in $1 at $2 Mbit/s, $3 ms${4:+, resuming at $4 s}: $(jq -c '[.runs[].playing]' out.json) ms" >&3
	# a failed run says why
	jq -c '.runs[] | select(.fatal != null or (.pageErrors | length) > 0)' out.json >&2
	[ "$(jq -c '[.runs[].fatal]' out.json)" = '[null,null]' ]
	[ "$(jq -c '[.runs[].pageErrors | length]' out.json)" = '[0,0]' ]
	[ "$(jq '[.runs[].playing > 0] | length == 2 and all' out.json)" = true ]
	[ "$(jq '[.runs[] | ((.player - .playing) | fabs) <= 0.1 * .playing + 20] | all' out.json)" = true ]
	if [ -n "${4:-}" ]; then
		[ "$(jq -c '[.runs[].resumed]' out.json)" = '[true,true]' ]
		[ "$(jq --argjson at "$4" '[.runs[].currentTime >= $at - 0.5] | all' out.json)" = true ]
	fi
}

# check_saver BROWSER [auto]: the data saver caps the rung at 360p and says
# so; the viewer's choice outlives a reload
check_saver() {
	e2e "$1" saver "$PLAYER" "$E2E_CONTROL" ${2:-}
	[ "$(jqr out.json .on.saver)" = true ]
	[ "$(jqr out.json .pressed)" = true ]
	[[ $(jqr out.json .on.status) == *"Data saver on: up to 360p."* ]]
	[ "$(jq -c .offered out.json)" = '[360,240,144]' ]
	[ "$(jq '.later.loaded <= 360' out.json)" = true ]
	[ "$(jqr out.json .later.fatal)" = null ]
	[ "$(jqr out.json .reloaded.saver)" = true ]
	[ "$(jq '.reloaded.height > 0 and .reloaded.height <= 360 and .reloaded.loaded <= 360' out.json)" = true ]
	[ "$(jq -c .reloaded.offered out.json)" = '[360,240,144]' ]
}

# check_netchange BROWSER: 5 Mbit/s, 0.5 for 10 s, 5 again: hls.js loads a
# lower rung during the drop and climbs back after, never a fatal error
check_netchange() {
	e2e "$1" netchange "$PLAYER" "$E2E_CONTROL"
	echo "# $1: loaded rungs before $(jq -c '[.before[].load] | unique' out.json), during $(jq -c '[.during[].load] | unique' out.json), after $(jq -c '[.after[].load] | unique' out.json)" >&3
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jq '[.before[], .during[], .after[] | .fatal] | all(. == null)' out.json)" = true ]
	[ "$(jq '[.before[].load] | max == 3' out.json)" = true ]
	[ "$(jq '[.during[].load] | min < 3' out.json)" = true ]
	[ "$(jq '([.after[].load] | max) > ([.during[].load] | min)' out.json)" = true ]
	[ "$(jq '.after[-1].t > .before[0].t + 20' out.json)" = true ] # it played on
}

# check_refused BROWSER: an expired signed URL, and another video's, do not play
check_refused() {
	master="$VS_PUBLIC_BASE_URL/$ID/master.m3u8"
	valid=$(vs-sign --scheme hmac "$master")
	expired=$(vs-sign --scheme hmac --expires 2020-01-01T00:00:00Z "$master")
	other=$(vs-sign --scheme hmac "$VS_PUBLIC_BASE_URL/$(jqr "$BATS_FILE_TMPDIR/other.json" .id)/master.m3u8")
	# the other video's token on this video's path
	grafted="${other%%/vod/*}/vod/$ID/master.m3u8"
	e2e "$1" refused "$SITE/?v=e2e-lesson&autoplay=0" "$valid" "$expired" "$grafted"
	[ "$(jq -c '[.results[] | .played]' out.json)" = '[true,false,false]' ]
	[ "$(jq -c '[.results[1, 2] | .status]' out.json)" = '[403,403]' ]
}

# check_screens BROWSER: screenshots at 1280 and 360 px, keys, labels,
# focus order
check_screens() {
	local shots=$VS_TOP/var/screenshots
	mkdir -p "$shots"
	rm -f "$shots/player-desktop-$1.png" "$shots/player-360-$1.png" # never an earlier run's
	e2e "$1" screenshots "$PLAYER" "$shots"
	# the page's width (Firefox leaves out its scroll bar's 12 px)
	w=$(png_width "$shots/player-desktop-$1.png")
	[ "$w" -gt 1260 ] && [ "$w" -le 1280 ] || { echo "desktop screenshot $w px wide"; return 1; }
	w=$(png_width "$shots/player-360-$1.png")
	[ "$w" -gt 340 ] && [ "$w" -le 360 ] || { echo "360 px screenshot $w px wide"; return 1; }
	[ "$(stat -c %s "$shots/player-desktop-$1.png")" -gt 20000 ]
	[ "$(stat -c %s "$shots/player-360-$1.png")" -gt 10000 ]
	[ "$(jq -c '[.fits360, .fits320]' out.json)" = '[true,true]' ]
	[ "$(jq -c '[.muted, .pausedByKey]' out.json)" = '[true,true]' ]
	[ "$(jq '.seekedBy > 4 and .seekedBy < 6' out.json)" = true ]
	[ "$(jq '[.labels[] | select(. == null)] | length' out.json)" = 0 ]
	[ "$(jq -c '.labels[-1]' out.json)" = '"Data saver"' ] # the switch, named by its row
	# at 320 px: the settings in their sheet, the volume the phone's own
	[ "$(jq -c '.order[0:6]' out.json)" = '["play","back","forward","mute","more","fullscreen"]' ]
	[ "$(jq -c '.order[6]' out.json)" = '""' ] # a chapter button: no id, but focused (outlined) below
	[ "$(jq -c '.outlined | all' out.json)" = true ]
	# what a finger meets at a phone's width: 44 px targets 8 px apart, on
	# the screen, the buttons in one row; the settings the same, and closed by Escape
	local w
	for w in 320 360 390 430; do
		[ "$(jq -c ".phones[\"$w\"] | [.bar.wrong, .sheet.wrong, .bar.rows, .fits, .closed]" out.json)" = '[[],[],1,true,true]' ] ||
			{ echo "$w px: $(jq -c ".phones[\"$w\"]" out.json)"; return 1; }
	done
	[ "$(jq -c '.phones["320"].bar.ids' out.json)" = '["seek","play","back","forward","mute","more","fullscreen"]' ]
	[ "$(jq -c '.phones["320"].sheet.ids' out.json)" = '["speed","captions","quality","saver"]' ]
	[ "$(jq -c '[.desktop.wrong, .desktop.rows, .desktop.ids]' out.json)" = '[[],1,["seek","play","back","forward","volume","mute","more","fullscreen"]]' ] ||
		{ echo "desktop: $(jq -c .desktop out.json)"; return 1; }
	# speed: chosen, a step down by key (said), kept for the next visit, 2x at most
	[ "$(jq -c '[.chosenRate, .steppedRate, .speedSaid, .keptRate, .topRate]' out.json)" = '[1.5,1.25,"Speed 1.25×.",[1.25,"1.25"],2]' ]
}

# check_touch: a phone's touch in Chromium (390 x 844, touch events): a
# double tap on the right third seeks 10 s on (a ripple there, the time
# said), on the left third 10 s back, a single tap pauses once the double
# tap's window is over, a long press opens the settings and pauses nothing
check_touch() {
	e2e chromium touch "$PLAYER"
	[ "$(jqr out.json .touchAction)" = manipulation ]
	[ "$(jq '.forward.by > 9 and .forward.by < 11.5' out.json)" = true ] || { jq -c .forward out.json; return 1; }
	[ "$(jqr out.json .forward.ripple)" = forward ]
	# the time said is where it landed (10 s on from wherever play had got to)
	[[ $(jqr out.json .forward.said) =~ ^Forward\ 10\ seconds:\ 0:1[0-9]\.$ ]]
	[ "$(jq '.back.by < -8.5 and .back.by > -10.5' out.json)" = true ] || { jq -c .back out.json; return 1; }
	[ "$(jq -c '[.back.ripple, .back.paused]' out.json)" = '["back",false]' ]
	[ "$(jq -c '[.tapped, .pressed.sheet, .pressed.paused]' out.json)" = '[true,true,true]' ]
}

# check_cut BROWSER: the link cut for 20 s mid-lesson: the viewer is told,
# the picture stops, and it moves on within 3 s of the link's return, from
# where it stopped, on the same page
check_cut() {
	e2e "$1" cut "$PLAYER" "$E2E_CONTROL" 20
	echo "# $1: cut at $(jqr out.json .cutAt) s, stopped at $(jqr out.json .stoppedAt) s, said $(jq -c .said out.json), moved on $(jqr out.json .resumedAfterMs) ms after the link's return" >&3
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jqr out.json .samePage)" = true ]
	# the cut was felt (else this tests nothing): the picture stopped
	# within the 20 s, a stall was counted, and the viewer was told
	[ "$(jq '.stoppedAt - .cutAt < 15 and .during.session.buffer_events >= 1' out.json)" = true ]
	[ "$(jq '[.said[] | select(startswith("Offline") or startswith("Reconnecting"))] | length > 0' out.json)" = true ]
	[ "$(jq '.resumedAfterMs != null and .resumedAfterMs < 3000' out.json)" = true ] ||
		{ echo "moved on $(jqr out.json .resumedAfterMs) ms after the link's return"; return 1; }
	[ "$(jq '.currentTime >= .stoppedAt and .stoppedAt >= .cutAt' out.json)" = true ]
	[ "$(jqr out.json .trouble)" = null ]
}

# check_expire BROWSER: the site served anew with stream URLs that live 10
# to 20 s (VS_STREAM_TTL=10): the lesson plays past its signature's end,
# signed anew, without an error or a reload
check_expire() {
	local port run
	port=$(free_port)
	run=$(mktemp -d /tmp/vs-e2e-ttl.XXXXXX)
	VS_STREAM_TTL=10 VS_PUBLIC_BASE_URL="http://127.0.0.1:$port/vod" \
		"$VS_TOP/scripts/serve" --port "$port" --root "$E2E_ROOT" --run "$run" --background >/dev/null
	local st=0
	# 54 s: past the 30 s hls.js loads ahead of where it plays until the end
	e2e "$1" expire "http://127.0.0.1:$port/?v=e2e-lesson#token=$TOKEN" 54 || st=$?
	"$VS_TOP/scripts/serve" stop --run "$run"
	rm -rf "$run"
	[ "$st" -eq 0 ]
	echo "# $1: the first signature ($(jqr out.json .oldExpires)) answered $(jqr out.json .oldStatus) once expired; signed anew $(jqr out.json .session.resigned) time(s)" >&3
	[ "$(jqr out.json .oldStatus)" = 403 ] # it had expired: else this tests nothing
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jqr out.json .samePage)" = true ]
	[ "$(jq '.session.resigned >= 1 and .newExpires > .oldExpires' out.json)" = true ]
	[ "$(jq '.currentTime >= .seekTo + 2' out.json)" = true ]
}

# check_fallback BROWSER: a page with neither MSE nor the browser's HLS
# plays the progressive MP4 /stream lists, and shows it
check_fallback() {
	local mp4
	mp4=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$SITE/api/v1/videos/$ID/stream" | jq -r .fallback.url)
	[[ $mp4 == "$SITE/t/"*"/progressive.mp4" ]]
	e2e "$1" play "$PLAYER" nomse
	[ "$(jqr out.json .engine)" = mp4 ]
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jq '.currentTime >= 3' out.json)" = true ]
	[ "$(jq -c '.levels' out.json)" = '["144p"]' ]
	[ "$(jq -c '.onTop | unique' out.json)" = '["video#video"]' ]
	[ "$(jq '.picture.frameLight > 40 and .picture.meanDiff < 20' out.json)" = true ] || { jq -c .picture out.json; return 1; }
	[ "$(jq -c '.pageErrors' out.json)" = '[]' ]
}

# check_failover BROWSER: the site served anew with two origins, the
# shaper's first and a direct one: the first killed mid-lesson, the lesson
# goes on from the second within 5 s, where it was, and the beacon says so
check_failover() {
	local port run st=0 second
	port=$(free_port)
	run=$(mktemp -d /tmp/vs-e2e-origins.XXXXXX)
	second="http://127.0.0.1:$port"
	VS_PUBLIC_BASE_URL="$SITE/vod, $second/vod" \
		"$VS_TOP/scripts/serve" --port "$port" --root "$E2E_ROOT" --run "$run" --background >/dev/null
	e2e "$1" failover "$second/?v=e2e-lesson#token=$TOKEN" "$E2E_CONTROL" || st=$?
	"$VS_TOP/scripts/serve" stop --run "$run"
	rm -rf "$run"
	[ "$st" -eq 0 ]
	echo "# $1: moved to the second origin $(jqr out.json .failoverMs) ms after the first was killed; longest stall $(jqr out.json .longestStallMs) ms" >&3
	[ "$(jqr out.json .before.origin)" = "$SITE" ] # it played from the first: else this tests nothing
	[ "$(jqr out.json .stuck)" = null ]
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jqr out.json .samePage)" = true ]
	[ "$(jqr out.json .session.origin)" = "$second" ]
	[ "$(jq '.session.failovers >= 1 and .failoverMs < 5000 and .longestStallMs < 5000' out.json)" = true ]
	# from where it was: never back, and past what the first origin gave
	[ "$(jq '.wentBackS < 0.5 and .currentTime >= .before.bufferedEnd + 2' out.json)" = true ]
	sid=$(jqr out.json .session.session_id)
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id = '$sid' AND failovers >= 1")" = 1 ] && break
		sleep 0.2
	done
	[ "$(sql "SELECT origin, failovers >= 1 FROM video_analytics WHERE session_id = '$sid'")" = "$second|t" ]
}

# check_encrypted BROWSER: an AES-128 lesson plays, its key asked for with
# the stream's token from vs-cgi's own key endpoint
check_encrypted() {
	grep -q '^#EXT-X-KEY:METHOD=AES-128,URI="/api/v1/videos/' "$E2E_ROOT/vod/$(jqr "$BATS_FILE_TMPDIR/secret.json" .id)/180p/index.m3u8"
	e2e "$1" play "$SITE/?v=e2e-secret#token=$TOKEN"
	[ "$(jqr out.json .engine)" = hls.js ]
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jq '.currentTime >= 3' out.json)" = true ]
	[ "$(jq -c '[.httpErrors[] | select(test("/key"))]' out.json)" = '[]' ]
	[ "$(jq -c '.onTop | unique' out.json)" = '["video#video"]' ]
}

# check_key_refused: a key endpoint that refuses every token (Chromium
# only: request interception): a message over the picture, said too
check_key_refused() {
	e2e chromium keyrefused "$SITE/?v=e2e-secret#token=$TOKEN"
	[[ $(jqr out.json .overlay) == "The key to this protected lesson was refused"* ]]
	[ "$(jqr out.json .status)" = "$(jqr out.json .overlay)" ]
	[ "$(jqr out.json .onTop)" = overlay ]
	[ "$(jq '.keys >= 2 and .session.resigned == 1' out.json)" = true ] # asked again once, with a new token
	[[ $(jqr out.json .fatal) == *"keyLoadError"* ]]
}

# check_captions BROWSER [URL]: the captions control offers the lesson's
# tracks, shows its default with the browser's own cues, and keeps the
# viewer's choice (a track, or off) across reloads; c toggles
check_captions() {
	e2e "$1" captions "${2:-$PLAYER}"
	[ "$(jq -c .first.offered out.json)" = '["Off","English","Français"]' ]
	[ "$(jqr out.json .first.hidden)" = false ]
	showing() { jq -c "[.$1.tracks[] | select(.mode == \"showing\") | [.language, .ours]]" out.json; }
	[ "$(showing first)" = '[["en",true]]' ]
	[ "$(jq -c '[.first.tracks[] | select(.language == "en") | .active[]]' out.json)" = '["Welcome to limits"]' ]
	[ "$(showing chosen)" = '[["fr",true]]' ]
	[ "$(jqr out.json .chosen.status)" = "Captions: Français." ]
	[ "$(jqr out.json .kept.value)" = 1 ]
	[ "$(showing kept)" = '[["fr",true]]' ]
	[ "$(showing off)" = '[]' ]
	[ "$(jqr out.json .off.status)" = "Captions off." ]
	[ "$(showing back)" = '[["fr",true]]' ]
	[ "$(jqr out.json .offKept.value)" = -1 ]
	[ "$(showing offKept)" = '[]' ]
	[ "$(jqr out.json .fatal)" = null ]
}

# check_a11y BROWSER: axe-core finds nothing at WCAG 2.1 A and AA in any state
check_a11y() {
	e2e "$1" a11y "$PLAYER" "$SITE/?v=no-such-lesson#token=$TOKEN" "$E2E_CONTROL"
	[ "$(jqr out.json .states.loadingTitle)" = "Loading…" ]
	for state in loading playing paused captions settings narrow error; do
		[ "$(jq -c ".states.$state" out.json)" = '[]' ] || { echo "$state: $(jq -c ".states.$state" out.json)"; return 1; }
	done
	[ "$(jqr out.json .states.errorStatus)" = "There is no such lesson." ]
}

# check_axtree: what a screen reader announces, from Chromium's tree
check_axtree() {
	e2e chromium axtree "$PLAYER"
	names() { jq -c "[.controls[] | select(.role == \"$1\") | .name]" out.json; }
	[ "$(names button | jq -c '.[0:7]')" = '["Pause","Back 10 seconds","Forward 10 seconds","Mute","Settings","Full screen","Go to 0:00 Introduction"]' ]
	[ "$(names button | jq -c '.[7:]')" = '["Go to 0:20 The definition of a limit","Go to 0:40 Worked examples"]' ]
	[ "$(names slider)" = '["Seek","Volume"]' ]
	# the settings, open
	[ "$(jq -c '[.settings[] | select(.role == "combobox") | .name]' out.json)" = '["Speed","Captions","Quality"]' ]
	[ "$(jq -c '[.settings[] | select(.role == "button" and .name == "Data saver") | .pressed]' out.json)" = '["false"]' ]
	[[ $(jqr out.json .seekText) =~ ^0:0[0-9]\ of\ 1:00$ ]]
	[ "$(jq -c '[.controls[] | select(.role == "status") | .live]' out.json)" = '["polite"]' ]
	[ "$(jq -c '[.controls[] | select(.role == "button" and .name == "Settings") | .expanded]' out.json)" = '["false"]' ]
}

# check_media: reduced motion, more contrast and forced colours honoured
check_media() {
	mkdir -p "$VS_TOP/var/screenshots"
	rm -f "$VS_TOP"/var/screenshots/player-{prefers-reduced-motion,prefers-contrast,forced-colors}.png
	e2e chromium media "$PLAYER" "$VS_TOP/var/screenshots"
	[ "$(jqr out.json .plain.overlayTransition)" = 0.2s ]
	[ "$(jqr out.json '.["prefers-reduced-motion"].overlayTransition')" = 0s ]
	[ "$(jqr out.json .plain.playBorder)" = none ]
	[ "$(jqr out.json '.["prefers-contrast"].playBorderWidth')" = 2px ]
	[ "$(jqr out.json '.["prefers-contrast"].barColor')" = "rgb(0, 0, 0)" ]
	[ "$(jqr out.json '.["forced-colors"].playBorder')" = solid ]
	for f in prefers-reduced-motion prefers-contrast forced-colors; do
		[ "$(stat -c %s "$VS_TOP/var/screenshots/player-$f.png")" -gt 10000 ]
	done
}
