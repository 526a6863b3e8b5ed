#include <poll.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "publish.h"
#include "queue.h"
#include "record.h"
#include "store.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

char *vs_queue_owner_new(void)
{
	char host[256] = "host", *owner = NULL;
	unsigned char r[6];

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	if (asprintf(&owner, "%.64s:%ld:%02x%02x%02x%02x%02x%02x", host, (long)getpid(), r[0], r[1], r[2], r[3], r[4],
	             r[5]) < 0)
		return NULL;
	return owner;
}

/* Videos ingested and not published join the queue; a finished or failed
 * job whose video is back to 'processing' (ingested again) starts over. */
static const char q_enqueue[] =
	"INSERT INTO video_jobs (video_id) SELECT id FROM videos WHERE upload_status = 'processing'"
	" ON CONFLICT (video_id) DO UPDATE SET state = 'pending', attempts = 0, last_error = NULL,"
	" next_attempt_at = now(), finished_at = NULL, updated_at = now()"
	" WHERE video_jobs.state <> 'pending'";

/* Jobs whose last attempt's worker stopped (the lease expired): failed
 * (their videos with them, in the same transaction). */
static const char q_give_up[] =
	"UPDATE video_jobs SET state = 'failed', finished_at = now(), updated_at = now(),"
	"   last_error = coalesce(CASE WHEN lease_owner IS NOT NULL"
	"     THEN 'the worker stopped before finishing: its lease expired' ELSE last_error END, 'failed'),"
	"   lease_owner = NULL, lease_expires_at = NULL"
	" WHERE state = 'pending' AND attempts >= $1::int"
	"   AND (lease_expires_at IS NULL OR lease_expires_at <= now())"
	" RETURNING video_id, last_error, attempts";

/* The videos of the jobs in r (video_id in column 0, state in state_col
 * or every one when it is -1, the error in error_col) failed for good. */
static int fail_videos(PGconn *db, PGresult *r, int state_col, int error_col)
{
	int ret = 0;

	for (int i = 0; ret == 0 && i < PQntuples(r); i++) {
		const struct vs_video_state st = {.status = "failed", .error = PQgetvalue(r, i, error_col)};

		if (state_col < 0 || !strcmp(PQgetvalue(r, i, state_col), "failed"))
			ret = vs_catalog_set_state(db, PQgetvalue(r, i, 0), &st);
	}
	return ret;
}

/* Runs sql (n parameters) and fails the videos of the jobs it failed, in
 * one transaction; *res gets sql's rows. */
static int update_jobs(PGconn *db, const char *sql, int n, const char *const *p, int state_col, int error_col,
                       PGresult **res)
{
	int ret = vs_db_run(db, "BEGIN");

	*res = NULL;
	if (ret == 0)
		ret = vs_db_exec(db, res, sql, n, p);
	if (ret == 0)
		ret = fail_videos(db, *res, state_col, error_col);
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	if (ret < 0) {
		vs_db_rollback(db);
		PQclear(*res);
		*res = NULL;
	}
	return ret;
}

static const char q_claim[] =
	"WITH pick AS (SELECT video_id FROM video_jobs"
	"   WHERE state = 'pending' AND next_attempt_at <= now()"
	"   AND (lease_expires_at IS NULL OR lease_expires_at <= now())"
	"   ORDER BY next_attempt_at, created_at, video_id LIMIT $1::int FOR UPDATE SKIP LOCKED)"
	" UPDATE video_jobs j SET attempts = j.attempts + 1,"
	"   last_error = CASE WHEN j.lease_owner IS NOT NULL"
	"     THEN 'the worker stopped before finishing: its lease expired' ELSE j.last_error END,"
	"   lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3::float8),"
	"   claimed_at = now(), updated_at = now()"
	" FROM pick WHERE j.video_id = pick.video_id"
	" RETURNING j.video_id, j.attempts, " TS("j.lease_expires_at");

int vs_queue_claim(PGconn *db, const struct vs_queue_opts *o, int limit, json_t *claimed, json_t *gave_up)
{
	char n[16], lease[32], max[16];
	PGresult *r = NULL;
	int ret;

	snprintf(n, sizeof(n), "%d", limit);
	snprintf(lease, sizeof(lease), "%.3f", o->lease_s);
	snprintf(max, sizeof(max), "%d", o->max_attempts);
	if ((ret = vs_db_run(db, q_enqueue)) < 0)
		return ret;
	{
		const char *p[] = {max};

		if ((ret = update_jobs(db, q_give_up, 1, p, -1, 1, &r)) < 0)
			return ret;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *rec = NULL;
		const char *id = PQgetvalue(r, i, 0);

		if (vs_catalog_find(db, VS_CATALOG_BY_ID, id, &rec, NULL) < 0 || !rec) {
			vs_error_clear();
			rec = json_pack("{s:s}", "id", id);
		}
		vs_record_set_error(rec, "gave_up", PQgetvalue(r, i, 1));
		json_object_set_new(rec, "job", json_pack("{s:s,s:i}", "state", "failed", "attempt", atoi(PQgetvalue(r, i, 2))));
		json_array_append_new(gave_up, rec);
	}
	PQclear(r);
	{
		const char *p[] = {n, o->owner, lease};

		if ((ret = vs_db_exec(db, &r, q_claim, 3, p)) < 0)
			return ret;
	}
	for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
		json_t *rec = NULL;

		ret = vs_catalog_find(db, VS_CATALOG_BY_ID, PQgetvalue(r, i, 0), &rec, NULL);
		if (ret == 0 && !rec)
			rec = json_pack("{s:s}", "id", PQgetvalue(r, i, 0)); /* deleted meanwhile: it fails downstream */
		if (ret == 0) {
			json_object_set_new(rec, "job", json_pack("{s:s,s:i,s:s}", "owner", o->owner, "attempt",
			                                          atoi(PQgetvalue(r, i, 1)), "lease_expires_at",
			                                          PQgetvalue(r, i, 2)));
			json_array_append_new(claimed, rec);
		}
	}
	PQclear(r);
	return ret;
}

int vs_queue_renew(PGconn *db, const struct vs_queue_opts *o, int *held)
{
	char lease[32];
	const char *p[] = {o->owner, lease};
	PGresult *r = NULL;
	int ret;

	snprintf(lease, sizeof(lease), "%.3f", o->lease_s);
	ret = vs_db_exec(db, &r,
	                 "UPDATE video_jobs SET lease_expires_at = now() + make_interval(secs => $2::float8)"
	                 " WHERE lease_owner = $1 AND state = 'pending' RETURNING video_id",
	                 2, p);
	*held = ret == 0 ? PQntuples(r) : 0;
	PQclear(r);
	return ret;
}

/* A failed attempt for the jobs of owner (and of video, if not NULL): due
 * again after the backoff, or failed for good after the last attempt. */
static const char q_fail[] =
	"UPDATE video_jobs SET"
	"   state = CASE WHEN attempts >= $3::int THEN 'failed' ELSE 'pending' END,"
	"   last_error = $4, lease_owner = NULL, lease_expires_at = NULL,"
	"   next_attempt_at = now() + make_interval(secs => $5::float8 * 2 ^ greatest(attempts - 1, 0)),"
	"   finished_at = CASE WHEN attempts >= $3::int THEN now() END, updated_at = now()"
	" WHERE lease_owner = $1 AND state = 'pending' AND ($2::uuid IS NULL OR video_id = $2::uuid)"
	" RETURNING video_id, state, " TS("next_attempt_at") ", attempts, last_error";

static int fail(PGconn *db, const char *owner, const char *video, const struct vs_queue_opts *o, const char *why,
                PGresult **res)
{
	char max[16], backoff[32];
	const char *p[] = {owner, video, max, why, backoff};

	snprintf(max, sizeof(max), "%d", o->max_attempts);
	snprintf(backoff, sizeof(backoff), "%.3f", o->backoff_s);
	return update_jobs(db, q_fail, 5, p, 1, 4, res);
}

int vs_queue_finish(PGconn *db, json_t *rec, const struct vs_queue_opts *o, enum vs_queue_outcome *outcome)
{
	json_t *job = json_object_get(rec, "job");
	const char *owner = vs_json_str(job, "owner"), *id = vs_json_str(rec, "id");
	PGresult *r = NULL;
	int ret;

	*outcome = VS_QUEUE_NOT_MINE;
	if (!json_is_object(job) || !owner || !id)
		return 0;
	if (!vs_record_failed(rec) && json_is_object(json_object_get(rec, "published"))) {
		const char *p[] = {owner, id};

		ret = vs_db_exec(db, &r,
		                 "UPDATE video_jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL,"
		                 " last_error = NULL, finished_at = now(), updated_at = now()"
		                 " WHERE lease_owner = $1 AND video_id = $2::uuid AND state = 'pending' RETURNING 1",
		                 2, p);
		if (ret == 0 && PQntuples(r) == 1) {
			*outcome = VS_QUEUE_DONE;
			json_object_set_new(job, "state", json_string("done"));
		}
	} else {
		char *why = NULL;

		if (vs_record_failed(rec)) {
			if (asprintf(&why, "%s: %s", vs_json_str(rec, "error.tool") ? vs_json_str(rec, "error.tool") : "vs",
			             vs_json_str(rec, "error.message") ? vs_json_str(rec, "error.message") : "failed") < 0)
				why = NULL;
		} else {
			why = strdup("the record came back unpublished: the pipeline must end with vs-publish");
		}
		ret = why ? fail(db, owner, id, o, why, &r) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		free(why);
		if (ret == 0 && PQntuples(r) == 1) {
			bool failed = !strcmp(PQgetvalue(r, 0, 1), "failed");

			*outcome = failed ? VS_QUEUE_GAVE_UP : VS_QUEUE_RETRY;
			json_object_set_new(job, "state", json_string(failed ? "failed" : "retry"));
			if (!failed)
				json_object_set_new(job, "next_attempt_at", json_string(PQgetvalue(r, 0, 2)));
		}
	}
	PQclear(r);
	return ret;
}

int vs_queue_release(PGconn *db, const char *owner, const char *video, const struct vs_queue_opts *o,
                     const char *why, int *count)
{
	PGresult *r = NULL;
	int ret = fail(db, owner, video, o, why, &r);

	*count = ret == 0 ? PQntuples(r) : 0;
	PQclear(r);
	return ret;
}

int vs_queue_status(PGconn *db, const char *state, json_t *out)
{
	const char *p[] = {state};

	return vs_db_query_json(db,
	                     "SELECT json_build_object('id', j.video_id, 'slug', v.slug, 'state', j.state,"
	                     " 'attempts', j.attempts, 'last_error', j.last_error, 'worker', j.lease_owner,"
	                     " 'lease_expires_at', " TS("j.lease_expires_at") ","
	                     " 'next_attempt_at', CASE WHEN j.state = 'pending' THEN " TS("j.next_attempt_at") " END,"
	                     " 'finished_at', " TS("j.finished_at") ")::text"
	                     " FROM video_jobs j JOIN videos v ON v.id = j.video_id"
	                     " WHERE $1::text IS NULL OR j.state = $1 ORDER BY j.created_at, j.video_id",
	                     1, p, out);
}

int vs_queue_held(PGconn *db, const char *owner, int *held)
{
	const char *p[] = {owner};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r, "SELECT count(*) FROM video_jobs WHERE lease_owner = $1 AND state = 'pending'", 1, p);

	if (ret == 0)
		*held = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return ret;
}

int vs_queue_retry(PGconn *db, const char *id)
{
	const char *p[] = {id};
	const struct vs_video_state st = {.status = "processing"};
	PGresult *r = NULL;
	int ret;

	if (!vs_hash_is_uuid(id))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not a video id", id);
	if ((ret = vs_db_run(db, "BEGIN")) < 0)
		return ret;
	ret = vs_db_exec(db, &r,
	                 "UPDATE video_jobs SET state = 'pending', attempts = 0, next_attempt_at = now(),"
	                 " finished_at = NULL, updated_at = now() WHERE video_id = $1::uuid AND state = 'failed'"
	                 " RETURNING video_id", 1, p);
	if (ret == 0 && PQntuples(r) != 1)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "no failed job for video %s", id);
	PQclear(r);
	if (ret == 0)
		ret = vs_catalog_set_state(db, id, &st);
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	if (ret < 0)
		vs_db_rollback(db);
	return ret;
}

void vs_queue_keep_leases(PGconn *db, const struct vs_queue_opts *o, int held, double started,
                          double renewed, double max_runtime_s)
{
	while (held > 0 && vs_clock_now() - started < max_runtime_s) {
		poll(NULL, 0, VS_QUEUE_WATCH_INTERVAL_MS);
		if (vs_clock_now() - renewed < o->lease_s / 3) {
			/* only looking: has done released them? */
			if (vs_queue_held(db, o->owner, &held) < 0)
				vs_error_clear();
			continue;
		}
		if (vs_queue_renew(db, o, &held) < 0) {
			vs_log_warn("cannot renew the leases: %s", vs_error_message());
			vs_error_clear();
		}
		renewed = vs_clock_now();
	}
}

/* True if the package rec was published to (a file:// target) is inside
 * the media root, or holds the video's working directory work: both
 * compared as the file system resolves them (links, "..", "//"). */
static bool published_inside(const json_t *rec, const char *id, const char *media_root, const char *work)
{
	const char *target = vs_json_str(rec, "published.target");
	char *tdir = NULL, *pub = NULL, *real_pub = NULL, *root = NULL;
	bool inside = false;

	if (!target || strncmp(target, "file://", 7))
		return false;
	if (vs_publish_file_dir(target, &tdir) < 0) {
		vs_error_clear();
		return true; /* a target we cannot read: keep everything */
	}
	pub = vs_fsutil_path_join(tdir, id);
	real_pub = pub ? realpath(pub, NULL) : NULL;
	if (!real_pub && tdir)
		real_pub = realpath(tdir, NULL);
	root = realpath(media_root, NULL);
	inside = !real_pub || (root && vs_fsutil_is_within(real_pub, root)) || vs_fsutil_is_within(work, real_pub);
	free(root);
	free(real_pub);
	free(pub);
	free(tdir);
	return inside;
}

void vs_queue_clean(const json_t *rec, const char *media_root)
{
	const char *id = vs_json_str(rec, "id");
	char *dir = id && vs_hash_is_uuid(id) ? vs_fsutil_path_join(media_root, id) : NULL;
	char *work = dir ? realpath(dir, NULL) : NULL;

	/* never the origin itself, when it was published inside the media root */
	if (!work)
		; /* nothing to clean */
	else if (published_inside(rec, id, media_root, work))
		vs_log_warn("%s: not cleaned: its published copy is inside the media root, or cannot be found", id);
	else if (vs_fsutil_remove_tree(work) < 0)
		vs_log_warn("%s: cannot clean '%s': %s", id, dir, vs_error_message());
	free(work);
	free(dir);
}

int vs_queue_done(PGconn *db, FILE *in, FILE *out_f, const struct vs_queue_opts *o, const char *clean_root,
                  int *status)
{
	struct vs_reader *rd = vs_reader_new(in, "stdin");
	json_t *rec = NULL, *owners = json_object();
	const char *owner;
	json_t *unused;
	int ret = 0, got;

	if (!rd)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	while ((got = vs_record_read(rd, &rec)) > 0) {
		enum vs_queue_outcome out = VS_QUEUE_NOT_MINE;
		const char *job_owner = vs_json_str(rec, "job.owner"), *id = vs_json_str(rec, "id");
		const char *state = vs_json_str(rec, "job.state");

		if (job_owner)
			json_object_set_new(owners, job_owner, json_true());
		if (got == VS_RECORD_OK && state && !strcmp(state, "failed")) {
			*status = vs_exit_worse(*status, VS_EXIT_FAILED); /* claim gave it up */
		} else if (got == VS_RECORD_OK && (ret = vs_queue_finish(db, rec, o, &out)) < 0) {
			json_decref(rec);
			break;
		}
		switch (out) {
		case VS_QUEUE_DONE:
			vs_log_info("%s: done", id);
			if (clean_root)
				vs_queue_clean(rec, clean_root);
			break;
		case VS_QUEUE_RETRY:
			vs_log_warn("%s: failed, again from %s: %s", id, vs_json_str(rec, "job.next_attempt_at"),
			            vs_json_str(rec, "error.message") ? vs_json_str(rec, "error.message") : "not published");
			*status = vs_exit_worse(*status, VS_EXIT_FAILED);
			break;
		case VS_QUEUE_GAVE_UP:
			vs_log_error("%s: failed for good after %lld attempts: %s", id,
			             (long long)json_integer_value(json_object_get(json_object_get(rec, "job"), "attempt")),
			             vs_json_str(rec, "error.message") ? vs_json_str(rec, "error.message") : "not published");
			*status = vs_exit_worse(*status, VS_EXIT_FAILED);
			break;
		case VS_QUEUE_NOT_MINE:
			if (job_owner && !vs_record_failed(rec))
				vs_log_warn("%s: its lease was no longer %s's: nothing recorded", id, job_owner);
			if (got == VS_RECORD_BAD || vs_record_failed(rec))
				*status = vs_exit_worse(*status, VS_EXIT_FAILED);
			break;
		}
		ret = vs_record_write(out_f, rec);
		json_decref(rec);
		if (ret < 0)
			break;
	}
	if (got < 0 && ret == 0)
		ret = got;
	/* what the pipeline claimed and never answered for: a step crashed */
	json_object_foreach(owners, owner, unused) {
		int lost = 0;

		if (ret == 0 &&
		    (ret = vs_queue_release(db, owner, NULL, o, "the pipeline lost the record (a step stopped)", &lost)) == 0 &&
		    lost > 0) {
			vs_log_error("%d claimed record%s never reached vs-queue done: due again", lost, lost == 1 ? "" : "s");
			*status = vs_exit_worse(*status, VS_EXIT_FAILED);
		}
	}
	json_decref(owners);
	vs_reader_free(rd);
	return ret;
}

int vs_queue_claim_to(PGconn *db, const struct vs_queue_opts *o, int limit, FILE *out, const char *media_root,
                      int *held, int *status)
{
	json_t *claimed = json_array(), *gave_up = json_array(), *rec;
	size_t i;
	int ret;

	*held = 0;
	if ((ret = vs_queue_claim(db, o, limit, claimed, gave_up)) < 0) {
		json_decref(claimed);
		json_decref(gave_up);
		return ret;
	}
	json_array_foreach(gave_up, i, rec) {
		vs_log_error("%s: failed for good after %lld attempts: %s", vs_json_str(rec, "id"),
		             (long long)json_integer_value(json_object_get(json_object_get(rec, "job"), "attempt")),
		             vs_json_str(rec, "error.message"));
		*status = VS_EXIT_FAILED;
		if (ret == 0)
			ret = vs_record_write(out, rec);
	}
	json_array_foreach(claimed, i, rec) {
		/* a source kept in a store comes down to this machine first */
		if (ret == 0 && vs_store_fetch_source(rec, media_root) < 0) {
			vs_log_error("%s: %s", vs_json_str(rec, "id"), vs_error_message());
			vs_record_set_last_error(rec);
		}
		vs_log_info("claimed %s (attempt %lld)", vs_json_str(rec, "id"),
		            (long long)json_integer_value(json_object_get(json_object_get(rec, "job"), "attempt")));
		/* each record into the pipe before the next: one that did not get
		 * there is released here, one that did is the pipeline's */
		if (ret == 0 && (ret = vs_record_write(out, rec)) == 0 && fflush(out) != 0)
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot write the records: %s", strerror(errno));
		if (ret < 0) {
			int n = 0;

			if (vs_queue_release(db, o->owner, vs_json_str(rec, "id"), o, "the claim could not hand the record on",
			                     &n) == 0)
				*held -= n;
			vs_error_clear();
			ret = VS_ERR;
		}
	}
	*held += (int)json_array_size(claimed);
	json_decref(claimed);
	json_decref(gave_up);
	if (ret < 0) {
		vs_log_error("the pipeline stopped reading: the records not handed on are due again");
		*status = VS_EXIT_FAILED;
	}
	return 0;
}
