/*
 * Drives libvs/vtt.c for tests/vtt.bats: reads a caption file and prints
 * what it made of it.
 *
 *   test-vtt FILE [DURATION]              the WebVTT text (clamped to
 *                                         DURATION), then on stderr one
 *                                         line of counts
 *   test-vtt --segment FILE FROM TO TS    one HLS segment's text
 *
 * Exit 0, or 1 with the error on stderr.
 */
#include <stdlib.h>

#include "error.h"
#include "vtt.h"

int main(int argc, char **argv)
{
	struct vs_vtt v;
	bool segment = argc > 1 && !strcmp(argv[1], "--segment");
	const char *path = argv[segment ? 2 : 1];
	char *text;

	if (argc < 2 || (segment && argc != 6)) {
		fprintf(stderr, "usage: test-vtt FILE [DURATION] | --segment FILE FROM TO MPEGTS\n");
		return 2;
	}
	if (vs_vtt_read_file(path, &v) < 0) {
		fprintf(stderr, "%s\n", vs_error_message());
		return 1;
	}
	if (!segment && argc > 2)
		vs_vtt_clamp(&v, atof(argv[2]));
	text = segment ? vs_vtt_segment_text(&v, atof(argv[3]), atof(argv[4]), atoll(argv[5])) : vs_vtt_text(&v);
	fputs(text ? text : "", stdout);
	fprintf(stderr, "cues %d srt %d reordered %d overlaps %d empty %d clamped %d dropped %d\n", v.n, v.srt,
	        v.reordered, v.overlaps, v.empty, v.clamped, v.dropped);
	free(text);
	vs_vtt_release(&v);
	return 0;
}
