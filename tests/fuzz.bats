#!/usr/bin/env bats
# The libFuzzer targets (fuzz/*.c): each replays its committed corpus (the
# regression inputs) and fuzzes for a short smoke under ASan + UBSan.
# scripts/fuzz TARGET SECONDS runs them longer.

load helper

setup_file() {
	make -s -C "$VS_TOP" fuzz >&2
}

@test "every fuzz target has a seed corpus and runs it clean" {
	for f in "$VS_TOP"/fuzz/fuzz-*.c; do
		t=$(basename "$f" .c)
		t=${t#fuzz-}
		[ -n "$(ls "$VS_TOP/fuzz/corpus/$t")" ] || { echo "no corpus for $t"; return 1; }
		run -0 "$VS_TOP/build/fuzz/fuzz-$t" -runs=0 "$VS_TOP/fuzz/corpus/$t"
	done
}

@test "scripts/fuzz: a short run of every target finds nothing" {
	# its own directory: a developer's long run in var/fuzz goes on undisturbed
	VS_FUZZ_DIR=$BATS_TEST_TMPDIR/fuzz run -0 "$VS_TOP/scripts/fuzz" 2
	[ -s "$BATS_TEST_TMPDIR/fuzz/jwt.log" ]
	for t in jwt sign record cgi hls s3xml chapters upload vtt; do
		[[ $output == *"$t: "*" inputs in 2 s, no crash"* ]] || { echo "$output"; return 1; }
	done
}
