#ifndef VS_TRANSCODE_H
#define VS_TRANSCODE_H

#include <jansson.h>

#include "ladder.h"
#include "vs.h"

/*
 * The encoding engine: decode a source once and encode every rung of a
 * ladder from that one decode, the rungs' scalers and encoders running in
 * threads of their own, so that the decoder and all encoders keep the cores
 * busy at once. Audio is decoded, resampled and encoded once (AAC-LC,
 * stereo, 48 kHz) and the same packets are muxed into every rendition.
 *
 * Every rendition is H.264 High, yuv420p, square pixels, upright (rotation
 * applied, no display matrix left), progressive (interlaced sources are
 * deinterlaced with bwdif), at a constant frame rate (vs_ladder_fps), with
 * IDR frames at exact multiples of gop_s and nowhere else, in MP4 with the
 * index first.
 *
 * The work is done by lower modules, which know nothing of this header:
 * decode.h (the source, its filters and the audio), rungs.h (one encoder
 * thread per rung, fed through a frameq.h queue) and thumbs.h (poster and
 * storyboard). This module glues them and keeps the engine's settings.
 */

#define VS_STORYBOARD_INTERVAL_DEFAULT 5.0 /* seconds between thumbnails */
#define VS_STORYBOARD_MAX_THUMBS 1000      /* a longer video gets a wider interval */
#define VS_THUMB_LONG_SIDE 160             /* thumbnail size in the sprite */
#define VS_SPRITE_COLUMNS 10
#define VS_POSTER_MAX_WIDTH 1280
#define VS_DECODE_ERRORS_MAX 10 /* corrupt packets tolerated before failing */
#define VS_DECODE_SINGLE_THREAD_PIXELS (1920 * 1088) /* larger: threaded decoding */
/* A rung's queue, by the bytes of the source's frames: a small rung runs
 * ahead of a large one instead of waiting for it (32 items at 1080p: 3%
 * less wall time than 8, mean of three runs each), and 4K gets 10. The
 * audio packets between the frames take items too, so this bounds the
 * frames' memory from above. */
#define VS_QUEUE_BYTES (128 << 20)

struct vs_transcode_opts {
	const struct vs_ladder *ladder;
	int fps_num, fps_den;        /* output frame rate (vs_ladder_fps) */
	double gop_s;                /* seconds between keyframes */
	double start_gop_s;          /* and one keyframe at this time, when > 0 */
	const char *preset;          /* x264 preset */
	int crf;
	long audio_bps;
	double storyboard_interval_s;
	int threads;                 /* threads per x264 encoder; 0: x264 decides */
	/* Called from the decoding thread about every half second. */
	void (*progress)(double done_s, double total_s, double elapsed_s, void *ctx);
	void *progress_ctx;
};

/*
 * Encodes src (a local file; probe is its record "probe" section, borrowed)
 * into the existing directory dir: "<label>.mp4" per rung, "poster.jpg",
 * "storyboard.jpg", "storyboard.vtt". On success *result (new reference)
 * is {"renditions": [...], "thumbnails": {...}} with absolute paths in dir,
 * measured sizes and bit rates. On failure files in dir are left for the
 * caller to remove. Returns 0 or VS_ERR (message says at what time the
 * source failed to decode, or which encoder failed).
 */
int vs_transcode(const char *src, const json_t *probe, const struct vs_transcode_opts *opts,
                 const char *dir, json_t **result);

/* Whether name is one of x264's presets: ultrafast, superfast, veryfast,
 * faster, fast, medium, slow, slower, veryslow, placebo. False for NULL. */
bool vs_transcode_preset_known(const char *name);

/* The RFC 6381 codecs string of an H.264 stream from its extradata (Annex B
 * or avcC), "avc1.PPCCLL"; writes "" if it cannot tell. */
void vs_transcode_h264_codecs(const uint8_t *extradata, int size, char *out, size_t n);

#endif
