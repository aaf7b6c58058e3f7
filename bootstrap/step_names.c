#include "bootstrap/step_names.h"

#include <stdio.h>
#include <string.h>

void step_name_unique(const struct plan *plan, const char *package, const char *script, char *buf, size_t len)
{
	char base[256];
	size_t plen = strlen(package);
	bool is_default = !script || (!strncmp(script, package, plen) && !strcmp(script + plen, ".sh"));
	if (is_default) {
		snprintf(base, sizeof(base), "%s", package);
	} else {
		size_t slen = strlen(script);
		int keep = (int)(slen > 3 && !strcmp(script + slen - 3, ".sh") ? slen - 3 : slen);
		snprintf(base, sizeof(base), "%s %.*s", package, keep, script);
	}
	snprintf(buf, len, "%s", base);
	for (unsigned n = 2; plan_find(plan, buf) >= 0; n++)
		snprintf(buf, len, "%s (%u)", base, n);
}
