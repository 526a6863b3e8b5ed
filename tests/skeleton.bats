#!/usr/bin/env bats
# What every program gets from the shared skeleton (libvs/opt.h, prog.h):
# stored options with their ranges, choices, subcommand tables that both
# dispatch and complete, --help defaults from the constants, the common
# --media-root; and the house's measures (scripts/measures).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "a number option out of its range is a usage error naming it and the range" {
	run -2 --separate-stderr vs-queue --lease 0 status
	[[ $stderr == *"vs-queue: --lease: '0' is not a number from 1 to 86400"* ]]
	run -2 --separate-stderr vs-encode --crf 52
	[[ $stderr == *"vs-encode: --crf: '52' is not a whole number from 0 to 51"* ]]
	run -2 --separate-stderr vs-encode --crf 2x
	[[ $stderr == *"'2x' is not a whole number"* ]]
	run -2 --separate-stderr vs-ingest --max-size -1 x.mp4
	[[ $stderr == *"--max-size: '-1' is not a whole number from 1 to 9223372036854775807"* ]]
	run -2 --separate-stderr vs-report --limit 99999999999999999999 summary
	[[ $stderr == *"--limit: '99999999999999999999' is not a whole number"* ]]
}

@test "a choice option names every choice when it gets another word" {
	run -2 --separate-stderr vs-package --segment-type mp4
	[[ $stderr == *"vs-package: --segment-type: 'mp4' is not fmp4 or ts"* ]]
	run -2 --separate-stderr vs-package --encrypt aes-256
	[[ $stderr == *"--encrypt: 'aes-256' is not aes-128"* ]]
	run -2 --separate-stderr vs-report --format xml summary
	[[ $stderr == *"--format: 'xml' is not json, csv or html"* ]]
	# a prefix of a choice is not the choice
	run -2 --separate-stderr vs-report --format js summary
	[[ $stderr == *"'js' is not json, csv or html"* ]]
}

@test "stored options land where the program reads them" {
	# --ts and --dash are refused together only if both were stored
	run -2 --separate-stderr vs-package --segment-type ts --dash
	[[ $stderr == *"--dash needs fmp4 segments, not ts"* ]]
	run -2 --separate-stderr vs-package --key-uri /k
	[[ $stderr == *"--key-uri goes with --encrypt aes-128"* ]]
	run -2 --separate-stderr vs-sign --cookies https://cdn.example/vod/x/master.m3u8
	[[ $stderr == *"--cookies goes with --scheme cloudfront"* ]]
	# the last of --publish and --no-publish wins; the target is checked after
	run -2 --separate-stderr env -u VS_PUBLISH_URL vs-publish --no-publish --publish
	[[ $stderr == *"no target"* ]]
}

@test "vs-cgi links no media library: plain CGI starts it for every request" {
	run -0 readelf -d "$VS_TOP/bin/vs-cgi"
	[[ $output == *"libpq.so"* ]]
	[[ $output != *"libavformat"* ]]
	[[ $output != *"libavcodec"* ]]
	[[ $output != *"libswscale"* ]]
}

@test "subcommands: one table dispatches, completes and names them in errors" {
	run -0 --separate-stderr vs-queue --list-subcommands
	[ "$output" = "$(printf 'claim\ndone\nstatus\nretry')" ]
	run -0 --separate-stderr vs-report --list-subcommands
	[ "$output" = "$(printf 'summary\nvideo\nqoe\nretention\nalerts\nimport\nrollup')" ]
	run -2 --separate-stderr vs-db
	[[ $stderr == *"vs-db: no command: use migrate or status"* ]]
	run -2 --separate-stderr vs-progress frobnicate
	[[ $stderr == *"unknown command 'frobnicate': use set, get, import or export"* ]]
	run -2 --separate-stderr vs-report video
	[[ $stderr == *"video needs a video id or slug"* ]]
	run -2 --separate-stderr vs-queue retry a b
	[[ $stderr == *"retry: unexpected argument 'b'"* ]]
	run -2 --separate-stderr env -u VS_DATABASE_URL vs-queue status
	[[ $stderr == *"status needs a database: set VS_DATABASE_URL or give --database URL"* ]]
}

@test "--help prints each default from the constant that holds it" {
	lease=$(sed -n 's/^#define VS_QUEUE_LEASE_S \([0-9]*\).*/\1/p' "$VS_TOP/libvs/queue.h")
	[ -n "$lease" ]
	run -0 --separate-stderr vs-queue --help
	[[ $output == *"--lease SECONDS"*"(default: $lease)"* ]]
	crf=$(sed -n 's/^#define VS_CRF_DEFAULT \([0-9]*\).*/\1/p' "$VS_TOP/libvs/ladder.h")
	run -0 --separate-stderr vs-encode --help
	[[ $output == *"--crf N"*"(default: $crf)"* ]]
	run -0 --separate-stderr vs-publish --help
	[[ $output == *"--multipart-threshold BYTES"*"(default: 64 MiB)"* ]]
	run -0 --separate-stderr vs-ingest --help
	[[ $output == *"--max-size BYTES"*"(default: 20 GiB)"* ]]
}

@test "--media-root is one common option of the programs that keep files" {
	for prog in vs-ingest vs-encode vs-package vs-queue; do
		run -0 --separate-stderr "$prog" --help
		[[ $output == *"Common options:"*"--media-root DIR"*"./vs-media"* ]] || { echo "$prog"; return 1; }
		run -0 --separate-stderr "$prog" --list-options
		[[ $output == *"--media-root="* ]]
	done
	run -0 --separate-stderr vs-sign --list-options
	[[ $output != *"--media-root"* ]]
}

@test "--media-root, then VS_MEDIA_ROOT, say where the files go" {
	src=$(fixture lecture.mp4)
	run -0 --separate-stderr env -u VS_DATABASE_URL VS_MEDIA_ROOT=from-env vs-ingest --media-root from-flag "$src"
	id=$(jq -r .id <<<"$output")
	[ -f "from-flag/$id/ingest.json" ]
	[ ! -e from-env ]
	run -0 --separate-stderr env -u VS_DATABASE_URL VS_MEDIA_ROOT=from-env vs-ingest "$src"
	[ -f "from-env/$id/ingest.json" ]
	run -0 --separate-stderr env -u VS_DATABASE_URL -u VS_MEDIA_ROOT vs-ingest "$src"
	[ -f "vs-media/$id/ingest.json" ]
}

@test "scripts/measures: every house measure within its limit" {
	run -0 "$VS_TOP/scripts/measures"
	echo "$output"
	[[ $output != *OVER* ]]
	[[ $output == *"include graph: acyclic"* ]]
}

@test "scripts/measures fails on a cycle, SQL out of place and a long function" {
	tree=$BATS_TEST_TMPDIR/tree
	mkdir -p "$tree/scripts" "$tree/libvs" "$tree/cmd"
	cp "$VS_TOP/scripts/measures" "$tree/scripts/"
	printf '#include "b.h"\n' >"$tree/libvs/a.h"
	printf '#include "a.h"\n' >"$tree/libvs/b.h"
	printf 'static const char *q = "SELECT 1";\n' >"$tree/libvs/hls.c"
	{
		echo 'int f(void)'
		echo '{'
		for i in $(seq 130); do echo '	g();'; done
		echo '}'
	} >"$tree/cmd/vs-x.c"
	run -1 env PATH=/usr/bin:/bin "$tree/scripts/measures" -q
	echo "$output"
	[[ $output == *"include graph has a cycle"* ]]
	[[ $output == *"SQL outside its owners: libvs/hls.c"* ]]
	[[ $output == *"f(): 133 lines"* ]]
}
