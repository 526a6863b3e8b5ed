# Runs once per bats run: one private PostgreSQL cluster for every test file.
# Each file that needs a database makes its own with use_db (helper.bash).

setup_suite() {
	VS_TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	export VS_TOP
	# Short and reachable by the 'postgres' user (bats' own temp dirs are 0700).
	VS_TEST_PG_DIR=$(mktemp -d /tmp/vs-test-pg.XXXXXX)
	chmod 0755 "$VS_TEST_PG_DIR"
	export VS_TEST_PG_DIR
	VS_TEST_PG_URL=$(VS_PG_DIR=$VS_TEST_PG_DIR VS_PG_FSYNC=off "$VS_TOP/scripts/pg" start)
	export VS_TEST_PG_URL
	# Fixtures made once per run, shared by the test files.
	VS_FIXTURES=$(mktemp -d /tmp/vs-test-fixtures.XXXXXX)
	export VS_FIXTURES
}

teardown_suite() {
	[ -n "${VS_TEST_PG_DIR:-}" ] && VS_PG_DIR=$VS_TEST_PG_DIR "$VS_TOP/scripts/pg" destroy
	[ -n "${VS_FIXTURES:-}" ] && rm -rf "$VS_FIXTURES"
	return 0
}
