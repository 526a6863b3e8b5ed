#!/usr/bin/env bats
# libvs/vtt.c, the caption reader and writer, driven by the test-vtt program
# (tests/unit/test-vtt.c): WebVTT and SubRip in the encodings people have,
# checked, clamped, written whole and cut into HLS segments.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	VTT=${VS_UNIT_DIR:-$VS_TOP/build/default/tests}/test-vtt
	[ -x "$VTT" ] || make -C "$VS_TOP" -s "${VTT#$VS_TOP/}"
}

vtt() { run --separate-stderr "$VTT" "$@"; }

@test "WebVTT: cues, identifiers, settings and STYLE kept, NOTEs dropped, cues put in order" {
	printf 'WEBVTT - a lecture\nKind: captions\n\nSTYLE\n::cue { color: yellow }\n\nNOTE a comment\nover two lines\n\nintro\n00:00:01.000 --> 00:00:02.500 line:0 align:start\nHello <b>world</b>\n\n00:00.500 --> 00:01.200\nEarlier\n' >a.vtt
	vtt a.vtt
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\n00:00:00.500 --> 00:00:01.200\nEarlier\n\nintro\n00:00:01.000 --> 00:00:02.500 line:0 align:start\nHello <b>world</b>')" ]
	[ "$stderr" = "cues 2 srt 0 reordered 1 overlaps 1 empty 0 clamped 0 dropped 0" ]
}

@test "SubRip: CRLF, Windows-1252, <font> and {\\an8} dropped, b/i/u kept, a bare < and & escaped" {
	printf '1\r\n00:00:01,000 --> 00:00:02,000 X1:10 X2:20\r\n<font color="red">Red</font> & <I>it</I> {\\an8}x < y\r\n\r\n2\r\n00:00:03,000 --> 00:00:05,000\r\nCaf\xe9 <script>alert(1)</script>\r\n\r\n' >b.srt
	vtt b.srt
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nRed &amp; <i>it</i> x &lt; y\n\n00:00:03.000 --> 00:00:05.000\nCafé alert(1)')" ]
	[[ $stderr == "cues 2 srt 1 "* ]]
}

@test "SubRip in UTF-16 (both byte orders) and UTF-8 with a BOM reads as UTF-8" {
	printf '1\n00:00:01,000 --> 00:00:02,000\nÉté\n' >utf8.srt
	{ printf '\xff\xfe'; iconv -f UTF-8 -t UTF-16LE utf8.srt; } >le.srt
	{ printf '\xfe\xff'; iconv -f UTF-8 -t UTF-16BE utf8.srt; } >be.srt
	{ printf '\xef\xbb\xbf'; cat utf8.srt; } >bom.srt
	for f in le.srt be.srt bom.srt utf8.srt; do
		vtt "$f"
		[ "$status" -eq 0 ]
		[ "${lines[-1]}" = "Été" ]
	done
}

@test "a broken file is an error that names the line" {
	printf 'WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nBackwards\n' >back.vtt
	vtt back.vtt
	[ "$status" -eq 1 ]
	[ "$stderr" = "'back.vtt': line 3: the cue ends at or before its start" ]
	printf 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne\n\n00:00:01.000 -> 00:00:02.000\nbad arrow\n' >arrow.vtt
	vtt arrow.vtt
	[ "$status" -eq 1 ]
	[[ $stderr == "'arrow.vtt': line 6: neither a cue timing"* ]]
	printf 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\ntext\n00:00:03.000 --> 00:00:04.000\nno blank line\n' >glued.vtt
	vtt glued.vtt
	[ "$status" -eq 1 ]
	[[ $stderr == "'glued.vtt': line 5: a cue timing where the cue's text was expected"* ]]
	printf '1\n00:00:01,000 --> 00:00:02,000\none\n\n2\n00:00:03,000 --> 00:0x:04,000\ntwo\n' >bad.srt
	vtt bad.srt
	[ "$status" -eq 1 ]
	[[ $stderr == "'bad.srt': line 6: not a cue timing"* ]]
	printf 'WEBVTT\n\n00:61.000 --> 00:62.000\nsixty-one seconds\n' >sixty.vtt
	vtt sixty.vtt
	[ "$status" -eq 1 ]
	[[ $stderr == "'sixty.vtt': line 3: not a cue timing"* ]]
}

@test "empty, garbage, binary, a lone line, huge and a missing file are refused" {
	: >empty.vtt
	vtt empty.vtt
	[ "$stderr" = "'empty.vtt': the file is empty" ]
	printf 'Lecture notes\nnot captions\n' >notes.txt
	vtt notes.txt
	[ "$stderr" = "'notes.txt': line 1: neither WebVTT (it starts with WEBVTT) nor SubRip" ]
	printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nnul \0 here\n' >nul.vtt
	vtt nul.vtt
	[ "$stderr" = "'nul.vtt': a NUL byte: not a text file" ]
	cp "$(fixture garbage.mp4)" garbage.vtt
	vtt garbage.vtt
	[ "$status" -eq 1 ]
	printf 'WEBVTT\n\nid only\n\n' >lone.vtt
	vtt lone.vtt
	[ "$stderr" = "'lone.vtt': line 3: a line alone that is not a cue" ]
	{ printf 'WEBVTT\n\n'; head -c 9000000 /dev/zero | tr '\0' 'x'; } >huge.vtt
	vtt huge.vtt
	[ "$status" -eq 1 ]
	[[ $stderr == *"huge.vtt"*"larger than"* ]]
	vtt missing.vtt
	[ "$status" -eq 1 ]
	[[ $stderr == *"missing.vtt"* ]]
}

@test "more than 100000 cues are refused; cues without text are dropped and counted" {
	awk 'BEGIN { print "WEBVTT"; for (i = 0; i <= 100000; i++) printf "\n%02d:%02d.%03d --> %02d:%02d.%03d\nc%d\n", i / 60000, (i / 1000) % 60, i % 1000, (i + 1) / 60000, ((i + 1) / 1000) % 60, (i + 1) % 1000, i }' >many.vtt
	vtt many.vtt
	[ "$status" -eq 1 ]
	[[ $stderr == *"more than 100000 cues"* ]]
	printf '1\n00:00:01,000 --> 00:00:02,000\n<font color="red"></font>\n\n2\n00:00:03,000 --> 00:00:04,000\nkept\n' >empty-text.srt
	vtt empty-text.srt
	[ "$status" -eq 0 ]
	[ "$stderr" = "cues 1 srt 1 reordered 0 overlaps 0 empty 1 clamped 0 dropped 0" ]
}

@test "clamped to the video: cues after its end dropped, cues across it shortened" {
	printf 'WEBVTT\n\n00:01.000 --> 00:03.000\na\n\n00:04.000 --> 00:09.000\nacross the end\n\n00:05.000 --> 00:06.000\nafter it\n' >c.vtt
	vtt c.vtt 5
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'WEBVTT\n\n00:00:01.000 --> 00:00:03.000\na\n\n00:00:04.000 --> 00:00:05.000\nacross the end')" ]
	[ "$stderr" = "cues 2 srt 0 reordered 0 overlaps 0 empty 0 clamped 1 dropped 1" ]
}

@test "an HLS segment: X-TIMESTAMP-MAP, and every cue shown in it, those across its edges too" {
	printf 'WEBVTT\n\n00:00.500 --> 00:02.500\nacross the start\n\n00:03.000 --> 00:03.500\ninside\n\n00:03.900 --> 00:05.000\nacross the end\n\n00:04.000 --> 00:05.000\nafter\n' >s.vtt
	vtt --segment s.vtt 2 4 6000
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:6000,LOCAL:00:00:00.000\n\n00:00:00.500 --> 00:00:02.500\nacross the start\n\n00:00:03.000 --> 00:00:03.500\ninside\n\n00:00:03.900 --> 00:00:05.000\nacross the end')" ]
}
