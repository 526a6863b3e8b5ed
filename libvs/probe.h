#ifndef VS_PROBE_H
#define VS_PROBE_H

#include <jansson.h>

#include "vs.h"

struct AVFormatContext;

/*
 * Probing a source with libavformat: what it is, and whether it is a video
 * the rest of the pipeline can play.
 */

/*
 * Probes the local file path and decides whether it is a playable video.
 *
 * On success *probe (new reference) is the record's "probe" section —
 * duration, format, bit_rate; video {codec, width, height, display_width,
 * display_height, rotation, fps, pix_fmt, sar}; audio {codec, channels,
 * sample_rate} or null — and *chapters (new reference) the container's
 * chapters as [{"title", "start", "end"}], possibly empty.
 *
 * Fails with VS_ERR and one of these codes, the message giving the reason
 * (without the path: the caller names the input):
 *   not_a_video   empty, not a media file, text, a still image, audio only,
 *                 no duration, a video stream that cannot be decoded
 *   truncated     the file ends before the data its own index points to,
 *                 or packets stop well before the stated duration
 *   io_error      the file cannot be opened
 */
int vs_probe_file(const char *path, json_t **probe, json_t **chapters);

/* The MIME type for a probed source: by the file name's extension when it
 * is a known video one, else by the container. Never NULL. */
const char *vs_probe_content_type(const char *filename, const char *format);

/*
 * Routes libav* log messages: at VS_LOG_DEBUG they go to stderr; otherwise
 * they are kept silent, and the last error line is remembered per thread
 * for vs_probe_av_last_error(). Called by vs_probe_file(); harmless twice.
 */
void vs_probe_av_log_init(void);
const char *vs_probe_av_last_error(void); /* borrowed, "" if none */

/*
 * Opens a file of ours (a source already probed, a rendition) for reading
 * its packets: local files only ("file:" and nothing else, whatever its
 * name holds), stream information read. *fmt is the caller's to
 * avformat_close_input(). Returns 0 or an AVERROR code.
 */
int vs_probe_open_local(const char *path, struct AVFormatContext **fmt);

/* Where stream vi (a video stream of fmt) starts, in seconds: what the
 * encode's time 0 is, and every other timing of the source (chapters,
 * subtitles) is counted from. */
double vs_probe_video_start(const struct AVFormatContext *fmt, int vi);

#endif
