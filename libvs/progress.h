#ifndef VS_PROGRESS_H
#define VS_PROGRESS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <time.h>

#include "vs.h"

/*
 * Viewers' progress: the one implementation of its rules, used by
 * vs-progress and vs-cgi.
 *
 *  - A position is clamped to [0, duration]; NaN, infinite or negative
 *    positions, and unknown videos, are errors.
 *  - The resume position is the latest position, by event time: an event
 *    older than the last one applied (a late heartbeat from a second
 *    device, a duplicate) changes nothing.
 *  - completed_percentage is the furthest point reached (a high-water mark),
 *    kept apart from the resume position.
 *  - Completed when the furthest point reaches complete_share of the
 *    duration or the last complete_tail_s seconds, whichever comes first
 *    (the tail counts for videos longer than twice the tail); once
 *    completed, it stays completed. Finishing resets the resume
 *    position to the start.
 *  - watch_count counts viewing sessions: the first event, the first event
 *    back in the video after it was finished, or one after idle_s without
 *    events, starts one.
 */

#define VS_PROGRESS_COMPLETE_SHARE 0.90
#define VS_PROGRESS_COMPLETE_TAIL_S 30.0
#define VS_PROGRESS_IDLE_S (30 * 60)

struct vs_progress_rules {
	double complete_share;  /* 0.90 */
	double complete_tail_s; /* 30 */
	double idle_s;          /* 1800 */
};

#define VS_PROGRESS_RULES_INIT \
	{VS_PROGRESS_COMPLETE_SHARE, VS_PROGRESS_COMPLETE_TAIL_S, VS_PROGRESS_IDLE_S}

/* The completion point of a video, in SQL over the expressions d
 * (duration), share and tail: the share of the duration, or its last
 * tail seconds if that comes first (for videos longer than twice the
 * tail, or every short video would be complete from its first second). */
#define VS_PROGRESS_THRESHOLD_SQL(d, share, tail) \
	"LEAST(" d " * " share ", CASE WHEN " d " > 2 * " tail " THEN " d " - " tail " ELSE " d " * " share " END)"

/*
 * Records an event for user and video (uuid or slug) in the database, in
 * the caller's transaction if one is open: one statement that locks the
 * row, applies the rules in SQL (the one implementation of them, shared
 * with imports) and writes the row, so concurrent devices never
 * overwrite a newer position. duration_s <= 0 takes the video's own
 * duration; at is seconds since the epoch. *row (new reference, may be
 * NULL) gets the stored progress as JSON (the row as it is when the event
 * was too old to change it). Returns 0, VS_ERR (bad event, unknown video)
 * or VS_ETEMP.
 */
int vs_progress_record(PGconn *db, const char *user, const char *video, double position_s,
                       double duration_s, double at, const struct vs_progress_rules *rules,
                       json_t **row);

/* The progress rows of user (and video, if not NULL) as JSON objects
 * appended to out. */
int vs_progress_get(PGconn *db, const char *user, const char *video, json_t *out);

/* An event's time: seconds since the epoch or ISO 8601, after the epoch;
 * NAN when it is neither. */
double vs_progress_parse_time(const char *s);

/*
 * vs-progress import: the events of in (NDJSON; name is used in messages,
 * "stdin") recorded under rules: COPY into a staging table and the
 * statement of vs_progress_record() over the whole chunk, a transaction a
 * chunk (libvs/batch: VS_BATCH_CHUNK events, or what a slow producer has
 * sent so far). The events of one viewer and video apply in line order,
 * as one at a time would. An event has the API's names, so that an exported row
 * imports again: user_id, video_id, current_time, duration (optional: the
 * video's own), last_watched_at (optional: now; a time as
 * vs_progress_parse_time() reads it); or the short ones, user, video,
 * position, at. Only what failed is written, then a summary: the events
 * are many. A record that already failed is dropped. Raises *status for
 * each bad event. Returns 0, or VS_ERR/VS_ETEMP when the import ended
 * early (the batches committed stay) or stdout failed, message set.
 */
int vs_progress_import(PGconn *db, FILE *in, const char *name, const struct vs_progress_rules *rules, int *status);

#endif
