/*
 * progress-oracle: the progress rules of vs-progress(1), written again from
 * the man page one event at a time, independently of libvs/progress.c
 * (which applies them set-based in SQL). tests/progress-rules.bats imports
 * random events through vs-progress and compares the rows with this.
 *
 *   progress-oracle generate N SEED   N random events (NDJSON) of a few
 *                                     viewers on two videos, 600 s and 20 s
 *   progress-oracle apply < events    the final state of each viewer and
 *                                     video, sorted: user|video|position|
 *                                     percent|completed|watch count|last
 *
 * Events carry user, video (the slug), position, duration and at, and are
 * all valid.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE 0.90
#define TAIL_S 30.0
#define IDLE_S 1800.0
#define MAX_ROWS 4096

struct row {
	char user[40], video[40];
	bool exists, completed, finished_last;
	double position, percent, last;
	int watch_count;
};

static struct row rows[MAX_ROWS];
static int nrows;

static struct row *find(const char *user, const char *video)
{
	for (int i = 0; i < nrows; i++)
		if (!strcmp(rows[i].user, user) && !strcmp(rows[i].video, video))
			return &rows[i];
	if (nrows == MAX_ROWS)
		abort();
	snprintf(rows[nrows].user, sizeof(rows->user), "%s", user);
	snprintf(rows[nrows].video, sizeof(rows->video), "%s", video);
	return &rows[nrows++];
}

static double threshold(double d)
{
	double t = d * SHARE;

	return d > 2 * TAIL_S && d - TAIL_S < t ? d - TAIL_S : t;
}

static void apply(struct row *r, double pos, double dur, double at)
{
	double thr = threshold(dur), furthest, p = pos > dur ? dur : pos;
	bool finished = p >= thr, session;

	if (r->exists && at <= r->last)
		return; /* last write wins by event time */
	session = !r->exists || (r->finished_last && !finished) || at - r->last > IDLE_S;
	furthest = r->exists ? fmax(r->percent * dur / 100, p) : p;
	if (furthest >= thr)
		r->completed = true;
	/* to the hundredth, a half away from zero as in decimal (the epsilon:
	 * 55.405 is 55.404999… in binary) */
	r->percent = fmin(100, round(furthest / dur * 10000 + 1e-7) / 100);
	r->position = finished ? 0 : p;
	r->finished_last = finished;
	r->watch_count += session;
	r->last = at;
	r->exists = true;
}

static int by_key(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c ? c : strcmp(x->video, y->video);
}

static int generate(long n, unsigned seed)
{
	static const char *videos[] = {"long-video", "short-video"};
	static const double durations[] = {600, 20};
	double clock = 1e9;

	srand(seed);
	for (long i = 0; i < n; i++) {
		int v = rand() % 2;
		double d = durations[v], pos;

		/* mostly forwards, some late or repeated events, some long pauses */
		clock += rand() % 10 == 0 ? IDLE_S + rand() % 600 : rand() % 60;
		pos = rand() % 40 == 0 ? d * (0.85 + (rand() % 20) / 100.0) : (rand() % (int)(d * 1000)) / 1000.0;
		printf("{\"user\":\"%08x-0000-4000-8000-000000000000\",\"video\":\"%s\",\"position\":%.3f,"
		       "\"duration\":%g,\"at\":%.3f}\n",
		       rand() % 300, videos[v], pos, d, rand() % 6 == 0 ? clock - rand() % 300 : clock);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;

	if (argc == 4 && !strcmp(argv[1], "generate"))
		return generate(atol(argv[2]), (unsigned)atoi(argv[3]));
	if (argc != 2 || strcmp(argv[1], "apply")) {
		fprintf(stderr, "usage: progress-oracle generate N SEED | apply < events\n");
		return 2;
	}
	while (getline(&line, &cap, stdin) > 0) {
		json_t *e = json_loads(line, 0, NULL);

		if (!e)
			return 1;
		apply(find(json_string_value(json_object_get(e, "user")), json_string_value(json_object_get(e, "video"))),
		      json_number_value(json_object_get(e, "position")), json_number_value(json_object_get(e, "duration")),
		      json_number_value(json_object_get(e, "at")));
		json_decref(e);
	}
	free(line);
	qsort(rows, (size_t)nrows, sizeof(*rows), by_key);
	for (int i = 0; i < nrows; i++)
		printf("%s|%s|%.3f|%.2f|%s|%d|%.3f\n", rows[i].user, rows[i].video, rows[i].position, rows[i].percent,
		       rows[i].completed ? "t" : "f", rows[i].watch_count, rows[i].last);
	return 0;
}
