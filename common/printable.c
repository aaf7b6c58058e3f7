#include "common/printable.h"

#include <string.h>

char *printable(char *dst, size_t len, const char *src)
{
	size_t i = 0;
	const char *s = src ? src : "";
	for (; s[i] && i + 1 < len; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	dst[i] = '\0';
	if (s[i] && len >= 4)
		memcpy(dst + len - 4, "...", 4);
	return dst;
}
