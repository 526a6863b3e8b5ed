#ifndef VS_THUMBS_H
#define VS_THUMBS_H

#include <libavutil/frame.h>

#include "vs.h"

/*
 * Thumbnails of a video, taken from its decoded frames as they go by: a
 * poster (the liveliest of a few dozen frames sampled from the first 60%,
 * by the spread of their luma, so that a black or flat opening is not
 * chosen) and a storyboard, one small picture every interval seconds laid
 * out in a grid in one JPEG sprite, with a WebVTT file that says which cell
 * shows which time (the "#xywh=" media fragments players use for scrubbing
 * previews).
 *
 * struct vs_thumbs is embedded in its owner, with vs_thumbs_init() and
 * vs_thumbs_release().
 */

struct vs_thumbs_opts {
	double interval_s;    /* seconds between storyboard thumbnails */
	int max_thumbs;       /* a longer video gets a wider interval */
	int long_side;        /* thumbnail size in the sprite */
	int columns;          /* thumbnails per row of the sprite, at most */
	int poster_max_width; /* a wider poster is scaled down */
};

struct vs_thumbs {
	struct vs_thumbs_opts o; /* a copy */
	double interval;      /* storyboard */
	int tw, th, cols, rows, count, next;
	AVFrame *sprite;      /* YUVJ420P, cols*tw × rows*th */
	struct SwsContext *sws;
	/* poster: the liveliest of the sampled frames */
	double poster_step, next_poster, poster_until;
	double best_score;
	AVFrame *best;        /* reference to a canonical frame */
	struct SwsContext *score_sws;
	AVFrame *score;       /* small gray frame for scoring */
};

/*
 * Sets t up for a video of duration seconds (> 0) shown at dw × dh: its
 * storyboard interval (o->interval_s, or wider so as to stay within
 * o->max_thumbs), the thumbnail size (o->long_side on the longer side, even)
 * and a black sprite. Returns 0 or AVERROR(ENOMEM); t is released with
 * vs_thumbs_release() either way.
 */
int vs_thumbs_init(struct vs_thumbs *t, const struct vs_thumbs_opts *o, double duration, int dw,
                   int dh);

void vs_thumbs_release(struct vs_thumbs *t);

/* Offers f (borrowed), the frame shown at time seconds, to the storyboard
 * and the poster; frames come in time order. */
void vs_thumbs_frame(struct vs_thumbs *t, AVFrame *f, double time);

/* Writes the poster as a JPEG at dw × dh (scaled down to o->poster_max_width,
 * even) to path. Returns 0 or an AVERROR; AVERROR(EINVAL) if no frame came. */
int vs_thumbs_write_poster(struct vs_thumbs *t, const char *path, int dw, int dh);

/* Writes the sprite as a JPEG to jpg and its WebVTT to vtt, cues up to
 * duration seconds naming the sprite by jpg's file name. Cells whose time
 * never came (the source ended early) stay black. Returns 0 or an AVERROR. */
int vs_thumbs_write_storyboard(struct vs_thumbs *t, const char *jpg, const char *vtt,
                               double duration);

#endif
