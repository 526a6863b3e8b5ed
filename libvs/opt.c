#include <getopt.h>
#include <math.h>

#include "log.h"
#include "opt.h"

enum {
	ID_HELP = 0x10000,
	ID_VERSION,
	ID_VERBOSE,
	ID_QUIET,
	ID_DATABASE,
	ID_PROGRESS,
	ID_LIST_OPTIONS,
	ID_LIST_SUBCOMMANDS,
};

static const struct vs_option common_options[] = {
	{ID_DATABASE, 0, "database", "URL", "PostgreSQL connection string or URI (default: $VS_DATABASE_URL)"},
	{ID_PROGRESS, 0, "progress", NULL, "show progress on stderr even when it is not a terminal"},
	{ID_VERBOSE, 'v', "verbose", NULL, "say more on stderr"},
	{ID_QUIET, 'q', "quiet", NULL, "say nothing on stderr but errors"},
	{ID_HELP, 'h', "help", NULL, "show this help and exit"},
	{ID_VERSION, 'V', "version", NULL, "show the version and exit"},
	{ID_LIST_OPTIONS, 0, "list-options", NULL, NULL},         /* for completions */
	{ID_LIST_SUBCOMMANDS, 0, "list-subcommands", NULL, NULL}, /* for completions */
	{0},
};

/* The parser's tables. Static: a program parses one command line, and a
 * program that returns early from its option loop leaks nothing. */
#define MAX_OPTIONS 64

struct state {
	struct option longopts[MAX_OPTIONS + 1];
	char shortopts[2 + 2 * MAX_OPTIONS + 1];
};

static struct state parser;

static bool common_applies(const struct vs_command *cmd, int id)
{
	if (id == ID_DATABASE)
		return cmd->common & VS_COMMON_DATABASE;
	if (id == ID_PROGRESS)
		return cmd->common & VS_COMMON_PROGRESS;
	return true;
}

static struct state *state_new(const struct vs_command *cmd)
{
	struct state *s = &parser;
	size_t k = 0, sk = 0;

	memset(s, 0, sizeof(*s));
	s->shortopts[sk++] = ':'; /* report a missing argument as ':' */
	for (int pass = 0; pass < 2; pass++) {
		const struct vs_option *o = pass ? common_options : cmd->options;

		for (; o->id; o++) {
			if (pass && !common_applies(cmd, o->id))
				continue;
			if (k == MAX_OPTIONS)
				return NULL;
			s->longopts[k].name = o->long_name;
			s->longopts[k].has_arg = o->arg ? required_argument : no_argument;
			s->longopts[k].flag = NULL;
			/* Long options return the id itself; short ones return
			 * the letter, mapped back in vs_opt_next(). */
			s->longopts[k].val = o->id;
			k++;
			if (o->short_name) {
				s->shortopts[sk++] = o->short_name;
				if (o->arg)
					s->shortopts[sk++] = ':';
			}
		}
	}
	return s;
}

static void state_free(struct state *s)
{
	(void)s;
}

static const struct vs_option *by_short(const struct vs_command *cmd, int c)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct vs_option *o = pass ? common_options : cmd->options;

		for (; o->id; o++)
			if (o->short_name == c && (!pass || common_applies(cmd, o->id)))
				return o;
	}
	return NULL;
}

static void print_option(FILE *f, const struct vs_option *o)
{
	char left[64];

	if (!o->help)
		return;
	snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->short_name ? "-" : "    ",
	         o->short_name ? o->short_name : ' ', o->short_name ? ", " : "",
	         o->long_name, o->arg ? " " : "", o->arg ? o->arg : "");
	if (o->short_name == 0) /* keep long names in one column */
		snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, o->arg ? " " : "",
		         o->arg ? o->arg : "");
	if (strlen(left) <= 24)
		fprintf(f, "  %-24s  %s\n", left, o->help);
	else
		fprintf(f, "  %s\n  %-24s  %s\n", left, "", o->help);
}

void vs_opt_print_help(const struct vs_command *cmd, FILE *f)
{
	const char *syn = cmd->synopsis ? cmd->synopsis : "[options]";
	const char *p = syn;
	bool first = true;

	while (*p || first) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		fprintf(f, "%s %s %.*s\n", first ? "usage:" : "      ", cmd->name, len, p);
		first = false;
		if (!nl)
			break;
		p = nl + 1;
	}
	if (cmd->summary)
		fprintf(f, "\n%s.\n", cmd->summary);
	if (cmd->options[0].id) {
		fputs("\nOptions:\n", f);
		for (const struct vs_option *o = cmd->options; o->id; o++)
			print_option(f, o);
	}
	fputs("\nCommon options:\n", f);
	for (const struct vs_option *o = common_options; o->id; o++)
		if (common_applies(cmd, o->id))
			print_option(f, o);
	fprintf(f, "\nSee %s(1) for details.\n", cmd->name);
}

static void list_options(const struct vs_command *cmd)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct vs_option *o = pass ? common_options : cmd->options;

		for (; o->id; o++)
			if (o->help && (!pass || common_applies(cmd, o->id)))
				printf("--%s%s\n", o->long_name, o->arg ? "=" : "");
	}
}

int vs_usage_error(const struct vs_command *cmd, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	vs_log_error("%s", msg ? msg : "usage error");
	fprintf(stderr, "Try '%s --help' for more information.\n", cmd->name);
	free(msg);
	return VS_EXIT_USAGE;
}

int vs_opt_next(struct vs_opt *opt, const char **arg)
{
	struct state *s = opt->state;
	int c, longindex = -1;

	*arg = NULL;
	if (!s) {
		s = opt->state = state_new(opt->cmd);
		if (!s) {
			vs_log_error("too many options (more than %d)", MAX_OPTIONS);
			return VS_OPT_EXIT_USAGE;
		}
		optind = 1;
		opterr = 0;
	}
	for (;;) {
		const struct vs_option *o;

		longindex = -1;
		c = getopt_long(opt->argc, opt->argv, s->shortopts, s->longopts, &longindex);
		if (c == -1) {
			opt->optind = optind;
			return VS_OPT_DONE;
		}
		if (c == '?' || c == ':') {
			const char *bad = opt->argv[optind - 1];

			if (c == ':')
				vs_usage_error(opt->cmd, "option '%s' needs an argument", bad);
			else if (optopt && !(bad[0] == '-' && bad[1] == '-'))
				vs_usage_error(opt->cmd, "unknown option '-%c'", optopt);
			else
				vs_usage_error(opt->cmd, "unknown option '%s'", bad);
			vs_opt_release(opt);
			return VS_OPT_EXIT_USAGE;
		}
		o = c < 0x100 ? by_short(opt->cmd, c) : NULL;
		if (o)
			c = o->id;
		*arg = optarg;
		switch (c) {
		case ID_HELP:
			vs_opt_print_help(opt->cmd, stdout);
			vs_opt_release(opt);
			return VS_OPT_EXIT_OK;
		case ID_VERSION:
			printf("%s (vs) %s\n", opt->cmd->name, VS_VERSION);
			vs_opt_release(opt);
			return VS_OPT_EXIT_OK;
		case ID_LIST_OPTIONS:
			list_options(opt->cmd);
			vs_opt_release(opt);
			return VS_OPT_EXIT_OK;
		case ID_LIST_SUBCOMMANDS:
			if (opt->cmd->subcommands)
				for (const char *p = opt->cmd->subcommands; *p;) {
					size_t n = strcspn(p, " ");
					printf("%.*s\n", (int)n, p);
					p += n;
					p += strspn(p, " ");
				}
			vs_opt_release(opt);
			return VS_OPT_EXIT_OK;
		case ID_VERBOSE:
			vs_log_set_level(VS_LOG_VERBOSE);
			continue;
		case ID_QUIET:
			vs_log_set_level(VS_LOG_QUIET);
			continue;
		case ID_DATABASE:
			opt->common.database = optarg;
			continue;
		case ID_PROGRESS:
			opt->common.progress = true;
			continue;
		default:
			return c;
		}
	}
}

int vs_opt_exit(int ret)
{
	return ret == VS_OPT_EXIT_OK ? VS_EXIT_OK : VS_EXIT_USAGE;
}

void vs_opt_release(struct vs_opt *opt)
{
	state_free(opt->state);
	opt->state = NULL;
}

int vs_opt_double(const struct vs_command *cmd, const char *name, const char *arg,
                  double min, double max, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || errno || !isfinite(v) || v < min || v > max) {
		vs_usage_error(cmd, "--%s: '%s' is not a number from %g to %g", name, arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int vs_opt_long(const struct vs_command *cmd, const char *name, const char *arg,
                long long min, long long max, long long *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (!*arg || *end || errno || v < min || v > max) {
		vs_usage_error(cmd, "--%s: '%s' is not a whole number from %lld to %lld", name,
		               arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}
