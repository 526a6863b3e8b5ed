#include <math.h>

#include "catalog.h"
#include "clock.h"
#include "error.h"
#include "hash.h"
#include "record.h"
#include "report.h"
#include "rollup.h"
#include "slug.h"

/*
 * The figures of a report, as vs-report(1) defines them, from the groups
 * libvs/rollup makes of the window's sessions (the SQL is there).
 */

_Static_assert(VS_REPORT_RETENTION_POINTS == VS_ROLLUP_PERCENT_MAX, "a point of the curve per watched bucket");

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

static json_t *engagement_json(const struct vs_rollup_figures *f, double unique_viewers)
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

static json_t *qoe_json(const struct vs_rollup_figures *f, double p50, double p95, bool rates)
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

/* ---- the report's sections ---- */

static json_t *window_json(const struct vs_report_opts *o)
{
	char a[32], b[32];

	if (isfinite(o->since))
		vs_clock_format_time(o->since, a, sizeof(a));
	if (isfinite(o->until))
		vs_clock_format_time(o->until, b, sizeof(b));
	return json_pack("{s:s?,s:s?}", "since", isfinite(o->since) ? a : NULL, "until", isfinite(o->until) ? b : NULL);
}

static json_t *report_new(const char *name, const struct vs_report_opts *o)
{
	return json_pack("{s:s,s:o}", "report", name, "window", window_json(o));
}

static json_t *histogram_json(const struct vs_rollup *g)
{
	json_t *h = json_array();
	size_t nedges = VS_ROLLUP_STARTUP_BINS - 1;

	for (size_t i = 0; i <= nedges; i++)
		json_array_append_new(h, json_pack("{s:i,s:o,s:o}", "from_ms", i ? vs_rollup_startup_edges_ms[i - 1] : 0, "to_ms",
		                                   i < nedges ? json_integer(vs_rollup_startup_edges_ms[i]) : json_null(), "views",
		                                   rounded(g->hist[i], 0)));
	return h;
}

/* Every period of the window (or of the sessions, for an open one), the
 * empty ones too. */
static json_t *over_time_json(const struct vs_rollup *g, const struct vs_report_opts *o)
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
		struct vs_rollup_figures f = {0};
		char when[32];
		json_t *row;

		while (k < g->nperiods && g->periods[k].start < t)
			k++;
		if (k < g->nperiods && g->periods[k].start == t)
			f = g->periods[k].f;
		vs_clock_format_time(t, when, sizeof(when));
		row = json_pack("{s:s,s:o}", "start", when, "views", rounded(f.views, 0));
		json_object_update_new(row, qoe_json(&f, NAN, NAN, false));
		json_array_append_new(list, row);
	}
	return list;
}

/* A top list of (key, views, share) by views, at most limit rows. */
static json_t *top_json(struct vs_rollup_keyed *k, size_t n, const char *name, int limit)
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
static json_t *quality_json(const struct vs_rollup *g)
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

static json_t *curve_json(const struct vs_rollup_video *v)
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

static json_t *video_row_json(const struct vs_rollup_video *v)
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
static void figures_sections(json_t *rep, struct vs_rollup *g, const struct vs_report_opts *o, bool engagement)
{
	struct vs_rollup_figures f = vs_rollup_totals(g);

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

/* The groups of the sessions in o's window, of video_id (NULL: every video). */
static int collect(PGconn *db, const struct vs_report_opts *o, const char *video_id, unsigned scans,
                   struct vs_rollup *g)
{
	struct vs_rollup_window w = {o->since, o->until, video_id, o->concurrent, o->exact, (size_t)o->curves,
	                             o->exact_up_to};

	return vs_rollup_collect(db, &w, scans, g);
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
	struct vs_rollup g;
	int ret = collect(db, o, NULL, VS_ROLLUP_ALL, &g);

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
	vs_rollup_release(&g);
	return finish(0, rep, out);
}

/* One video by id or slug: {"id","slug","title","duration"}. */
static int find_video(PGconn *db, const char *video, json_t **out)
{
	int ret;

	*out = NULL;
	if (!video || (!vs_hash_is_uuid(video) && !vs_slug_valid(video)))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not a video id or slug", video ? video : "");
	if ((ret = vs_catalog_describe(db, video, out)) < 0)
		return ret;
	return *out ? 0 : vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", video);
}

/* The video's curve, or an empty one when it has no sessions. */
static json_t *one_curve(struct vs_rollup *g, json_t *meta)
{
	struct vs_rollup_video none = {.meta = meta};

	if (g->nvideos == 1) {
		json_decref(g->videos[0].meta);
		g->videos[0].meta = json_incref(meta);
		return curve_json(&g->videos[0]);
	}
	return curve_json(&none);
}

/* What a report of one video has besides "window" and "video" (v, its
 * meta), from its groups. */
typedef void video_sections_fn(json_t *rep, struct vs_rollup *g, json_t *v, const struct vs_report_opts *o);

/* A report of kind on one video (id or slug), of the scans asked for. */
static int video_report(PGconn *db, const char *kind, const char *video, const struct vs_report_opts *o,
                        unsigned scans, video_sections_fn *sections, json_t **out)
{
	json_t *rep = report_new(kind, o), *v = NULL;
	struct vs_rollup g;
	int ret;

	if ((ret = find_video(db, video, &v)) < 0 || (ret = collect(db, o, vs_json_str(v, "id"), scans, &g)) < 0) {
		json_decref(v);
		return finish(ret, rep, out);
	}
	json_object_set_new(rep, "video", v);
	sections(rep, &g, v, o);
	vs_rollup_release(&g);
	return finish(0, rep, out);
}

static void video_sections(json_t *rep, struct vs_rollup *g, json_t *v, const struct vs_report_opts *o)
{
	json_t *curves;

	figures_sections(rep, g, o, true);
	curves = json_object();
	json_object_set_new(curves, vs_json_str(v, "id"), one_curve(g, v));
	json_object_set_new(rep, "retention", curves);
}

int vs_report_video(PGconn *db, const char *video, const struct vs_report_opts *o, json_t **out)
{
	return video_report(db, "video", video, o, VS_ROLLUP_ALL, video_sections, out);
}

int vs_report_qoe(PGconn *db, const struct vs_report_opts *o, json_t **out)
{
	json_t *rep = report_new("qoe", o);
	struct vs_rollup g;
	int ret = collect(db, o, NULL, VS_ROLLUP_AUDIENCE | VS_ROLLUP_VIDEOS, &g);

	if (ret < 0)
		return finish(ret, rep, out);
	figures_sections(rep, &g, o, false);
	vs_rollup_release(&g);
	return finish(0, rep, out);
}

/* the curve's members in the report itself */
static void retention_sections(json_t *rep, struct vs_rollup *g, json_t *v, const struct vs_report_opts *o)
{
	json_t *curve = one_curve(g, v);

	(void)o;
	json_object_update(rep, curve);
	json_decref(curve);
}

int vs_report_retention(PGconn *db, const char *video, const struct vs_report_opts *o, json_t **out)
{
	return video_report(db, "retention", video, o, VS_ROLLUP_VIDEOS, retention_sections, out);
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
	struct vs_rollup g;
	struct vs_rollup_figures f = {0};
	double x;
	int ret = collect(db, o, NULL, VS_ROLLUP_VIDEOS, &g), critical = 0, warning = 0;

	if (ret < 0) {
		json_decref(list);
		return finish(ret, rep, out);
	}
	for (size_t i = 0; i < g.nvideos; i++)
		vs_rollup_add(&f, &g.videos[i].f);
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
	vs_rollup_release(&g);
	return finish(0, rep, out);
}

int vs_report_video_brief(PGconn *db, const char *video_id, json_t **out)
{
	struct vs_report_opts o = VS_REPORT_OPTS_INIT;
	struct vs_rollup g;
	struct vs_rollup_figures f;
	json_t *brief, *q;
	int ret = collect(db, &o, video_id, VS_ROLLUP_ALL, &g);

	*out = NULL;
	if (ret < 0)
		return ret;
	f = vs_rollup_totals(&g);
	brief = engagement_json(&f, g.unique_viewers);
	q = qoe_json(&f, g.p50, g.p95, true);
	json_object_update(brief, q);
	json_decref(q);
	vs_rollup_release(&g);
	*out = brief;
	return 0;
}

int vs_report_make(PGconn *db, enum vs_report_kind kind, const char *video, const struct vs_report_opts *o,
                   json_t **out)
{
	switch (kind) {
	case VS_REPORT_SUMMARY: return vs_report_summary(db, o, out);
	case VS_REPORT_VIDEO: return vs_report_video(db, video, o, out);
	case VS_REPORT_QOE: return vs_report_qoe(db, o, out);
	case VS_REPORT_RETENTION: return vs_report_retention(db, video, o, out);
	case VS_REPORT_ALERTS: return vs_report_alerts(db, o, out);
	}
	*out = NULL;
	return vs_fail(VS_ERR, VS_E_INTERNAL, "no report of kind %d", (int)kind);
}
