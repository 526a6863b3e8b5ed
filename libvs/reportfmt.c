#include <math.h>

#include "error.h"
#include "record.h"
#include "reportfmt.h"

/* ---- CSV ---- */

static void csv_cell(FILE *f, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		fputc('"', f);
	if (strchr("=+-@", *s) && *s)
		fputc('\'', f); /* not a formula in a spreadsheet */
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
}

static void csv_value(FILE *f, const json_t *v)
{
	if (json_is_string(v))
		csv_cell(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "true" : "false", f);
	/* null: an empty cell */
}

static void csv_row3(FILE *f, const char *section, const char *name, const json_t *value)
{
	csv_cell(f, section);
	fputc(',', f);
	csv_cell(f, name);
	fputc(',', f);
	csv_value(f, value);
	fputs("\r\n", f);
}

/* Every scalar member of obj as section,name,value. */
static void csv_scalars(FILE *f, const char *section, const json_t *obj)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
		if (!json_is_object(v) && !json_is_array(v))
			csv_row3(f, section, k, v);
}

/* A list of {key: name, value: …}: section,name,value for one value. */
static void csv_list(FILE *f, const char *section, const json_t *list, const char *key, const char *value)
{
	size_t i;
	json_t *v;

	json_array_foreach((json_t *)list, i, v)
		csv_row3(f, section, vs_json_str(v, key) ? vs_json_str(v, key) : "unknown", json_object_get(v, value));
}

int vs_reportfmt_write_csv(const json_t *rep, FILE *f)
{
	const char *kind = vs_json_str(rep, "report");
	size_t i;
	json_t *v;

	if (!kind)
		kind = "";
	if (!strcmp(kind, "retention")) {
		fputs("percent,position_seconds,viewers_percent\r\n", f);
		json_array_foreach(json_object_get(rep, "points"), i, v)
			fprintf(f, "%lld,%.1f,%.2f\r\n", (long long)json_integer_value(json_object_get(v, "percent")),
			        json_number_value(json_object_get(v, "position_seconds")),
			        json_number_value(json_object_get(v, "viewers_percent")));
	} else if (!strcmp(kind, "alerts")) {
		fputs("severity,metric,scope,value,threshold,message\r\n", f);
		json_array_foreach(json_object_get(rep, "alerts"), i, v) {
			static const char *const cols[] = {"severity", "metric", "scope", "value", "threshold", "message"};

			for (size_t c = 0; c < VS_ARRAY_SIZE(cols); c++) {
				if (c)
					fputc(',', f);
				csv_value(f, json_object_get(v, cols[c]));
			}
			fputs("\r\n", f);
		}
	} else {
		fputs("section,name,value\r\n", f);
		csv_scalars(f, "video", json_object_get(rep, "video"));
		csv_scalars(f, "engagement", json_object_get(rep, "engagement"));
		csv_scalars(f, "qoe", json_object_get(rep, "qoe"));
		json_array_foreach(json_object_get(rep, "startup_histogram"), i, v) {
			char name[48];
			json_t *to = json_object_get(v, "to_ms");

			if (json_is_integer(to))
				snprintf(name, sizeof(name), "%lld-%lld ms", (long long)json_integer_value(json_object_get(v, "from_ms")),
				         (long long)json_integer_value(to));
			else
				snprintf(name, sizeof(name), "%lld ms and more",
				         (long long)json_integer_value(json_object_get(v, "from_ms")));
			csv_row3(f, "startup_histogram", name, json_object_get(v, "views"));
		}
		csv_list(f, "quality_mix", json_object_get(rep, "quality_mix"), "quality", "share");
		csv_list(f, "devices", json_object_get(rep, "devices"), "device_type", "share");
		csv_list(f, "browsers", json_object_get(rep, "browsers"), "browser", "share");
		csv_list(f, "os", json_object_get(rep, "os"), "os", "share");
		json_array_foreach(json_object_get(rep, "over_time"), i, v) {
			char section[64];

			snprintf(section, sizeof(section), "over_time:%s", vs_json_str(v, "start") ? vs_json_str(v, "start") : "");
			csv_scalars(f, section, v);
		}
		json_array_foreach(json_object_get(rep, "videos"), i, v) {
			char *section = NULL;

			if (asprintf(&section, "video:%s", vs_json_str(v, "slug") ? vs_json_str(v, "slug") : "") < 0)
				return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			csv_scalars(f, section, v);
			free(section);
		}
	}
	return ferror(f) ? vs_fail(VS_ERR, VS_E_IO, "cannot write the report: %s", strerror(errno)) : 0;
}

/* ---- HTML ---- */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static double num(const json_t *o, const char *path)
{
	double d = NAN;

	vs_json_number(o, path, &d);
	return d;
}

/* A figure as text: "—" when unknown. */
static void figure(FILE *f, double v, const char *unit, int decimals)
{
	if (!isfinite(v))
		fputs("&mdash;", f);
	else
		fprintf(f, "%.*f%s", decimals, v, unit);
}

static const struct tile {
	const char *path, *label, *unit;
	int decimals;
} tiles[] = {
	{"engagement.views", "Views", "", 0},
	{"engagement.unique_viewers", "Unique viewers", "", 0},
	{"engagement.watch_time_seconds", "Watch time", "duration", 0},
	{"engagement.average_watch_time_seconds", "Average watch time", "duration", 0},
	{"engagement.completion_rate", "Completion rate", "%", 1},
	{"engagement.average_percentage_watched", "Average % watched", "%", 1},
	{"qoe.startup_time_ms_p50", "Startup time p50", " ms", 0},
	{"qoe.startup_time_ms_p95", "Startup time p95", " ms", 0},
	{"qoe.video_start_success_rate", "Video start success", "%", 2},
	{"qoe.rebuffer_percentage", "Rebuffering", "%", 2},
	{"qoe.rebuffer_frequency_per_minute", "Rebuffers per minute", "", 2},
	{"qoe.quality_switches_per_minute", "Quality switches per minute", "", 2},
	{"qoe.error_rate", "Error rate", "%", 2},
	{"qoe.exits_before_start", "Exits before start", "", 0},
};

static void html_tiles(FILE *f, const json_t *rep)
{
	bool any = false;

	for (size_t i = 0; i < VS_ARRAY_SIZE(tiles); i++) {
		double v = num(rep, tiles[i].path);

		if (!json_object_get(json_object_get(rep, strncmp(tiles[i].path, "qoe", 3) ? "engagement" : "qoe"),
		                     strchr(tiles[i].path, '.') + 1))
			continue;
		if (!any)
			fputs("<section><h2>Figures</h2><div class=\"tiles\">\n", f);
		any = true;
		fprintf(f, "<div class=\"tile\"><div class=\"label\">%s</div><div class=\"value\">", tiles[i].label);
		if (!strcmp(tiles[i].unit, "duration") && isfinite(v)) /* seconds, read as a person would */
			fprintf(f, v < 120 ? "%.0f s" : v < 7200 ? "%.1f min" : "%.1f h",
			        v < 120 ? v : v < 7200 ? v / 60 : v / 3600);
		else
			figure(f, v, tiles[i].unit, tiles[i].decimals);
		fputs("</div></div>\n", f);
	}
	if (any)
		fputs("</div></section>\n", f);
}

/* Chart geometry: a plot area inside a W x H viewBox. */
#define W 640
#define H 260
#define L 56 /* left margin: the y labels */
#define B 36 /* bottom margin: the x labels */
#define T 12
#define RM 16
#define PW (W - L - RM)
#define PH (H - T - B)

static void svg_open(FILE *f, const char *label)
{
	fprintf(f, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", W, H);
	esc(f, label);
	fputs("\">\n", f);
}

/* Axes with y from 0 to ymax (ticks at quarters) and a label per axis. */
static void svg_axes(FILE *f, double ymax, const char *yunit, const char *xlabel)
{
	for (int i = 0; i <= 4; i++) {
		double y = T + PH - PH * i / 4.0;

		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", L, y, L + PW, y);
		fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n", L - 6, y + 4,
		        round(ymax * i / 4.0 * 100) / 100, yunit);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", L, T + PH, L + PW, T + PH);
	fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", L + PW / 2, H - 4);
	esc(f, xlabel);
	fputs("</text>\n", f);
}

static void html_retention(FILE *f, const json_t *rep)
{
	json_t *curves = json_object_get(rep, "retention"), *videos = json_object_get(rep, "videos");
	json_t *points = json_object_get(rep, "points"), *one = NULL, *c;
	const char *id;

	if (json_is_array(points)) { /* a retention report: one curve */
		one = json_object();
		json_object_set_new(one, vs_json_str(rep, "video.id") ? vs_json_str(rep, "video.id") : "",
		                    json_pack("{s:O,s:O}", "points", points, "views", json_object_get(rep, "views")));
		curves = one;
	}
	if (!json_is_object(curves) || json_object_size(curves) == 0) {
		json_decref(one);
		return;
	}
	fputs("<section><h2>Audience retention</h2>\n<p class=\"note\">Share of the views that started and were still "
	      "watching at each point of the video.</p>\n",
	      f);
	json_object_foreach(curves, id, c) {
		const char *title = NULL, *slug = NULL;
		json_t *pts = json_object_get(c, "points"), *p;
		double dur = 0;
		size_t i;

		/* the video's title: from the top list, or the report's video */
		for (size_t k = 0; k < json_array_size(videos); k++)
			if (vs_json_str(json_array_get(videos, k), "id") && !strcmp(vs_json_str(json_array_get(videos, k), "id"), id)) {
				title = vs_json_str(json_array_get(videos, k), "title");
				slug = vs_json_str(json_array_get(videos, k), "slug");
				vs_json_number(json_array_get(videos, k), "duration", &dur);
			}
		if (!title) {
			title = vs_json_str(rep, "video.title");
			slug = vs_json_str(rep, "video.slug");
			vs_json_number(rep, "video.duration", &dur);
		}
		fputs("<figure>", f);
		svg_open(f, "retention curve");
		svg_axes(f, 100, "%", dur > 0 ? "position in the video (% of its duration)" : "position in the video (%)");
		fputs("<polyline class=\"line\" points=\"", f);
		json_array_foreach(pts, i, p)
			fprintf(f, "%.1f,%.1f ", L + PW * num(p, "percent") / 100.0, T + PH - PH * num(p, "viewers_percent") / 100.0);
		fputs("\"/>\n", f);
		for (int k = 0; k <= 4; k++)
			fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d%%</text>", L + PW * k / 4.0,
			        T + PH + 14, 25 * k);
		fputs("</svg><figcaption>", f);
		esc(f, title ? title : id);
		if (slug) {
			fputs(" <span class=\"note\">(", f);
			esc(f, slug);
			fputs(")</span>", f);
		}
		fprintf(f, " &middot; %.0f started views</figcaption></figure>\n", num(c, "views"));
	}
	fputs("</section>\n", f);
	json_decref(one);
}

/* A bar of a bar chart. */
struct bar {
	char label[64];
	double value;
};

/* A section with a title, a note, and vertical bars. */
static void bar_section(FILE *f, const char *title, const char *note, const struct bar *bars, size_t n,
                        const char *yunit, const char *xlabel)
{
	double ymax = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		ymax = fmax(ymax, bars[i].value);
	ymax = ymax > 0 ? ymax : 1;
	fprintf(f, "<section><h2>%s</h2>\n<p class=\"note\">%s</p>\n<figure>", title, note);
	svg_open(f, title);
	svg_axes(f, ymax, yunit, xlabel);
	for (size_t i = 0; i < n; i++) {
		double bw = (double)PW / (double)n, h = PH * bars[i].value / ymax;

		fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>",
		        L + bw * (double)i + 3, T + PH - h, bw - 6, h);
		esc(f, bars[i].label);
		fprintf(f, ": %g%s</title></rect>", bars[i].value, yunit);
		fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", L + bw * ((double)i + 0.5),
		        T + PH + 14);
		esc(f, bars[i].label);
		fputs("</text>\n", f);
	}
	fputs("</svg></figure></section>\n", f);
}

/* A bar_section() of a bar per row of rows, as bar_of makes it. */
static void bar_rows(FILE *f, const char *title, const char *note, const json_t *rows,
                     void (*bar_of)(const json_t *row, struct bar *bar), const char *yunit, const char *xlabel)
{
	size_t n = json_array_size(rows), i;
	struct bar *bars = calloc(n + 1, sizeof(*bars));
	json_t *r;

	if (!bars)
		return;
	json_array_foreach(rows, i, r)
		bar_of(r, &bars[i]);
	bar_section(f, title, note, bars, n, yunit, xlabel);
	free(bars);
}

static void startup_bar(const json_t *b, struct bar *bar)
{
	double from = num(b, "from_ms"), to = num(b, "to_ms");

	if (isfinite(to))
		snprintf(bar->label, sizeof(bar->label), "%g–%g s", from / 1000, to / 1000);
	else
		snprintf(bar->label, sizeof(bar->label), "%g s+", from / 1000);
	bar->value = num(b, "views");
}

static void quality_bar(const json_t *q, struct bar *bar)
{
	snprintf(bar->label, sizeof(bar->label), "%s", vs_json_str(q, "quality") ? vs_json_str(q, "quality") : "?");
	bar->value = num(q, "share");
}

static void html_over_time(FILE *f, const json_t *rep)
{
	json_t *rows = json_object_get(rep, "over_time"), *r;
	size_t n = json_array_size(rows), i;
	double ymax = 0;

	if (n == 0)
		return;
	json_array_foreach(rows, i, r)
		if (isfinite(num(r, "rebuffer_percentage")))
			ymax = fmax(ymax, num(r, "rebuffer_percentage"));
	ymax = ymax > 0 ? ceil(ymax * 1.1 * 10) / 10 : 1;
	fputs("<section><h2>Rebuffering over time</h2>\n<p class=\"note\">Time spent stalled as a share of watch time, "
	      "per period.</p>\n<figure>",
	      f);
	svg_open(f, "rebuffering over time");
	svg_axes(f, ymax, "%", "time (UTC)");
	fputs("<polyline class=\"line\" points=\"", f);
	json_array_foreach(rows, i, r) {
		double v = num(r, "rebuffer_percentage");

		fprintf(f, "%.1f,%.1f ", L + (n > 1 ? PW * (double)i / (double)(n - 1) : PW / 2.0),
		        T + PH - PH * (isfinite(v) ? v : 0) / ymax);
	}
	fputs("\"/>\n", f);
	json_array_foreach(rows, i, r) {
		double v = num(r, "rebuffer_percentage");

		if (n > 60 && i != 0 && i != n - 1)
			continue; /* a dot per period only where they stay apart */
		fprintf(f, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>",
		        L + (n > 1 ? PW * (double)i / (double)(n - 1) : PW / 2.0), T + PH - PH * (isfinite(v) ? v : 0) / ymax);
		esc(f, vs_json_str(r, "start"));
		fprintf(f, ": %g%% of %g views</title></circle>", isfinite(v) ? v : 0, num(r, "views"));
		if (i == 0 || i == n - 1) {
			fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">",
			        L + (n > 1 ? PW * (double)i / (double)(n - 1) : PW / 2.0), T + PH + 14,
			        n == 1 ? "middle" : i == 0 ? "start" : "end");
			esc(f, vs_json_str(r, "start"));
			fputs("</text>", f);
		}
	}
	fputs("</svg></figure></section>\n", f);
}

static void html_table(FILE *f, const char *title, const json_t *rows, const char *const *cols,
                       const char *const *heads, size_t ncols)
{
	size_t i;
	json_t *r;

	if (json_array_size(rows) == 0)
		return;
	fputs("<section><h2>", f);
	esc(f, title);
	fputs("</h2>\n<table><thead><tr>", f);
	for (size_t c = 0; c < ncols; c++)
		fprintf(f, "<th scope=\"col\">%s</th>", heads[c]);
	fputs("</tr></thead><tbody>\n", f);
	json_array_foreach(rows, i, r) {
		fputs("<tr>", f);
		for (size_t c = 0; c < ncols; c++) {
			json_t *v = json_object_get(r, cols[c]);

			fputs(json_is_number(v) ? "<td class=\"n\">" : "<td>", f);
			if (json_is_string(v))
				esc(f, json_string_value(v));
			else if (json_is_number(v))
				fprintf(f, "%g", json_number_value(v));
			else
				fputs("&mdash;", f);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

static const char style[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1040px;"
	"padding:24px;color:#1d2430;background:#fff}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}"
	".note{color:#5b6576;font-size:13px}"
	".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}"
	".tile{border:1px solid #dfe3ea;border-radius:8px;padding:10px 12px}"
	".tile .label{color:#5b6576;font-size:12px}.tile .value{font-size:22px;font-weight:600}"
	"figure{margin:8px 0 16px}svg{width:100%;max-width:720px;height:auto;display:block}"
	"figcaption{font-size:14px;margin-top:4px}"
	".grid{stroke:#e6e9ef}.axis{stroke:#8a93a3}.tick{font-size:11px;fill:#5b6576}"
	".line{fill:none;stroke:#2563eb;stroke-width:2.5}.dot{fill:#2563eb}.bar{fill:#2563eb}"
	"table{border-collapse:collapse;width:100%;font-size:14px}"
	"th,td{border-bottom:1px solid #e6e9ef;padding:6px 8px;text-align:left}td.n{text-align:right}"
	".critical{color:#b91c1c;font-weight:600}.warning{color:#b45309;font-weight:600}";

int vs_reportfmt_write_html(const json_t *rep, FILE *f)
{
	const char *kind = vs_json_str(rep, "report") ? vs_json_str(rep, "report") : "report";
	const char *since = vs_json_str(rep, "window.since"), *until = vs_json_str(rep, "window.until");
	static const char *const vcols[] = {"title", "slug", "views", "watch_time_seconds", "completion_rate",
	                                    "average_percentage_watched", "rebuffer_percentage", "error_rate"};
	static const char *const vheads[] = {"Video", "Slug", "Views", "Watch time (s)", "Completion %",
	                                     "Avg % watched", "Rebuffering %", "Error rate %"};
	static const char *const acols[] = {"severity", "metric", "scope", "value", "threshold", "message"};
	static const char *const aheads[] = {"Severity", "Metric", "Scope", "Value", "Threshold", "Message"};
	static const char *const dcols[] = {"device_type", "views", "share"};
	static const char *const bcols[] = {"browser", "views", "share"};
	static const char *const ocols[] = {"os", "views", "share"};
	static const char *const dheads[] = {"Device", "Views", "Share %"};
	static const char *const bheads[] = {"Browser", "Views", "Share %"};
	static const char *const oheads[] = {"Operating system", "Views", "Share %"};

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>vs report: ",
	      f);
	esc(f, kind);
	if (vs_json_str(rep, "video.title")) {
		fputs(" &middot; ", f);
		esc(f, vs_json_str(rep, "video.title"));
	}
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>", style);
	if (vs_json_str(rep, "video.title")) {
		esc(f, vs_json_str(rep, "video.title"));
		fputs(" &middot; ", f);
	}
	fprintf(f, "%s</h1>\n<p class=\"note\">", !strcmp(kind, "qoe")         ? "Quality of experience"
	                                          : !strcmp(kind, "alerts")    ? "Alerts"
	                                          : !strcmp(kind, "retention") ? "Audience retention"
	                                          : !strcmp(kind, "video")     ? "Video report"
	                                                                       : "Summary");
	fputs(since || until ? "Sessions started " : "All sessions", f);
	if (since) {
		fputs("from ", f);
		esc(f, since);
	}
	if (until) {
		fputs(since ? " until " : "until ", f);
		esc(f, until);
	}
	fputs(".</p>\n", f);
	if (!strcmp(kind, "alerts")) {
		json_t *alerts = json_object_get(rep, "alerts");

		fprintf(f, "<p><span class=\"critical\">%.0f critical</span>, <span class=\"warning\">%.0f warning</span> over "
		           "%.0f views.</p>\n",
		        num(rep, "critical"), num(rep, "warning"), num(rep, "views"));
		html_table(f, "Alerts", alerts, acols, aheads, VS_ARRAY_SIZE(acols));
	}
	html_tiles(f, rep);
	html_retention(f, rep);
	bar_rows(f, "Startup time", "Views by the time from pressing play to the first frame.",
	         json_object_get(rep, "startup_histogram"), startup_bar, "", "startup time");
	html_over_time(f, rep);
	bar_rows(f, "Quality mix", "Share of watch time at each rendition.", json_object_get(rep, "quality_mix"),
	         quality_bar, "%", "rendition");
	html_table(f, "Top videos", json_object_get(rep, "videos"), vcols, vheads, VS_ARRAY_SIZE(vcols));
	html_table(f, "Devices", json_object_get(rep, "devices"), dcols, dheads, VS_ARRAY_SIZE(dcols));
	html_table(f, "Browsers", json_object_get(rep, "browsers"), bcols, bheads, VS_ARRAY_SIZE(bcols));
	html_table(f, "Operating systems", json_object_get(rep, "os"), ocols, oheads, VS_ARRAY_SIZE(ocols));
	if (num(rep, "engagement.views") == 0 || (!strcmp(kind, "retention") && num(rep, "views") == 0))
		fputs("<p class=\"note\">No viewing sessions in this window.</p>\n", f);
	fputs("</body></html>\n", f);
	return ferror(f) ? vs_fail(VS_ERR, VS_E_IO, "cannot write the report: %s", strerror(errno)) : 0;
}
