#!/usr/bin/env bats
# vs-queue: batch encoding by several workers on one database, killed
# workers, poisoned inputs, and sources kept in an S3 store.

load helper

setup_file() {
	use_db
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	# twenty short, different videos, made once for the file
	mkdir -p "$BATS_FILE_TMPDIR/many"
	for i in $(seq 1 20); do
		ff -f lavfi -i "testsrc2=size=160x90:rate=25,hue=h=$((i * 17))" -t 1 -c:v libx264 -preset ultrafast \
			-pix_fmt yuv420p "$BATS_FILE_TMPDIR/many/v$i.mp4"
	done
}

setup() {
	export VS_DATABASE_URL=$VS_TEST_DB_URL
	cd "$BATS_TEST_TMPDIR"
	export VS_MEDIA_ROOT="$BATS_TEST_TMPDIR/media"
	ORIGIN="$BATS_TEST_TMPDIR/origin"
	# each test has the queue to itself
	sql "DELETE FROM videos" >/dev/null
}

teardown() {
	stop_bg
	own_cluster_destroy
}

# worker NAME [ARGS for claim]: rounds of the pipeline until a round finds
# no work; what done wrote goes to NAME.ndjson, what the tools said to
# NAME.err
worker() {
	local name=$1 n
	shift
	for _ in $(seq 1 60); do
		touch "$name.ndjson"
		n=$(wc -l <"$name.ndjson")
		(
			set -o pipefail
			vs-queue claim "$@" | vs-encode --preset ultrafast | vs-package --segment-seconds 2 |
				vs-publish --to "file://$ORIGIN" | vs-queue done --backoff 0 "$@" >>"$name.ndjson"
		) 2>>"$name.err" || true
		[ "$(wc -l <"$name.ndjson")" -gt "$n" ] || break
	done
}

# expire_lease ID: video ID's lease runs out now (a worker that died holds
# it no more), whatever the lease was: no test waits out a lease, and none
# races one
expire_lease() {
	sql "UPDATE video_jobs SET lease_expires_at = now() - interval '1 second' WHERE video_id = '$1' AND lease_expires_at IS NOT NULL" >/dev/null
	lease_expired "$1"
}

# lease_expired ID: waits (up to 20 s) until video ID's lease has run out,
# by the database's clock
lease_expired() {
	for _ in $(seq 400); do
		[ "$(sql "SELECT coalesce(lease_expires_at < now(), true) FROM video_jobs WHERE video_id = '$1'")" = t ] && return 0
		sleep 0.05
	done
	echo "the lease of $1 did not expire" >&2
	return 1
}

@test "vs-queue --help prints usage and exits 0" {
	run -0 --separate-stderr vs-queue --help
	[[ $output == "usage: vs-queue "* ]]
}

@test "vs-queue usage errors exit 2, a missing database too" {
	run -2 --separate-stderr vs-queue
	run -2 --separate-stderr vs-queue frob
	run -2 --separate-stderr vs-queue claim --limit 0
	run -2 --separate-stderr vs-queue retry not-a-uuid
	run -2 --separate-stderr vs-queue status --state lost
	run -2 --separate-stderr env -u VS_DATABASE_URL vs-queue claim
	[[ $stderr == *"needs a database"* ]]
}

@test "vs-queue exits 75 when the database cannot be reached" {
	run -75 --separate-stderr vs-queue --database "postgresql:///x?host=$BATS_TEST_TMPDIR" claim
}

@test "vs-queue claim with no work writes nothing and exits 0" {
	run -0 --separate-stderr vs-queue claim
	[ -z "$output" ]
}

@test "three workers over twenty videos finish each exactly once" {
	vs-ingest "$BATS_FILE_TMPDIR"/many/v*.mp4 >/dev/null
	worker a --limit 2 3>&- &
	a=$!
	worker b --limit 2 3>&- &
	b=$!
	worker c --limit 3 3>&- &
	c=$!
	wait "$a"
	wait "$b"
	wait "$c"
	cat a.err b.err c.err >&2 || true
	# every video published once: one job, done at its first attempt
	[ "$(sql "SELECT count(*), count(*) FILTER (WHERE state = 'done' AND attempts = 1) FROM video_jobs")" = "20|20" ]
	[ "$(sql "SELECT count(*) FROM videos WHERE upload_status = 'ready' AND is_published")" = 20 ]
	# the workers' outputs: twenty records, no video twice
	cat a.ndjson b.ndjson c.ndjson >all.ndjson
	[ "$(jq -r 'select(.published) | .id' all.ndjson | sort | uniq | wc -l)" = 20 ]
	[ "$(jq -r 'select(.published) | .id' all.ndjson | wc -l)" = 20 ]
	# the work was shared: by two workers at least (under a heavy load the
	# system may run two of them through every video before the third starts)
	shared=0
	for w in a b c; do [ ! -s "$w.ndjson" ] || shared=$((shared + 1)); done
	[ "$shared" -ge 2 ]
	run -0 --separate-stderr vs-queue status --state done
	[ "${#lines[@]}" = 20 ]
}

@test "a worker killed mid-encode is recovered by another, from the finished steps" {
	vs-ingest "$(fixture long.mp4)" >rec.json
	id=$(jqr rec.json .id)
	# worker A: killed, whole, while it encodes (veryslow: an encode that
	# lasts, so that the kill lands inside it; ultrafast on two rungs
	# could finish between the look and the kill)
	bg a.err bash -c "vs-queue claim --lease 600 | vs-encode --preset veryslow | vs-package | vs-publish --to 'file://$ORIGIN' | vs-queue done >a.ndjson"
	a=$BG_PID
	# (up to 2 minutes: a machine running the suite four files at once can be slow)
	seen=0
	for _ in $(seq 1200); do
		[ "$(sql "SELECT count(*) FROM video_qualities WHERE video_id = '$id' AND processing_status = 'processing'")" -gt 0 ] &&
			{ seen=1; break; }
		sleep 0.1
	done
	[ "$seen" = 1 ] || { cat a.err; sql "SELECT state, attempts, lease_owner FROM video_jobs WHERE video_id = '$id'"; return 1; }
	kill -9 -- "-$a"
	st=0
	wait "$a" || st=$?
	[ "$st" -eq 137 ] # killed, not finished
	[ "$(sql "SELECT state, attempts FROM video_jobs WHERE video_id = '$id'")" = "pending|1" ]
	# until the lease expires, nobody else takes it
	run -0 --separate-stderr vs-queue claim --lease 2
	[ -z "$output" ]
	expire_lease "$id"
	# worker C: encodes, and is killed before packaging
	bg c.err bash -c "vs-queue claim --lease 600 | vs-encode --preset ultrafast >encoded.json; sleep 60"
	c=$BG_PID
	for _ in $(seq 300); do [ -s encoded.json ] && break; sleep 0.1; done
	[ -s encoded.json ]
	kill -9 -- "-$c"
	st=0
	wait "$c" || st=$?
	[ "$st" -eq 137 ]
	rendition=$(jqr encoded.json '.renditions[0].path')
	before=$(stat -c %.9Y.%i "$rendition")
	expire_lease "$id"
	# worker B: takes it again; the finished encode is reused, not redone
	worker b --lease 30
	[ "$(sql "SELECT state, attempts, upload_status FROM video_jobs j JOIN videos v ON v.id = j.video_id WHERE video_id = '$id'")" = "done|3|ready" ]
	[ "$(stat -c %.9Y.%i "$rendition")" = "$before" ]
	[ -f "$ORIGIN/$id/master.m3u8" ]
}

@test "a poisoned input fails for good after its attempts, and the rest complete" {
	vs-ingest "$(fixture corrupt-middle.mp4)" >bad.json
	vs-ingest "$BATS_FILE_TMPDIR/many/v1.mp4" "$BATS_FILE_TMPDIR/many/v2.mp4" >good.json
	bad=$(jqr bad.json .id)
	worker w --limit 2 --max-attempts 2
	run -0 sql "SELECT state, attempts, last_error IS NOT NULL FROM video_jobs WHERE video_id = '$bad'"
	[ "$output" = "failed|2|t" ] || { cat w.err w.ndjson; false; }
	[ "$(sql "SELECT upload_status, error IS NOT NULL FROM videos WHERE id = '$bad'")" = "failed|t" ]
	[ "$(sql "SELECT count(*) FROM video_jobs WHERE state = 'done'")" = 2 ]
	grep -q "failed for good after 2 attempts" w.err
	# it is reported, and not taken again
	run -0 --separate-stderr vs-queue status --state failed
	[ "$(jq -r .id <<<"$output")" = "$bad" ]
	run -0 --separate-stderr vs-queue claim
	[ -z "$output" ]
	# until someone asks for it again
	run -0 --separate-stderr vs-queue retry "$bad"
	[ "$(sql "SELECT state, attempts FROM video_jobs WHERE video_id = '$bad'")" = "pending|0" ]
	run -1 --separate-stderr vs-queue retry "$bad"
}

@test "a video whose last attempt's worker died fails for good at the next claim: exit 1, gave_up" {
	vs-ingest "$BATS_FILE_TMPDIR/many/v6.mp4" >rec.json
	id=$(jqr rec.json .id)
	# two claims, each by a worker that dies (the lease is never handed back)
	for attempt in 1 2; do
		run -0 --separate-stderr vs-queue claim --no-renew --max-attempts 2
		[ "$(jqr <(echo "$output") .id)" = "$id" ]
		expire_lease "$id"
	done
	[ "$(sql "SELECT state, attempts FROM video_jobs WHERE video_id = '$id'")" = "pending|2" ]
	# the third claim finds it out of attempts: failed, said on stdout and stderr
	run -1 --separate-stderr vs-queue claim --no-renew --max-attempts 2
	[ "$(jq -c '[.id, .error.code]' <<<"$output")" = "[\"$id\",\"gave_up\"]" ]
	[[ $stderr == *"$id"* ]]
	[ "$(sql "SELECT j.state, j.attempts, j.last_error IS NOT NULL, v.upload_status FROM video_jobs j JOIN videos v ON v.id = j.video_id WHERE video_id = '$id'")" = "failed|2|t|failed" ]
	# and nobody takes it again
	run -0 --separate-stderr vs-queue claim --no-renew --max-attempts 2
	[ -z "$output" ]
}

@test "vs-queue done --clean never deletes a package published inside the media root, however the paths are spelled" {
	vs-ingest "$BATS_FILE_TMPDIR/many/v7.mp4" >rec.json
	id=$(jqr rec.json .id)
	mkdir -p elsewhere
	ln -s "$VS_MEDIA_ROOT" elsewhere/link
	for target in "file://$VS_MEDIA_ROOT" "file://$VS_MEDIA_ROOT/" "file://$VS_MEDIA_ROOT//origin" \
		"file://$PWD/elsewhere/../media/origin" "file://$PWD/elsewhere/link"; do
		sql "UPDATE video_jobs SET state = 'pending', attempts = 0, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = now() WHERE video_id = '$id'" >/dev/null
		run -0 --separate-stderr bash -c "set -o pipefail; vs-queue claim --no-renew | vs-encode --preset ultrafast --ladder 180p |
			vs-package --segment-seconds 2 | vs-publish --to '$target' | VS_MEDIA_ROOT='$VS_MEDIA_ROOT/' vs-queue done --clean"
		[ "$(jq -r .job.state <<<"$output")" = done ] || { echo "$target: $output"; return 1; }
		[[ $stderr == *"$id: not cleaned"* ]] || { echo "$target: $stderr"; return 1; }
		dir=$(jq -r .published.target <<<"$output")
		master=$(realpath -m "${dir#file://}/$id/master.m3u8")
		[ -f "$master" ] || { echo "$target: no $master"; return 1; }
		run -0 vs-package --check "$(dirname "$master")"
	done
	# published elsewhere: cleaned
	sql "UPDATE video_jobs SET state = 'pending', attempts = 0, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = now() WHERE video_id = '$id'" >/dev/null
	run -0 --separate-stderr bash -c "set -o pipefail; vs-queue claim --no-renew | vs-encode --preset ultrafast --ladder 180p |
		vs-package --segment-seconds 2 | vs-publish --to 'file://$ORIGIN' | vs-queue done --clean"
	[ ! -e "$VS_MEDIA_ROOT/$id" ]
	[ -f "$ORIGIN/$id/master.m3u8" ]
}

@test "vs-queue done records a failure with its error and backs off" {
	vs-ingest "$BATS_FILE_TMPDIR/many/v3.mp4" >rec.json
	id=$(jqr rec.json .id)
	vs-queue claim --no-renew >claimed.json
	jq -c '.error = {"tool": "vs-encode", "code": "io_error", "message": "disk full"}' claimed.json >failed.json
	run -1 --separate-stderr vs-queue done --backoff 120 <failed.json
	[ "$(jq -r .job.state <<<"$output")" = retry ]
	[ "$(sql "SELECT state, last_error, next_attempt_at > now() + interval '100 seconds' FROM video_jobs WHERE video_id = '$id'")" = "pending|vs-encode: disk full|t" ]
	# not due yet: nothing to claim
	run -0 --separate-stderr vs-queue claim
	[ -z "$output" ]
	# a late answer from a lease that is gone changes nothing
	run -0 --separate-stderr vs-queue done <claimed.json
	[ "$(sql "SELECT state FROM video_jobs WHERE video_id = '$id'")" = pending ]
}

@test "a claimed record the pipeline loses is due again" {
	vs-ingest "$BATS_FILE_TMPDIR/many/v4.mp4" "$BATS_FILE_TMPDIR/many/v5.mp4" >/dev/null
	# the first record reaches done (unpublished: a failed attempt), the
	# second is lost on the way: done finds its lease still held, or claim
	# could not even hand it on
	# (claim lives as long as its pipeline, keeping the leases: each
	# program's status kept, done's the pipeline's)
	run -1 --separate-stderr bash -c 'vs-queue claim --limit 2 | head -1 | vs-queue done --backoff 0
		s=("${PIPESTATUS[@]}"); echo "${s[0]} ${s[2]}" >statuses; exit "${s[2]}"'
	[ "$(cat statuses)" = "0 1" ] # claim handed both on; done found one lost
	[[ $stderr == *"never reached vs-queue done"* || $stderr == *"not handed on are due again"* ]]
	[ "$(sql "SELECT count(*) FROM video_jobs WHERE state = 'pending' AND lease_owner IS NULL AND last_error LIKE '%unpublished%'")" = 1 ]
	[ "$(sql "SELECT count(*) FROM video_jobs WHERE state = 'pending' AND lease_owner IS NULL AND (last_error LIKE '%lost%' OR last_error LIKE '%hand the record on%')")" = 1 ]
}

# ---- sources in an S3 store ----

start_s3() {
	S3_PORT=$(free_port)
	mkdir -p s3data
	bg s3.log node "$VS_TOP/tests/s3-server.js" "$S3_PORT" "$PWD/s3data" sources,vod AKIDVSTEST "test secret 123"
	S3_PID=$BG_PID
	wait_port "$S3_PORT" "$S3_PID"
	export AWS_ACCESS_KEY_ID=AKIDVSTEST AWS_SECRET_ACCESS_KEY="test secret 123" AWS_REGION=us-east-1
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN AWS_PROFILE
}

@test "a source kept in S3 is fetched by a worker elsewhere, published, and cleaned up" {
	start_s3
	# the upload machine
	VS_MEDIA_ROOT="$PWD/upload-machine" vs-ingest --store s3://sources/in "$BATS_FILE_TMPDIR/many/v6.mp4" >rec.json
	id=$(jqr rec.json .id)
	[ "$(jqr rec.json .source.store)" = "s3://sources/in/$id/source.mp4" ]
	[ "$(sql "SELECT source_path FROM videos WHERE id = '$id'")" = "s3://sources/in/$id/source.mp4" ]
	run -0 /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls "s3://sources/in/$id/"
	[[ $output == *source.mp4* ]]
	# a worker machine, with nothing of it on disk
	export VS_MEDIA_ROOT="$PWD/worker-machine"
	(
		set -o pipefail
		vs-queue claim | vs-encode --preset ultrafast | vs-package --segment-seconds 2 |
			vs-publish --to s3://vod/lessons | vs-queue done --clean >out.ndjson
	) 2>worker.err
	cat worker.err >&2
	[ "$(sql "SELECT state FROM video_jobs WHERE video_id = '$id'")" = done ]
	[[ $(jqr out.ndjson .published.master_url) == *"/lessons/$id/master.m3u8" ]]
	run -0 /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls "s3://vod/lessons/$id/"
	[[ $output == *master.m3u8* ]]
	kill "$S3_PID"
	# the worker's scratch space holds nothing of it any more
	[ ! -e "$VS_MEDIA_ROOT/$id" ]
}

@test "PostgreSQL stopped between claim and done: exit 75, the job still leased, then finished by the next claim" {
	vs-ingest "$BATS_FILE_TMPDIR/many/v1.mp4" >rec.json
	id=$(jqr rec.json .id)
	own_cluster
	# the worker's claim renews its lease until done hands it back: here done
	# never comes, the database stops first
	bg claim.err bash -c "vs-queue claim --lease 600 | vs-encode --preset ultrafast | vs-package --segment-seconds 2 |
		vs-publish --to 'file://$ORIGIN' >published.json"
	c=$BG_PID
	for _ in $(seq 300); do [ -s published.json ] && break; sleep 0.1; done
	[ -s published.json ]
	own_cluster_stop
	run -75 --separate-stderr vs-queue done <published.json
	# the worker's claim may have ended by itself, its database gone
	kill -9 -- "-$c" 2>/dev/null || :
	wait "$c" || :
	own_cluster_start
	# nothing was marked done; once the lease is over the video is due again
	[ "$(sql "SELECT state, attempts FROM video_jobs WHERE video_id = '$id'")" = "pending|1" ]
	expire_lease "$id"
	worker w --lease 30
	[ "$(sql "SELECT state, attempts FROM video_jobs WHERE video_id = '$id'")" = "done|2" ]
	[ "$(sql "SELECT upload_status, is_published FROM videos WHERE id = '$id'")" = "ready|t" ]
}
