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

/*
 * The manifest.mpd text (malloced; NULL when out of memory). renditions
 * (borrowed) is the record's "renditions" array (label, codecs, width,
 * height, frame_rate), tracks[i] what vs_segment_cut() made of rendition i
 * in directory <label>/; audio (NULL: muxed into the video) the audio
 * rendition in audio/. seg_s is the segment length asked for, duration the
 * presentation's, both in seconds.
 */
char *vs_dash_mpd_text(const json_t *renditions, const struct vs_segment_track *tracks,
                       const struct vs_segment_track *audio, double seg_s, double duration);

#endif
