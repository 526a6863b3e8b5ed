#!/usr/bin/env bats
# vs-db: migrations, status, and the schema they make.

load helper

setup_file() {
	use_db
}

setup() {
	with_db
	cd "$BATS_TEST_TMPDIR"
}

@test "vs-db --help prints usage and exits 0" {
	run -0 --separate-stderr vs-db --help
	[[ $output == "usage: vs-db [options] migrate"* ]]
}

@test "vs-db without a command exits 2" {
	run -2 --separate-stderr vs-db
	[[ $stderr == *"no command"* ]]
}

@test "vs-db with an unknown command exits 2" {
	run -2 --separate-stderr vs-db frobnicate
	[[ $stderr == *"unknown command 'frobnicate'"* ]]
}

@test "vs-db without a database exits 2 and says how to give one" {
	unset VS_DATABASE_URL
	run -2 --separate-stderr vs-db status
	[[ $stderr == *"VS_DATABASE_URL"* ]]
}

@test "vs-db exits 75 when the server cannot be reached" {
	run -75 --separate-stderr vs-db --database "postgresql:///vs?host=$BATS_TEST_TMPDIR" migrate
	[[ $stderr == "vs-db: cannot connect to the database"* ]]
}

@test "vs-db migrate is idempotent" {
	run -0 --separate-stderr vs-db migrate
	[ -z "$output" ]
	run -0 --separate-stderr vs-db status
	[[ $output == "applied  001_initial "* ]]
	[[ $output != *pending* ]]
}

@test "vs-db migrate on a new database applies every migration in order" {
	psql_admin -c "DROP DATABASE IF EXISTS t_fresh" -c "CREATE DATABASE t_fresh" >/dev/null
	export VS_DATABASE_URL=${VS_TEST_PG_URL/\/\/\/vs\?/\/\/\/t_fresh?}
	run -0 --separate-stderr vs-db status --json
	[ "$(echo "$output" | jq -r 'select(.applied_at == null) | .version' | head -1)" = "001_initial" ]
	run -0 --separate-stderr vs-db migrate
	[ "$(echo "$output" | head -1)" = "applied 001_initial" ]
	[ "$(sql "SELECT count(*) FROM schema_migrations")" = "$(ls "$VS_TOP"/sql/[0-9]*.sql | wc -l)" ]
}

@test "concurrent vs-db migrate runs apply each migration once" {
	psql_admin -c "DROP DATABASE IF EXISTS t_race" -c "CREATE DATABASE t_race" >/dev/null
	export VS_DATABASE_URL=${VS_TEST_PG_URL/\/\/\/vs\?/\/\/\/t_race?}
	vs-db migrate >out1 2>err1 3>&- &
	p1=$!
	vs-db migrate >out2 2>err2 3>&- &
	p2=$!
	vs-db migrate >out3 2>err3 3>&- &
	p3=$!
	wait "$p1"
	wait "$p2"
	wait "$p3"
	[ "$(cat out1 out2 out3 | grep -c 'applied 001_initial')" -eq 1 ]
	[ ! -s err1 ]
	[ ! -s err2 ]
	[ ! -s err3 ]
}

@test "the schema has the tables, enum types and indexes of the plan" {
	for t in videos video_qualities video_progress video_chapters video_analytics schema_migrations; do
		[ "$(sql "SELECT to_regclass('$t') IS NOT NULL")" = "t" ]
	done
	[ "$(sql "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE typname = 'video_upload_status'")" = "uploading,processing,ready,failed,deleted" ]
	[ "$(sql "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE typname = 'video_processing_status'")" = "pending,processing,completed,failed" ]
	[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'videos_source_sha256_key'")" = "1" ]
	[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'videos_slug_key'")" = "1" ]
	[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'video_progress_pkey'")" = "1" ]
	[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'video_analytics_session_id_key'")" = "1" ]
}

@test "the schema refuses a bad slug and a bad hash" {
	run -1 sql "INSERT INTO videos (id, slug, title, source_sha256) VALUES (gen_random_uuid(), 'Bad Slug', 't', repeat('a', 64))"
	[[ $output == *"videos_slug_check"* ]]
	run -1 sql "INSERT INTO videos (id, slug, title, source_sha256) VALUES (gen_random_uuid(), 'ok', 't', 'xyz')"
	[[ $output == *"videos_source_sha256_check"* ]]
}

@test "vs-db status lists a migration the build does not know" {
	sql "INSERT INTO schema_migrations (version) VALUES ('999_from_the_future')"
	run -0 --separate-stderr vs-db status
	[[ $output == *"unknown  999_from_the_future"* ]]
	sql "DELETE FROM schema_migrations WHERE version = '999_from_the_future'"
}

@test "a failing migration is rolled back whole and the run stops there, exit 1" {
	psql_admin -c "DROP DATABASE IF EXISTS t_broken" -c "CREATE DATABASE t_broken" >/dev/null
	export VS_DATABASE_URL=${VS_TEST_PG_URL/\/\/\/vs\?/\/\/\/t_broken?}
	# 001 makes its types and the videos table, then fails on a table that
	# is there already
	sql "CREATE TABLE video_analytics (x int)"
	run -1 --separate-stderr vs-db migrate
	[[ $stderr == *"migration 001_initial failed"*"video_analytics"* ]]
	[[ $stderr != *"002_"* ]]
	[ -z "$output" ]
	# nothing of 001 is kept, nothing after it was tried
	[ "$(sql "SELECT to_regclass('videos') IS NULL, to_regtype('video_upload_status') IS NULL")" = "t|t" ]
	[ "$(sql "SELECT count(*) FROM schema_migrations")" = 0 ]
	# once the obstacle is gone, the same run applies everything
	sql "DROP TABLE video_analytics"
	run -0 --separate-stderr vs-db migrate
	[ "$(sql "SELECT count(*) FROM schema_migrations")" = "$(ls "$VS_TOP"/sql/[0-9]*.sql | wc -l)" ]
}

@test "vs -v and -q before the tool's name are the tool's" {
	run -0 --separate-stderr vs -v db migrate
	[ "$stderr" = "vs-db: the schema is up to date" ]
	run -0 --separate-stderr vs db migrate
	[ -z "$stderr" ]
	run -0 --separate-stderr vs --quiet --verbose db migrate
	[ "$stderr" = "vs-db: the schema is up to date" ]
	run -2 --separate-stderr vs -q db frob
	[[ $stderr == *"unknown command 'frob'"* ]]
}
