/* libFuzzer target: the multipart/form-data reader behind POST
 * /videos/upload (libvs/upload.c), input = a body with the boundary XyZzy,
 * read in pieces of every size its first byte says; the file part lands
 * in a temporary directory and is removed. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "upload.h"

static char dir[64];

struct feed {
	const unsigned char *p;
	size_t left, step;
};

static int feed_read(void *ctx, char *buf, int n)
{
	struct feed *f = ctx;
	size_t k = f->left < (size_t)n ? f->left : (size_t)n;

	if (k > f->step)
		k = f->step;
	memcpy(buf, f->p, k);
	f->p += k;
	f->left -= k;
	return (int)k;
}

static void clean(void)
{
	rmdir(dir);
}

/* Millions of bad inputs: their messages would be gigabytes on stderr. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vs_log_set_level(VS_LOG_SILENT);
	snprintf(dir, sizeof(dir), "/tmp/vs-fuzz-upload.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(clean);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct feed f = {data, size, 1};
	struct vs_upload u;

	if (size > 0) {
		f.step = 1 + data[0] % 64 * 97; /* reads of 1 to 6,112 bytes */
		f.p++;
		f.left--;
	}
	if (vs_upload_multipart(feed_read, &f, (long long)f.left, "multipart/form-data; boundary=XyZzy", "video", dir,
	                        1 << 20, &u) == 0)
		vs_upload_release(&u);
	vs_error_clear();
	return 0;
}
