#!/usr/bin/env bats
# The whole chain in a real browser: a lesson ingested, encoded, packaged
# and published to a local origin, lighttpd serving the reference player,
# vs-cgi and the origin (scripts/serve), and Debian's Chromium playing it
# through hls.js, driven by playwright-core (tests/e2e.js).

load helper

setup_file() {
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
	export VS_PUBLIC_BASE_URL="http://127.0.0.1:$E2E_PORT/vod"
	printf 'e2e jwt secret' >"$BATS_FILE_TMPDIR/jwt.key"
	printf 'e2e signing secret' >"$BATS_FILE_TMPDIR/sign.key"
	export VS_JWT_SECRET_FILE="$BATS_FILE_TMPDIR/jwt.key" VS_SIGNING_KEY_FILE="$BATS_FILE_TMPDIR/sign.key"

	"$VS_TOP/scripts/make-sample" "$BATS_FILE_TMPDIR/lesson.mp4" 640x360 16
	vs-ingest "$BATS_FILE_TMPDIR/lesson.mp4" --slug e2e-lesson --title "Limits, in a browser" |
		vs-encode --preset ultrafast --ladder 180p,360p | vs-package --segment-seconds 2 |
		vs-publish --to "file://$E2E_ROOT/vod" --base-url "$VS_PUBLIC_BASE_URL" >"$BATS_FILE_TMPDIR/lesson.json"
	vs-ingest "$(fixture hd.mp4)" --slug e2e-other | vs-encode --preset ultrafast --ladder 180p |
		vs-package --segment-seconds 2 |
		vs-publish --to "file://$E2E_ROOT/vod" --base-url "$VS_PUBLIC_BASE_URL" >"$BATS_FILE_TMPDIR/other.json"
	"$VS_TOP/scripts/serve" --port "$E2E_PORT" --root "$E2E_ROOT" --run "$E2E_RUN" --background >/dev/null
}

teardown_file() {
	[ -n "${E2E_RUN:-}" ] && "$VS_TOP/scripts/serve" stop --run "$E2E_RUN"
	[ -n "${E2E_RUN:-}" ] && rm -rf "$E2E_RUN"
	return 0
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	cd "$BATS_TEST_TMPDIR"
	ID=$(jqr "$BATS_FILE_TMPDIR/lesson.json" .id)
	VIEWER=e2e00000-0000-4000-8000-$(printf '%012d' "$BATS_TEST_NUMBER")
	TOKEN=$("$VS_TOP/scripts/token" "$VIEWER" 3600)
	PLAYER="http://127.0.0.1:$E2E_PORT/?v=e2e-lesson#token=$TOKEN"
}

e2e() { # SCENARIO ARGS… → out.json
	run --separate-stderr node "$VS_TOP/tests/e2e.js" "$@"
	printf '%s\n' "$output" >out.json
	echo "e2e $1: $output" # shown when the test fails
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
}

@test "the player plays the lesson with hls.js in Chromium" {
	e2e play "$PLAYER"
	[ "$(jqr out.json .engine)" = hls.js ]
	[ "$(jq '.currentTime >= 3' out.json)" = true ]
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jq -c .pageErrors out.json)" = '[]' ]
	[ "$(jqr out.json .title)" = "Limits, in a browser" ]
	[ "$(jqr out.json .chapters)" = 3 ]
	[ "$(jq '.storyboard > 0' out.json)" = true ]
	[ "$(jq -c .levels out.json)" = '["180p","360p"]' ]
}

@test "choosing a quality switches the rendition and keeps the position" {
	e2e quality "$PLAYER"
	[ "$(jqr out.json .after.level)" = "$(jqr out.json .target)" ]
	[ "$(jq '.after.currentTime >= .switchedAt + 1' out.json)" = true ]
	[ "$(jqr out.json .after.fatal)" = null ]
	[ "$(jq '.after.session.quality_switches >= 1' out.json)" = true ]
}

@test "a reload resumes near the saved position, and the database has it" {
	e2e resume "$PLAYER"
	paused=$(jqr out.json .paused.currentTime)
	[ "$(jq '.reloaded.resumed' out.json)" = true ]
	[ "$(jq '(.reloaded.resumeFrom - .paused.currentTime) | fabs < 1.5' out.json)" = true ]
	[ "$(jq '.reloaded.currentTime >= .reloaded.resumeFrom - 0.5' out.json)" = true ]
	[ "$(sql "SELECT abs(current_time_seconds - $paused) < 1.5, watch_count >= 1 FROM video_progress WHERE user_id = '$VIEWER' AND video_id = '$ID'")" = "t|t" ]
}

@test "the database holds the viewing session the player reported" {
	e2e watch "$PLAYER" 3 # plays, pauses, leaves the page
	sid=$(jqr out.json .session.session_id)
	# the last beacons may still be on their way
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id = '$sid' AND started")" = 1 ] && break
		sleep 0.2
	done
	[ "$(sql "SELECT count(*), bool_and(started), bool_and(load_time_ms > 0), bool_and(watch_time_seconds > 0) FROM video_analytics WHERE session_id = '$sid'")" = "1|t|t|t" ]
	[ "$(sql "SELECT user_id, device_type, browser, viewer_id IS NOT NULL FROM video_analytics WHERE session_id = '$sid'")" = "$VIEWER|desktop|Chrome Headless|t" ]
	run -0 --separate-stderr vs-report video e2e-lesson
	printf '%s\n' "$output" >report.json
	[ "$(jq '.engagement.views >= 1' report.json)" = true ]
}

@test "startup at 5 Mbit/s takes under 3 s, navigation to first frame" {
	e2e startup "$PLAYER" 5
	echo "startup at 5 Mbit/s: $(jqr out.json .startupMs) ms" >&3
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jq '.startupMs > 0 and .startupMs < 3000' out.json)" = true ]
}

@test "startup at 1.5 Mbit/s takes under 5 s, navigation to first frame" {
	e2e startup "$PLAYER" 1.5
	echo "startup at 1.5 Mbit/s: $(jqr out.json .startupMs) ms" >&3
	[ "$(jqr out.json .fatal)" = null ]
	[ "$(jq '.startupMs > 0 and .startupMs < 5000' out.json)" = true ]
}

@test "an expired signed URL, and one for another video, do not play" {
	export VS_PUBLIC_BASE_URL="http://127.0.0.1:$E2E_PORT/vod" # helper.bash unsets it
	master="$VS_PUBLIC_BASE_URL/$ID/master.m3u8"
	valid=$(vs-sign --scheme hmac "$master")
	expired=$(vs-sign --scheme hmac --expires 2020-01-01T00:00:00Z "$master")
	other=$(vs-sign --scheme hmac "$VS_PUBLIC_BASE_URL/$(jqr "$BATS_FILE_TMPDIR/other.json" .id)/master.m3u8")
	# the other video's token on this video's path
	grafted="${other%%/vod/*}/vod/$ID/master.m3u8"
	e2e refused "http://127.0.0.1:$E2E_PORT/?v=e2e-lesson&autoplay=0" "$valid" "$expired" "$grafted"
	[ "$(jq -c '[.results[] | .played]' out.json)" = '[true,false,false]' ]
	[ "$(jq -c '[.results[1, 2] | .status]' out.json)" = '[403,403]' ]
}

@test "the player at 1280 and 360 px: screenshots, keys, labels, focus order" {
	mkdir -p "$VS_TOP/var/screenshots"
	e2e screenshots "$PLAYER" "$VS_TOP/var/screenshots"
	[ "$(stat -c %s "$VS_TOP/var/screenshots/player-desktop.png")" -gt 20000 ]
	[ "$(stat -c %s "$VS_TOP/var/screenshots/player-360.png")" -gt 10000 ]
	[ "$(jq -c '[.fits360, .fits320]' out.json)" = '[true,true]' ]
	[ "$(jq -c '[.muted, .pausedByKey]' out.json)" = '[true,true]' ]
	[ "$(jq '.seekedBy > 4 and .seekedBy < 6' out.json)" = true ]
	[ "$(jq '[.labels[] | select(. == null)] | length' out.json)" = 0 ]
	[ "$(jq -c '.order[0:7]' out.json)" = '["play","back","forward","mute","saver","quality","fullscreen"]' ]
}
