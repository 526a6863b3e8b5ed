/* libFuzzer target: the S3 listing's keys (libvs/s3list.c), input = a
 * ListObjectsV2 answer; every <Key> is decoded as vs_s3_delete_prefix does. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "s3.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *xml = fuzz_string(data, size);

	if (!xml)
		return 0;
	for (const char *p = strstr(xml, "<Key>"); p; p = strstr(p + 5, "<Key>")) {
		const char *e = strstr(p, "</Key>");

		if (!e)
			break;
		free(vs_s3_xml_text(p + 5, (size_t)(e - p - 5)));
	}
	free(xml);
	return 0;
}
