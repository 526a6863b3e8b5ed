#ifndef VS_ROLLUP_H
#define VS_ROLLUP_H

#include <jansson.h>
#include <libpq-fe.h>

#include "rollupdata.h"

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
 *
 * A window over every video reads the rollups that the database keeps as
 * sessions are written (sql/009_analytics_rollups.sql: by hour, and
 * retention by day), and the sessions themselves only for the parts of
 * hours (days) at its ends: its cost follows the hours it spans, not the
 * sessions in them. From them, p50 and p95 are read within half a bin of
 * startup time (5 ms below 1 s, 25 ms to 10 s) and unique viewers are a
 * HyperLogLog estimate (a standard error of 2.3%); everything else is
 * exact. A window of at most w->exact_up_to sessions has those three read
 * from its sessions, exactly. One video's figures, and w->exact, scan the
 * sessions.
 */

/*
 * Runs the scans asked for (enum vs_rollup_scans) over the window's
 * sessions, in a read-only transaction of its own (call it outside one),
 * and fills *g, to be vs_rollup_release()d; the videos get their meta when
 * VS_ROLLUP_VIDEOS is asked for. Returns 0, VS_ERR or VS_ETEMP (message
 * set; *g then holds nothing to release).
 */
int vs_rollup_collect(PGconn *db, const struct vs_rollup_window *w, unsigned scans, struct vs_rollup *g);

#endif
