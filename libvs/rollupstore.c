#include <math.h>

#include "db.h"
#include "error.h"
#include "rollupstore.h"

/*
 * The scans of the stored rollups (sql/009_analytics_rollups.sql) for a
 * window over every video: the rows of the whole hours in it, and, for the
 * parts of hours at its ends, the sessions themselves, each through
 * analytics_contrib() as the triggers fold them in. Every statement takes
 * $1 since and $2 until (seconds since the epoch, or NULL), $3 and $4 the
 * first and the end of its whole hours (NULL: unbounded); the sessions
 * read are those in [$1, $3) and [$4, $2).
 */
#define ROLLED(col) \
	" WHERE ($3::float8 IS NULL OR " col " >= to_timestamp($3::float8))" \
	" AND ($4::float8 IS NULL OR " col " < to_timestamp($4::float8))"

#define EDGE_FROM " FROM video_analytics a CROSS JOIN LATERAL analytics_contrib(a) c"
#define EDGE_WHERE \
	" WHERE (($1::float8 IS NOT NULL AND a.session_start >= to_timestamp($1::float8)" \
	" AND a.session_start < to_timestamp($3::float8))" \
	" OR ($2::float8 IS NOT NULL AND a.session_start >= to_timestamp($4::float8)" \
	" AND a.session_start < to_timestamp($2::float8)))"

static const char q_videos[] =
	"SELECT s.video_id, sum(s.views), sum(s.started), sum(s.completed), sum(s.watched_percent),"
	" sum(s.start_failures), sum(s.errored), sum(s.watch_seconds), sum(s.buffering_ms) FROM ("
	"SELECT r.video_id, r.views, r.started, r.completed, r.watched_percent, r.start_failures, r.errored,"
	" r.watch_seconds, r.buffering_ms FROM analytics_video_hours r" ROLLED("r.hour")
	" UNION ALL SELECT c.video_id, c.views, c.started, c.completed, c.watched_percent, c.start_failures,"
	" c.errored, c.watch_seconds, c.buffering_ms" EDGE_FROM EDGE_WHERE
	") s GROUP BY 1 HAVING sum(s.views) > 0";

/* (bin, its floor, the next bin's floor (the last bin's own: it is open),
 * views) in order */
static const char q_startup[] =
	"SELECT s.bin, analytics_startup_bin_floor(s.bin),"
	" analytics_startup_bin_floor(CASE WHEN s.bin < analytics_startup_bin(2147483647) THEN s.bin + 1 ELSE s.bin END),"
	" sum(s.views) FROM ("
	"SELECT r.bin, r.views FROM analytics_startup_hours r" ROLLED("r.hour")
	" UNION ALL SELECT c.startup_bin, 1" EDGE_FROM EDGE_WHERE " AND c.startup_bin IS NOT NULL"
	") s GROUP BY 1 HAVING sum(s.views) > 0 ORDER BY 1";

/* (dimension, key, period start, figures) by period */
#define AUDIENCE(period) \
	"SELECT s.dimension, s.key, extract(epoch FROM " period ")::float8, sum(s.views), sum(s.started)," \
	" sum(s.start_failures), sum(s.errored), sum(s.watch_seconds), sum(s.buffering_ms), sum(s.buffer_events)," \
	" sum(s.quality_switches), sum(s.seek_events) FROM (" \
	"SELECT r.hour, r.dimension, r.key, r.views, r.started, r.start_failures, r.errored, r.watch_seconds," \
	" r.buffering_ms, r.buffer_events, r.quality_switches, r.seek_events FROM analytics_audience_hours r" \
	ROLLED("r.hour") \
	" UNION ALL SELECT c.hour, d.dimension, d.key, c.views, c.started, c.start_failures, c.errored," \
	" c.watch_seconds, c.buffering_ms, c.buffer_events, c.quality_switches, c.seek_events" EDGE_FROM \
	" CROSS JOIN LATERAL (VALUES ('all', ''), ('device', c.device), ('browser', c.browser), ('os', c.os)," \
	" ('quality', c.quality)) d (dimension, key)" EDGE_WHERE \
	") s GROUP BY 1, 2, 3 HAVING sum(s.views) > 0 ORDER BY 3, 1, 2"

static const char q_audience_hour[] = AUDIENCE("s.hour");
static const char q_audience_day[] = AUDIENCE("date_bin('1 day', s.hour, timestamptz '2000-01-01 00:00:00+00')");

/* (registers, NULL, NULL) an hour, (NULL, register, rank) of the edges */
static const char q_viewers[] =
	"SELECT r.registers, NULL::integer, NULL::integer FROM analytics_viewer_hours r" ROLLED("r.hour")
	" UNION ALL SELECT NULL, c.viewer_register, max(c.viewer_rank)" EDGE_FROM EDGE_WHERE " GROUP BY 2";

/* (video, bucket, started views) of the videos $5, by day ($3, $4: days) */
static const char q_curves[] =
	"SELECT s.video_id, s.bucket, sum(s.n) FROM ("
	"SELECT r.video_id, u.i - 1 AS bucket, u.n FROM analytics_video_days r"
	" CROSS JOIN LATERAL unnest(r.retention) WITH ORDINALITY u (n, i)" ROLLED("r.day")
	" AND r.video_id = ANY($5::uuid[]) AND u.n <> 0"
	" UNION ALL SELECT c.video_id, c.bucket, 1" EDGE_FROM EDGE_WHERE
	" AND a.video_id = ANY($5::uuid[]) AND c.bucket IS NOT NULL) s GROUP BY 1, 2";

#define HOUR_S 3600.0
#define DAY_S 86400.0

/* HyperLogLog registers (sql/009_analytics_rollups.sql) */
#define VIEWER_REGISTERS 2048

static int take_videos(PGresult *r, struct vs_rollup *g)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct vs_rollup_video *v = vs_rollup_new_video(g, PQgetvalue(r, i, 0));

		if (!v)
			return VS_ERR;
		v->f.views = vs_rollup_value(r, i, 1);
		v->f.started = vs_rollup_value(r, i, 2);
		v->f.completed = vs_rollup_value(r, i, 3);
		v->f.watched_sum = vs_rollup_value(r, i, 4);
		v->f.start_failures = vs_rollup_value(r, i, 5);
		v->f.errored = vs_rollup_value(r, i, 6);
		v->f.watch_s = vs_rollup_value(r, i, 7);
		v->f.buffering_ms = vs_rollup_value(r, i, 8);
		g->completed += v->f.completed;
		g->watched_sum += v->f.watched_sum;
	}
	return 0;
}

/* The k-th smallest startup time (from 0), the views of a bin taken as
 * spread evenly across it (whole milliseconds: bin [lo, hi) is the
 * integers lo to hi - 1, spread over [lo - 0.5, hi - 0.5)). */
static double order_statistic(const PGresult *r, double k)
{
	double seen = 0;

	for (int i = 0; i < PQntuples(r); i++) {
		double lo = vs_rollup_value(r, i, 1), hi = vs_rollup_value(r, i, 2), n = vs_rollup_value(r, i, 3);

		if (seen + n > k)
			return lo - 0.5 + (hi - lo) * (k - seen + 0.5) / n;
		seen += n;
	}
	return NAN;
}

/* The startup time at fraction p of the views, interpolated between the
 * two nearest as percentile_cont does. */
static double percentile(const PGresult *r, double total, double p)
{
	double h = p * (total - 1), lo = order_statistic(r, floor(h));

	if (h == floor(h))
		return lo;
	return lo + (h - floor(h)) * (order_statistic(r, floor(h) + 1) - lo);
}

static int take_startup(PGresult *r, struct vs_rollup *g)
{
	double total = 0;

	for (int i = 0; i < PQntuples(r); i++) {
		double n = vs_rollup_value(r, i, 3);

		/* every edge of the histogram is an edge of the bins */
		g->hist[vs_rollup_startup_bin(vs_rollup_value(r, i, 1))] += n;
		total += n;
	}
	g->p50 = total > 0 ? percentile(r, total, 0.5) : NAN;
	g->p95 = total > 0 ? percentile(r, total, 0.95) : NAN;
	return 0;
}

static int take_audience(PGresult *r, struct vs_rollup *g)
{
	int ret = 0;

	for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
		const char *dim = PQgetvalue(r, i, 0), *key = PQgetvalue(r, i, 1);
		struct vs_rollup_figures f = {
			.views = vs_rollup_value(r, i, 3),
			.started = vs_rollup_value(r, i, 4),
			.start_failures = vs_rollup_value(r, i, 5),
			.errored = vs_rollup_value(r, i, 6),
			.watch_s = vs_rollup_value(r, i, 7),
			.buffering_ms = vs_rollup_value(r, i, 8),
			.buffering_events = vs_rollup_value(r, i, 9),
			.switches = vs_rollup_value(r, i, 10),
			.seeks = vs_rollup_value(r, i, 11),
		};

		if (!strcmp(dim, "all")) {
			vs_rollup_add(&g->total, &f);
			ret = vs_rollup_add_period(g, vs_rollup_value(r, i, 2), &f);
		} else if (!strcmp(dim, "quality")) {
			if (*key) /* views without a rendition are in no row of the mix */
				ret = vs_rollup_add_keyed(&g->quality, &g->nquality, key, &f);
		} else {
			bool device = !strcmp(dim, "device"), browser = !strcmp(dim, "browser");

			ret = vs_rollup_add_keyed(device ? &g->devices : browser ? &g->browsers : &g->os,
			                          device ? &g->ndevices : browser ? &g->nbrowsers : &g->nos,
			                          *key ? key : NULL, &f);
		}
	}
	return ret;
}

/* The number of distinct viewers that registers M suggest (Flajolet,
 * Fusy, Gandouet, Meunier 2007; linear counting while it is the better). */
static double hll_estimate(const unsigned char *M, int m)
{
	double alpha = 0.7213 / (1 + 1.079 / m), sum = 0, e;
	int zeros = 0;

	for (int j = 0; j < m; j++) {
		sum += ldexp(1, -M[j]);
		zeros += M[j] == 0;
	}
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros > 0)
		e = m * log((double)m / zeros);
	return e;
}

static int take_viewers(PGresult *r, struct vs_rollup *g)
{
	unsigned char M[VIEWER_REGISTERS] = {0};
	bool any = false;

	for (int i = 0; i < PQntuples(r); i++) {
		if (!PQgetisnull(r, i, 0)) {
			size_t len = 0;
			unsigned char *h = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 0), &len);

			if (!h)
				return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			for (size_t j = 0; j < len && j < VIEWER_REGISTERS; j++)
				M[j] = h[j] > M[j] ? h[j] : M[j];
			PQfreemem(h);
		} else {
			int reg = atoi(PQgetvalue(r, i, 1)), rank = atoi(PQgetvalue(r, i, 2));

			if (reg >= 0 && reg < VIEWER_REGISTERS && rank > M[reg])
				M[reg] = (unsigned char)rank;
		}
		any = true;
	}
	g->unique_viewers = any ? round(hll_estimate(M, VIEWER_REGISTERS)) : 0;
	return 0;
}

const struct vs_rollup_scan vs_rollup_stored_scans[] = {
	/* the longest first: two connections take them in turn */
	{VS_ROLLUP_VIDEOS, q_videos, NULL, 4, take_videos},
	{VS_ROLLUP_VIDEOS, q_startup, NULL, 4, take_startup},
	{VS_ROLLUP_AUDIENCE, q_audience_hour, q_audience_day, 4, take_audience},
	{VS_ROLLUP_VIEWERS, q_viewers, NULL, 4, take_viewers},
};
const size_t vs_rollup_nstored_scans = VS_ARRAY_SIZE(vs_rollup_stored_scans);

/* $3 and $4: the first and the end of the whole periods (of span
 * seconds, from the epoch) of w. */
static void whole_periods(struct vs_rollup_params *q, const struct vs_rollup_window *w, double span)
{
	double from = isfinite(w->since) ? ceil(w->since / span) * span : NAN;
	double to = isfinite(w->until) ? floor(w->until / span) * span : NAN;

	if (isfinite(from) && isfinite(to) && from > to)
		from = to = w->until; /* within one period: its sessions, no rollups */
	q->p[2] = q->p[3] = NULL;
	if (isfinite(from)) {
		snprintf(q->from, sizeof(q->from), "%.6f", from);
		q->p[2] = q->from;
	}
	if (isfinite(to)) {
		snprintf(q->to, sizeof(q->to), "%.6f", to);
		q->p[3] = q->to;
	}
}

void vs_rollup_stored_params(struct vs_rollup_params *q, const struct vs_rollup_window *w)
{
	whole_periods(q, w, HOUR_S);
}

int vs_rollup_stored_curves(PGconn *db, const struct vs_rollup_window *w, struct vs_rollup *g, size_t n)
{
	struct vs_rollup_params q = {.p = {NULL}};
	const char *p[5];
	PGresult *r = NULL;
	size_t cap = n * (VS_UUID_LEN + 1) + 3, len = 1;
	char *ids = malloc(cap);
	int ret;

	if (!ids)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ids[0] = '{'; /* an array of uuid */
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(ids + len, cap - len, "%s%s", i ? "," : "", g->videos[i].id);
	snprintf(ids + len, cap - len, "}");
	if (isfinite(w->since))
		snprintf(q.since, sizeof(q.since), "%.6f", w->since);
	if (isfinite(w->until))
		snprintf(q.until, sizeof(q.until), "%.6f", w->until);
	whole_periods(&q, w, DAY_S);
	p[0] = isfinite(w->since) ? q.since : NULL;
	p[1] = isfinite(w->until) ? q.until : NULL;
	p[2] = q.p[2];
	p[3] = q.p[3];
	p[4] = ids;
	ret = vs_db_exec(db, &r, q_curves, 5, p);
	free(ids);
	for (int i = 0; ret == 0 && i < PQntuples(r); i++) {
		int b = atoi(PQgetvalue(r, i, 1));

		for (size_t k = 0; k < n; k++)
			if (!strcmp(g->videos[k].id, PQgetvalue(r, i, 0)) && b >= 0 && b <= VS_ROLLUP_PERCENT_MAX)
				g->videos[k].bucket[b] += vs_rollup_value(r, i, 2);
	}
	PQclear(r);
	return ret;
}

static const char q_rollup_state[] =
	"SELECT (SELECT count(*) FROM video_analytics), coalesce(sum(views), 0), count(*),"
	" to_char(min(hour) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" to_char(max(hour) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	" FROM analytics_audience_hours WHERE dimension = 'all'";

int vs_rollup_maintain(PGconn *db, bool rebuild, json_t **out)
{
	PGresult *r = NULL;
	int ret = 0;

	*out = NULL;
	if (rebuild) {
		ret = vs_db_run(db, "BEGIN");
		if (ret == 0)
			ret = vs_db_run(db, "SELECT analytics_rollup_rebuild()");
		if (ret == 0)
			ret = vs_db_run(db, "COMMIT");
		else
			vs_db_rollback(db);
	}
	if (ret == 0)
		ret = vs_db_exec(db, &r, q_rollup_state, 0, NULL);
	if (ret < 0)
		return ret;
	*out = json_pack("{s:{s:b,s:I,s:I,s:I,s:s?,s:s?}}", "rollup", "rebuilt", rebuild, "sessions",
	                 (json_int_t)atoll(PQgetvalue(r, 0, 0)), "rolled_up", (json_int_t)atoll(PQgetvalue(r, 0, 1)),
	                 "hours", (json_int_t)atoll(PQgetvalue(r, 0, 2)), "first_hour", vs_db_value(r, 0, 3),
	                 "last_hour", vs_db_value(r, 0, 4));
	PQclear(r);
	return *out ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}
