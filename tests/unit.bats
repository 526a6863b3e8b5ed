#!/usr/bin/env bats
# C unit tests of libvs's pure functions (ladder, frame rates, slugs, ids,
# playlists, codecs strings), built by make check into VS_UNIT_DIR.

load helper

@test "libvs unit tests pass" {
	unit=${VS_UNIT_DIR:-$VS_TOP/build/default/tests}/test-libvs
	[ -x "$unit" ] || make -C "$VS_TOP" -s "${unit#$VS_TOP/}"
	run -0 "$unit"
	echo "$output"
	[[ $output != *"not ok"* ]]
	[[ ${lines[-1]} == "0 failed" ]]
}
