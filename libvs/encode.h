#ifndef VS_ENCODE_H
#define VS_ENCODE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "ladder.h"
#include "transcode.h"
#include "vs.h"

/*
 * The encode job for one video record: plan the ladder, encode it with
 * vs_transcode() into a temporary directory, put it in place whole, and keep
 * the database's video_qualities rows in step (pending → processing →
 * completed or failed).
 *
 * Files, per video:
 *
 *     MEDIA_ROOT/<id>/renditions/          <label>.mp4, poster.jpg,
 *                                          storyboard.jpg, storyboard.vtt,
 *                                          encode.json (written last)
 *     MEDIA_ROOT/<id>/.renditions-XXXXXX/  a run in progress
 *     MEDIA_ROOT/<id>/.encode.lock         held (flock) while encoding
 *
 * The renditions directory appears in one rename once everything in it is
 * finished, so it is complete or absent. A killed run leaves only a
 * temporary directory, removed by the next run.
 */

struct vs_encode_opts {
	const char *media_root;
	PGconn *db;                  /* NULL: records only */
	int sides[VS_LADDER_MAX_RUNGS];
	int n_sides;
	const char *preset;
	int crf;
	double gop_s;
	double start_gop_s;          /* one more keyframe this far in (vs_ladder_start_gop) */
	long maxrate;                /* bits/s, 0: the ladder's defaults */
	long audio_bps;
	double storyboard_interval_s;
	int threads;
	bool force;                  /* encode even if a finished encode matches */
	void (*progress)(double done_s, double total_s, double elapsed_s, void *ctx);
	void *progress_ctx;
};

/* Defaults; n_sides = 0 means VS_LADDER_DEFAULT. */
#define VS_ENCODE_OPTS_INIT                                                              \
	{.preset = VS_PRESET_DEFAULT, .crf = VS_CRF_DEFAULT, .gop_s = VS_GOP_SECONDS_DEFAULT, \
	 .start_gop_s = VS_START_GOP_SECONDS_DEFAULT, .audio_bps = VS_AUDIO_BITRATE_DEFAULT,  \
	 .storyboard_interval_s = VS_STORYBOARD_INTERVAL_DEFAULT}

/*
 * The record's "plan" section (new reference in *plan): output frame rate,
 * GOP, each rung with its size and caps, each skipped rung with the reason,
 * the estimated output size. Needs the record's "probe" (read from the
 * source file if the record has none). Returns 0 or VS_ERR.
 */
int vs_encode_plan(json_t *rec, const struct vs_encode_opts *opts, json_t **plan);

/* Writes plan (from vs_encode_plan) readably to f, a line for the video
 * (id, or NULL) and one for each rung, skipped rung and the estimate. */
void vs_encode_plan_describe(FILE *f, const char *id, const json_t *plan);

/*
 * Encodes the video of rec (borrowed, completed in place with "renditions",
 * "thumbnails" and "encode"). If a finished encode with the same settings
 * exists and opts->force is false, nothing is encoded and *reused is set.
 * Returns 0, VS_ERR, or VS_ETEMP (database unavailable, or the video is
 * being encoded by another process).
 */
int vs_encode(json_t *rec, const struct vs_encode_opts *opts, bool *reused);

#endif
