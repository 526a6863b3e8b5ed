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

struct vs_progress {
	bool exists;                 /* false: no row yet */
	double position_s;           /* resume position */
	double completed_percentage; /* furthest point, 0..100 */
	bool completed;
	bool finished_last;          /* the last event ended the video (resume reset) */
	int watch_count;
	double last_event;           /* seconds since the epoch, of the last applied event */
	double completed_at;         /* 0 if not completed */
};

struct vs_progress_event {
	double position_s;
	double duration_s;           /* > 0 */
	double at;                   /* event time, seconds since the epoch */
};

/* The completion point of a video of duration_s under rules: the share of
 * the duration, or its last complete_tail_s seconds if that comes first
 * (for videos longer than twice the tail). */
double vs_progress_threshold(double duration_s, const struct vs_progress_rules *rules);

/* The same rule in SQL over the expressions d (duration), share and tail,
 * for aggregates (vs-report's completion rate). */
#define VS_PROGRESS_THRESHOLD_SQL(d, share, tail) \
	"LEAST(" d " * " share ", CASE WHEN " d " > 2 * " tail " THEN " d " - " tail " ELSE " d " * " share " END)"

/*
 * Applies ev to old under rules. Returns 1 when *out differs from *old and
 * should be stored, 0 when the event changes nothing (older than the last
 * applied one, or a duplicate), VS_ERR for a bad event (message set).
 */
int vs_progress_apply(const struct vs_progress *old, const struct vs_progress_event *ev,
                      const struct vs_progress_rules *rules, struct vs_progress *out);

/*
 * Records an event for user and video (uuid or slug) in the database, in
 * the caller's transaction if one is open: reads the row, applies the
 * rules, and writes it back only if no other writer changed it meanwhile
 * (compare-and-set on its last event time; the loser reads again), so
 * concurrent devices never overwrite a newer position. duration_s <= 0 takes the video's own duration.
 * *row (new reference, may be NULL) gets the stored progress as JSON.
 * Returns 0, VS_ERR (bad event, unknown video) or VS_ETEMP.
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

#define VS_PROGRESS_IMPORT_BATCH 500 /* events per transaction of an import */

/*
 * vs-progress import: the events of in (NDJSON; name is used in messages,
 * "stdin") recorded under rules, VS_PROGRESS_IMPORT_BATCH to a transaction
 * (libvs/batch). An event has the API's names, so that an exported row
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
