/* libFuzzer target: any bytes as a run record (run.json). The reader must refuse or accept without
 * crashing, leaking or reading out of bounds; what it accepts must hold what lbvm diff relies on: steps
 * numbered in order, package names that cannot leave a folder, hashes of 64 hex digits, and one line
 * for every refusal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/run_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_info r;
	struct error err = { 0 };
	if (run_json_parse((const char *)data, size, "fuzz", &r, &err) < 0) {
		if (!err.msg[0] || strchr(err.msg, '\n') || err.status != 2)
			abort();
		return 0;
	}
	for (size_t i = 0; i < r.n_steps; i++) {
		const struct run_step *s = &r.steps[i];
		if (s->index != i + 1 || !s->stage || !s->name || !s->outcome)
			abort();
		if (s->package && (!*s->package || strchr(s->package, '/') || !strcmp(s->package, "..")))
			abort();
	}
	for (size_t i = 0; i < r.n_inputs; i++)
		if (r.inputs[i].sha256 && strlen(r.inputs[i].sha256) != 64)
			abort();
	run_json_free(&r);
	return 0;
}
