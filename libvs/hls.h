#ifndef VS_HLS_H
#define VS_HLS_H

#include "vs.h"

/*
 * HLS playlists (RFC 8216): written from measured segments, and read back
 * by the validator. No I/O here: text in, text out.
 */

struct vs_hls_segment {
	char *uri;          /* relative to the playlist; owned */
	double duration;    /* seconds */
	long long size;     /* bytes of the segment file (or of the byte range) */
	long long offset;   /* EXT-X-BYTERANGE offset, -1 for none */
};

struct vs_hls_media {
	bool iframes_only;        /* EXT-X-I-FRAMES-ONLY (byte ranges) */
	const char *map_uri;      /* EXT-X-MAP (fMP4 init segment) or NULL */
	const char *key_uri;      /* EXT-X-KEY METHOD=AES-128 or NULL */
	const char *key_iv_hex;   /* 32 hex digits */
	struct vs_hls_segment *segments;
	int n;
};

/* The lowest EXT-X-VERSION that allows the features m uses. */
int vs_hls_media_version(const struct vs_hls_media *m);

/* The media playlist text (malloced): EXT-X-VERSION, TARGETDURATION (the
 * longest EXTINF rounded to the nearest integer, RFC 8216 4.3.3.1),
 * PLAYLIST-TYPE:VOD, INDEPENDENT-SEGMENTS, MAP, KEY, segments, ENDLIST. */
char *vs_hls_media_text(const struct vs_hls_media *m);

struct vs_hls_variant {
	const char *uri;
	long bandwidth, average_bandwidth;
	int width, height;
	const char *codecs;
	double frame_rate;
	const char *audio_group;  /* NULL: audio muxed in */
	const char *iframe_uri;   /* its I-frame playlist, or NULL */
	long iframe_bandwidth;
};

struct vs_hls_audio {
	const char *group, *name, *language, *uri;
	int channels;
};

/* A subtitle rendition (EXT-X-MEDIA TYPE=SUBTITLES): names unique in the
 * group, language a BCP 47 tag. */
struct vs_hls_subtitles {
	const char *name, *language, *uri;
	bool is_default;
	bool captions;            /* for viewers who cannot hear: CHARACTERISTICS say so */
};

#define VS_HLS_SUBTITLES_GROUP "subs"

/* The master playlist text (malloced): variants ordered by BANDWIDTH; with
 * n_subs > 0 every variant names the subtitle group of subs. */
char *vs_hls_master_text(struct vs_hls_variant *v, int n, const struct vs_hls_audio *audio,
                         const struct vs_hls_subtitles *subs, int n_subs, int version);

/*
 * Reads attribute name of an attribute list ("BANDWIDTH=1,CODECS=\"a,b\"")
 * into out (quotes removed). Returns true if present.
 */
/* Writes s seconds as a WebVTT timestamp, HH:MM:SS.mmm (rounded to the
 * millisecond), into buf; returns buf. 16 bytes hold any time below 277
 * hours. */
char *vs_hls_vtt_time(double s, char *buf, size_t n);

bool vs_hls_attr(const char *list, const char *name, char *out, size_t n);

#endif
