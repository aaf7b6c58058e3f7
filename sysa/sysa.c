#include "sysa/sysa.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bootstrap/build_calls.h"
#include "bootstrap/step_names.h"
#include "sysb/sysb.h"

#define STAGE0 "sysa/stage0-posix/src"

int sysa_add_steps(const struct tree2021 *t, struct plan *plan, struct error *err)
{
	/* stage0-posix needs no distfiles: hex0 ... mescc-tools-extra from the seeds. It prints nothing of its
	 * own at the start (kaem-optional-seed does not echo); it ends where after.kaem begins. */
	if (!plan_add(plan, SYSA_STAGE, "stage0-posix", NULL, NULL, PLAN_SCRIPT, NULL, SYSA_AFTER_KAEM_LINE, err))
		return err->code;
	char path[PATH_MAX];
	struct build_calls calls = { 0 };
	snprintf(path, sizeof(path), "%s/sysa/after.kaem", t->tree);
	int rc = build_calls_read_kaem(&calls, path, err);
	for (size_t i = 0; rc == 0 && i < calls.n; i++) {
		char begin[512];
		snprintf(begin, sizeof(begin), " +> kaem --file %s.kaem", calls.calls[i].package);
		if (!plan_add(plan, SYSA_STAGE, calls.calls[i].package, calls.calls[i].package, NULL, PLAN_BUILD, begin,
			      NULL, err))
			rc = err->code;
	}
	build_calls_free(&calls);
	snprintf(path, sizeof(path), "%s/sysa/run.sh", t->tree);
	if (rc == 0)
		rc = build_calls_read_bash(&calls, path, tree2021_config_var, (void *)t, err);
	for (size_t i = 0; rc == 0 && i < calls.n; i++) {
		const struct build_call *b = &calls.calls[i];
		char name[512], begin[512], end[512];
		step_name_unique(plan, b->package, b->script, name, sizeof(name));
		snprintf(begin, sizeof(begin), "%s: beginning build using script %s", b->package, b->script);
		snprintf(end, sizeof(end), "%s: build successful", b->package);
		if (!plan_add(plan, SYSA_STAGE, name, b->package, b->script, PLAN_BUILD, begin, end, err))
			rc = err->code;
	}
	build_calls_free(&calls);
	if (rc == 0 && !t->chroot)
		rc = sysb_add_steps(plan, err);
	return rc;
}

static int add_stage0(const struct tree2021 *t, struct fs_tree *image, struct error *err)
{
	char host[PATH_MAX];
	/* distutils' copy_tree of x86/ into the root, then copytree of each source tree (without *.git*);
	 * the cpio list came from glob('**'), which leaves out hidden names everywhere. */
	snprintf(host, sizeof(host), "%s/" STAGE0 "/x86", t->tree);
	int rc = fstree_add_host_dir(image, host, "", FSTREE_GIT_MODES | FSTREE_NO_HIDDEN, err);
	static const char *const trees[] = { "M2-Planet", "M2libc", "mescc-tools", "mescc-tools-extra",
					     "bootstrap-seeds" };
	for (size_t i = 0; rc == 0 && i < sizeof(trees) / sizeof(trees[0]); i++) {
		snprintf(host, sizeof(host), "%s/" STAGE0 "/%s", t->tree, trees[i]);
		rc = tree2021_add_dirs(image, trees[i], err);
		if (!rc)
			rc = fstree_add_host_dir(image, host, trees[i], FSTREE_GIT_MODES | FSTREE_NO_HIDDEN | FSTREE_NO_GIT,
						 err);
	}
	if (!rc)
		rc = tree2021_add_tree_file(t, image, STAGE0 "/bootstrap-seeds/POSIX/x86/kaem-optional-seed", "init", err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysa/after.kaem", "after.kaem", err);
	if (!rc)
		rc = tree2021_add_dirs(image, "bin", err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, STAGE0 "/x86.answers", "x86.answers", err);
	return rc;
}

int sysa_assemble(const struct tree2021 *t, const struct plan *plan, struct fs_tree *image, struct error *err)
{
	int rc = add_stage0(t, image, err);
	if (!rc)
		rc = tree2021_add_dirs(image, "after", err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysa/run.sh", "after/run.sh", err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "SHA256SUMS.sources", "after/SHA256SUMS.sources", err);
	if (!rc)
		rc = fstree_add_file(image, "after/bootstrap.cfg", t->cfg_file, 0644, err);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysglobal/helpers.sh", "after/helpers.sh", err);
	/* One folder per package sysa builds, once, in the chain's order. */
	for (size_t i = 0; rc == 0 && i < plan->n_steps; i++) {
		const struct plan_step *s = &plan->steps[i];
		if (!s->package || strcmp(s->stage, SYSA_STAGE))
			continue;
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = plan->steps[k].package && !strcmp(plan->steps[k].package, s->package) &&
			       !strcmp(plan->steps[k].stage, SYSA_STAGE);
		if (!seen)
			rc = tree2021_add_package(t, image, "sysa", s->package, &t->sysa_files, "after", err);
	}
	if (!rc)
		rc = sysb_assemble(t, image, "sysb", err);
	return rc;
}
