/* An LD_PRELOAD shim for the full-disk tests: once VS_ENOSPC_AFTER bytes
 * have been written to regular files, every further write to one fails
 * with ENOSPC, as on a full filesystem. Pipes, terminals and sockets are
 * left alone, so records and messages still flow. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static long long written;

static int full(int fd, size_t n)
{
	static long long limit = -2;
	struct stat st;

	if (limit == -2) {
		const char *e = getenv("VS_ENOSPC_AFTER");

		limit = e && *e ? atoll(e) : -1;
	}
	if (limit < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (written + (long long)n > limit) {
		errno = ENOSPC;
		return 1;
	}
	written += (long long)n;
	return 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	return full(fd, n) ? -1 : real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	return full(fd, n) ? -1 : real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	static ssize_t (*real)(int, const struct iovec *, int);
	size_t n = 0;

	if (!real)
		real = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return full(fd, n) ? -1 : real(fd, iov, cnt);
}
