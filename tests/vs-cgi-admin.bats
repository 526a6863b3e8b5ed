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

# jwt PAYLOAD_JSON: an HS256 token for the test's secret
jwt() { hs256 '{"alg":"HS256","typ":"JWT"}' "$1" "jwt secret for tests"; }

# req TOKEN METHOD PATH [BODY]: vs-cgi's answer (CRLF made LF) in $output,
# the status line in ${lines[0]}, the body (last line) in $body; TOKEN "-" for none
req_raw() {
	local auth=() body=${4:-}
	[ "$1" = - ] || auth=(HTTP_AUTHORIZATION="Bearer $1")
	env "${auth[@]}" REQUEST_METHOD="$2" PATH_INFO="$3" CONTENT_LENGTH=${#body} CONTENT_TYPE=application/json \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi <<<"$body" >answer.raw || return
	tr -d '\r' <answer.raw
}

# vs-cgi exits 0 whenever it answered (vs-cgi(1)): anything else, a
# sanitizer's report among them, fails the test
req() {
	run -0 --separate-stderr req_raw "$@"
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

# multipart FILE [NAME=VALUE...]: a multipart/form-data body (boundary XyZzy)
# with FILE as the part "video", and text fields
multipart() {
	python3 - "$@" <<'PY'
import os, sys
out = sys.stdout.buffer
b = b"XyZzy"
path, fields = sys.argv[1], sys.argv[2:]
out.write(b"preamble, ignored\r\n")
for f in fields:
    k, v = f.split("=", 1)
    out.write(b"--" + b + b"\r\nContent-Disposition: form-data; name=\"" + k.encode() + b"\"\r\n\r\n" + v.encode() + b"\r\n")
out.write(b"--" + b + b"\r\nContent-Disposition: form-data; name=\"video\"; filename=\"" + os.path.basename(path).encode()
          + b"\"\r\nContent-Type: video/mp4\r\n\r\n")
out.write(open(path, "rb").read())
out.write(b"\r\n--" + b + b"--\r\n")
PY
}

# upload TOKEN BODYFILE [CONTENT_TYPE]: POST /videos/upload as CGI
upload_raw() {
	local auth=()
	[ "$1" = - ] || auth=(HTTP_AUTHORIZATION="Bearer $1")
	env "${auth[@]}" REQUEST_METHOD=POST PATH_INFO=/videos/upload CONTENT_LENGTH="$(stat -c %s "$2")" \
		CONTENT_TYPE="${3:-multipart/form-data; boundary=XyZzy}" GATEWAY_INTERFACE=CGI/1.1 vs-cgi <"$2" >answer.raw || return
	tr -d '\r' <answer.raw
}

upload() {
	run -0 --separate-stderr upload_raw "$@"
	body=${lines[-1]}
}

@test "POST /videos/upload: multipart into the media root, ingested, queued; the pipeline publishes it" {
	multipart "$(fixture hd.mp4)" title="Uploaded lesson" "tags=a, b" category=math >body.bin
	upload - body.bin
	[[ ${lines[0]} == "Status: 401 "* ]]
	upload "$VIEWER" body.bin
	[[ ${lines[0]} == "Status: 403 "* ]]
	upload "$ADMIN" body.bin
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(jq -r .upload_status <<<"$body")" = processing ]
	[ "$(jq -r .title <<<"$body")" = "Uploaded lesson" ]
	[ "$(jq -r .source.original_filename <<<"$body")" = hd.mp4 ]
	id=$(jq -r .id <<<"$body")
	[ "$(sql "SELECT title, array_to_string(tags, ','), category, upload_status FROM videos WHERE id = '$id'")" = "Uploaded lesson|a,b|math|processing" ]
	cmp "$(fixture hd.mp4)" "$(jq -r .source.path <<<"$body")"
	[ -z "$(ls -A media/.incoming)" ] # nothing left behind
	# the same bytes again: the same video
	upload "$ADMIN" body.bin
	[ "$(jq -r .id <<<"$body")" = "$id" ]
	# a cron round encodes, packages and publishes it
	sql "DELETE FROM videos WHERE id <> '$id'" >/dev/null
	vs-queue claim --no-renew | vs-encode --preset ultrafast --ladder 180p | vs-package --segment-seconds 2 |
		vs-publish --to "file://$ORIGIN" --base-url http://127.0.0.1/vod | vs-queue done >done.ndjson
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
	[ -s "$ORIGIN/$id/master.m3u8" ]
}

@test "POST /videos/upload with no vs-ingest beside vs-cgi: 500, no video, nothing left in the media root" {
	mkdir lone
	cp "$VS_TOP/bin/vs-cgi" lone/
	multipart "$(fixture lecture.mp4)" title=Lone >body.bin
	before=$(sql "SELECT count(*) FROM videos")
	run -0 --separate-stderr env HTTP_AUTHORIZATION="Bearer $ADMIN" REQUEST_METHOD=POST PATH_INFO=/videos/upload \
		CONTENT_LENGTH="$(stat -c %s body.bin)" CONTENT_TYPE="multipart/form-data; boundary=XyZzy" \
		GATEWAY_INTERFACE=CGI/1.1 lone/vs-cgi <body.bin
	[[ $output == "Status: 500 "* ]]
	[[ $stderr == *"vs-ingest"* ]]
	[ "$(sql "SELECT count(*) FROM videos")" = "$before" ]
	[ -z "$(ls -A media/.incoming)" ]
}

@test "POST /videos/upload refuses what is not a video (422), bad bodies (400), too large (413), no length (411)" {
	cp "$(fixture garbage.mp4)" garbage.mp4
	multipart garbage.mp4 title=Noise >garbage.bin
	upload "$ADMIN" garbage.bin
	[[ ${lines[0]} == "Status: 422 "* ]]
	[[ $body == *"not a media file"* ]]
	[ "$(sql "SELECT count(*) FROM videos")" = 2 ]
	# truncated: the closing boundary never comes
	multipart "$(fixture lecture.mp4)" >whole.bin
	head -c 5000 whole.bin >cut.bin
	upload "$ADMIN" cut.bin
	[[ ${lines[0]} == "Status: 400 "* ]]
	[[ $body == *"closing boundary"* ]]
	# no file part; not multipart; no boundary
	printf -- '--XyZzy\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--XyZzy--\r\n' >nofile.bin
	upload "$ADMIN" nofile.bin
	[[ ${lines[0]} == "Status: 400 "* ]]
	[[ $body == *"no 'video' file part"* ]]
	upload "$ADMIN" whole.bin application/json
	[[ ${lines[0]} == "Status: 400 "* ]]
	upload "$ADMIN" whole.bin "multipart/form-data"
	[[ ${lines[0]} == "Status: 400 "* ]]
	# over VS_UPLOAD_MAX: refused by its Content-Length, or as it streams
	run -0 --separate-stderr env VS_UPLOAD_MAX=1000 HTTP_AUTHORIZATION="Bearer $ADMIN" REQUEST_METHOD=POST \
		PATH_INFO=/videos/upload CONTENT_LENGTH=900000 CONTENT_TYPE="multipart/form-data; boundary=XyZzy" \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
	[[ ${lines[0]} == "Status: 413 "* ]]
	multipart "$(fixture lecture.mp4)" >big.bin
	run -0 --separate-stderr env VS_UPLOAD_MAX=40000 HTTP_AUTHORIZATION="Bearer $ADMIN" REQUEST_METHOD=POST \
		PATH_INFO=/videos/upload CONTENT_LENGTH="$(stat -c %s big.bin)" CONTENT_TYPE="multipart/form-data; boundary=XyZzy" \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi <big.bin
	[[ ${lines[0]} == "Status: 413 "* ]]
	run -0 --separate-stderr env HTTP_AUTHORIZATION="Bearer $ADMIN" REQUEST_METHOD=POST PATH_INFO=/videos/upload \
		CONTENT_TYPE="multipart/form-data; boundary=XyZzy" GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
	[[ ${lines[0]} == "Status: 411 "* ]]
	[ -z "$(ls -A media/.incoming 2>/dev/null)" ]
	[ "$(sql "SELECT count(*) FROM videos")" = 2 ]
}

@test "POST /videos/upload with a REMOTE_USER needs an allowed Origin; through lighttpd, curl -F uploads" {
	multipart "$(fixture other.mp4)" >body.bin
	run -0 --separate-stderr env REMOTE_USER=ops VS_ADMIN_USERS=ops HTTP_ORIGIN=https://evil.example REQUEST_METHOD=POST \
		PATH_INFO=/videos/upload CONTENT_LENGTH="$(stat -c %s body.bin)" CONTENT_TYPE="multipart/form-data; boundary=XyZzy" \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi <body.bin
	[[ ${lines[0]} == "Status: 403 "* ]]
	# a stock client through a stock server
	start_upload_lighttpd
	code=$(curl -s -o up.json -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -F "video=@$(fixture noaudio.mp4)" \
		-F "title=Through lighttpd" "http://127.0.0.1:$PORT/api/v1/videos/upload")
	[ "$code" = 200 ] || { cat up.json run/error.log; return 1; }
	[ "$(jqr up.json .title)" = "Through lighttpd" ]
	[ "$(jqr up.json .source.original_filename)" = noaudio.mp4 ]
	[ "$(sql "SELECT count(*) FROM videos WHERE title = 'Through lighttpd'")" = 1 ]
}
