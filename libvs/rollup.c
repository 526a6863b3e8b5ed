#include <math.h>

#include "catalog.h"
#include "db.h"
#include "error.h"
#include "rollup.h"

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

static const char q_span[] =
	"SELECT extract(epoch FROM min(a.session_start))::float8, extract(epoch FROM max(a.session_start))::float8" WINDOW;


#define REPORT_WORK_MEM "64MB"

/* Windows up to this long are shown hour by hour, longer ones by day. */
#define HOURLY_UP_TO_S (3 * 86400.0)

/* Startup-time histogram edges, in milliseconds. */
const int vs_rollup_startup_edges_ms[] = {250, 500, 1000, 2000, 3000, 5000, 10000};
_Static_assert(VS_ARRAY_SIZE(vs_rollup_startup_edges_ms) + 1 == VS_ROLLUP_STARTUP_BINS, "a bin per edge, and one");


void vs_rollup_add(struct vs_rollup_figures *a, const struct vs_rollup_figures *b)
{
	a->views += b->views;
	a->started += b->started;
	a->completed += b->completed;
	a->watched_sum += b->watched_sum;
	a->start_failures += b->start_failures;
	a->errored += b->errored;
	a->watch_s += b->watch_s;
	a->buffering_ms += b->buffering_ms;
	a->buffering_events += b->buffering_events;
	a->switches += b->switches;
	a->seeks += b->seeks;
}

static void keyed_free(struct vs_rollup_keyed *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

void vs_rollup_release(struct vs_rollup *g)
{
	for (size_t i = 0; i < g->nvideos; i++)
		json_decref(g->videos[i].meta);
	free(g->videos);
	keyed_free(g->devices, g->ndevices);
	keyed_free(g->browsers, g->nbrowsers);
	keyed_free(g->os, g->nos);
	keyed_free(g->quality, g->nquality);
	free(g->periods);
	memset(g, 0, sizeof(*g));
}

/* Adds f under key (NULL: "unknown") to the list; VS_ERR out of memory. */
static int add_keyed(struct vs_rollup_keyed **list, size_t *n, const char *key, const struct vs_rollup_figures *f)
{
	struct vs_rollup_keyed *grown;

	if (!key)
		key = "unknown";
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i].key, key)) {
			vs_rollup_add(&(*list)[i].f, f);
			return 0;
		}
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	*list = grown;
	grown[*n].key = strdup(key);
	grown[*n].f = *f;
	if (!grown[*n].key)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	(*n)++;
	return 0;
}

static double value(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : atof(PQgetvalue(r, row, col));
}

struct params {
	char since[32], until[32];
	const char *p[4];
};

static void params_init(struct params *q, const struct vs_rollup_window *w)
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
		double views = value(r, i, 7);

		if (!v || strcmp(v->id, id)) { /* rows come by video */
			struct vs_rollup_video *grown = realloc(g->videos, (g->nvideos + 1) * sizeof(*grown));

			if (!grown)
				return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			g->videos = grown;
			v = &grown[g->nvideos++];
			memset(v, 0, sizeof(*v));
			snprintf(v->id, sizeof(v->id), "%s", id);
		}
		v->f.views += views;
		v->f.errored += errored ? views : 0;
		v->f.watch_s += value(r, i, 9);
		v->f.buffering_ms += value(r, i, 10);
		if (started) {
			int b = PQgetisnull(r, i, 3) ? 0 : atoi(PQgetvalue(r, i, 3));

			v->f.started += views;
			v->f.completed += completed ? views : 0;
			v->f.watched_sum += value(r, i, 8);
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
static int choose_period(PGconn *db, struct params *q, const struct vs_rollup_window *w, struct vs_rollup *g)
{
	double since = w->since, until = w->until;
	PGresult *r = NULL;
	int ret;

	if (!isfinite(since) || !isfinite(until)) {
		if ((ret = vs_db_exec(db, &r, q_span, 3, q->p)) < 0)
			return ret;
		if (!isfinite(since))
			since = value(r, 0, 0);
		if (!isfinite(until))
			until = value(r, 0, 1);
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
		double views = value(r, i, 7);
		struct vs_rollup_figures f = {
			.views = views,
			.started = started ? views : 0,
			.start_failures = !started && errored ? views : 0,
			.errored = errored ? views : 0,
			.watch_s = value(r, i, 8),
			.buffering_ms = value(r, i, 9),
			.buffering_events = value(r, i, 10),
			.switches = value(r, i, 11),
			.seeks = value(r, i, 12),
		};
		double start = value(r, i, 4);

		vs_rollup_add(&g->total, &f);
		if (g->nperiods == 0 || g->periods[g->nperiods - 1].start != start) {
			struct vs_rollup_period *grown = realloc(g->periods, (g->nperiods + 1) * sizeof(*grown));

			if (!grown) {
				ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
				break;
			}
			g->periods = grown;
			grown[g->nperiods++] = (struct vs_rollup_period){.start = start};
		}
		vs_rollup_add(&g->periods[g->nperiods - 1].f, &f);
		ret = add_keyed(&g->devices, &g->ndevices, vs_db_value(r, i, 0), &f);
		if (ret == 0)
			ret = add_keyed(&g->browsers, &g->nbrowsers, vs_db_value(r, i, 1), &f);
		if (ret == 0)
			ret = add_keyed(&g->os, &g->nos, vs_db_value(r, i, 2), &f);
		if (ret == 0 && vs_db_value(r, i, 3))
			ret = add_keyed(&g->quality, &g->nquality, vs_db_value(r, i, 3), &f);
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
	*ms = value(s->r, i, 6);
	*n = value(s->r, i, 7);
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
	size_t nedges = VS_ARRAY_SIZE(vs_rollup_startup_edges_ms);
	double total = 0, ms, n;

	for (int i = from; i < to; i++) {
		size_t b = 0;

		if (!startup_row(&s, i, &ms, &n))
			continue;
		while (b < nedges && ms >= vs_rollup_startup_edges_ms[b])
			b++;
		g->hist[b] += n;
		total += n;
	}
	g->p50 = total > 0 ? percentile(&s, total, 0.5) : NAN;
	g->p95 = total > 0 ? percentile(&s, total, 0.95) : NAN;
}

static int take_viewers(PGresult *r, struct vs_rollup *g)
{
	g->unique_viewers = value(r, 0, 0);
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

/* One scan: its statement, how many of the parameters it takes, and what
 * takes its rows. */
struct scan {
	unsigned flag;
	const char *sql, *sql_daily; /* sql_daily: for periods of a day */
	int (*take)(PGresult *r, struct vs_rollup *g);
};

static const struct scan scans_list[] = {
	/* the longest first: two connections take them in turn */
	{VS_ROLLUP_VIDEOS, q_by_video, NULL, take_videos},
	{VS_ROLLUP_AUDIENCE, q_by_audience_hour, q_by_audience_day, take_audience},
	{VS_ROLLUP_VIEWERS, q_viewers, NULL, take_viewers},
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

/*
 * Runs the scans asked for, two at a time when a second connection can be
 * had (the machine's two cores each run one), in one snapshot, and puts
 * their groups together in g.
 */
int vs_rollup_collect(PGconn *db, const struct vs_rollup_window *w, unsigned scans, struct vs_rollup *g)
{
	PGconn *conn[2] = {db, NULL};
	const struct scan *running[2] = {NULL, NULL};
	struct params q;
	size_t next = 0;
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
	if (ret == 0 && w->concurrent && __builtin_popcount(scans) > 1 && vs_db_connect_like(db, &conn[1]) == 0) {
		if (share_snapshot(db, conn[1]) == 0 && begin(conn[1], true) == 0)
			nconn = 2;
		vs_error_clear(); /* without a second connection, one does */
	}
	if (ret == 0)
		ret = begin(db, nconn == 2);
	while (ret == 0) {
		bool waiting[2] = {false, false};
		PGresult *r = NULL;
		int c;

		/* start a scan on every idle connection, then take the first result */
		for (c = 0; c < nconn && ret == 0; c++) {
			while (!running[c] && next < VS_ARRAY_SIZE(scans_list) && !(scans & scans_list[next].flag))
				next++;
			if (!running[c] && next < VS_ARRAY_SIZE(scans_list)) {
				running[c] = &scans_list[next++];
				ret = vs_db_send(conn[c],
				                 running[c]->sql_daily && !strcmp(g->period, "day") ? running[c]->sql_daily
				                                                                     : running[c]->sql,
				                 3, q.p);
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
	if (ret == 0 && (scans & VS_ROLLUP_VIDEOS) && g->nvideos > 0) {
		qsort(g->videos, g->nvideos, sizeof(*g->videos), by_views);
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

struct vs_rollup_figures vs_rollup_totals(const struct vs_rollup *g)
{
	struct vs_rollup_figures f = g->total;

	f.completed = g->completed;
	f.watched_sum = g->watched_sum;
	return f;
}
