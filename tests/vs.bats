#!/usr/bin/env bats
# vs: the dispatcher, and what every program owes (help, version, man page).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

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
	[[ $output == "usage: vs [-v|-q] TOOL"* ]]
}

@test "every program has --help, --version, a man page and a line in the README" {
	for prog in "$VS_TOP"/bin/vs*; do
		name=$(basename "$prog")
		run -0 --separate-stderr "$prog" --help
		[[ $output == "usage: $name "* ]]
		run -0 --separate-stderr "$prog" --version
		[[ $output == "$name (vs) "* ]]
		[ -f "$VS_TOP/man/man1/$name.1" ]
		grep -q -- "\`$name\`" "$VS_TOP/README.md"
	done
}

# the programs bin/ holds, one per line, without vs itself
programs() {
	for prog in "$VS_TOP"/bin/vs-*; do basename "$prog"; done
}

@test "vs help and vs --list-subcommands name every program in bin/" {
	run -0 --separate-stderr vs help
	echo "$output" >help.txt
	run -0 --separate-stderr vs --list-subcommands
	echo "$output" >subcommands.txt
	[ "$(programs | wc -l)" -ge 10 ]
	for name in $(programs); do
		grep -q "^  ${name#vs-} " help.txt || { echo "vs help lacks $name"; return 1; }
		grep -qx "${name#vs-}" subcommands.txt || { echo "vs --list-subcommands lacks $name"; return 1; }
	done
	# and nothing that is not there
	[ "$(grep -c '^  [a-z]' help.txt)" -eq "$(programs | wc -l)" ]
}

@test "vs(1) and vs(7) name every program in bin/" {
	for name in $(programs); do
		grep -q "^\.Xr $name 1" "$VS_TOP/man/man1/vs.1" || { echo "vs.1 lacks $name"; return 1; }
		grep -q "^\.Xr $name 1" "$VS_TOP/man/man7/vs.7" || { echo "vs.7 lacks $name"; return 1; }
	done
}

@test "the bash completion completes every program in bin/" {
	run -0 bash -c "source '$VS_TOP/completions/bash/vs'; for p in vs $(programs | tr '\n' ' '); do complete -p \$p; done"
	[ "${#lines[@]}" -eq "$(($(programs | wc -l) + 1))" ]
	for name in $(programs); do
		[[ $output == *"-F _vs $name"* ]] || { echo "bash completion lacks $name"; return 1; }
	done
	# vs TAB offers every tool
	run -0 bash -c "source '$VS_TOP/completions/bash/vs'; COMP_WORDS=(vs ''); COMP_CWORD=1; _vs; printf '%s\n' \"\${COMPREPLY[@]}\""
	for name in $(programs); do
		[[ $'\n'$output$'\n' == *$'\n'"${name#vs-}"$'\n'* ]] || { echo "vs TAB lacks ${name#vs-}"; return 1; }
	done
}

@test "the zsh completion completes every program in bin/" {
	# compinit reads the #compdef line: vs by name, the tools by pattern
	run -0 zsh -fc "fpath=('$VS_TOP/completions/zsh' \$fpath); autoload -Uz compinit; compinit -u -D
		for p in vs $(programs | tr '\n' ' '); do
			if (( \${+_comps[\$p]} )); then print \$p=\${_comps[\$p]}; continue; fi
			for pat in \${(k)_patcomps}; do [[ \$p == \${~pat} ]] && print \$p=\${_patcomps[\$pat]}; done
		done"
	for name in vs $(programs); do
		[[ $'\n'$output$'\n' == *$'\n'"$name=_vs"$'\n'* ]] || { echo "zsh completion lacks $name: $output"; return 1; }
	done
}

@test "every man page passes mandoc -Tlint" {
	run -0 mandoc -Tlint -Wwarning "$VS_TOP"/man/man1/*.1 "$VS_TOP"/man/man7/*.7
	[ -z "$output" ]
}

@test "each man page has an entry of its own for every option --help lists" {
	# the option's own .Fl in a list item or a synopsis entry, not the word
	# anywhere in the text
	for prog in "$VS_TOP"/bin/vs "$VS_TOP"/bin/vs-*; do
		name=$(basename "$prog")
		for o in $("$prog" --list-options | tr -d =); do
			grep -qE "^\.(It|Op)( .*)? Fl ${o#-}( |\$)" "$VS_TOP/man/man1/$name.1" ||
				{ echo "$name.1 has no entry for $o"; return 1; }
		done
	done
}

@test "bash completion offers a program's options" {
	run -0 bash -c "source '$VS_TOP/completions/bash/vs'; COMP_WORDS=(vs-ingest --ti); COMP_CWORD=1; COMP_LINE='vs-ingest --ti'; COMP_POINT=\${#COMP_LINE}; _vs; printf '%s\n' \"\${COMPREPLY[@]}\""
	[[ $output == *"--title"* ]]
}

@test "make install puts programs, man pages and completions under PREFIX" {
	# the flavour of this run (make SANITIZE=1 check), so that nothing is rebuilt
	touch before
	sleep 0.01
	run -0 make -C "$VS_TOP" install SANITIZE="${VS_SANITIZE:-}" PREFIX=/usr DESTDIR="$BATS_TEST_TMPDIR/root"
	# nothing was compiled or linked, whatever the compiler is called
	[ -z "$(find "$VS_TOP/bin" "$VS_TOP/build" -newer before -type f -print -quit)" ]
	[ -x "$BATS_TEST_TMPDIR/root/usr/bin/vs-ingest" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/man/man1/vs-ingest.1" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/man/man7/vs.7" ]
	for prog in "$VS_TOP"/bin/vs*; do
		[ -x "$BATS_TEST_TMPDIR/root/usr/bin/$(basename "$prog")" ]
		[ -f "$BATS_TEST_TMPDIR/root/usr/share/bash-completion/completions/$(basename "$prog")" ]
	done
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/zsh/site-functions/_vs" ]
}

@test "scripts/token keeps the secret off every command line and signs as openssl does" {
	printf 'a secret that ps must never show' >jwt.key
	run -0 strace -f -qq -e trace=execve -s 4096 -o execs.txt env VS_JWT_SECRET_FILE="$PWD/jwt.key" \
		"$VS_TOP/scripts/token" 00000000-0000-4000-8000-000000000001 60
	token=$output
	grep -q openssl execs.txt
	run -1 grep -F 'ps must never' execs.txt
	# the same HMAC as openssl's own (given the key here, in a test)
	want=$(printf '%s' "${token%.*}" | openssl dgst -sha256 -hmac 'a secret that ps must never show' -binary |
		base64 -w0 | tr '+/' '-_' | tr -d '=')
	[ "${token##*.}" = "$want" ]
}

@test "every record tool passes an error record through untouched, and exits 0 for it" {
	rec='{"id":"x","error":{"tool":"vs-ingest","code":"not_a_video","message":"m"}}'
	for tool in "vs-encode" "vs-package" "vs-publish --to file://$PWD/origin" "vs-sign" "vs-ingest"; do
		# shellcheck disable=SC2086
		run -0 --separate-stderr $tool <<<"$rec"
		[ "$output" = "$rec" ] || { echo "$tool: $output"; return 1; }
	done
	[ ! -e origin ]
}

@test "every tool that needs a database exits 75 when it cannot be reached" {
	db="postgresql:///vs?host=$BATS_TEST_TMPDIR&connect_timeout=2"
	rec='{"id":"00000000-0000-5000-8000-000000000000","title":"t"}'
	for tool in vs-encode vs-package "vs-publish --to file://$PWD/origin" vs-ingest; do
		# shellcheck disable=SC2086
		run -75 --separate-stderr $tool --database "$db" <<<"$rec"
		[[ $stderr == *"cannot connect to the database"* ]] || { echo "$tool: $stderr"; return 1; }
	done
	for cmd in "vs-video list" "vs-video show x" "vs-queue status" "vs-report summary" "vs-progress get --user 00000000-0000-4000-8000-000000000000" "vs-db status"; do
		# shellcheck disable=SC2086
		run -75 --separate-stderr env VS_DATABASE_URL="$db" $cmd
		[[ $stderr == *"cannot connect to the database"* ]] || { echo "$cmd: $stderr"; return 1; }
	done
}
