#ifndef VS_LADDER_H
#define VS_LADDER_H

#include <jansson.h>

#include "vs.h"

/*
 * The quality ladder: which renditions to make of a source, at what size and
 * with what bit-rate caps. Pure functions, no I/O.
 *
 * A rung is named by the shorter side of the picture ("720p": 1280x720 for
 * landscape, 720x1280 for portrait); the longer side follows the display
 * aspect ratio, rounded to even. Rungs above the source are skipped (never
 * upscale); a source smaller than the lowest rung gets one rendition at its
 * own size.
 */

/* 240p is the rung a lecture lives on through a phone's fades (a tunnel,
 * a crowded cell: 0.1-0.5 Mbit/s for tens of seconds): its picture is
 * small, its voice whole. */
#define VS_LADDER_DEFAULT "240p,360p,720p,1080p"
#define VS_LADDER_MAX_RUNGS 8
#define VS_GOP_SECONDS_DEFAULT 2.0
/* One more keyframe, this far in, when it comes before the first GOP's end:
 * vs-package then cuts a short first segment, which a player waits for
 * whole before the first frame (vs_ladder_start_gop). */
#define VS_START_GOP_SECONDS_DEFAULT 1.0
#define VS_CRF_DEFAULT 21
#define VS_PRESET_DEFAULT "medium"
#define VS_AUDIO_BITRATE_DEFAULT 128000 /* AAC-LC stereo 48 kHz */
#define VS_FPS_MAX 60.0
#define VS_BUFSIZE_FACTOR 2.0 /* bufsize = maxrate × this: two seconds of VBV */
#define VS_HIGH_FPS_FACTOR 1.5 /* maxrate × this above 30 fps */
#define VS_MIN_MAXRATE 150000
/* Cap relative to the source: a rung gets at most the source's video bit
 * rate × (rung pixels / source pixels)^0.75 × the codec's efficiency
 * relative to H.264 (HEVC, VP9 1.5; AV1 2.0). */
#define VS_SOURCE_CAP_EXPONENT 0.75

/* Default maxrate for a rung of this short side at ≤ 30 fps (bits/s):
 * 144p 150k, 240p 250k, 360p 800k, 480p 1.4M, 540p 2M, 720p 2.8M, 1080p 5M,
 * 1440p 9M, 2160p 16M; sizes in between interpolated. */
long vs_ladder_default_maxrate(int short_side);

struct vs_rung {
	char label[16];   /* "720p" */
	int width, height;
	long maxrate;     /* bits/s */
	long bufsize;     /* bits */
	const char *cap_reason; /* "default" or "source" */
};

struct vs_ladder_input {
	int display_width, display_height; /* upright, square pixels */
	double fps;                        /* output rate, already capped */
	long source_video_bps;             /* 0 if unknown */
	const char *source_codec;          /* "h264", "hevc", … or NULL */
};

struct vs_ladder {
	struct vs_rung rungs[VS_LADDER_MAX_RUNGS];
	int n;
	char skipped[VS_LADDER_MAX_RUNGS][96]; /* "1080p skipped: source is 720p" */
	int n_skipped;
};

/*
 * Parses "240p,360p,720p" into short sides, ascending and unique. Returns
 * the count, or VS_ERR with the message naming the bad entry.
 */
int vs_ladder_parse(const char *spec, int *sides, int max);

/*
 * Plans the ladder for in from the requested short sides. maxrate_override
 * (bits/s, 0 for none) replaces the default cap of every rung (the source
 * cap still applies). Returns 0 or VS_ERR (no picture size).
 */
int vs_ladder_plan(const struct vs_ladder_input *in, const int *sides, int n_sides,
                   long maxrate_override, struct vs_ladder *out);

/*
 * The output frame rate for a source: its nominal rate snapped to the
 * nearest standard rate (23.976 … 60) when within 3%, halved until at most
 * VS_FPS_MAX. Returns it as a fraction in *num / *den.
 */
void vs_ladder_fps(double source_fps, int *num, int *den);

/*
 * The first GOP's end when an encode asks for one before gop_s (seconds):
 * start_s when 0 < start_s < gop_s, else 0 (no extra keyframe). Every rung
 * gets it, so the rungs still cut at the same instants.
 */
double vs_ladder_start_gop(double start_s, double gop_s);

#endif
