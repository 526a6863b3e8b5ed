#ifndef VS_RUNGS_H
#define VS_RUNGS_H

#include <pthread.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "frameq.h"
#include "ladder.h"
#include "vs.h"

/*
 * The encoding side of the engine (transcode.h): one encoder per rung of
 * the ladder, each in a thread of its own. A rung takes decoded frames and
 * encoded audio packets from its queue (frameq.h), scales the frames to its
 * size, encodes them as H.264 High with x264, and muxes video and audio
 * into one MP4 with the index first. It measures what it writes: bytes of
 * video and audio, frames, and the peak bit rate over any one GOP.
 *
 * Keyframes are forced at exact multiples of gop_s (and at start_gop_s), by
 * timestamp, and x264 adds none in between, so that every rung cuts at the
 * same instants.
 */

/* What every rung of one encode shares. */
struct vs_rungs_opts {
	int fps_num, fps_den; /* output frame rate (vs_ladder_fps) */
	double gop_s;         /* seconds between keyframes */
	double start_gop_s;   /* and one at this time, when > 0 (vs_ladder_start_gop) */
	const char *preset;   /* x264 preset */
	int crf;
	int threads;          /* threads per x264 encoder; 0: x264 decides */
	int queue_len;        /* frames and packets waiting per rung (frameq.h) */
};

/* One rung being encoded. Zeroed, then spec, opts and path set by the
 * caller before vs_rungs_open(). */
struct vs_rungs_enc {
	const struct vs_rung *spec;
	const struct vs_rungs_opts *opts; /* borrowed, outlives the rung */
	char *path;                 /* owned */
	struct vs_frameq q;
	bool queue_ready;
	pthread_t thread;
	bool started;
	struct SwsContext *sws;
	AVBufferPool *pool;         /* scaled frames, reused: no page faults per frame */
	AVCodecContext *enc;
	AVFormatContext *mux;
	AVStream *vst, *ast;
	AVRational audio_tb;
	AVPacket *pkt;
	/* measured */
	int64_t video_bytes, audio_bytes;
	int64_t gop_bytes, gop_start;  /* current GOP, in encoder time base */
	double peak_bps;
	int64_t frames;
	int64_t last_pts;
	/* failure, set by the thread */
	int failed;
	char error[256];
};

/*
 * Opens r's H.264 encoder and creates r->path with its MP4 header written:
 * a video stream, and an audio stream taking aenc's packets unless aenc
 * (borrowed, already open) is NULL. Returns 0 or VS_ERR; r is released with
 * vs_rungs_release() either way.
 */
int vs_rungs_open(struct vs_rungs_enc *r, const AVCodecContext *aenc);

/*
 * Starts r's thread, which encodes what is put on r->q: a frame (pts in
 * frames of the output rate) is scaled and encoded, a packet (in aenc's
 * time base) is muxed; an item with neither ends the stream, and the
 * thread flushes the encoder and finishes the file. A failure there sets
 * r->failed and r->error ("<label>: <what>: <reason>"), and the rest is
 * taken off the queue and dropped. Returns 0 or VS_ERR.
 */
int vs_rungs_start(struct vs_rungs_enc *r);

/* Ends r's stream and waits for its thread to finish the file. */
void vs_rungs_stop(struct vs_rungs_enc *r);

/* Stops r's thread if it runs, then frees what r holds; the file stays. */
void vs_rungs_release(struct vs_rungs_enc *r);

#endif
