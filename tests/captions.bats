#!/usr/bin/env bats
# Captions through the pipeline: vs-ingest --captions and a source's own
# subtitle streams, video_captions (psql), vs-video captions, the package's
# HLS subtitle renditions and DASH text tracks (checked against ffprobe's
# timestamps and by --check), vs-publish, and vs-cgi's answers.

load helper

teardown() {
	stop_bg
}

setup_file() {
	use_db
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	cd "$BATS_FILE_TMPDIR"
	printf '1\r\n00:00:00,500 --> 00:00:01,500\r\nHello, <i>limits</i>\r\n\r\n2\r\n00:00:02,000 --> 00:00:03,500\r\nSecond cue\r\n' >en.srt
	printf 'WEBVTT\n\n00:00.500 --> 00:01.500\nBonjour\n\n00:02.000 --> 00:09.000\nPast the end\n' >fr.vtt
	src=$(fixture lecture.mp4)
	# an MP4 with an English mov_text track, a Matroska file with English,
	# French (its audio English) and a forced Spanish SubRip track
	ff -i "$src" -i en.srt -map 0:v -map 0:a -map 1 -c copy -c:s mov_text -metadata:s:s:0 language=eng movtext.mp4
	ff -i "$src" -i en.srt -i fr.vtt -i en.srt -map 0:v -map 0:a -map 1 -map 2 -map 3 -c copy -c:s srt \
		-metadata:s:a:0 language=eng -metadata:s:s:0 language=eng -metadata:s:s:1 language=fre \
		-metadata:s:s:1 title="Français (traduction)" -metadata:s:s:2 language=spa \
		-disposition:s:0 default -disposition:s:2 forced subs.mkv
}

# unique NAME: the lecture remuxed with a tag of its own, so that it is
# content vs-ingest has not seen (the same bytes are the same video)
unique() {
	ff -i "$(fixture lecture.mp4)" -map 0:v -map 0:a -c copy -metadata comment="$1" "$1.mp4"
	echo "$PWD/$1.mp4"
}

setup() {
	export VS_MEDIA_ROOT="$BATS_FILE_TMPDIR/media"
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR"/en.srt "$BATS_FILE_TMPDIR"/fr.vtt .
}

@test "vs-ingest --captions keeps each file as a checked WebVTT track, in the record and in video_captions" {
	with_db
	run -0 --separate-stderr vs-ingest "$(fixture lecture.mp4)" --captions en=en.srt,fr=fr.vtt
	echo "$output" >rec.json
	id=$(jqr rec.json .id)
	[ "$(jq -c '[.captions[] | [.language, .label, .kind, .default, .cues, .source]]' rec.json)" = \
		'[["en","English","captions",false,2,"file"],["fr","Français","captions",false,2,"file"]]' ]
	# SubRip became WebVTT; the cue past the 4 s video was cut at its end, and said so
	path=$(jqr rec.json '.captions[0].path')
	[ "$(head -1 "$path")" = WEBVTT ]
	grep -qx '00:00:00.500 --> 00:00:01.500' "$path"
	grep -qx 'Hello, <i>limits</i>' "$path"
	grep -qx '00:00:02.000 --> 00:00:04.000' "$(jqr rec.json '.captions[1].path')"
	[ "$(jqr rec.json '.captions[1].warnings.clamped')" = 1 ]
	[[ $stderr == *"the fr captions: cues that end after the video, shortened: 1"* ]]
	[ "$(jqr rec.json '.captions[0].sha256')" = "$(sha256sum "$path" | cut -d' ' -f1)" ]
	[ "$(sql "SELECT string_agg(language || ':' || kind || ':' || cue_count || ':' || source || ':' || (path = '$path' OR language <> 'en'), ',' ORDER BY language) FROM video_captions WHERE video_id = '$id'")" = "en:captions:2:file:true,fr:captions:2:file:true" ]
}

@test "a source's own subtitle streams become tracks: languages, kinds, default, forced ones skipped" {
	with_db
	run -0 --separate-stderr vs-ingest "$BATS_FILE_TMPDIR/subs.mkv"
	echo "$output" >rec.json
	[ "$(jq -c '[.captions[] | [.language, .label, .kind, .default, .source]]' rec.json)" = \
		'[["en","English","captions",true,"stream"],["fr","Français (traduction)","subtitles",false,"stream"]]' ]
	[[ $stderr == *"forced"*"skipped"* ]]
	grep -qx 'Hello, <i>limits</i>' "$(jqr rec.json '.captions[0].path')"
	# mov_text in MP4, its audio's language unknown: captions
	run -0 --separate-stderr vs-ingest "$BATS_FILE_TMPDIR/movtext.mp4"
	echo "$output" >mp4.json
	[ "$(jq -c '[.captions[] | [.language, .kind, .cues]]' mp4.json)" = '[["en","captions",2]]' ]
	grep -qx '00:00:02.000 --> 00:00:03.500' "$(jqr mp4.json '.captions[0].path')"
	[ "$(sql "SELECT count(*) FROM video_captions WHERE video_id = '$(jqr mp4.json .id)' AND source = 'stream'")" = 1 ]
}

@test "a caption file replaces a stream's track of its language and kind" {
	printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nFrom the file\n' >mine.vtt
	run -0 --separate-stderr vs-ingest "$BATS_FILE_TMPDIR/subs.mkv" --captions en=mine.vtt
	echo "$output" >rec.json
	[ "$(jq -c '[.captions[] | select(.language == "en") | [.kind, .source, .cues]]' rec.json)" = '[["captions","file",1]]' ]
	grep -qx 'From the file' "$(jqr rec.json '.captions[] | select(.language == "en") | .path')"
	# a record says more: label, kind, default
	printf '{"source":"%s","captions":[{"language":"de","path":"mine.vtt","label":"Deutsch \\u00fcbersetzt","kind":"subtitles","default":true}]}\n' "$(unique record-says-more)" >in.json
	run -0 --separate-stderr vs-ingest <in.json
	[ "$(jq -c '[.captions[] | [.language, .label, .kind, .default]]' <<<"$output")" = '[["de","Deutsch übersetzt","subtitles",true]]' ]
}

@test "a broken caption file is an error record naming the file and line, and nothing is stored" {
	with_db
	printf 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n\n00:00:03.000 --> 00:00:02.000\nbackwards\n' >bad.vtt
	# a media root of its own: nothing may be written there, not even
	# a temporary file
	export VS_MEDIA_ROOT=$BATS_TEST_TMPDIR/media
	run -1 --separate-stderr vs-ingest "$(fixture other.mp4)" --captions en=bad.vtt
	echo "$output" >rec.json
	[ "$(jqr rec.json .error.code)" = invalid_input ]
	[[ $(jqr rec.json .error.message) == *"'bad.vtt': line 6: the cue ends at or before its start"* ]]
	[[ $stderr == *"bad.vtt"*"line 6"* ]]
	[ "$(sql "SELECT count(*) FROM videos WHERE original_filename = 'other.mp4'")" = 0 ]
	[ -z "$(find "$VS_MEDIA_ROOT" -type f 2>/dev/null)" ]
	run -1 --separate-stderr vs-ingest "$(fixture other.mp4)" --captions en=missing.srt
	[[ $stderr == *"missing.srt"* ]]
	: >empty.vtt
	run -1 --separate-stderr vs-ingest "$(fixture other.mp4)" --captions en=empty.vtt
	[[ $stderr == *"'empty.vtt': the file is empty"* ]]
	cp "$(fixture garbage.mp4)" garbage.srt
	run -1 --separate-stderr vs-ingest "$(fixture other.mp4)" --captions en=garbage.srt
	[[ $stderr == *"garbage.srt"* ]]
	[ "$(sql "SELECT count(*) FROM videos WHERE original_filename = 'other.mp4'")" = 0 ]
}

@test "hostile language tags, labels and kinds are refused; usage errors exit 2" {
	with_db
	for tag in "en';DROP TABLE video_captions;--" "--help" "e" "toolongsubtagxx" "en--GB" "en_US" ""; do
		printf '{"source":"%s","captions":[{"language":"%s","path":"en.srt"}]}\n' "$(fixture lecture.mp4)" "$tag" >in.json
		run -1 --separate-stderr vs-ingest <in.json
		[ "$(jq -r .error.code <<<"$output")" = invalid_input ]
	done
	printf '{"source":"%s","captions":[{"language":"en","path":"en.srt","label":"a \\"quoted\\" label"}]}\n' "$(fixture lecture.mp4)" >in.json
	run -1 --separate-stderr vs-ingest <in.json
	[[ $(jq -r .error.message <<<"$output") == *"label"* ]]
	printf '{"source":"%s","captions":[{"language":"en","path":"en.srt","kind":"karaoke"}]}\n' "$(fixture lecture.mp4)" >in.json
	run -1 --separate-stderr vs-ingest <in.json
	[[ $(jq -r .error.message <<<"$output") == *"kind 'karaoke'"* ]]
	[ "$(sql "SELECT count(*) FROM video_captions WHERE language NOT IN ('en', 'fr', 'de')")" = 0 ]
	run -2 --separate-stderr vs-ingest "$(fixture lecture.mp4)" --captions en
	[[ $stderr == *"--captions: 'en' is not LANG=FILE"* ]]
	run -2 --separate-stderr vs-ingest "$(fixture lecture.mp4)" --captions ''
}

@test "vs-video captions lists, adds (replacing and moving the default) and removes tracks" {
	with_db
	vs-ingest "$(unique captioned)" --slug captioned --captions en=en.srt >/dev/null
	run -0 --separate-stderr vs-video captions captioned
	[ "$(jq -sc '[.[] | .language]' <<<"$output")" = '["en"]' ]
	printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nHola\n' >es.vtt
	run -0 --separate-stderr vs-video captions captioned add es.vtt --lang es --kind subtitles --default
	[ "$(jq -c '[.language, .label, .kind, .default]' <<<"$output")" = '["es","Español","subtitles",true]' ]
	id=$(sql "SELECT id FROM videos WHERE slug = 'captioned'")
	[ "$(sql "SELECT string_agg(language || ':' || is_default, ',' ORDER BY language) FROM video_captions WHERE video_id = '$id'")" = "en:false,es:true" ]
	# en made the default instead, its text replaced
	printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nNew English\n' >en2.vtt
	run -0 --separate-stderr vs-video captions captioned add en2.vtt --lang EN --label "English (revised)" --default
	[ "$(sql "SELECT string_agg(language || ':' || label || ':' || is_default || ':' || cue_count, ',' ORDER BY language) FROM video_captions WHERE video_id = '$id'")" = "en:English (revised):true:1,es:Español:false:1" ]
	grep -qx 'New English' "$(sql "SELECT path FROM video_captions WHERE video_id = '$id' AND language = 'en'")"
	# a broken file changes nothing
	printf 'WEBVTT\n\n00:01.000 --> 00:0x.000\nx\n' >broken.vtt
	run -1 --separate-stderr vs-video captions captioned add broken.vtt --lang en
	[[ $stderr == *"'broken.vtt': line 3"* ]]
	[ "$(sql "SELECT cue_count FROM video_captions WHERE video_id = '$id' AND language = 'en'")" = 1 ]
	# removed: row and file
	path=$(sql "SELECT path FROM video_captions WHERE video_id = '$id' AND language = 'es'")
	run -0 --separate-stderr vs-video captions captioned remove --lang es
	[ "$(jq -r .language <<<"$output")" = es ]
	[ ! -e "$path" ]
	[ "$(sql "SELECT count(*) FROM video_captions WHERE video_id = '$id'")" = 1 ]
	run -1 --separate-stderr vs-video captions captioned remove --lang es
	[[ $stderr == *"no caption track in 'es'"* ]]
	run -1 --separate-stderr vs-video captions no-such-video
	[[ $stderr == *"no video 'no-such-video'"* ]]
	run -2 --separate-stderr vs-video captions captioned add es.vtt
	run -2 --separate-stderr vs-video captions captioned rename --lang es
}

# package ENC-ARGS PACKAGE-ARGS…: the lesson with English captions and
# French subtitles, encoded and packaged into pkg/
package() {
	vs-ingest "$(fixture lecture.mp4)" --captions en=en.srt,fr=fr.vtt |
		vs-encode --preset ultrafast --ladder 180p,240p >enc.json
	jq -c '.captions[1].kind = "subtitles" | .captions[0].default = true' enc.json >enc2.json
	run -0 --separate-stderr vs-package --out pkg "$@" <enc2.json
	echo "$output" >pkg.json
}

# first_pts PACKAGE-DIR: the first video frame's time in the first
# variant's first segment, in 90 kHz units, as ffprobe reads it
first_pts() {
	local d=$1/180p
	if [ -f "$d/init.mp4" ]; then
		cat "$d/init.mp4" "$d/seg-00001.m4s" >first.mp4
		ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 first.mp4 | sed -n 1p
	else
		ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$d/seg-00001.ts" | sed -n 1p
	fi | awk '{ printf "%d\n", $1 * 90000 + 0.5 }'
}

@test "vs-package: a subtitle group in the master, WebVTT segments mapped to the video's first frame, in fMP4 and TS" {
	for type in fmp4 ts; do
		rm -rf pkg
		package --segment-type "$type"
		m=pkg/master.m3u8
		grep -qx '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound",URI="subs/captions-en/index.m3u8"' $m
		grep -qx '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="subs/subtitles-fr/index.m3u8"' $m
		[ "$(grep -c '^#EXT-X-STREAM-INF:.*,SUBTITLES="subs"$' $m)" -eq 2 ]
		# as many subtitle segments as video ones, of the same lengths
		[ "$(grep '^#EXTINF' pkg/subs/captions-en/index.m3u8)" = "$(grep '^#EXTINF' pkg/180p/index.m3u8)" ]
		want=$(first_pts pkg)
		for s in pkg/subs/*/seg-*.vtt; do
			[ "$(sed -n 2p "$s")" = "X-TIMESTAMP-MAP=MPEGTS:$want,LOCAL:00:00:00.000" ]
		done
		# a cue goes in every segment it shows in: 0.5-1.5 s in the 1 s first two
		grep -q 'Hello, <i>limits</i>' pkg/subs/captions-en/seg-00001.vtt
		grep -q 'Hello, <i>limits</i>' pkg/subs/captions-en/seg-00002.vtt
		run ! grep -q 'Hello' pkg/subs/captions-en/seg-00003.vtt
		grep -q 'Second cue' pkg/subs/captions-en/seg-00003.vtt
		run -0 --separate-stderr vs-package --check pkg
		[ "$(jq -s '.[-1].summary.errors' <<<"$output")" = 0 ]
		[ "$(jq -c '[.package.captions[] | [.language, .kind, .default, .playlist, .file]]' pkg.json)" = \
			'[["en","captions",true,"subs/captions-en/index.m3u8","captions/captions-en.vtt"],["fr","subtitles",false,"subs/subtitles-fr/index.m3u8","captions/subtitles-fr.vtt"]]' ]
		[ "$(head -1 pkg/captions/captions-en.vtt)" = WEBVTT ]
	done
	# the B-frames of x264's default preset put the first frame after 0 in both
	vs-ingest "$(fixture lecture.mp4)" --captions en=en.srt | vs-encode --preset medium --ladder 180p >med.json
	for type in fmp4 ts; do
		rm -rf pkg
		run -0 --separate-stderr vs-package --out pkg --segment-type "$type" <med.json
		want=$(first_pts pkg)
		[ "$want" -gt 0 ]
		[ "$(sed -n 2p pkg/subs/captions-en/seg-00001.vtt)" = "X-TIMESTAMP-MAP=MPEGTS:$want,LOCAL:00:00:00.000" ]
	done
}

@test "vs-package --dash: a text adaptation set per track, over the whole WebVTT file" {
	package --dash
	mpd=pkg/manifest.mpd
	grep -q '<AdaptationSet id="[0-9]*" contentType="text" mimeType="text/vtt" lang="en">' $mpd
	grep -q '<Role schemeIdUri="urn:mpeg:dash:role:2011" value="caption"/>' $mpd
	grep -q '<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>' $mpd
	grep -q '<Label>Français</Label>' $mpd
	grep -q '<BaseURL>captions/subtitles-fr.vtt</BaseURL>' $mpd
	[ -s pkg/captions/subtitles-fr.vtt ]
	python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' $mpd
}

@test "vs-package --check finds broken subtitle renditions" {
	package
	sed -i 's/MPEGTS:[0-9]*/MPEGTS:900000/' pkg/subs/captions-en/seg-00002.vtt
	sed -i '2d' pkg/subs/subtitles-fr/seg-00003.vtt
	printf 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00:08.000 --> 00:00:09.000\nfar away\n' >pkg/subs/captions-en/seg-00001.vtt
	printf 'WEBVTT\n\n00:03.000 --> 00:01.000\nbackwards\n' >pkg/subs/subtitles-fr/seg-00001.vtt
	sed -i 's/NAME="Français"/NAME="English"/; 0,/SUBTITLES="subs"$/s//SUBTITLES="missing"/' pkg/master.m3u8
	run -1 --separate-stderr vs-package --check pkg
	echo "$output" >check.json
	cat check.json
	[ "$(jq -r 'select(.rule) | "\(.rule) \(.file)"' check.json | sort | tr '\n' ';')" = \
		"cue_outside_segment subs/captions-en/seg-00001.vtt;subtitles master.m3u8;subtitles master.m3u8;timestamp_map subs/captions-en/seg-00002.vtt;timestamp_map subs/subtitles-fr/seg-00003.vtt;webvtt subs/subtitles-fr/seg-00001.vtt;" ]
}

@test "a package made again after the captions change carries the change" {
	package
	first=$(sha256sum pkg/captions/captions-en.vtt | cut -d' ' -f1)
	printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nRevised\n' >en.vtt
	jq -c --arg p "$PWD/en.vtt" '.captions[0].path = $p' enc2.json >enc3.json
	run -0 --separate-stderr vs-package --out pkg <enc3.json
	[ "$(sha256sum pkg/captions/captions-en.vtt | cut -d' ' -f1)" != "$first" ]
	grep -q Revised pkg/subs/captions-en/seg-00002.vtt
	# a caption file gone is an error naming it, the package left as it was
	rm en.vtt
	run -1 --separate-stderr vs-package --out pkg --force <enc3.json
	[[ $stderr == *"en.vtt"* ]]
	grep -q Revised pkg/captions/captions-en.vtt
}

@test "vs-publish puts the tracks on the origin and in video_captions.url; vs-cgi lists and signs them" {
	with_db
	export VS_SIGNING_KEY_FILE=$BATS_TEST_TMPDIR/sign.key VS_PUBLIC_BASE_URL=http://127.0.0.1/vod
	printf 'signing secret' >"$VS_SIGNING_KEY_FILE"
	vs-ingest "$(unique published)" --slug published-captions --captions en=en.srt,fr=fr.vtt |
		vs-encode --preset ultrafast --ladder 180p | vs-package |
		vs-publish --to "file://$PWD/www" --base-url "$VS_PUBLIC_BASE_URL" >pub.json
	id=$(jqr pub.json .id)
	[ -s "www/$id/captions/captions-en.vtt" ]
	[ -s "www/$id/subs/captions-fr/seg-00001.vtt" ]
	[ "$(sql "SELECT string_agg(url, ',' ORDER BY language) FROM video_captions WHERE video_id = '$id'")" = \
		"$VS_PUBLIC_BASE_URL/$id/captions/captions-en.vtt,$VS_PUBLIC_BASE_URL/$id/captions/captions-fr.vtt" ]
	run -0 --separate-stderr env REQUEST_METHOD=GET PATH_INFO=/videos/published-captions GATEWAY_INTERFACE=CGI/1.1 vs-cgi
	printf '%s\n' "${lines[-1]}" >detail.json
	[ "$(jq -c '[.captions[] | [.language, .label, .kind, .url]]' detail.json)" = \
		"[[\"en\",\"English\",\"captions\",\"$VS_PUBLIC_BASE_URL/$id/captions/captions-en.vtt\"],[\"fr\",\"Français\",\"captions\",\"$VS_PUBLIC_BASE_URL/$id/captions/captions-fr.vtt\"]]" ]
	export VS_SIGN_SCHEME=hmac
	run -0 --separate-stderr env REQUEST_METHOD=GET PATH_INFO=/videos/published-captions/stream GATEWAY_INTERFACE=CGI/1.1 vs-cgi
	printf '%s\n' "${lines[-1]}" >stream.json
	url=$(jqr stream.json '.captions[0].url')
	[[ $url == "http://127.0.0.1/t/"*"/vod/$id/captions/captions-en.vtt" ]]
	run -0 --separate-stderr vs-sign --scheme hmac --verify "$url"
	# a track added later shows once it is published
	printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nHallo\n' >de.vtt
	vs-video captions published-captions add de.vtt --lang de >/dev/null
	run -0 --separate-stderr env REQUEST_METHOD=GET PATH_INFO=/videos/published-captions GATEWAY_INTERFACE=CGI/1.1 vs-cgi
	[ "$(jq -c '[.captions[] | .language]' <<<"${lines[-1]}")" = '["en","fr"]' ]
}

@test "hls.js, Shaka Player and dash.js list the text tracks with their languages, and show the cues where they belong" {
	package
	port=$(free_port)
	mkdir -p www
	mv pkg www/fmp4
	vs-package --out www/ts --segment-type ts <enc2.json >/dev/null
	vs-package --out www/dash --dash <enc2.json >/dev/null
	serve_players www "$port"
	play hls.js fmp4/master.m3u8 ts/master.m3u8
	cp played.json hlsjs.json
	play shaka fmp4/master.m3u8 dash/manifest.mpd
	cp played.json shaka.json
	play dashjs dash/manifest.mpd
	cp played.json dashjs.json
	for f in hlsjs.json shaka.json dashjs.json; do
		[ "$(jq -c '[.textTracks[] | .language] | sort' $f | sort -u)" = '["en","fr"]' ]
	done
	# the English captions, the default: their first cue (0.5 s to 1.5 s in
	# the file) is where the file says, in every player and package. (Shaka
	# 5.2 shows no HLS cue at all when its text track is chosen after the
	# video was buffered to its end: tests/play.html chooses it before.)
	jq -c '.cues' hlsjs.json shaka.json dashjs.json
	cue_ok='[.cues[] | select(.language == "en" and .first != null) | .first |
		(((.start - 0.5) | fabs) < 0.1) and (.text == "Hello, <i>limits</i>" or .text == "Hello, limits")]'
	for f in hlsjs.json shaka.json; do
		[ "$(jq "$cue_ok | length > 0 and all" $f | sort -u)" = true ] || { echo "$f: no English cue in place"; return 1; }
	done
}

@test "a record rebuilt from the catalog (vs-encode --id, as vs-queue claim does) carries the captions to the package" {
	with_db
	vs-ingest "$(unique from-catalog)" --slug from-catalog >/dev/null
	vs-video captions from-catalog add en.srt --lang en --default >/dev/null
	run -0 --separate-stderr vs-encode --id from-catalog --preset ultrafast --ladder 180p
	echo "$output" >enc.json
	[ "$(jq -c '[.captions[] | [.language, .kind, .default, .cues]]' enc.json)" = '[["en","captions",true,2]]' ]
	run -0 --separate-stderr vs-package --out pkg <enc.json
	grep -q '^#EXT-X-MEDIA:TYPE=SUBTITLES,.*LANGUAGE="en",DEFAULT=YES' pkg/master.m3u8
}
