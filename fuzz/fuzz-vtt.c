/* libFuzzer target: the caption reader (libvs/vtt.c: WebVTT and SubRip in
 * any encoding), then what is done with what it read: clamped to a
 * duration, written whole and cut into an HLS segment; input = a caption
 * file as vs-ingest --captions and vs-video captions add read it. */
#include "error.h"
#include "log.h"
#include "vtt.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct vs_vtt v;

	vs_log_set_level(VS_LOG_SILENT);
	if (vs_vtt_parse((const char *)data, size, &v) == 0) {
		char *whole, *seg;
		struct vs_vtt again;

		vs_vtt_clamp(&v, 30);
		whole = vs_vtt_text(&v);
		seg = vs_vtt_segment_text(&v, 2, 4, 6000);
		/* what it writes, it reads back the same */
		if (whole && vs_vtt_parse(whole, strlen(whole), &again) == 0) {
			if (again.n != v.n)
				__builtin_trap();
			vs_vtt_release(&again);
		} else if (whole) {
			__builtin_trap();
		}
		free(whole);
		free(seg);
		vs_vtt_release(&v);
	}
	vs_error_clear();
	return 0;
}
