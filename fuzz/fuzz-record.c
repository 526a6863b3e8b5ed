/* libFuzzer target: the NDJSON record reader (libvs/record.c), input = the
 * stream. */
#include <stdio.h>

#include "error.h"
#include "log.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	struct vs_reader *r;
	json_t *rec = NULL;

	vs_log_set_level(VS_LOG_SILENT); /* millions of bad inputs: no gigabytes of messages */
	if (!f)
		return 0;
	if ((r = vs_reader_new(f, "fuzz"))) {
		while (vs_record_read(r, &rec) > 0) {
			vs_record_failed(rec);
			json_decref(rec);
			rec = NULL;
		}
		vs_reader_free(r);
	}
	fclose(f);
	vs_error_clear();
	return 0;
}
