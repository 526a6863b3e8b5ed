#include <math.h>

#include "db.h"
#include "error.h"
#include "hash.h"
#include "progress.h"
#include "record.h"

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
	/* complete at the share, or in the tail, whichever comes first; the
	 * tail counts only for videos longer than twice the tail, or every
	 * short video would be complete from its first second */
	threshold = dur * r->complete_share;
	if (dur > 2 * r->complete_tail_s)
		threshold = fmin(threshold, dur - r->complete_tail_s);
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

static int resolve_video(PGconn *db, const char *video, char id[VS_UUID_LEN + 1], double *duration)
{
	const char *p[] = {video};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r,
	                     vs_is_uuid(video) ? "SELECT id, duration_seconds FROM videos WHERE id = $1::uuid"
	                                       : "SELECT id, duration_seconds FROM videos WHERE slug = $1",
	                     1, p);

	if (ret < 0)
		return ret;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", video);
	}
	snprintf(id, VS_UUID_LEN + 1, "%s", PQgetvalue(r, 0, 0));
	*duration = PQgetisnull(r, 0, 1) ? 0 : atof(PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

static const char row_json[] =
	"json_build_object('user', user_id, 'video', video_id,"
	" 'position', round(position_seconds::numeric, 3),"
	" 'completed_percentage', round(completed_percentage::numeric, 2), 'completed', completed,"
	" 'completed_at', to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
	" 'watch_count', watch_count,"
	" 'last_event_at', to_char(last_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
	" 'updated_at', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))::text";

int vs_progress_record(PGconn *db, const char *user, const char *video, double position_s,
                       double duration_s, double at, const struct vs_progress_rules *rules,
                       json_t **row)
{
	char id[VS_UUID_LEN + 1], n[6][48];
	struct vs_progress old = {0}, now;
	struct vs_progress_event ev = {position_s, duration_s, at};
	bool own_tx = PQtransactionStatus(db) == PQTRANS_IDLE;
	PGresult *r = NULL;
	double vdur = 0;
	int ret, changed;

	if (row)
		*row = NULL;
	if (!user || !vs_is_uuid(user))
		return vs_fail(VS_ERR, VS_E_INVALID, "user must be a UUID");
	if ((ret = resolve_video(db, video, id, &vdur)) < 0)
		return ret;
	if (!(ev.duration_s > 0))
		ev.duration_s = vdur;
	if (own_tx && (ret = vs_db_run(db, "BEGIN")) < 0)
		return ret;
	{
		const char *p[] = {user, id};

		/* the row exists, then is locked: concurrent devices queue here */
		ret = vs_db_exec(db, NULL,
		                 "INSERT INTO video_progress (user_id, video_id) VALUES ($1, $2)"
		                 " ON CONFLICT DO NOTHING", 2, p);
		if (ret == 0)
			ret = vs_db_exec(db, &r,
			                 "SELECT position_seconds, completed_percentage, completed,"
			                 " extract(epoch FROM completed_at), watch_count,"
			                 " extract(epoch FROM last_event_at), finished_last"
			                 " FROM video_progress WHERE user_id = $1 AND video_id = $2 FOR UPDATE",
			                 2, p);
	}
	if (ret < 0)
		goto out;
	old.exists = !PQgetisnull(r, 0, 5);
	old.position_s = atof(PQgetvalue(r, 0, 0));
	old.completed_percentage = atof(PQgetvalue(r, 0, 1));
	old.completed = !strcmp(PQgetvalue(r, 0, 2), "t");
	old.completed_at = PQgetisnull(r, 0, 3) ? 0 : atof(PQgetvalue(r, 0, 3));
	old.watch_count = atoi(PQgetvalue(r, 0, 4));
	old.last_event = old.exists ? atof(PQgetvalue(r, 0, 5)) : 0;
	old.finished_last = !strcmp(PQgetvalue(r, 0, 6), "t");
	PQclear(r);
	r = NULL;
	changed = vs_progress_apply(&old, &ev, rules, &now);
	if (changed < 0) {
		ret = changed;
		goto out;
	}
	if (changed) {
		const char *p[] = {user, id, n[0], n[1], now.completed ? "t" : "f", n[2], n[3], n[4],
		                   now.finished_last ? "t" : "f"};

		snprintf(n[0], sizeof(n[0]), "%.3f", now.position_s);
		snprintf(n[1], sizeof(n[1]), "%.2f", now.completed_percentage);
		snprintf(n[2], sizeof(n[2]), "%.6f", now.completed_at);
		snprintf(n[3], sizeof(n[3]), "%d", now.watch_count);
		snprintf(n[4], sizeof(n[4]), "%.6f", now.last_event);
		ret = vs_db_exec(db, NULL,
		                 "UPDATE video_progress SET position_seconds = $3, completed_percentage = $4,"
		                 " completed = $5, completed_at = CASE WHEN $5 THEN to_timestamp($6) END,"
		                 " watch_count = $7, last_event_at = to_timestamp($8), finished_last = $9,"
		                 " updated_at = now() WHERE user_id = $1 AND video_id = $2", 9, p);
		if (ret < 0)
			goto out;
	}
	if (row) {
		const char *p[] = {user, id};
		char *sql = NULL;

		if (asprintf(&sql, "SELECT %s FROM video_progress WHERE user_id = $1 AND video_id = $2", row_json) >= 0) {
			ret = vs_db_exec(db, &r, sql, 2, p);
			if (ret == 0 && PQntuples(r) == 1)
				*row = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
		}
		free(sql);
	}
out:
	PQclear(r);
	if (own_tx) {
		if (ret == 0)
			ret = vs_db_run(db, "COMMIT");
		else
			vs_db_rollback(db);
	}
	return ret;
}

int vs_progress_get(PGconn *db, const char *user, const char *video, json_t *out)
{
	char *sql = NULL, id[VS_UUID_LEN + 1];
	PGresult *r = NULL;
	double d;
	int ret;

	if (user && !vs_is_uuid(user))
		return vs_fail(VS_ERR, VS_E_INVALID, "user must be a UUID");
	if (video && (ret = resolve_video(db, video, id, &d)) < 0)
		return ret;
	if (asprintf(&sql, "SELECT %s FROM video_progress WHERE last_event_at IS NOT NULL"
	                   " AND ($1::uuid IS NULL OR user_id = $1::uuid)"
	                   " AND ($2::uuid IS NULL OR video_id = $2::uuid) ORDER BY updated_at DESC",
	             row_json) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	{
		const char *p[] = {user, video ? id : NULL};

		ret = vs_db_exec(db, &r, sql, 2, p);
	}
	free(sql);
	for (int i = 0; ret == 0 && i < PQntuples(r); i++)
		json_array_append_new(out, json_loads(PQgetvalue(r, i, 0), 0, NULL));
	PQclear(r);
	return ret;
}
