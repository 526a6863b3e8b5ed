#include "error.h"
#include "rollupdata.h"

/* Startup-time histogram edges, in milliseconds. */
const int vs_rollup_startup_edges_ms[] = {250, 500, 1000, 2000, 3000, 5000, 10000};
_Static_assert(VS_ARRAY_SIZE(vs_rollup_startup_edges_ms) + 1 == VS_ROLLUP_STARTUP_BINS, "a bin per edge, and one");


void vs_rollup_add(struct vs_rollup_figures *a, const struct vs_rollup_figures *b)
{
	a->views += b->views;
	a->started += b->started;
	a->completed += b->completed;
	a->watched_sum += b->watched_sum;
	a->start_failures += b->start_failures;
	a->errored += b->errored;
	a->watch_s += b->watch_s;
	a->buffering_ms += b->buffering_ms;
	a->buffering_events += b->buffering_events;
	a->switches += b->switches;
	a->seeks += b->seeks;
}

static void keyed_free(struct vs_rollup_keyed *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

void vs_rollup_release(struct vs_rollup *g)
{
	for (size_t i = 0; i < g->nvideos; i++)
		json_decref(g->videos[i].meta);
	free(g->videos);
	keyed_free(g->devices, g->ndevices);
	keyed_free(g->browsers, g->nbrowsers);
	keyed_free(g->os, g->nos);
	keyed_free(g->quality, g->nquality);
	free(g->periods);
	memset(g, 0, sizeof(*g));
}

int vs_rollup_add_keyed(struct vs_rollup_keyed **list, size_t *n, const char *key, const struct vs_rollup_figures *f)
{
	struct vs_rollup_keyed *grown;

	if (!key)
		key = "unknown";
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i].key, key)) {
			vs_rollup_add(&(*list)[i].f, f);
			return 0;
		}
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	*list = grown;
	grown[*n].key = strdup(key);
	grown[*n].f = *f;
	if (!grown[*n].key)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	(*n)++;
	return 0;
}

double vs_rollup_value(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : atof(PQgetvalue(r, row, col));
}

struct vs_rollup_video *vs_rollup_new_video(struct vs_rollup *g, const char *id)
{
	struct vs_rollup_video *grown = realloc(g->videos, (g->nvideos + 1) * sizeof(*grown)), *v;

	if (!grown) {
		vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		return NULL;
	}
	g->videos = grown;
	v = &grown[g->nvideos++];
	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
	return v;
}

int vs_rollup_add_period(struct vs_rollup *g, double start, const struct vs_rollup_figures *f)
{
	if (g->nperiods == 0 || g->periods[g->nperiods - 1].start != start) {
		struct vs_rollup_period *grown = realloc(g->periods, (g->nperiods + 1) * sizeof(*grown));

		if (!grown)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		g->periods = grown;
		grown[g->nperiods++] = (struct vs_rollup_period){.start = start};
	}
	vs_rollup_add(&g->periods[g->nperiods - 1].f, f);
	return 0;
}

int vs_rollup_startup_bin(double ms)
{
	int b = 0;

	while (b < (int)VS_ARRAY_SIZE(vs_rollup_startup_edges_ms) && ms >= vs_rollup_startup_edges_ms[b])
		b++;
	return b;
}

struct vs_rollup_figures vs_rollup_totals(const struct vs_rollup *g)
{
	struct vs_rollup_figures f = g->total;

	f.completed = g->completed;
	f.watched_sum = g->watched_sum;
	return f;
}
