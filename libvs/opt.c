#include <getopt.h>
#include <limits.h>
#include <math.h>

#include "log.h"
#include "opt.h"

enum {
	ID_HELP = 0x10000,
	ID_VERSION,
	ID_VERBOSE,
	ID_QUIET,
	ID_DATABASE,
	ID_MEDIA_ROOT,
	ID_PROGRESS,
	ID_LIST_OPTIONS,
	ID_LIST_SUBCOMMANDS,
};

static const struct vs_option common_options[] = {
	{ID_DATABASE, 0, "database", "URL", "PostgreSQL connection string or URI (default: $VS_DATABASE_URL)"},
	{ID_MEDIA_ROOT, 0, "media-root", "DIR", "working storage (default: $VS_MEDIA_ROOT or " VS_MEDIA_ROOT_DEFAULT ")"},
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

/* The value getopt_long returns for the option stored by the parser at
 * index k of the table it is given. */
#define STORED_VAL 0x20000

struct state {
	struct option longopts[MAX_OPTIONS + 1];
	const struct vs_option *opts[MAX_OPTIONS];
	char shortopts[2 + 2 * MAX_OPTIONS + 1];
};

static struct state parser;

static bool common_applies(const struct vs_command *cmd, int id)
{
	if (id == ID_DATABASE)
		return cmd->common & VS_COMMON_DATABASE;
	if (id == ID_PROGRESS)
		return cmd->common & VS_COMMON_PROGRESS;
	if (id == ID_MEDIA_ROOT)
		return cmd->common & VS_COMMON_MEDIA_ROOT;
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

		for (; o->long_name; o++) {
			if (pass && !common_applies(cmd, o->id))
				continue;
			if (k == MAX_OPTIONS)
				return NULL;
			s->longopts[k].name = o->long_name;
			s->longopts[k].has_arg = o->arg ? required_argument : no_argument;
			s->longopts[k].flag = NULL;
			/* Long options return the id, or for a stored one its
			 * index; short ones return the letter, mapped back in
			 * vs_opt_next(). */
			s->longopts[k].val = o->kind == VS_OPT_KIND_ID ? o->id : STORED_VAL + (int)k;
			s->opts[k] = o;
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

		for (; o->long_name; o++)
			if (o->short_name == c && (!pass || common_applies(cmd, o->id)))
				return o;
	}
	return NULL;
}

static void format_default(const struct vs_option *o, char *out, size_t n)
{
	const double gib = 1 << 30, mib = 1 << 20;

	if (o->arg && !strcmp(o->arg, "BYTES") && o->def >= gib && fmod(o->def, gib) == 0)
		snprintf(out, n, " (default: %g GiB)", o->def / gib);
	else if (o->arg && !strcmp(o->arg, "BYTES") && o->def >= mib && fmod(o->def, mib) == 0)
		snprintf(out, n, " (default: %g MiB)", o->def / mib);
	else
		snprintf(out, n, " (default: %.15g)", o->def);
}

static void print_option(FILE *f, const struct vs_option *o)
{
	char left[64], def[64] = "";

	if (!o->help)
		return;
	snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->short_name ? "-" : "    ",
	         o->short_name ? o->short_name : ' ', o->short_name ? ", " : "",
	         o->long_name, o->arg ? " " : "", o->arg ? o->arg : "");
	if (o->short_name == 0) /* keep long names in one column */
		snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, o->arg ? " " : "",
		         o->arg ? o->arg : "");
	if (o->has_def)
		format_default(o, def, sizeof(def));
	if (strlen(left) <= 24)
		fprintf(f, "  %-24s  %s%s\n", left, o->help, def);
	else
		fprintf(f, "  %s\n  %-24s  %s%s\n", left, "", o->help, def);
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
	if (cmd->options[0].long_name) {
		fputs("\nOptions:\n", f);
		for (const struct vs_option *o = cmd->options; o->long_name; o++)
			print_option(f, o);
	}
	fputs("\nCommon options:\n", f);
	for (const struct vs_option *o = common_options; o->long_name; o++)
		if (common_applies(cmd, o->id))
			print_option(f, o);
	fprintf(f, "\nSee %s(1) for details.\n", cmd->name);
}

static void list_options(const struct vs_command *cmd)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct vs_option *o = pass ? common_options : cmd->options;

		for (; o->long_name; o++)
			if (o->help && (!pass || common_applies(cmd, o->id)))
				printf("--%s%s\n", o->long_name, o->arg ? "=" : "");
	}
}

int vs_opt_usage_error(const struct vs_command *cmd, const char *fmt, ...)
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

/* The index of arg among o->choices, or a usage error that lists them:
 * "--segment-type: 'x' is not fmp4 or ts". */
static int store_choice(const struct vs_command *cmd, const struct vs_option *o, const char *arg)
{
	char list[256] = "";
	size_t len = 0;
	int i = 0, n = 1;

	for (const char *w = o->choices; *w; w++)
		n += *w == '|';
	for (const char *w = o->choices; *w; i++) {
		size_t k = strcspn(w, "|");

		if (strlen(arg) == k && !strncmp(arg, w, k)) {
			*(int *)o->value = i;
			return 0;
		}
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%.*s",
			                        i == 0 ? "" : i == n - 1 ? " or " : ", ", (int)k, w);
		w += k;
		w += *w == '|';
	}
	vs_opt_usage_error(cmd, "--%s: '%s' is not %s", o->long_name, arg, list);
	return -1;
}

/* A stored option's value into its variable; a usage error reported if
 * it is not one. */
static int store(const struct vs_command *cmd, const struct vs_option *o, const char *arg)
{
	long long n;
	double d;

	switch (o->kind) {
	case VS_OPT_KIND_STRING:
		*(const char **)o->value = arg;
		return 0;
	case VS_OPT_KIND_SET:
	case VS_OPT_KIND_CLEAR:
		*(bool *)o->value = o->kind == VS_OPT_KIND_SET;
		return 0;
	case VS_OPT_KIND_INT:
	case VS_OPT_KIND_LLONG:
		/* a double holds 2^63 but no long long does: the top of the range is LLONG_MAX */
		if (vs_opt_long(cmd, o->long_name, arg, (long long)o->min,
		                o->max >= 0x1p63 ? LLONG_MAX : (long long)o->max, &n) < 0)
			return -1;
		if (o->kind == VS_OPT_KIND_INT)
			*(int *)o->value = (int)n;
		else
			*(long long *)o->value = n;
		return 0;
	case VS_OPT_KIND_DOUBLE:
		if (vs_opt_double(cmd, o->long_name, arg, o->min, o->max, &d) < 0)
			return -1;
		*(double *)o->value = d;
		return 0;
	case VS_OPT_KIND_CHOICE:
		return store_choice(cmd, o, arg);
	case VS_OPT_KIND_ID:
		break;
	}
	return -1;
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
				vs_opt_usage_error(opt->cmd, "option '%s' needs an argument", bad);
			else if (optopt && !(bad[0] == '-' && bad[1] == '-'))
				vs_opt_usage_error(opt->cmd, "unknown option '-%c'", optopt);
			else
				vs_opt_usage_error(opt->cmd, "unknown option '%s'", bad);
			vs_opt_release(opt);
			return VS_OPT_EXIT_USAGE;
		}
		o = c < 0x100 ? by_short(opt->cmd, c) : c >= STORED_VAL ? s->opts[c - STORED_VAL] : NULL;
		if (o && o->kind != VS_OPT_KIND_ID) {
			if (store(opt->cmd, o, optarg) < 0) {
				vs_opt_release(opt);
				return VS_OPT_EXIT_USAGE;
			}
			continue;
		}
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
			for (const struct vs_subcommand *sub = opt->cmd->commands; sub && sub->name; sub++)
				printf("%s\n", sub->name);
			for (const char *p = opt->cmd->subcommands; p && *p;) {
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
		case ID_MEDIA_ROOT:
			opt->common.media_root = optarg;
			continue;
		case ID_PROGRESS:
			opt->common.progress = true;
			continue;
		default:
			return c;
		}
	}
}

int vs_opt_parse(struct vs_opt *opt)
{
	const char *arg;
	int c = vs_opt_next(opt, &arg);

	if (c > 0) { /* an option with an id: the program's loop should have it */
		vs_opt_usage_error(opt->cmd, "option with id %d is not handled", c);
		vs_opt_release(opt);
		return VS_OPT_EXIT_USAGE;
	}
	return c;
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
		vs_opt_usage_error(cmd, "--%s: '%s' is not a number from %g to %g", name, arg, min, max);
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
		vs_opt_usage_error(cmd, "--%s: '%s' is not a whole number from %lld to %lld", name,
		               arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}
