#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "record.h"

char *vs_fsutil_path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *s = NULL;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	while (*name == '/')
		name++;
	if (asprintf(&s, "%.*s/%s", (int)n, dir, name) < 0)
		return NULL;
	return s;
}

int vs_fsutil_mkdir_p(const char *dir, mode_t mode)
{
	char *p = strdup(dir);
	int ret = 0;

	if (!p)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot create directory '%s': %s", p,
			              strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (ret == 0 && !vs_fsutil_is_dir(dir))
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot create directory '%s': %s", dir,
		              "a file of that name exists");
	free(p);
	return ret;
}

int vs_fsutil_tmpfile(const char *dir, const char *prefix, char **path, int *fd)
{
	char *p = NULL;

	*path = NULL;
	*fd = -1;
	if (asprintf(&p, "%s/.%s-XXXXXX", dir, prefix) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	*fd = mkostemp(p, O_CLOEXEC);
	if (*fd < 0) {
		int ret = vs_fail(VS_ERR, VS_E_IO, "cannot create a file in '%s': %s", dir,
		                  strerror(errno));
		free(p);
		return ret;
	}
	fchmod(*fd, 0644);
	*path = p;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vs_fsutil_write_atomic(const char *path, const void *data, size_t len)
{
	return vs_fsutil_write_atomic_mode(path, data, len, 0644);
}

int vs_fsutil_write_atomic_mode(const char *path, const void *data, size_t len, mode_t mode)
{
	char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	char *tmp = NULL;
	int fd = -1, ret;

	if (!dir)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (slash)
		*slash = '\0';
	ret = vs_fsutil_tmpfile(slash ? (*dir ? dir : "/") : ".", "tmp", &tmp, &fd);
	if (ret < 0)
		goto out;
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot rename into '%s': %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return ret;
}

int vs_fsutil_read_file(const char *path, size_t max, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	*data = NULL;
	*len = 0;
	if (!f)
		return vs_fail(VS_ERR, errno == ENOENT ? VS_E_NOT_FOUND : VS_E_IO,
		               "cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		size_t got;

		if (n + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nbuf = realloc(buf, ncap);

			if (!nbuf) {
				ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max) {
			ret = vs_fail(VS_ERR, VS_E_TOO_LARGE, "'%s' is larger than %zu bytes", path, max);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return ret;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int vs_fsutil_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 :
		       vs_fail(VS_ERR, VS_E_IO, "cannot remove '%s': %s", path, strerror(errno));
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return vs_fail(VS_ERR, VS_E_IO, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

bool vs_fsutil_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool vs_fsutil_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *vs_fsutil_abspath(const char *path)
{
	char *cwd, *s;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	s = vs_fsutil_path_join(cwd, path[0] == '.' && path[1] == '/' ? path + 2 : path);
	free(cwd);
	return s;
}

bool vs_fsutil_is_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* The renames in dir (the parent of a path) made durable. */
static void sync_parent(const char *path)
{
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	int fd;

	if (slash) {
		*slash = '\0';
		if ((fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	free(dir);
}

int vs_fsutil_swap_dir(const char *tmp, const char *final, const char *old)
{
	bool aside = false;
	int ret = 0, fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* all the staged files at once: a file system's worth of dirty pages
	 * written in one go costs far less than an fsync each */
	if (fd < 0 || syncfs(fd) != 0) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s' to disk: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	close(fd);
	if (vs_fsutil_is_dir(final)) {
		vs_fsutil_remove_tree(old);
		if (rename(final, old) != 0)
			return vs_fail(VS_ERR, VS_E_IO, "cannot replace '%s': %s", final, strerror(errno));
		aside = true;
	}
	if (rename(tmp, final) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot rename into '%s': %s", final, strerror(errno));
	else
		sync_parent(final);
	if (aside)
		vs_fsutil_remove_tree(old);
	return ret;
}

int vs_fsutil_write_staged(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ret = 0;

	if (fd < 0 || write_all(fd, data, len) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	if (fd >= 0 && close(fd) != 0 && ret == 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	return ret;
}

int vs_fsutil_copy_staged(const char *src, const char *path)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;
	char *buf = malloc(1 << 20);
	ssize_t n = 0;

	if (!buf)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	else if (in < 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", src, strerror(errno));
	else if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	while (ret == 0 && (n = read(in, buf, 1 << 20)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", src, strerror(errno));
		else if (write_all(out, buf, (size_t)n) != 0)
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	}
	if (out >= 0 && close(out) != 0 && ret == 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	if (in >= 0)
		close(in);
	free(buf);
	return ret;
}

int vs_fsutil_write_finished(const char *path, const json_t *m, size_t flags)
{
	char *text = json_dumps(m, flags);
	int ret = text ? vs_fsutil_write_atomic(path, text, strlen(text))
	               : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");

	free(text);
	return ret;
}

json_t *vs_fsutil_read_finished(const char *path, const char *key_path, const char *key)
{
	json_t *m = json_load_file(path, 0, NULL);
	const char *k = vs_json_str(m, key_path);

	if (!m || !k || strcmp(k, key)) {
		json_decref(m);
		return NULL;
	}
	return m;
}

int vs_fsutil_write_text(const char *dir, const char *name, const char *text)
{
	char *path = vs_fsutil_path_join(dir, name);
	int ret = path && text ? vs_fsutil_write_staged(path, text, strlen(text))
	                       : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");

	free(path);
	return ret;
}

char *vs_fsutil_self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return strdup(buf);
}
