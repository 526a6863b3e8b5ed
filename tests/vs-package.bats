#!/usr/bin/env bats
# vs-package: HLS and DASH packages, checked with ffprobe, ffmpeg and --check.

load helper

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	VS_DATABASE_URL=$VS_TEST_DB_URL vs-ingest "$(fixture hd.mp4)" >"$BATS_FILE_TMPDIR/in.json"
	VS_DATABASE_URL=$VS_TEST_DB_URL vs-encode --preset ultrafast --ladder 180p,360p --gop-seconds 1 \
		<"$BATS_FILE_TMPDIR/in.json" >"$BATS_FILE_TMPDIR/enc.json"
}

teardown() {
	stop_bg
}

setup() {
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR/enc.json" enc.json
}

# package [-N] ARGS: vs-package ARGS < enc.json > out.json; it must exit N
# (default 0)
package() {
	local want=-0
	case ${1:-} in -[0-9]*) want=$1; shift ;; esac
	run "$want" --separate-stderr vs-package "$@" <enc.json
	echo "$output" >out.json
}

# check DIR: vs-package --check DIR > check.json, status in $status
check() {
	run --separate-stderr vs-package --check "$1"
	echo "$output" >check.json
}

# first FFPROBE-ARGS: ffprobe's first non-empty line (HLS inputs repeat
# streams once per program)
first() { ffprobe -v error "$@" | grep -v '^$' | sed -n 1p; }

frames() { first -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$@"; }

rules() { jq -r 'select(.severity == "error") | .rule' check.json | sort -u | tr '\n' ' '; }

@test "vs-package --help prints usage and exits 0" {
	run -0 --separate-stderr vs-package --help
	[[ $output == "usage: vs-package "* ]]
}

@test "vs-package refuses bad flags with exit 2" {
	run -2 --separate-stderr vs-package --segment-type mkv
	run -2 --separate-stderr vs-package --encrypt rot13
	run -2 --separate-stderr vs-package --segment-type ts --dash
	[[ $stderr == *"--dash needs fmp4"* ]]
	run -2 --separate-stderr vs-package --key-uri /k
	run -2 --separate-stderr vs-package --segment-seconds 0
	run -2 --separate-stderr vs-package --dash --encrypt aes-128
	[[ $stderr == *"DASH players need CENC"* ]]
}

@test "vs-package makes a CMAF package that ffprobe reads, master and variants" {
	package --out pkg
	[ "$status" -eq 0 ]
	[ "$(jqr out.json .package.segment_type)" = "fmp4" ]
	[ -f pkg/master.m3u8 ]
	[ -f pkg/180p/init.mp4 ]
	[ -f pkg/360p/seg-00001.m4s ]
	[ "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 pkg/master.m3u8 | grep -v '^$' | sort -u | tr '\n' ' ')" = "aac h264 " ]
	for v in 180p 360p; do
		d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$PWD/pkg/$v/index.m3u8")
		awk -v d="$d" 'BEGIN { exit !(d > 3.9 && d < 4.1) }'
		[ "$(frames "$PWD/pkg/$v/index.m3u8")" = "120" ]
	done
}

@test "vs-package puts the lowest rung whole in the package: a progressive MP4, moov first" {
	package --out pkg
	[ "$(jq -c .package.fallback out.json)" = '{"file":"progressive.mp4","label":"180p","width":320,"height":180}' ]
	# what ffprobe reads: the 180p rung, video and audio, all 120 frames
	[ "$(first -show_entries stream=codec_name,height -of csv=p=0 pkg/progressive.mp4)" = "h264,180" ]
	[ "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 pkg/progressive.mp4 | tr '\n' ' ')" = "video audio " ]
	[ "$(frames pkg/progressive.mp4)" = 120 ]
	# faststart: a player starts before the end arrives; the top-level
	# boxes, by ffprobe's trace, have moov before mdat
	boxes=$(ffprobe -v trace pkg/progressive.mp4 2>&1 | sed -n "s/.*type:'\(moov\|mdat\)' parent:'root'.*/\1/p" | tr '\n' ' ')
	[ "$boxes" = "moov mdat " ] || { echo "top-level boxes: $boxes"; return 1; }
	# not with --no-fallback, nor encrypted (it would be the lesson in the clear)
	package --out pkg2 --no-fallback
	[ "$(jqr out.json .package.fallback)" = null ]
	[ ! -e pkg2/progressive.mp4 ]
	package --out pkg3 --encrypt aes-128 --key-uri /k
	[ "$(jqr out.json .package.fallback)" = null ]
	[ ! -e pkg3/progressive.mp4 ]
}

@test "vs-package's default segment is the fewest whole GOPs that last 2 s" {
	# this file's encode has a 1 s GOP: two of them
	package --out pkg
	[ "$status" -eq 0 ]
	[ "$(jq .package.segment_seconds out.json)" = 2 ]
	grep -qx '#EXT-X-TARGETDURATION:2' pkg/360p/index.m3u8
	[ "$(grep -c '^#EXTINF:2.0' pkg/360p/index.m3u8)" -eq 2 ]
	# a 3 s GOP: one of them; no GOP known: 2 s
	jq -c '.encode.gop_seconds = 3' enc.json >enc3.json
	run -0 --separate-stderr vs-package --out pkg3 <enc3.json
	[ "$(jq .package.segment_seconds <<<"$output")" = 3 ]
	jq -c 'del(.encode.gop_seconds)' enc.json >enc0.json
	run -0 --separate-stderr vs-package --out pkg0 <enc0.json
	[ "$(jq .package.segment_seconds <<<"$output")" = 2 ]
	[ "$(jq .package.first_segment_seconds out.json)" = null ]
	# vs-encode's defaults (a 2 s GOP, and a keyframe at 1 s): a short first
	# segment, every variant alike, which the check and ffprobe take
	VS_MEDIA_ROOT=$PWD/media2 vs-encode --preset ultrafast --ladder 180p,360p <"$BATS_FILE_TMPDIR/in.json" >enc2.json
	VS_MEDIA_ROOT=$PWD/media2 run -0 --separate-stderr vs-package --out pkgs <enc2.json
	[ "$(jq .package.segment_seconds <<<"$output")" = 2 ]
	[ "$(jq .package.first_segment_seconds <<<"$output")" = 1 ]
	for v in 180p 360p; do
		grep '^#EXTINF' pkgs/$v/index.m3u8
		[ "$(grep '^#EXTINF' pkgs/$v/index.m3u8 | cut -c1-11 | tr '\n' ' ')" = "#EXTINF:1.0 #EXTINF:1.0 #EXTINF:2.0 " ]
		grep -qx '#EXT-X-TARGETDURATION:2' pkgs/$v/index.m3u8
	done
	run -0 --separate-stderr vs-package --check pkgs
	[ "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$PWD/pkgs/360p/index.m3u8" | cut -c1-3)" = "4.0" ]
	# a record whose start GOP is not before its GOP's end: none
	jq -c '.encode.start_gop_seconds = 1' enc.json >enc1.json
	run -0 --separate-stderr vs-package --out pkg1s <enc1.json
	[ "$(jq .package.first_segment_seconds <<<"$output")" = null ]
	# a length given must still be a whole number of GOPs
	run -1 --separate-stderr vs-package --out pkg5 --segment-seconds 2 <enc3.json
	[[ $stderr == *"not a multiple of the encode's GOP (3 s)"* ]]
	[ ! -e pkg5 ]
}

@test "vs-package writes RFC 8216 media playlists" {
	package --out pkg --segment-seconds 2
	p=pkg/360p/index.m3u8
	[ "$(head -1 $p)" = "#EXTM3U" ]
	grep -qx '#EXT-X-VERSION:6' $p
	grep -qx '#EXT-X-TARGETDURATION:2' $p
	grep -qx '#EXT-X-PLAYLIST-TYPE:VOD' $p
	grep -qx '#EXT-X-INDEPENDENT-SEGMENTS' $p
	grep -qx '#EXT-X-MAP:URI="init.mp4"' $p
	[ "$(tail -1 $p)" = "#EXT-X-ENDLIST" ]
	[ "$(grep -c '^#EXTINF:2.0' $p)" -eq 2 ]
}

@test "vs-package writes a master with measured bandwidth, ordered, and I-frame playlists" {
	package --out pkg --segment-seconds 2
	m=pkg/master.m3u8
	[ "$(grep -c '^#EXT-X-STREAM-INF:' $m)" -eq 2 ]
	grep -q 'RESOLUTION=320x180,CODECS="avc1.64' $m
	grep -q 'FRAME-RATE=30.000' $m
	grep -q 'AVERAGE-BANDWIDTH=' $m
	# ordered by BANDWIDTH
	bws=$(grep -o '^#EXT-X-STREAM-INF:BANDWIDTH=[0-9]*' $m | cut -d= -f2 | tr '\n' ' ')
	[ "$bws" = "$(echo $bws | tr ' ' '\n' | sort -n | tr '\n' ' ')" ]
	# BANDWIDTH is the largest segment's bit rate
	size=$(stat -c %s pkg/360p/seg-0000*.m4s | sort -n | tail -1)
	bw=$(jqr out.json '.package.variants[] | select(.label == "360p") | .bandwidth')
	[ "$bw" -ge $((size * 8 / 2 - 1)) ]
	[ "$bw" -le $((size * 8 / 2 * 11 / 10)) ]
	[ "$(grep -c '^#EXT-X-I-FRAME-STREAM-INF:' $m)" -eq 2 ]
	grep -qx '#EXT-X-I-FRAMES-ONLY' pkg/360p/iframes.m3u8
	[ "$(grep -c '^#EXT-X-BYTERANGE:' pkg/360p/iframes.m3u8)" -eq 4 ]
}

@test "vs-package's I-frame playlist addresses decodable keyframes" {
	package --out pkg
	# each byte range, after the init segment, is a moof and a keyframe
	grep '^#EXT-X-BYTERANGE:' pkg/360p/iframes.m3u8 >ranges
	[ "$(wc -l <ranges)" -eq 4 ]
	n=0
	while IFS=':@' read -r _ len off; do
		n=$((n + 1))
		seg=$(grep -A1 "^#EXT-X-BYTERANGE:$len@$off\$" pkg/360p/iframes.m3u8 | tail -1)
		{ cat pkg/360p/init.mp4; dd if="pkg/360p/$seg" iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none; } >iframe$n.mp4
		run -0 ffprobe -v error -select_streams v:0 -show_entries packet=flags -read_intervals '%+#1' -of csv=p=0 iframe$n.mp4
		[[ ${lines[0]} == K* ]]
		ffmpeg -nostdin -v error -i iframe$n.mp4 -frames:v 1 -f image2 frame$n.png
		[ -s frame$n.png ]
	done <ranges
}

@test "vs-package makes MPEG-TS segments that ffprobe reads" {
	package --out pkg --segment-type ts --segment-seconds 2
	[ "$status" -eq 0 ]
	[ -f pkg/360p/seg-00001.ts ]
	[ ! -e pkg/360p/init.mp4 ]
	grep -qx '#EXT-X-VERSION:3' pkg/360p/index.m3u8
	[ "$(ffprobe -v error -show_entries format=format_name -of csv=p=0 pkg/360p/seg-00002.ts)" = "mpegts" ]
	[ "$(frames "$PWD/pkg/360p/index.m3u8")" = "120" ]
	check pkg
	[ "$status" -eq 0 ]
}

@test "vs-package --audio-group shares one audio rendition" {
	package --out pkg --audio-group
	grep -q '^#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"' pkg/master.m3u8
	grep -q 'AUDIO="audio"' pkg/master.m3u8
	# a fragment is readable only after its init segment: probe the two together
	cat pkg/360p/init.mp4 pkg/360p/seg-00001.m4s >video.mp4
	run -0 ffprobe -v error -show_entries stream=codec_type -of csv=p=0 video.mp4
	[ "$output" = video ]
	[ "$(first -show_entries stream=codec_name -of csv=p=0 "$PWD/pkg/audio/index.m3u8")" = "aac" ]
	check pkg
	[ "$status" -eq 0 ]
}

@test "vs-package --dash writes an MPD over the same segments, audio apart, that ffprobe reads" {
	package --out pkg --dash
	[ -f pkg/manifest.mpd ]
	# two video representations and the audio's, each its own segments
	[ "$(grep -c '<AdaptationSet .*contentType="video"' pkg/manifest.mpd)" -eq 1 ]
	[ "$(grep -c '<AdaptationSet .*contentType="audio"' pkg/manifest.mpd)" -eq 1 ]
	run ! grep -q 'codecs="avc1[^"]*mp4a' pkg/manifest.mpd
	[ "$(ls pkg/360p | grep -c m4s)" -eq "$(grep -c '<S ' pkg/manifest.mpd | awk '{print $1 / 3}')" ]
	[ "$(ls pkg/audio | grep -c m4s)" -eq "$(ls pkg/360p | grep -c m4s)" ]
	grep -q '^#EXT-X-MEDIA:TYPE=AUDIO,.*URI="audio/index.m3u8"' pkg/master.m3u8
	run -0 ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 "$PWD/pkg/manifest.mpd"
	[[ $output == *"h264,640"* ]]
	[[ $output == *"h264,320"* ]]
}

@test "vs-package --encrypt aes-128 keeps the key out of the package and ffmpeg decrypts it" {
	with_db
	package --out pkg --encrypt aes-128
	[ "$status" -eq 0 ]
	id=$(jqr enc.json .id)
	grep -q "#EXT-X-KEY:METHOD=AES-128,URI=\"/api/v1/videos/$id/key\",IV=0x[0-9a-f]\{32\}" pkg/360p/index.m3u8
	[ -z "$(find pkg -name '*.key')" ]
	key="$VS_MEDIA_ROOT/$id/keys/aes-128.key"
	[ -f "$key" ]
	[ "$(stat -c %a "$key")" = 600 ]
	[ "$(sql "SELECT encode(key, 'hex') || encode(iv, 'hex') FROM video_keys WHERE video_id = '$id'")" = "$(od -An -tx1 "$key" | tr -d ' \n')" ]
	# a segment is not readable without the key (after its init segment)...
	iv=$(sed -n 's/^#EXT-X-KEY:.*,IV=0x\([0-9a-f]*\).*/\1/p' pkg/360p/index.m3u8 | sed -n 1p)
	cat pkg/360p/init.mp4 pkg/360p/seg-00001.m4s >sealed.mp4
	run ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 sealed.mp4
	[[ $output != [1-9]* ]]
	# ...and openssl, with the key and the playlist's IV, opens it
	openssl enc -d -aes-128-cbc -K "$(head -c 16 "$key" | od -An -tx1 | tr -d ' \n')" -iv "$iv" \
		-in pkg/360p/seg-00001.m4s -out seg.m4s
	cat pkg/360p/init.mp4 seg.m4s >opened.mp4
	run -0 ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 opened.mp4
	[ "$output" -gt 0 ]
	# ...and so does ffmpeg, given the key's URI
	head -c 16 "$key" >k.bin
	vs-package --out pkg2 --encrypt aes-128 --key-uri "$PWD/k.bin" <enc.json >/dev/null
	[ "$(frames -allowed_extensions ALL "$PWD/pkg2/360p/index.m3u8")" = "120" ]
	vs-package --out pkg3 --segment-type ts --encrypt aes-128 --key-uri "$PWD/k.bin" <enc.json >/dev/null
	ffmpeg -nostdin -v error -allowed_extensions ALL -i "$PWD/pkg3/master.m3u8" -map 0:v:0 -f null -
}

@test "an encrypted package has no I-frame playlists, and --check says what it could not inspect" {
	package --out pkg --encrypt aes-128
	# byte ranges cannot address CBC-encrypted segments (vs-package(1))
	[ -z "$(find pkg -name 'iframes*')" ]
	run -1 grep -c 'EXT-X-I-FRAME-STREAM-INF' pkg/master.m3u8
	package --out open
	grep -q 'EXT-X-I-FRAME-STREAM-INF' open/master.m3u8
	# warnings, not errors: exit 0, one "encrypted" finding a variant
	check pkg
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.rule == "encrypted") | .severity' check.json | sort | uniq -c | awk '{print $1, $2}')" = "2 warning" ]
	[ "$(jqr check.json 'select(.summary) | .summary.errors')" = 0 ]
}

@test "vs-package --check warns of a playlist without EXT-X-ENDLIST and of remote segments" {
	package --out pkg
	sed -i '/^#EXT-X-ENDLIST/d' pkg/180p/index.m3u8
	check pkg
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.rule == "endlist") | [.severity, .file]' check.json)" = '["warning","180p/index.m3u8"]' ]
	package --out pkg2
	sed -i '0,/^seg-00002.m4s$/s||https://cdn.example.com/vod/seg-00002.m4s|' pkg2/360p/index.m3u8
	grep -q '^https://cdn.example.com/vod/seg-00002.m4s$' pkg2/360p/index.m3u8
	check pkg2
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.rule == "remote") | .severity' check.json)" = warning ]
	[ "$(jq -r 'select(.rule == "missing_file") | .file' check.json)" = "" ]
}

@test "vs-package gives the same bytes when run again" {
	package --out pkg
	package --out pkg2
	diff -r pkg pkg2
}

@test "vs-package brings chapters and the storyboard into the package" {
	# the record's chapters (as vs-ingest found them in the source), each a cue
	jq -c '.chapters = [{"title":"Introduction","start":0,"end":1.5},{"title":"Limits","start":1.5,"end":4}]' \
		enc.json >c.json
	mv c.json enc.json
	package --out pkg
	[ "$(head -1 pkg/chapters.vtt)" = "WEBVTT" ]
	[ "$(grep -A1 -- '-->' pkg/chapters.vtt | grep -v '^--$')" = "$(printf '%s\n' \
		'00:00:00.000 --> 00:00:01.500' Introduction '00:00:01.500 --> 00:00:04.000' Limits)" ]
	cmp pkg/storyboard.jpg "$(jqr enc.json .thumbnails.storyboard)"
	grep -q 'storyboard.jpg#xywh=' pkg/storyboard.vtt
	[ -f pkg/poster.jpg ]
}

@test "vs-package writes chapter titles into WebVTT cues safely" {
	jq -c '.chapters = [{"title":"Intro --> evil\nline","start":0,"end":2},{"title":"Limits","start":2,"end":4}]' enc.json >c.json
	run -0 --separate-stderr vs-package --out pkg <c.json
	[ "$(grep -c -- '-->' pkg/chapters.vtt)" -eq 2 ]
	grep -qx 'Intro --  evil line' pkg/chapters.vtt
}

@test "vs-package goes to MEDIA_ROOT/ID/hls by default and leaves no temporary directory" {
	package
	[ "$status" -eq 0 ]
	dir="$VS_MEDIA_ROOT/$(jqr enc.json .id)/hls"
	[ "$(jqr out.json .package.dir)" = "$dir" ]
	[ -f "$dir/master.m3u8" ]
	[ -z "$(ls -d "$dir".tmp-* 2>/dev/null)" ]
}

@test "vs-package refuses a segment length that is not a multiple of the GOP" {
	package -1 --out pkg --segment-seconds 1.5
	[[ $(jqr out.json .error.message) == *"not a multiple of the encode's GOP"* ]]
	[ ! -e pkg ]
}

@test "vs-package fails a record without renditions and passes failed records on" {
	printf '%s\n' '{"id":"x","title":"t"}' '{"id":"y","error":{"tool":"vs-encode","code":"c","message":"m"}}' 'junk' >in.json
	run -1 --separate-stderr vs-package <in.json
	echo "$output" >out.json
	[ "$(sed -n 1p out.json | jq -r .error.code)" = "invalid_input" ]
	[ "$(sed -n 2p out.json)" = '{"id":"y","error":{"tool":"vs-encode","code":"c","message":"m"}}' ]
	[ "$(sed -n 3p out.json | jq -r .error.code)" = "bad_record" ]
}

@test "vs-package fails when a rendition file is gone" {
	jq -c '.renditions[0].path = "/nonexistent/360p.mp4"' enc.json >bad.json
	run -1 --separate-stderr vs-package --out pkg <bad.json
	[[ $stderr == *"/nonexistent/360p.mp4"* ]]
	[ ! -e pkg ]
}

# ---- --check ----

@test "vs-package --check passes our packages, fMP4 and TS" {
	package --out pkg
	check pkg
	[ "$status" -eq 0 ]
	[ "$(jqr check.json '.summary.errors // empty')" = "0" ]
	[ "$(jqr check.json '.summary.variants // empty')" = "2" ]
}

@test "vs-package --check passes a package made by the ffmpeg CLI's hls muxer" {
	mkdir ff
	ffmpeg -nostdin -v error -i "$(jqr enc.json '.renditions[1].path')" -c copy -f hls -hls_time 2 \
		-hls_playlist_type vod -hls_segment_filename ff/seg%d.ts ff/index.m3u8
	check ff/index.m3u8
	[ "$status" -eq 0 ]
	mkdir ff4
	ffmpeg -nostdin -v error -i "$(jqr enc.json '.renditions[1].path')" -c copy -f hls -hls_time 2 \
		-hls_playlist_type vod -hls_segment_type fmp4 -hls_segment_filename 'ff4/seg%d.m4s' ff4/index.m3u8
	check ff4
	[ "$status" -eq 0 ]
}

@test "vs-package --check: a playlist without EXT-X-VERSION is version 1, enough for whole-second EXTINFs only" {
	mkdir ff
	ffmpeg -nostdin -v error -i "$(jqr enc.json '.renditions[1].path')" -c copy -f hls -hls_time 2 \
		-hls_playlist_type vod -hls_segment_filename ff/seg%d.ts ff/index.m3u8
	sed -i -e '/^#EXT-X-VERSION/d' -e 's/^#EXTINF:\([0-9]*\)\.[0-9]*,/#EXTINF:\1,/' ff/index.m3u8
	check ff/index.m3u8
	[ "$status" -eq 0 ]
	[ "$(jqr check.json 'select(.rule == "version") | .message')" = "" ]
	sed -i 's/^#EXTINF:\([0-9]*\),/#EXTINF:\1.5,/' ff/index.m3u8
	check ff/index.m3u8
	[ "$status" -eq 1 ]
	[ "$(jqr check.json 'select(.rule == "version") | .message')" = "EXT-X-VERSION is 1 but the features used need 3" ]
}

@test "vs-package --check finds a missing segment" {
	package --out pkg --segment-seconds 2
	rm pkg/360p/seg-00002.m4s
	check pkg
	[ "$status" -eq 1 ]
	[[ $(rules) == *missing_file* ]]
	[ "$(jqr check.json 'select(.rule == "missing_file") | .file' | sort -u)" = "360p/seg-00002.m4s" ]
}

@test "vs-package --check finds a lying BANDWIDTH, too low and too high" {
	package --out pkg
	sed -i 's/^\(#EXT-X-STREAM-INF:BANDWIDTH=\)[0-9]*\(.*RESOLUTION=640x360\)/\1100000\2/' pkg/master.m3u8
	check pkg
	[ "$status" -eq 1 ]
	[[ $(jqr check.json 'select(.rule == "bandwidth") | .message') == *"below the measured peak"* ]]
	package --out pkg
	sed -i 's/^\(#EXT-X-STREAM-INF:BANDWIDTH=\)[0-9]*\(.*RESOLUTION=640x360\)/\199000000\2/' pkg/master.m3u8
	check pkg
	[ "$status" -eq 1 ]
	[[ $(jqr check.json 'select(.rule == "bandwidth") | .message') == *"more than 10% above"* ]]
}

@test "vs-package --check finds an EXTINF over the target duration" {
	package --out pkg --segment-seconds 2
	sed -i 's/^#EXT-X-TARGETDURATION:2/#EXT-X-TARGETDURATION:1/' pkg/360p/index.m3u8
	check pkg
	[ "$status" -eq 1 ]
	[[ $(rules) == *extinf_over_target* ]]
}

@test "vs-package --check finds a byte range out of range (a fuzzer's find: an overflow once)" {
	package --out pkg
	sed -i '0,/^#EXT-X-BYTERANGE:/s/^#EXT-X-BYTERANGE:.*/#EXT-X-BYTERANGE:1000@9223372036854775807/' pkg/360p/iframes.m3u8
	check pkg
	[ "$status" -eq 1 ]
	[[ $(jqr check.json 'select(.rule == "syntax") | .message') == *"EXT-X-BYTERANGE out of range"* ]]
}

@test "vs-package --check finds misaligned cuts between variants" {
	package --out pkg --segment-seconds 2
	package --out pkg1 --segment-seconds 1
	rm -r pkg/360p && cp -r pkg1/360p pkg/360p
	check pkg
	[ "$status" -eq 1 ]
	[[ $(rules) == *alignment* ]]
}

@test "vs-package --check finds a segment that does not start with a keyframe" {
	mkdir ff
	# -hls_time below the GOP with no keyframe forcing: cuts fall on keyframes
	# anyway, so make one by hand: drop the first segment from a TS playlist
	# whose second segment starts mid-GOP.
	ffmpeg -nostdin -v error -i "$(jqr enc.json '.renditions[1].path')" -c copy -f segment -segment_time 0.5 \
		-break_non_keyframes 1 -segment_list ff/index.m3u8 -segment_list_type m3u8 ff/s%d.ts
	check ff/index.m3u8
	[ "$status" -eq 1 ]
	[[ $(rules) == *keyframe* ]]
}

@test "vs-package --check finds wrong RESOLUTION, CODECS, FRAME-RATE and missing attributes" {
	package --out pkg
	# 360p: the wrong size and frame rate; 180p: a codec it is not, and no
	# AVERAGE-BANDWIDTH
	sed -i -e '/RESOLUTION=640x360/s/FRAME-RATE=30.000/FRAME-RATE=25.000/' \
		-e 's/RESOLUTION=640x360/RESOLUTION=1280x720/' pkg/master.m3u8
	sed -i -e '/RESOLUTION=320x180/s/CODECS="avc1\.[0-9a-f]*/CODECS="hvc1.1.6.L93.B0/' \
		-e 's/,AVERAGE-BANDWIDTH=[0-9]*,RESOLUTION=320x180/,RESOLUTION=320x180/' pkg/master.m3u8
	grep -q 'FRAME-RATE=25.000' pkg/master.m3u8
	grep -q 'hvc1' pkg/master.m3u8
	check pkg
	[ "$status" -eq 1 ]
	[ "$(rules)" = "average_bandwidth codecs frame_rate resolution " ]
}

@test "vs-package --check refuses a file that is not a playlist" {
	echo "hello" >notes.m3u8
	check notes.m3u8
	[ "$status" -eq 1 ]
	[[ $(rules) == *syntax* ]]
	check "$BATS_TEST_TMPDIR/nothing-here"
	[ "$status" -eq 1 ]
}

# ---- a real player ----

# serve_packages: the default package in fMP4, TS, with an audio group, with
# AES-128 in fMP4 and TS, and with DASH, under www/, served (serve_players,
# helper.bash) on $port
serve_packages() {
	port=$(free_port)
	id=$(jqr enc.json .id)
	mkdir -p www
	vs-package --out www/fmp4 <enc.json >/dev/null
	vs-package --out www/ts --segment-type ts <enc.json >/dev/null
	vs-package --out www/group --audio-group <enc.json >/dev/null
	vs-package --out www/enc --encrypt aes-128 --key-uri "http://127.0.0.1:$port/k.bin" <enc.json >/dev/null
	vs-package --out www/encts --segment-type ts --encrypt aes-128 --key-uri "http://127.0.0.1:$port/k.bin" <enc.json >/dev/null
	vs-package --out www/dash --dash <enc.json >/dev/null
	head -c 16 "$VS_MEDIA_ROOT/$id/keys/aes-128.key" >www/k.bin
	serve_players www "$port"
}

HLS_PACKAGES=(fmp4/master.m3u8 ts/master.m3u8 group/master.m3u8 enc/master.m3u8 encts/master.m3u8)

@test "hls.js in Chromium plays the default package in fMP4, TS, with an audio group and AES-128" {
	serve_packages
	play hls.js "${HLS_PACKAGES[@]}"
}

@test "Shaka Player plays the default package's HLS in every form, and its DASH" {
	serve_packages
	play shaka "${HLS_PACKAGES[@]}" dash/manifest.mpd
}

@test "dash.js plays the default package's DASH manifest" {
	serve_packages
	vs-package --check www/dash
	play dashjs dash/manifest.mpd
}

@test "vs-package reuses a finished package of the same inputs; --force packages again" {
	package --out pkg --segment-seconds 2
	[ "$status" -eq 0 ]
	# nanosecond times: a package made again is newer, with no sleep
	before=$(stat -c %.9Y pkg/master.m3u8)
	first_record=$(jq -c .package out.json)
	package --out pkg --segment-seconds 2 --verbose
	[ "$status" -eq 0 ]
	[[ $stderr == *"already packaged from these inputs"* ]]
	[ "$(stat -c %.9Y pkg/master.m3u8)" = "$before" ]
	[ "$(jq -c .package out.json)" = "$first_record" ]
	# other options: packaged again
	package --out pkg --segment-seconds 4
	[ "$(stat -c %.9Y pkg/master.m3u8)" != "$before" ]
	before=$(stat -c %.9Y pkg/master.m3u8)
	package --out pkg --segment-seconds 4 --force
	[ "$(stat -c %.9Y pkg/master.m3u8)" != "$before" ]
	# a package that went missing is made again
	rm pkg/master.m3u8
	package --out pkg --segment-seconds 4
	[ -f pkg/master.m3u8 ]
}

@test "a disk that fills mid-package: an error record, no package left that looks finished" {
	run -1 --separate-stderr full_disk 200000 vs-package --out pkg --segment-seconds 2 <enc.json
	echo "$output" >out.json
	[ "$(jqr out.json .error.tool)" = vs-package ]
	[[ $stderr == *"No space left on device"* ]]
	[ ! -e pkg/master.m3u8 ]
	# room again: the same command packages it whole
	package --out pkg --segment-seconds 2
	[ "$status" -eq 0 ]
	check pkg
	[ "$status" -eq 0 ]
}
