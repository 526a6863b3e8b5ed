#!/usr/bin/env bats
# vs-ingest: probe, store, register; refuse what is not a playable video.

load helper

setup_file() {
	use_db
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "vs-ingest --help prints usage on stdout and exits 0" {
	run -0 --separate-stderr vs-ingest --help
	[[ $output == "usage: vs-ingest "* ]]
	[[ $output == *"--title"* ]]
	[ -z "$stderr" ]
}

@test "vs-ingest --version names the program" {
	run -0 vs-ingest --version
	[[ $output == "vs-ingest (vs) "* ]]
}

@test "vs-ingest with an unknown flag exits 2 and says so on stderr" {
	run -2 --separate-stderr vs-ingest --frobnicate a.mp4
	[ -z "$output" ]
	[[ $stderr == *"unknown option '--frobnicate'"* ]]
}

@test "vs-ingest --title without its argument exits 2" {
	run -2 --separate-stderr vs-ingest --title
	[[ $stderr == *"needs an argument"* ]]
}

@test "vs-ingest --slug with two inputs is a usage error" {
	run -2 --separate-stderr vs-ingest --slug one a.mp4 b.mp4
	[[ $stderr == *"--slug names one video"* ]]
}

@test "vs-ingest probes a file and emits its record" {
	run -0 --separate-stderr vs-ingest "$(fixture lecture.mp4)" --title "Limits" --tags "calculus, math" --category math
	echo "$output" >rec.json
	[ "$(wc -l <rec.json)" -eq 1 ]
	[ "$(jqr rec.json .title)" = "Limits" ]
	[ "$(jqr rec.json .slug)" = "limits" ]
	[ "$(jqr rec.json '.tags|join(",")')" = "calculus,math" ]
	[ "$(jqr rec.json .category)" = "math" ]
	[ "$(jqr rec.json .probe.video.codec)" = "h264" ]
	[ "$(jqr rec.json .probe.video.width)" = "320" ]
	[ "$(jqr rec.json .probe.video.height)" = "240" ]
	[ "$(jqr rec.json .probe.video.fps)" = "25" ]
	[ "$(jqr rec.json .probe.video.pix_fmt)" = "yuv420p" ]
	[ "$(jqr rec.json .probe.audio.codec)" = "aac" ]
	[ "$(jqr rec.json .probe.audio.channels)" = "2" ]
	[ "$(jqr rec.json .probe.audio.sample_rate)" = "48000" ]
	[ "$(jqr rec.json '.probe.duration|floor')" = "4" ]
	[ "$(jqr rec.json .source.content_type)" = "video/mp4" ]
	[ "$(jqr rec.json .source.original_filename)" = "lecture.mp4" ]
}

@test "vs-ingest stores the source under the media root with its SHA-256" {
	run -0 --separate-stderr vs-ingest "$(fixture lecture.mp4)"
	echo "$output" >rec.json
	id=$(jqr rec.json .id)
	path=$(jqr rec.json .source.path)
	[ "$path" = "$VS_MEDIA_ROOT/$id/source.mp4" ]
	cmp "$path" "$(fixture lecture.mp4)"
	[ "$(jqr rec.json .source.sha256)" = "$(sha256sum <"$path" | cut -d' ' -f1)" ]
	[ "$(jqr rec.json .source.size)" = "$(stat -c %s "$path")" ]
	[ -f "$VS_MEDIA_ROOT/$id/ingest.json" ]
	[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	# Nothing is left behind in the scratch area.
	[ -z "$(ls -A "$VS_MEDIA_ROOT/.incoming")" ]
}

@test "vs-ingest reads container chapters" {
	run -0 --separate-stderr vs-ingest "$(fixture lecture.mp4)"
	echo "$output" >rec.json
	[ "$(jqr rec.json '.chapters|length')" = "2" ]
	[ "$(jqr rec.json '.chapters[0].title')" = "Introduction" ]
	[ "$(jqr rec.json '.chapters[1].title')" = "Limits" ]
	[ "$(jqr rec.json '.chapters[1].start')" = "2" ]
	[ "$(jqr rec.json '.chapters[1].end')" = "4" ]
}

@test "vs-ingest reports no audio for a silent video" {
	run -0 --separate-stderr vs-ingest "$(fixture noaudio.mp4)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .probe.audio)" = "null" ]
	[ "$(jqr rec.json .probe.video.fps)" = "30" ]
}

@test "vs-ingest applies rotation to the display size" {
	run -0 --separate-stderr vs-ingest "$(fixture rotated.mp4)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .probe.video.width)" = "320" ]
	[ "$(jqr rec.json .probe.video.height)" = "180" ]
	# ffprobe gives the display matrix's angle counter-clockwise; the
	# record gives the clockwise turn a player applies.
	ccw=$(ffprobe -v error -show_entries stream_side_data=rotation -of csv=p=0 "$(fixture rotated.mp4)" | tr -d ,)
	[ "$(jqr rec.json .probe.video.rotation)" = "$(((360 - ccw) % 360))" ]
	[ "$(jqr rec.json .probe.video.rotation)" = "270" ]
	[ "$(jqr rec.json .probe.video.display_width)" = "180" ]
	[ "$(jqr rec.json .probe.video.display_height)" = "320" ]
}

@test "vs-ingest applies the sample aspect ratio to the display size" {
	run -0 --separate-stderr vs-ingest "$(fixture anamorphic.mkv)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .probe.video.width)" = "720" ]
	[ "$(jqr rec.json .probe.video.display_width)" = "1024" ]
	[ "$(jqr rec.json .probe.video.display_height)" = "576" ]
	[ "$(jqr rec.json .source.content_type)" = "video/x-matroska" ]
}

@test "vs-ingest accepts Matroska and MPEG-TS sources" {
	run -0 --separate-stderr vs-ingest "$(fixture clip.mkv)" "$(fixture clip.ts)"
	echo "$output" >recs.json
	[ "$(wc -l <recs.json)" -eq 2 ]
	[ "$(jq -r .probe.video.codec recs.json | tr '\n' ' ')" = "h264 mpeg2video " ]
	[ "$(jq -r .source.content_type recs.json | tr '\n' ' ')" = "video/x-matroska video/mp2t " ]
}

@test "vs-ingest rejects an empty file with exit 1 and an error record" {
	run -1 --separate-stderr vs-ingest "$(fixture empty.mp4)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.tool)" = "vs-ingest" ]
	[ "$(jqr rec.json .error.code)" = "not_a_video" ]
	[[ $(jqr rec.json .error.message) == *"empty.mp4"*"empty"* ]]
	[[ $stderr == "vs-ingest: cannot ingest '"*"empty.mp4': the file is empty" ]]
}

@test "vs-ingest rejects a truncated MP4 with exit 1" {
	run -1 --separate-stderr vs-ingest "$(fixture truncated.mp4)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "truncated" ]
	[[ $stderr == *"truncated.mp4"*"truncated"* ]]
}

@test "vs-ingest rejects an MP4 cut before its index with exit 1" {
	run -1 --separate-stderr vs-ingest "$(fixture truncated-moov-last.mp4)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "not_a_video" ]
	[[ $stderr == *"moov atom not found"* ]]
}

@test "vs-ingest rejects a truncated Matroska file with exit 1" {
	run -1 --separate-stderr vs-ingest "$(fixture truncated.mkv)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "truncated" ]
}

@test "vs-ingest rejects random bytes with exit 1" {
	run -1 --separate-stderr vs-ingest "$(fixture garbage.mp4)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "not_a_video" ]
	[[ $stderr == *"garbage.mp4"*"not a media file"* ]]
}

@test "vs-ingest rejects a text file with exit 1" {
	run -1 --separate-stderr vs-ingest "$(fixture text.txt)"
	[[ $stderr == *"text.txt"* ]]
	run -1 --separate-stderr vs-ingest "$(fixture text.mp4)"
	[[ $stderr == *"text.mp4"*"not a media file"* ]]
}

@test "vs-ingest refuses a playlist before its demuxer opens what it names" {
	# a valid video the playlist points at, by absolute path and as file:
	ffmpeg -v error -f lavfi -i testsrc=size=160x120:rate=25 -t 1 -c:v libx264 -f mpegts secret.ts
	printf '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n%s\n#EXTINF:1,\nfile:%s\n#EXT-X-ENDLIST\n' \
		"$PWD/secret.ts" "$PWD/secret.ts" >lesson.mp4
	run -1 --separate-stderr strace -f -qq -e trace=open,openat -o opens.txt vs-ingest lesson.mp4
	[[ $stderr == *"lesson.mp4"*"a playlist or list of other files"* ]]
	grep -q 'lesson.mp4' opens.txt
	run -1 grep -F secret.ts opens.txt
	# a concat list likewise
	printf "ffconcat version 1.0\nfile '%s'\n" "$PWD/secret.ts" >list.mp4
	run -1 --separate-stderr strace -f -qq -e trace=open,openat -o opens.txt vs-ingest list.mp4
	[[ $stderr == *"a playlist or list of other files"* ]]
	run -1 grep -F secret.ts opens.txt
}

@test "vs-ingest rejects audio only with exit 1" {
	run -1 --separate-stderr vs-ingest "$(fixture audio.m4a)"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "not_a_video" ]
	[[ $stderr == *"audio only"* ]]
}

@test "vs-ingest rejects still images with exit 1" {
	run -1 --separate-stderr vs-ingest "$(fixture still.png)"
	[[ $stderr == *"still image"* ]]
	run -1 --separate-stderr vs-ingest "$(fixture still.jpg)"
	[[ $stderr == *"still image"* ]]
}

@test "vs-ingest rejects a missing file and a directory with exit 1" {
	run -1 --separate-stderr vs-ingest nosuch.mp4 "$BATS_TEST_TMPDIR"
	echo "$output" >recs.json
	[ "$(wc -l <recs.json)" -eq 2 ]
	[ "$(jq -r .error.code recs.json | tr '\n' ' ')" = "not_found invalid_input " ]
	[[ $stderr == *"'nosuch.mp4': No such file or directory"* ]]
}

@test "vs-ingest goes on after a bad input and exits 1" {
	run -1 --separate-stderr vs-ingest "$(fixture empty.mp4)" "$(fixture lecture.mp4)" "$(fixture garbage.mp4)"
	echo "$output" >recs.json
	[ "$(wc -l <recs.json)" -eq 3 ]
	[ "$(jq -r '.error.code // "ok"' recs.json | tr '\n' ' ')" = "not_a_video ok not_a_video " ]
	# The failed inputs left nothing in the media root.
	[ "$(find "$VS_MEDIA_ROOT" -name 'source.*' | wc -l)" -eq 1 ]
	[ -z "$(ls -A "$VS_MEDIA_ROOT/.incoming")" ]
}

@test "vs-ingest handles file names with spaces, quotes, a leading dash and UTF-8" {
	for name in "my lecture.mp4" "it's \"quoted\".mp4" "-dash.mp4" "Grenzwerte – Übung 1.mp4"; do
		cp "$(fixture lecture.mp4)" "./$name"
		printf '%s' "$name" >>"./$name" # distinct content, so no dedupe
		run -0 --separate-stderr vs-ingest -- "$name"
		echo "$output" >rec.json
		[ "$(jqr rec.json .source.original_filename)" = "$name" ]
		[ -f "$(jqr rec.json .source.path)" ]
	done
	cp "$(fixture lecture.mp4)" ./-title.mp4
	printf 'title' >>./-title.mp4
	run -0 --separate-stderr vs-ingest --title "Grenzwerte – Übung 1" ./-title.mp4
	echo "$output" >rec.json
	[ "$(jqr rec.json .title)" = "Grenzwerte – Übung 1" ]
	[ "$(jqr rec.json .slug)" = "grenzwerte-bung-1" ]
}

@test "vs-ingest refuses a file name that is not UTF-8 with exit 1" {
	name=$(printf 'bad-\377.mp4')
	cp "$(fixture lecture.mp4)" "$name"
	run -1 --separate-stderr vs-ingest "$name"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "invalid_input" ]
}

@test "vs-ingest reads records on stdin and keeps unknown fields" {
	printf '{"source":"%s","title":"From a record","course":{"id":7},"slug":"from-a-record"}\n' "$(fixture lecture.mp4)" >in.json
	run -0 --separate-stderr vs-ingest <in.json
	echo "$output" >rec.json
	[ "$(jqr rec.json .title)" = "From a record" ]
	[ "$(jqr rec.json .slug)" = "from-a-record" ]
	[ "$(jqr rec.json .course.id)" = "7" ]
	[ "$(jqr rec.json '.source|type')" = "object" ]
}

@test "vs-ingest accepts a source object with a path" {
	printf '{"source":{"path":"%s"}}\n' "$(fixture noaudio.mp4)" >in.json
	run -0 --separate-stderr vs-ingest <in.json
	echo "$output" >rec.json
	[ "$(jqr rec.json .source.original_filename)" = "noaudio.mp4" ]
}

@test "vs-ingest turns a malformed line into an error record naming the line" {
	printf '{"source":"%s"}\nthis is not json\n\n[1,2]\n{"title":"no source"}\n' "$(fixture noaudio.mp4)" >in.json
	run -1 --separate-stderr vs-ingest <in.json
	echo "$output" >recs.json
	[ "$(wc -l <recs.json)" -eq 4 ]
	[ "$(sed -n 2p recs.json | jq -r .error.code)" = "bad_record" ]
	[ "$(sed -n 2p recs.json | jq -r .line)" = "2" ]
	[ "$(sed -n 2p recs.json | jq -r .input)" = "this is not json" ]
	[[ $(sed -n 2p recs.json | jq -r .error.message) == "stdin:2: "* ]]
	[ "$(sed -n 3p recs.json | jq -r .line)" = "4" ]
	[ "$(sed -n 4p recs.json | jq -r .error.code)" = "invalid_input" ]
	[[ $stderr == *"stdin:2: not a record"* ]]
}

@test "vs-ingest rejects duplicate keys and wrong types in a record" {
	printf '{"source":"a.mp4","source":"b.mp4"}\n{"source":"%s","title":42}\n{"source":"%s","tags":"a,b","slug":"Bad Slug"}\n' \
		"$(fixture lecture.mp4)" "$(fixture lecture.mp4)" >in.json
	run -1 --separate-stderr vs-ingest <in.json
	echo "$output" >recs.json
	[ "$(jq -r .error.code recs.json | tr '\n' ' ')" = "bad_record invalid_input invalid_input " ]
	[[ $stderr == *"'title' must be a string"* ]]
	[[ $stderr == *"slug 'Bad Slug' is not valid"* ]]
}

@test "vs-ingest passes records that carry an error through untouched, exit 0" {
	printf '%s\n' '{"id":"x","error":{"tool":"vs-encode","code":"boom","message":"m"},"z":1}' >in.json
	run -0 --separate-stderr vs-ingest <in.json
	[ "$output" = '{"id":"x","error":{"tool":"vs-encode","code":"boom","message":"m"},"z":1}' ]
}

@test "vs-ingest with empty input writes nothing and exits 0" {
	run -0 --separate-stderr vs-ingest </dev/null
	[ -z "$output" ]
}

@test "vs-ingest keeps a huge malformed line short in its error record" {
	{ head -c 300000 /dev/zero | tr '\0' 'x'; echo; } >in.json
	run -1 --separate-stderr vs-ingest <in.json
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "bad_record" ]
	[ "$(jqr rec.json .input_truncated)" = "true" ]
	[ "$(jqr rec.json '.input|length')" -eq 65536 ]
}

@test "vs-ingest fails when stdout is full" {
	run -1 --separate-stderr bash -c 'vs-ingest "$1" >/dev/full' _ "$(fixture noaudio.mp4)"
	[[ $stderr == *"vs-ingest: "*"No space left on device"* ]]
}

@test "vs-ingest twice on the same content returns the same record without a database" {
	run -0 --separate-stderr vs-ingest "$(fixture lecture.mp4)" --title "First"
	echo "$output" >first.json
	cp "$(fixture lecture.mp4)" renamed.mp4
	run -0 --separate-stderr vs-ingest renamed.mp4 --title "Second"
	echo "$output" >second.json
	cmp first.json second.json
	[ "$(find "$VS_MEDIA_ROOT" -name 'source.*' | wc -l)" -eq 1 ]
}

@test "vs-ingest --media-root overrides VS_MEDIA_ROOT" {
	run -0 --separate-stderr vs-ingest --media-root "$BATS_TEST_TMPDIR/other" "$(fixture noaudio.mp4)"
	echo "$output" >rec.json
	[[ $(jqr rec.json .source.path) == "$BATS_TEST_TMPDIR/other/"* ]]
	[ ! -e "$VS_MEDIA_ROOT" ]
}

# ---- with a database ----

@test "vs-ingest registers the video and its chapters in the database" {
	with_db
	run -0 --separate-stderr vs-ingest "$(fixture lecture.mp4)" --title "Limits and continuity" --tags calculus
	echo "$output" >rec.json
	id=$(jqr rec.json .id)
	[ "$(sql "SELECT slug, title, upload_status, is_published, source_sha256 = '$(jqr rec.json .source.sha256)' FROM videos WHERE id = '$id'")" = "limits-and-continuity|Limits and continuity|processing|f|t" ]
	[ "$(sql "SELECT tags[1], round(duration_seconds) FROM videos WHERE id = '$id'")" = "calculus|4" ]
	[ "$(sql "SELECT string_agg(title || '@' || start_time_seconds, ',' ORDER BY chapter_order) FROM video_chapters WHERE video_id = '$id'")" = "Introduction@0,Limits@2" ]
}

@test "vs-ingest of the same content again returns the existing record and adds no row" {
	with_db
	run -0 --separate-stderr vs-ingest "$(fixture noaudio.mp4)" --title "Original"
	echo "$output" >first.json
	run -0 --separate-stderr vs-ingest -v "$(fixture noaudio.mp4)" --title "Again"
	echo "$output" >second.json
	[ "$(jqr second.json .id)" = "$(jqr first.json .id)" ]
	[ "$(jqr second.json .title)" = "Original" ]
	[[ $stderr == *"already ingested"* ]]
	[ "$(sql "SELECT count(*) FROM videos WHERE source_sha256 = '$(jqr first.json .source.sha256)'")" = "1" ]
}

@test "vs-ingest gives a second video with the same title a unique slug" {
	with_db
	run -0 --separate-stderr vs-ingest "$(fixture clip.mkv)" --title "Same title"
	echo "$output" >a.json
	run -0 --separate-stderr vs-ingest "$(fixture clip.ts)" --title "Same title"
	echo "$output" >b.json
	[ "$(jqr a.json .slug)" = "same-title" ]
	[ "$(jqr b.json .slug)" = "same-title-2" ]
}

@test "vs-ingest refuses an explicit slug that another video has, exit 1" {
	with_db
	run -0 --separate-stderr vs-ingest "$(fixture other.mp4)" --slug taken-slug
	run -1 --separate-stderr vs-ingest "$(fixture anamorphic.mkv)" --slug taken-slug
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "conflict" ]
	[[ $stderr == *"slug 'taken-slug' is already used by video"* ]]
	[ "$(sql "SELECT count(*) FROM videos WHERE slug = 'taken-slug'")" = "1" ]
	# Nothing registered for the refused video.
	[ "$(sql "SELECT count(*) FROM videos WHERE source_sha256 = '$(sha256sum <"$(fixture anamorphic.mkv)" | cut -d' ' -f1)'")" = "0" ]
}

@test "vs-ingest stores hostile titles and tags verbatim" {
	with_db
	cp "$(fixture lecture.mp4)" hostile.mp4
	printf 'x' >>hostile.mp4 # different content, still a valid MP4
	title="Robert'); DROP TABLE videos;-- \"quoted\""
	run -0 --separate-stderr vs-ingest hostile.mp4 --title "$title" --tags "a'b,--c"
	echo "$output" >rec.json
	id=$(jqr rec.json .id)
	[ "$(sql "SELECT title FROM videos WHERE id = '$id'")" = "$title" ]
	[ "$(sql "SELECT array_to_string(tags, '|') FROM videos WHERE id = '$id'")" = "a'b|--c" ]
	[ "$(sql "SELECT count(*) > 0 FROM videos")" = "t" ]
}

@test "vs-ingest exits 75 and writes nothing when the database is unreachable" {
	export VS_DATABASE_URL="postgresql:///vs?host=$BATS_TEST_TMPDIR/nosuchdir"
	run -75 --separate-stderr vs-ingest "$(fixture lecture.mp4)"
	[ -z "$output" ]
	[[ $stderr == "vs-ingest: cannot connect to the database"* ]]
}

@test "vs-ingest --database overrides VS_DATABASE_URL" {
	export VS_DATABASE_URL="postgresql:///vs?host=$BATS_TEST_TMPDIR/nosuchdir"
	run -0 --separate-stderr vs-ingest --database "$VS_TEST_DB_URL" "$(fixture noaudio.mp4)"
}

@test "vs-ingest registers a video first ingested without a database" {
	run -0 --separate-stderr vs-ingest "$(fixture rotated.mp4)" --title "Turned"
	echo "$output" >rec.json
	with_db
	[ "$(sql "SELECT count(*) FROM videos WHERE id = '$(jqr rec.json .id)'")" = "0" ]
	run -0 --separate-stderr vs-ingest "$(fixture rotated.mp4)"
	[ "$(sql "SELECT title FROM videos WHERE id = '$(jqr rec.json .id)'")" = "Turned" ]
}

@test "vs-ingest revives a deleted video" {
	with_db
	cp "$(fixture noaudio.mp4)" revive.mp4
	printf 'yy' >>revive.mp4
	run -0 --separate-stderr vs-ingest revive.mp4
	echo "$output" >rec.json
	sql "UPDATE videos SET upload_status = 'deleted' WHERE id = '$(jqr rec.json .id)'"
	run -0 --separate-stderr vs-ingest revive.mp4
	[ "$(sql "SELECT upload_status FROM videos WHERE id = '$(jqr rec.json .id)'")" = "processing" ]
}

@test "concurrent vs-ingest runs of one file register it once" {
	with_db
	cp "$(fixture lecture.mp4)" race.mp4
	printf 'zzz' >>race.mp4
	pids=()
	for i in 1 2 3 4; do
		vs-ingest race.mp4 >"out$i.json" 2>"err$i" 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	[ "$(cat out*.json | wc -l)" -eq 4 ]
	[ "$(cat out*.json | jq -r .id | sort -u | wc -l)" -eq 1 ]
	[ "$(sql "SELECT count(*) FROM videos WHERE id = '$(jq -r .id out1.json)'")" = "1" ]
}

# ---- downloads ----

start_http() {
	mkdir -p www log
	cp "$(fixture lecture.mp4)" www/lecture.mp4
	cp "$(fixture garbage.mp4)" www/garbage.mp4
	HTTP_PORT=$(free_port)
	cat >lighttpd.conf <<CONF
server.document-root = "$PWD/www"
server.bind = "127.0.0.1"
server.port = $HTTP_PORT
server.errorlog = "$PWD/log/error.log"
mimetype.assign = (".mp4" => "video/mp4")
CONF
	bg log/lighttpd.out lighttpd -D -f lighttpd.conf
	HTTP_PID=$BG_PID
	wait_port "$HTTP_PORT" "$BG_PID"
	# the test server is on loopback, which downloads may not reach unless allowed
	export VS_INGEST_ALLOW_ADDRESSES=127.0.0.1
}

stop_http() {
	stop_pid "${HTTP_PID:-}"
}

teardown() {
	stop_bg
}

@test "vs-ingest downloads an http URL" {
	start_http
	run -0 --separate-stderr vs-ingest "http://127.0.0.1:$HTTP_PORT/lecture.mp4"
	echo "$output" >rec.json
	[ "$(jqr rec.json .source.original_filename)" = "lecture.mp4" ]
	[ "$(jqr rec.json .source.sha256)" = "$(sha256sum <"$(fixture lecture.mp4)" | cut -d' ' -f1)" ]
	cmp "$(jqr rec.json .source.path)" "$(fixture lecture.mp4)"
}

@test "vs-ingest refuses a URL the server does not have, exit 1" {
	start_http
	run -1 --separate-stderr vs-ingest "http://127.0.0.1:$HTTP_PORT/missing.mp4"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "download_failed" ]
	[[ $stderr == *"HTTP 404"* ]]
	[ -z "$(ls -A "$VS_MEDIA_ROOT/.incoming")" ]
}

@test "vs-ingest refuses a download over --max-size, exit 1" {
	start_http
	run -1 --separate-stderr vs-ingest --max-size 1000 "http://127.0.0.1:$HTTP_PORT/lecture.mp4"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "too_large" ]
	[ -z "$(ls -A "$VS_MEDIA_ROOT/.incoming")" ]
}

@test "vs-ingest probes a download and refuses garbage, exit 1" {
	start_http
	run -1 --separate-stderr vs-ingest "http://127.0.0.1:$HTTP_PORT/garbage.mp4"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "not_a_video" ]
	[ -z "$(ls -A "$VS_MEDIA_ROOT/.incoming")" ]
}

@test "vs-ingest exits 75 when the download server cannot be reached" {
	run -75 --separate-stderr vs-ingest --allow-address 127.0.0.1 "http://127.0.0.1:$(free_port)/lecture.mp4"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "unavailable" ]
}

@test "vs-ingest exits 75 on 408, 429 and 5xx and on a time-out, 1 on other refusals; 75 outranks 1" {
	port=$(free_port)
	bg status.log python3 "$VS_TOP/tests/http-status-server.py" "$port"
	wait_port "$port" "$BG_PID"
	base=http://127.0.0.1:$port
	for code in 408 429 500 502 503 504; do
		run -75 --separate-stderr vs-ingest --allow-address 127.0.0.1 "$base/status/$code"
		[ "$(jqr <(echo "$output") .error.code)" = unavailable ] || { echo "$code: $output"; return 1; }
		[[ $stderr == *"HTTP $code"* ]] || { echo "$code: $stderr"; return 1; }
	done
	for code in 400 401 403 404 410; do
		run -1 --separate-stderr vs-ingest --allow-address 127.0.0.1 "$base/status/$code"
		[ "$(jqr <(echo "$output") .error.code)" = download_failed ] || { echo "$code: $output"; return 1; }
	done
	# a server that trickles (5000 s for its body), and one that never
	# answers: given up after 2 s (timeout's 124 if not)
	for path in slow hang; do
		run -75 --separate-stderr timeout -k 1 60 vs-ingest --allow-address 127.0.0.1 --download-timeout 2 "$base/$path"
		[ "$(jqr <(echo "$output") .error.code)" = unavailable ]
		[[ $stderr == *"timed out"* || $stderr == *"Timeout"* || $stderr == *"time"* ]] || { echo "$stderr"; return 1; }
	done
	[ -z "$(ls -A "$VS_MEDIA_ROOT/.incoming")" ]
	# a refused input and one that may pass later, in one run: 75, both said
	run -75 --separate-stderr vs-ingest --allow-address 127.0.0.1 "$(fixture garbage.mp4)" "$base/status/503" "$(fixture text.txt)"
	[ "$(jq -r .error.code <<<"$output" | tr '\n' ' ')" = "not_a_video unavailable not_a_video " ]
	run -75 --separate-stderr vs-ingest --allow-address 127.0.0.1 "$base/status/503" "$(fixture garbage.mp4)"
	run -2 --separate-stderr vs-ingest --download-timeout 0 "$base/slow"
}

@test "vs-ingest downloads over https, checks the server, and refuses a redirect down to http" {
	start_http
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem 2>/dev/null
	HTTPS_PORT=$(free_port)
	bg log/https.out python3 "$VS_TOP/tests/https-server.py" "$HTTPS_PORT" "$PWD/www" cert.pem key.pem "$HTTP_PORT"
	wait_port "$HTTPS_PORT" "$BG_PID"
	# the certificate is checked: unknown to the system's store, refused
	run -1 --separate-stderr vs-ingest --allow-address 127.0.0.1 "https://127.0.0.1:$HTTPS_PORT/lecture.mp4"
	[[ $stderr == *"certificate"* ]]
	# with its CA named, the download goes through
	run -0 --separate-stderr vs-ingest --allow-address 127.0.0.1 --ca-file cert.pem "https://127.0.0.1:$HTTPS_PORT/lecture.mp4"
	[ "$(jqr <(echo "$output") .source.original_filename)" = lecture.mp4 ]
	# and so by the environment
	run -0 --separate-stderr env VS_INGEST_CA_FILE=cert.pem vs-ingest --allow-address 127.0.0.1 "https://127.0.0.1:$HTTPS_PORT/lecture.mp4"
	# https -> http: refused, though the http server would serve it
	run -1 --separate-stderr vs-ingest --allow-address 127.0.0.1 --ca-file cert.pem --media-root other "https://127.0.0.1:$HTTPS_PORT/to-http"
	[[ $stderr == *"refused a redirect from https"* ]]
	[ "$(jqr <(echo "$output") .error.code)" = download_failed ]
	[ -z "$(ls -A other/.incoming 2>/dev/null)" ]
}

@test "vs-ingest refuses other URL schemes, exit 1" {
	run -1 --separate-stderr vs-ingest "ftp://example.com/a.mp4"
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = "invalid_input" ]
}

@test "vs-ingest refuses loopback, private and link-local addresses, and redirects to them" {
	start_http
	unset VS_INGEST_ALLOW_ADDRESSES
	run -1 --separate-stderr vs-ingest "http://127.0.0.1:$HTTP_PORT/lecture.mp4"
	[[ $stderr == *"refused to connect to 127.0.0.1"* ]]
	[ "$(jqr <(echo "$output") .error.code)" = download_failed ]
	# the cloud's metadata service, private nets, IPv6 loopback, v4-mapped: refused at once
	for url in http://169.254.169.254/latest/meta-data/ http://10.0.0.1/x.mp4 http://192.168.1.1/x.mp4 \
		http://172.16.0.1/x.mp4 'http://[::1]:1/x.mp4' 'http://[::ffff:127.0.0.1]:1/x.mp4' http://0.0.0.0:1/x.mp4; do
		run -1 --separate-stderr timeout -k 1 5 vs-ingest "$url"
		[[ $stderr == *"refused to connect to"* ]] || { echo "$url: $stderr"; return 1; }
	done
	# allowed: the listed address only, and a redirect to another is refused
	cat >>lighttpd.conf <<CONF
server.modules += ("mod_redirect")
url.redirect = ("^/metadata$" => "http://169.254.169.254/latest/meta-data/iam", "^/again$" => "http://127.0.0.2:$HTTP_PORT/lecture.mp4")
CONF
	stop_http
	bg log/lighttpd.out lighttpd -D -f lighttpd.conf
	HTTP_PID=$BG_PID
	wait_port "$HTTP_PORT" "$BG_PID"
	run -0 --separate-stderr vs-ingest --allow-address 127.0.0.1 "http://127.0.0.1:$HTTP_PORT/lecture.mp4"
	run -1 --separate-stderr timeout -k 1 5 vs-ingest --allow-address 127.0.0.1 "http://127.0.0.1:$HTTP_PORT/metadata"
	[[ $stderr == *"refused to connect to 169.254.169.254"* ]]
	run -1 --separate-stderr timeout -k 1 5 vs-ingest --allow-address 127.0.0.1 "http://127.0.0.1:$HTTP_PORT/again"
	[[ $stderr == *"refused to connect to 127.0.0.2"* ]]
}
