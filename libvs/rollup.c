#include <math.h>

#include "catalog.h"
#include "db.h"
#include "error.h"
#include "rollup.h"
#include "rollupstore.h"

/*
 * How a report is made: four grouped scans of the window's sessions, each
 * over stored columns (what a session counts towards is worked out when it
 * is written, libvs/analytics), and the groups put together here (the
 * figures are made of them in libvs/report):
 *
 *   by video, started, watched_bucket   per-video figures, retention,
 *     and by startup time (ms)          percentiles, the histogram
 *   by device, browser, os, quality,    totals, audience, quality mix,
 *      period                           figures over time
 *   by viewer                           unique viewers
 *
 * two at a time on two connections. Every query takes $1 since and $2 until (seconds since the epoch, or
 * NULL) and $3 the video (uuid, or NULL for all).
 */
#define WINDOW \
	" FROM video_analytics a" \
	" WHERE ($1::float8 IS NULL OR a.session_start >= to_timestamp($1::float8))" \
	" AND ($2::float8 IS NULL OR a.session_start < to_timestamp($2::float8))" \
	" AND ($3::uuid IS NULL OR a.video_id = $3::uuid)"

/* By video (with flags in the key rather than FILTERed aggregates: fewer,
 * cheaper transitions per row), and in the same scan by startup time
 * (GROUPING tells the two sets apart: 1 by video, 2 by startup time). */
static const char q_by_video[] =
	"SELECT GROUPING(a.video_id, a.load_time_ms), a.video_id, a.started, a.watched_bucket, a.completed,"
	" a.error_count > 0, a.load_time_ms, count(*), sum(a.watched_percent), sum(a.watch_time_seconds),"
	" sum(a.buffering_time_ms::float8)" WINDOW
	" GROUP BY GROUPING SETS ((a.video_id, a.started, a.watched_bucket, a.completed, a.error_count > 0),"
	" (a.started, a.load_time_ms)) ORDER BY 1, 2, 7";

/* by hour or by day (stored columns, so that the planner knows how many
 * groups to expect) */
#define BY_AUDIENCE(period) \
	"SELECT a.device_type, a.browser, a.os, a.quality_selected, extract(epoch FROM a." period ")::float8, a.started," \
	" a.error_count > 0, count(*), sum(a.watch_time_seconds), sum(a.buffering_time_ms::float8)," \
	" sum(a.buffer_events), sum(a.quality_switches), sum(a.seek_events)" WINDOW \
	" GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 5"

static const char q_by_audience_hour[] = BY_AUDIENCE("started_hour");
static const char q_by_audience_day[] = BY_AUDIENCE("started_day");

/* (sorting a million integers beats hashing them here) */
static const char q_viewers[] = "SELECT count(DISTINCT a.viewer_key)" WINDOW;

/* What a window of few sessions reads exactly rather than estimates from
 * the rollups: unique viewers, startup p50 and p95 */
static const char q_exact_estimates[] =
	"SELECT count(DISTINCT a.viewer_key),"
	" percentile_cont(0.5) WITHIN GROUP (ORDER BY a.load_time_ms) FILTER (WHERE a.started),"
	" percentile_cont(0.95) WITHIN GROUP (ORDER BY a.load_time_ms) FILTER (WHERE a.started)" WINDOW;

static const char q_span[] =
	"SELECT extract(epoch FROM min(a.session_start))::float8, extract(epoch FROM max(a.session_start))::float8" WINDOW;


#define REPORT_WORK_MEM "64MB"

/* Windows up to this long are shown hour by hour, longer ones by day. */
#define HOURLY_UP_TO_S (3 * 86400.0)

static void params_init(struct vs_rollup_params *q, const struct vs_rollup_window *w)
{
	memset(q, 0, sizeof(*q));
	if (isfinite(w->since)) {
		snprintf(q->since, sizeof(q->since), "%.6f", w->since);
		q->p[0] = q->since;
	}
	if (isfinite(w->until)) {
		snprintf(q->until, sizeof(q->until), "%.6f", w->until);
		q->p[1] = q->until;
	}
	q->p[2] = w->video_id;
}

static void take_startup(PGresult *r, int from, int to, struct vs_rollup *g);

static int take_videos(PGresult *r, struct vs_rollup *g)
{
	struct vs_rollup_video *v = NULL;
	int i;

	for (i = 0; i < PQntuples(r) && atoi(PQgetvalue(r, i, 0)) == 1; i++) {
		const char *id = PQgetvalue(r, i, 1);
		bool started = !strcmp(PQgetvalue(r, i, 2), "t"), completed = !strcmp(PQgetvalue(r, i, 4), "t");
		bool errored = !strcmp(PQgetvalue(r, i, 5), "t");
		double views = vs_rollup_value(r, i, 7);

		if ((!v || strcmp(v->id, id)) && !(v = vs_rollup_new_video(g, id))) /* rows come by video */
			return VS_ERR;
		v->f.views += views;
		v->f.errored += errored ? views : 0;
		v->f.watch_s += vs_rollup_value(r, i, 9);
		v->f.buffering_ms += vs_rollup_value(r, i, 10);
		if (started) {
			int b = PQgetisnull(r, i, 3) ? 0 : atoi(PQgetvalue(r, i, 3));

			v->f.started += views;
			v->f.completed += completed ? views : 0;
			v->f.watched_sum += vs_rollup_value(r, i, 8);
			if (b >= 0 && b <= VS_ROLLUP_PERCENT_MAX)
				v->bucket[b] += views;
		} else if (errored) {
			v->f.start_failures += views;
		}
	}
	for (size_t k = 0; k < g->nvideos; k++) {
		g->completed += g->videos[k].f.completed;
		g->watched_sum += g->videos[k].f.watched_sum;
	}
	take_startup(r, i, PQntuples(r), g);
	return 0;
}

/* The period of over_time: hours for short windows, days for long ones
 * (an open window spans its first and last session). */
static int choose_period(PGconn *db, struct vs_rollup_params *q, const struct vs_rollup_window *w, struct vs_rollup *g)
{
	double since = w->since, until = w->until;
	PGresult *r = NULL;
	int ret;

	if (!isfinite(since) || !isfinite(until)) {
		if ((ret = vs_db_exec(db, &r, q_span, 3, q->p)) < 0)
			return ret;
		if (!isfinite(since))
			since = vs_rollup_value(r, 0, 0);
		if (!isfinite(until))
			until = vs_rollup_value(r, 0, 1);
		PQclear(r);
	}
	g->period = until - since <= HOURLY_UP_TO_S ? "hour" : "day";
	return 0;
}

static int take_audience(PGresult *r, struct vs_rollup *g)
{
	int ret = 0;

	for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
		bool started = !strcmp(PQgetvalue(r, i, 5), "t"), errored = !strcmp(PQgetvalue(r, i, 6), "t");
		double views = vs_rollup_value(r, i, 7);
		struct vs_rollup_figures f = {
			.views = views,
			.started = started ? views : 0,
			.start_failures = !started && errored ? views : 0,
			.errored = errored ? views : 0,
			.watch_s = vs_rollup_value(r, i, 8),
			.buffering_ms = vs_rollup_value(r, i, 9),
			.buffering_events = vs_rollup_value(r, i, 10),
			.switches = vs_rollup_value(r, i, 11),
			.seeks = vs_rollup_value(r, i, 12),
		};
		double start = vs_rollup_value(r, i, 4);

		vs_rollup_add(&g->total, &f);
		ret = vs_rollup_add_period(g, start, &f);
		if (ret == 0)
			ret = vs_rollup_add_keyed(&g->devices, &g->ndevices, vs_db_value(r, i, 0), &f);
		if (ret == 0)
			ret = vs_rollup_add_keyed(&g->browsers, &g->nbrowsers, vs_db_value(r, i, 1), &f);
		if (ret == 0)
			ret = vs_rollup_add_keyed(&g->os, &g->nos, vs_db_value(r, i, 2), &f);
		if (ret == 0 && vs_db_value(r, i, 3))
			ret = vs_rollup_add_keyed(&g->quality, &g->nquality, vs_db_value(r, i, 3), &f);
	}
	return ret;
}

/* Rows from..to-1 of r by startup time: (started, load_time_ms, count)
 * in columns 2, 6 and 7, ascending. */
struct startup_rows {
	const PGresult *r;
	int from, to;
};

static bool startup_row(const struct startup_rows *s, int i, double *ms, double *n)
{
	if (strcmp(PQgetvalue(s->r, i, 2), "t") || PQgetisnull(s->r, i, 6))
		return false; /* not started, or no startup time */
	*ms = vs_rollup_value(s->r, i, 6);
	*n = vs_rollup_value(s->r, i, 7);
	return true;
}

/* The value at fraction p of the sorted startup times (linear
 * interpolation between the two nearest, as percentile_cont). */
static double percentile(const struct startup_rows *s, double total, double p)
{
	double h = p * (total - 1), lo = NAN, seen = 0, v, n;

	for (int i = s->from; i < s->to; i++) {
		if (!startup_row(s, i, &v, &n))
			continue;
		if (isfinite(lo))
			return lo + (h - floor(h)) * (v - lo); /* the next order statistic */
		if (seen + n > floor(h)) {
			if (seen + n > floor(h) + 1 || h == floor(h))
				return v; /* both neighbours are this value */
			lo = v;
		}
		seen += n;
	}
	return lo;
}

static void take_startup(PGresult *r, int from, int to, struct vs_rollup *g)
{
	struct startup_rows s = {r, from, to};
	double total = 0, ms, n;

	for (int i = from; i < to; i++) {
		if (!startup_row(&s, i, &ms, &n))
			continue;
		g->hist[vs_rollup_startup_bin(ms)] += n;
		total += n;
	}
	g->p50 = total > 0 ? percentile(&s, total, 0.5) : NAN;
	g->p95 = total > 0 ? percentile(&s, total, 0.95) : NAN;
}

static int take_viewers(PGresult *r, struct vs_rollup *g)
{
	g->unique_viewers = vs_rollup_value(r, 0, 0);
	return 0;
}

/* Slug, title and duration of the videos, by id. */
static int video_meta(PGconn *db, struct vs_rollup *g, size_t n)
{
	json_t *ids = json_array(), *found = NULL;
	char *text;
	int ret;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_string(g->videos[i].id));
	text = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	if (!text)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = vs_catalog_titles(db, text, &found);
	free(text);
	for (size_t k = 0; ret == 0 && k < n; k++) {
		json_t *meta = json_object_get(found, g->videos[k].id);

		if (meta) {
			json_decref(g->videos[k].meta);
			g->videos[k].meta = json_incref(meta);
		}
	}
	json_decref(found);
	return ret;
}

/* Most views first, then by id, so that reports are stable. */
static int by_views(const void *a, const void *b)
{
	const struct vs_rollup_video *x = a, *y = b;

	if (x->f.views != y->f.views)
		return x->f.views < y->f.views ? 1 : -1;
	return strcmp(x->id, y->id);
}

static const struct vs_rollup_scan exact_scans[] = {
	/* the longest first: two connections take them in turn */
	{VS_ROLLUP_VIDEOS, q_by_video, NULL, 3, take_videos},
	{VS_ROLLUP_AUDIENCE, q_by_audience_hour, q_by_audience_day, 3, take_audience},
	{VS_ROLLUP_VIEWERS, q_viewers, NULL, 3, take_viewers},
};

/* Starts a transaction on c2 that sees what c1's sees. */
static int share_snapshot(PGconn *c1, PGconn *c2)
{
	PGresult *r = NULL;
	char *sql = NULL;
	int ret = vs_db_exec(c1, &r, "SELECT pg_export_snapshot()", 0, NULL);

	if (ret < 0)
		return ret;
	if (asprintf(&sql, "SET TRANSACTION SNAPSHOT '%s'", PQgetvalue(r, 0, 0)) < 0)
		sql = NULL;
	PQclear(r);
	if (!sql)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = vs_db_run(c2, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (ret == 0)
		ret = vs_db_run(c2, sql);
	free(sql);
	return ret;
}

static int begin(PGconn *c, bool concurrent)
{
	/* hash tables of a few hundred thousand viewers fit in memory; the
	 * queries are simple enough that compiling them costs more than it
	 * saves; two connections at once already keep two cores busy */
	int ret = vs_db_run(c, "SET LOCAL work_mem = '" REPORT_WORK_MEM "'");

	if (ret == 0)
		ret = vs_db_run(c, "SET LOCAL jit = off");
	if (ret == 0 && concurrent)
		ret = vs_db_run(c, "SET LOCAL max_parallel_workers_per_gather = 0");
	return ret;
}

/* Replaces the estimates of g (unique viewers, startup percentiles) by
 * the sessions' exact figures when the window holds at most
 * w->exact_up_to sessions: a read of that many rows at most. */
static int exact_estimates(PGconn *db, const struct vs_rollup_window *w, unsigned scans, struct vs_rollup *g)
{
	struct vs_rollup_params q;
	double views = g->total.views;
	PGresult *r = NULL;
	int ret;

	if (!(scans & VS_ROLLUP_AUDIENCE))
		for (size_t i = views = 0; i < g->nvideos; i++)
			views += g->videos[i].f.views;
	if (views > w->exact_up_to || !(scans & (VS_ROLLUP_VIEWERS | VS_ROLLUP_VIDEOS)))
		return 0;
	params_init(&q, w);
	if ((ret = vs_db_exec(db, &r, q_exact_estimates, 3, q.p)) < 0)
		return ret;
	if (scans & VS_ROLLUP_VIEWERS)
		g->unique_viewers = vs_rollup_value(r, 0, 0);
	if (scans & VS_ROLLUP_VIDEOS) {
		g->p50 = PQgetisnull(r, 0, 1) ? NAN : vs_rollup_value(r, 0, 1);
		g->p95 = PQgetisnull(r, 0, 2) ? NAN : vs_rollup_value(r, 0, 2);
	}
	PQclear(r);
	return 0;
}

/* Runs the scans of list asked for, two at a time when conn[1] is there
 * (the machine's two cores each run one), and puts their groups in g. */
static int run_scans(PGconn *const *conn, int nconn, const struct vs_rollup_scan *list, size_t nlist, unsigned scans,
                     const struct vs_rollup_params *q, struct vs_rollup *g)
{
	const struct vs_rollup_scan *running[2] = {NULL, NULL};
	size_t next = 0;
	int ret = 0;

	while (ret == 0) {
		bool waiting[2] = {false, false};
		PGresult *r = NULL;
		int c;

		/* start a scan on every idle connection, then take the first result */
		for (c = 0; c < nconn && ret == 0; c++) {
			while (!running[c] && next < nlist && !(scans & list[next].flag))
				next++;
			if (!running[c] && next < nlist) {
				running[c] = &list[next++];
				ret = vs_db_send(conn[c],
				                 running[c]->sql_daily && !strcmp(g->period, "day") ? running[c]->sql_daily
				                                                                     : running[c]->sql,
				                 running[c]->nparams, q->p);
			}
			waiting[c] = running[c] != NULL;
		}
		if (ret < 0 || !(waiting[0] || waiting[1]))
			break;
		if ((c = vs_db_ready(conn, waiting, nconn)) < 0) {
			ret = c;
			break;
		}
		ret = vs_db_receive(conn[c], &r);
		if (ret == 0)
			ret = running[c]->take(r, g);
		PQclear(r);
		running[c] = NULL;
	}
	for (int c = 0; c < nconn; c++) { /* an error may leave the other one running */
		PGresult *x;

		while (running[c] && (x = PQgetResult(conn[c])))
			PQclear(x);
	}
	return ret;
}

/*
 * Reads the rollups (a window over every video) or scans the sessions (one
 * video's, or w->exact), in one snapshot, on two connections when a second
 * can be had, and puts the groups together in g.
 */
int vs_rollup_collect(PGconn *db, const struct vs_rollup_window *w, unsigned scans, struct vs_rollup *g)
{
	PGconn *conn[2] = {db, NULL};
	bool stored = !w->exact && !w->video_id;
	struct vs_rollup_params q;
	int ret, nconn = 1;

	memset(g, 0, sizeof(*g));
	g->unique_viewers = -1;
	g->p50 = g->p95 = NAN;
	params_init(&q, w);
	/* a report is a read of one moment */
	if ((ret = vs_db_run(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) < 0)
		return ret;
	if (ret == 0 && (scans & VS_ROLLUP_AUDIENCE))
		ret = choose_period(db, &q, w, g);
	if (stored)
		vs_rollup_stored_params(&q, w);
	if (ret == 0 && w->concurrent && __builtin_popcount(scans) > 1 && vs_db_connect_like(db, &conn[1]) == 0) {
		if (share_snapshot(db, conn[1]) == 0 && begin(conn[1], true) == 0)
			nconn = 2;
		vs_error_clear(); /* without a second connection, one does */
	}
	if (ret == 0)
		ret = begin(db, nconn == 2);
	if (ret == 0)
		ret = stored ? run_scans(conn, nconn, vs_rollup_stored_scans, vs_rollup_nstored_scans, scans, &q, g)
		             : run_scans(conn, nconn, exact_scans, VS_ARRAY_SIZE(exact_scans), scans, &q, g);
	if (ret == 0 && stored)
		ret = exact_estimates(db, w, scans, g);
	if (ret == 0 && (scans & VS_ROLLUP_VIDEOS) && g->nvideos > 0) {
		qsort(g->videos, g->nvideos, sizeof(*g->videos), by_views);
		if (stored && w->curves > 0)
			ret = vs_rollup_stored_curves(db, w, g, g->nvideos < w->curves ? g->nvideos : w->curves);
		if (ret == 0)
			ret = video_meta(db, g, g->nvideos);
	}
	if (conn[1]) {
		vs_db_rollback(conn[1]);
		vs_db_close(conn[1]);
	}
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	else
		vs_db_rollback(db);
	if (ret < 0)
		vs_rollup_release(g);
	return ret;
}
