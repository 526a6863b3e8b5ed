/*
 * vs: runs the vs tools, as git runs its commands.
 *
 *   vs [-v|-q] TOOL [ARGS...]   runs vs-TOOL [-v|-q] ARGS...
 *   vs help [TOOL]              lists the tools, or shows TOOL's help
 */
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "opt.h"

/* From cmd/tools.list, the one list of the tools. */
#include "tools.h"

static const struct {
	const char *name, *summary;
} tools[] = {VS_TOOLS};

static const struct vs_option options[] = {{0}};

static const struct vs_command cmd = {
	.name = "vs",
	.synopsis = "[-v|-q] TOOL [ARGS...]\nhelp [TOOL]",
	.summary = "Video streaming as Unix tools: run 'vs help' for the list",
	.subcommands = "help " VS_TOOL_NAMES,
	.options = options,
};

static char *find_tool(const char *tool)
{
	/* vs-TOOL next to vs wins over one elsewhere on PATH (a build tree, a PREFIX) */
	char *dir = vs_fsutil_self_dir(), *name = NULL, *path = NULL;

	if (asprintf(&name, "vs-%s", tool) < 0)
		name = NULL;
	if (dir && name) {
		path = vs_fsutil_path_join(dir, name);
		if (path && access(path, X_OK) != 0) {
			free(path);
			path = NULL;
		}
	}
	free(dir);
	if (!path)
		return name; /* execvp searches PATH */
	free(name);
	return path;
}

static bool installed(const char *tool)
{
	/* vs-TOOL next to vs wins over one elsewhere on PATH (a build tree, a PREFIX) */
	char *dir = vs_fsutil_self_dir(), *name = NULL, *path = NULL;
	bool ok;
	const char *p;

	if (asprintf(&name, "vs-%s", tool) < 0)
		return false;
	if (dir && (path = vs_fsutil_path_join(dir, name)) && access(path, X_OK) == 0) {
		ok = true;
		goto out;
	}
	ok = false;
	for (p = getenv("PATH"); p && *p && !ok;) {
		size_t n = strcspn(p, ":");
		char *d = strndup(p, n), *f = d ? vs_fsutil_path_join(n ? d : ".", name) : NULL;

		ok = f && access(f, X_OK) == 0;
		free(f);
		free(d);
		p += n + (p[n] == ':');
	}
out:
	free(path);
	free(dir);
	free(name);
	return ok;
}

static int list_tools(void)
{
	printf("usage: vs [-v|-q] TOOL [ARGS...]\n\nThe tools:\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(tools); i++)
		if (installed(tools[i].name))
			printf("  %-10s %s\n", tools[i].name, tools[i].summary);
	printf("\n'vs help TOOL' or 'vs TOOL --help' shows a tool's options; "
	       "man vs(7) describes the pipeline.\n");
	return fflush(stdout) == 0 ? VS_EXIT_OK : VS_EXIT_FAILED;
}

static int run(const char *tool, char **args)
{
	char *path;

	if (!*tool || strchr(tool, '/') || tool[0] == '-')
		return vs_opt_usage_error(&cmd, "'%s' is not a vs tool", tool);
	path = find_tool(tool);
	if (!path)
		return VS_EXIT_FAILED;
	args[0] = path;
	execvp(path, args);
	if (errno == ENOENT)
		vs_opt_usage_error(&cmd, "'%s' is not a vs tool; see 'vs help'", tool);
	else
		vs_log_error("cannot run '%s': %s", path, strerror(errno));
	free(path);
	return errno == ENOENT ? VS_EXIT_USAGE : VS_EXIT_FAILED;
}

/* -v and -q before the tool's name are the tool's: "vs -v ingest a.mp4"
 * runs "vs-ingest -v a.mp4". */
static bool is_log_option(const char *a)
{
	return !strcmp(a, "-v") || !strcmp(a, "--verbose") || !strcmp(a, "-q") || !strcmp(a, "--quiet");
}

int main(int argc, char **argv)
{
	int first = 1;

	vs_log_init(argv[0]);
	/* No option parsing past the tool's name: its arguments are its own. */
	while (first < argc && is_log_option(argv[first]))
		first++;
	if (first == argc)
		return list_tools() == VS_EXIT_OK ? VS_EXIT_USAGE : VS_EXIT_FAILED;
	if (argv[first][0] == '-') {
		struct vs_opt opt = VS_OPT_INIT(&cmd, 2, argv + first - 1);
		const char *arg;
		int c = vs_opt_next(&opt, &arg);

		vs_opt_release(&opt);
		return c < 0 ? vs_opt_exit(c) : vs_opt_usage_error(&cmd, "unknown option '%s'", argv[first]);
	}
	if (first > 1) {
		/* the tool's name first, then the options that came before it */
		char *tool = argv[first];

		memmove(argv + 2, argv + 1, sizeof(*argv) * (size_t)(first - 1));
		argv[1] = tool;
	}
	if (!strcmp(argv[1], "help")) {
		char *help_args[] = {NULL, "--help", NULL};

		/* the operands of help follow the options moved behind it */
		return first + 1 == argc ? list_tools() : run(argv[first + 1], help_args);
	}
	return run(argv[1], argv + 1);
}
