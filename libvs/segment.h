#ifndef VS_SEGMENT_H
#define VS_SEGMENT_H

#include "hls.h"
#include "vs.h"

/*
 * The segmenter: remuxes (never re-encodes) one rendition into HLS media
 * segments, fMP4 (CMAF) or MPEG-TS, optionally encrypted with AES-128, and
 * measures what it wrote so that the playlists (hls.h) and the DASH
 * manifest (dash.h) can be made from the segments as they are.
 *
 * Files written into a track's directory, each via a temporary file and a
 * rename (fsutil.h):
 *
 *     init.mp4                 fMP4 only: ftyp+moov, never encrypted
 *     seg-00001.m4s …          one moof+mdat per GOP (.ts for MPEG-TS)
 *
 * Segments are cut on the first keyframe at or after each multiple of the
 * segment length (an audio-only track on any packet), so that with a GOP
 * dividing the segment length every segment is the same length but the
 * last; and, when asked, at the first keyframe at or after a shorter first
 * length (the encode's start GOP: a player starts after one segment). The
 * same input gives the same bytes (AVFMT_FLAG_BITEXACT).
 */

/* What of a rendition a track takes. */
enum vs_segment_kind {
	VS_SEGMENT_MUXED,      /* video and audio, if it has audio */
	VS_SEGMENT_VIDEO_ONLY, /* the video (the audio is a rendition of its own) */
	VS_SEGMENT_AUDIO_ONLY, /* the audio rendition (--audio-group) */
};

/* An AES-128 content key (RFC 8216 4.3.2.4): the same key and IV for every
 * segment of a package. */
struct vs_segment_key {
	unsigned char key[16], iv[16];
	char iv_hex[33];     /* iv as 32 lower-case hex digits, for EXT-X-KEY */
	bool on;             /* false: segments are written in the clear */
};

/* What segmenting one rendition produced. Embedded: the caller owns it and
 * vs_segment_track_release()s it. */
struct vs_segment_track {
	struct vs_hls_segment *segs;    /* the media segments, owned */
	int n, cap;
	struct vs_hls_segment *iframes; /* byte ranges of the keyframes, owned */
	int ni, icap;
	double duration;                /* seconds, the sum of the segments' */
	double first_pts_s;             /* when the first video frame is shown, in the package's own
	                                   timestamps (what subtitles' X-TIMESTAMP-MAP maps to) */
	long long bytes;                /* of all segments, as written */
	long peak_bps, avg_bps, iframe_peak_bps;
};

/* Frees what t holds (t itself is the caller's). Accepts a zeroed track. */
void vs_segment_track_release(struct vs_segment_track *t);

/*
 * Cuts src (a local MP4 rendition) into segments of about seg_s seconds in
 * the existing directory dir, the first first_s long when 0 < first_s <
 * seg_s: MPEG-TS with ts, else fMP4 with its init segment. With key (borrowed, may be NULL) on, each segment is encrypted
 * whole (AES-128-CBC, PKCS7 padding) and sizes and rates are those of the
 * ciphertext; an encrypted track has no I-frame ranges. *t is set from
 * scratch and owns what it holds, even on failure (release it then too).
 * Returns 0 or VS_ERR (src unreadable, without the stream kind needs, or a
 * write failed); files written before a failure are left in dir.
 */
int vs_segment_cut(const char *src, const char *dir, enum vs_segment_kind kind, bool ts, double seg_s,
                   double first_s, const struct vs_segment_key *key, struct vs_segment_track *t);

#endif
