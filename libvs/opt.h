#ifndef VS_OPT_H
#define VS_OPT_H

#include "vs.h"

/*
 * One option table per program, which yields parsing (getopt_long), --help
 * and the option list the shell completions ask for (--list-options).
 * Options the parser stores itself are rows of VS_OPT_STRING, VS_OPT_SET,
 * VS_OPT_INT... (below); the others carry an id the loop switches on:
 *
 *     const char *title = NULL;
 *     long long max = VS_FETCH_MAX_BYTES_DEFAULT;
 *     const struct vs_option options[] = {
 *         VS_OPT_STRING('t', "title", "TEXT", title, "title of the video"),
 *         VS_OPT_LLONG(0, "max-size", "BYTES", max, 1, INT64_MAX, "largest download",
 *                      VS_OPT_DEFAULT(VS_FETCH_MAX_BYTES_DEFAULT)),
 *         {OPT_SLUG, 0, "slug", "SLUG", "URL name"},  // the loop checks it
 *         {0},
 *     };
 *     const struct vs_command cmd = {
 *         .name = "vs-ingest", .synopsis = "[options] [FILE|URL...]",
 *         .summary = "probe, store and register uploaded videos",
 *         .options = options, .common = VS_COMMON_DATABASE,
 *     };
 *     struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
 *     while ((c = vs_opt_next(&opt, &arg)) > 0)
 *         switch (c) { case OPT_SLUG: ... }
 *     if (c < 0)
 *         return vs_opt_exit(c);
 *     // positional arguments: argv[opt.optind] .. argv[argc - 1]
 *
 * The options every program shares are handled here: --help (usage on
 * stdout), --version, --verbose, --quiet, and, where the command asks for
 * them, --database URL, --media-root DIR and --progress, whose values land
 * in opt.common. A program with subcommands lists them in cmd.commands
 * (prog.h), which yields their completion and their dispatch.
 */

/* What the parser does with an option: return its id to the program's
 * loop, or store it into the program's variable itself. */
enum vs_opt_kind {
	VS_OPT_KIND_ID = 0, /* vs_opt_next() returns id, the argument in *arg */
	VS_OPT_KIND_STRING, /* const char *: the argument, borrowed from argv */
	VS_OPT_KIND_SET,    /* bool: true */
	VS_OPT_KIND_CLEAR,  /* bool: false */
	VS_OPT_KIND_INT,    /* int: a whole number from min to max */
	VS_OPT_KIND_LLONG,  /* long long: a whole number from min to max */
	VS_OPT_KIND_DOUBLE, /* double: a number from min to max */
	VS_OPT_KIND_CHOICE, /* int: the index of the argument among choices */
};

struct vs_option {
	int id;                /* VS_OPT_KIND_ID: returned by vs_opt_next(); > 0, unique */
	char short_name;       /* 0 for none */
	const char *long_name; /* without the leading "--"; NULL ends the table */
	const char *arg;       /* NULL for a flag, else the argument's name */
	const char *help;      /* one line, lower case, no period */
	double def;            /* with has_def: the default, printed after the help */
	bool has_def;
	enum vs_opt_kind kind;
	void *value;           /* the variable of a stored kind */
	double min, max;       /* the range of a number */
	const char *choices;   /* a choice's words, '|'-separated: "fmp4|ts" */
};

/*
 * Rows of a table whose options the parser stores itself, as git's
 * parse-options does (the table then lives in main, beside the
 * variables). The variable's type is checked at compile time. Extra
 * designated initialisers may follow, such as VS_OPT_DEFAULT(...).
 */
#define VS_OPT_VAR_(var, T) _Generic(&(var), T: (void *)&(var))
#define VS_OPT_STRING(s, l, a, var, h, ...) \
	{.short_name = (s), .long_name = (l), .arg = (a), .help = (h), .kind = VS_OPT_KIND_STRING, \
	 .value = VS_OPT_VAR_(var, const char **), __VA_ARGS__}
#define VS_OPT_SET(s, l, var, h, ...) \
	{.short_name = (s), .long_name = (l), .help = (h), .kind = VS_OPT_KIND_SET, \
	 .value = VS_OPT_VAR_(var, bool *), __VA_ARGS__}
#define VS_OPT_CLEAR(s, l, var, h, ...) \
	{.short_name = (s), .long_name = (l), .help = (h), .kind = VS_OPT_KIND_CLEAR, \
	 .value = VS_OPT_VAR_(var, bool *), __VA_ARGS__}
#define VS_OPT_INT(s, l, a, var, lo, hi, h, ...) \
	{.short_name = (s), .long_name = (l), .arg = (a), .help = (h), .kind = VS_OPT_KIND_INT, \
	 .value = VS_OPT_VAR_(var, int *), .min = (lo), .max = (hi), __VA_ARGS__}
#define VS_OPT_LLONG(s, l, a, var, lo, hi, h, ...) \
	{.short_name = (s), .long_name = (l), .arg = (a), .help = (h), .kind = VS_OPT_KIND_LLONG, \
	 .value = VS_OPT_VAR_(var, long long *), .min = (double)(lo), .max = (double)(hi), __VA_ARGS__}
#define VS_OPT_CHOICE(s, l, a, var, words, h, ...) \
	{.short_name = (s), .long_name = (l), .arg = (a), .help = (h), .kind = VS_OPT_KIND_CHOICE, \
	 .value = VS_OPT_VAR_(var, int *), .choices = (words), __VA_ARGS__}
#define VS_OPT_DOUBLE(s, l, a, var, lo, hi, h, ...) \
	{.short_name = (s), .long_name = (l), .arg = (a), .help = (h), .kind = VS_OPT_KIND_DOUBLE, \
	 .value = VS_OPT_VAR_(var, double *), .min = (lo), .max = (hi), __VA_ARGS__}

/* The default of an option, from the constant that holds it (never
 * retyped): {..., "lease", "SECONDS", "how long", VS_OPT_DEFAULT(VS_QUEUE_LEASE_S)}.
 * --help prints it as "(default: 600)"; an option whose argument is BYTES as
 * "(default: 64 MiB)" where it is a whole number of MiB or GiB. */
#define VS_OPT_DEFAULT(x) .def = (double)(x), .has_def = true

enum vs_common_options {
	VS_COMMON_DATABASE = 1 << 0,   /* --database URL */
	VS_COMMON_PROGRESS = 1 << 1,   /* --progress */
	VS_COMMON_MEDIA_ROOT = 1 << 2, /* --media-root DIR */
};

/* The working storage when neither --media-root nor $VS_MEDIA_ROOT says. */
#define VS_MEDIA_ROOT_DEFAULT "./vs-media"

/* What a program or subcommand wants of the database (prog.h connects). */
enum vs_opt_db {
	VS_OPT_DB_NONE = 0, /* never connects */
	VS_OPT_DB_IF_GIVEN, /* connects when --database or $VS_DATABASE_URL is set */
	VS_OPT_DB_NEEDED,   /* a usage error (exit 2) without one */
};

struct vs_prog; /* prog.h */

/* A subcommand: "vs-db migrate". run gets the operands after its name in
 * p->args (between min_args and max_args of them, checked before; prog.h
 * dispatches). */
struct vs_subcommand {
	const char *name;
	int (*run)(struct vs_prog *p); /* 0 or a negative code (error.h) */
	enum vs_opt_db db;
	int min_args, max_args;
	const char *args;              /* the operands' names, for a usage error: "ID" */
	int tag;                       /* the program's: tells apart subcommands that share run */
};

struct vs_command {
	const char *name;        /* "vs-ingest" */
	const char *synopsis;    /* after the name; several forms separated by '\n' */
	const char *summary;     /* one line for --help and 'vs help' */
	const struct vs_subcommand *commands; /* ends with an all-zero entry; may be NULL */
	const char *subcommands; /* or: space-separated names, for a program that dispatches itself (vs) */
	const struct vs_option *options; /* ends with an all-zero entry */
	/* For vs_prog_start: the rows with an id, as the loop of
	 * vs_opt_next() would take them; 0, or VS_EXIT_USAGE once reported. */
	int (*on_option)(const struct vs_command *cmd, int id, const char *arg, void *ctx);
	unsigned common;         /* enum vs_common_options, or-ed */
};

struct vs_opt_common {
	const char *database;   /* --database, or NULL; borrowed from argv */
	const char *media_root; /* --media-root, or NULL; borrowed from argv */
	bool progress;          /* --progress */
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

/* The whole command line, for a table whose options are all stored ones:
 * VS_OPT_DONE or a VS_OPT_EXIT_* value, as vs_opt_next(). */
int vs_opt_parse(struct vs_opt *opt);

/* Exit status for a VS_OPT_EXIT_* value; releases the parser's state. */
int vs_opt_exit(int ret);

/* Releases the parser's state (call once the loop ended with VS_OPT_DONE). */
void vs_opt_release(struct vs_opt *opt);

/* Reports a usage error ("vs-x: msg" and a hint to --help) and returns
 * VS_EXIT_USAGE, for checks the table cannot express. */
int vs_opt_usage_error(const struct vs_command *cmd, const char *fmt, ...)
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
