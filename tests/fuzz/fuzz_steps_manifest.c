/* libFuzzer target: any bytes as a bootstrap.cfg and a steps/manifest (split at the first NUL byte) for
 * the current layout's evaluator, and the same bytes as a bootstrap.cfg for steps_config_parse. Both
 * must refuse or accept without crashing, leaking or reading out of bounds; what the evaluator keeps
 * must be well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "steps/manifest_eval.h"
#include "steps/steps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t cfg_len = nul ? (size_t)(nul - text) : 0;
	const char *manifest = nul ? nul + 1 : text;
	size_t manifest_len = nul ? size - cfg_len - 1 : size;
	size_t lines = 1;
	for (size_t i = 0; i < manifest_len; i++)
		lines += manifest[i] == '\n';

	struct steps_eval ev;
	struct error err = { 0 };
	steps_eval_init(&ev);
	if (steps_eval_run(&ev, "fuzz", manifest, manifest_len, text, cfg_len, &err) == 0) {
		for (size_t i = 0; i < ev.n_dirs; i++) {
			const struct steps_directive *d = &ev.dirs[i];
			if (!d->arg || strchr(d->arg, '\n') || d->line < 1 || d->line > lines ||
			    d->type < STEPS_DIR_BUILD || d->type > STEPS_DIR_UNINSTALL || d->type == STEPS_DIR_DEFINE)
				abort();
		}
		for (size_t i = 0; i < ev.n_vars; i++)
			if (!steps_eval_var(&ev, ev.vars[i].name))
				abort();
	} else if (err.code == 0 || !err.msg[0]) {
		abort();
	}
	steps_eval_free(&ev);

	struct steps_config cfg;
	steps_config_init(&cfg);
	err = (struct error){ 0 };
	if (steps_config_parse(&cfg, text, size, &err) == 0) {
		char *out;
		size_t out_len;
		err = (struct error){ 0 };
		if (steps_config_write(&cfg, &out, &out_len, &err) == 0)
			free(out);
	}
	steps_config_free(&cfg);
	return 0;
}
