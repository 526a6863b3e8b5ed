#ifndef VS_VTT_H
#define VS_VTT_H

#include "vs.h"

/*
 * Timed text as players take it: WebVTT (W3C) and SubRip read, checked and
 * written as WebVTT, whole or cut into HLS segments (RFC 8216 3.5). No I/O
 * but vs_vtt_read_file: text in, text out.
 *
 * Reading takes what people have: UTF-8 with or without a BOM, UTF-16 with
 * a BOM, and else Windows-1252 (what old SubRip files are), any line
 * endings. A WebVTT file's STYLE and REGION blocks are kept, its NOTEs
 * dropped. SubRip's text becomes WebVTT's: <b>, <i>, <u> kept, <font> and
 * ASS override codes ({\an8}) dropped, a bare < or & escaped. A cue whose
 * timing cannot be read, or that ends before it starts, is an error naming
 * its line; cues out of order are put in order; cues that overlap are
 * kept (WebVTT shows them together) and counted.
 */

#define VS_VTT_FILE_MAX (8 << 20)  /* bytes of a caption file */
#define VS_VTT_CUES_MAX 100000

struct vs_vtt_cue {
	double start, end;   /* seconds */
	char *id;            /* the cue's identifier, or NULL; owned */
	char *settings;      /* its settings ("line:0 align:start"), or NULL; owned */
	char *text;          /* the payload, lines joined by \n, UTF-8; owned */
	int line;            /* the line of its timing in the file read */
};

/* A file's cues. Embedded: vs_vtt_release() frees what it holds. */
struct vs_vtt {
	struct vs_vtt_cue *cues;  /* in order of start (then of the file) */
	int n, cap;
	char *blocks;        /* STYLE and REGION blocks, as written, or NULL */
	bool srt;            /* it was SubRip */
	int reordered;       /* cues that came before one they start before */
	int overlaps;        /* cues that start before the one before ends */
	int empty;           /* cues without text, dropped */
	int clamped, dropped; /* by vs_vtt_clamp */
};

/* Frees what v holds and zeroes it. Accepts a zeroed one. */
void vs_vtt_release(struct vs_vtt *v);

/*
 * Reads the len bytes at text, WebVTT or SubRip (told from the text), into
 * *v (set from scratch). Returns 0 or VS_ERR: not either format, bad
 * encoding (NUL bytes, a UTF-16 file that does not convert), a cue timing
 * that cannot be read or ends before it starts, too many cues; the message
 * names the line. *v holds nothing on failure.
 */
int vs_vtt_parse(const char *text, size_t len, struct vs_vtt *v);

/* The same, of the file at path (at most VS_VTT_FILE_MAX bytes); an error
 * names the file and the line. */
int vs_vtt_read_file(const char *path, struct vs_vtt *v);

/* Adds a cue (start < end; text UTF-8, copied) in its place by start time.
 * Returns 0 or VS_ERR (a bad timing, too many cues, out of memory). */
int vs_vtt_add(struct vs_vtt *v, double start, double end, const char *text);

/* To a video duration_s long: cues starting at or after it are dropped,
 * cues ending after it end there (v->dropped, v->clamped). */
void vs_vtt_clamp(struct vs_vtt *v, double duration_s);

/* The WebVTT file of v (malloced), or NULL when out of memory. */
char *vs_vtt_text(const struct vs_vtt *v);

/*
 * One WebVTT segment of v for an HLS subtitle playlist: the cues shown in
 * [start_s, end_s) (a cue crossing a boundary goes in both segments, as
 * RFC 8216 3.5 asks), under an X-TIMESTAMP-MAP header that says media
 * time 0 is at MPEG-2 time mpegts (90 kHz: the package's first video
 * frame). Malloced, or NULL when out of memory.
 */
char *vs_vtt_segment_text(const struct vs_vtt *v, double start_s, double end_s, long long mpegts);

/* Reads a WebVTT timestamp, (HH:)MM:SS.fff, at s: its seconds, and *rest
 * past it; NAN (and *rest = s) if there is none. SubRip's comma is taken
 * for the dot when comma is set. */
double vs_vtt_time(const char *s, bool comma, const char **rest);

#endif
