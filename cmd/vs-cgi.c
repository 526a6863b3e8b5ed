/*
 * vs-cgi: the playback, progress and analytics endpoints for the web player.
 *
 * A CGI/1.1 program by default (one request, then exit); a FastCGI
 * responder when started on a FastCGI socket (spawn-fcgi, or a server that
 * spawns FastCGI processes), keeping its database connection across
 * requests and re-establishing it when it drops. See vs-cgi(1).
 */
#include <fcgiapp.h>
#include <signal.h>

#include "cgi.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "opt.h"

/* ---- plain CGI: the environment and stdio ---- */

static const char *cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static int cgi_read(void *ctx, char *buf, int n)
{
	(void)ctx;
	return (int)fread(buf, 1, (size_t)n, stdin);
}

static int cgi_write(void *ctx, const char *buf, int n)
{
	(void)ctx;
	return (int)fwrite(buf, 1, (size_t)n, stdout);
}

/* ---- FastCGI: libfcgi's request streams ---- */

static const char *fcgi_param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static int fcgi_read(void *ctx, char *buf, int n)
{
	return FCGX_GetStr(buf, n, ((FCGX_Request *)ctx)->in);
}

static int fcgi_write(void *ctx, const char *buf, int n)
{
	return FCGX_PutStr(buf, n, ((FCGX_Request *)ctx)->out);
}

/* SIGTERM (a web server stopping its FastCGI processes), SIGINT (Ctrl-C
 * in a terminal) and SIGHUP end a FastCGI responder once the request in
 * hand is answered: the handler interrupts the wait for the next one
 * (no SA_RESTART; FCGI_FAIL_ACCEPT_ON_INTR), and libfcgi's shutdown flag
 * keeps it from waiting again. libfcgi's own handling only sets the flag,
 * and a process blocked in accept() never looked at it. */
static void on_stop(int sig)
{
	(void)sig;
	FCGX_ShutdownPending();
}

static void stop_on_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int main(int argc, char **argv)
{
	bool fastcgi = false;
	const struct vs_command cmd = {
		.name = "vs-cgi",
		.synopsis = "[options]   (run by a web server: CGI/1.1 or FastCGI)",
		.summary = "The playback, progress and analytics endpoints of the web player",
		.options = (const struct vs_option[]){
			VS_OPT_SET(0, "fastcgi", fastcgi, "serve FastCGI on standard input even if it does not look like a socket"),
			{0},
		},
	};
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	struct vs_cgi_config cfg;
	PGconn *db = NULL;
	int c;

	vs_log_init(argv[0]);
	/* a CGI runs with arguments only from an ISINDEX query: ignore those */
	if (getenv("GATEWAY_INTERFACE") == NULL) {
		if ((c = vs_opt_parse(&opt)) < 0)
			return vs_opt_exit(c);
		vs_opt_release(&opt);
	}
	signal(SIGPIPE, SIG_IGN);
	/* configuration before the first FCGX_Accept: it replaces environ;
	 * a bad one is answered with 500 and logged on every request */
	if (vs_cgi_config_load(&cfg) < 0)
		vs_log_error("%s", vs_error_message());
	if (FCGX_Init() != 0)
		return VS_EXIT_FAILED;
	if (fastcgi || !FCGX_IsCGI()) {
		FCGX_Request req;

		cfg.persistent = true;
		stop_on_signals();
		FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR);
		while (FCGX_Accept_r(&req) >= 0) {
			struct vs_cgi_io io = {fcgi_param, fcgi_read, fcgi_write, &req};

			vs_cgi_handle(&cfg, &db, &io);
			FCGX_Finish_r(&req);
		}
	} else {
		struct vs_cgi_io io = {cgi_param, cgi_read, cgi_write, NULL};

		if (getenv("REQUEST_METHOD") == NULL) {
			vs_opt_usage_error(&cmd, "not run by a web server: REQUEST_METHOD is not set");
			vs_cgi_config_release(&cfg);
			return VS_EXIT_USAGE;
		}
		vs_cgi_handle(&cfg, &db, &io);
		fflush(stdout);
	}
	vs_db_close(db);
	vs_cgi_config_release(&cfg);
	return VS_EXIT_OK;
}
