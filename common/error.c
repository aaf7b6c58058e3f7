#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/exit_codes.h"

static int record(struct error *err, int status, int code, const char *fmt, va_list ap)
{
	if (err && err->code == 0) {
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		err->code = code ? code : -EINVAL;
		err->status = status;
	}
	return code;
}

int error_fail(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(err, 0, code, fmt, ap);
	va_end(ap);
	return code;
}

int error_fail_status(struct error *err, int status, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(err, status, code, fmt, ap);
	va_end(ap);
	return code;
}

int error_exit_status(const struct error *err)
{
	if (err->status)
		return err->status;
	if (err->code == -ENOMEM || err->code == -EIO || err->code == -EFAULT)
		return EXIT_INTERNAL;
	return EXIT_USAGE;
}
