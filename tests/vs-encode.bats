#!/usr/bin/env bats
# vs-encode: the ladder, checked with ffprobe.

load helper

setup_file() {
	use_db
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# ingest FIXTURE: ingests a fixture into the test's media root as in.json
ingest() {
	vs-ingest "$(fixture "$1")" >in.json
}

# encode [-N] [ARGS]: vs-encode --preset ultrafast ARGS < in.json > out.json;
# it must exit N (default 0)
encode() {
	local want=-0
	case ${1:-} in -[0-9]*) want=$1; shift ;; esac
	run "$want" --separate-stderr vs-encode --preset ultrafast "$@" <in.json
	echo "$output" >out.json
}

rendition() { jqr out.json ".renditions[] | select(.label == \"$1\") | .path"; }

keyframes() {
	ffprobe -v error -select_streams v -skip_frame nokey -show_entries frame=pts_time \
		-of default=noprint_wrappers=1:nokey=1 "$1" | grep -E '^[0-9]' | tr '\n' ' '
}

duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }

@test "vs-encode --help prints usage and exits 0" {
	run -0 --separate-stderr vs-encode --help
	[[ $output == "usage: vs-encode "* ]]
	[[ $output == *"--ladder"* ]]
}

@test "vs-encode refuses bad flags with exit 2" {
	run -2 --separate-stderr vs-encode --ladder 720q
	[[ $stderr == *"--ladder: bad rung '720q'"* ]]
	run -2 --separate-stderr vs-encode --preset warp
	[[ $stderr == *"unknown preset 'warp'"* ]]
	run -2 --separate-stderr vs-encode --crf 99
	run -2 --separate-stderr vs-encode --gop-seconds -1
	run -2 --separate-stderr vs-encode --id abc
	[[ $stderr == *"--id needs a database"* ]]
	run -2 --separate-stderr vs-encode file.mp4
	[[ $stderr == *"records come on stdin"* ]]
}

@test "vs-encode --plan prints the ladder and the reasons without encoding" {
	ingest hd.mp4
	run -0 --separate-stderr vs-encode --plan <in.json
	echo "$output" >out.json
	[ "$(jqr out.json '[.plan.rungs[] | "\(.label)=\(.width)x\(.height)"] | join(" ")')" = "240p=426x240 360p=640x360" ]
	[ "$(jqr out.json '.plan.skipped | join("; ")')" = "720p skipped: source is 360p; 1080p skipped: source is 360p" ]
	[ "$(jqr out.json .plan.gop_seconds)" = "2" ]
	[ "$(jqr out.json .plan.gop_frames)" = "60" ]
	[ "$(jqr out.json '.plan.rungs[0].maxrate > 0 and .plan.rungs[0].bufsize > 0')" = "true" ]
	[ "$(jqr out.json '.plan.estimated_bytes > 0')" = "true" ]
	[[ $stderr == *"720p skipped: source is 360p"* ]]
	[ ! -e "$VS_MEDIA_ROOT/$(jqr out.json .id)/renditions" ]
}

@test "vs-encode --plan caps a rung by the source's own bit rate" {
	ingest lowrate.mp4
	run -0 --separate-stderr vs-encode --plan --ladder 360p <in.json
	echo "$output" >out.json
	src=$(jqr out.json .probe.bit_rate)
	[ "$(jqr out.json ".plan.rungs[0].maxrate <= $src")" = "true" ]
	[ "$(jqr out.json .plan.rungs[0].cap)" = "source" ]
	[[ $stderr == *"(cap: source)"* ]]
}

@test "vs-encode makes each rung at the display aspect, never upscaled" {
	ingest hd.mp4
	encode --ladder 180p,360p,720p
	[ "$status" -eq 0 ]
	[ "$(jqr out.json '[.renditions[].label] | join(",")')" = "180p,360p" ]
	[ "$(ffprobe_field "$(rendition 180p)" v:0 width,height)" = "320,180" ]
	[ "$(ffprobe_field "$(rendition 360p)" v:0 width,height)" = "640,360" ]
	[ "$(jqr out.json '.encode.skipped[0]')" = "720p skipped: source is 360p" ]
}

@test "vs-encode writes H.264 High yuv420p with AAC-LC stereo 48 kHz, moov first" {
	ingest hd.mp4
	encode --ladder 180p,360p
	[ "$status" -eq 0 ]
	for l in 180p 360p; do
		f=$(rendition $l)
		[ "$(ffprobe_field "$f" v:0 codec_name,profile,pix_fmt)" = "h264,High,yuv420p" ]
		[ "$(ffprobe_field "$f" a:0 codec_name,profile)" = "aac,LC" ]
		[ "$(ffprobe_field "$f" a:0 channels)" = "2" ]
		[ "$(ffprobe_field "$f" a:0 sample_rate)" = "48000" ]
		# The index ("moov") comes before the data ("mdat").
		[ "$(grep -obUaP 'moov|mdat' "$f" | sed -n 1p | cut -d: -f2)" = "moov" ]
	done
}

@test "vs-encode puts keyframes on every GOP boundary, identical across rungs" {
	ingest hd.mp4
	encode --ladder 180p,360p --gop-seconds 1
	[ "$status" -eq 0 ]
	[ "$(keyframes "$(rendition 180p)")" = "0.000000 1.000000 2.000000 3.000000 " ]
	[ "$(keyframes "$(rendition 360p)")" = "0.000000 1.000000 2.000000 3.000000 " ]
}

@test "vs-encode adds a keyframe at 1 s to a longer GOP, in every rung; --start-gop-seconds moves or drops it" {
	ingest hd.mp4
	encode --ladder 180p,360p
	[ "$status" -eq 0 ]
	[ "$(keyframes "$(rendition 180p)")" = "0.000000 1.000000 2.000000 " ]
	[ "$(keyframes "$(rendition 360p)")" = "0.000000 1.000000 2.000000 " ]
	[ "$(jqr out.json .encode.start_gop_seconds)" = 1 ]
	encode --ladder 180p --start-gop-seconds 0.5 --force
	[ "$(keyframes "$(rendition 180p)")" = "0.000000 0.500000 2.000000 " ]
	[ "$(jqr out.json .encode.start_gop_seconds)" = 0.5 ]
	encode --ladder 180p --start-gop-seconds 0 --force
	[ "$(keyframes "$(rendition 180p)")" = "0.000000 2.000000 " ]
	[ "$(jqr out.json .encode.start_gop_seconds)" = 0 ]
	# not within the first GOP: none
	encode --ladder 180p --gop-seconds 1 --force
	[ "$(jqr out.json .encode.start_gop_seconds)" = 0 ]
	run -0 --separate-stderr vs-encode --plan --ladder 180p <in.json
	[[ $stderr == *"a keyframe every 2 s (60 frames) and one at 1 s"* ]]
}

@test "vs-encode keeps the duration within 0.1 s of the source" {
	ingest hd.mp4
	encode --ladder 180p,360p
	src=$(jqr out.json .probe.duration)
	for l in 180p 360p; do
		d=$(duration "$(rendition $l)")
		awk -v a="$d" -v b="$src" 'BEGIN { exit !((a - b) < 0.1 && (b - a) < 0.1) }'
	done
}

@test "vs-encode gives the RFC 6381 codecs string of what it wrote" {
	ingest hd.mp4
	encode --ladder 360p
	f=$(rendition 360p)
	level=$(ffprobe_field "$f" v:0 level)
	[ "$(jqr out.json '.renditions[0].codecs')" = "$(printf 'avc1.6400%02x,mp4a.40.2' "$level")" ]
	[ "$(jqr out.json '.renditions[0].size')" = "$(stat -c %s "$f")" ]
	[ "$(jqr out.json '.renditions[0].bitrate > 0 and .renditions[0].peak_bitrate >= .renditions[0].video_bitrate')" = "true" ]
}

@test "vs-encode writes no audio track for a silent source" {
	ingest noaudio.mp4
	encode
	[ "$status" -eq 0 ]
	f=$(jqr out.json '.renditions[0].path')
	[ -z "$(ffprobe_field "$f" a codec_name)" ]
	[ "$(jqr out.json '.renditions[0].codecs')" = "$(jqr out.json '.renditions[0].codecs | split(",")[0]')" ]
}

@test "vs-encode downmixes 5.1 at 44.1 kHz to stereo at 48 kHz" {
	ingest surround.mp4
	encode
	[ "$status" -eq 0 ]
	[ "$(ffprobe_field "$(jqr out.json '.renditions[0].path')" a:0 channels)" = "2" ]
	[ "$(ffprobe_field "$(jqr out.json '.renditions[0].path')" a:0 sample_rate)" = "48000" ]
}

@test "vs-encode turns a rotated source upright with no rotation left" {
	ingest rotated.mp4
	encode
	[ "$status" -eq 0 ]
	f=$(jqr out.json '.renditions[0].path')
	[ "$(ffprobe_field "$f" v:0 width,height)" = "180,320" ]
	[ -z "$(ffprobe -v error -show_entries stream_side_data=rotation -of csv=p=0 "$f")" ]
	# The picture is turned as the player would turn it: compare with
	# ffmpeg's own autorotation, by meaning (PSNR), not by bytes.
	ff -i "$(fixture rotated.mp4)" -frames:v 1 -s 180x320 ref.png
	ff -i "$f" -frames:v 1 out.png
	psnr=$(ffmpeg -hide_banner -i out.png -i ref.png -lavfi psnr -f null - 2>&1 | sed -n 's/.*average:\([0-9.inf]*\).*/\1/p')
	awk -v p="$psnr" 'BEGIN { exit !(p == "inf" || p > 25) }'
}

@test "vs-encode keeps a portrait source portrait" {
	ingest portrait.mp4
	encode --ladder 240p,360p
	[ "$(ffprobe_field "$(rendition 240p)" v:0 width,height)" = "240,426" ]
	[ "$(ffprobe_field "$(rendition 360p)" v:0 width,height)" = "360,640" ]
}

@test "vs-encode makes square pixels of an anamorphic source" {
	ingest anamorphic.mkv
	encode --ladder 240p,576p
	[ "$(ffprobe_field "$(rendition 240p)" v:0 width,height,sample_aspect_ratio)" = "426,240,1:1" ]
	[ "$(ffprobe_field "$(rendition 576p)" v:0 width,height)" = "1024,576" ]
}

@test "vs-encode gives a source below the lowest rung one rendition at its own size" {
	ingest tiny.mp4
	encode
	[ "$(jqr out.json '[.renditions[] | "\(.label) \(.width)x\(.height)"] | join(",")')" = "90p 160x90" ]
	[ "$(ffprobe_field "$(jqr out.json '.renditions[0].path')" v:0 width,height)" = "160,90" ]
}

@test "vs-encode takes 10-bit HEVC, VP9 and AV1 to 8-bit H.264" {
	for f in hevc10.mkv vp9.webm av1.mkv; do
		ingest $f
		encode
		[ "$status" -eq 0 ]
		[ "$(ffprobe_field "$(jqr out.json '.renditions[0].path')" v:0 codec_name,profile,pix_fmt)" = "h264,High,yuv420p" ]
	done
}

@test "vs-encode deinterlaces interlaced MPEG-2" {
	ingest interlaced.ts
	encode
	[ "$status" -eq 0 ]
	f=$(jqr out.json '.renditions[0].path')
	[ "$(ffprobe_field "$f" v:0 field_order)" = "progressive" ]
	[ "$(ffprobe_field "$f" v:0 r_frame_rate)" = "25/1" ]
}

@test "vs-encode makes a variable frame rate constant" {
	ingest vfr.mp4
	encode
	f=$(jqr out.json '.renditions[0].path')
	[ "$(ffprobe_field "$f" v:0 r_frame_rate)" = "30/1" ]
	[ "$(ffprobe_field "$f" v:0 avg_frame_rate)" = "30/1" ]
}

@test "vs-encode caps the frame rate at 60" {
	ingest fast120.mp4
	encode
	[ "$(ffprobe_field "$(jqr out.json '.renditions[0].path')" v:0 r_frame_rate)" = "60/1" ]
}

@test "vs-encode picks a poster that is not the black first frame" {
	ingest black-start.mp4
	encode
	poster=$(jqr out.json .thumbnails.poster)
	[ "$(ffprobe_field "$poster" v:0 codec_name)" = "mjpeg" ]
	yavg=$(ffprobe -v error -f lavfi -i "movie=$poster,signalstats" -show_entries frame_tags=lavfi.signalstats.YAVG -of csv=p=0)
	awk -v y="$yavg" 'BEGIN { exit !(y > 40) }'
}

@test "vs-encode writes a storyboard sprite and WebVTT cues into it" {
	ingest hd.mp4
	encode --storyboard-interval 1
	vtt=$(jqr out.json .thumbnails.storyboard_vtt)
	sprite=$(jqr out.json .thumbnails.storyboard)
	[ "$(head -1 "$vtt")" = "WEBVTT" ]
	[ "$(grep -c -- '-->' "$vtt")" -eq 4 ]
	grep -q '^00:00:01.000 --> 00:00:02.000$' "$vtt"
	grep -q '^storyboard.jpg#xywh=160,0,160,90$' "$vtt"
	[ "$(ffprobe_field "$sprite" v:0 width,height)" = "640,90" ]
}

@test "vs-encode records the renditions in the database" {
	with_db
	ingest hd.mp4
	id=$(jqr in.json .id)
	encode --ladder 180p,360p
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT string_agg(quality_label || ':' || processing_status || ':' || resolution_width || 'x' || resolution_height, ',' ORDER BY resolution_height) FROM video_qualities WHERE video_id = '$id'")" = "180p:completed:320x180,360p:completed:640x360" ]
	[ "$(sql "SELECT codecs FROM video_qualities WHERE video_id = '$id' AND quality_label = '360p'")" = "$(jqr out.json '.renditions[1].codecs')" ]
	[ "$(sql "SELECT thumbnail_url LIKE 'file://%poster.jpg', round(duration_seconds) FROM videos WHERE id = '$id'")" = "t|4" ]
}

@test "vs-encode --id reads the video from the database" {
	with_db
	ingest noaudio.mp4
	run -0 --separate-stderr vs-encode --preset ultrafast --id "$(jqr in.json .slug)"
	echo "$output" >out.json
	[ "$(jqr out.json .id)" = "$(jqr in.json .id)" ]
	[ -f "$(jqr out.json '.renditions[0].path')" ]
	run -1 --separate-stderr vs-encode --id no-such-video
	[[ $stderr == *"no video 'no-such-video'"* ]]
}

@test "vs-encode of a video the database does not know fails with exit 1" {
	ingest noaudio.mp4
	with_db
	sql "DELETE FROM videos WHERE id = '$(jqr in.json .id)'"
	encode -1
	[ "$status" -eq 1 ]
	[ "$(jqr out.json .error.code)" = "not_found" ]
}

@test "vs-encode fails a source that cannot be decoded midway, leaving nothing finished" {
	with_db
	ingest corrupt-middle.mp4
	id=$(jqr in.json .id)
	encode -1
	[ "$status" -eq 1 ]
	[ "$(jqr out.json .error.code)" = "not_a_video" ] || { cat out.json; echo "$stderr"; return 1; }
	[[ $stderr == *"cannot be decoded"* ]]
	[ ! -e "$VS_MEDIA_ROOT/$id/renditions" ]
	[ -z "$(find "$VS_MEDIA_ROOT/$id" -name '*.mp4' ! -name source.mp4)" ]
	[ "$(sql "SELECT DISTINCT processing_status FROM video_qualities WHERE video_id = '$id'")" = "failed" ]
	[ "$(sql "SELECT upload_status FROM videos WHERE id = '$id'")" = "failed" ]
}

@test "vs-encode does nothing the second time unless --force" {
	ingest noaudio.mp4
	encode
	f=$(jqr out.json '.renditions[0].path')
	before=$(stat -c %.9Y.%i "$f") # nanoseconds: no sleep needed
	cp out.json first.json
	encode -v
	[ "$status" -eq 0 ]
	[[ $stderr == *"already encoded"* ]]
	[ "$(stat -c %.9Y.%i "$f")" = "$before" ]
	[ "$(jqr out.json .renditions)" = "$(jqr first.json .renditions)" ]
	encode --force
	[ "$status" -eq 0 ]
	[ "$(stat -c %.9Y.%i "$f")" != "$before" ]
}

@test "vs-encode finishes the job after a kill -9" {
	ingest long.mp4
	id=$(jqr in.json .id)
	bg progress.txt sh -c 'exec vs-encode --preset ultrafast --ladder 180p,360p --progress <in.json >killed.json'
	pid=$BG_PID
	# killed once it reports a tenth done, whatever the machine's speed
	for _ in $(seq 600); do
		# (no figure yet: empty)
		pct=$(tr '\r' '\n' <progress.txt | sed -n 's/\(^\|.*[^0-9]\)\([0-9][0-9]*\)\.[0-9]%.*/\2/p' | tail -n 1)
		[ "${pct:-0}" -ge 10 ] && break
		sleep 0.05
	done
	[ "${pct:-0}" -ge 10 ]
	[ "$pct" -lt 100 ]
	kill -9 "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 137 ] # killed, not finished
	[ ! -s killed.json ]
	[ -n "$(ls -d "$VS_MEDIA_ROOT/$id"/.renditions-* 2>/dev/null)" ]
	[ ! -e "$VS_MEDIA_ROOT/$id/renditions" ]
	encode --ladder 180p,360p
	[ "$status" -eq 0 ]
	[ -z "$(ls -d "$VS_MEDIA_ROOT/$id"/.renditions-* 2>/dev/null)" ]
	d=$(duration "$(rendition 360p)")
	awk -v a="$d" 'BEGIN { exit !(a > 39.9 && a < 40.1) }'
}

@test "vs-encode passes failed records through and reports bad lines" {
	printf '%s\n' '{"id":"x","error":{"tool":"vs-ingest","code":"not_a_video","message":"m"}}' 'not json' '{"title":"no id"}' >in.json
	encode -1
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p out.json)" = '{"id":"x","error":{"tool":"vs-ingest","code":"not_a_video","message":"m"}}' ]
	[ "$(sed -n 2p out.json | jq -r .error.code)" = "bad_record" ]
	[ "$(sed -n 3p out.json | jq -r .error.code)" = "invalid_input" ]
}

@test "vs-encode fails a record whose source is gone, exit 1" {
	ingest noaudio.mp4
	rm "$(jqr in.json .source.path)"
	encode -1
	[ "$status" -eq 1 ]
	[[ $(jqr out.json .error.message) == *"source.mp4"* ]]
}

@test "vs-encode --progress shows percentage, speed, frames per second and time left on stderr" {
	ingest noaudio.mp4
	encode --progress
	[ "$status" -eq 0 ]
	[[ $stderr == *"100.0%"*"x real time"*" fps "*"left"* ]]
	run -0 --separate-stderr vs-encode --preset ultrafast --force <in.json
	[ -z "$stderr" ]
}

@test "vs-encode exits 75 while another process encodes the same video" {
	ingest noaudio.mp4
	id=$(jqr in.json .id)
	mkdir -p "$VS_MEDIA_ROOT/$id"
	# another process holds the lock until told to let go
	bg holder.log flock "$VS_MEDIA_ROOT/$id/.encode.lock" sh -c ': >locked; while [ ! -e release ]; do sleep 0.05; done'
	holder=$BG_PID
	for _ in $(seq 200); do [ -e locked ] && break; sleep 0.05; done
	[ -e locked ]
	encode -75
	touch release
	wait "$holder"
	[ "$status" -eq 75 ]
	[ "$(jqr out.json .error.code)" = "unavailable" ]
	[[ $stderr == *"being encoded by another process"* ]]
}

@test "a disk that fills mid-encode: an error record, nothing finished left, no rendition completed" {
	with_db
	ingest lecture.mp4
	id=$(jqr in.json .id)
	run -1 --separate-stderr full_disk 300000 vs-encode --preset ultrafast <in.json
	echo "$output" >out.json
	[ "$(jqr out.json .error.tool)" = vs-encode ]
	[[ $stderr == *"No space left on device"* ]]
	# no finished encode where a later step would take it for one
	[ ! -e "$VS_MEDIA_ROOT/$id/renditions" ]
	[ "$(sql "SELECT count(*) FROM video_qualities WHERE video_id = '$id' AND processing_status = 'completed'")" = 0 ]
	# room again: the same command finishes
	encode
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT count(*) > 0, bool_and(processing_status = 'completed') FROM video_qualities WHERE video_id = '$id'")" = "t|t" ]
}
