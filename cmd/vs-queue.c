/*
 * vs-queue: batch encoding from cron, on one machine or many.
 *
 *   vs-queue claim --limit 2 | vs-encode | vs-package | vs-publish | vs-queue done
 *   vs-queue status [--state pending|done|failed]
 *   vs-queue retry [ID]
 */
#include <signal.h>

#include "clock.h"
#include "error.h"
#include "hash.h"
#include "log.h"
#include "prog.h"
#include "queue.h"
#include "record.h"

/* The program's settings, for its subcommands. */
struct run {
	struct vs_queue_opts qo;
	long long limit;
	double max_runtime_s;
	bool clean, no_renew;
	const char *state;
};

/* claim: takes videos, writes their records, lets the pipeline read them
 * to the end, then keeps the leases alive until done has released them. */
static int claim(struct vs_prog *p)
{
	struct run *r = p->ctx;
	double started = vs_clock_now(), renewed;
	char *owner = vs_queue_owner_new();
	int ret, held = 0;

	if (!owner)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	r->qo.owner = owner;
	ret = vs_queue_claim_to(p->db, &r->qo, (int)r->limit, stdout, p->media_root, &held, &p->status);
	renewed = vs_clock_now();
	/* the pipeline's input ends here; the leases live on */
	vs_close_stdout();
	p->keep_stdout = true;
	if (ret == 0)
		vs_queue_keep_leases(p->db, &r->qo, held, started, renewed, r->max_runtime_s);
	free(owner);
	return ret;
}

/* done: what became of each record; the leases the pipeline lost. */
static int done(struct vs_prog *p)
{
	const struct run *r = p->ctx;

	return vs_queue_done(p->db, stdin, stdout, &r->qo, r->clean ? p->media_root : NULL, &p->status);
}

static int status(struct vs_prog *p)
{
	const struct run *r = p->ctx;
	json_t *jobs = json_array();
	int ret = vs_queue_status(p->db, r->state, jobs);

	return vs_record_emit(stdout, ret, jobs);
}

static int retry_record(json_t *rec, void *ctx)
{
	const char *id = vs_json_str(rec, "id");

	if (!id || !vs_hash_is_uuid(id))
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no video id");
	return vs_queue_retry(ctx, id);
}

/* a failed video, once more from the start of its attempts; without an id,
 * each record's on stdin (vs-video list --status failed | vs-queue retry) */
static int retry(struct vs_prog *p)
{
	if (p->n_args == 0)
		return vs_record_loop(stdin, "stdin", retry_record, p->db, &p->status);
	if (!vs_hash_is_uuid(p->args[0])) {
		vs_opt_usage_error(p->cmd, "retry: '%s' is not a video id", p->args[0]);
		return VS_PROG_USAGE;
	}
	return vs_queue_retry(p->db, p->args[0]);
}

static const struct vs_subcommand commands[] = {
	{"claim", claim, VS_OPT_DB_NEEDED},
	{"done", done, VS_OPT_DB_NEEDED},
	{"status", status, VS_OPT_DB_NEEDED},
	{"retry", retry, VS_OPT_DB_NEEDED, 0, 1, "a video id"},
	{0},
};

int main(int argc, char **argv)
{
	struct run r = {.qo = VS_QUEUE_OPTS_INIT, .limit = 1, .max_runtime_s = VS_QUEUE_MAX_RUNTIME_S};
	const struct vs_command cmd = {
		.name = "vs-queue",
		.synopsis = "[options] claim [--limit N] | vs-encode | vs-package | vs-publish | vs-queue done\n"
	            "[options] status [--state STATE]\n"
	            "[options] retry [ID]   (no ID: the records' on stdin)",
		.summary = "Batch encoding from cron: claim work under a lease, record how it went",
		.commands = commands,
		.common = VS_COMMON_DATABASE | VS_COMMON_MEDIA_ROOT,
		.options = (const struct vs_option[]){
			VS_OPT_LLONG('n', "limit", "N", r.limit, 1, 10000, "claim: videos to take at most", VS_OPT_DEFAULT(1)),
			VS_OPT_DOUBLE(0, "lease", "SECONDS", r.qo.lease_s, 1, 86400, "claim: how long a claim lasts unless renewed",
			              VS_OPT_DEFAULT(VS_QUEUE_LEASE_S)),
			VS_OPT_INT(0, "max-attempts", "N", r.qo.max_attempts, 1, 100,
			           "claim, done: attempts before a video fails for good", VS_OPT_DEFAULT(VS_QUEUE_MAX_ATTEMPTS)),
			VS_OPT_DOUBLE(0, "backoff", "SECONDS", r.qo.backoff_s, 0, 86400 * 7,
			              "done: the wait before the first retry, doubled after", VS_OPT_DEFAULT(VS_QUEUE_BACKOFF_S)),
			VS_OPT_DOUBLE(0, "max-runtime", "SECONDS", r.max_runtime_s, 0, 86400 * 7,
			              "claim: renew leases at most this long", VS_OPT_DEFAULT(VS_QUEUE_MAX_RUNTIME_S)),
			VS_OPT_SET(0, "no-renew", r.no_renew, "claim: exit once the records are written; the leases run out by themselves"),
			VS_OPT_SET(0, "clean", r.clean, "done: remove a published video's working files from the media root"),
			VS_OPT_STRING(0, "state", "STATE", r.state, "status: only pending, done or failed jobs"),
			{0},
		},
	};

	struct vs_prog p;

	if (!vs_prog_start(&p, &cmd, argc, argv, NULL))
		return p.status;
	if (r.state && strcmp(r.state, "pending") && strcmp(r.state, "done") && strcmp(r.state, "failed"))
		return vs_opt_usage_error(&cmd, "--state: '%s' is not pending, done or failed", r.state);
	if (r.no_renew)
		r.max_runtime_s = 0;
	signal(SIGPIPE, SIG_IGN);
	return vs_prog_dispatch(&p, &r);
}
