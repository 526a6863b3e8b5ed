#ifndef VS_ROLLUPSTORE_H
#define VS_ROLLUPSTORE_H

#include "rollupdata.h"

/*
 * The stored rollups (sql/009_analytics_rollups.sql): the scans that read
 * them for libvs/rollup, and their upkeep.
 */

/* The scans of the stored rollups (libvs/rollupstore), and how many. */
extern const struct vs_rollup_scan vs_rollup_stored_scans[];
extern const size_t vs_rollup_nstored_scans;

/* $3 and $4 of the stored scans: the whole hours of w (hours that
 * rollups answer for; the sessions of the parts of hours at either end
 * are read themselves). */
void vs_rollup_stored_params(struct vs_rollup_params *q, const struct vs_rollup_window *w);

/* The retention buckets of g's first n videos (after sorting), from the
 * daily rollups and the sessions of the parts of days at either end. */
int vs_rollup_stored_curves(PGconn *db, const struct vs_rollup_window *w, struct vs_rollup *g, size_t n);

/*
 * Rebuilds the rollups from the sessions when rebuild is set (after a
 * change of their rules, or to make the viewer sketches forget deleted
 * sessions; writers of sessions wait meanwhile), and says how they stand:
 *
 *   {"rollup":{"rebuilt":B,"sessions":N,"rolled_up":N,"hours":N,
 *              "first_hour":"…Z","last_hour":"…Z"}}
 *
 * sessions: in video_analytics; rolled_up: the views the rollups count
 * (the same, unless they were changed by hand). Returns 0, VS_ERR or
 * VS_ETEMP (message set).
 */
int vs_rollup_maintain(PGconn *db, bool rebuild, json_t **out);

#endif
