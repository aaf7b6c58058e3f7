#include "sysa/img_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/exit_codes.h"

int img_fail(struct img_err *err, int code, const char *fmt, ...)
{
	if (err && err->code == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

int img_err_exit_status(const struct img_err *err)
{
	if (err->code == -ENOMEM || err->code == -EIO || err->code == -EFAULT)
		return EXIT_INTERNAL;
	return EXIT_USAGE;
}
