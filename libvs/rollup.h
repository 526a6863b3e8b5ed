#ifndef VS_ROLLUP_H
#define VS_ROLLUP_H

#include <jansson.h>
#include <libpq-fe.h>

#include "hash.h"
#include "vs.h"

/*
 * The viewing sessions of a window (video_analytics) rolled up into groups:
 * the SQL of vs-report's figures, and the sums that libvs/report turns into
 * them. Grouped scans over stored columns (what a session counts towards is
 * worked out when it is written, libvs/analytics):
 *
 *   VS_ROLLUP_VIDEOS    by video, started and watched bucket; and by
 *                       startup time (percentiles, the histogram)
 *   VS_ROLLUP_AUDIENCE  by device, browser, os, quality and period: the
 *                       totals, the audience, the quality mix, the figures
 *                       over time
 *   VS_ROLLUP_VIEWERS   unique viewers
 *
 * run two at a time on two connections when it may, in one snapshot.
 */

/* watched_bucket: the whole percent of the video a session reached, 0 to
 * this (the floor of watched_percent). */
#define VS_ROLLUP_PERCENT_MAX 100

/* Startup-time histogram: edges in milliseconds, and the bins they make
 * (below the first edge, between two, from the last on). */
extern const int vs_rollup_startup_edges_ms[];
#define VS_ROLLUP_STARTUP_BINS 8

/* What adds up over views. */
struct vs_rollup_figures {
	double views, started, completed, watched_sum, start_failures, errored;
	double watch_s, buffering_ms, buffering_events, switches, seeks;
};

/* Adds b to a. */
void vs_rollup_add(struct vs_rollup_figures *a, const struct vs_rollup_figures *b);

struct vs_rollup_video {
	char id[VS_UUID_LEN + 1];
	struct vs_rollup_figures f;
	double bucket[VS_ROLLUP_PERCENT_MAX + 1]; /* started views by whole percent reached */
	json_t *meta;                             /* id, slug, title, duration; owned, or NULL */
};

/* Figures by a key (a device type, a browser, …). */
struct vs_rollup_keyed {
	char *key; /* malloced, owned; a caller may take it (free it, set NULL) */
	struct vs_rollup_figures f;
};

struct vs_rollup_period {
	double start; /* seconds since the epoch */
	struct vs_rollup_figures f;
};

struct vs_rollup {
	struct vs_rollup_video *videos; /* most views first, then by id */
	size_t nvideos;
	struct vs_rollup_keyed *devices, *browsers, *os, *quality;
	size_t ndevices, nbrowsers, nos, nquality;
	struct vs_rollup_period *periods; /* in time order, only those with sessions */
	size_t nperiods;
	const char *period;   /* "hour" or "day" */
	struct vs_rollup_figures total; /* everything but completion, from the audience scan */
	double completed, watched_sum;
	double p50, p95;      /* startup time, ms; NAN: none */
	double hist[VS_ROLLUP_STARTUP_BINS];
	double unique_viewers; /* -1: not counted */
};

enum vs_rollup_scans {
	VS_ROLLUP_VIDEOS = 1 << 0, /* and startup times */
	VS_ROLLUP_AUDIENCE = 1 << 1,
	VS_ROLLUP_VIEWERS = 1 << 2,
	VS_ROLLUP_ALL = 0x7,
};

/* The sessions to roll up: those that started in the window. */
struct vs_rollup_window {
	double since, until;  /* seconds since the epoch; NAN: unbounded */
	const char *video_id; /* uuid, or NULL for every video */
	bool concurrent;      /* scan on a second connection too (two cores, two scans) */
};

/*
 * Runs the scans asked for (enum vs_rollup_scans) over the window's
 * sessions, in a read-only transaction of its own (call it outside one),
 * and fills *g, to be vs_rollup_release()d; the videos get their meta when
 * VS_ROLLUP_VIDEOS is asked for. Returns 0, VS_ERR or VS_ETEMP (message
 * set; *g then holds nothing to release).
 */
int vs_rollup_collect(PGconn *db, const struct vs_rollup_window *w, unsigned scans, struct vs_rollup *g);

void vs_rollup_release(struct vs_rollup *g);

/* The totals: the audience scan has all but completion, which comes by
 * video. */
struct vs_rollup_figures vs_rollup_totals(const struct vs_rollup *g);

#endif
