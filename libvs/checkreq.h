#ifndef VS_CHECKREQ_H
#define VS_CHECKREQ_H

#include <stdio.h>

#include "vs.h"

/*
 * Internal to the package validator (check.h): what check.c, which reads
 * playlists and media segments, and checksubs.c, which checks subtitle
 * renditions, share. Not for programs.
 */

struct vs_check_ctx {
	FILE *out;
	const char *base; /* package directory, for relative names */
	int errors, warnings, variants, segments;
};

struct vs_check_seg {
	char *path;        /* resolved, owned */
	double duration;
	long long offset, length; /* byte range, -1 if none */
	double start;      /* first video (or audio) timestamp, NAN if not read */
};

struct vs_check_media {
	char *path;
	int version, target;
	bool endlist, iframes_only, encrypted;
	char *map;         /* resolved init segment or NULL */
	struct vs_check_seg *segs;
	int n;
	/* measured */
	double peak_bps, avg_bps, duration;
	int unmeasured;             /* segments not read (remote, missing): the rates are partial */
	/* from the first segment's streams */
	int width, height;
	double fps;
	char vcodecs[32];
	bool has_video, has_audio_aac;
};

/* A finding on c's output (check.h says its shape), counted. */
void vs_check_finding(struct vs_check_ctx *c, bool error, const char *rule, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* uri against the playlist it is in (malloced). */
char *vs_check_resolve(const char *playlist, const char *uri);

/* A regular file's size, -1 if there is none. */
long long vs_check_file_size(const char *path);

/* The lines of a playlist, trailing blanks cut (free with vs_check_free_lines). */
char **vs_check_read_lines(const char *path, int *n);
void vs_check_free_lines(char **lines, int n);

/* A media playlist into m (vs_check_media_release it), syntax findings on
 * c; -1 when it cannot be read at all. */
int vs_check_parse_media(struct vs_check_ctx *c, const char *path, struct vs_check_media *m);
void vs_check_media_release(struct vs_check_media *m);

/*
 * The subtitle renditions a master (path, its n lines) names: the groups
 * its variants (attrs[0 … nv), their EXT-X-STREAM-INF attributes) refer to,
 * each EXT-X-MEDIA TYPE=SUBTITLES's attributes, each subtitle playlist and
 * its WebVTT segments (they read, carry an X-TIMESTAMP-MAP that puts the
 * cues where the video is, video_start_s when known, else NAN; each cue
 * falls in its segment). Counts the playlists in c->segments.
 */
void vs_check_subtitles(struct vs_check_ctx *c, const char *path, char **lines, int n, char **attrs, int nv,
                        double video_start_s);

#endif
