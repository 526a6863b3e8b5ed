#!/usr/bin/env bats
# Resumable uploads (tus 1.0.0) into vs-cgi: by hand (the CGI contract,
# curl's requests spelled out) and with a stock client, tus-js-client,
# through stock lighttpd; the database checked with psql.

load helper

setup_file() {
	use_db
	printf 'jwt secret for tests' >"$BATS_FILE_TMPDIR/jwt.key"
	printf 'signing secret for tests' >"$BATS_FILE_TMPDIR/sign.key"
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL VS_JWT_SECRET_FILE="$BATS_FILE_TMPDIR/jwt.key"
	export VS_MEDIA_ROOT="$BATS_TEST_TMPDIR/media"
	cd "$BATS_TEST_TMPDIR"
	sql "DELETE FROM videos" >/dev/null
	ADMIN=$(jwt "{\"sub\":\"5b1c0000-0000-4000-8000-000000000001\",\"role\":\"admin\",\"exp\":$(($(date +%s) + 600))}")
	VIEWER=$(jwt "{\"sub\":\"5b1c0000-0000-4000-8000-000000000002\",\"exp\":$(($(date +%s) + 600))}")
}

teardown() {
	stop_bg
	[ ! -f run/nginx.pid ] || kill "$(cat run/nginx.pid)" 2>/dev/null || :
	# FastCGI processes lighttpd spawned (libfcgi only notes SIGTERM)
	pkill -KILL -f "$BATS_TEST_TMPDIR/run/vs-cgi.sock" 2>/dev/null || true
	return 0
}

# jwt PAYLOAD_JSON: an HS256 token for the test's secret
jwt() { hs256 '{"alg":"HS256","typ":"JWT"}' "$1" "jwt secret for tests"; }

# tus METHOD PATH [VAR=VALUE...] < body: vs-cgi's answer, CRLF made LF
tus_raw() {
	local m=$1 p=$2
	shift 2
	env HTTP_AUTHORIZATION="Bearer $ADMIN" HTTP_TUS_RESUMABLE=1.0.0 REQUEST_METHOD="$m" PATH_INFO="$p" \
		SCRIPT_NAME=/api/v1 GATEWAY_INTERFACE=CGI/1.1 "$@" vs-cgi >answer.raw || return
	tr -d '\r' <answer.raw
}

header() { sed -n "s/^$1: //p" <<<"$output"; }

@test "tus by hand: create, HEAD, PATCH in pieces, the last one ingests; Location and offsets right" {
	src=$(fixture lecture.mp4)
	size=$(stat -c %s "$src")
	meta="filename $(printf lecture.mp4 | base64 -w0),title $(printf 'Uploaded by tus' | base64 -w0)"
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH="$size" HTTP_UPLOAD_METADATA="$meta" CONTENT_LENGTH=0 </dev/null
	[[ ${lines[0]} == "Status: 201 "* ]]
	[ "$(header Tus-Resumable)" = 1.0.0 ]
	loc=$(header Location)
	[[ $loc == /api/v1/videos/upload/* ]]
	id=${loc##*/}
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[[ ${lines[0]} == "Status: 200 "* ]]
	[ "$(header Upload-Offset)" = 0 ]
	[ "$(header Upload-Length)" = "$size" ]
	[[ $output == *"Cache-Control: no-store"* ]]
	half=$((size / 2))
	head -c "$half" "$src" >first.bin
	tail -c +$((half + 1)) "$src" >second.bin
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH="$half" <first.bin
	[[ ${lines[0]} == "Status: 204 "* ]]
	[ "$(header Upload-Offset)" = "$half" ]
	# the wrong offset: 409, nothing written
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH="$half" <first.bin
	[[ ${lines[0]} == "Status: 409 "* ]]
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[ "$(header Upload-Offset)" = "$half" ]
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET="$half" CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH="$((size - half))" <second.bin
	[[ ${lines[0]} == "Status: 204 "* ]]
	[ "$(header Upload-Offset)" = "$size" ]
	video=$(header Vs-Video-Id)
	[ "$(sql "SELECT title, original_filename, upload_status FROM videos WHERE id = '$video'")" = "Uploaded by tus|lecture.mp4|processing" ]
	cmp "$src" "$(sql "SELECT source_path FROM videos WHERE id = '$video'")"
	# finished and ingested: the upload itself is gone
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[[ ${lines[0]} == "Status: 404 "* ]]
	[ -z "$(ls -A media/.uploads)" ]
}

@test "tus: a PATCH cut short keeps what came; the client resumes from HEAD's offset" {
	src=$(fixture lecture.mp4)
	size=$(stat -c %s "$src")
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH="$size" CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	# the connection dies after 10,000 of the bytes announced
	head -c 10000 "$src" >cut.bin
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH="$size" <cut.bin
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[ "$(header Upload-Offset)" = 10000 ]
	tail -c +10001 "$src" >rest.bin
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=10000 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH="$((size - 10000))" <rest.bin
	[[ ${lines[0]} == "Status: 204 "* ]]
	video=$(header Vs-Video-Id)
	cmp "$src" "$(sql "SELECT source_path FROM videos WHERE id = '$video'")"
}

@test "tus: two PATCHes at once, one is refused (423) and the bytes are never interleaved" {
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=100 CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	# another request holds the upload's lock until the test lets it go
	bg holder.log flock media/.uploads/"$id".part sh -c ': >held; while [ ! -e release ]; do sleep 0.05; done'
	holder=$BG_PID
	for _ in $(seq 200); do
		[ -e held ] && break
		sleep 0.05
	done
	[ -e held ]
	printf '%0100d' 0 >body.bin
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=100 <body.bin
	[[ ${lines[0]} == "Status: 423 "* ]]
	touch release
	wait "$holder"
	[ "$(stat -c %s media/.uploads/"$id".part)" = 0 ]
	# the lock free again, the same PATCH is taken
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=100 <body.bin
	[[ ${lines[0]} != "Status: 423 "* ]]
}

@test "tus refuses: no Tus-Resumable (412), no identity (401), a viewer (403), too large (413), bad metadata (400), not a video (422)" {
	run -0 env HTTP_AUTHORIZATION="Bearer $ADMIN" REQUEST_METHOD=HEAD PATH_INFO=/videos/upload/5b1c0000-0000-4000-8000-000000000009 \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
	[[ $output == "Status: 412 "* ]]
	run -0 env HTTP_TUS_RESUMABLE=1.0.0 REQUEST_METHOD=POST PATH_INFO=/videos/upload HTTP_UPLOAD_LENGTH=10 \
		GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
	[[ $output == "Status: 401 "* ]]
	run -0 env HTTP_AUTHORIZATION="Bearer $VIEWER" HTTP_TUS_RESUMABLE=1.0.0 REQUEST_METHOD=POST PATH_INFO=/videos/upload \
		HTTP_UPLOAD_LENGTH=10 GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
	[[ $output == "Status: 403 "* ]]
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=1000000 VS_UPLOAD_MAX=1000 CONTENT_LENGTH=0 </dev/null
	[[ ${lines[0]} == "Status: 413 "* ]]
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=10 HTTP_UPLOAD_METADATA="filename !!!notbase64" CONTENT_LENGTH=0 </dev/null
	[[ ${lines[0]} == "Status: 400 "* ]]
	run -0 tus_raw POST /videos/upload CONTENT_LENGTH=0 </dev/null
	[[ ${lines[0]} == "Status: 400 "* ]]
	run -0 tus_raw HEAD "/videos/upload/x';DROP TABLE videos;--" </dev/null
	[[ ${lines[0]} == "Status: 404 "* ]]
	# a whole upload that is not a video: 422, and its bytes are gone
	head -c 5000 "$(fixture garbage.mp4)" >noise.bin
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=5000 CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=5000 <noise.bin
	[[ ${lines[0]} == "Status: 422 "* ]]
	[[ $output == *"not a media file"* ]]
	[ -z "$(ls -A media/.uploads)" ]
	# more bytes than the upload's length
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=10 CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=5000 <noise.bin
	[[ ${lines[0]} == "Status: 413 "* ]]
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/octet-stream \
		CONTENT_LENGTH=5 <noise.bin
	[[ ${lines[0]} == "Status: 415 "* ]]
	# termination
	run -0 tus_raw DELETE "/videos/upload/$id" </dev/null
	[[ ${lines[0]} == "Status: 204 "* ]]
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[[ ${lines[0]} == "Status: 404 "* ]]
	[ "$(sql "SELECT count(*) FROM videos")" = 0 ]
}

@test "tus discovery: OPTIONS names the version, the extensions and Tus-Max-Size" {
	run -0 env REQUEST_METHOD=OPTIONS PATH_INFO=/videos/upload VS_UPLOAD_MAX=123456 GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
	[[ $output == "Status: 204 "* ]]
	[[ $output == *"Tus-Version: 1.0.0"* ]]
	[[ $output == *"Tus-Extension: creation,termination"* ]]
	[[ $output == *"Tus-Max-Size: 123456"* ]]
}

@test "tus-js-client uploads through stock lighttpd, in chunks, and the video is registered" {
	start_upload_lighttpd
	src=$(fixture hd.mp4)
	run -0 --separate-stderr node "$VS_TOP/tests/tus.js" "http://127.0.0.1:$PORT/api/v1/videos/upload" "$src" "$ADMIN" 65536
	video=$(jq -r .video <<<"$output")
	[[ $(jq -r .url <<<"$output") == "http://127.0.0.1:$PORT/api/v1/videos/upload/"* ]]
	[ "$(sql "SELECT title, array_to_string(tags, ','), original_filename FROM videos WHERE id = '$video'")" = "Through tus|tus,upload|hd.mp4" ]
	cmp "$src" "$(sql "SELECT source_path FROM videos WHERE id = '$video'")"
	# a viewer's token: refused, and tus-js-client says so
	run -1 --separate-stderr node "$VS_TOP/tests/tus.js" "http://127.0.0.1:$PORT/api/v1/videos/upload" "$src" "$VIEWER"
	[[ $stderr == *"403"* ]]
}

@test "vs-video gc removes unfinished uploads older than --older-than, and keeps the others" {
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=100 CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	run -0 --separate-stderr vs-video gc
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[[ ${lines[0]} == "Status: 200 "* ]] # a day has not passed
	run -0 --separate-stderr vs-video -v gc --older-than 0
	[[ $stderr == *"1 unfinished upload removed"* ]]
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[[ ${lines[0]} == "Status: 404 "* ]]
	[ -z "$(ls -A media/.uploads)" ]
}

@test "tus-js-client uploads through stock nginx and fcgiwrap (examples/nginx-fcgiwrap.conf), bodies past nginx's 1 MB cap" {
	PORT=$(free_port)
	mkdir -p run www
	sed -e "s|@PORT@|$PORT|g" -e "s|@ROOT@|$PWD/www|g" -e "s|@RUN@|$PWD/run|g" -e "s|@BIN@|$VS_TOP/bin|g" \
		-e "s|@DATABASE_URL@|${VS_DATABASE_URL//&/\\&}|g" -e "s|@JWT_SECRET_FILE@|$VS_JWT_SECRET_FILE|g" \
		-e "s|@SIGNING_KEY_FILE@|$BATS_FILE_TMPDIR/sign.key|g" -e "s|@PUBLIC_BASE_URL@|http://127.0.0.1/vod|g" -e "s|@CORS_ORIGINS@||g" \
		-e "s|@MEDIA_ROOT@|$VS_MEDIA_ROOT|g" "$VS_TOP/examples/nginx-fcgiwrap.conf" >nginx.conf
	bg run/fcgiwrap.log fcgiwrap -s "unix:$PWD/run/fcgiwrap.sock"
	for _ in $(seq 50); do [ -S run/fcgiwrap.sock ] && break; sleep 0.1; done
	chmod 666 run/fcgiwrap.sock
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR" "$PWD/run"
	nginx -c "$PWD/nginx.conf" -e "$PWD/run/error.log"
	wait_port "$PORT"
	# a source of more than 1 MB, in one PATCH
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25 -t 3 -c:v libx264 -preset ultrafast \
		-b:v 4M -pix_fmt yuv420p big.mp4
	[ "$(stat -c %s big.mp4)" -gt 1100000 ]
	run --separate-stderr node "$VS_TOP/tests/tus.js" "http://127.0.0.1:$PORT/api/v1/videos/upload" big.mp4 "$ADMIN"
	[ "$status" -eq 0 ] || { echo "$stderr"; cat run/error.log; return 1; }
	video=$(jq -r .video <<<"$output")
	cmp big.mp4 "$(sql "SELECT source_path FROM videos WHERE id = '$video'")"
}

@test "a 1 GB PATCH streams to disk: vs-cgi stays under 64 MB" {
	# a real video with a gigabyte of zeros after it: probed as the video
	cp "$(fixture lecture.mp4)" big.mp4
	truncate -s $((1 << 30)) big.mp4
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=$((1 << 30)) CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	run -0 /usr/bin/time -f 'maxrss=%M' -o rss.txt env HTTP_AUTHORIZATION="Bearer $ADMIN" HTTP_TUS_RESUMABLE=1.0.0 \
		REQUEST_METHOD=PATCH PATH_INFO="/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 \
		CONTENT_TYPE=application/offset+octet-stream CONTENT_LENGTH=$((1 << 30)) GATEWAY_INTERFACE=CGI/1.1 \
		vs-cgi <big.mp4
	[[ $output == "Status: 204 "* ]] || { echo "$output"; return 1; }
	rss=$(sed -n 's/^maxrss=//p' rss.txt)
	echo "vs-cgi's largest resident set for a 1 GiB upload: $rss KiB"
	# 64 MB; built with ASan (make SANITIZE=1), its shadow memory and
	# quarantine come on top, a constant that does not grow with the upload
	limit=65536
	[ -z "${VS_SANITIZE:-}" ] || limit=$((limit * 4))
	[ "$rss" -lt "$limit" ]
}

@test "tus-js-client uploads to vs-cgi as a FastCGI responder behind lighttpd, several uploads in a row" {
	PORT=$(free_port)
	mkdir -p run www
	cat >lighttpd.conf <<CONF
server.modules += ("mod_fastcgi")
server.bind = "127.0.0.1"
server.port = $PORT
server.document-root = "$PWD/www"
server.errorlog = "$PWD/run/error.log"
server.upload-dirs = ("$PWD/run")
fastcgi.server = ("/api/v1" => (("socket" => "$PWD/run/vs-cgi.sock", "bin-path" => "$VS_TOP/bin/vs-cgi",
    "check-local" => "disable", "max-procs" => 1,
    "bin-environment" => ("VS_DATABASE_URL" => "$VS_DATABASE_URL", "VS_JWT_SECRET_FILE" => "$VS_JWT_SECRET_FILE",
                          "VS_MEDIA_ROOT" => "$VS_MEDIA_ROOT"))))
CONF
	bg run/lighttpd.out lighttpd -D -f lighttpd.conf
	wait_port "$PORT" "$BG_PID"
	for f in lecture.mp4 other.mp4; do
		run -0 --separate-stderr node "$VS_TOP/tests/tus.js" "http://127.0.0.1:$PORT/api/v1/videos/upload" "$(fixture "$f")" "$ADMIN" 20000
		video=$(jq -r .video <<<"$output")
		cmp "$(fixture "$f")" "$(sql "SELECT source_path FROM videos WHERE id = '$video'")"
	done
	[ "$(sql "SELECT count(*) FROM videos")" = 2 ]
}

@test "tus checksum: a PATCH whose bytes match Upload-Checksum is kept, one that does not is 460 and dropped" {
	printf 'first part, ' >a.bin
	printf 'second part' >b.bin
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH=23 CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	sum=$(openssl dgst -sha1 -binary a.bin | base64 -w0)
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=12 HTTP_UPLOAD_CHECKSUM="sha1 $sum" <a.bin
	[[ ${lines[0]} == "Status: 204 "* ]]
	[ "$(header Upload-Offset)" = 12 ]
	wrong=$(openssl dgst -sha256 -binary a.bin | base64 -w0)
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=12 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=11 HTTP_UPLOAD_CHECKSUM="sha256 $wrong" <b.bin
	[[ ${lines[0]} == "Status: 460 "* ]]
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[ "$(header Upload-Offset)" = 12 ]
	[ "$(stat -c %s media/.uploads/"$id".part)" = 12 ]
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=12 CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=11 HTTP_UPLOAD_CHECKSUM="crc32 AAAA" <b.bin
	[[ ${lines[0]} == "Status: 400 "* ]]
	run -0 env REQUEST_METHOD=OPTIONS PATH_INFO=/videos/upload GATEWAY_INTERFACE=CGI/1.1 vs-cgi </dev/null
	[[ $output == *"Tus-Extension: creation,termination,checksum"* ]]
	[[ $output == *"Tus-Checksum-Algorithm: sha1,sha256,md5"* ]]
}

@test "tus: the database down as an upload completes: 503, the bytes kept; an empty PATCH at the end ingests it later" {
	src=$(fixture lecture.mp4)
	size=$(stat -c %s "$src")
	run -0 tus_raw POST /videos/upload HTTP_UPLOAD_LENGTH="$size" CONTENT_LENGTH=0 </dev/null
	id=$(header Location); id=${id##*/}
	run -0 --separate-stderr tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET=0 \
		CONTENT_TYPE=application/offset+octet-stream CONTENT_LENGTH="$size" \
		VS_DATABASE_URL="postgresql:///x?host=$BATS_TEST_TMPDIR" <"$src"
	[[ ${lines[0]} == "Status: 503 "* ]]
	cmp "$src" "media/.uploads/$id.part"
	run -0 tus_raw HEAD "/videos/upload/$id" </dev/null
	[ "$(header Upload-Offset)" = "$size" ]
	run -0 tus_raw PATCH "/videos/upload/$id" HTTP_UPLOAD_OFFSET="$size" CONTENT_TYPE=application/offset+octet-stream \
		CONTENT_LENGTH=0 </dev/null
	[[ ${lines[0]} == "Status: 204 "* ]]
	video=$(header Vs-Video-Id)
	cmp "$src" "$(sql "SELECT source_path FROM videos WHERE id = '$video'")"
	[ -z "$(ls -A media/.uploads)" ]
}
