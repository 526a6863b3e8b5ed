#include <ctype.h>
#include <math.h>
#include <strings.h>

#include "error.h"
#include "ladder.h"

static const struct {
	int side;
	long maxrate;
} default_caps[] = {
	{144, 150000}, {240, 250000}, {360, 800000}, {480, 1400000}, {540, 2000000},
	{720, 2800000}, {1080, 5000000}, {1440, 9000000}, {2160, 16000000},
};

long vs_ladder_default_maxrate(int side)
{
	size_t n = VS_ARRAY_SIZE(default_caps);

	if (side <= default_caps[0].side)
		return default_caps[0].maxrate;
	for (size_t i = 1; i < n; i++) {
		if (side <= default_caps[i].side) {
			double f = (double)(side - default_caps[i - 1].side) /
			           (default_caps[i].side - default_caps[i - 1].side);

			return lround(default_caps[i - 1].maxrate +
			              f * (default_caps[i].maxrate - default_caps[i - 1].maxrate));
		}
	}
	return default_caps[n - 1].maxrate;
}

int vs_ladder_parse(const char *spec, int *sides, int max)
{
	int n = 0;
	const char *p = spec;

	while (*p) {
		size_t len = strcspn(p, ",");
		char *end = NULL;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v < 16 || v > 4320 ||
		    (end < p + len && !(tolower((unsigned char)*end) == 'p' && end + 1 == p + len)) ||
		    end > p + len)
			return vs_fail(VS_ERR, VS_E_INVALID, "bad rung '%.*s': use e.g. 720p", (int)len, p);
		if (n == max)
			return vs_fail(VS_ERR, VS_E_INVALID, "more than %d rungs", max);
		sides[n++] = (int)v;
		p += len;
		if (*p == ',')
			p++;
	}
	if (n == 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "the ladder is empty");
	/* ascending, unique */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && sides[j] < sides[j - 1]; j--) {
			int t = sides[j];
			sides[j] = sides[j - 1];
			sides[j - 1] = t;
		}
	int k = 1;
	for (int i = 1; i < n; i++)
		if (sides[i] != sides[k - 1])
			sides[k++] = sides[i];
	return k;
}

static int even(double v)
{
	int e = (int)lround(v / 2.0) * 2;

	return e < 2 ? 2 : e;
}

static double codec_efficiency(const char *codec)
{
	if (!codec)
		return 1.0;
	if (!strcmp(codec, "hevc") || !strcmp(codec, "vp9"))
		return 1.5;
	if (!strcmp(codec, "av1"))
		return 2.0;
	return 1.0;
}

static void add_rung(struct vs_ladder *l, const struct vs_ladder_input *in, int side,
                     long maxrate_override)
{
	struct vs_rung *r = &l->rungs[l->n++];
	bool portrait = in->display_height > in->display_width;
	int longer = portrait ? in->display_height : in->display_width;
	int shorter = portrait ? in->display_width : in->display_height;
	int other = even((double)side * longer / shorter);
	long cap;

	snprintf(r->label, sizeof(r->label), "%dp", side);
	r->width = portrait ? even(side) : other;
	r->height = portrait ? other : even(side);
	r->maxrate = maxrate_override > 0 ? maxrate_override : vs_ladder_default_maxrate(side);
	if (in->fps > 30.5)
		r->maxrate = lround(r->maxrate * VS_HIGH_FPS_FACTOR);
	r->cap_reason = maxrate_override > 0 ? "--maxrate" : "default";
	if (in->source_video_bps > 0) {
		double share = (double)r->width * r->height /
		               ((double)in->display_width * in->display_height);

		cap = lround(in->source_video_bps * pow(share, VS_SOURCE_CAP_EXPONENT) *
		             codec_efficiency(in->source_codec));
		if (cap < VS_MIN_MAXRATE)
			cap = VS_MIN_MAXRATE;
		if (cap < r->maxrate) {
			r->maxrate = cap;
			r->cap_reason = "source";
		}
	}
	r->bufsize = lround(r->maxrate * VS_BUFSIZE_FACTOR);
}

int vs_ladder_plan(const struct vs_ladder_input *in, const int *sides, int n_sides,
                   long maxrate_override, struct vs_ladder *out)
{
	int shorter;

	memset(out, 0, sizeof(*out));
	if (in->display_width <= 0 || in->display_height <= 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "the source has no picture size");
	shorter = in->display_width < in->display_height ? in->display_width : in->display_height;
	for (int i = 0; i < n_sides; i++) {
		if (sides[i] <= shorter) {
			add_rung(out, in, sides[i], maxrate_override);
		} else {
			snprintf(out->skipped[out->n_skipped++], sizeof(out->skipped[0]),
			         "%dp skipped: source is %dp", sides[i], shorter);
		}
	}
	if (out->n == 0)
		add_rung(out, in, shorter & ~1, maxrate_override);
	return 0;
}

void vs_ladder_fps(double src, int *num, int *den)
{
	static const struct {
		int num, den;
	} std[] = {{24000, 1001}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1},
	           {48, 1}, {50, 1}, {60000, 1001}, {60, 1}};

	if (!(src > 0) || !isfinite(src))
		src = 30;
	while (src > VS_FPS_MAX + 0.01)
		src /= 2;
	for (size_t i = 0; i < VS_ARRAY_SIZE(std); i++) {
		double v = (double)std[i].num / std[i].den;

		if (fabs(src - v) / v < 0.001) {
			*num = std[i].num;
			*den = std[i].den;
			return;
		}
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(std); i++) {
		double v = (double)std[i].num / std[i].den;

		if (fabs(src - v) / v < 0.03) {
			*num = std[i].num;
			*den = std[i].den;
			return;
		}
	}
	*num = (int)lround(src) > 0 ? (int)lround(src) : 1;
	*den = 1;
}

double vs_ladder_start_gop(double start_s, double gop_s)
{
	/* a start GOP within a frame of the whole GOP would make a segment of
	 * one frame, or none */
	return start_s > 0 && start_s < gop_s - 0.05 ? start_s : 0;
}
