#include "image/epoch.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#define EPOCH_MAX 0xffffffffull /* 32-bit timestamps in cpio newc and ext2/3/4 */

int epoch_parse(const char *text, uint32_t *out, struct error *err)
{
	unsigned long long value = 0;
	const char *p = text;
	if (!*p)
		return error_fail(err, -EINVAL, "SOURCE_DATE_EPOCH is empty");
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return error_fail(err, -EINVAL, "SOURCE_DATE_EPOCH '%s' is not a decimal number of seconds", text);
		value = value * 10 + (unsigned)(*p - '0');
		if (value > EPOCH_MAX)
			return error_fail(err, -EINVAL, "SOURCE_DATE_EPOCH '%s' is past 2106 (32-bit timestamps)", text);
	}
	*out = (uint32_t)value;
	return 0;
}

int epoch_from_env(uint32_t *out, struct error *err)
{
	const char *text = getenv("SOURCE_DATE_EPOCH");
	if (!text || !*text) {
		*out = EPOCH_DEFAULT;
		return 0;
	}
	return epoch_parse(text, out, err);
}
