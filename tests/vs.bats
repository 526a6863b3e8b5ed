#!/usr/bin/env bats
# vs: the dispatcher, and what every program owes (help, version, man page).

load helper

@test "vs TOOL runs vs-TOOL with its arguments" {
	run -0 --separate-stderr vs ingest --version
	[[ $output == "vs-ingest (vs) "* ]]
	run -2 --separate-stderr vs ingest --no-such-flag
	[[ $stderr == *"vs-ingest: unknown option '--no-such-flag'"* ]]
}

@test "vs help lists the installed tools" {
	run -0 --separate-stderr vs help
	[[ $output == *"ingest"*"probe, store and register"* ]]
	[[ $output == *"db "* ]]
}

@test "vs help TOOL shows the tool's help" {
	run -0 --separate-stderr vs help ingest
	[[ $output == "usage: vs-ingest"* ]]
}

@test "vs with an unknown tool exits 2" {
	run -2 --separate-stderr vs frobnicate
	[[ $stderr == *"'frobnicate' is not a vs tool"* ]]
	run -2 --separate-stderr vs ../../bin/sh
	[[ $stderr == *"is not a vs tool"* ]]
}

@test "vs without arguments prints the list on stdout and exits 2" {
	run -2 --separate-stderr vs
	[[ $output == "usage: vs TOOL"* ]]
}

@test "every program has --help, --version, a man page and completions" {
	for prog in "$VS_TOP"/bin/vs*; do
		name=$(basename "$prog")
		run -0 --separate-stderr "$prog" --help
		[[ $output == "usage: $name "* ]]
		run -0 --separate-stderr "$prog" --version
		[[ $output == "$name (vs) "* ]]
		[ -f "$VS_TOP/man/man1/$name.1" ]
		grep -q -- "$name" "$VS_TOP/completions/bash/vs"
		grep -q -- "$name" "$VS_TOP/completions/zsh/_vs"
		grep -q -- "$name" "$VS_TOP/README.md"
	done
}

@test "every man page passes mandoc -Tlint" {
	run -0 mandoc -Tlint -Wwarning "$VS_TOP"/man/man1/*.1 "$VS_TOP"/man/man7/*.7
	[ -z "$output" ]
}

@test "each man page's synopsis names the options --help lists" {
	for prog in "$VS_TOP"/bin/vs-*; do
		name=$(basename "$prog")
		for o in $("$prog" --list-options | tr -d =); do
			case $o in --verbose|--quiet|--help|--version|--database) continue ;; esac
			grep -q -- "${o#--}" "$VS_TOP/man/man1/$name.1" || { echo "$name.1 lacks $o"; return 1; }
		done
	done
}

@test "bash completion offers a program's options" {
	run -0 bash -c "source '$VS_TOP/completions/bash/vs'; COMP_WORDS=(vs-ingest --ti); COMP_CWORD=1; COMP_LINE='vs-ingest --ti'; COMP_POINT=\${#COMP_LINE}; _vs; printf '%s\n' \"\${COMPREPLY[@]}\""
	[[ $output == *"--title"* ]]
}

@test "make install puts programs, man pages and completions under PREFIX" {
	run -0 make -C "$VS_TOP" install PREFIX=/usr DESTDIR="$BATS_TEST_TMPDIR/root"
	[ -x "$BATS_TEST_TMPDIR/root/usr/bin/vs-ingest" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/man/man1/vs-ingest.1" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/man/man7/vs.7" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/bash-completion/completions/vs-ingest" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/zsh/site-functions/_vs" ]
}
