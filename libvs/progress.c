#include <math.h>

#include "batch.h"
#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "hash.h"
#include "progress.h"
#include "record.h"

double vs_progress_threshold(double duration_s, const struct vs_progress_rules *r)
{
	double threshold = duration_s * r->complete_share;

	/* the tail counts only for videos longer than twice the tail, or every
	 * short video would be complete from its first second */
	if (duration_s > 2 * r->complete_tail_s)
		threshold = fmin(threshold, duration_s - r->complete_tail_s);
	return threshold;
}

int vs_progress_apply(const struct vs_progress *old, const struct vs_progress_event *ev,
                      const struct vs_progress_rules *r, struct vs_progress *out)
{
	double pos = ev->position_s, dur = ev->duration_s, furthest, threshold;
	bool finished, new_session;

	if (!isfinite(pos) || pos < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "position must be a finite number of seconds, at least 0");
	if (!isfinite(dur) || dur <= 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "the video has no duration");
	if (!isfinite(ev->at))
		return vs_fail(VS_ERR, VS_E_INVALID, "bad event time");
	*out = *old;
	/* last write wins by event time: older or equal events change nothing */
	if (old->exists && ev->at <= old->last_event)
		return 0;
	if (pos > dur)
		pos = dur;
	threshold = vs_progress_threshold(dur, r);
	finished = pos >= threshold;
	/* after the end, the next event back in the video (not another one in
	 * the closing seconds) starts watching again */
	new_session = !old->exists || (old->finished_last && !finished) ||
	              ev->at - old->last_event > r->idle_s;

	furthest = fmax(old->exists ? old->completed_percentage * dur / 100.0 : 0, pos);
	out->exists = true;
	out->completed_percentage = fmin(100.0, round(furthest / dur * 100.0 * 100.0) / 100.0);
	if (!old->completed && furthest >= threshold) {
		out->completed = true;
		out->completed_at = ev->at;
	}
	out->position_s = finished ? 0 : pos;
	out->finished_last = finished;
	out->watch_count = old->watch_count + (new_session ? 1 : 0);
	out->last_event = ev->at;
	return 1;
}


/* The video and the viewer's row in one read. Columns: 0 id, 1 duration,
 * 2 position, 3 completed_percentage, 4 completed, 5 completed_at (epoch),
 * 6 watch_count, 7 last_watched_at (epoch), 8 finished_last, 9 last_watched_at
 * as text (the version the write compares), 10 the row as JSON. */
#define CURRENT_SELECT \
	"SELECT v.id, v.duration_exact_seconds, p.current_time_seconds, p.completed_percentage, p.is_completed," \
	" extract(epoch FROM p.completed_at), p.watch_count, extract(epoch FROM p.last_watched_at)," \
	" p.finished_last, p.last_watched_at::text, CASE WHEN p.user_id IS NOT NULL THEN " VS_PROGRESS_ROW_JSON " END" \
	" FROM videos v LEFT JOIN video_progress p ON p.video_id = v.id AND p.user_id = $1::uuid"

static const char q_current_by_id[] = CURRENT_SELECT " WHERE v.id = $2::uuid";
static const char q_current_by_slug[] = CURRENT_SELECT " WHERE v.slug = $2";

/* Writes "now" if the row still has version (NULL: there is no row yet),
 * returning the row's JSON; no row back means another writer came first. */
static const char q_insert[] =
	"INSERT INTO video_progress AS p (user_id, video_id, current_time_seconds, completed_percentage, is_completed,"
	" completed_at, watch_count, last_watched_at, finished_last)"
	" VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN to_timestamp($6) END, $7, to_timestamp($8), $9)"
	" ON CONFLICT (user_id, video_id) DO UPDATE SET current_time_seconds = EXCLUDED.current_time_seconds,"
	" completed_percentage = EXCLUDED.completed_percentage, is_completed = EXCLUDED.is_completed,"
	" completed_at = EXCLUDED.completed_at, watch_count = EXCLUDED.watch_count,"
	" last_watched_at = EXCLUDED.last_watched_at, finished_last = EXCLUDED.finished_last, updated_at = now()"
	" WHERE p.last_watched_at IS NULL" /* a row made before its first event (vs-progress import) */
	" RETURNING " VS_PROGRESS_ROW_JSON;
static const char q_update[] =
	"UPDATE video_progress AS p SET current_time_seconds = $3, completed_percentage = $4,"
	" is_completed = $5, completed_at = CASE WHEN $5 THEN to_timestamp($6) END,"
	" watch_count = $7, last_watched_at = to_timestamp($8), finished_last = $9, updated_at = now()"
	" WHERE user_id = $1 AND video_id = $2 AND last_watched_at IS NOT DISTINCT FROM $10::timestamptz"
	" RETURNING " VS_PROGRESS_ROW_JSON;

/* Attempts before giving up on a row that other writers keep changing. */
#define PROGRESS_WRITE_ATTEMPTS 16

/*
 * Two statements, no explicit transaction: read the video and the row,
 * apply the rules, then write only if the row's version (its last event
 * time) is still the one read — a compare-and-set. A writer that lost the
 * race reads again and re-applies, so concurrent devices are serialised by
 * event time without holding a lock across round trips.
 */
int vs_progress_record(PGconn *db, const char *user, const char *video, double position_s,
                       double duration_s, double at, const struct vs_progress_rules *rules,
                       json_t **row)
{
	struct vs_progress old, now;
	struct vs_progress_event ev;
	PGresult *r = NULL;
	char n[6][48], id[VS_UUID_LEN + 1], version[64];
	int ret = 0, changed;

	if (row)
		*row = NULL;
	if (!user || !vs_hash_is_uuid(user))
		return vs_fail(VS_ERR, VS_E_INVALID, "user must be a UUID");
	for (int attempt = 0;; attempt++) {
		const char *pc[] = {user, video};
		bool have_row;

		if (attempt == PROGRESS_WRITE_ATTEMPTS)
			return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "progress of '%s' on '%s' keeps changing: try again",
			               user, video);
		ret = vs_db_exec(db, &r, vs_hash_is_uuid(video) ? q_current_by_id : q_current_by_slug, 2, pc);
		if (ret < 0)
			return ret;
		if (PQntuples(r) != 1) {
			PQclear(r);
			return vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", video);
		}
		snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
		ev = (struct vs_progress_event){position_s, duration_s, at};
		if (!(ev.duration_s > 0))
			ev.duration_s = PQgetisnull(r, 0, 1) ? 0 : atof(PQgetvalue(r, 0, 1));
		have_row = !PQgetisnull(r, 0, 10);
		memset(&old, 0, sizeof(old));
		old.exists = !PQgetisnull(r, 0, 7);
		if (have_row) {
			old.position_s = atof(PQgetvalue(r, 0, 2));
			old.completed_percentage = atof(PQgetvalue(r, 0, 3));
			old.completed = !strcmp(PQgetvalue(r, 0, 4), "t");
			old.completed_at = PQgetisnull(r, 0, 5) ? 0 : atof(PQgetvalue(r, 0, 5));
			old.watch_count = atoi(PQgetvalue(r, 0, 6));
			old.last_event = old.exists ? atof(PQgetvalue(r, 0, 7)) : 0;
			old.finished_last = !strcmp(PQgetvalue(r, 0, 8), "t");
		}
		snprintf(version, sizeof(version), "%s", old.exists ? PQgetvalue(r, 0, 9) : "");
		changed = vs_progress_apply(&old, &ev, rules, &now);
		if (changed <= 0) {
			/* a bad event, or an old one: the row stays as it is */
			if (changed == 0 && row && have_row)
				*row = json_loads(PQgetvalue(r, 0, 10), 0, NULL);
			PQclear(r);
			return changed;
		}
		PQclear(r);
		r = NULL;
		snprintf(n[0], sizeof(n[0]), "%.3f", now.position_s);
		snprintf(n[1], sizeof(n[1]), "%.2f", now.completed_percentage);
		snprintf(n[2], sizeof(n[2]), "%.6f", now.completed_at);
		snprintf(n[3], sizeof(n[3]), "%d", now.watch_count);
		snprintf(n[4], sizeof(n[4]), "%.6f", now.last_event);
		{
			const char *pw[] = {user, id, n[0], n[1], now.completed ? "t" : "f", n[2], n[3], n[4],
			                    now.finished_last ? "t" : "f", old.exists ? version : NULL};

			ret = vs_db_exec(db, &r, old.exists ? q_update : q_insert, old.exists ? 10 : 9, pw);
		}
		if (ret < 0)
			return ret;
		if (PQntuples(r) == 1)
			break;
		PQclear(r); /* another writer came first: read again */
		r = NULL;
	}
	if (row)
		*row = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	return 0;
}

int vs_progress_get(PGconn *db, const char *user, const char *video, json_t *out)
{
	char id[VS_UUID_LEN + 1];
	double d;
	int ret;

	if (user && !vs_hash_is_uuid(user))
		return vs_fail(VS_ERR, VS_E_INVALID, "user must be a UUID");
	if (video && (ret = vs_catalog_resolve(db, video, id, &d)) < 0)
		return ret;
	{
		const char *p[] = {user, video ? id : NULL};

		return vs_db_query_json(db,
		                        "SELECT " VS_PROGRESS_ROW_JSON " FROM video_progress p WHERE last_watched_at IS NOT NULL"
		                        " AND ($1::uuid IS NULL OR user_id = $1::uuid)"
		                        " AND ($2::uuid IS NULL OR video_id = $2::uuid) ORDER BY updated_at DESC",
		                        2, p, out);
	}
}

double vs_progress_parse_time(const char *s)
{
	double t;

	return vs_clock_parse_time(s, false, 0, &t) == 0 && t > 0 ? t : NAN;
}

/* The event of an import between its check and its store (strings
 * borrowed from its record). */
struct import {
	struct vs_progress_rules rules;
	const char *user, *video;
	double position_s, duration_s, at;
};

static int import_check(json_t *ev, void *ctx)
{
	struct import *im = ctx;
	/* the API's names (an exported row imports again), or the short ones */
	json_t *pos = json_object_get(ev, "current_time"), *dur = json_object_get(ev, "duration");
	json_t *at = json_object_get(ev, "last_watched_at");
	const char *user = vs_json_str(ev, "user_id"), *video = vs_json_str(ev, "video_id");
	double when;

	if (vs_record_failed(ev))
		return 1; /* an earlier tool's error record: not an event */
	when = vs_clock_now();
	if (!pos || json_is_null(pos))
		pos = json_object_get(ev, "position");
	if (!at || json_is_null(at))
		at = json_object_get(ev, "at");
	if (!user)
		user = vs_json_str(ev, "user");
	if (!video)
		video = vs_json_str(ev, "video");

	if (!json_is_number(pos) || (dur && !json_is_null(dur) && !json_is_number(dur)))
		return vs_fail(VS_ERR, VS_E_INVALID, "'current_time' (or 'position', and 'duration') must be numbers");
	if (!user || !video)
		return vs_fail(VS_ERR, VS_E_INVALID, "'user_id' and 'video_id' (or 'user' and 'video') are required");
	if (at && json_is_number(at))
		when = json_number_value(at);
	else if (at && json_is_string(at))
		when = vs_progress_parse_time(json_string_value(at));
	if (!isfinite(when))
		return vs_fail(VS_ERR, VS_E_INVALID, "'last_watched_at' (or 'at') is not a time");
	im->user = user;
	im->video = video;
	im->position_s = json_number_value(pos);
	im->duration_s = json_is_number(dur) ? json_number_value(dur) : 0;
	im->at = when;
	return 0;
}

static int import_store(PGconn *db, json_t *ev, void *ctx)
{
	struct import *im = ctx;

	(void)ev; /* import_check took what it needs */
	return vs_progress_record(db, im->user, im->video, im->position_s, im->duration_s, im->at, &im->rules, NULL);
}

int vs_progress_import(PGconn *db, FILE *in, const char *name, const struct vs_progress_rules *rules, int *status)
{
	struct import im = {.rules = *rules};
	struct vs_batch b = {
		.size = VS_PROGRESS_IMPORT_BATCH,
		.check = import_check,
		.store = import_store,
		.ctx = &im,
	};

	return vs_batch_import(db, in, name, &b, status);
}
