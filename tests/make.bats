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
	tar -C "$VS_TOP" --exclude=./build --exclude=./bin --exclude=./var --exclude=./node_modules \
		--exclude=./.git -cf - . | tar -C tree -xf -
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
