#include <math.h>

#include "catalog.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "hash.h"
#include "record.h"
#include "report.h"

/*
 * How a report is made: four grouped scans of the window's sessions, each
 * over stored columns (what a session counts towards is worked out when it
 * is written, libvs/analytics), and the figures put together here from the
 * groups:
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
static const int startup_edges_ms[] = {250, 500, 1000, 2000, 3000, 5000, 10000};

/* What adds up over views. */
struct figures {
	double views, started, completed, watched_sum, start_failures, errored;
	double watch_s, buffering_ms, buffering_events, switches, seeks;
};

static void add(struct figures *a, const struct figures *b)
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

/* x rounded to n decimals, or null when it is not a number (no views). */
static json_t *rounded(double x, int n)
{
	double k = pow(10, n);

	if (!isfinite(x))
		return json_null();
	return n == 0 ? json_integer((json_int_t)llround(x)) : json_real(round(x * k) / k);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

static json_t *engagement_json(const struct figures *f, double unique_viewers)
{
	json_t *o = json_object();

	json_object_set_new(o, "views", rounded(f->views, 0));
	if (unique_viewers >= 0)
		json_object_set_new(o, "unique_viewers", rounded(unique_viewers, 0));
	json_object_set_new(o, "watch_time_seconds", rounded(f->watch_s, 1));
	json_object_set_new(o, "average_watch_time_seconds", rounded(f->views > 0 ? f->watch_s / f->views : 0, 1));
	json_object_set_new(o, "completion_rate", rounded(100 * ratio(f->completed, f->started), 2));
	json_object_set_new(o, "average_percentage_watched", rounded(ratio(f->watched_sum, f->started), 2));
	return o;
}

static json_t *qoe_json(const struct figures *f, double p50, double p95, bool rates)
{
	json_t *o = json_object();

	if (rates) {
		json_object_set_new(o, "startup_time_ms_p50", rounded(p50, 0));
		json_object_set_new(o, "startup_time_ms_p95", rounded(p95, 0));
	}
	json_object_set_new(o, "video_start_success_rate",
	                    rounded(100 * ratio(f->started, f->started + f->start_failures), 2));
	json_object_set_new(o, "exits_before_start", rounded(f->views - f->started - f->start_failures, 0));
	json_object_set_new(o, "rebuffer_percentage", rounded(100 * ratio(f->buffering_ms / 1000, f->watch_s), 2));
	if (rates) {
		json_object_set_new(o, "rebuffer_frequency_per_minute", rounded(ratio(f->buffering_events, f->watch_s / 60), 3));
		json_object_set_new(o, "quality_switches_per_minute", rounded(ratio(f->switches, f->watch_s / 60), 3));
		json_object_set_new(o, "seeks_per_view", rounded(ratio(f->seeks, f->views), 2));
	}
	json_object_set_new(o, "error_rate", rounded(100 * ratio(f->errored, f->views), 2));
	return o;
}

/* ---- the window's groups ---- */

struct video_groups {
	char id[VS_UUID_LEN + 1];
	struct figures f;
	double bucket[VS_REPORT_RETENTION_POINTS + 1]; /* started views by whole percent reached */
	json_t *meta;                                   /* id, slug, title, duration */
};

struct keyed {
	char *key;
	struct figures f;
};

struct period {
	double start;
	struct figures f;
};

struct groups {
	struct video_groups *videos;
	size_t nvideos;
	struct keyed *devices, *browsers, *os, *quality;
	size_t ndevices, nbrowsers, nos, nquality;
	struct period *periods;
	size_t nperiods;
	const char *period;   /* "hour" or "day" */
	struct figures total; /* everything but completion, from the audience scan */
	double completed, watched_sum;
	double p50, p95;
	double hist[VS_ARRAY_SIZE(startup_edges_ms) + 1];
	double unique_viewers; /* -1: not counted */
};

static void keyed_free(struct keyed *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

static void groups_release(struct groups *g)
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
static int add_keyed(struct keyed **list, size_t *n, const char *key, const struct figures *f)
{
	struct keyed *grown;

	if (!key)
		key = "unknown";
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i].key, key)) {
			add(&(*list)[i].f, f);
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

static void params_init(struct params *q, const struct vs_report_opts *o, const char *video_id)
{
	memset(q, 0, sizeof(*q));
	if (isfinite(o->since)) {
		snprintf(q->since, sizeof(q->since), "%.6f", o->since);
		q->p[0] = q->since;
	}
	if (isfinite(o->until)) {
		snprintf(q->until, sizeof(q->until), "%.6f", o->until);
		q->p[1] = q->until;
	}
	q->p[2] = video_id;
}

static void take_startup(PGresult *r, int from, int to, struct groups *g);

static int take_videos(PGresult *r, struct groups *g)
{
	struct video_groups *v = NULL;
	int i;

	for (i = 0; i < PQntuples(r) && atoi(PQgetvalue(r, i, 0)) == 1; i++) {
		const char *id = PQgetvalue(r, i, 1);
		bool started = !strcmp(PQgetvalue(r, i, 2), "t"), completed = !strcmp(PQgetvalue(r, i, 4), "t");
		bool errored = !strcmp(PQgetvalue(r, i, 5), "t");
		double views = value(r, i, 7);

		if (!v || strcmp(v->id, id)) { /* rows come by video */
			struct video_groups *grown = realloc(g->videos, (g->nvideos + 1) * sizeof(*grown));

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
			if (b >= 0 && b <= VS_REPORT_RETENTION_POINTS)
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
static int choose_period(PGconn *db, struct params *q, const struct vs_report_opts *o, struct groups *g)
{
	double since = o->since, until = o->until;
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

static int take_audience(PGresult *r, struct groups *g)
{
	int ret = 0;

	for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
		bool started = !strcmp(PQgetvalue(r, i, 5), "t"), errored = !strcmp(PQgetvalue(r, i, 6), "t");
		double views = value(r, i, 7);
		struct figures f = {
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

		add(&g->total, &f);
		if (g->nperiods == 0 || g->periods[g->nperiods - 1].start != start) {
			struct period *grown = realloc(g->periods, (g->nperiods + 1) * sizeof(*grown));

			if (!grown) {
				ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
				break;
			}
			g->periods = grown;
			grown[g->nperiods++] = (struct period){.start = start};
		}
		add(&g->periods[g->nperiods - 1].f, &f);
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

static void take_startup(PGresult *r, int from, int to, struct groups *g)
{
	struct startup_rows s = {r, from, to};
	size_t nedges = VS_ARRAY_SIZE(startup_edges_ms);
	double total = 0, ms, n;

	for (int i = from; i < to; i++) {
		size_t b = 0;

		if (!startup_row(&s, i, &ms, &n))
			continue;
		while (b < nedges && ms >= startup_edges_ms[b])
			b++;
		g->hist[b] += n;
		total += n;
	}
	g->p50 = total > 0 ? percentile(&s, total, 0.5) : NAN;
	g->p95 = total > 0 ? percentile(&s, total, 0.95) : NAN;
}

static int take_viewers(PGresult *r, struct groups *g)
{
	g->unique_viewers = value(r, 0, 0);
	return 0;
}

/* Slug, title and duration of the videos, by id. */
static int video_meta(PGconn *db, struct groups *g, size_t n)
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
	const struct video_groups *x = a, *y = b;

	if (x->f.views != y->f.views)
		return x->f.views < y->f.views ? 1 : -1;
	return strcmp(x->id, y->id);
}

enum scans {
	SCAN_VIDEOS = 1 << 0,   /* and startup times */
	SCAN_AUDIENCE = 1 << 1,
	SCAN_VIEWERS = 1 << 2,
	SCAN_ALL = 0x7,
};

/* One scan: its statement, how many of the parameters it takes, and what
 * takes its rows. */
struct scan {
	unsigned flag;
	const char *sql, *sql_daily; /* sql_daily: for periods of a day */
	int (*take)(PGresult *r, struct groups *g);
};

static const struct scan scans_list[] = {
	/* the longest first: two connections take them in turn */
	{SCAN_VIDEOS, q_by_video, NULL, take_videos},
	{SCAN_AUDIENCE, q_by_audience_hour, q_by_audience_day, take_audience},
	{SCAN_VIEWERS, q_viewers, NULL, take_viewers},
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
static int collect(PGconn *db, const struct vs_report_opts *o, const char *video_id, unsigned scans,
                   struct groups *g)
{
	PGconn *conn[2] = {db, NULL};
	const struct scan *running[2] = {NULL, NULL};
	struct params q;
	size_t next = 0;
	int ret, nconn = 1;

	memset(g, 0, sizeof(*g));
	g->unique_viewers = -1;
	g->p50 = g->p95 = NAN;
	params_init(&q, o, video_id);
	/* a report is a read of one moment */
	if ((ret = vs_db_run(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) < 0)
		return ret;
	if (ret == 0 && (scans & SCAN_AUDIENCE))
		ret = choose_period(db, &q, o, g);
	if (ret == 0 && o->concurrent && __builtin_popcount(scans) > 1 && vs_db_connect_like(db, &conn[1]) == 0) {
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
	if (ret == 0 && (scans & SCAN_VIDEOS) && g->nvideos > 0) {
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
		groups_release(g);
	return ret;
}

/* ---- the report's sections ---- */

static json_t *window_json(const struct vs_report_opts *o)
{
	char a[32], b[32];

	if (isfinite(o->since))
		vs_format_time(o->since, a, sizeof(a));
	if (isfinite(o->until))
		vs_format_time(o->until, b, sizeof(b));
	return json_pack("{s:s?,s:s?}", "since", isfinite(o->since) ? a : NULL, "until", isfinite(o->until) ? b : NULL);
}

static json_t *report_new(const char *name, const struct vs_report_opts *o)
{
	return json_pack("{s:s,s:o}", "report", name, "window", window_json(o));
}

/* The totals: the audience scan has all but completion, which comes by
 * video. */
static struct figures totals(const struct groups *g)
{
	struct figures f = g->total;

	f.completed = g->completed;
	f.watched_sum = g->watched_sum;
	return f;
}

static json_t *histogram_json(const struct groups *g)
{
	json_t *h = json_array();
	size_t nedges = VS_ARRAY_SIZE(startup_edges_ms);

	for (size_t i = 0; i <= nedges; i++)
		json_array_append_new(h, json_pack("{s:i,s:o,s:o}", "from_ms", i ? startup_edges_ms[i - 1] : 0, "to_ms",
		                                   i < nedges ? json_integer(startup_edges_ms[i]) : json_null(), "views",
		                                   rounded(g->hist[i], 0)));
	return h;
}

/* Every period of the window (or of the sessions, for an open one), the
 * empty ones too. */
static json_t *over_time_json(const struct groups *g, const struct vs_report_opts *o)
{
	double step = !strcmp(g->period ? g->period : "day", "hour") ? 3600 : 86400, from, to;
	json_t *list = json_array();
	size_t k = 0;

	if (g->nperiods == 0 && !(isfinite(o->since) && isfinite(o->until)))
		return list;
	from = isfinite(o->since) ? floor(o->since / step) * step : g->periods[0].start;
	to = isfinite(o->until) ? ceil(o->until / step) * step - step : g->periods[g->nperiods - 1].start;
	if ((to - from) / step > 100000) /* not a window anyone reads period by period */
		from = to - 100000 * step;
	for (double t = from; t <= to; t += step) {
		struct figures f = {0};
		char when[32];
		json_t *row;

		while (k < g->nperiods && g->periods[k].start < t)
			k++;
		if (k < g->nperiods && g->periods[k].start == t)
			f = g->periods[k].f;
		vs_format_time(t, when, sizeof(when));
		row = json_pack("{s:s,s:o}", "start", when, "views", rounded(f.views, 0));
		json_object_update_new(row, qoe_json(&f, NAN, NAN, false));
		json_array_append_new(list, row);
	}
	return list;
}

/* A top list of (key, views, share) by views, at most limit rows. */
static json_t *top_json(struct keyed *k, size_t n, const char *name, int limit)
{
	json_t *list = json_array();
	double total = 0;

	for (size_t i = 0; i < n; i++)
		total += k[i].f.views;
	for (int row = 0; row < limit; row++) {
		size_t best = n;

		for (size_t i = 0; i < n; i++)
			if (k[i].key && (best == n || k[i].f.views > k[best].f.views ||
			                 (k[i].f.views == k[best].f.views && strcmp(k[i].key, k[best].key) < 0)))
				best = i;
		if (best == n)
			break;
		json_array_append_new(list, json_pack("{s:s,s:o,s:o}", name, k[best].key, "views", rounded(k[best].f.views, 0),
		                                      "share", rounded(100 * ratio(k[best].f.views, total), 2)));
		free(k[best].key);
		k[best].key = NULL; /* taken */
	}
	return list;
}

/* The mix of renditions: watch time by the rendition each view watched most. */
static json_t *quality_json(const struct groups *g)
{
	json_t *list = json_array();
	double total = 0;
	bool *done = calloc(g->nquality + 1, sizeof(bool));

	for (size_t i = 0; i < g->nquality; i++)
		total += g->quality[i].f.watch_s;
	for (size_t row = 0; done && row < g->nquality; row++) {
		size_t best = g->nquality;

		for (size_t i = 0; i < g->nquality; i++)
			if (!done[i] && (best == g->nquality || g->quality[i].f.watch_s > g->quality[best].f.watch_s))
				best = i;
		done[best] = true;
		json_array_append_new(list, json_pack("{s:s,s:o,s:o,s:o}", "quality", g->quality[best].key, "views",
		                                      rounded(g->quality[best].f.views, 0), "watch_time_seconds",
		                                      rounded(g->quality[best].f.watch_s, 1), "share",
		                                      rounded(100 * ratio(g->quality[best].f.watch_s, total), 2)));
	}
	free(done);
	return list;
}

static json_t *curve_json(const struct video_groups *v)
{
	double total = 0, still = 0, duration = 0;
	json_t *points = json_array();

	vs_json_number(v->meta, "duration", &duration);
	for (int k = 0; k <= VS_REPORT_RETENTION_POINTS; k++)
		total += v->bucket[k];
	/* still watching at k% = started views whose furthest point is at least k% */
	for (int k = VS_REPORT_RETENTION_POINTS; k >= 0; k--) {
		still += v->bucket[k];
		json_array_insert_new(points, 0,
		                      json_pack("{s:i,s:o,s:o}", "percent", k, "position_seconds",
		                                rounded(duration * k / VS_REPORT_RETENTION_POINTS, 1), "viewers_percent",
		                                rounded(total > 0 ? 100 * still / total : 0, 2)));
	}
	return json_pack("{s:o,s:o}", "views", rounded(total, 0), "points", points);
}

static json_t *video_row_json(const struct video_groups *v)
{
	json_t *row = v->meta ? json_deep_copy(v->meta) : json_pack("{s:s}", "id", v->id);
	json_t *e = engagement_json(&v->f, -1), *q = qoe_json(&v->f, NAN, NAN, false);

	json_object_update(row, e);
	json_object_set(row, "video_start_success_rate", json_object_get(q, "video_start_success_rate"));
	json_object_set(row, "rebuffer_percentage", json_object_get(q, "rebuffer_percentage"));
	json_object_set(row, "error_rate", json_object_get(q, "error_rate"));
	json_decref(e);
	json_decref(q);
	return row;
}

/* The sections of summary, video and qoe reports. */
static void figures_sections(json_t *rep, struct groups *g, const struct vs_report_opts *o, bool engagement)
{
	struct figures f = totals(g);

	if (engagement)
		json_object_set_new(rep, "engagement", engagement_json(&f, g->unique_viewers));
	json_object_set_new(rep, "qoe", qoe_json(&f, g->p50, g->p95, true));
	json_object_set_new(rep, "startup_histogram", histogram_json(g));
	json_object_set_new(rep, "over_time", over_time_json(g, o));
	json_object_set_new(rep, "quality_mix", quality_json(g));
	json_object_set_new(rep, "devices", top_json(g->devices, g->ndevices, "device_type", o->limit));
	json_object_set_new(rep, "browsers", top_json(g->browsers, g->nbrowsers, "browser", o->limit));
	json_object_set_new(rep, "os", top_json(g->os, g->nos, "os", o->limit));
}

static int finish(int ret, json_t *rep, json_t **out)
{
	*out = ret < 0 ? NULL : rep;
	if (ret < 0)
		json_decref(rep);
	return ret;
}

int vs_report_summary(PGconn *db, const struct vs_report_opts *o, json_t **out)
{
	json_t *rep = report_new("summary", o), *videos, *curves;
	struct groups g;
	int ret = collect(db, o, NULL, SCAN_ALL, &g);

	if (ret < 0)
		return finish(ret, rep, out);
	figures_sections(rep, &g, o, true);
	videos = json_array();
	curves = json_object();
	for (size_t i = 0; i < g.nvideos && i < (size_t)o->limit; i++) {
		json_array_append_new(videos, video_row_json(&g.videos[i]));
		if (i < (size_t)o->curves)
			json_object_set_new(curves, g.videos[i].id, curve_json(&g.videos[i]));
	}
	json_object_set_new(rep, "videos", videos);
	json_object_set_new(rep, "retention", curves);
	groups_release(&g);
	return finish(0, rep, out);
}

/* One video by id or slug: {"id","slug","title","duration"}. */
static int find_video(PGconn *db, const char *video, json_t **out)
{
	int ret;

	*out = NULL;
	if (!video || (!vs_is_uuid(video) && !vs_is_slug(video)))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not a video id or slug", video ? video : "");
	if ((ret = vs_catalog_describe(db, video, out)) < 0)
		return ret;
	return *out ? 0 : vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", video);
}

/* The video's curve, or an empty one when it has no sessions. */
static json_t *one_curve(struct groups *g, json_t *meta)
{
	struct video_groups none = {.meta = meta};

	if (g->nvideos == 1) {
		json_decref(g->videos[0].meta);
		g->videos[0].meta = json_incref(meta);
		return curve_json(&g->videos[0]);
	}
	return curve_json(&none);
}

int vs_report_video(PGconn *db, const char *video, const struct vs_report_opts *o, json_t **out)
{
	json_t *rep = report_new("video", o), *v = NULL, *curves;
	struct groups g;
	int ret;

	if ((ret = find_video(db, video, &v)) < 0 || (ret = collect(db, o, vs_json_str(v, "id"), SCAN_ALL, &g)) < 0) {
		json_decref(v);
		return finish(ret, rep, out);
	}
	json_object_set_new(rep, "video", v);
	figures_sections(rep, &g, o, true);
	curves = json_object();
	json_object_set_new(curves, vs_json_str(v, "id"), one_curve(&g, v));
	json_object_set_new(rep, "retention", curves);
	groups_release(&g);
	return finish(0, rep, out);
}

int vs_report_qoe(PGconn *db, const struct vs_report_opts *o, json_t **out)
{
	json_t *rep = report_new("qoe", o);
	struct groups g;
	int ret = collect(db, o, NULL, SCAN_AUDIENCE | SCAN_VIDEOS, &g);

	if (ret < 0)
		return finish(ret, rep, out);
	figures_sections(rep, &g, o, false);
	groups_release(&g);
	return finish(0, rep, out);
}

int vs_report_retention(PGconn *db, const char *video, const struct vs_report_opts *o, json_t **out)
{
	json_t *rep = report_new("retention", o), *v = NULL, *curve;
	struct groups g;
	int ret;

	if ((ret = find_video(db, video, &v)) < 0 || (ret = collect(db, o, vs_json_str(v, "id"), SCAN_VIDEOS, &g)) < 0) {
		json_decref(v);
		return finish(ret, rep, out);
	}
	json_object_set_new(rep, "video", v);
	curve = one_curve(&g, v);
	json_object_update(rep, curve);
	json_decref(curve);
	groups_release(&g);
	return finish(0, rep, out);
}

static void alert(json_t *list, const char *severity, const char *metric, const char *scope, double value,
                  double threshold, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void alert(json_t *list, const char *severity, const char *metric, const char *scope, double value,
                  double threshold, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:o,s:f,s:s}", "severity", severity, "metric", metric, "scope",
	                                      scope, "value", rounded(value, 2), "threshold", threshold, "message", msg));
}

int vs_report_alerts(PGconn *db, const struct vs_report_opts *o, json_t **out)
{
	json_t *rep = report_new("alerts", o), *list = json_array();
	struct groups g;
	struct figures f = {0};
	double x;
	int ret = collect(db, o, NULL, SCAN_VIDEOS, &g), critical = 0, warning = 0;

	if (ret < 0) {
		json_decref(list);
		return finish(ret, rep, out);
	}
	for (size_t i = 0; i < g.nvideos; i++)
		add(&f, &g.videos[i].f);
	x = 100 * ratio(f.started, f.started + f.start_failures);
	if (isfinite(x) && x < VS_ALERT_START_SUCCESS_MIN) {
		alert(list, "critical", "video_start_success_rate", "all", x, VS_ALERT_START_SUCCESS_MIN,
		      "video start success %.2f%% is below %.0f%%", x, VS_ALERT_START_SUCCESS_MIN);
		critical++;
	}
	x = 100 * ratio(f.errored, f.views);
	if (isfinite(x) && x > VS_ALERT_ERROR_RATE_MAX) {
		alert(list, "critical", "error_rate", "all", x, VS_ALERT_ERROR_RATE_MAX,
		      "%.2f%% of views had an error, above %.0f%%", x, VS_ALERT_ERROR_RATE_MAX);
		critical++;
	}
	x = 100 * ratio(f.buffering_ms / 1000, f.watch_s);
	if (isfinite(x) && x > VS_ALERT_REBUFFER_MAX) {
		alert(list, "warning", "rebuffer_percentage", "all", x, VS_ALERT_REBUFFER_MAX,
		      "viewers spent %.2f%% of their watch time buffering, above %.0f%%", x, VS_ALERT_REBUFFER_MAX);
		warning++;
	}
	for (size_t i = 0; i < g.nvideos; i++) {
		const char *slug = vs_json_str(g.videos[i].meta, "slug") ? vs_json_str(g.videos[i].meta, "slug") : g.videos[i].id;

		x = 100 * ratio(g.videos[i].f.completed, g.videos[i].f.started);
		if (g.videos[i].f.started >= o->min_views && isfinite(x) && x < VS_ALERT_COMPLETION_MIN) {
			alert(list, "warning", "completion_rate", slug, x, VS_ALERT_COMPLETION_MIN,
			      "'%s': %.2f%% of started views completed, below %.0f%%", slug, x, VS_ALERT_COMPLETION_MIN);
			warning++;
		}
	}
	json_object_set_new(rep, "views", rounded(f.views, 0));
	json_object_set_new(rep, "alerts", list);
	json_object_set_new(rep, "critical", json_integer(critical));
	json_object_set_new(rep, "warning", json_integer(warning));
	groups_release(&g);
	return finish(0, rep, out);
}

int vs_report_video_brief(PGconn *db, const char *video_id, json_t **out)
{
	struct vs_report_opts o = VS_REPORT_OPTS_INIT;
	struct groups g;
	struct figures f;
	json_t *brief, *q;
	int ret = collect(db, &o, video_id, SCAN_ALL, &g);

	*out = NULL;
	if (ret < 0)
		return ret;
	f = totals(&g);
	brief = engagement_json(&f, g.unique_viewers);
	q = qoe_json(&f, g.p50, g.p95, true);
	json_object_update(brief, q);
	json_decref(q);
	groups_release(&g);
	*out = brief;
	return 0;
}
