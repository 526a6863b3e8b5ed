#ifndef VS_TEXTPKG_H
#define VS_TEXTPKG_H

#include <jansson.h>

#include "dash.h"
#include "hls.h"
#include "vs.h"

/*
 * A package's text tracks (the record's "captions", captions.h), as
 * players take them:
 *
 *     captions/<kind>-<lang>.vtt          the whole WebVTT file: DASH's text
 *                                         adaptation set, a player's <track>
 *     subs/<kind>-<lang>/index.m3u8       an HLS subtitle playlist …
 *     subs/<kind>-<lang>/seg-00001.vtt    … of WebVTT segments cut where the
 *                                         video's are, each under an
 *                                         X-TIMESTAMP-MAP (RFC 8216 3.5)
 *
 * and what the master playlist (EXT-X-MEDIA TYPE=SUBTITLES) and the MPD
 * say of them. The segments are not encrypted: captions are no secret.
 */

struct vs_textpkg {
	int n;
	struct vs_hls_subtitles *subs;  /* n, for the master; strings owned */
	struct vs_dash_text *texts;     /* n, for the MPD; strings owned */
	json_t *section;                /* the package section's "captions": language, label, kind,
	                                   default, playlist, file; new reference */
};

/*
 * Writes the tracks of captions (borrowed: the record's "captions") into
 * dir, the package being made, cutting segments where the video's segs[0
 * … nseg) are cut, X-TIMESTAMP-MAP's MPEGTS being mpegts (90 kHz: when the
 * package shows its first video frame). *t is set from scratch, and is
 * the caller's to release even on failure. Returns 0 or VS_ERR (a track's
 * file is gone or no longer reads: the message names it).
 */
int vs_textpkg_write(const char *dir, const json_t *captions, const struct vs_hls_segment *segs, int nseg,
                     long long mpegts, struct vs_textpkg *t);

void vs_textpkg_release(struct vs_textpkg *t);

#endif
