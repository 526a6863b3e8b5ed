/* libFuzzer target: the chapter readers (libvs/chapters.c: WebVTT, JSON,
 * FFmpeg metadata) and the checks every chapter list passes
 * (vs_meta_chapters), input = a chapters file as vs-video chapters --from
 * reads it. */
#include "chapters.h"
#include "error.h"
#include "log.h"
#include "meta.h"

/* Millions of bad inputs: their messages would be gigabytes on stderr. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vs_log_set_level(VS_LOG_SILENT);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	json_t *list = NULL, *checked = NULL;

	if (vs_chapters_parse((const char *)data, size, &list) == 0)
		vs_meta_chapters(list, &checked);
	json_decref(list);
	json_decref(checked);
	vs_error_clear();
	return 0;
}
