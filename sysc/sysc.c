#include "sysc/sysc.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bootstrap/build_calls.h"
#include "bootstrap/step_names.h"

int sysc_add_steps(const struct tree2021 *t, struct plan *plan, struct error *err)
{
	struct build_calls calls = { 0 };
	char path[PATH_MAX];
	/* run.sh builds bash-5.1, then `exec`s run2.sh for the rest. */
	snprintf(path, sizeof(path), "%s/sysc/run.sh", t->tree);
	int rc = build_calls_read_bash(&calls, path, tree2021_config_var, (void *)t, err);
	snprintf(path, sizeof(path), "%s/sysc/run2.sh", t->tree);
	if (rc == 0)
		rc = build_calls_read_bash(&calls, path, tree2021_config_var, (void *)t, err);
	for (size_t i = 0; rc == 0 && i < calls.n; i++) {
		const struct build_call *b = &calls.calls[i];
		char name[512], begin[512], end[512];
		step_name_unique(plan, b->package, b->script, name, sizeof(name));
		snprintf(begin, sizeof(begin), "%s: beginning build using script %s", b->package, b->script);
		snprintf(end, sizeof(end), "%s: build successful", b->package);
		if (!plan_add(plan, SYSC_STAGE, name, b->package, b->script, PLAN_BUILD, begin, end, err))
			rc = err->code;
	}
	build_calls_free(&calls);
	return rc;
}

int sysc_assemble(const struct tree2021 *t, const struct plan *plan, struct fs_tree *image, struct error *err)
{
	int rc = tree2021_add_tree_file(t, image, "sysc/init", "init", err);
	if (!rc)
		rc = tree2021_add_dirs(image, "sbin", err);
	if (!rc)
		rc = tree2021_add_dirs(image, "usr/src", err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysc/run.sh", "usr/src/run.sh", err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysc/run2.sh", "usr/src/run2.sh", err);
	if (!rc)
		rc = fstree_add_file(image, "usr/src/bootstrap.cfg", t->cfg_file, 0644, err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysglobal/helpers.sh", "usr/src/helpers.sh", err);
	for (size_t i = 0; rc == 0 && i < plan->n_steps; i++) {
		const struct plan_step *s = &plan->steps[i];
		if (!s->package || strcmp(s->stage, SYSC_STAGE))
			continue;
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = plan->steps[k].package && !strcmp(plan->steps[k].package, s->package) &&
			       !strcmp(plan->steps[k].stage, SYSC_STAGE);
		if (!seen)
			rc = tree2021_add_package(t, image, "sysc", s->package, &t->sysc_files, "usr/src", err);
	}
	return rc;
}
