#ifndef VS_QUEUE_H
#define VS_QUEUE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * The work queue of batch encoding (video_jobs): which video needs the
 * pipeline (vs-encode | vs-package | vs-publish), and which worker runs it.
 *
 *  - Work is every video ingested and not yet published (upload_status
 *    'processing'), and every one whose run failed and is due again.
 *  - A claim takes up to N videos that no other worker holds, with row
 *    locks that skip what another claim is taking (FOR UPDATE SKIP LOCKED),
 *    and gives the claimer a lease that it renews while the pipeline runs.
 *    A worker that dies stops renewing; once its lease expires another
 *    worker takes the video again. Each claim counts as an attempt.
 *  - A record that comes back with "error" is a failed attempt: the video
 *    is due again after a backoff that doubles (backoff_s, 2 backoff_s, …),
 *    until max_attempts: then it is failed for good (videos.upload_status
 *    'failed', the error kept) and reported. A record that comes back
 *    published finishes the job.
 *
 * Records the queue hands out carry a "job" section: {"owner", "attempt",
 * "lease_expires_at"}; the owner is the claimer's lease, so that a late
 * answer from a worker whose lease expired changes nothing.
 */

#define VS_QUEUE_LEASE_S 600        /* a claim lasts this long unless renewed */
#define VS_QUEUE_MAX_ATTEMPTS 3
#define VS_QUEUE_BACKOFF_S 60.0     /* the first retry's wait, doubled after */

struct vs_queue_opts {
	const char *owner;          /* this worker's lease name (host, pid, random) */
	double lease_s;
	int max_attempts;
	double backoff_s;
};

#define VS_QUEUE_OPTS_INIT {NULL, VS_QUEUE_LEASE_S, VS_QUEUE_MAX_ATTEMPTS, VS_QUEUE_BACKOFF_S}

/* A lease name unique to this process: "host:pid:random" (malloced). */
char *vs_queue_owner_new(void);

/*
 * Claims up to limit videos for o->owner. The claimed videos' records
 * (rebuilt from the database, with "job") are appended to claimed; videos
 * whose attempts ran out while no worker finished them (a lease that
 * expired on the last attempt) are failed for good and appended to
 * gave_up as error records. Returns 0, VS_ERR or VS_ETEMP.
 */
int vs_queue_claim(PGconn *db, const struct vs_queue_opts *o, int limit, json_t *claimed, json_t *gave_up);

/* Extends the leases o->owner holds; *held gets how many it still holds. */
int vs_queue_renew(PGconn *db, const struct vs_queue_opts *o, int *held);

enum vs_queue_outcome {
	VS_QUEUE_NOT_MINE,   /* no job, or another worker's lease: nothing changed */
	VS_QUEUE_DONE,       /* published: finished */
	VS_QUEUE_RETRY,      /* failed, due again later */
	VS_QUEUE_GAVE_UP,    /* failed for the last time: the video is failed */
};

/*
 * Records what became of rec (borrowed) at the end of the pipeline:
 * finished if it carries "published", a failed attempt if it carries
 * "error". rec's "job" gets "state" (and "next_attempt_at"). Returns 0 with
 * *outcome set, VS_ERR or VS_ETEMP.
 */
int vs_queue_finish(PGconn *db, json_t *rec, const struct vs_queue_opts *o, enum vs_queue_outcome *outcome);

/*
 * The leases owner still holds (of video only, if not NULL) once its
 * pipeline ended are records the pipeline lost (a step crashed): each is a
 * failed attempt, with why as the error. *count gets how many.
 */
int vs_queue_release(PGconn *db, const char *owner, const char *video, const struct vs_queue_opts *o,
                     const char *why, int *count);

/* How many jobs owner's leases still hold (*held), only looking. */
int vs_queue_held(PGconn *db, const char *owner, int *held);

/* While its pipeline runs, a claim looks this often whether its leases are
 * still held (done releases them), and renews them every third of a lease;
 * for at most VS_QUEUE_MAX_RUNTIME_S unless told otherwise. */
#define VS_QUEUE_WATCH_INTERVAL_MS 1000
#define VS_QUEUE_MAX_RUNTIME_S (6 * 3600.0)

/*
 * vs-queue claim: takes up to limit videos (vs_queue_claim) and writes
 * their records to out, flushed one by one, after their sources came down
 * from a store to media_root (vs_store_fetch_source); the jobs given up for
 * good are error records. A record that could not be handed on (the
 * pipeline stopped reading) is released at once. *held gets the leases
 * still held; *status is raised for every failure. Returns 0, or a negative
 * code when the claim itself failed.
 */
int vs_queue_claim_to(PGconn *db, const struct vs_queue_opts *o, int limit, FILE *out, const char *media_root,
                      int *held, int *status);

/*
 * Keeps o->owner's held leases alive until done has released them all or
 * max_runtime_s has passed since started (vs_clock_now() values, as is
 * renewed, when they were last renewed or taken), renewing every third of
 * a lease. A failed renewal is a warning on stderr and is tried again; the
 * loop itself does not fail.
 */
void vs_queue_keep_leases(PGconn *db, const struct vs_queue_opts *o, int held, double started,
                          double renewed, double max_runtime_s);

/*
 * Removes the working files of a published video (its record) from the
 * media root; never the origin itself when the video was published inside
 * the media root. Problems are warnings on stderr: cleaning is a courtesy.
 */
void vs_queue_clean(const json_t *rec, const char *media_root);

/*
 * vs-queue done: reads the pipeline's records from in, records what became
 * of each job (vs_queue_finish; the outcome on stderr), writes each record
 * to out and, with clean_root (the media root, or NULL), cleans the videos
 * that are done (vs_queue_clean). At the end of input the leases of the
 * owners it saw that no record came back for are released: a step of the
 * pipeline stopped. *status is raised for every failure. Returns 0, or a
 * negative code when reading, writing or the database failed.
 */
int vs_queue_done(PGconn *db, FILE *in, FILE *out, const struct vs_queue_opts *o, const char *clean_root,
                  int *status);

/* A video whose job failed for good, once more from its first attempt
 * (the video back to processing). Not found: no failed job for it. */
int vs_queue_retry(PGconn *db, const char *id);

/* Every job (or those in state, if not NULL) as JSON objects appended to out. */
int vs_queue_status(PGconn *db, const char *state, json_t *out);

#endif
