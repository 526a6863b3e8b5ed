#ifndef VS_FRAMEQ_H
#define VS_FRAMEQ_H

#include <pthread.h>

#include <libavcodec/avcodec.h>

#include "vs.h"

/*
 * A bounded queue of frames and packets handed from one thread to another:
 * the decoding thread puts, a rung's encoding thread (rungs.h) gets. put
 * waits while the queue is full and get while it is empty, so that a slow
 * encoder holds the decoder back instead of letting frames pile up.
 *
 * One producer and one consumer per queue; embedded in its owner, with
 * vs_frameq_init() and vs_frameq_release().
 */

#define VS_FRAMEQ_MAX 32 /* frames or packets waiting per rung, at most */

struct vs_frameq_item {
	AVFrame *frame;   /* owned; or */
	AVPacket *packet; /* owned; both NULL: end of stream */
};

struct vs_frameq {
	pthread_mutex_t mu;
	pthread_cond_t not_full, not_empty;
	struct vs_frameq_item items[VS_FRAMEQ_MAX];
	int head, count, cap;
};

/* An empty queue of cap items (1 to VS_FRAMEQ_MAX; beyond, the nearest). */
void vs_frameq_init(struct vs_frameq *q, int cap);

/* Frees what is still queued and the queue's lock; no thread may be
 * waiting on it. */
void vs_frameq_release(struct vs_frameq *q);

/* Appends it, waiting while the queue is full; the queue owns its frame
 * or packet from then on. */
void vs_frameq_put(struct vs_frameq *q, struct vs_frameq_item it);

/* Takes the oldest item, waiting while the queue is empty; the caller owns
 * its frame or packet. */
struct vs_frameq_item vs_frameq_get(struct vs_frameq *q);

#endif
