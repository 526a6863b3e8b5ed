#!/usr/bin/env bats
# vs-publish to a local origin (file://): order, idempotence, database, HTTP.

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	vs-ingest "$(fixture hd.mp4)" | vs-encode --preset ultrafast --ladder 180p,360p --gop-seconds 1 |
		vs-package --segment-seconds 2 >"$BATS_FILE_TMPDIR/pkg.json"
}

setup() {
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR/pkg.json" pkg.json
	id=$(jqr pkg.json .id)
}

teardown() {
	stop_bg
}

# publish [-N] ARGS: vs-publish ARGS < pkg.json > out.json; it must exit N
# (default 0)
publish() {
	local want=-0
	case ${1:-} in -[0-9]*) want=$1; shift ;; esac
	run "$want" --separate-stderr vs-publish "$@" <pkg.json
	echo "$output" >out.json
}

@test "vs-publish --help prints usage and exits 0" {
	run -0 --separate-stderr vs-publish --help
	[[ $output == "usage: vs-publish "* ]]
}

@test "vs-publish without a target exits 2" {
	run -2 --separate-stderr vs-publish <pkg.json
	[[ $stderr == *"no target"* ]]
	run -2 --separate-stderr vs-publish --to ftp://x/y <pkg.json
	run -2 --separate-stderr vs-publish --unpublish "$id"
	[[ $stderr == *"needs a database"* ]]
}

@test "vs-publish copies the whole package to the origin, master last" {
	publish --to "file://$PWD/origin"
	[ "$status" -eq 0 ]
	diff -r "$(jqr pkg.json .package.dir)" "origin/$id"
	[ "$(jqr out.json .published.master_url)" = "file://$PWD/origin/$id/master.m3u8" ]
	[ "$(jqr out.json .published.objects)" = "$(find "origin/$id" -type f | wc -l)" ]
	[ "$(jqr out.json .published.skipped)" = "0" ]
	master=$(stat -c %.9Y "origin/$id/master.m3u8")
	newest_other=$(find "origin/$id" -type f ! -name master.m3u8 -printf '%T@\n' | sort -n | tail -1)
	awk -v m="$master" -v o="$newest_other" 'BEGIN { exit !(m >= o) }'
	newest_segment=$(find "origin/$id" -type f -name '*.m4s' -printf '%T@\n' | sort -n | tail -1)
	oldest_playlist=$(find "origin/$id" -type f -name 'index.m3u8' -printf '%T@\n' | sort -n | sed -n 1p)
	awk -v p="$oldest_playlist" -v s="$newest_segment" 'BEGIN { exit !(p >= s) }'
}

@test "vs-publish skips what is already there and unchanged" {
	publish --to "file://$PWD/origin"
	publish --to "file://$PWD/origin"
	[ "$status" -eq 0 ]
	[ "$(jqr out.json .published.skipped)" = "$(jqr out.json .published.objects)" ]
	[ "$(jqr out.json .published.bytes)" = "0" ]
	echo changed >"origin/$id/chapters.vtt"
	publish --to "file://$PWD/origin"
	[ "$(jqr out.json .published.skipped)" = "$(($(jqr out.json .published.objects) - 1))" ]
	cmp "origin/$id/chapters.vtt" "$(jqr pkg.json .package.dir)/chapters.vtt"
}

@test "vs-publish marks the video ready and published in the database" {
	with_db
	publish --to "file://$PWD/origin" --base-url "https://cdn.example.com/vod/"
	[ "$status" -eq 0 ]
	[ "$(jqr out.json .published.master_url)" = "https://cdn.example.com/vod/$id/master.m3u8" ]
	[ "$(sql "SELECT upload_status, is_published, published_at IS NOT NULL, thumbnail_url FROM videos WHERE id = '$id'")" = "ready|t|t|https://cdn.example.com/vod/$id/poster.jpg" ]
	[ "$(sql "SELECT file_url FROM video_qualities WHERE video_id = '$id' AND quality_label = '360p'")" = "https://cdn.example.com/vod/$id/360p/index.m3u8" ]
	# the progressive MP4 (the lowest rung), on the origin and in the catalog
	[ "$(sql "SELECT fallback_url, fallback_quality FROM videos WHERE id = '$id'")" = "https://cdn.example.com/vod/$id/progressive.mp4|$(jqr pkg.json .package.fallback.label)" ]
	cmp "origin/$id/progressive.mp4" "$(jqr pkg.json .package.dir)/progressive.mp4"
}

@test "vs-publish takes the first of VS_PUBLIC_BASE_URL's origins; --base-url wins" {
	VS_PUBLIC_BASE_URL=" https://cdn-a.example.com/vod// , https://cdn-b.example.com/vod" publish --to "file://$PWD/origin"
	[ "$(jqr out.json .published.master_url)" = "https://cdn-a.example.com/vod/$id/master.m3u8" ]
	VS_PUBLIC_BASE_URL=https://cdn-a.example.com/vod,https://cdn-b.example.com/vod \
		publish --to "file://$PWD/origin" --base-url https://cdn-c.example.com/v/
	[ "$(jqr out.json .published.master_url)" = "https://cdn-c.example.com/v/$id/master.m3u8" ]
	VS_PUBLIC_BASE_URL= publish --to "file://$PWD/origin"
	[ "$(jqr out.json .published.master_url)" = "file://$PWD/origin/$id/master.m3u8" ]
}

@test "vs-publish --no-publish uploads but leaves the video unpublished" {
	with_db
	sql "UPDATE videos SET is_published = false WHERE id = '$id'"
	publish --to "file://$PWD/origin" --no-publish
	[ "$status" -eq 0 ]
	[ -f "origin/$id/master.m3u8" ]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|f" ]
}

@test "vs-publish --unpublish hides a video, --delete removes its objects" {
	with_db
	publish --to "file://$PWD/origin"
	run -0 --separate-stderr vs-publish --unpublish "$id"
	[ "$(sql "SELECT is_published FROM videos WHERE id = '$id'")" = "f" ]
	[ -f "origin/$id/master.m3u8" ]
	run -0 --separate-stderr vs-publish --to "file://$PWD/origin" --delete "$id"
	[ ! -e "origin/$id" ]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "deleted|f" ]
	run -1 --separate-stderr vs-publish --unpublish 00000000-0000-0000-0000-000000000000
	[[ $stderr == *"no video"* ]]
	run -1 --separate-stderr vs-publish --unpublish "x'; DROP TABLE videos; --"
	[ "$(sql "SELECT count(*) > 0 FROM videos")" = "t" ]
	# publish again, for the tests after this one
	publish --to "file://$PWD/origin"
}

@test "vs-publish fails a record without a package, and one with a hostile id" {
	printf '%s\n' '{"id":"abc"}' '{"id":"../../etc","package":{"dir":"/tmp"}}' >bad.json
	run -1 --separate-stderr vs-publish --to "file://$PWD/origin" <bad.json
	echo "$output" >out.json
	[ "$(jq -r .error.code out.json | sort -u)" = "invalid_input" ]
	[ ! -e origin ]
}

@test "vs-publish fails a package with no master" {
	mkdir -p fake/360p && echo x >fake/360p/seg.ts
	echo "{\"id\":\"$id\",\"package\":{\"dir\":\"$PWD/fake\"}}" >p.json
	run -1 --separate-stderr vs-publish --to "file://$PWD/origin" <p.json
	[[ $stderr == *"no master.m3u8"* ]]
}

@test "vs-publish refuses a package that holds key material, and writes nothing" {
	pkg=$(jqr pkg.json .package.dir)
	cp -r "$pkg" withkey
	mkdir withkey/keys
	head -c 16 /dev/zero >withkey/keys/aes-128.key
	jq -c --arg d "$PWD/withkey" '.package.dir = $d' pkg.json >p.json
	run -1 --separate-stderr vs-publish --to "file://$PWD/origin" <p.json
	[[ $stderr == *"holds key material ('keys/aes-128.key')"* ]]
	[ "$(jq -r .error.code <(echo "$output"))" = invalid_input ]
	[ ! -e origin ]
}

@test "a published local origin plays over HTTP" {
	publish --to "file://$PWD/origin"
	port=$(free_port)
	mkdir -p log
	cat >lighttpd.conf <<CONF
server.document-root = "$PWD/origin"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$PWD/log/error.log"
mimetype.assign = (".m3u8" => "application/vnd.apple.mpegurl", ".m4s" => "video/iso.segment", ".mp4" => "video/mp4")
CONF
	bg log/lighttpd.out lighttpd -D -f lighttpd.conf
	wait_port "$port" "$BG_PID"
	run -0 ffprobe -v error -show_entries format=duration -of csv=p=0 "http://127.0.0.1:$port/$id/master.m3u8"
	[[ $(echo "$output" | grep -v '^$' | sed -n 1p) == 4.0* ]]
	run -0 vs-package --check "$PWD/origin/$id"
}

@test "a full origin disk: an error record, no master at the origin, the video not ready" {
	with_db
	sql "UPDATE videos SET upload_status = 'processing', is_published = false WHERE id = '$id'"
	run -1 --separate-stderr full_disk 100000 vs-publish --to "file://$PWD/full" <pkg.json
	echo "$output" >out.json
	[ "$(jqr out.json .error.tool)" = vs-publish ]
	[[ $stderr == *"No space left on device"* ]]
	[ ! -e "full/$id/master.m3u8" ]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "processing|f" ]
	run -0 --separate-stderr vs-publish --to "file://$PWD/full" <pkg.json
	[ -f "full/$id/master.m3u8" ]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
}
