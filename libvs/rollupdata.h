#ifndef VS_ROLLUPDATA_H
#define VS_ROLLUPDATA_H

#include <jansson.h>
#include <libpq-fe.h>

#include "hash.h"
#include "vs.h"

/*
 * The groups of a report's sessions (libvs/rollup gathers them, from the
 * sessions or from the stored rollups of libvs/rollupstore), and the
 * helpers that fill them.
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
	bool exact;           /* scan the sessions even for every video */
	size_t curves;        /* from the rollups: the retention buckets of this many videos, the most viewed */
	double exact_up_to;   /* from the rollups: up to this many sessions, no estimates (see above) */
};

void vs_rollup_release(struct vs_rollup *g);

/* The totals: the audience scan has all but completion, which comes by
 * video. */
struct vs_rollup_figures vs_rollup_totals(const struct vs_rollup *g);

/* The parameters of every scan: $1 since, $2 until (seconds since the
 * epoch, or NULL), $3 the video (uuid, or NULL) for a scan of the
 * sessions; $3 and $4 the whole hours of the window for one of the
 * rollups. */
struct vs_rollup_params {
	char since[32], until[32], from[32], to[32];
	const char *p[4];
};

/* One scan: its flag (enum vs_rollup_scans), its statement (sql_daily:
 * the one for figures by day), and what takes its rows. */
struct vs_rollup_scan {
	unsigned flag;
	const char *sql, *sql_daily;
	int nparams;
	int (*take)(PGresult *r, struct vs_rollup *g);
};

/* A number of r (0 when NULL). */
double vs_rollup_value(const PGresult *r, int row, int col);

/* Adds f under key (NULL: "unknown") to the list; VS_ERR out of memory. */
int vs_rollup_add_keyed(struct vs_rollup_keyed **list, size_t *n, const char *key, const struct vs_rollup_figures *f);

/* Appends a video with id to g (zeroed): NULL out of memory (message set). */
struct vs_rollup_video *vs_rollup_new_video(struct vs_rollup *g, const char *id);

/* Adds f to the period that starts at start: the last one of g's, or a
 * new one after it. VS_ERR out of memory. */
int vs_rollup_add_period(struct vs_rollup *g, double start, const struct vs_rollup_figures *f);

/* The histogram bin of a startup time of ms. */
int vs_rollup_startup_bin(double ms);

#endif
