/* libFuzzer target: the chapter readers (libvs/chapters.c: WebVTT, JSON,
 * FFmpeg metadata) and the checks every chapter list passes
 * (vs_meta_chapters), input = a chapters file as vs-video chapters --from
 * reads it. */
#include "chapters.h"
#include "error.h"
#include "log.h"
#include "meta.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	json_t *list = NULL, *checked = NULL;

	vs_log_set_level(VS_LOG_SILENT); /* millions of bad inputs: no gigabytes of messages */
	if (vs_chapters_parse((const char *)data, size, &list) == 0)
		vs_meta_chapters(list, &checked);
	json_decref(list);
	json_decref(checked);
	vs_error_clear();
	return 0;
}
