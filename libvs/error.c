#include "error.h"

#define VS_ERROR_MAX 1024

static _Thread_local char err_code[32];
static _Thread_local char err_msg[VS_ERROR_MAX];

int vs_fail(int ret, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(err_code, sizeof(err_code), "%s", code ? code : VS_E_INTERNAL);
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	return ret;
}

void vs_error_prefix(const char *fmt, ...)
{
	char prefix[VS_ERROR_MAX];
	char old[VS_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err_msg, sizeof(old));
	snprintf(err_msg, sizeof(err_msg), "%.500s: %.500s", prefix, old);
}

const char *vs_error_code(void)
{
	return err_code[0] ? err_code : VS_E_INTERNAL;
}

const char *vs_error_message(void)
{
	return err_msg[0] ? err_msg : "unknown error";
}

void vs_error_clear(void)
{
	err_code[0] = '\0';
	err_msg[0] = '\0';
}

int vs_exit_for(int ret)
{
	if (ret == VS_ETEMP)
		return VS_EXIT_TEMPFAIL;
	return ret < 0 ? VS_EXIT_FAILED : VS_EXIT_OK;
}

int vs_exit_worse(int a, int b)
{
	if (a == VS_EXIT_TEMPFAIL || b == VS_EXIT_TEMPFAIL)
		return VS_EXIT_TEMPFAIL;
	return a > b ? a : b;
}
