#include "db.h"
#include "error.h"
#include "log.h"
#include "prog.h"
#include "record.h"

void vs_prog_init(struct vs_prog *p, struct vs_opt *opt)
{
	const char *env = getenv("VS_MEDIA_ROOT");

	memset(p, 0, sizeof(*p));
	vs_opt_release(opt);
	p->cmd = opt->cmd;
	p->common = opt->common;
	p->args = opt->argv + opt->optind;
	p->n_args = opt->argc - opt->optind;
	if (p->common.media_root && *p->common.media_root)
		p->media_root = p->common.media_root;
	else
		p->media_root = env && *env ? env : VS_MEDIA_ROOT_DEFAULT;
}

bool vs_prog_start(struct vs_prog *p, const struct vs_command *cmd, int argc, char **argv, void *ctx)
{
	struct vs_opt opt = VS_OPT_INIT(cmd, argc, argv);
	const char *arg;
	int c;

	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	vs_log_init(argv[0]);
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		if (!cmd->on_option || cmd->on_option(cmd, c, arg, ctx) != 0) {
			vs_opt_release(&opt);
			p->status = VS_EXIT_USAGE;
			return false;
		}
	}
	if (c < 0) {
		p->status = vs_opt_exit(c);
		return false;
	}
	vs_prog_init(p, &opt);
	p->ctx = ctx;
	return true;
}

int vs_prog_open_db(struct vs_prog *p, enum vs_opt_db need, const char *what_for)
{
	const char *url = need == VS_OPT_DB_NONE ? NULL : vs_db_url(p->common.database);

	if (!url && need == VS_OPT_DB_NEEDED) {
		vs_opt_usage_error(p->cmd, "%s%sneeds a database: set VS_DATABASE_URL or give --database URL",
		               what_for ? what_for : "", what_for ? " " : "");
		return VS_PROG_USAGE;
	}
	return url ? vs_db_connect(url, &p->db) : 0;
}

static void list_commands(const struct vs_command *cmd, char *out, size_t n)
{
	size_t k = 0;

	out[0] = '\0';
	for (const struct vs_subcommand *s = cmd->commands; s->name && k < n; s++)
		k += (size_t)snprintf(out + k, n - k, "%s%s", k ? (s[1].name ? ", " : " or ") : "", s->name);
}

int vs_prog_dispatch(struct vs_prog *p, void *ctx)
{
	const struct vs_subcommand *s = p->cmd->commands;
	char names[256];
	int ret;

	list_commands(p->cmd, names, sizeof(names));
	if (p->n_args == 0)
		return vs_opt_usage_error(p->cmd, "no command: use %s", names);
	while (s->name && strcmp(s->name, p->args[0]))
		s++;
	if (!s->name)
		return vs_opt_usage_error(p->cmd, "unknown command '%s': use %s", p->args[0], names);
	p->args++;
	p->n_args--;
	if (p->n_args < s->min_args)
		return vs_opt_usage_error(p->cmd, "%s needs %s", s->name, s->args ? s->args : "more arguments");
	if (p->n_args > s->max_args)
		return vs_opt_usage_error(p->cmd, "%s: unexpected argument '%s'", s->name, p->args[s->max_args]);
	p->ctx = ctx;
	p->sub = s;
	if ((ret = vs_prog_open_db(p, s->db, s->name)) == 0)
		ret = s->run(p);
	return vs_prog_end(p, ret);
}

int vs_prog_end(struct vs_prog *p, int ret)
{
	if (ret == VS_PROG_USAGE) {
		p->status = VS_EXIT_USAGE;
	} else if (ret < 0) {
		vs_log_error("%s", vs_error_message());
		p->status = vs_exit_worse(p->status, vs_exit_for(ret));
	}
	vs_db_close(p->db);
	p->db = NULL;
	if (!p->keep_stdout && vs_close_stdout() < 0)
		p->status = vs_exit_worse(p->status, VS_EXIT_FAILED);
	return p->status;
}
