/*
 * vs-queue: batch encoding from cron, on one machine or many.
 *
 *   vs-queue claim --limit 2 | vs-encode | vs-package | vs-publish | vs-queue done
 *   vs-queue status [--state pending|done|failed]
 *   vs-queue retry ID
 */
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "ingest.h"
#include "log.h"
#include "opt.h"
#include "queue.h"
#include "record.h"
#include "store.h"

/* While its pipeline runs, claim looks this often whether its leases are
 * still held (done releases them), and renews them every third of a lease. */
#define WATCH_INTERVAL_MS 1000
#define MAX_RUNTIME_S (6 * 3600.0)

enum {
	OPT_LIMIT = 0x100,
	OPT_LEASE,
	OPT_MAX_ATTEMPTS,
	OPT_BACKOFF,
	OPT_MAX_RUNTIME,
	OPT_MEDIA_ROOT,
	OPT_CLEAN,
	OPT_STATE,
	OPT_NO_RENEW,
};

static const struct vs_option options[] = {
	{OPT_LIMIT, 'n', "limit", "N", "claim: videos to take at most (default: 1)"},
	{OPT_LEASE, 0, "lease", "SECONDS", "claim: how long a claim lasts unless renewed (default: 600)"},
	{OPT_MAX_ATTEMPTS, 0, "max-attempts", "N", "claim, done: attempts before a video fails for good (default: 3)"},
	{OPT_BACKOFF, 0, "backoff", "SECONDS", "done: the wait before the first retry, doubled after (default: 60)"},
	{OPT_MAX_RUNTIME, 0, "max-runtime", "SECONDS", "claim: renew leases at most this long (default: 21600)"},
	{OPT_NO_RENEW, 0, "no-renew", NULL, "claim: exit once the records are written; the leases run out by themselves"},
	{OPT_MEDIA_ROOT, 0, "media-root", "DIR", "working storage (default: $VS_MEDIA_ROOT or ./vs-media)"},
	{OPT_CLEAN, 0, "clean", NULL, "done: remove a published video's working files from the media root"},
	{OPT_STATE, 0, "state", "STATE", "status: only pending, done or failed jobs"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-queue",
	.synopsis = "[options] claim [--limit N] | vs-encode | vs-package | vs-publish | vs-queue done\n"
	            "[options] status [--state STATE]\n"
	            "[options] retry ID",
	.summary = "Batch encoding from cron: claim work under a lease, record how it went",
	.subcommands = "claim done status retry",
	.options = options,
	.common = VS_COMMON_DATABASE,
};

/* claim: takes videos, writes their records, lets the pipeline read them
 * to the end, then keeps the leases alive until done has released them. */
static int claim(PGconn *db, struct vs_queue_opts *o, int limit, const char *media_root, double max_runtime,
                 int *status)
{
	json_t *claimed = json_array(), *gave_up = json_array(), *rec;
	double started = vs_clock_now(), renewed;
	size_t i;
	int ret, held = 0;

	if ((ret = vs_queue_claim(db, o, limit, claimed, gave_up)) < 0) {
		json_decref(claimed);
		json_decref(gave_up);
		return ret;
	}
	renewed = vs_clock_now();
	json_array_foreach(gave_up, i, rec) {
		vs_log_error("%s: failed for good after %lld attempts: %s", vs_json_str(rec, "id"),
		             (long long)json_integer_value(json_object_get(json_object_get(rec, "job"), "attempt")),
		             vs_json_str(rec, "error.message"));
		*status = VS_EXIT_FAILED;
		if (ret == 0)
			ret = vs_record_write(stdout, rec);
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
		if (ret == 0 && (ret = vs_record_write(stdout, rec)) == 0 && fflush(stdout) != 0)
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot write the records: %s", strerror(errno));
		if (ret < 0) {
			int n = 0;

			if (vs_queue_release(db, o->owner, vs_json_str(rec, "id"), o, "the claim could not hand the record on",
			                     &n) == 0)
				held -= n;
			vs_error_clear();
			ret = VS_ERR;
		}
	}
	held += (int)json_array_size(claimed);
	json_decref(claimed);
	json_decref(gave_up);
	/* the pipeline's input ends here; the leases live on */
	vs_close_stdout();
	if (ret < 0) {
		vs_log_error("the pipeline stopped reading: the records not handed on are due again");
		*status = VS_EXIT_FAILED;
	}
	while (held > 0 && vs_clock_now() - started < max_runtime) {
		poll(NULL, 0, WATCH_INTERVAL_MS);
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
	return 0;
}

/* The working files of a published video, in the media root. */
static void clean(const json_t *rec, const char *media_root)
{
	const char *id = vs_json_str(rec, "id"), *target = vs_json_str(rec, "published.target");
	char *dir = id && vs_is_uuid(id) ? vs_path_join(media_root, id) : NULL;
	char *root = vs_abspath(media_root);

	/* never the origin itself, when it was published inside the media root */
	if (dir && root && target && !strncmp(target, "file://", 7) && !strncmp(target + 7, root, strlen(root)))
		vs_log_warn("%s: not cleaned: published inside the media root", id);
	else if (dir && vs_is_dir(dir) && vs_remove_tree(dir) < 0)
		vs_log_warn("%s: cannot clean '%s': %s", id, dir, vs_error_message());
	free(dir);
	free(root);
}

/* done: what became of each record; the leases the pipeline lost. */
static int done(PGconn *db, const struct vs_queue_opts *o, const char *media_root, bool do_clean, int *status)
{
	struct vs_reader *rd = vs_reader_new(stdin, "stdin");
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
			if (do_clean)
				clean(rec, media_root);
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
		ret = vs_record_write(stdout, rec);
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

int main(int argc, char **argv)
{
	struct vs_queue_opts qo = VS_QUEUE_OPTS_INIT;
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	const char *arg, *url, *sub, *media_root = NULL, *state = NULL, *id = NULL;
	double max_runtime = MAX_RUNTIME_S;
	long long limit = 1, n;
	bool do_clean = false;
	int c, status = VS_EXIT_OK, ret = 0;
	char *owner = NULL;
	PGconn *db = NULL;

	vs_log_init(argv[0]);
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_LIMIT:
			if (vs_opt_long(&cmd, "limit", arg, 1, 10000, &limit) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_LEASE:
			if (vs_opt_double(&cmd, "lease", arg, 1, 86400, &qo.lease_s) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_MAX_ATTEMPTS:
			if (vs_opt_long(&cmd, "max-attempts", arg, 1, 100, &n) < 0)
				return VS_EXIT_USAGE;
			qo.max_attempts = (int)n;
			break;
		case OPT_BACKOFF:
			if (vs_opt_double(&cmd, "backoff", arg, 0, 86400 * 7, &qo.backoff_s) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_MAX_RUNTIME:
			if (vs_opt_double(&cmd, "max-runtime", arg, 0, 86400 * 7, &max_runtime) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_MEDIA_ROOT: media_root = arg; break;
		case OPT_CLEAN: do_clean = true; break;
		case OPT_NO_RENEW: max_runtime = 0; break;
		case OPT_STATE:
			if (strcmp(arg, "pending") && strcmp(arg, "done") && strcmp(arg, "failed"))
				return vs_usage_error(&cmd, "--state: '%s' is not pending, done or failed", arg);
			state = arg;
			break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_opt_release(&opt);
	if (opt.optind == argc)
		return vs_usage_error(&cmd, "no command: use claim, done, status or retry");
	sub = argv[opt.optind++];
	if (!strcmp(sub, "retry")) {
		if (opt.optind == argc)
			return vs_usage_error(&cmd, "retry needs a video id");
		id = argv[opt.optind++];
		if (!vs_is_uuid(id))
			return vs_usage_error(&cmd, "retry: '%s' is not a video id", id);
	} else if (strcmp(sub, "claim") && strcmp(sub, "done") && strcmp(sub, "status")) {
		return vs_usage_error(&cmd, "unknown command '%s'", sub);
	}
	if (opt.optind != argc)
		return vs_usage_error(&cmd, "too many arguments");
	url = vs_db_url(opt.common.database);
	if (!url)
		return vs_usage_error(&cmd, "it needs a database: set VS_DATABASE_URL or give --database");
	media_root = vs_media_root(media_root);
	signal(SIGPIPE, SIG_IGN);
	if ((ret = vs_db_connect(url, &db)) < 0) {
		vs_log_error("%s", vs_error_message());
		return vs_exit_for(ret);
	}

	if (!strcmp(sub, "claim")) {
		if (!(owner = vs_queue_owner_new()))
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		qo.owner = owner;
		if (ret == 0)
			ret = claim(db, &qo, (int)limit, media_root, max_runtime, &status);
	} else if (!strcmp(sub, "done")) {
		ret = done(db, &qo, media_root, do_clean, &status);
	} else if (!strcmp(sub, "status")) {
		json_t *jobs = json_array(), *j;
		size_t i;

		ret = vs_queue_status(db, state, jobs);
		json_array_foreach(jobs, i, j)
			if (ret == 0)
				ret = vs_record_write(stdout, j);
		json_decref(jobs);
	} else {
		/* a failed video, once more from the start of its attempts */
		ret = vs_queue_retry(db, id);
	}
	if (ret < 0) {
		vs_log_error("%s", vs_error_message());
		status = vs_exit_worse(status, vs_exit_for(ret));
	}
	vs_db_close(db);
	free(owner);
	if (strcmp(sub, "claim") && vs_close_stdout() < 0)
		status = VS_EXIT_FAILED;
	return status;
}
