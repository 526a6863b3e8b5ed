#ifndef VS_EXITCODE_H
#define VS_EXITCODE_H

/*
 * The exit statuses every vs program uses (vs(7), EXIT STATUS). Scripts and
 * cron wrappers rely on exactly these four; nothing else is ever returned
 * (126 and above belong to the shell).
 */
enum vs_exit {
	VS_EXIT_OK = 0,        /* every record succeeded */
	VS_EXIT_FAILED = 1,    /* at least one record failed: bad input */
	VS_EXIT_USAGE = 2,     /* unknown flag, missing argument */
	VS_EXIT_TEMPFAIL = 75, /* a service (PostgreSQL, S3) is unreachable: retry later */
};

#endif
