#ifndef VS_SUBTITLES_H
#define VS_SUBTITLES_H

#include "vtt.h"
#include "vs.h"

/*
 * The text subtitle streams a source carries (mov_text in MP4; SubRip,
 * ASS/SSA and WebVTT in Matroska; any libavcodec decodes as text), read
 * with libavformat and libavcodec and turned into WebVTT cues by
 * libavcodec's WebVTT encoder, timed from the start of the video as the
 * encode counts it (vs_probe_video_start). Picture subtitles (DVD, PGS,
 * DVB) are not text: they are skipped.
 */

struct vs_subtitles_track {
	int stream;               /* its index in the source */
	char codec[32];
	char *language;           /* the stream's language tag as written (eng), or NULL; owned */
	char *title;              /* its title, or NULL; owned */
	bool is_default, forced, hearing_impaired; /* its dispositions */
	struct vs_vtt cues;
};

/* What a source's subtitle streams hold. Embedded: the caller
 * vs_subtitles_release()s it. */
struct vs_subtitles {
	struct vs_subtitles_track *tracks; /* in stream order, owned */
	int n;
	char *audio_language;     /* the main audio stream's language tag as written, or NULL; owned */
};

/*
 * The text subtitle streams of the local file path into *s (set from
 * scratch). A stream that cannot be decoded is skipped with a warning.
 * Returns 0 (s->n == 0 when there is none) or VS_ERR when the file cannot
 * be read.
 */
int vs_subtitles_read(const char *path, struct vs_subtitles *s);

void vs_subtitles_release(struct vs_subtitles *s);

#endif
