#ifndef VS_DECODE_H
#define VS_DECODE_H

#include <jansson.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>

#include "rungs.h"
#include "thumbs.h"
#include "vs.h"

/*
 * The decoding side of the engine (transcode.h), run in the caller's
 * thread: it opens the source, decodes its video and audio once, and hands
 * the results to every rung (rungs.h) through the rungs' queues.
 *
 * Video goes through one filter graph: bwdif when the stream is interlaced
 * (it touches only the frames marked so), a transpose or flip for the
 * probe's rotation, then fps, which drops or repeats frames to the nearest
 * instant of the output rate counted from the video's own start. Its
 * frames, pts counted in output frames from 0, go to the thumbnails
 * (thumbs.h) and to each rung.
 *
 * Audio is resampled to stereo float at 48 kHz, lined up with the video's
 * time 0 (silence in front of a late start, the samples before the picture
 * dropped), and encoded once as AAC-LC; the same packets go to every rung.
 */

struct vs_decode_opts {
	int fps_num, fps_den; /* output frame rate */
	long audio_bps;       /* AAC bit rate */
	/* Called by vs_decode_progress(), or NULL. */
	void (*progress)(double done_s, double total_s, double elapsed_s, void *ctx);
	void *progress_ctx;
};

/* One decode, embedded in its owner: vs_decode_init(), then
 * vs_decode_open() and vs_decode_open_codecs(), the caller sets up
 * thumbs and the rungs, then vs_decode_packet() for every packet read and
 * vs_decode_flush() at the end; vs_decode_release() in every case. */
struct vs_decode {
	const struct vs_decode_opts *opts; /* borrowed, outlives the decode */
	AVFormatContext *in;
	int vi, ai;                  /* stream indexes; ai < 0: no audio */
	AVCodecContext *vdec, *adec, *aenc;
	AVFilterGraph *graph;
	AVFilterContext *src, *sink;
	struct SwrContext *swr;
	AVAudioFifo *fifo;
	struct vs_rungs_enc *rungs;  /* n of them, calloced, owned; set by the caller */
	int n;
	struct vs_thumbs thumbs;     /* owned; vs_thumbs_init() by the caller */
	AVFrame *frame, *filtered, *aframe;
	AVPacket *pkt;
	double base_s;       /* source time of output time 0 */
	int64_t first_out;   /* the fps filter's first pts */
	int64_t end_pts;     /* end of the last decoded frame, stream time base */
	int64_t audio_samples; /* samples handed to the AAC encoder */
	bool audio_started;
	int decode_errors;
	double done_s, duration;     /* output seconds done; the probe's duration (caller) */
	struct timespec t0;
	double last_progress;
};

/* Starts p, with nothing open, its clock at 0. */
void vs_decode_init(struct vs_decode *p, const struct vs_decode_opts *opts);

/*
 * Opens the local file src (no protocol but file) and picks its streams:
 * the largest video that is not an attached picture, the best audio stream
 * to go with it, and discards the others. Returns 0 or VS_ERR
 * (not_a_video: cannot be opened or read, or no video stream).
 */
int vs_decode_open(struct vs_decode *p, const char *src);

/*
 * Opens the video decoder with video_threads threads (0: libavcodec
 * decides), the filter graph (probe, borrowed, gives the rotation), and for
 * a source with audio the audio decoder and the AAC encoder (p->aenc, whose
 * parameters the rungs' audio streams take). Returns 0 or VS_ERR.
 */
int vs_decode_open_codecs(struct vs_decode *p, const json_t *probe, int video_threads);

/*
 * Decodes pkt (borrowed; of any stream, those not picked are ignored) and
 * passes on what comes out. Returns 0 or an AVERROR; a packet that does
 * not decode only counts in p->decode_errors.
 */
int vs_decode_packet(struct vs_decode *p, AVPacket *pkt);

/* Drains the decoders, the filter graph, the resampler and the AAC encoder
 * at the end of the source. Returns 0 or an AVERROR. */
int vs_decode_flush(struct vs_decode *p);

/* Calls opts->progress with the output seconds done, if half a second has
 * passed since the last call (or the start); last: now, with all of
 * duration done. */
void vs_decode_progress(struct vs_decode *p, bool last);

/* Stops and releases the rungs, the thumbnails and everything p opened. */
void vs_decode_release(struct vs_decode *p);

#endif
