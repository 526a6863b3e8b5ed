/* libFuzzer target: the HLS playlist parser behind vs-package --check
 * (libvs/check.c), input = a master or media playlist (written to a file
 * of a temporary directory, where its URIs find nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "log.h"

static char dir[64], path[96];

static void clean(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	FILE *f, *devnull;

	vs_log_set_level(VS_LOG_SILENT); /* millions of bad inputs: no gigabytes of messages */
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/vs-fuzz-hls.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/master.m3u8", dir);
		atexit(clean);
	}
	if (!(f = fopen(path, "wb")))
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if ((devnull = fopen("/dev/null", "w"))) {
		vs_check_package(path, devnull);
		fclose(devnull);
	}
	vs_error_clear();
	return 0;
}
