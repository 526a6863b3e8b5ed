#include <math.h>

#include "dash.h"
#include "record.h"

/* s with XML's special characters escaped. */
static void put_xml(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

static void iso_duration(double s, char *buf, size_t n)
{
	snprintf(buf, n, "PT%.3fS", s);
}

/* A representation's SegmentTimeline: each segment's start and duration,
 * in milliseconds. */
static void put_timeline(FILE *f, const struct vs_segment_track *t)
{
	for (int s = 0, t0 = 0; s < t->n; s++) {
		long dur = lround(t->segs[s].duration * 1000);

		fprintf(f, "            <S t=\"%d\" d=\"%ld\"/>\n", t0, dur);
		t0 += (int)dur;
	}
}

char *vs_dash_mpd_text(const json_t *renditions, const struct vs_segment_track *tracks,
                       const struct vs_segment_track *audio, const struct vs_dash_text *texts, int n_texts,
                       double seg_s, double duration)
{
	char *text = NULL, d[32];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	json_t *r;

	if (!f)
		return NULL;
	iso_duration(duration, d, sizeof(d));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\""
	           " profiles=\"urn:mpeg:dash:profile:isoff-live:2011\""
	           " mediaPresentationDuration=\"%s\" minBufferTime=\"PT%.0fS\">\n"
	           "  <Period id=\"0\" start=\"PT0S\">\n"
	           "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\""
	           " segmentAlignment=\"true\" startWithSAP=\"1\">\n", d, ceil(seg_s));
	json_array_foreach(renditions, i, r) {
		const struct vs_segment_track *t = &tracks[i];
		const char *codecs = vs_json_str(r, "codecs");
		char vc[64];
		double fr = 0;

		vs_json_number(r, "frame_rate", &fr);
		snprintf(vc, sizeof(vc), "%.*s", audio ? (int)strcspn(codecs, ",") : (int)strlen(codecs), codecs);
		fprintf(f, "      <Representation id=\"%s\" bandwidth=\"%ld\" width=\"%lld\" height=\"%lld\""
		           " frameRate=\"%.3f\" codecs=\"%s\">\n"
		           "        <SegmentTemplate timescale=\"1000\" initialization=\"%s/init.mp4\""
		           " media=\"%s/seg-$Number%%05d$.m4s\" startNumber=\"1\">\n"
		           "          <SegmentTimeline>\n",
		        vs_json_str(r, "label"), t->peak_bps,
		        (long long)json_integer_value(json_object_get(r, "width")),
		        (long long)json_integer_value(json_object_get(r, "height")), fr, vc,
		        vs_json_str(r, "label"), vs_json_str(r, "label"));
		put_timeline(f, t);
		fprintf(f, "          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n");
	}
	fprintf(f, "    </AdaptationSet>\n");
	if (audio) {
		fprintf(f, "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\""
		           " segmentAlignment=\"true\" lang=\"und\">\n"
		           "      <Representation id=\"audio\" bandwidth=\"%ld\" codecs=\"mp4a.40.2\""
		           " audioSamplingRate=\"48000\">\n"
		           "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>\n"
		           "        <SegmentTemplate timescale=\"1000\" initialization=\"audio/init.mp4\""
		           " media=\"audio/seg-$Number%%05d$.m4s\" startNumber=\"1\">\n"
		           "          <SegmentTimeline>\n", audio->peak_bps);
		put_timeline(f, audio);
		fprintf(f, "          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n"
		           "    </AdaptationSet>\n");
	}
	for (int k = 0; k < n_texts; k++) { /* ids, languages and files are tags and names of ours */
		fprintf(f, "    <AdaptationSet id=\"%d\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"%s\">\n"
		           "      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"%s\"/>\n"
		           "      <Label>", k + 2, texts[k].language, texts[k].role);
		put_xml(f, texts[k].label);
		fprintf(f, "</Label>\n"
		           "      <Representation id=\"%s\" bandwidth=\"256\">\n"
		           "        <BaseURL>%s</BaseURL>\n"
		           "      </Representation>\n"
		           "    </AdaptationSet>\n", texts[k].id, texts[k].file);
	}
	fprintf(f, "  </Period>\n</MPD>\n");
	fclose(f);
	return text;
}
