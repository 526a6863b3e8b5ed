#ifndef VS_OPT_H
#define VS_OPT_H

#include "vs.h"

/*
 * One option table per program, which yields parsing (getopt_long), --help
 * and the option list the shell completions ask for (--list-options).
 *
 *     static const struct vs_option options[] = {
 *         {OPT_TITLE, 't', "title", "TEXT", "title of the video"},
 *         {0},
 *     };
 *     static const struct vs_command cmd = {
 *         .name = "vs-ingest", .synopsis = "[options] [FILE|URL...]",
 *         .summary = "probe, store and register uploaded videos",
 *         .options = options, .common = VS_COMMON_DATABASE,
 *     };
 *     struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
 *     while ((c = vs_opt_next(&opt, &arg)) > 0)
 *         switch (c) { case OPT_TITLE: title = arg; break; }
 *     if (c < 0)
 *         return vs_opt_exit(c);
 *     // positional arguments: argv[opt.optind] .. argv[argc - 1]
 *
 * The options every program shares are handled here: --help (usage on
 * stdout), --version, --verbose, --quiet, and, where the command asks for
 * them, --database URL and --progress, whose values land in opt.common.
 */

struct vs_option {
	int id;                /* returned by vs_opt_next(); > 0, unique */
	char short_name;       /* 0 for none */
	const char *long_name; /* without the leading "--" */
	const char *arg;       /* NULL for a flag, else the argument's name */
	const char *help;      /* one line, lower case, no period */
};

enum vs_common_options {
	VS_COMMON_DATABASE = 1 << 0, /* --database URL */
	VS_COMMON_PROGRESS = 1 << 1, /* --progress */
};

struct vs_command {
	const char *name;        /* "vs-ingest" */
	const char *synopsis;    /* after the name; several forms separated by '\n' */
	const char *summary;     /* one line for --help and 'vs help' */
	const char *subcommands; /* space-separated, for completion; may be NULL */
	const struct vs_option *options; /* ends with an all-zero entry */
	unsigned common;         /* enum vs_common_options, or-ed */
};

struct vs_opt_common {
	const char *database; /* --database, or NULL; borrowed from argv */
	bool progress;        /* --progress */
};

struct vs_opt {
	const struct vs_command *cmd;
	int argc;
	char **argv;
	int optind;            /* after the loop: index of the first operand */
	struct vs_opt_common common;
	void *state;           /* internal */
};

#define VS_OPT_INIT(c, ac, av) {.cmd = (c), .argc = (ac), .argv = (av), .optind = 1}

enum {
	VS_OPT_DONE = 0,         /* no more options */
	VS_OPT_EXIT_OK = -1,     /* --help or --version was printed: exit 0 */
	VS_OPT_EXIT_USAGE = -2,  /* a usage error was reported on stderr: exit 2 */
};

/*
 * Returns the id of the next program option (its argument in *arg, borrowed
 * from argv, NULL for flags), VS_OPT_DONE after the last one, or one of the
 * VS_OPT_EXIT_* values, after which the program should return
 * vs_opt_exit(ret). Options and operands may be mixed; "--" ends options.
 */
int vs_opt_next(struct vs_opt *opt, const char **arg);

/* Exit status for a VS_OPT_EXIT_* value; releases the parser's state. */
int vs_opt_exit(int ret);

/* Releases the parser's state (call once the loop ended with VS_OPT_DONE). */
void vs_opt_release(struct vs_opt *opt);

/* Reports a usage error ("vs-x: msg" and a hint to --help) and returns
 * VS_EXIT_USAGE, for checks the table cannot express. */
int vs_usage_error(const struct vs_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes the --help text to f. */
void vs_opt_print_help(const struct vs_command *cmd, FILE *f);

/*
 * Parses a non-negative decimal (integer or fraction) option value; on a bad
 * value reports a usage error naming the option and returns -1.
 */
int vs_opt_double(const struct vs_command *cmd, const char *name, const char *arg,
                  double min, double max, double *out);
int vs_opt_long(const struct vs_command *cmd, const char *name, const char *arg,
                long long min, long long max, long long *out);

#endif
