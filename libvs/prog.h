#ifndef VS_PROG_H
#define VS_PROG_H

#include <libpq-fe.h>

#include "opt.h"

/*
 * The skeleton every vs program shares, as git's builtins share theirs:
 * after the option loop, one call opens the database if the program (or
 * its subcommand) asks for one, a subcommand table dispatches, and one
 * ending reports the failure, closes the database and stdout, and turns
 * it all into the exit status.
 *
 *     static const struct vs_subcommand subs[] = {
 *         {"migrate", migrate, VS_OPT_DB_NEEDED},
 *         {"status", status, .db = VS_OPT_DB_NEEDED},
 *         {0},
 *     };
 *     static const struct vs_command cmd = {..., .commands = subs};
 *
 *     int main(int argc, char **argv)
 *     {
 *         struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
 *         struct vs_prog p;
 *         ... the option loop ...
 *         if (c < 0)
 *             return vs_opt_exit(c);
 *         vs_prog_init(&p, &opt);
 *         return vs_prog_dispatch(&p, &ctx);    // or, without subcommands:
 *         if ((ret = vs_prog_open_db(&p, VS_OPT_DB_IF_GIVEN, NULL)) == 0)
 *             ret = vs_record_loop(stdin, "stdin", fn, &ctx, &p.status);
 *         return vs_prog_end(&p, ret);
 *     }
 */

struct vs_prog {
	const struct vs_command *cmd;
	struct vs_opt_common common; /* the shared options' values */
	const char *media_root;      /* --media-root, else $VS_MEDIA_ROOT, else VS_MEDIA_ROOT_DEFAULT */
	char **args;                 /* the operands (borrowed from argv) */
	int n_args;
	PGconn *db;                  /* after vs_prog_open_db: the connection, or NULL */
	int status;                  /* the exit status so far (vs_exit_worse) */
	bool keep_stdout;            /* vs_prog_end leaves stdout alone (closed already) */
	void *ctx;                   /* the program's own state, for subcommands */
	const struct vs_subcommand *sub; /* the subcommand running, or NULL */
};

/*
 * The start of every main: diagnostics named after argv[0], the command
 * line parsed by cmd's table (rows with an id go to cmd->on_option with
 * ctx), then vs_prog_init. True to go on; false when the program is to
 * exit with p->status: 0 after --help or --version, 2 after a usage error.
 */
bool vs_prog_start(struct vs_prog *p, const struct vs_command *cmd, int argc, char **argv, void *ctx);

/* Starts the skeleton after a finished option loop (releases the parser). */
void vs_prog_init(struct vs_prog *p, struct vs_opt *opt);

/*
 * Connects to the database as need asks; what_for names what needs it in
 * the usage error ("--id", "retry"; NULL: the program). Returns 0, or a
 * negative code that the caller passes to vs_prog_end(): VS_EXIT_USAGE's
 * report is made already, a connection failure's message is set.
 */
int vs_prog_open_db(struct vs_prog *p, enum vs_opt_db need, const char *what_for);

/*
 * Runs the subcommand the first operand names, from p->cmd->commands:
 * checks it and its operands (usage errors name them), opens the database
 * it needs, runs it and ends (vs_prog_end). Returns the exit status.
 */
int vs_prog_dispatch(struct vs_prog *p, void *ctx);

/*
 * The one ending: ret < 0 is reported on stderr ("prog: message") and
 * raises the status (75 for a temporary failure, else 1); the database is
 * closed; stdout is flushed and closed, and a failure there makes the
 * status 1. Returns the exit status.
 */
int vs_prog_end(struct vs_prog *p, int ret);

/* Internal: the code vs_prog_open_db returns after reporting a usage error. */
#define VS_PROG_USAGE (-1000)

#endif
