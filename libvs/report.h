#ifndef VS_REPORT_H
#define VS_REPORT_H

#include <math.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Engagement and quality-of-experience figures over viewing sessions
 * (video_analytics), aggregated in SQL. The one implementation of the
 * metrics, used by vs-report and vs-cgi's GET /videos/:id/analytics; each
 * is defined in vs-report(1). In short, over the sessions that started in
 * the window (a "view" each):
 *
 *   views, unique_viewers (by user, else the player's viewer id),
 *   watch_time_seconds and its average per view;
 *   completion_rate: % of started views that reached the completion point
 *     of the progress rules (90% or the last 30 s), as the session was
 *     written (libvs/analytics);
 *   average_percentage_watched: mean furthest point, % of the duration;
 *   startup_time_ms_p50/_p95: play requested to first frame;
 *   video_start_success_rate: % of views that tried to start (started, or
 *     failed with an error) that started;
 *   exits_before_start: views left before the first frame, without error;
 *   rebuffer_percentage: stalled time / watch time, %;
 *   rebuffer_frequency_per_minute, quality_switches_per_minute: per minute
 *     watched;
 *   error_rate: % of views with an error;
 *   quality mix (share of watch time per rendition), top devices, browsers
 *   and operating systems, the retention curve (share of started views
 *   still watching at each percent of the video).
 *
 * Every function returns 0 with *out a new JSON object, VS_ERR (bad
 * argument, unknown video) or VS_ETEMP, message set. The scans of the
 * sessions, and their SQL, are libvs/rollup's.
 */

#define VS_REPORT_LIMIT_DEFAULT 20     /* rows of top lists */
#define VS_REPORT_CURVES_DEFAULT 5     /* retention curves in a summary */
#define VS_REPORT_RETENTION_POINTS 100 /* the curve at 0%, 1%, … 100% */

/* Alert thresholds (the plan's), vs-report alerts. */
#define VS_ALERT_START_SUCCESS_MIN 95.0 /* %, critical below */
#define VS_ALERT_REBUFFER_MAX 3.0       /* %, warning above */
#define VS_ALERT_ERROR_RATE_MAX 1.0     /* %, critical above */
#define VS_ALERT_COMPLETION_MIN 70.0    /* %, per video, warning below */
#define VS_ALERT_MIN_VIEWS 10           /* views before a video's completion counts */

struct vs_report_opts {
	double since, until;            /* seconds since the epoch; NAN: unbounded */
	int limit;                      /* rows of top lists */
	int curves;                     /* retention curves in a summary */
	int min_views;                  /* alerts: started views before a video's completion counts */
	bool concurrent;                /* scan on a second connection too (two cores, two scans) */
	bool exact;                     /* every video's figures from the sessions, not the rollups */
	int exact_up_to;                /* windows of up to this many sessions: no estimates */
};

#define VS_REPORT_EXACT_UP_TO_DEFAULT 100000

#define VS_REPORT_OPTS_INIT \
	{NAN, NAN, VS_REPORT_LIMIT_DEFAULT, VS_REPORT_CURVES_DEFAULT, VS_ALERT_MIN_VIEWS, false, false, \
	 VS_REPORT_EXACT_UP_TO_DEFAULT}

/*
 * summary: {"report":"summary", "window", "engagement", "qoe",
 *           "startup_histogram", "over_time", "quality_mix", "devices",
 *           "browsers", "os", "videos" (top by views), "retention" (curves
 *           of the top videos)}
 * video:   the same for one video (id or slug), with "video" and one curve
 * qoe:     the same without engagement and the videos
 * retention: {"report":"retention", "video", "window", "views", "points":
 *           [{"percent", "position_seconds", "viewers_percent"}, …]}
 */
enum vs_report_kind {
	VS_REPORT_SUMMARY,   /* vs_report_summary */
	VS_REPORT_VIDEO,     /* vs_report_video: needs a video */
	VS_REPORT_QOE,       /* vs_report_qoe */
	VS_REPORT_RETENTION, /* vs_report_retention: needs a video */
	VS_REPORT_ALERTS,    /* vs_report_alerts */
};

/* The report of that kind (video: id or slug, for the kinds that need
 * one), as the function named beside the kind makes it. */
int vs_report_make(PGconn *db, enum vs_report_kind kind, const char *video, const struct vs_report_opts *o,
                   json_t **out);

int vs_report_summary(PGconn *db, const struct vs_report_opts *o, json_t **out);
int vs_report_video(PGconn *db, const char *video, const struct vs_report_opts *o, json_t **out);
int vs_report_qoe(PGconn *db, const struct vs_report_opts *o, json_t **out);
int vs_report_retention(PGconn *db, const char *video, const struct vs_report_opts *o, json_t **out);

/*
 * alerts: {"report":"alerts", "window", "views", "alerts": [{"severity":
 * "critical"|"warning", "metric", "scope" ("all" or a video's slug),
 * "value", "threshold", "message"}], "critical": n, "warning": n}.
 */
int vs_report_alerts(PGconn *db, const struct vs_report_opts *o, json_t **out);

/* The figures of one video for vs-cgi: engagement and qoe merged. */
int vs_report_video_brief(PGconn *db, const char *video_id, json_t **out);

#endif
