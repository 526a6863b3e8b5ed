#ifndef VS_DASH_H
#define VS_DASH_H

#include <jansson.h>

#include "segment.h"
#include "vs.h"

/*
 * DASH (ISO/IEC 23009-1): a static MPD, live profile, over the very fMP4
 * segments the HLS package holds (segment.h), so that one set of files
 * serves both. Each representation gets a SegmentTemplate with an explicit
 * SegmentTimeline (timescale 1000) of the measured segment durations. No
 * I/O here: text in, text out.
 */

/* A text track, one WebVTT file for the whole presentation. */
struct vs_dash_text {
	const char *id, *language, *label;
	const char *role;   /* caption or subtitle (urn:mpeg:dash:role:2011) */
	const char *file;   /* relative to the MPD */
};

/*
 * The manifest.mpd text (malloced; NULL when out of memory). renditions
 * (borrowed) is the record's "renditions" array (label, codecs, width,
 * height, frame_rate), tracks[i] what vs_segment_cut() made of rendition i
 * in directory <label>/; audio (NULL: muxed into the video) the audio
 * rendition in audio/, texts[0 … n_texts) the text tracks, each an adaptation
 * set. seg_s is the segment length asked for, duration the presentation's,
 * both in seconds.
 */
char *vs_dash_mpd_text(const json_t *renditions, const struct vs_segment_track *tracks,
                       const struct vs_segment_track *audio, const struct vs_dash_text *texts, int n_texts,
                       double seg_s, double duration);

#endif
