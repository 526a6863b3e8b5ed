#!/usr/bin/env bats
# vs-cgi's admin endpoints (PUT /videos/:id, PUT /videos/:id/publish,
# DELETE /videos/:id) and what is_public means, as CGI without a server;
# the database checked with psql. A file of its own: these tests change
# the videos they are given.

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	printf 'jwt secret for tests' >"$BATS_FILE_TMPDIR/jwt.key"
	printf 'signing secret for tests' >"$BATS_FILE_TMPDIR/sign.key"
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	export VS_JWT_SECRET_FILE="$BATS_FILE_TMPDIR/jwt.key" VS_SIGNING_KEY_FILE="$BATS_FILE_TMPDIR/sign.key"
	export VS_SIGN_SCHEME=hmac VS_PUBLIC_BASE_URL=http://127.0.0.1/vod
	export VS_MEDIA_ROOT="$BATS_TEST_TMPDIR/media" ORIGIN="$BATS_TEST_TMPDIR/origin"
	export VS_PUBLISH_URL="file://$ORIGIN"
	cd "$BATS_TEST_TMPDIR"
	sql "DELETE FROM videos" >/dev/null
	# a published lesson (a fake package: these tests need its rows, not its media)
	vs-ingest "$(fixture lecture.mp4)" --slug lesson --title "Lesson" >rec.json
	ID=$(jqr rec.json .id)
	sql "UPDATE videos SET upload_status = 'ready', is_published = true, published_at = now() WHERE id = '$ID'" >/dev/null
	mkdir -p "$ORIGIN/$ID" && touch "$ORIGIN/$ID/master.m3u8"
	vs-ingest "$(fixture other.mp4)" --slug draft --title "Draft" >draft.json
	DRAFT=$(jqr draft.json .id)
	EXP=$(($(date +%s) + 600))
	ADMIN=$(jwt "{\"sub\":\"5b1c0000-0000-4000-8000-000000000001\",\"role\":\"admin\",\"exp\":$EXP}")
	EDITOR=$(jwt "{\"sub\":\"5b1c0000-0000-4000-8000-000000000002\",\"scope\":\"videos:read videos:write\",\"exp\":$EXP}")
	VIEWER=$(jwt "{\"sub\":\"5b1c0000-0000-4000-8000-000000000003\",\"exp\":$EXP}")
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# jwt PAYLOAD_JSON: an HS256 token made with openssl
jwt() {
	local h p s
	h=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
	p=$(printf '%s' "$1" | b64url)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "jwt secret for tests" -binary | b64url)
	printf '%s.%s.%s' "$h" "$p" "$s"
}

# req TOKEN METHOD PATH [BODY]: vs-cgi's answer (CRLF made LF) in $output,
# the status line in ${lines[0]}, the body (last line) in $body; TOKEN "-" for none
req_raw() {
	local auth=() body=${4:-}
	[ "$1" = - ] || auth=(HTTP_AUTHORIZATION="Bearer $1")
	env "${auth[@]}" REQUEST_METHOD="$2" PATH_INFO="$3" CONTENT_LENGTH=${#body} CONTENT_TYPE=application/json \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<"$body" | tr -d '\r'
}

req() {
	run --separate-stderr req_raw "$@"
	body=${lines[-1]}
}

@test "PUT /videos/:id: 401 with no identity, 403 for a viewer, 200 for the admin claim or an admin user" {
	req - PUT "/videos/$ID" '{"title":"Changed"}'
	[[ ${lines[0]} == "Status: 401 "* ]]
	[[ $output == *"WWW-Authenticate: Bearer"* ]]
	req "$VIEWER" PUT "/videos/$ID" '{"title":"Changed"}'
	[[ ${lines[0]} == "Status: 403 "* ]]
	[[ $output == *"application/problem+json"* ]]
	[ "$(sql "SELECT title FROM videos WHERE id = '$ID'")" = Lesson ]
	req "$ADMIN" PUT "/videos/$ID" '{"title":"Lesson, again","description":"Now with words","tags":["a","b"],"category":"math"}'
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(jq -r .title <<<"$body")" = "Lesson, again" ]
	[ "$(sql "SELECT title, description, array_to_string(tags, ','), category FROM videos WHERE id = '$ID'")" = "Lesson, again|Now with words|a,b|math" ]
	req "$EDITOR" PUT /videos/lesson '{"title":"By slug"}'
	[[ ${lines[0]} == "Status: 200 "* ]]
	run -0 env REMOTE_USER=ops VS_ADMIN_USERS="alice, ops" REQUEST_METHOD=PUT PATH_INFO=/videos/lesson \
		CONTENT_LENGTH=18 CONTENT_TYPE=application/json GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<'{"title":"By ops"}'
	[[ $output == "Status: 200 "* ]]
	[ "$(sql "SELECT title FROM videos WHERE id = '$ID'")" = "By ops" ]
	run -0 env REMOTE_USER=mallory VS_ADMIN_USERS="alice, ops" REQUEST_METHOD=PUT PATH_INFO=/videos/lesson \
		CONTENT_LENGTH=18 CONTENT_TYPE=application/json GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<'{"title":"By mall"}'
	[[ $output == "Status: 403 "* ]]
}

@test "PUT /videos/:id checks what it changes: 422 naming the field, 409 for a taken slug, 400, 404" {
	req "$ADMIN" PUT "/videos/$ID" '{"title":""}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	[[ $body == *"title"* ]]
	req "$ADMIN" PUT "/videos/$ID" '{"titel":"typo"}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	[[ $body == *"'titel'"* ]]
	req "$ADMIN" PUT "/videos/$ID" '{"is_public":"no"}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	req "$ADMIN" PUT "/videos/$ID" '{"slug":"Bad Slug"}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	req "$ADMIN" PUT "/videos/$ID" '{"slug":"draft"}'
	[[ ${lines[0]} == "Status: 409 "* ]]
	req "$ADMIN" PUT "/videos/$ID" '{"chapters":[{"title":"B","start_time_seconds":3},{"title":"A","start_time_seconds":1}]}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	req "$ADMIN" PUT "/videos/$ID" 'not json'
	[[ ${lines[0]} == "Status: 400 "* ]]
	req "$ADMIN" PUT "/videos/5b1c0000-0000-4000-8000-00000000ffff" '{"title":"x"}'
	[[ ${lines[0]} == "Status: 404 "* ]]
	req "$ADMIN" PUT "/videos/x';DROP TABLE videos;--" '{"title":"x"}'
	[[ ${lines[0]} == "Status: 400 "* ]]
	[ "$(sql "SELECT title, slug FROM videos WHERE id = '$ID'")" = "Lesson|lesson" ]
	# what a client read from GET and sends back whole is accepted
	req - GET "/videos/$ID"
	read_back=$(jq -c '.title = "Read back"' <<<"${lines[-1]}")
	req "$ADMIN" PUT "/videos/$ID" "$read_back"
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(sql "SELECT title FROM videos WHERE id = '$ID'")" = "Read back" ]
}

@test "PUT /videos/:id replaces the chapters that GET /videos/:id/chapters answers" {
	req "$ADMIN" PUT "/videos/$ID" '{"chapters":[{"title":"Start","start_time_seconds":0,"end_time_seconds":2},{"title":"End","start_time_seconds":2}]}'
	[[ ${lines[0]} == "Status: 200 "* ]]
	req - GET "/videos/$ID/chapters"
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(jq -r 'map(.title) | join(",")' <<<"$body")" = "Start,End" ]
	[ "$(jq -r '.[1].start_time_seconds' <<<"$body")" = 2 ]
}

@test "PUT /videos/:id/publish hides and shows again; an unpublished video is 404 to all but an admin" {
	req "$VIEWER" PUT "/videos/$ID/publish" '{"is_published":false}'
	[[ ${lines[0]} == "Status: 403 "* ]]
	req "$ADMIN" PUT "/videos/$ID/publish" '{"is_published":false}'
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(jq -r .is_published <<<"$body")" = false ]
	[ "$(sql "SELECT is_published FROM videos WHERE id = '$ID'")" = f ]
	req - GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 404 "* ]]
	req "$VIEWER" GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 404 "* ]]
	req "$ADMIN" GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(jq -r .id <<<"$body")" = "$ID" ]
	req "$ADMIN" PUT "/videos/$ID/publish" '{"is_published":true}'
	[[ ${lines[0]} == "Status: 200 "* ]]
	req - GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 200 "* ]]
	# a video whose package was never published cannot be
	req "$ADMIN" PUT "/videos/$DRAFT/publish" '{"is_published":true}'
	[[ ${lines[0]} == "Status: 409 "* ]]
	[[ $body == *"not ready"* ]]
	req "$ADMIN" PUT "/videos/$ID/publish" '{"is_published":"yes"}'
	[[ ${lines[0]} == "Status: 422 "* ]]
	req "$ADMIN" GET "/videos/$ID/publish"
	[[ ${lines[0]} == "Status: 405 "* ]]
}

@test "is_public false: a published video answers signed-in viewers only" {
	req "$ADMIN" PUT "/videos/$ID" '{"is_public":false}'
	[[ ${lines[0]} == "Status: 200 "* ]]
	for path in "/videos/$ID" "/videos/$ID/chapters" "/videos/$ID/qualities" "/videos/$ID/stream"; do
		req - GET "$path"
		[[ ${lines[0]} == "Status: 401 "* ]] || { echo "$path: ${lines[0]}"; return 1; }
	done
	req "$VIEWER" GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(jq -r .is_public <<<"$body")" = false ]
	req "$ADMIN" PUT "/videos/$ID" '{"is_public":true}'
	req - GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 200 "* ]]
}

@test "DELETE /videos/:id: 204, gone for everyone, its objects off the origin" {
	req - DELETE "/videos/$ID"
	[[ ${lines[0]} == "Status: 401 "* ]]
	req "$VIEWER" DELETE "/videos/$ID"
	[[ ${lines[0]} == "Status: 403 "* ]]
	[ -e "$ORIGIN/$ID/master.m3u8" ]
	req "$ADMIN" DELETE "/videos/$ID"
	[[ ${lines[0]} == "Status: 204 "* ]]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$ID'")" = "deleted|f" ]
	[ ! -e "$ORIGIN/$ID" ]
	req - GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 404 "* ]]
	req "$ADMIN" GET "/videos/$ID"
	[[ ${lines[0]} == "Status: 404 "* ]]
	req "$ADMIN" DELETE "/videos/$ID"
	[[ ${lines[0]} == "Status: 404 "* ]]
	req "$ADMIN" PUT "/videos/$ID" '{"title":"back?"}'
	[[ ${lines[0]} == "Status: 404 "* ]]
}

@test "OPTIONS names the admin methods; other methods stay 405" {
	req - OPTIONS "/videos/$ID"
	[[ ${lines[0]} == "Status: 204 "* ]]
	[[ $output == *"Allow: GET, HEAD, PUT, DELETE, OPTIONS"* ]]
	req - OPTIONS "/videos/$ID/publish"
	[[ $output == *"Allow: PUT, OPTIONS"* ]]
	req "$ADMIN" DELETE "/videos/$ID/stream"
	[[ ${lines[0]} == "Status: 405 "* ]]
	req "$ADMIN" PATCH "/videos/$ID"
	[[ ${lines[0]} == "Status: 405 "* ]]
}
