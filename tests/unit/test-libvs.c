/*
 * Unit tests of libvs's pure functions, run by tests/unit.bats. Each
 * check prints "ok" or "not ok" with its name; the exit status is the
 * number of failures (capped), so bats sees any failure.
 */
#include <math.h>

#include "analytics.h"
#include "clock.h"
#include "codec.h"
#include "hash.h"
#include "hls.h"
#include "ingest.h"
#include "ladder.h"
#include "sign.h"
#include "sigv4.h"
#include "slug.h"
#include "transcode.h"
#include "useragent.h"

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
	CHECK("720p source: three rungs", l.n == 3);
	CHECK("720p source: 426x240, 640x360 and 1280x720",
	      l.rungs[0].width == 426 && l.rungs[0].height == 240 && l.rungs[1].width == 640 &&
	      l.rungs[1].height == 360 && l.rungs[2].width == 1280 && l.rungs[2].height == 720);
	CHECK("720p source: 1080p skipped with the reason",
	      l.n_skipped == 1 && !strcmp(l.skipped[0], "1080p skipped: source is 720p"));
	CHECK("default caps", l.rungs[0].maxrate == 250000 && l.rungs[1].maxrate == 800000 &&
	                      l.rungs[2].bufsize == 5600000);

	in.display_width = 1080;
	in.display_height = 1920; /* portrait */
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("portrait 1080p: four rungs, width is the short side",
	      l.n == 4 && l.rungs[3].width == 1080 && l.rungs[3].height == 1920 &&
	      l.rungs[1].width == 360 && l.rungs[1].height == 640 && l.rungs[0].width == 240);

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
	      l.rungs[3].maxrate == 1000000 && !strcmp(l.rungs[3].cap_reason, "source"));
	in.source_codec = "hevc";
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("source cap: HEVC counts 1.5 times", l.rungs[3].maxrate == 1500000);
	in.source_video_bps = 0;
	in.fps = 60;
	vs_ladder_plan(&in, sides, n, 0, &l);
	CHECK("60 fps: caps 1.5 times higher", l.rungs[3].maxrate == 7500000);
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

	vs_slug_make("Limits & Continuity: Part 1", s, sizeof(s));
	CHECK("slugify", !strcmp(s, "limits-continuity-part-1"));
	vs_slug_make("  Newton's laws  ", s, sizeof(s));
	CHECK("slugify drops apostrophes", !strcmp(s, "newtons-laws"));
	vs_slug_make("Übung", s, sizeof(s));
	CHECK("slugify drops what is not ASCII", !strcmp(s, "bung"));
	vs_slug_make("!!!", s, sizeof(s));
	CHECK("slugify may give nothing", !strcmp(s, ""));
	CHECK("is_slug", vs_slug_valid("a-b-1") && !vs_slug_valid("a--b") && !vs_slug_valid("-a") &&
	                 !vs_slug_valid("A") && !vs_slug_valid("") && !vs_slug_valid("a'); drop table"));
	vs_hash_uuid_for_sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", id);
	vs_hash_uuid_for_sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", id2);
	CHECK("uuid5: deterministic, version 5, RFC 4122 variant",
	      !strcmp(id, id2) && vs_hash_is_uuid(id) && id[14] == '5' && strchr("89ab", id[19]));
	CHECK("is_uuid", !vs_hash_is_uuid("not-a-uuid") && !vs_hash_is_uuid("0b6f0000-0000-0000-0000-00000000000") &&
	                 vs_hash_is_uuid("0B6F0000-0000-5000-8000-000000000000"));
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

	vs_transcode_h264_codecs(annexb, sizeof(annexb), out, sizeof(out));
	CHECK("codecs from an Annex B SPS", !strcmp(out, "avc1.64001f"));
	vs_transcode_h264_codecs(avcc, sizeof(avcc), out, sizeof(out));
	CHECK("codecs from avcC", !strcmp(out, "avc1.4d401e"));
	vs_transcode_h264_codecs(NULL, 0, out, sizeof(out));
	CHECK("codecs of nothing is empty", !strcmp(out, ""));
}

/* RFC 4231 4.2-4.8 (test case 5, truncated output, left out). */
/* RFC 4648 section 10's vectors, both alphabets, and what must be refused. */
static void base64(void)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	static const char *const bad[] = {"Z", "Zm9vY", "Zg=", "Z===", "Zm9v!A==", "Zm 9v", "Zg==Zg=="};
	unsigned char bytes[] = {0xfb, 0xff, 0xbf, 0x3e};
	char out[80], name[96];
	unsigned char *dec;
	size_t n = 99;

	for (size_t i = 0; i < VS_ARRAY_SIZE(plain); i++) {
		snprintf(name, sizeof(name), "base64 of \"%s\" is \"%s\"", plain[i], coded[i]);
		vs_codec_base64(plain[i], strlen(plain[i]), 0, out);
		CHECK(name, !strcmp(out, coded[i]));
		snprintf(name, sizeof(name), "base64 \"%s\" decodes, padded and not", coded[i]);
		dec = vs_codec_unbase64(coded[i], strlen(coded[i]), 0, &n);
		CHECK(name, dec && n == strlen(plain[i]) && !memcmp(dec, plain[i], n));
		free(dec);
		dec = vs_codec_unbase64(coded[i], strcspn(coded[i], "="), 0, &n);
		CHECK(name, dec && n == strlen(plain[i]) && !memcmp(dec, plain[i], n));
		free(dec);
	}
	vs_codec_base64(bytes, sizeof(bytes), 0, out);
	CHECK("base64 uses + and /", !strcmp(out, "+/+/Pg=="));
	vs_codec_base64(bytes, sizeof(bytes), VS_CODEC_BASE64URL | VS_CODEC_NOPAD, out);
	CHECK("base64url uses - and _, no padding", !strcmp(out, "-_-_Pg"));
	dec = vs_codec_unbase64("-_-_Pg", 6, VS_CODEC_BASE64URL, &n);
	CHECK("base64url decodes", dec && n == 4 && !memcmp(dec, bytes, 4));
	free(dec);
	CHECK("base64url refuses padding", !vs_codec_unbase64("-_-_Pg==", 8, VS_CODEC_BASE64URL, &n));
	CHECK("base64url refuses + and /", !vs_codec_unbase64("+/+/Pg", 6, VS_CODEC_BASE64URL, &n));
	CHECK("base64 refuses - and _", !vs_codec_unbase64("-_-_Pg==", 8, 0, &n));
	for (size_t i = 0; i < VS_ARRAY_SIZE(bad); i++) {
		snprintf(name, sizeof(name), "base64 refuses \"%s\"", bad[i]);
		CHECK(name, !vs_codec_unbase64(bad[i], strlen(bad[i]), 0, &n));
	}
	vs_codec_hex(bytes, sizeof(bytes), out);
	CHECK("hex is lower case", !strcmp(out, "fbffbf3e"));
	vs_codec_sha256_hex("abc", 3, out);
	CHECK("sha256 of abc (FIPS 180-2)", !strcmp(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK("equal compares", vs_codec_equal("abc", "abc", 3) && !vs_codec_equal("abc", "abd", 3));
}

static void hmac(void)
{
	static const struct {
		int key_byte, key_len;
		const char *data;
		int data_byte, data_len;
		const char *want;
	} v[] = {
		{0x0b, 20, "Hi There", 0, 0, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{-1, 0, "what do ya want for nothing?", 0, 0, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{0xaa, 20, NULL, 0xdd, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{-2, 25, NULL, 0xcd, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		{0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
		 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{0xaa, 131, "This is a test using a larger than block-size key and a larger than block-size data. "
		            "The key needs to be hashed before being used by the HMAC algorithm.", 0, 0,
		 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};

	for (size_t i = 0; i < VS_ARRAY_SIZE(v); i++) {
		unsigned char key[131], data[64], md[32];
		const void *k = key, *d = v[i].data ? (const void *)v[i].data : data;
		size_t kl = (size_t)v[i].key_len, dl = v[i].data ? strlen(v[i].data) : (size_t)v[i].data_len;
		char h[65], name[64];

		if (v[i].key_byte == -1) {
			k = "Jefe";
			kl = 4;
		} else if (v[i].key_byte == -2) {
			for (int j = 0; j < 25; j++)
				key[j] = (unsigned char)(j + 1);
		} else {
			memset(key, v[i].key_byte, kl);
		}
		memset(data, v[i].data_byte, sizeof(data));
		vs_codec_hmac_sha256(k, kl, d, dl, md);
		vs_codec_hex(md, 32, h);
		snprintf(name, sizeof(name), "RFC 4231 HMAC-SHA256 test case %zu", i < 4 ? i + 1 : i + 2);
		CHECK(name, !strcmp(h, v[i].want));
	}
}

/* The AWS Signature Version 4 test suite (get-vanilla family), and the S3
 * GET object example of the S3 API reference. */
static void sigv4(void)
{
	static const char *const vanilla[] = {"Host:example.amazonaws.com", "X-Amz-Date:20150830T123600Z"};
	struct vs_sigv4 r = {
		.method = "GET", .path = "/", .headers = vanilla, .n_headers = 2, .region = "us-east-1",
		.service = "service", .amz_date = "20150830T123600Z", .access_key = "AKIDEXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};
	const char *scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	                    "SignedHeaders=host;x-amz-date, Signature=";
	char *auth = NULL, *creq = NULL, *sts = NULL, want[256];

	vs_sigv4_authorization(&r, &auth, &creq, &sts);
	CHECK("SigV4 get-vanilla canonical request",
	      !strcmp(creq, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                    "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK("SigV4 get-vanilla string to sign",
	      !strcmp(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
	                   "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"));
	snprintf(want, sizeof(want), "%s%s", scope, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	CHECK("SigV4 get-vanilla authorization", !strcmp(auth, want));
	free(auth);
	free(creq);
	free(sts);

	r.query = "Param2=value2&Param1=value1";
	vs_sigv4_authorization(&r, &auth, NULL, NULL);
	snprintf(want, sizeof(want), "%s%s", scope, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	CHECK("SigV4 get-vanilla-query-order-key-case", !strcmp(auth, want));
	free(auth);

	r.query = NULL;
	r.path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	vs_sigv4_authorization(&r, &auth, NULL, NULL);
	snprintf(want, sizeof(want), "%s%s", scope, "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
	CHECK("SigV4 get-unreserved", !strcmp(auth, want));
	free(auth);

	r.path = "/";
	r.method = "POST";
	vs_sigv4_authorization(&r, &auth, NULL, NULL);
	snprintf(want, sizeof(want), "%s%s", scope, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
	CHECK("SigV4 post-vanilla", !strcmp(auth, want));
	free(auth);

	{
		static const char *const h[] = {
			"Host: examplebucket.s3.amazonaws.com", "Range: bytes=0-9",
			"x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"x-amz-date: 20130524T000000Z"};
		struct vs_sigv4 s3 = {
			.method = "GET", .path = "/test.txt", .headers = h, .n_headers = 4,
			.region = "us-east-1", .service = "s3", .amz_date = "20130524T000000Z",
			.access_key = "AKIAIOSFODNN7EXAMPLE", .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		};

		vs_sigv4_authorization(&s3, &auth, NULL, NULL);
		CHECK("SigV4 S3 GET object example",
		      strstr(auth, "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") != NULL);
		free(auth);
	}
}

static void useragent(void)
{
	static const struct {
		const char *ua, *device, *browser, *os;
	} cases[] = {
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
		 "Safari/537.36", "desktop", "Chrome", "Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
		 "Safari/537.36 Edg/120.0.2210.91", "desktop", "Edge", "Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
		 "Version/17.1 Mobile/15E148 Safari/604.1", "mobile", "Safari", "iOS"},
		{"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
		 "Mobile/15E148 Safari/604.1", "tablet", "Safari", "iPadOS"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 "
		 "Mobile Safari/537.36", "mobile", "Chrome", "Android"},
		{"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
		 "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36", "tablet", "Samsung Internet", "Android"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0", "desktop",
		 "Firefox", "macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 "
		 "Safari/537.36", "desktop", "Chrome Headless", "Linux"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
		 "Safari/537.36", "desktop", "Chrome", "ChromeOS"},
		{"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/538.1 (KHTML, like Gecko) Version/6.0 TV "
		 "Safari/538.1", "tv", "Safari", "Linux"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot", "other", "other"},
		{"curl/7.88.1", "bot", "other", "other"},
		{"'; DROP TABLE videos; --", "desktop", "other", "other"},
	};
	struct vs_useragent ua;

	for (size_t i = 0; i < VS_ARRAY_SIZE(cases); i++) {
		char name[96];

		vs_useragent_parse(cases[i].ua, &ua);
		snprintf(name, sizeof(name), "user agent %zu: %s, %s, %s", i, cases[i].device, cases[i].browser, cases[i].os);
		CHECK(name, !strcmp(ua.device, cases[i].device) && !strcmp(ua.browser, cases[i].browser) &&
		                !strcmp(ua.os, cases[i].os));
	}
	vs_useragent_parse(NULL, &ua);
	CHECK("no user agent: nothing known", !*ua.device && !*ua.browser && !*ua.os);
}

static void clock_(void)
{
	double t = 0, now = 1800000000;

	CHECK("epoch seconds", vs_clock_parse_time("1795610100", false, now, &t) == 0 && t == 1795610100);
	CHECK("epoch with a fraction", vs_clock_parse_time("1795610100.25", false, now, &t) == 0 && t == 1795610100.25);
	CHECK("ISO 8601 date", vs_clock_parse_time("2026-11-24", false, now, &t) == 0 && t == 1795478400);
	CHECK("ISO 8601 UTC", vs_clock_parse_time("2026-11-24T20:00:00Z", false, now, &t) == 0 && t == 1795550400);
	CHECK("ISO 8601 offset", vs_clock_parse_time("2026-11-24T21:00:00+01:00", false, now, &t) == 0 && t == 1795550400);
	CHECK("ISO 8601 fraction", vs_clock_parse_time("2026-11-24T20:00:00.5Z", false, now, &t) == 0 && t == 1795550400.5);
	CHECK("7d ago", vs_clock_parse_time("7d", true, now, &t) == 0 && t == now - 7 * 86400);
	CHECK("24h ago", vs_clock_parse_time("24h", true, now, &t) == 0 && t == now - 86400);
	CHECK("7d is not a time without relative", vs_clock_parse_time("7d", false, now, &t) < 0);
	CHECK("garbage is not a time", vs_clock_parse_time("yesterday", true, now, &t) < 0);
	CHECK("empty is not a time", vs_clock_parse_time("", true, now, &t) < 0);
	CHECK("a bad offset is not a time", vs_clock_parse_time("2026-11-24T20:00:00+25:00", false, now, &t) < 0);
	CHECK("trailing junk is not a time", vs_clock_parse_time("2026-11-24T20:00:00Zjunk", false, now, &t) < 0);
}

static void ip_policy(void)
{
	char out[64];
	enum vs_analytics_ip p;

	vs_analytics_ip_keep("203.0.113.77", VS_ANALYTICS_IP_TRUNCATE, out, sizeof(out));
	CHECK("IPv4 truncated to its /24", !strcmp(out, "203.0.113.0"));
	vs_analytics_ip_keep("2001:db8:abcd:12:34::1", VS_ANALYTICS_IP_TRUNCATE, out, sizeof(out));
	CHECK("IPv6 truncated to its /48", !strcmp(out, "2001:db8:abcd::"));
	vs_analytics_ip_keep("203.0.113.77", VS_ANALYTICS_IP_FULL, out, sizeof(out));
	CHECK("full keeps the address", !strcmp(out, "203.0.113.77"));
	vs_analytics_ip_keep("203.0.113.77", VS_ANALYTICS_IP_NONE, out, sizeof(out));
	CHECK("none keeps nothing", !*out);
	vs_analytics_ip_keep("not an address", VS_ANALYTICS_IP_FULL, out, sizeof(out));
	CHECK("not an address keeps nothing", !*out);
	CHECK("policy names", vs_analytics_ip_parse("none", &p) == 0 && p == VS_ANALYTICS_IP_NONE &&
	                          vs_analytics_ip_parse(NULL, &p) == 0 && p == VS_ANALYTICS_IP_TRUNCATE &&
	                          vs_analytics_ip_parse("all", &p) < 0);
}

static void expiry(void)
{
	CHECK("an expiry is rounded up to 5 minutes", vs_sign_expiry(1000, 3600) == 4800);
	CHECK("an expiry on the step stays", vs_sign_expiry(900, 3600) == 4500);
	CHECK("a lifetime under 5 minutes rounds to a multiple of itself", vs_sign_expiry(1001, 20) == 1040);
	CHECK("and lives no more than twice itself", vs_sign_expiry(1019, 20) - 1019 <= 40 &&
	                                                 vs_sign_expiry(1019, 20) - 1019 >= 20);
}

int main(void)
{
	expiry();
	useragent();
	clock_();
	ip_policy();
	base64();
	hmac();
	sigv4();
	ladder();
	fps();
	names();
	hls();
	codecs();
	printf("%d failed\n", failures);
	return failures > 100 ? 100 : failures;
}
