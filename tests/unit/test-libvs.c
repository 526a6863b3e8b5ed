/*
 * Unit tests of libvs's pure functions, run by tests/unit.bats. Each
 * check prints "ok" or "not ok" with its name; the exit status is the
 * number of failures (capped), so bats sees any failure.
 */
#include <math.h>

#include "hash.h"
#include "hls.h"
#include "ingest.h"
#include "ladder.h"
#include "transcode.h"

static int failures;

#define CHECK(name, cond)                                                   \
	do {                                                                \
		if (cond) {                                                 \
			printf("ok %s\n", name);                            \
		} else {                                                    \
			printf("not ok %s (%s:%d)\n", name, __FILE__, __LINE__); \
			failures++;                                         \
		}                                                           \
	} while (0)

static void ladder(void)
{
	int sides[VS_LADDER_MAX_RUNGS], n;
	struct vs_ladder l;
	struct vs_ladder_input in = {.display_width = 1280, .display_height = 720, .fps = 30};

	n = vs_ladder_parse("1080p,360p,720p,360p", sides, VS_LADDER_MAX_RUNGS);
	CHECK("ladder parse sorts and dedupes", n == 3 && sides[0] == 360 && sides[2] == 1080);
	CHECK("ladder parse refuses 720q", vs_ladder_parse("720q", sides, 8) < 0);
	CHECK("ladder parse refuses empty", vs_ladder_parse("", sides, 8) < 0);
	CHECK("ladder parse refuses 9 rungs",
	      vs_ladder_parse("100,200,300,400,500,600,700,800,900", sides, 8) < 0);

	n = vs_ladder_parse(VS_LADDER_DEFAULT, sides, 8);
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("720p source: two rungs", l.n == 2);
	CHECK("720p source: 640x360 and 1280x720", l.rungs[0].width == 640 && l.rungs[0].height == 360 &&
	                                            l.rungs[1].width == 1280 && l.rungs[1].height == 720);
	CHECK("720p source: 1080p skipped with the reason",
	      l.n_skipped == 1 && !strcmp(l.skipped[0], "1080p skipped: source is 720p"));
	CHECK("default caps", l.rungs[0].maxrate == 800000 && l.rungs[1].bufsize == 5600000);

	in.display_width = 1080;
	in.display_height = 1920; /* portrait */
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("portrait 1080p: three rungs, width is the short side",
	      l.n == 3 && l.rungs[2].width == 1080 && l.rungs[2].height == 1920 &&
	      l.rungs[0].width == 360 && l.rungs[0].height == 640);

	in.display_width = 160;
	in.display_height = 90;
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("tiny source: one rendition at its own size",
	      l.n == 1 && l.rungs[0].width == 160 && l.rungs[0].height == 90 &&
	      !strcmp(l.rungs[0].label, "90p"));

	in.display_width = 1920;
	in.display_height = 1080;
	in.source_video_bps = 1000000;
	in.source_codec = "h264";
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("source cap: 1080p gets at most the source's rate",
	      l.rungs[2].maxrate == 1000000 && !strcmp(l.rungs[2].cap_reason, "source"));
	in.source_codec = "hevc";
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("source cap: HEVC counts 1.5 times", l.rungs[2].maxrate == 1500000);
	in.source_video_bps = 0;
	in.fps = 60;
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("60 fps: caps 1.5 times higher", l.rungs[2].maxrate == 7500000);
	CHECK("interpolated cap for 900p", vs_ladder_default_maxrate(900) == 3900000);
	in.display_width = 1920;
	in.display_height = 1080;
	in.fps = 30;
	in.source_video_bps = 0;
	CHECK("--maxrate replaces the table", vs_ladder_plan(&in, sides, n, 2000000, &l) == 0 &&
	                                      l.rungs[0].maxrate == 2000000);
	in.display_width = 0;
	CHECK("no picture size is an error", vs_ladder_plan(&in, sides, n, 0, &l) < 0);
}

static void fps(void)
{
	int num, den;

	vs_ladder_fps(29.97, &num, &den);
	CHECK("29.97 → 30000/1001", num == 30000 && den == 1001);
	vs_ladder_fps(29.87, &num, &den);
	CHECK("29.87 (VFR average) → 30000/1001", num == 30000 && den == 1001);
	vs_ladder_fps(120, &num, &den);
	CHECK("120 → 60", num == 60 && den == 1);
	vs_ladder_fps(100, &num, &den);
	CHECK("100 → 50", num == 50 && den == 1);
	vs_ladder_fps(0, &num, &den);
	CHECK("unknown → 30", num == 30 && den == 1);
	vs_ladder_fps(12.5, &num, &den);
	CHECK("12.5 → 13 (no standard rate near)", num == 13 && den == 1);
}

static void names(void)
{
	char s[VS_SLUG_MAX + 1], id[VS_UUID_LEN + 1], id2[VS_UUID_LEN + 1];

	vs_slugify("Limits & Continuity: Part 1", s, sizeof(s));
	CHECK("slugify", !strcmp(s, "limits-continuity-part-1"));
	vs_slugify("  Newton's laws  ", s, sizeof(s));
	CHECK("slugify drops apostrophes", !strcmp(s, "newtons-laws"));
	vs_slugify("Übung", s, sizeof(s));
	CHECK("slugify drops what is not ASCII", !strcmp(s, "bung"));
	vs_slugify("!!!", s, sizeof(s));
	CHECK("slugify may give nothing", !strcmp(s, ""));
	CHECK("is_slug", vs_is_slug("a-b-1") && !vs_is_slug("a--b") && !vs_is_slug("-a") &&
	                 !vs_is_slug("A") && !vs_is_slug("") && !vs_is_slug("a'); drop table"));
	vs_uuid_for_sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", id);
	vs_uuid_for_sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", id2);
	CHECK("uuid5: deterministic, version 5, RFC 4122 variant",
	      !strcmp(id, id2) && vs_is_uuid(id) && id[14] == '5' && strchr("89ab", id[19]));
	CHECK("is_uuid", !vs_is_uuid("not-a-uuid") && !vs_is_uuid("0b6f0000-0000-0000-0000-00000000000") &&
	                 vs_is_uuid("0B6F0000-0000-5000-8000-000000000000"));
}

static void hls(void)
{
	struct vs_hls_segment segs[] = {{"a.m4s", 6.0, 100, -1}, {"b.m4s", 6.49, 100, -1}, {"c.m4s", 1.0, 10, -1}};
	struct vs_hls_media m = {.map_uri = "init.mp4", .segments = segs, .n = 3};
	char v[64], *t = vs_hls_media_text(&m);

	CHECK("media playlist: version 6 with EXT-X-MAP", strstr(t, "#EXT-X-VERSION:6\n") != NULL);
	CHECK("media playlist: target duration is the longest EXTINF rounded",
	      strstr(t, "#EXT-X-TARGETDURATION:6\n") != NULL);
	CHECK("media playlist: VOD and ENDLIST", strstr(t, "#EXT-X-PLAYLIST-TYPE:VOD\n") &&
	                                         strstr(t, "#EXT-X-ENDLIST\n"));
	free(t);
	segs[1].duration = 6.5;
	t = vs_hls_media_text(&m);
	CHECK("media playlist: 6.5 s rounds to 7", strstr(t, "#EXT-X-TARGETDURATION:7\n") != NULL);
	free(t);
	CHECK("attribute list: quoted value with a comma",
	      vs_hls_attr("BANDWIDTH=1,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1x2", "CODECS", v, sizeof(v)) &&
	      !strcmp(v, "avc1.64001f,mp4a.40.2"));
	CHECK("attribute list: last plain value",
	      vs_hls_attr("BANDWIDTH=1,CODECS=\"a,b\",RESOLUTION=1x2", "RESOLUTION", v, sizeof(v)) && !strcmp(v, "1x2"));
	CHECK("attribute list: a name is not a prefix match",
	      !vs_hls_attr("AVERAGE-BANDWIDTH=5", "BANDWIDTH", v, sizeof(v)));
}

static void codecs(void)
{
	const uint8_t annexb[] = {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0xac, 0, 0, 0, 1, 0x68};
	const uint8_t avcc[] = {1, 0x4d, 0x40, 0x1e, 0xff};
	char out[32];

	vs_h264_codecs(annexb, sizeof(annexb), out, sizeof(out));
	CHECK("codecs from an Annex B SPS", !strcmp(out, "avc1.64001f"));
	vs_h264_codecs(avcc, sizeof(avcc), out, sizeof(out));
	CHECK("codecs from avcC", !strcmp(out, "avc1.4d401e"));
	vs_h264_codecs(NULL, 0, out, sizeof(out));
	CHECK("codecs of nothing is empty", !strcmp(out, ""));
}

int main(void)
{
	ladder();
	fps();
	names();
	hls();
	codecs();
	printf("%d failed\n", failures);
	return failures > 100 ? 100 : failures;
}
