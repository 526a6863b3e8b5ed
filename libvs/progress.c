#include <math.h>

#include "batch.h"
#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "hash.h"
#include "progress.h"
#include "record.h"

/*
 * The rules in one statement, over a set of events ev(line, user_id,
 * video_id, video, pos, dur, at): video_id the uuid the event names, or
 * NULL and video a slug; dur <= 0 or NULL for the video's own; at seconds
 * since the epoch. Parameters: $1 complete_share, $2 complete_tail_s,
 * $3 idle_s, $4 whether to return the rows.
 *
 * For each viewer and video: the events later than the row's last one and
 * than every earlier line's (last write wins by event time, in input
 * order), each compared with the one before it (the row's state for the
 * first) for the watch count, the high-water completion and the moment it
 * completed; then the row updated if it is still the one read (its last
 * event time unchanged: a compare-and-set, no lock held), or made.
 * Rows (line, message, code, row):
 *
 *   (line, message, code, NULL)  an event refused: no video, no duration
 *   (0, NULL, NULL, NULL)        rows another writer changed or made
 *                                meanwhile: the statement runs again (it
 *                                is idempotent: the events applied are no
 *                                longer later than the row's last)
 *   (-1, NULL, NULL, json)       with $4, each row touched, as JSON
 */
#define PROGRESS_APPLY(source) \
	"WITH ev AS (" source ")," \
	" res AS (SELECT e.line, e.user_id, coalesce(vi.id, vs.id) AS video_id, e.video, e.pos, e.at," \
	"   CASE WHEN e.dur > 0 THEN e.dur ELSE coalesce(vi.duration_exact_seconds, vs.duration_exact_seconds) END AS d" \
	"   FROM ev e LEFT JOIN videos vi ON vi.id = e.video_id" \
	"   LEFT JOIN videos vs ON e.video_id IS NULL AND vs.slug = e.video)," \
	" ok AS (SELECT * FROM res WHERE video_id IS NOT NULL AND d > 0 AND d < 'Infinity')," \
	" cur AS (SELECT p.*, p.ctid AS row_tid, extract(epoch FROM p.last_watched_at)::float8 AS last_at FROM video_progress p" \
	"   WHERE (p.user_id, p.video_id) IN (SELECT user_id, video_id FROM ok))," \
	" k AS (SELECT o.*, c.user_id IS NOT NULL AS has_row, c.row_tid, c.last_watched_at AS row_ts, c.last_at AS row_at," \
	"   CASE WHEN c.last_at IS NULL THEN 0 ELSE c.completed_percentage END AS row_cp," \
	"   coalesce(c.finished_last, false) AS row_fin," \
	"   max(o.at) OVER (PARTITION BY o.user_id, o.video_id ORDER BY o.line" \
	"     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_at" \
	"   FROM ok o LEFT JOIN cur c ON c.user_id = o.user_id AND c.video_id = o.video_id)," \
	" kept AS (SELECT k.*, least(k.pos, k.d) AS p, " VS_PROGRESS_THRESHOLD_SQL("k.d", "$1", "$2") " AS thr" \
	"   FROM k WHERE k.at > coalesce(greatest(k.before_at, k.row_at), '-Infinity'))," \
	" s1 AS (SELECT kept.*, p >= thr AS fin," \
	"   least(100, round((p / d * 100.0 * 100.0)::numeric) / 100)::float8 AS pct FROM kept)," \
	" s2 AS (SELECT s1.*, coalesce(lag(fin) OVER w, row_fin) AS prev_fin, coalesce(lag(at) OVER w, row_at) AS prev_at," \
	"   greatest(row_cp, max(pct) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) AS cp_before," \
	"   lead(line) OVER w IS NULL AS last" \
	"   FROM s1 WINDOW w AS (PARTITION BY user_id, video_id ORDER BY line))," \
	/* running totals, whole on each viewer and video's last event */ \
	" f AS (SELECT * FROM (SELECT s2.*, max(pct) OVER w AS top," \
	"   count(*) FILTER (WHERE prev_at IS NULL OR (prev_fin AND NOT fin) OR at - prev_at > $3) OVER w AS sessions," \
	"   min(at) FILTER (WHERE greatest(cp_before * d / 100, p) >= thr) OVER w AS done_at" \
	"   FROM s2 WINDOW w AS (PARTITION BY user_id, video_id ORDER BY line)) t WHERE last)," \
	" upd AS (UPDATE video_progress AS p SET" \
	"   current_time_seconds = CASE WHEN f.fin THEN 0 ELSE round(f.p::numeric, 3)::float8 END," \
	"   completed_percentage = greatest(f.row_cp, f.top), is_completed = p.is_completed OR f.done_at IS NOT NULL," \
	"   completed_at = CASE WHEN p.is_completed THEN p.completed_at ELSE to_timestamp(f.done_at) END," \
	"   watch_count = p.watch_count + f.sessions, last_watched_at = to_timestamp(f.at), finished_last = f.fin," \
	"   updated_at = now()" \
	"   FROM f WHERE f.has_row AND p.ctid = f.row_tid AND p.user_id = f.user_id AND p.video_id = f.video_id" \
	"   AND p.last_watched_at IS NOT DISTINCT FROM f.row_ts RETURNING p.*)," \
	" ins AS (INSERT INTO video_progress AS p (user_id, video_id, current_time_seconds, completed_percentage," \
	"   is_completed, completed_at, watch_count, last_watched_at, finished_last)" \
	"   SELECT user_id, video_id, CASE WHEN fin THEN 0 ELSE round(p::numeric, 3)::float8 END, top," \
	"   done_at IS NOT NULL, to_timestamp(done_at), sessions, to_timestamp(at), fin FROM f WHERE NOT has_row" \
	"   ON CONFLICT (user_id, video_id) DO NOTHING RETURNING p.*)" \
	" SELECT line, CASE WHEN video_id IS NULL THEN format('no video ''%s''', video)" \
	"   ELSE 'the video has no duration' END," \
	"   CASE WHEN video_id IS NULL THEN '" VS_E_NOT_FOUND "' ELSE '" VS_E_INVALID "' END, NULL" \
	"   FROM res WHERE NOT (video_id IS NOT NULL AND d > 0 AND d < 'Infinity')" \
	" UNION ALL SELECT 0, NULL, NULL, NULL" \
	"   WHERE (SELECT count(*) FROM f) > (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)" \
	" UNION ALL SELECT -1, NULL, NULL, " VS_PROGRESS_ROW_JSON " FROM upd p WHERE $4" \
	" UNION ALL SELECT -1, NULL, NULL, " VS_PROGRESS_ROW_JSON " FROM ins p WHERE $4" \
	" UNION ALL SELECT -1, NULL, NULL, " VS_PROGRESS_ROW_JSON " FROM cur p WHERE $4 AND p.last_at IS NOT NULL" \
	"   AND NOT EXISTS (SELECT 1 FROM f WHERE f.user_id = p.user_id AND f.video_id = p.video_id)"

/* One event, from parameters $5.. */
static const char q_record[] = PROGRESS_APPLY(
	"SELECT 1::bigint AS line, $5::uuid AS user_id, $6::uuid AS video_id, $7::text AS video, $8::float8 AS pos,"
	" $9::float8 AS dur, $10::float8 AS at");

/* The events of an import, from its staging table. */
#define STAGE "vs_progress_stage"
#define STAGE_COLUMNS "line bigint, user_id uuid, video_id uuid, video text, pos float8, dur float8, at float8"
static const char q_import[] = PROGRESS_APPLY("SELECT * FROM " STAGE);

/* Events from before the epoch or after the year 9999 are not times. */
#define TIME_MAX 253402300799.0

/* The checks an event passes before it reaches the database. */
static int check_event(const char *user, double position_s, double at)
{
	if (!user || !vs_hash_is_uuid(user))
		return vs_fail(VS_ERR, VS_E_INVALID, "user must be a UUID");
	if (!isfinite(position_s) || position_s < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "position must be a finite number of seconds, at least 0");
	if (!(at > 0 && at <= TIME_MAX))
		return vs_fail(VS_ERR, VS_E_INVALID, "bad event time");
	return 0;
}

/* The rules as parameters $1..$3. */
struct rule_params {
	char share[32], tail[32], idle[32];
};

static void rule_params(const struct vs_progress_rules *r, struct rule_params *p)
{
	snprintf(p->share, sizeof(p->share), "%.17g", r->complete_share);
	snprintf(p->tail, sizeof(p->tail), "%.17g", r->complete_tail_s);
	snprintf(p->idle, sizeof(p->idle), "%.17g", r->idle_s);
}

/*
 * One statement, one round trip; a writer that another one overtook
 * between its read and its write runs it again.
 */
int vs_progress_record(PGconn *db, const char *user, const char *video, double position_s,
                       double duration_s, double at, const struct vs_progress_rules *rules,
                       json_t **row)
{
	struct rule_params rp;
	char pos[32], dur[32], when[32];
	bool by_id = vs_hash_is_uuid(video);
	const char *p[] = {rp.share, rp.tail, rp.idle, row ? "t" : "f", user, by_id ? video : NULL, video, pos, dur, when};
	int ret = check_event(user, position_s, at);

	if (row)
		*row = NULL;
	if (ret < 0)
		return ret;
	rule_params(rules, &rp);
	snprintf(pos, sizeof(pos), "%.17g", position_s);
	snprintf(dur, sizeof(dur), "%.17g", duration_s > 0 && isfinite(duration_s) ? duration_s : 0);
	snprintf(when, sizeof(when), "%.6f", at);
	for (int attempt = 0; attempt < VS_BATCH_APPLY_ATTEMPTS; attempt++) {
		PGresult *r = NULL;
		bool again = false;

		if ((ret = vs_db_exec(db, &r, q_record, VS_ARRAY_SIZE(p), p)) < 0)
			return ret;
		for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
			long long line = atoll(PQgetvalue(r, i, 0));

			if (line > 0)
				ret = vs_fail(VS_ERR, PQgetvalue(r, i, 2), "%s", PQgetvalue(r, i, 1));
			else if (line == 0)
				again = true;
			else if (row && !*row)
				*row = json_loads(PQgetvalue(r, i, 3), 0, NULL);
		}
		PQclear(r);
		if (ret < 0 || !again)
			return ret;
		if (row) {
			json_decref(*row);
			*row = NULL;
		}
	}
	return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "progress of '%s' on '%s' keeps changing: try again", user, video);
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

/* An import's event: its staging row, or the reason it is refused. */
static int import_row(json_t *ev, struct vs_batch_row *row, void *ctx)
{
	/* the API's names (an exported row imports again), or the short ones */
	json_t *pos = json_object_get(ev, "current_time"), *dur = json_object_get(ev, "duration");
	json_t *at = json_object_get(ev, "last_watched_at");
	const char *user = vs_json_str(ev, "user_id"), *video = vs_json_str(ev, "video_id");
	double when = vs_clock_now();
	int ret;

	(void)ctx;
	if (vs_record_failed(ev))
		return 1; /* an earlier tool's error record: not an event */
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
	else if (at && !json_is_null(at))
		when = NAN;
	if (!(when > 0 && when <= TIME_MAX))
		return vs_fail(VS_ERR, VS_E_INVALID, "'last_watched_at' (or 'at') is not a time");
	if ((ret = check_event(user, json_number_value(pos), when)) < 0)
		return ret;
	vs_batch_text(row, user);
	vs_batch_text(row, vs_hash_is_uuid(video) ? video : NULL);
	vs_batch_text(row, video);
	vs_batch_number(row, json_number_value(pos));
	vs_batch_number(row, json_is_number(dur) ? json_number_value(dur) : 0);
	vs_batch_number(row, when);
	return 0;
}

int vs_progress_import(PGconn *db, FILE *in, const char *name, const struct vs_progress_rules *rules, int *status)
{
	struct rule_params rp;
	const char *p[] = {rp.share, rp.tail, rp.idle, "f"};
	/* a transaction a chunk: a long import's chunks land as they go */
	struct vs_batch b = {.size = 1, .table = STAGE, .columns = STAGE_COLUMNS, .apply = q_import};

	b.nparams = VS_ARRAY_SIZE(p);
	b.params = p;
	b.row = import_row;

	rule_params(rules, &rp);
	return vs_batch_import(db, in, name, &b, status);
}
