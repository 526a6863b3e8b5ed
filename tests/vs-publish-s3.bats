#!/usr/bin/env bats
# vs-publish to S3, against an S3-compatible server that checks Signature V4
# (@20minutes/s3rver), read back with the AWS CLI.

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	VS_DATABASE_URL=$VS_TEST_DB_URL vs-ingest "$(fixture hd.mp4)" |
		VS_DATABASE_URL=$VS_TEST_DB_URL vs-encode --preset ultrafast --ladder 180p,360p --gop-seconds 1 >"$BATS_FILE_TMPDIR/enc.json"
	vs-package --segment-seconds 2 <"$BATS_FILE_TMPDIR/enc.json" >"$BATS_FILE_TMPDIR/pkg.json"
	vs-package --segment-seconds 2 --segment-type ts --out "$BATS_FILE_TMPDIR/ts" <"$BATS_FILE_TMPDIR/enc.json" >"$BATS_FILE_TMPDIR/pkg-ts.json"
	S3_PORT=$(free_port)
	export S3_PORT
	bg "$BATS_FILE_TMPDIR/s3.log" node "$VS_TOP/tests/s3-server.js" "$S3_PORT" "$BATS_FILE_TMPDIR/s3" vod AKIDVSTEST "test secret 123"
	echo "$BG_PID" >"$BATS_FILE_TMPDIR/s3.pid"
	wait_port "$S3_PORT" "$BG_PID"
}

teardown_file() {
	kill -- "-$(cat "$BATS_FILE_TMPDIR/s3.pid")" 2>/dev/null || true
}

teardown() {
	stop_bg
	own_cluster_destroy
}

# flaky_s3 FAILS [ALLOW]: tests/flaky-s3.js on a free $port, counting in
# counts.json (stop_bg ends it)
flaky_s3() {
	port=$(free_port)
	bg flaky.log node "$VS_TOP/tests/flaky-s3.js" "$port" "$1" counts.json ${2:+"$2"}
	flaky=$BG_PID
	wait_port "$port" "$flaky"
}

setup() {
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	export AWS_ACCESS_KEY_ID=AKIDVSTEST AWS_SECRET_ACCESS_KEY="test secret 123" AWS_REGION=us-east-1
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN AWS_PROFILE
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR/pkg.json" pkg.json
	id=$(jqr pkg.json .id)
}

aws() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

head_object() { aws s3api head-object --bucket vod --key "$1" >head.json; }

@test "vs-publish uploads a package to S3 that the AWS CLI reads back" {
	run -0 --separate-stderr vs-publish --to s3://vod/lessons <pkg.json
	echo "$output" >out.json
	[ "$(jqr out.json .published.master_url)" = "$AWS_ENDPOINT_URL/vod/lessons/$id/master.m3u8" ]
	dir=$(jqr pkg.json .package.dir)
	aws s3 cp "s3://vod/lessons/$id/master.m3u8" master.m3u8 >/dev/null
	cmp master.m3u8 "$dir/master.m3u8"
	aws s3 cp "s3://vod/lessons/$id/360p/seg-00002.m4s" seg.m4s >/dev/null
	cmp seg.m4s "$dir/360p/seg-00002.m4s"
	[ "$(aws s3 ls --recursive "s3://vod/lessons/$id/" | wc -l)" -eq "$(find "$dir" -type f | wc -l)" ]
}

@test "vs-publish sets Content-Type and Cache-Control by file kind" {
	vs-publish --to s3://vod/lessons <pkg.json >/dev/null
	for f in master.m3u8:application/vnd.apple.mpegurl:max-age=60 360p/seg-00001.m4s:video/iso.segment:immutable \
		360p/init.mp4:video/mp4:immutable chapters.vtt:text/vtt:max-age=60 poster.jpg:image/jpeg:immutable; do
		IFS=: read -r key type cache <<<"$f"
		head_object "lessons/$id/$key"
		[ "$(jqr head.json .ContentType)" = "$type" ]
		[[ $(jqr head.json .CacheControl) == *"$cache"* ]]
	done
	cp "$BATS_FILE_TMPDIR/pkg-ts.json" ts.json
	vs-publish --to s3://vod/ts <ts.json >/dev/null
	head_object "ts/$id/360p/seg-00001.ts"
	[ "$(jqr head.json .ContentType)" = "video/mp2t" ]
}

@test "vs-publish skips objects already there and unchanged" {
	vs-publish --to s3://vod/again <pkg.json >/dev/null
	run -0 --separate-stderr vs-publish --to s3://vod/again <pkg.json
	echo "$output" >out.json
	[ "$(jqr out.json .published.skipped)" = "$(jqr out.json .published.objects)" ]
	[ "$(jqr out.json .published.bytes)" = "0" ]
}

@test "vs-publish uploads a large object in parts" {
	dir=$(jqr pkg.json .package.dir)
	cp -r "$dir" big
	head -c 7000000 /dev/urandom >big/360p/extra.m4s
	jq -c --arg d "$PWD/big" '.package.dir = $d' pkg.json >big.json
	run -0 --separate-stderr env VS_DEBUG=1 vs-publish --to s3://vod/big --multipart-threshold 5242880 <big.json
	[[ $stderr == *"?uploads="* ]]
	[[ $stderr == *"partNumber=2"* ]]
	aws s3 cp "s3://vod/big/$id/360p/extra.m4s" extra.m4s >/dev/null
	cmp extra.m4s big/360p/extra.m4s
}

@test "vs-publish with a wrong secret fails clearly, exit 1, and publishes nothing" {
	with_db
	sql "UPDATE videos SET is_published = false, upload_status = 'processing' WHERE id = '$id'"
	run -1 --separate-stderr env AWS_SECRET_ACCESS_KEY=wrong vs-publish --to s3://vod/wrong <pkg.json
	[[ $stderr == *"HTTP 403"* ]]
	echo "$output" >out.json
	[ "$(jqr out.json .error.tool)" = "vs-publish" ]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "processing|f" ]
	[ "$(aws s3 ls --recursive s3://vod/wrong/ | wc -l)" -eq 0 ]
}

@test "vs-publish exits 75 when the store cannot be reached" {
	run -75 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$(free_port)" vs-publish --to s3://vod/x <pkg.json
	[[ $stderr == *"connect"* ]]
}

@test "vs-publish without credentials exits 1 and says which variables" {
	run -1 --separate-stderr env -u AWS_ACCESS_KEY_ID vs-publish --to s3://vod/x <pkg.json
	[[ $stderr == *"AWS_ACCESS_KEY_ID"* ]]
}

@test "vs-publish to S3 records the URLs, and --delete removes the objects" {
	with_db
	run -0 --separate-stderr vs-publish --to s3://vod/db --base-url https://cdn.example.com/vod <pkg.json
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
	[ "$(sql "SELECT file_url FROM video_qualities WHERE video_id = '$id' AND quality_label = '180p'")" = "https://cdn.example.com/vod/$id/180p/index.m3u8" ]
	[ "$(aws s3 ls --recursive "s3://vod/db/$id/" | wc -l)" -gt 5 ]
	run -0 --separate-stderr vs-publish --to s3://vod/db --delete "$id"
	[ "$(aws s3 ls --recursive "s3://vod/db/$id/" | wc -l)" -eq 0 ]
	[ "$(sql "SELECT upload_status FROM videos WHERE id = '$id'")" = "deleted" ]
}

@test "vs-publish retries 5xx with backoff, and not other 4xx" {
	flaky_s3 2
	run -0 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/retry <pkg.json
	[ "$(jq -r --arg k "PUT /vod/retry/$id/master.m3u8" '.[$k]' counts.json)" = "3" ]
	[ "$(jq -r --arg k "PUT /vod/retry/$id/360p/seg-00001.m4s" '.[$k]' counts.json)" = "3" ]
	# a refusal other than 5xx or 429 is not retried
	dir=$(jqr pkg.json .package.dir)
	cp -r "$dir" forbidden
	echo x >forbidden/forbidden.vtt
	jq -c --arg d "$PWD/forbidden" '.package.dir = $d' pkg.json >f.json
	run -1 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/f <f.json
	[ "$(jq -r --arg k "PUT /vod/f/$id/forbidden.vtt" '.[$k]' counts.json)" = "1" ]
	[[ $stderr == *"HTTP 400"* ]]
}

@test "vs-publish never uploads the key of an encrypted package" {
	vs-package --encrypt aes-128 --out enc <"$BATS_FILE_TMPDIR/enc.json" >encpkg.json
	run -0 --separate-stderr vs-publish --to s3://vod/enc <encpkg.json
	run -0 aws s3 ls --recursive "s3://vod/enc/$id/"
	[[ $output == *master.m3u8* ]]
	[[ ${output,,} != *key* ]]
	[ -f "$VS_MEDIA_ROOT/$id/keys/aes-128.key" ]
	# key material put into a package by hand: refused whole, nothing sent
	for put in keys/aes-128.key 360p/aes-128.KEY keys/readme.txt; do
		rm -rf bad && cp -r enc bad
		mkdir -p "bad/$(dirname "$put")"
		cp "$VS_MEDIA_ROOT/$id/keys/aes-128.key" "bad/$put"
		jq -c --arg d "$PWD/bad" '.package.dir = $d' encpkg.json >bad.json
		run -1 --separate-stderr vs-publish --to "s3://vod/bad-$RANDOM" <bad.json
		[[ $(jqr <(echo "$output") .error.message) == *"holds key material ('$put')"* ]]
		[[ $stderr == *"key material"* ]]
	done
	run -0 aws s3 ls --recursive s3://vod/
	[[ $output != *bad-* ]]
}

@test "VS_DEBUG traces the S3 requests without their credentials" {
	run -0 --separate-stderr env VS_DEBUG=1 AWS_SESSION_TOKEN=session-token-never-shown \
		vs-publish --to s3://vod/debugged <pkg.json
	[[ $stderr == *"> PUT /vod/debugged/"* ]]
	[[ ${stderr,,} == *"authorization: <redacted>"* ]]
	[[ ${stderr,,} == *"x-amz-security-token: <redacted>"* ]]
	[[ $stderr != *"session-token-never-shown"* ]]
	[[ $stderr != *"Signature="* ]]
	[[ $stderr != *"AKIDVSTEST/"* ]]
}

@test "vs-publish --delete under a prefix with & and = deletes that prefix only, by the keys' real names" {
	with_db
	vs-publish --to s3://vod/media <pkg.json >/dev/null
	vs-publish --to 's3://vod/media&x=1' <pkg.json >/dev/null
	[ "$(aws s3 ls --recursive "s3://vod/media&x=1/$id/" | wc -l)" -gt 5 ]
	run -0 --separate-stderr timeout -k 1 60 vs-publish --to 's3://vod/media&x=1' --delete "$id"
	[ "$(aws s3 ls --recursive "s3://vod/media&x=1/$id/" | wc -l)" -eq 0 ]
	# the neighbour that an unencoded prefix=media would have listed is all there
	[ "$(aws s3 ls --recursive "s3://vod/media/$id/" | wc -l)" -gt 5 ]
}

@test "vs-publish refuses a bucket name that S3 would not have" {
	for bad in Vod vo v_d -vod vod- 'v..d' 'vod@evil.example.com' "$(printf 'v%.0s' {1..64})"; do
		run -2 --separate-stderr vs-publish --to "s3://$bad/x" <pkg.json
		[[ $stderr == *"is not a bucket name"* ]] || { echo "$bad: $stderr"; return 1; }
	done
}

@test "an S3 that answers 503 for good: exit 75, no master, not ready; the next run uploads only what is missing" {
	with_db
	flaky_s3 0 3
	run -75 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/down <pkg.json
	[[ $stderr == *"HTTP 503"* ]]
	# the master goes last: never sent, so no player finds a half package
	[ "$(jq -r --arg k "PUT /vod/down/$id/master.m3u8" '.[$k] // 0' counts.json)" = 0 ]
	[ "$(sql "SELECT upload_status <> 'ready', is_published FROM videos WHERE id = '$id'")" = "t|f" ]
	stored=$(jq -r --arg p "PUT /vod/down/$id/" '[to_entries[] | select(.key | startswith($p))] | length' counts.json)
	[ "$stored" -ge 3 ]
	# the store is back: the rest is sent, what it kept is not sent again
	touch counts.json.heal
	cp counts.json before.json
	run -0 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/down <pkg.json
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
	[ "$(jq -r --arg k "PUT /vod/down/$id/master.m3u8" '.[$k]' counts.json)" = 1 ]
	[ "$(jqr <(echo "$output") .published.skipped)" -ge 3 ]
	# an object stored by the first run was PUT no more times than then
	kept=$(jq -n --slurpfile a before.json --slurpfile b counts.json \
		'[$a[0] | to_entries[] | select(.key | startswith("PUT ")) | select($b[0][.key] == .value)] | length')
	[ "$kept" -ge 3 ]
}

@test "an S3 that keeps an object short or under another type: exit 1 naming it, the video not ready" {
	with_db
	flaky_s3 0
	for fault in short retype; do
		sql "UPDATE videos SET upload_status = 'processing', is_published = false WHERE id = '$id'"
		rm -f counts.json.short counts.json.retype
		echo 360p/seg-00002.m4s >"counts.json.$fault"
		run -1 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to "s3://vod/$fault" <pkg.json
		[ "$(jqr <(echo "$output") .error.code)" = io_error ] || { echo "$fault: $output"; return 1; }
		[[ $stderr == *"360p/seg-00002.m4s"* ]] || { echo "$fault: $stderr"; return 1; }
		[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "processing|f" ]
	done
	# a store that keeps what it is sent: published
	rm -f counts.json.short counts.json.retype
	run -0 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/whole <pkg.json
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
}

@test "vs-publish killed at any point of an S3 upload: the master only after the rest, ready only after the master" {
	with_db
	flaky_s3 0
	# each PUT answered after 300 ms: the kill comes while objects are on their way
	echo 300 >counts.json.delay
	n=$(find "$(jqr pkg.json .package.dir)" -type f | wc -l)
	[ "$n" -gt 10 ]
	puts() { [ ! -e counts.json ] && echo 0 || jq -r --arg p "PUT /vod/kill$k/" '[to_entries[] | select(.key | startswith($p)) | .value] | add // 0' counts.json; }
	for k in 1 3 6 9; do
		# not ready before this run (other tests and runs published it)
		sql "UPDATE videos SET upload_status = 'processing', is_published = false WHERE id = '$id'"
		bg "publish$k.log" env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to "s3://vod/kill$k" <pkg.json
		p=$BG_PID
		for _ in $(seq 400); do [ "$(puts)" -ge "$k" ] && break; sleep 0.01; done
		kill -9 -- "-$p" 2>/dev/null || { echo "vs-publish ended before the kill after $k PUTs"; cat "publish$k.log"; return 1; }
		st=0
		wait "$p" || st=$?
		[ "$st" -eq 137 ] # killed on its way, not finished
		[ "$(puts)" -ge "$k" ]
		# killed before the rest was stored: no master, not ready
		master=$(jq -r --arg k "PUT /vod/kill$k/$id/master.m3u8" '.[$k] // 0' counts.json)
		[ "$master" = 0 ] || { echo "killed after $k PUTs of $n: the master was sent"; return 1; }
		[ "$(sql "SELECT upload_status = 'ready' OR is_published FROM videos WHERE id = '$id'")" = f ]
	done
	# a run to the end after all that publishes everything
	rm counts.json.delay
	run -0 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/kill9 <pkg.json
	[ "$(jq -r --arg p "PUT /vod/kill9/$id/" '[to_entries[] | select(.key | startswith($p))] | length' counts.json)" -eq "$n" ]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
}

@test "PostgreSQL stopped between publishing and marking: exit 75, and a re-run marks it" {
	with_db
	sql "UPDATE videos SET upload_status = 'processing', is_published = false WHERE id = '$id'"
	own_cluster
	flaky_s3 0
	# the database stops the moment the last object, the master, arrives
	printf 'VS_PG_DIR=%q %q stop' "$OWN_PG_DIR" "$VS_TOP/scripts/pg" >counts.json.on-master
	run -75 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/marked <pkg.json
	[ "$(jq -r --arg k "PUT /vod/marked/$id/master.m3u8" '.[$k]' counts.json)" = 1 ]
	rm counts.json.on-master
	own_cluster_start
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "processing|f" ]
	run -0 --separate-stderr env AWS_ENDPOINT_URL="http://127.0.0.1:$port" vs-publish --to s3://vod/marked <pkg.json
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
	# everything was there: nothing sent twice
	[ "$(jq -r --arg k "PUT /vod/marked/$id/master.m3u8" '.[$k]' counts.json)" = 1 ]
}
