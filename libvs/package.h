#ifndef VS_PACKAGE_H
#define VS_PACKAGE_H

#include <jansson.h>

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
 *     progressive.mp4          the lowest rung whole, for players with neither
 *                              MSE nor HLS (not with AES-128, nor --no-fallback)
 *
 * The package is built in a temporary directory beside it and renamed into
 * place whole. MEDIA_ROOT/<id>/package-finished.json remembers what it was
 * made of (options, and the inputs' paths, sizes and times): packaging the
 * same inputs the same way again reuses it, unless forced. With AES-128 the
 * key lives in MEDIA_ROOT/<id>/keys/, never in the package; keeping it in
 * the database is the caller's business (key_ready below).
 *
 * The segments come from segment.h, manifest.mpd from dash.h, the
 * playlists' text from hls.h; this module is the job that puts them
 * together.
 */

/* The default segment length: the shortest whole number of the encode's
 * GOPs that lasts at least this long (one GOP of vs-encode's default).
 * Short segments start playback sooner (a player waits for one whole
 * segment), switch rungs sooner and seek sooner; the keyframes are the
 * encode's either way, so they cost a few hundred bytes of fMP4 headers
 * each, and requests. */
#define VS_SEGMENT_SECONDS_DEFAULT 2.0
#define VS_KEY_ENDPOINT "/api/v1/videos/%s/key" /* vs-cgi's key endpoint */
#define VS_PACKAGE_FALLBACK "progressive.mp4"     /* the lowest rung, a progressive MP4 */

struct vs_package_opts {
	const char *media_root;
	const char *out;          /* package directory, or NULL for the default */
	double segment_s;         /* 0: the default above */
	bool ts;                  /* MPEG-TS segments instead of fMP4 */
	bool audio_group;         /* one audio rendition shared by all variants */
	bool dash;                /* also write manifest.mpd (fMP4 only); implies
	                             audio_group: DASH players want audio apart */
	bool encrypt;             /* AES-128 */
	const char *key_uri;      /* NULL: VS_KEY_ENDPOINT for the video */
	bool force;               /* package again even when a finished one exists */
	bool no_fallback;         /* no VS_PACKAGE_FALLBACK */
	bool *reused;             /* set when the finished package was reused */
	/*
	 * With encrypt: called with the video's key and IV (borrowed) once
	 * they are known, before the first segment is encrypted with them and
	 * so before the package is in place; not when a finished package is
	 * reused. The caller keeps the key where its key endpoint finds it
	 * (vs-package: vs_catalog_store_key()). A negative return stops the
	 * job and is vs_package()'s, with the message the hook set. NULL: the
	 * key is kept only in MEDIA_ROOT/<id>/keys/.
	 */
	int (*key_ready)(const char *id, const uint8_t key[16], const uint8_t iv[16], void *ctx);
	void *key_ctx;
};

#define VS_PACKAGE_OPTS_INIT {.segment_s = 0}

/*
 * Packages the renditions of rec (borrowed, completed with "package").
 * Returns 0, VS_ERR (bad record, a segment length given that is not a
 * multiple of the GOP, unreadable rendition) or what opts->key_ready returned (vs-package's:
 * VS_ETEMP when the database is unavailable).
 */
int vs_package(json_t *rec, const struct vs_package_opts *opts);

#endif
