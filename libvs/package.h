#ifndef VS_PACKAGE_H
#define VS_PACKAGE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Packaging: remux (never re-encode) a video's renditions into HLS, with
 * libavformat doing the container work and the playlists written here from
 * the measured segments.
 *
 * Layout of a package (MEDIA_ROOT/<id>/hls, or --out):
 *
 *     master.m3u8              written last
 *     <label>/index.m3u8       media playlist
 *     <label>/iframes.m3u8     I-frame playlist (byte ranges into the segments)
 *     <label>/init.mp4         fMP4 init segment (CMAF)
 *     <label>/seg-00001.m4s    media segments (.ts for MPEG-TS)
 *     audio/…                  the audio rendition, with --audio-group
 *     manifest.mpd             DASH, over the same segments (--dash)
 *     chapters.vtt, storyboard.jpg, storyboard.vtt, poster.jpg
 *
 * The package is built in a temporary directory beside it and renamed into
 * place whole. MEDIA_ROOT/<id>/package-finished.json remembers what it was
 * made of (options, and the inputs' paths, sizes and times): packaging the
 * same inputs the same way again reuses it, unless forced. With AES-128 the key lives in MEDIA_ROOT/<id>/keys/, never in
 * the package.
 */

#define VS_SEGMENT_SECONDS_DEFAULT 6.0
#define VS_KEY_ENDPOINT "/api/v1/videos/%s/key" /* vs-cgi's key endpoint */

struct vs_package_opts {
	const char *media_root;
	PGconn *db;               /* NULL: no database */
	const char *out;          /* package directory, or NULL for the default */
	double segment_s;
	bool ts;                  /* MPEG-TS segments instead of fMP4 */
	bool audio_group;         /* one audio rendition shared by all variants */
	bool dash;                /* also write manifest.mpd (fMP4 only) */
	bool encrypt;             /* AES-128 */
	const char *key_uri;      /* NULL: VS_KEY_ENDPOINT for the video */
	bool force;               /* package again even when a finished one exists */
	bool *reused;             /* set when the finished package was reused */
};

#define VS_PACKAGE_OPTS_INIT {.segment_s = VS_SEGMENT_SECONDS_DEFAULT}

/*
 * Packages the renditions of rec (borrowed, completed with "package").
 * Returns 0, VS_ERR (bad record, segment length not a multiple of the GOP,
 * unreadable rendition) or VS_ETEMP (database unavailable).
 */
int vs_package(json_t *rec, const struct vs_package_opts *opts);

#endif
