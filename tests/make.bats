#!/usr/bin/env bats
# The README's two commands as the first ones on a fresh machine: `make
# check` and `make demo` install the -dev packages, then build with their
# flags. A copy of the tree, with a pkg-config that finds nothing until the
# (stubbed) install-deps has run, stands in for the fresh machine.

load helper

setup() {
	# a newcomer's shell: not a make run by make (make check runs this file)
	unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES SANITIZE
	cd "$BATS_TEST_TMPDIR"
	mkdir tree fakebin
	# the sources, as a clone has them: no build, no bin, no var
	# (tar's 1: a file changed while it was read, as other test files run)
	{ tar -C "$VS_TOP" --exclude=./build --exclude=./bin --exclude=./var --exclude=./node_modules \
		--exclude=./.git -cf - . || [ $? -eq 1 ]; } | tar -C tree -xf -
	real=$(command -v pkg-config)
	cat >fakebin/pkg-config <<EOF
#!/bin/sh
# the -dev packages are missing until install-deps has run
[ -e "$PWD/installed" ] || exit 1
exec "$real" "\$@"
EOF
	cat >install-deps <<EOF
#!/bin/sh
echo install-deps >>"$PWD/calls"
touch "$PWD/installed"
EOF
	cat >run-tests <<EOF
#!/bin/sh
echo "run-tests unit=\$VS_UNIT_DIR \$*" >>"$PWD/calls"
EOF
	cat >demo <<EOF
#!/bin/sh
echo demo >>"$PWD/calls"
"$PWD/tree/bin/vs-db" --version >>"$PWD/calls"
EOF
	chmod +x fakebin/pkg-config install-deps run-tests demo
	export PATH="$PWD/fakebin:$PATH"
	stubs=(INSTALL_DEPS="$PWD/install-deps" RUN_TESTS="$PWD/run-tests" DEMO="$PWD/demo")
}

@test "the fake machine has no -dev packages until install-deps runs" {
	run -1 pkg-config --exists libpq
	./install-deps
	run -0 pkg-config --exists libpq
}

@test "make check as the first command installs, builds every program and runs the tests" {
	run -0 make -C tree check "${stubs[@]}" TESTS=tests/vs.bats
	[ "$(sed -n 1p calls)" = install-deps ]
	[ "$(sed -n 2p calls)" = "run-tests unit=$PWD/tree/build/default/tests tests/vs.bats" ]
	for name in $(sed -n 's/^\([a-z][a-z0-9-]*\)\t.*/vs-\1/p' tree/cmd/tools.list) vs; do
		run -0 "tree/bin/$name" --version
	done
	[ -x tree/build/default/tests/test-libvs ]
	# a plain make afterwards has nothing left to do
	run -0 make -C tree
	[[ $output == *"Nothing to be done"* ]]
	# and a sanitizer build after it links every program anew
	run -0 make -C tree -n SANITIZE=1
	for name in $(sed -n 's/^\([a-z][a-z0-9-]*\)\t.*/vs-\1/p' tree/cmd/tools.list) vs; do
		[[ $output == *"-o bin/$name "* ]] || { echo "make SANITIZE=1 does not link bin/$name"; return 1; }
	done
}

@test "make demo as the first command installs, builds and runs the demo" {
	run -0 make -C tree demo "${stubs[@]}"
	[ "$(sed -n 1p calls)" = install-deps ]
	[ "$(sed -n 2p calls)" = demo ]
	[[ $(sed -n 3p calls) == "vs-db (vs) "* ]]
}

@test "make without the -dev packages says what is missing, once, and compiles nothing" {
	run -2 --separate-stderr make -C tree
	[[ $stderr == *"pkg-config does not find: libavformat"*"libpq"* ]]
	[[ $stderr == *"scripts/install-deps"* ]]
	[ "$(grep -c 'pkg-config does not find' <<<"$stderr")" -eq 1 ]
	[ ! -e tree/bin/vs ]
}

# A machine whose node is Debian 12's 18: fake node, npm and dpkg-query, and
# a copy of install-deps whose JavaScript packages are already there.
old_node() {
	mkdir -p deps/scripts deps/node_modules/hls.js deps/node_modules/playwright-core
	cp "$VS_TOP/scripts/install-deps" deps/scripts/
	echo '{}' >deps/package-lock.json
	echo '{}' >deps/node_modules/hls.js/package.json
	echo '{}' >deps/node_modules/playwright-core/package.json
	touch -d '+1 min' deps/node_modules/.package-lock.json
	# node prints its version the two ways install-deps asks
	fake_node() {
		printf '#!/bin/sh\ncase "$*" in --version) echo v%s.0.0 ;; *) echo %s ;; esac\n' "$1" "$1"
	}
	fake_node 18 >fakebin/node
	printf '#!/bin/sh\necho "install ok installed"\n' >fakebin/dpkg-query
	# npm pack NAME@VERSION leaves NAME-VERSION.tgz holding package/bin/node
	mkdir -p pack/package/bin
	fake_node 20 >pack/package/bin/node
	chmod +x pack/package/bin/node
	cat >fakebin/npm <<NPM
#!/bin/sh
echo "npm \$*" >>"$PWD/npm.calls"
[ "\$1" = pack ] || exit 1
[ -e "$PWD/offline" ] && { echo "npm error code E404" >&2; exit 1; }
spec=\$3
tar -C "$PWD/pack" -czf "\${spec%@*}-\${spec#*@}.tgz" package
NPM
	chmod +x fakebin/node fakebin/dpkg-query fakebin/npm
}

@test "install-deps joins an old Node.js by Node 20 from the npm registry" {
	old_node
	case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
	run -0 env VS_NODE_PREFIX="$PWD/prefix" deps/scripts/install-deps
	[[ $output == *"Node.js v18.0.0 is too old: installing 20.20.2"* ]]
	grep -qx "npm pack --silent node-linux-$arch@20.20.2" npm.calls
	[ -x prefix/lib/vs-node/20.20.2/bin/node ]
	[ "$(prefix/bin/node --version)" = v20.0.0 ]
	# a second run finds it and installs nothing
	rm npm.calls
	run -0 env VS_NODE_PREFIX="$PWD/prefix" PATH="$PWD/prefix/bin:$PATH" deps/scripts/install-deps
	[ -z "$output" ]
	[ ! -e npm.calls ]
}

@test "install-deps says in one line which Node.js it needs when it cannot get one" {
	old_node
	touch offline
	run -1 --separate-stderr env VS_NODE_PREFIX="$PWD/prefix" deps/scripts/install-deps
	[[ $stderr == *"install-deps: the browser tests need Node.js >= 20 (found v18.0.0): "* ]]
	[ "$(grep -c 'need Node.js' <<<"$stderr")" -eq 1 ]
	[ ! -e prefix/bin/node ]
	# --check names it too
	run -1 env VS_NODE_PREFIX="$PWD/prefix" deps/scripts/install-deps --check
	[[ $output == "missing: node>=20" ]]
}

# .ci/run with a make that prints the TAP the test asks for: $PWD/plain.tap
# for make check, $PWD/sanitize.tap for make SANITIZE=1 check (missing: the
# build failed).
ci_with() {
	mkdir -p ci/.ci ci/tests
	cp "$VS_TOP/.ci/run" ci/.ci/
	printf '@test "a" {\n}\n@test "b" {\n}\n@test "c" {\n}\n' >ci/tests/x.bats
	cat >fakebin/make <<MAKE
#!/bin/sh
tap=$PWD/plain.tap
[ "\$1" = SANITIZE=1 ] && tap=$PWD/sanitize.tap
[ -f "\$tap" ] || { echo "cc: error: the build broke" >&2; exit 2; }
cat "\$tap"
! grep -q '^not ok' "\$tap"
MAKE
	chmod +x fakebin/make
	# a run where all three pass
	printf '1..3\nok 1 a\nok 2 b\nok 3 c\n' >all-ok.tap
}

@test ".ci/run counts each test once, from both runs" {
	ci_with
	cp all-ok.tap plain.tap
	printf '1..3\nok 1 a\nnot ok 2 b\nok 3 c # skip no chromium\n' >sanitize.tap
	run -1 ci/.ci/run
	[ "${lines[-1]}" = "1 passed, 2 failed" ]
	cp plain.tap sanitize.tap
	run -0 ci/.ci/run
	[ "${lines[-1]}" = "3 passed, 0 failed" ]
}

@test ".ci/run counts a file whose setup failed, and a build that broke, as failed" {
	ci_with
	# bats reports a failed setup_file once, for a file of three tests
	printf '1..3\nnot ok 1 setup_file failed\n' >plain.tap
	cp all-ok.tap sanitize.tap
	run -1 ci/.ci/run
	[ "${lines[-1]}" = "0 passed, 3 failed" ]
	cp all-ok.tap plain.tap
	rm sanitize.tap
	run -1 ci/.ci/run
	[[ $output == *"make SANITIZE=1 check: the suite did not run"* ]]
	[ "${lines[-1]}" = "0 passed, 3 failed" ]
}
