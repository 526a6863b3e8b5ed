#include "frameq.h"

void vs_frameq_init(struct vs_frameq *q, int cap)
{
	q->cap = cap < 1 ? 1 : cap > VS_FRAMEQ_MAX ? VS_FRAMEQ_MAX : cap;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->head = q->count = 0;
}

void vs_frameq_release(struct vs_frameq *q)
{
	for (int i = 0; i < q->count; i++) {
		struct vs_frameq_item *it = &q->items[(q->head + i) % q->cap];

		av_frame_free(&it->frame);
		av_packet_free(&it->packet);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
}

void vs_frameq_put(struct vs_frameq *q, struct vs_frameq_item it)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == q->cap)
		pthread_cond_wait(&q->not_full, &q->mu);
	q->items[(q->head + q->count) % q->cap] = it;
	q->count++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

struct vs_frameq_item vs_frameq_get(struct vs_frameq *q)
{
	struct vs_frameq_item it;

	pthread_mutex_lock(&q->mu);
	while (q->count == 0)
		pthread_cond_wait(&q->not_empty, &q->mu);
	it = q->items[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->mu);
	return it;
}
