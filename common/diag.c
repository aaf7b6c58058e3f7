#include "common/diag.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/exit_codes.h"

static bool quiet;

void diag_set_quiet(bool q)
{
	quiet = q;
}

static void emit(const char *prefix, const char *fmt, va_list ap)
{
	/* Build the whole line first so that concurrent writers never interleave inside it. */
	char line[1024];
	int n = snprintf(line, sizeof(line), "lbvm: %s", prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

void diag_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void diag_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("warning: ", fmt, ap);
	va_end(ap);
}

void diag_info(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

int diag_bad_option(const char *cmd, int getopt_result, const char *arg)
{
	if (getopt_result == ':')
		diag_error("%s: option '%s' needs a value", cmd, arg);
	else
		diag_error("%s: unknown option '%s' (lbvm %s --help)", cmd, arg, cmd);
	return EXIT_USAGE;
}
