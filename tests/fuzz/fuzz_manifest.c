/* libFuzzer target: any bytes as a manifest. The parser must refuse or accept without crashing, leaking
 * or reading out of bounds, and whatever it accepts must satisfy the invariants fetch relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sources/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	struct error err = { 0 };
	manifest_init(&m);
	manifest_parse_text(&m, "fuzz", (const char *)data, size, &err);
	for (size_t i = 0; i < m.n_files; i++) {
		const struct distfile *d = &m.files[i];
		if (!distfile_name_valid(d->name) || manifest_find(&m, d->name) != d)
			abort();
		for (size_t u = 0; u < d->n_urls; u++)
			if (strncasecmp(d->urls[u], "http://", 7) && strncasecmp(d->urls[u], "https://", 8) &&
			    strncasecmp(d->urls[u], "ftp://", 6))
				abort();
	}
	manifest_free(&m);
	return 0;
}
