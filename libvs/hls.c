#include <math.h>

#include "hls.h"

int vs_hls_media_version(const struct vs_hls_media *m)
{
	int v = 3; /* floating-point EXTINF */

	if (m->iframes_only)
		v = 4; /* EXT-X-I-FRAMES-ONLY, EXT-X-BYTERANGE */
	if (m->map_uri)
		v = m->iframes_only ? 5 : 6; /* RFC 8216 7: EXT-X-MAP */
	return v;
}


char *vs_hls_media_text(const struct vs_hls_media *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	double longest = 0;

	if (!f)
		return NULL;
	for (int i = 0; i < m->n; i++)
		longest = fmax(longest, m->segments[i].duration);
	fprintf(f, "#EXTM3U\n#EXT-X-VERSION:%d\n", vs_hls_media_version(m));
	fprintf(f, "#EXT-X-TARGETDURATION:%ld\n", lround(longest) > 0 ? lround(longest) : 1);
	fprintf(f, "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n");
	fprintf(f, "#EXT-X-INDEPENDENT-SEGMENTS\n");
	if (m->iframes_only)
		fprintf(f, "#EXT-X-I-FRAMES-ONLY\n");
	/* MAP before KEY: the init segment stays in the clear (RFC 8216
	 * 4.3.2.5 would otherwise want it encrypted with its own IV). */
	if (m->map_uri)
		fprintf(f, "#EXT-X-MAP:URI=\"%s\"\n", m->map_uri);
	if (m->key_uri)
		fprintf(f, "#EXT-X-KEY:METHOD=AES-128,URI=\"%s\",IV=0x%s\n", m->key_uri, m->key_iv_hex);
	for (int i = 0; i < m->n; i++) {
		const struct vs_hls_segment *s = &m->segments[i];

		fprintf(f, "#EXTINF:%.6f,\n", s->duration);
		if (s->offset >= 0)
			fprintf(f, "#EXT-X-BYTERANGE:%lld@%lld\n", s->size, s->offset);
		fprintf(f, "%s\n", s->uri);
	}
	fprintf(f, "#EXT-X-ENDLIST\n");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int by_bandwidth(const void *a, const void *b)
{
	const struct vs_hls_variant *x = a, *y = b;

	return (x->bandwidth > y->bandwidth) - (x->bandwidth < y->bandwidth);
}

char *vs_hls_master_text(struct vs_hls_variant *v, int n, const struct vs_hls_audio *audio,
                         const struct vs_hls_subtitles *subs, int n_subs, int version)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	qsort(v, (size_t)n, sizeof(*v), by_bandwidth);
	fprintf(f, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", version);
	if (audio)
		fprintf(f, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"%s\",NAME=\"%s\",LANGUAGE=\"%s\","
		           "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"%d\",URI=\"%s\"\n",
		        audio->group, audio->name, audio->language, audio->channels, audio->uri);
	for (int i = 0; i < n_subs; i++) /* RFC 8216 4.3.4.1; Apple's authoring spec for the characteristics */
		fprintf(f, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"%s\",NAME=\"%s\",LANGUAGE=\"%s\",DEFAULT=%s,"
		           "AUTOSELECT=YES,FORCED=NO,%sURI=\"%s\"\n",
		        VS_HLS_SUBTITLES_GROUP, subs[i].name, subs[i].language, subs[i].is_default ? "YES" : "NO",
		        subs[i].captions ? "CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,"
		                           "public.accessibility.describes-music-and-sound\"," : "",
		        subs[i].uri);
	for (int i = 0; i < n; i++) {
		fprintf(f, "#EXT-X-STREAM-INF:BANDWIDTH=%ld,AVERAGE-BANDWIDTH=%ld,RESOLUTION=%dx%d,"
		           "CODECS=\"%s\",FRAME-RATE=%.3f",
		        v[i].bandwidth, v[i].average_bandwidth, v[i].width, v[i].height, v[i].codecs,
		        v[i].frame_rate);
		if (v[i].audio_group)
			fprintf(f, ",AUDIO=\"%s\"", v[i].audio_group);
		if (n_subs > 0)
			fprintf(f, ",SUBTITLES=\"%s\"", VS_HLS_SUBTITLES_GROUP);
		fprintf(f, "\n%s\n", v[i].uri);
	}
	for (int i = 0; i < n; i++) {
		char codecs[64];

		if (!v[i].iframe_uri)
			continue;
		/* I-frame renditions carry video only. */
		snprintf(codecs, sizeof(codecs), "%.*s", (int)strcspn(v[i].codecs, ","), v[i].codecs);
		fprintf(f, "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=%ld,RESOLUTION=%dx%d,CODECS=\"%s\","
		           "URI=\"%s\"\n",
		        v[i].iframe_bandwidth, v[i].width, v[i].height, codecs, v[i].iframe_uri);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

bool vs_hls_attr(const char *list, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = list;

	while (p && *p) {
		const char *eq = strchr(p, '=');
		const char *v, *end;
		bool quoted;

		if (!eq)
			return false;
		v = eq + 1;
		quoted = *v == '"';
		if (quoted) {
			v++;
			end = strchr(v, '"');
			if (!end)
				return false;
		} else {
			end = v + strcspn(v, ",");
		}
		if ((size_t)(eq - p) == nl && !strncmp(p, name, nl)) {
			snprintf(out, n, "%.*s", (int)(end - v), v);
			return true;
		}
		p = end + (quoted ? 1 : 0);
		if (*p == ',')
			p++;
	}
	return false;
}

char *vs_hls_vtt_time(double s, char *buf, size_t n)
{
	long ms = lround(s * 1000);

	snprintf(buf, n, "%02ld:%02ld:%02ld.%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
	         ms % 1000);
	return buf;
}
