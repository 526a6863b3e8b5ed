#!/usr/bin/env bats
# vs-cgi: every endpoint through real servers (lighttpd mod_cgi, lighttpd
# FastCGI, nginx + fcgiwrap), plus the CGI contract without a server.

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	vs-ingest "$(fixture hd.mp4)" --slug lesson-one --title "Lesson one" | vs-encode --preset ultrafast --ladder 180p,360p |
		vs-package --segment-seconds 2 | vs-publish --to "file://$BATS_FILE_TMPDIR/www/vod" --base-url http://127.0.0.1/vod \
		>"$BATS_FILE_TMPDIR/pub.json"
	vs-ingest "$(fixture noaudio.mp4)" --slug hidden-one >/dev/null # ingested, never published
	printf 'jwt secret for tests' >"$BATS_FILE_TMPDIR/jwt.key"
	printf 'signing secret for tests' >"$BATS_FILE_TMPDIR/sign.key"
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/file" "$BATS_FILE_TMPDIR" 2>/dev/null || true
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	export VS_JWT_SECRET_FILE="$BATS_FILE_TMPDIR/jwt.key" VS_SIGNING_KEY_FILE="$BATS_FILE_TMPDIR/sign.key"
	export VS_SIGN_SCHEME=nginx VS_PUBLIC_BASE_URL=http://127.0.0.1/vod VS_CORS_ORIGINS=https://learn.example.com
	cd "$BATS_TEST_TMPDIR"
	ID=$(jqr "$BATS_FILE_TMPDIR/pub.json" .id)
	USER1=5b1c0000-0000-4000-8000-$(printf '%012d' "$BATS_TEST_NUMBER")
}

teardown() {
	# stops lighttpd and the FastCGI processes it spawned
	[ -f run/lighttpd.pid ] && "$VS_TOP/scripts/serve" stop --run "$PWD/run"
	[ -f run/nginx.pid ] && kill "$(cat run/nginx.pid)" 2>/dev/null
	# shellcheck disable=SC2046
	[ -f run/spawn-fcgi.pid ] && kill $(cat run/spawn-fcgi.pid) 2>/dev/null
	pkill -f "$BATS_TEST_TMPDIR/run/vs-cgi.sock" 2>/dev/null || true
	[ -n "${PGB:-}" ] && "$VS_TOP/scripts/pgbouncer" stop "$PGB" && rm -rf "$PGB"
	stop_bg
	own_cluster_destroy
	return 0
}

# jwt HEADER_JSON PAYLOAD_JSON [SECRET]: an HS256 token made with openssl
jwt() { hs256 "$1" "$2" "${3:-jwt secret for tests}"; }

token_for() { jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"$1\",\"exp\":$(($(date +%s) + 600))}"; }

# ---- the CGI contract, without a server ----

# cgi_raw METHOD PATH [BODY]: vs-cgi's answer with CRLF made LF, and its status
cgi_raw() {
	local body=${3:-} s
	env REQUEST_METHOD="$1" PATH_INFO="$2" CONTENT_LENGTH=${#body} CONTENT_TYPE=application/json \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<"$body" >answer.raw
	s=$?
	tr -d '\r' <answer.raw
	return $s
}

cgi() { # METHOD PATH [BODY] → $output, $lines (status line first), $stderr
	# vs-cgi exits 0 whenever it answered (vs-cgi(1)): anything else, a
	# sanitizer's report among them, fails the test
	run -0 --separate-stderr cgi_raw "$@"
}

@test "vs-cgi answers /health with 200 and a database that answers" {
	cgi GET /health
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Status: 200 OK" ]
	[[ $output == *'{"status":"ok"}'* ]]
}

@test "vs-cgi answers 503 problem+json within seconds when the database is down" {
	export VS_DATABASE_URL="postgresql:///x?host=$BATS_TEST_TMPDIR"
	start=$(date +%s)
	cgi GET /videos/lesson-one
	[ "${lines[0]}" = "Status: 503 Service Unavailable" ]
	[[ $output == *"Content-Type: application/problem+json"* ]]
	[[ $output != *"$BATS_TEST_TMPDIR"* ]] # no internals to the client
	[[ $stderr == *"vs-cgi:"* ]]
	[ $(($(date +%s) - start)) -le 3 ]
}

@test "vs-cgi refuses hostile ids with 400 and unknown paths with 404" {
	cgi GET "/videos/x';DROP TABLE videos;--"
	[ "${lines[0]}" = "Status: 400 Bad Request" ]
	cgi GET /videos/hidden-one
	[ "${lines[0]}" = "Status: 404 Not Found" ]
	cgi GET /nothing
	[ "${lines[0]}" = "Status: 404 Not Found" ]
	[ "$(sql "SELECT count(*) > 0 FROM videos")" = "t" ]
}

@test "vs-cgi answers an empty or unknown request method at once" {
	# vs-cgi itself under timeout: one that spins is killed, and fails here
	for m in '' 'GE T'; do
		run -0 --separate-stderr timeout -k 1 5 env REQUEST_METHOD="$m" PATH_INFO=/health \
			GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
		[[ ${lines[0]} == "Status: 405 "* ]]
	done
}

# as_viewer TOKEN: GET /videos/ID/progress with that bearer token, directly
as_viewer() {
	run -0 --separate-stderr env HTTP_AUTHORIZATION="Bearer $1" REQUEST_METHOD=GET PATH_INFO="/videos/$ID/progress" \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
}

@test "vs-cgi needs exp, caps a token's lifetime, and checks aud and iss when configured" {
	now=$(date +%s)
	h='{"alg":"HS256","typ":"JWT"}'
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"exp\":$((now + 600))}")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	# no exp: it would live forever
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\"}")"
	[[ ${lines[0]} == "Status: 401 "* ]]
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"exp\":\"soon\"}")"
	[[ ${lines[0]} == "Status: 401 "* ]]
	# longer than a day (the default), from now or from iat
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"exp\":$((now + 3 * 86400))}")"
	[[ ${lines[0]} == "Status: 401 "* ]]
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"iat\":$((now - 86400)),\"exp\":$((now + 600))}")"
	[[ ${lines[0]} == "Status: 401 "* ]]
	# a shorter cap
	VS_JWT_MAX_LIFETIME=300 as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"exp\":$((now + 600))}")"
	[[ ${lines[0]} == "Status: 401 "* ]]
	VS_JWT_MAX_LIFETIME=forever as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"exp\":$((now + 60))}")"
	[[ ${lines[0]} == "Status: 500 "* ]]
	[[ $stderr == *VS_JWT_MAX_LIFETIME* ]]
	# audience and issuer
	export VS_JWT_AUDIENCE=vs-api VS_JWT_ISSUER=https://auth.example.com
	ok="\"sub\":\"$USER1\",\"exp\":$((now + 600))"
	as_viewer "$(jwt "$h" "{$ok,\"aud\":\"vs-api\",\"iss\":\"https://auth.example.com\"}")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	as_viewer "$(jwt "$h" "{$ok,\"aud\":[\"other\",\"vs-api\"],\"iss\":\"https://auth.example.com\"}")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	for claims in "{$ok,\"iss\":\"https://auth.example.com\"}" "{$ok,\"aud\":\"other\",\"iss\":\"https://auth.example.com\"}" \
		"{$ok,\"aud\":\"vs-api\"}" "{$ok,\"aud\":\"vs-api\",\"iss\":\"https://evil.example.com\"}" \
		"{$ok,\"aud\":[1,2],\"iss\":\"https://auth.example.com\"}"; do
		as_viewer "$(jwt "$h" "$claims")"
		[[ ${lines[0]} == "Status: 401 "* ]] || { echo "accepted: $claims"; return 1; }
	done
}

@test "vs-cgi allows clocks a minute apart, on both sides of exp and nbf" {
	now=$(date +%s)
	h='{"alg":"HS256","typ":"JWT"}'
	# expired 50 s ago: within the minute, taken; 70 s ago: refused
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"exp\":$((now - 50))}")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"exp\":$((now - 70))}")"
	[[ ${lines[0]} == "Status: 401 "* ]]
	# good from 50 s on: taken; from 70 s on: refused
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"nbf\":$((now + 50)),\"exp\":$((now + 600))}")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	as_viewer "$(jwt "$h" "{\"sub\":\"$USER1\",\"nbf\":$((now + 70)),\"exp\":$((now + 600))}")"
	[[ ${lines[0]} == "Status: 401 "* ]]
}

# stream_lives SECONDS: GET /videos/ID/stream's URLs expire at a multiple of
# 5 minutes from SECONDS to SECONDS + 5 minutes from now (and a few seconds
# for the clock to move); the expiry in $exp, the answer in stream.json
stream_lives() {
	local now
	now=$(date +%s)
	cgi GET "/videos/$ID/stream"
	[ "${lines[0]}" = "Status: 200 OK" ]
	printf '%s\n' "${lines[-1]}" >stream.json
	exp=$(date -u -d "$(jqr stream.json .expires_at)" +%s)
	[ "$exp" -ge $((now + $1)) ] || { echo "expires $((exp - now)) s from now, not $1"; return 1; }
	[ "$exp" -le $((now + $1 + 300 + 5)) ] || { echo "expires $((exp - now)) s from now, not $1"; return 1; }
	[ $((exp % 300)) -eq 0 ]
}

@test "VS_STREAM_TTL: how long stream URLs live, rounded up to 5 minutes; a bad value is a 500" {
	stream_lives 21600
	export VS_STREAM_TTL=600
	stream_lives 600
	# the signature says the same: the token's expiry is expires_at
	[[ $(jqr stream.json .stream_url) == *"/t/$exp/"* ]]
	for bad in 0 -5 10m forever 315360001; do
		VS_STREAM_TTL=$bad cgi GET "/videos/$ID/stream"
		[ "${lines[0]}" = "Status: 500 Internal Server Error" ] || { echo "VS_STREAM_TTL=$bad: ${lines[0]}"; return 1; }
		[[ $stderr == *"VS_STREAM_TTL"* ]]
	done
}

# post TYPE PATH BODY [ENV...]: a POST straight to vs-cgi with that Content-Type
post() {
	local type=$1 path=$2 body=$3
	shift 3
	run -0 --separate-stderr env "$@" REQUEST_METHOD=POST PATH_INFO="$path" CONTENT_TYPE="$type" \
		CONTENT_LENGTH="$(printf %s "$body" | wc -c)" GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<"$body"
}

@test "a cross-site form cannot write the progress of a viewer the server authenticated" {
	body='{"current_time": 1}'
	# REMOTE_USER (cookies, Basic): only application/json, which needs a CORS preflight
	post text/plain "/videos/$ID/progress" "$body" REMOTE_USER="$USER1"
	[[ ${lines[0]} == "Status: 403 "* ]]
	[[ $output == *"application/json"* ]]
	post "" "/videos/$ID/progress" "$body" REMOTE_USER="$USER1"
	[[ ${lines[0]} == "Status: 403 "* ]]
	post "text/plain;charset=UTF-8" "/videos/$ID/analytics" '{"session_id":"csrf-1"}' REMOTE_USER="$USER1"
	[[ ${lines[0]} == "Status: 403 "* ]]
	[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id = 'csrf-1'")" = 0 ]
	post application/json "/videos/$ID/progress" "$body" REMOTE_USER="$USER1"
	[[ ${lines[0]} == "Status: 200 "* ]]
	# the beacon: text/plain with its bearer token, or anonymous
	post text/plain "/videos/$ID/progress" "$body" QUERY_STRING="access_token=$(token_for "$USER1")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	post text/plain "/videos/$ID/analytics" '{"session_id":"beacon-1"}'
	[[ ${lines[0]} == "Status: 204 "* ]]
}

@test "knowing a session_id does not let another viewer write that session" {
	a=$(token_for "$USER1")
	b=$(token_for 5b1c0000-0000-4000-9000-000000000002)
	beacon() { post application/json "/videos/$ID/analytics" "$1" ${2:+QUERY_STRING="access_token=$2"}; }
	# an anonymous session, then another anonymous viewer and a signed-in one
	beacon '{"session_id":"hij-1","viewer_id":"v-1","watch_time_seconds":2}'
	[[ ${lines[0]} == "Status: 204 "* ]]
	beacon '{"session_id":"hij-1","viewer_id":"v-2","watch_time_seconds":3}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	beacon '{"session_id":"hij-1","viewer_id":"v-1","watch_time_seconds":3}' "$a"
	[[ ${lines[0]} == "Status: 422 "* ]]
	[ "$(sql "SELECT watch_time_seconds, user_id IS NULL, viewer_id FROM video_analytics WHERE session_id = 'hij-1'")" = "2|t|v-1" ]
	beacon '{"session_id":"hij-1","viewer_id":"v-1","watch_time_seconds":4}'
	[[ ${lines[0]} == "Status: 204 "* ]]
	# a user's session: not another user's, nor anyone anonymous
	beacon '{"session_id":"hij-2","watch_time_seconds":2}' "$a"
	[[ ${lines[0]} == "Status: 204 "* ]]
	beacon '{"session_id":"hij-2","watch_time_seconds":9}' "$b"
	[[ ${lines[0]} == "Status: 422 "* ]]
	beacon '{"session_id":"hij-2","watch_time_seconds":9}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	beacon '{"session_id":"hij-2","watch_time_seconds":5}' "$a"
	[[ ${lines[0]} == "Status: 204 "* ]]
	[ "$(sql "SELECT string_agg(session_id || '=' || watch_time_seconds || ':' || coalesce(user_id::text, '-'), ',' ORDER BY session_id) FROM video_analytics WHERE session_id LIKE 'hij-%'")" = "hij-1=4:-,hij-2=5:$USER1" ]
}

# summary [ENV...]: GET /videos/ID/analytics straight to vs-cgi
summary() {
	run -0 --separate-stderr env "$@" REQUEST_METHOD=GET PATH_INFO="/videos/$ID/analytics" GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
}

@test "the analytics summary is an admin's: 401 anonymous, 403 for a viewer" {
	exp=$(($(date +%s) + 600))
	h='{"alg":"HS256","typ":"JWT"}'
	summary
	[[ ${lines[0]} == "Status: 401 "* ]]
	summary HTTP_AUTHORIZATION="Bearer $(token_for "$USER1")"
	[[ ${lines[0]} == "Status: 403 "* ]]
	summary HTTP_AUTHORIZATION="Bearer $(jwt "$h" "{\"sub\":\"$USER1\",\"role\":\"viewer\",\"scope\":\"videos:read videos:writer\",\"exp\":$exp}")"
	[[ ${lines[0]} == "Status: 403 "* ]]
	summary REMOTE_USER=mallory VS_ADMIN_USERS="alice, bob"
	[[ ${lines[0]} == "Status: 403 "* ]]
	# the claim: role admin, or scope videos:write; or a REMOTE_USER listed
	summary HTTP_AUTHORIZATION="Bearer $(jwt "$h" "{\"sub\":\"$USER1\",\"role\":\"admin\",\"exp\":$exp}")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	summary HTTP_AUTHORIZATION="Bearer $(jwt "$h" "{\"sub\":\"$USER1\",\"scope\":\"videos:read videos:write\",\"exp\":$exp}")"
	[[ ${lines[0]} == "Status: 200 "* ]]
	summary REMOTE_USER=bob VS_ADMIN_USERS="alice, bob"
	[[ ${lines[0]} == "Status: 200 "* ]]
}

@test "posted figures are bounded by the video and the clock" {
	beacon() { post application/json "/videos/$ID/analytics" "$1"; }
	# the video is 4 s long: a minute and the video at most before the first beacon
	beacon '{"session_id":"poison-1","watch_time_seconds":999999999,"buffering_time_ms":999999999,"max_position_seconds":1000000}'
	[[ ${lines[0]} == "Status: 204 "* ]]
	run -0 sql "SELECT watch_time_seconds <= 70, buffering_time_ms <= 70000, max_position_seconds, watched_percent FROM video_analytics WHERE session_id = 'poison-1'"
	[ "$output" = "t|t|4|100" ]
	for field in buffer_events seek_events quality_switches errors; do
		beacon "{\"session_id\":\"poison-2\",\"$field\":100001}"
		[[ ${lines[0]} == "Status: 422 "* ]]
		[[ $output == *"$field"*"too large"* ]]
	done
	beacon '{"session_id":"poison-2","load_time_ms":3600000}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id = 'poison-2'")" = 0 ]
}

@test "vs-cgi without a web server exits 2" {
	run -2 --separate-stderr env -u REQUEST_METHOD vs-cgi
	[[ $stderr == *"not run by a web server"* ]]
	run -0 --separate-stderr vs-cgi --help
}

# ---- lighttpd + mod_cgi ----

esc() { printf '%s' "$1" | sed 's/[&|\\]/\\&/g'; }

config() { # TEMPLATE PORT → a working copy
	mkdir -p run
	sed -e "s|@PORT@|$2|g" -e "s|@ROOT@|$(esc "$BATS_FILE_TMPDIR/www")|g" -e "s|@RUN@|$PWD/run|g" \
		-e "s|@BIN@|$VS_TOP/bin|g" -e "s|@DATABASE_URL@|$(esc "$VS_DATABASE_URL")|g" \
		-e "s|@JWT_SECRET_FILE@|$VS_JWT_SECRET_FILE|g" -e "s|@SIGNING_KEY_FILE@|$VS_SIGNING_KEY_FILE|g" \
		-e "s|@PUBLIC_BASE_URL@|$VS_PUBLIC_BASE_URL|g" -e "s|@CORS_ORIGINS@|$VS_CORS_ORIGINS|g" \
		-e "s|@MEDIA_ROOT@|$(esc "$VS_MEDIA_ROOT")|g" \
		"$VS_TOP/examples/$1"
}

start_lighttpd() { # TEMPLATE
	PORT=$(free_port)
	config "$1" "$PORT" >lighttpd.conf
	bg run/lighttpd.out lighttpd -f lighttpd.conf -D
	echo "$BG_PID" >run/lighttpd.pid
	wait_port "$PORT" "$BG_PID"
	API="http://127.0.0.1:$PORT/api/v1"
}

req() { # curl ARGS → code in $code, body in body.json, headers in headers.txt
	code=$(curl -s -o body.json -D headers.txt -w '%{http_code}' "$@")
}

@test "through lighttpd mod_cgi: video metadata, ETag and 304, HEAD, nosniff" {
	start_lighttpd lighttpd-cgi.conf
	req "$API/videos/lesson-one"
	[ "$code" = 200 ]
	[ "$(jqr body.json .title)" = "Lesson one" ]
	[ "$(jqr body.json '.qualities | length')" = 2 ]
	[ "$(jqr body.json '.progress')" = null ]
	grep -qi '^x-content-type-options: nosniff' headers.txt
	grep -qi '^cache-control: public, max-age=60' headers.txt
	etag=$(grep -i '^etag:' headers.txt | cut -d' ' -f2 | tr -d '\r')
	req -H "If-None-Match: $etag" "$API/videos/lesson-one"
	[ "$code" = 304 ]
	req -I "$API/videos/$ID/qualities"
	[ "$code" = 200 ]
	# curl -I writes the headers where the body goes: no body came
	run -1 grep -q '"label"' body.json
	grep -qi '^content-type: application/json' body.json
	req "$API/videos/$ID/chapters"
	[ "$code" = 200 ]
}

@test "through lighttpd mod_cgi: a signed stream URL that opens the published package" {
	start_lighttpd lighttpd-cgi.conf
	req "$API/videos/$ID/stream"
	[ "$code" = 200 ]
	url=$(jqr body.json .stream_url)
	[[ $url == http://127.0.0.1/t/*/vod/$ID/master.m3u8 ]]
	run -0 --separate-stderr vs-sign --scheme nginx --verify "$url"
	[ "$(jqr body.json '.qualities[0].url')" = "${url%master.m3u8}180p/index.m3u8" ]
	# the progressive MP4 for players with neither MSE nor HLS, signed the same way
	[ "$(jq -c '.fallback | del(.url)' body.json)" = '{"type":"video/mp4","quality_label":"180p","resolution_width":320,"resolution_height":180}' ]
	[ "$(jqr body.json .fallback.url)" = "${url%master.m3u8}progressive.mp4" ]
	[ -f "$BATS_FILE_TMPDIR/www/vod/$ID/progressive.mp4" ]
	grep -qi '^cache-control: private, no-store' headers.txt
	req "$API/videos/hidden-one/stream"
	[ "$code" = 404 ]
}

@test "through lighttpd mod_cgi: ?include=stream answers the video and its signed stream in one request" {
	start_lighttpd lighttpd-cgi.conf
	req "$API/videos/lesson-one?include=stream"
	[ "$code" = 200 ]
	[ "$(jqr body.json .title)" = "Lesson one" ]
	[ "$(jqr body.json .progress)" = null ]
	url=$(jqr body.json .stream.stream_url)
	[[ $url == http://127.0.0.1/t/*/vod/$ID/master.m3u8 ]]
	run -0 --separate-stderr vs-sign --scheme nginx --verify "$url"
	[ "$(jqr body.json '.stream.qualities[0].url')" = "${url%master.m3u8}180p/index.m3u8" ]
	# the same members as /stream answers
	cp body.json both.json
	req "$API/videos/$ID/stream"
	[ "$(jq -c 'keys' body.json)" = "$(jq -c '.stream | keys' both.json)" ]
	# signed, so never kept by a shared cache
	req "$API/videos/lesson-one?include=stream"
	grep -qi '^cache-control: private, no-store' headers.txt
	# with the viewer's progress, as GET /videos/:id has it
	req -X POST -H "Authorization: Bearer $(token_for "$USER1")" -H 'Content-Type: application/json' \
		-d '{"current_time": 2.5}' "$API/videos/$ID/progress"
	[ "$code" = 200 ]
	req -H "Authorization: Bearer $(token_for "$USER1")" "$API/videos/$ID?include=stream"
	[ "$(jqr body.json .progress.current_time)" = 2.5 ]
	# the token is the signed URL's own path token (what the key endpoint takes)
	tok=$(jqr body.json .stream.token)
	[[ $tok =~ ^[0-9]+/[A-Za-z0-9_-]+$ ]]
	[ "$(jqr body.json .stream.stream_url)" = "http://127.0.0.1/t/$tok/vod/$ID/master.m3u8" ]
	# other values of include change nothing; an unpublished video is still 404
	req "$API/videos/lesson-one?include=streams"
	[ "$code" = 200 ]
	[ "$(jqr body.json .stream)" = null ]
	grep -qi '^cache-control: public, max-age=60' headers.txt
	req "$API/videos/hidden-one?include=stream"
	[ "$code" = 404 ]
}

@test "through lighttpd mod_cgi: progress needs identity, takes a valid token, refuses forged ones" {
	start_lighttpd lighttpd-cgi.conf
	req -X POST -H 'Content-Type: application/json' -d '{"current_time": 1.5}' "$API/videos/$ID/progress"
	[ "$code" = 401 ]
	grep -qi '^www-authenticate: Bearer' headers.txt
	[ "$(jqr body.json .status)" = 401 ]
	t=$(token_for "$USER1")
	req -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d '{"current_time": 1.5}' "$API/videos/$ID/progress"
	[ "$code" = 200 ]
	[ "$(jqr body.json .current_time)" = 1.5 ]
	grep -qi '^cache-control: private, no-store' headers.txt
	req -H "Authorization: Bearer $t" "$API/videos/$ID/progress"
	[ "$(jqr body.json .current_time)" = 1.5 ]
	req -H "Authorization: Bearer $t" "$API/videos/$ID"
	[ "$(jqr body.json .progress.current_time)" = 1.5 ]
	[ "$(sql "SELECT round(current_time_seconds::numeric, 1) FROM video_progress WHERE user_id = '$USER1'")" = 1.5 ]
	# forged, expired, not yet valid, and alg none
	forged=$(jwt '{"alg":"HS256"}' "{\"sub\":\"$USER1\"}" "another secret")
	expired=$(jwt '{"alg":"HS256"}' "{\"sub\":\"$USER1\",\"exp\":1000}")
	early=$(jwt '{"alg":"HS256"}' "{\"sub\":\"$USER1\",\"exp\":$(($(date +%s) + 7200)),\"nbf\":$(($(date +%s) + 3600))}")
	none="$(printf '{"alg":"none"}' | b64url).$(printf '{"sub":"%s"}' "$USER1" | b64url)."
	hs512=$(jwt '{"alg":"HS512"}' "{\"sub\":\"$USER1\"}")
	for bad in "$forged" "$expired" "$early" "$none" "$hs512" "garbage" "a.b.c"; do
		req -H "Authorization: Bearer $bad" "$API/videos/$ID/progress"
		[ "$code" = 401 ]
	done
}

@test "plain CGI through PgBouncer (examples/pgbouncer.ini): 40 requests, 40 logins, a few server connections" {
	PGB=$(mktemp -d /tmp/vs-pgb.XXXXXX)
	VS_DATABASE_URL=$("$VS_TOP/scripts/pgbouncer" start "$PGB" "$VS_TEST_DB_URL")
	[[ $VS_DATABASE_URL == *"host=$PGB&port=6432"* ]]
	start_lighttpd lighttpd-cgi.conf
	t=$(token_for "$USER1")
	for i in $(seq 20); do
		req "$API/videos/lesson-one"
		[ "$code" = 200 ]
		req -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d "{\"current_time\": $((i / 10)).$((i % 10))}" \
			"$API/videos/$ID/progress"
		[ "$code" = 200 ]
	done
	[ "$(sql "SELECT current_time_seconds FROM video_progress WHERE user_id = '$USER1'")" = 2 ]
	# every request logged in to PgBouncer, which kept a few server connections for them all
	db=$(psql -X -qtA "$VS_TEST_DB_URL" -c 'SELECT current_database()')
	[ "$(grep -c "login attempt: db=$db " "$PGB/pgbouncer.log")" -ge 40 ]
	servers=$(grep -c "new connection to server" "$PGB/pgbouncer.log")
	[ "$servers" -ge 1 ]
	[ "$servers" -le 16 ]
	run -0 psql -X -qtA "postgresql:///pgbouncer?host=$PGB&port=6432&user=postgres" -c 'SHOW POOLS'
	[[ $output == *"$db|postgres|"*"|session"* ]]
}

@test "through lighttpd mod_cgi: bad bodies get 400, 413, 415 and 422" {
	start_lighttpd lighttpd-cgi.conf
	t=$(token_for "$USER1")
	auth=(-H "Authorization: Bearer $t" -H 'Content-Type: application/json')
	req -X POST "${auth[@]}" -d 'not json' "$API/videos/$ID/progress"
	[ "$code" = 400 ]
	req -X POST "${auth[@]}" -d '[1,2]' "$API/videos/$ID/progress"
	[ "$code" = 400 ]
	for body in '{"current_time": -1}' '{"current_time": "12"}' '{"current_time": 1e9}' '{}' '{"current_time": 1, "completed_percentage": "x"}'; do
		req -X POST "${auth[@]}" -d "$body" "$API/videos/$ID/progress"
		[ "$code" = 422 ]
	done
	head -c 70000 /dev/zero | tr '\0' ' ' >big.json
	req -X POST "${auth[@]}" --data-binary @big.json "$API/videos/$ID/progress"
	[ "$code" = 413 ]
	req -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/xml' -d '<a/>' "$API/videos/$ID/progress"
	[ "$code" = 415 ]
	req -X DELETE "$API/videos/$ID/progress"
	[ "$code" = 405 ]
	grep -qi '^allow: GET, HEAD, POST, OPTIONS' headers.txt
	[ "$(jqr body.json .title)" = "Method Not Allowed" ]
}

@test "through lighttpd mod_cgi: analytics beacons update one session, hostile strings stored as text" {
	start_lighttpd lighttpd-cgi.conf
	for w in 10 25; do
		req -X POST -H 'Content-Type: application/json' -A "Mozilla/5.0 (X11; Linux x86_64) Chrome/120" \
			-d "{\"session_id\":\"s-$BATS_TEST_NUMBER\",\"watch_time_seconds\":$w,\"load_time_ms\":800,\"buffering_events\":1,\"buffering_time_ms\":300,\"quality\":\"720p'); DROP TABLE videos;--\"}" \
			"$API/videos/$ID/analytics"
		[ "$code" = 204 ]
	done
	[ "$(sql "SELECT count(*), max(watch_time_seconds), max(host(ip_address)) FROM video_analytics WHERE session_id = 's-$BATS_TEST_NUMBER'")" = "1|25|127.0.0.0" ]
	[ "$(sql "SELECT quality_selected FROM video_analytics WHERE session_id = 's-$BATS_TEST_NUMBER'")" = "720p'); DROP TABLE videos;--" ]
	admin=$(jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"$USER1\",\"role\":\"admin\",\"exp\":$(($(date +%s) + 600))}")
	req -H "Authorization: Bearer $admin" "$API/videos/$ID/analytics"
	[ "$code" = 200 ]
	[ "$(jqr body.json .views)" -ge 1 ]
	req -X POST -H 'Content-Type: application/json' -d '{"watch_time_seconds": 3}' "$API/videos/$ID/analytics"
	[ "$code" = 422 ]
}

@test "through lighttpd mod_cgi: CORS for allowed origins, with preflight" {
	start_lighttpd lighttpd-cgi.conf
	req -X OPTIONS -H 'Origin: https://learn.example.com' -H 'Access-Control-Request-Method: POST' "$API/videos/$ID/progress"
	[ "$code" = 204 ]
	grep -qi '^access-control-allow-origin: https://learn.example.com' headers.txt
	grep -qi '^access-control-allow-methods: GET, HEAD, POST, OPTIONS' headers.txt
	grep -qi '^access-control-allow-headers: Authorization' headers.txt
	req -H 'Origin: https://evil.example.net' "$API/videos/$ID"
	[ "$code" = 200 ]
	run -1 grep -qi '^access-control-allow-origin' headers.txt
}

# nginx_token ID EXPIRES: the path token (EXPIRES/SIGNATURE) that vs-sign's
# nginx scheme gives for video ID's package, made with openssl
nginx_token() {
	printf '%s/%s' "$2" "$(printf '%s/vod/%s/ signing secret for tests' "$2" "$1" | openssl md5 -binary | b64url)"
}

@test "through lighttpd mod_cgi: the key endpoint needs a valid token for that video" {
	vs-package --encrypt aes-128 --out enc <<<"$(jq -c 'del(.published)' "$BATS_FILE_TMPDIR/pub.json")" >/dev/null
	start_lighttpd lighttpd-cgi.conf
	req "$API/videos/$ID/stream"
	token=$(jqr body.json .token)
	req "$API/videos/$ID/key?token=$token"
	[ "$code" = 200 ]
	cmp body.json <(head -c 16 "$VS_MEDIA_ROOT/$ID/keys/aes-128.key")
	# a token made by hand the same way opens it too...
	later=$(($(date +%s) + 600))
	req "$API/videos/$ID/key?token=$(nginx_token "$ID" "$later")"
	[ "$code" = 200 ]
	cmp body.json <(head -c 16 "$VS_MEDIA_ROOT/$ID/keys/aes-128.key")
	# ...but not one that expired, another video's, a forged or a missing one
	req "$API/videos/$ID/key?token=$(nginx_token "$ID" $(($(date +%s) - 60)))"
	[ "$code" = 403 ]
	req "$API/videos/$ID/key?token=$(nginx_token 00000000-0000-4000-8000-000000000001 "$later")"
	[ "$code" = 403 ]
	last=x
	[ "${token: -1}" != x ] || last=y # a character that differs
	req "$API/videos/$ID/key?token=${token%?}$last"
	[ "$code" = 403 ]
	# another video's valid token carrying its own scope, plain and %2F-encoded
	other=00000000-0000-4000-8000-000000000002
	theirs=$(nginx_token "$other" "$later")
	req "$API/videos/$ID/key?token=$theirs/vod/$other/"
	[ "$code" = 403 ]
	req "$API/videos/$ID/key?token=$(sed 's#/#%2F#g' <<<"$theirs/vod/$other/")"
	[ "$code" = 403 ]
	req "$API/videos/$ID/key?token=$token/"
	[ "$code" = 403 ]
	req "$API/videos/$ID/key"
	[ "$code" = 403 ]
	[ "$(jqr body.json .status)" = 403 ]
}

# ---- FastCGI ----

@test "through lighttpd FastCGI: one process serves many requests, and survives the database's restart" {
	# a cluster of this test's own, holding a copy of the file's database: the
	# suite's cluster serves other files running at the same time
	own_cluster
	start_lighttpd lighttpd-fastcgi.conf
	t=$(token_for "$USER1")
	for i in 0.5 1 1.5 2 2.5; do # the video is 4 s long
		req -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d "{\"current_time\": $i}" "$API/videos/$ID/progress"
		[ "$code" = 200 ]
	done
	[ "$(jqr body.json .current_time)" = 2.5 ]
	# the database goes away: 503 fast; comes back: 200 again
	own_cluster_stop
	start=$(date +%s)
	req "$API/health"
	[ "$code" = 503 ]
	[ $(($(date +%s) - start)) -le 3 ]
	own_cluster_start
	req "$API/health"
	[ "$code" = 200 ]
	req "$API/videos/lesson-one"
	[ "$code" = 200 ]
}

@test "two devices posting one user's progress at once leave a consistent row" {
	start_lighttpd lighttpd-fastcgi.conf
	t=$(token_for "$USER1")
	pids=()
	for d in 1 2; do
		(for i in $(seq 1 20); do
			curl -s -o /dev/null -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
				-d "{\"current_time\": $((d + i % 3))}" "$API/videos/$ID/progress"
		done) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}" # not lighttpd, also a child of this shell
	[ "$(sql "SELECT count(*), bool_and(current_time_seconds BETWEEN 0 AND 4) FROM video_progress WHERE user_id = '$USER1'")" = "1|t" ]
}

@test "through nginx and fcgiwrap: the same endpoints" {
	PORT=$(free_port)
	config nginx-fcgiwrap.conf "$PORT" >nginx.conf
	bg run/fcgiwrap.out fcgiwrap -s "unix:$PWD/run/fcgiwrap.sock"
	for _ in $(seq 50); do [ -S run/fcgiwrap.sock ] && break; sleep 0.1; done
	chmod 666 run/fcgiwrap.sock
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR" "$PWD/run"
	nginx -c "$PWD/nginx.conf" -e "$PWD/run/error.log"
	wait_port "$PORT"
	API="http://127.0.0.1:$PORT/api/v1"
	req "$API/health"
	[ "$code" = 200 ]
	req "$API/videos/lesson-one"
	[ "$code" = 200 ]
	t=$(token_for "$USER1")
	req -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d '{"current_time": 2}' "$API/videos/$ID/progress"
	[ "$code" = 200 ]
	req -X PATCH "$API/videos/$ID"
	[ "$code" = 405 ]
	# the admin endpoints pass through: 401 without identity
	req -X PUT -H 'Content-Type: application/json' -d '{"title":"x"}' "$API/videos/$ID"
	[ "$code" = 401 ]
}

@test "a FastCGI vs-cgi waiting for requests ends on SIGTERM, SIGINT and SIGHUP, exit 0" {
	# a web server stopping its FastCGI processes sends SIGTERM; Ctrl-C in
	# a terminal SIGINT (libfcgi's own handling only noted them)
	mkdir -p run
	for sig in TERM INT HUP; do
		rm -f run/vs-cgi.sock
		bg "run/fcgi-$sig.log" "$VS_TOP/tests/sigint-default" spawn-fcgi -n -s "$PWD/run/vs-cgi.sock" -- "$VS_TOP/bin/vs-cgi"
		pid=$BG_PID
		for _ in $(seq 100); do [ -S run/vs-cgi.sock ] && break; sleep 0.05; done
		[ -S run/vs-cgi.sock ]
		sleep 0.3 # in accept()
		kill -"$sig" "$pid"
		ended() { [ ! -e "/proc/$pid" ] || [ "$(awk '{ print $3 }' "/proc/$pid/stat")" = Z ]; } # a zombie until waited
		for _ in $(seq 100); do ended && break; sleep 0.05; done
		ended || { echo "SIG$sig: vs-cgi still runs"; return 1; }
		st=0
		wait "$pid" || st=$?
		[ "$st" -eq 0 ] || { echo "SIG$sig: exit $st"; cat "run/fcgi-$sig.log"; return 1; }
	done
}

@test "through nginx and spawn-fcgi: FastCGI processes with their configuration in the environment" {
	PORT=$(free_port)
	config nginx-fastcgi.conf "$PORT" >nginx.conf
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR" "$PWD/run"
	run -0 spawn-fcgi -s "$PWD/run/vs-cgi.sock" -M 0666 -F 2 -P "$PWD/run/spawn-fcgi.pid" -- "$VS_TOP/bin/vs-cgi"
	nginx -c "$PWD/nginx.conf" -e "$PWD/run/error.log"
	wait_port "$PORT"
	API="http://127.0.0.1:$PORT/api/v1"
	req "$API/videos/lesson-one"
	[ "$code" = 200 ]
	[ "$(jqr body.json .title)" = "Lesson one" ]
	t=$(token_for "$USER1")
	for i in 0.5 1 1.5; do
		req -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d "{\"current_time\": $i}" "$API/videos/$ID/progress"
		[ "$code" = 200 ]
	done
	[ "$(jqr body.json .current_time)" = 1.5 ]
	req "$API/videos/$ID/stream"
	[ "$code" = 200 ]
	[[ $(jqr body.json .stream_url) == http://127.0.0.1/t/*/vod/$ID/master.m3u8 ]]
}

@test "vs-cgi answers 400 to a body shorter than its Content-Length" {
	run -0 --separate-stderr env REQUEST_METHOD=POST PATH_INFO="/videos/lesson-one/analytics" CONTENT_LENGTH=500 \
		CONTENT_TYPE=application/json GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<'{"session_id": "short"}'
	[[ ${lines[0]} == "Status: 400 Bad Request"* ]]
	[[ $output == *"shorter than its Content-Length"* ]]
	[ "$(sql "SELECT count(*) FROM video_analytics WHERE session_id = 'short'")" = 0 ]
}

@test "vs-cgi with an unusable configuration answers 500 and says why in the log only" {
	export VS_SIGN_SCHEME=cloudfront
	cgi GET /health
	[ "${lines[0]}" = "Status: 500 Internal Server Error" ]
	[[ $output != *CLOUDFRONT* ]]
	[[ $stderr == *"VS_CLOUDFRONT_KEY_PAIR_ID"* ]]
	export VS_SIGN_SCHEME=hmac VS_SIGNING_KEY_FILE=/nonexistent/key
	cgi GET /health
	[ "${lines[0]}" = "Status: 500 Internal Server Error" ]
	[[ $stderr == *"/nonexistent/key"* ]]
	[[ $output != *nonexistent* ]]
}

@test "vs-cgi signs stream URLs for CloudFront with a custom policy and cookies" {
	openssl genrsa -out cf.pem 2048 2>/dev/null
	export VS_SIGN_SCHEME=cloudfront VS_CLOUDFRONT_KEY_PAIR_ID=K2JCJMDEHXQW5F VS_CLOUDFRONT_PRIVATE_KEY_FILE=$PWD/cf.pem
	export VS_PUBLIC_BASE_URL=https://d111111abcdef8.cloudfront.net/vod
	cgi GET "/videos/$ID/stream"
	[ "${lines[0]}" = "Status: 200 OK" ]
	printf '%s\n' "${lines[-1]}" >stream.json
	url=$(jqr stream.json .stream_url)
	[[ $url == https://d111111abcdef8.cloudfront.net/vod/$ID/master.m3u8\?Policy=*Key-Pair-Id=K2JCJMDEHXQW5F* ]]
	[ "$(jqr stream.json '.cookies["CloudFront-Key-Pair-Id"]')" = K2JCJMDEHXQW5F ]
	run -0 --separate-stderr vs-sign --scheme cloudfront --private-key cf.pem --verify "$url"
	run -0 --separate-stderr vs-sign --scheme cloudfront --private-key cf.pem --verify "$(jqr stream.json '.qualities[0].url')"
}

@test "several origins: /stream signs the package on each, in order, with each one's scheme" {
	openssl genrsa -out cf.pem 2048 2>/dev/null
	export VS_CLOUDFRONT_KEY_PAIR_ID=K2JCJMDEHXQW5F VS_CLOUDFRONT_PRIVATE_KEY_FILE=$PWD/cf.pem
	export VS_PUBLIC_BASE_URL="http://127.0.0.1/vod/, https://d111111abcdef8.cloudfront.net/vod"
	export VS_SIGN_SCHEME="nginx, cloudfront"
	cgi GET "/videos/$ID/stream"
	[ "${lines[0]}" = "Status: 200 OK" ]
	printf '%s\n' "${lines[-1]}" >stream.json
	# the first origin's stream, as with one; then each, in the order given
	[ "$(jqr stream.json .stream_url)" = "$(jqr stream.json '.origins[0].stream_url')" ]
	[ "$(jq -c '[.origins[].base_url]' stream.json)" = '["http://127.0.0.1/vod","https://d111111abcdef8.cloudfront.net/vod"]' ]
	first=$(jqr stream.json '.origins[0].stream_url')
	second=$(jqr stream.json '.origins[1].stream_url')
	[[ $first == http://127.0.0.1/t/*/vod/$ID/master.m3u8 ]]
	[[ $second == https://d111111abcdef8.cloudfront.net/vod/$ID/master.m3u8\?Policy=* ]]
	run -0 --separate-stderr vs-sign --scheme nginx --key-file "$VS_SIGNING_KEY_FILE" --verify "$first"
	run -0 --separate-stderr vs-sign --scheme cloudfront --private-key cf.pem --verify "$second"
	run -0 --separate-stderr vs-sign --scheme cloudfront --private-key cf.pem --verify "$(jqr stream.json '.origins[1].qualities[0].url')"
	[ "$(jqr stream.json '.origins[1].cookies["CloudFront-Key-Pair-Id"]')" = K2JCJMDEHXQW5F ]
	[ "$(jq -c '[.origins[].qualities | length] | unique' stream.json)" = "[$(jq '.qualities | length' stream.json)]" ]
	# one origin: no list
	VS_PUBLIC_BASE_URL=http://127.0.0.1/vod VS_SIGN_SCHEME=nginx cgi GET "/videos/$ID/stream"
	[ "$(printf '%s\n' "${lines[-1]}" | jq -c 'has("origins")')" = false ]
	# the authorizer of an origin takes a path signed for any of them
	export VS_SIGN_SCHEME="nginx, hmac" VS_PUBLIC_BASE_URL="http://127.0.0.1/vod,http://127.0.0.2:8080/vod"
	cgi GET "/videos/$ID/stream"
	printf '%s\n' "${lines[-1]}" >stream.json
	for o in 0 1; do
		u=$(jqr stream.json ".origins[$o].stream_url")
		path=/${u#http://*/}
		FCGI_ROLE=AUTHORIZER REQUEST_URI=$path cgi GET /
		[ "${lines[0]}" = "Status: 200 OK" ] || { echo "origin $o: $u: ${lines[0]}"; return 1; }
	done
	FCGI_ROLE=AUTHORIZER REQUEST_URI=/vod/$ID/master.m3u8 cgi GET /
	[ "${lines[0]}" = "Status: 403 Forbidden" ]
	# and bad lists are a configuration error, said in the log
	for bad in "ftp://x/vod" "http://a/vod,,/relative" "http://1/,http://2/,http://3/,http://4/,http://5/"; do
		VS_PUBLIC_BASE_URL=$bad cgi GET /health
		[ "${lines[0]}" = "Status: 500 Internal Server Error" ] || { echo "$bad: ${lines[0]}"; return 1; }
		[[ $stderr == *VS_PUBLIC_BASE_URL* ]]
	done
	VS_SIGN_SCHEME="nginx, md5" cgi GET /health
	[ "${lines[0]}" = "Status: 500 Internal Server Error" ]
	[[ $stderr == *VS_SIGN_SCHEME* ]]
}

@test "every endpoint answers HEAD like GET, without a body" {
	export REMOTE_USER=ops VS_ADMIN_USERS=ops # the analytics summary is an admin's
	for path in /health "/videos/$ID" "/videos/$ID/qualities" "/videos/$ID/chapters" "/videos/$ID/stream" "/videos/$ID/analytics"; do
		cgi GET "$path"
		sed '1,/^\r$/d' answer.raw >get.body
		[ -s get.body ]
		cgi HEAD "$path"
		[ "${lines[0]}" = "Status: 200 OK" ]
		# the headers and their blank line, then nothing; GET's length
		[ -z "$(sed '1,/^\r$/d' answer.raw)" ]
		[ "$(tail -c 2 answer.raw | od -An -c | tr -d ' ')" = '\r\n' ]
		len=$(sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' answer.raw)
		[ "$len" = "$(stat -c %s get.body)" ] || { echo "$path: HEAD says $len, GET sent $(stat -c %s get.body)"; return 1; }
	done
}

@test "the site (scripts/serve): the origin serves signed paths only, vs-cgi authorizing them" {
	export VS_SIGN_SCHEME=hmac
	PORT=$(free_port)
	export VS_PUBLIC_BASE_URL=http://127.0.0.1:$PORT/vod
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
	run -0 "$VS_TOP/scripts/serve" --port "$PORT" --root "$BATS_FILE_TMPDIR/www" --run "$PWD/run" --background
	req "http://127.0.0.1:$PORT/api/v1/videos/$ID/stream"
	[ "$code" = 200 ]
	url=$(jqr body.json .stream_url)
	[[ $url == "http://127.0.0.1:$PORT/t/"*"/vod/$ID/master.m3u8" ]]
	mp4=$(jqr body.json .fallback.url)
	req "$url"
	[ "$code" = 200 ]
	grep -qi '^content-type: application/vnd.apple.mpegurl' headers.txt
	# everything the master points at is reachable below the same token
	run -0 ffprobe -v error -show_entries format=duration -of csv=p=0 "$url"
	[[ $output == 4.* || $output == 3.9* ]]
	# the progressive MP4 too, as video/mp4, in ranges (a player seeks in it)
	[[ $mp4 == "http://127.0.0.1:$PORT/t/"*"/vod/$ID/progressive.mp4" ]]
	req -r 0-99 "$mp4"
	[ "$code" = 206 ]
	grep -qi '^content-type: video/mp4' headers.txt
	run -0 ffprobe -v error -show_entries format=duration -of csv=p=0 "$mp4"
	[[ $output == 4.* || $output == 3.9* ]]
	req "http://127.0.0.1:$PORT/vod/$ID/progressive.mp4" # no token
	[ "$code" = 403 ]
	req "http://127.0.0.1:$PORT/vod/$ID/master.m3u8" # no token
	[ "$code" = 403 ]
	# forged: the signature's first character changed (to A, or B if it was A)
	req "$(sed -e 's|/t/\([0-9]*\)/A|/t/\1/B|;t' -e 's|/t/\([0-9]*\)/[^/]|/t/\1/A|' <<<"$url")"
	[ "$code" = 403 ]
	req "$(sed 's|/t/[0-9]*/|/t/1000000000/|' <<<"$url")" # expired (and so forged)
	[ "$code" = 403 ]
	req "${url/$ID/00000000-0000-4000-8000-000000000000}" # another video
	[ "$code" = 403 ]
	# this video's token, climbing to another's directory: lighttpd would
	# normalise the path, the authorizer must not be fooled by it
	mkdir -p "$BATS_FILE_TMPDIR/www/vod/other-video"
	echo secret >"$BATS_FILE_TMPDIR/www/vod/other-video/master.m3u8"
	req --path-as-is "${url%master.m3u8}../other-video/master.m3u8"
	[ "$code" = 403 ]
	req --path-as-is "${url%master.m3u8}%2e%2e/other-video/master.m3u8"
	[ "$code" = 403 ]
	rm -r "$BATS_FILE_TMPDIR/www/vod/other-video"
	# hls.js at a path naming its version, kept for good; the player's own
	# files asked again each time; the page names the version npm installed
	v=$(jq -r .version "$VS_TOP/node_modules/hls.js/package.json")
	for build in hls.light.min.js hls.min.js; do
		req "http://127.0.0.1:$PORT/lib/hls.js/$v/$build"
		[ "$code" = 200 ]
		grep -qi '^cache-control: public, max-age=31536000, immutable' headers.txt
		grep -qF "/lib/hls.js/$v/$build" "$VS_TOP/examples/player/index.html"
	done
	for f in / /index.html /player.js; do
		req "http://127.0.0.1:$PORT$f"
		[ "$code" = 200 ]
		grep -qi '^cache-control: no-cache' headers.txt
		grep -qi '^etag: ' headers.txt
	done
}
