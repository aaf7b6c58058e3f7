/* The plan of a current-layout run: the manifest evaluated as seed/script-generator.c evaluates it, laid
 * out as its generate() lays it out (kaem scripts until the first bash-* build, bash scripts after), with
 * the console lines the chain's scripts print for each step. */
#include "steps/steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "steps/internal.h"
#include "steps/manifest_eval.h"

#define LAYOUT_NAME "live-bootstrap current layout (seed/ steps/ manifest)"
#define STAGE_KAEM "kaem"
#define STAGE_BASH "bash"
#define FIRST_STEP "stage0-posix"
#define BASH_PREFIX "bash-" /* a build of bash starts a new script run by that bash */
#define LINE_MAX_LEN 512
#define SCRIPT_MAX_LEN 96 /* "improve/" + a 63-byte name + ".sh" */

struct builder {
	const char *tree;
	const struct steps_config *cfg;
	const struct steps_eval *ev;
	struct plan *plan;
	struct error *err;
	/* the packages /external/repo holds by now, as helpers.sh's get_revision counts them */
	char **repo;
	size_t n_repo;
};

static bool tree_has(const char *tree, const char *rel, bool dir)
{
	char *p = steps_path(tree, rel);
	struct stat st;
	bool ok = p && stat(p, &st) == 0 && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
	free(p);
	return ok;
}

/* How often ARG occurs among the surviving directives (all kinds, as the generator compares). */
static size_t occurrences(const struct steps_eval *ev, enum steps_directive_type type, const char *arg,
			  size_t before)
{
	size_t n = 0;
	for (size_t i = 0; i < before; i++)
		if ((!type || ev->dirs[i].type == type) && !strcmp(ev->dirs[i].arg, arg))
			n++;
	return n;
}

/* plan_add, with a name made unique by its kind if another step already has it. */
static struct plan_step *add(struct builder *b, const char *stage,
			     const char *name, const char *package, const char *script,
			     enum plan_step_kind kind, const char *begin, const char *end)
{
	char alt[LINE_MAX_LEN];
	if (plan_find(b->plan, name) >= 0) {
		snprintf(alt, sizeof(alt), "%s %s",
			 kind == PLAN_IMPROVE ? "improve" : kind == PLAN_JUMP ? "jump" : "build", name);
		name = alt;
	}
	return plan_add(b->plan, stage, name, package, script, kind, begin, end, b->err);
}

static int missing(struct builder *b, const struct steps_directive *d, const char *what, const char *path)
{
	return error_fail_status(b->err, 2, -EINVAL, "%s:%zu: %s needs %s, which is missing", STEPS_MANIFEST,
				 d->line, what, path);
}

/* helpers.sh's get_revision: the packages in /external/repo whose name starts with PKG. */
static size_t revision(const struct builder *b, const char *pkg)
{
	size_t n = 0, len = strlen(pkg);
	for (size_t i = 0; i < b->n_repo; i++)
		if (!strncmp(b->repo[i], pkg, len))
			n++;
	return n;
}

static int repo_add(struct builder *b, const char *tarball)
{
	char **r = realloc(b->repo, (b->n_repo + 1) * sizeof(*r));
	if (!r)
		return error_fail(b->err, -ENOMEM, "out of memory");
	b->repo = r;
	if (!(r[b->n_repo] = strdup(tarball)))
		return error_fail(b->err, -ENOMEM, "out of memory");
	b->n_repo++;
	return 0;
}

static int add_distfiles(struct builder *b, struct plan_step *s, const char *pkg)
{
	struct manifest m;
	manifest_init(&m);
	int rc = steps_package_sources(b->tree, pkg, &m, b->err);
	for (size_t i = 0; !rc && i < m.n_files; i++)
		rc = plan_step_add_distfile(s, m.files[i].name, b->err);
	manifest_free(&m);
	return rc;
}

static int add_build(struct builder *b, size_t idx, bool bash_era)
{
	const struct steps_directive *d = &b->ev->dirs[idx];
	const char *pkg = d->arg;
	if (!steps_name_ok(pkg))
		return error_fail_status(b->err, 2, -EINVAL, "%s:%zu: '%s' is not a package folder name",
					 STEPS_MANIFEST, d->line, pkg);
	size_t pass = 1 + occurrences(b->ev, 0, pkg, idx);
	char script[SCRIPT_MAX_LEN], rel[LINE_MAX_LEN], name[LINE_MAX_LEN], begin[LINE_MAX_LEN],
		end[LINE_MAX_LEN];
	snprintf(script, sizeof(script), "pass%zu.%s", pass, bash_era ? "sh" : "kaem");
	snprintf(rel, sizeof(rel), "steps/%s/%s", pkg, script);
	if (!bash_era && !tree_has(b->tree, rel, false))
		return missing(b, d, "this kaem-era build", rel);
	snprintf(rel, sizeof(rel), "steps/%s", pkg);
	if (!tree_has(b->tree, rel, true))
		return missing(b, d, "this build", rel);
	bool more = occurrences(b->ev, STEPS_DIR_BUILD, pkg, b->ev->n_dirs) > 1;
	if (more)
		snprintf(name, sizeof(name), "%s pass%zu", pkg, pass);
	else
		snprintf(name, sizeof(name), "%s", pkg);
	const char *end_line = NULL;
	if (!bash_era) {
		snprintf(begin, sizeof(begin), " +> pkg=%s", pkg);
	} else {
		char tarball[LINE_MAX_LEN];
		snprintf(tarball, sizeof(tarball), "%s_%zu.tar.bz2", pkg, revision(b, pkg));
		char *pre = NULL;
		if (b->cfg->repo && !(pre = steps_path(b->cfg->repo, tarball)))
			return error_fail(b->err, -ENOMEM, "out of memory");
		struct stat st;
		if (pre && stat(pre, &st) == 0 && S_ISREG(st.st_mode)) {
			snprintf(begin, sizeof(begin), "%s: installing prebuilt package.", pkg);
		} else {
			snprintf(begin, sizeof(begin), "%s: beginning build using script %s", pkg, script);
			snprintf(end, sizeof(end), "%s: build successful", pkg);
			end_line = end;
		}
		free(pre);
		int rc = repo_add(b, tarball);
		if (rc)
			return rc;
	}
	struct plan_step *s = add(b, bash_era ? STAGE_BASH : STAGE_KAEM, name, pkg, script, PLAN_BUILD, begin,
				  end_line);
	return s ? add_distfiles(b, s, pkg) : b->err->code;
}

static int add_script_step(struct builder *b, size_t idx, bool bash_era)
{
	const struct steps_directive *d = &b->ev->dirs[idx];
	bool improve = d->type == STEPS_DIR_IMPROVE;
	const char *dir = improve ? "improve" : "jump";
	if (!steps_name_ok(d->arg))
		return error_fail_status(b->err, 2, -EINVAL, "%s:%zu: '%s' is not a script name", STEPS_MANIFEST,
					 d->line, d->arg);
	char script[SCRIPT_MAX_LEN], rel[LINE_MAX_LEN], name[LINE_MAX_LEN], begin[LINE_MAX_LEN];
	snprintf(script, sizeof(script), "%s/%s.sh", dir, d->arg);
	snprintf(rel, sizeof(rel), "steps/%s", script);
	if (!tree_has(b->tree, rel, false))
		return missing(b, d, improve ? "this improve" : "this jump", rel);
	size_t total = occurrences(b->ev, d->type, d->arg, b->ev->n_dirs);
	if (total > 1)
		snprintf(name, sizeof(name), "%s #%zu", d->arg, 1 + occurrences(b->ev, d->type, d->arg, idx));
	else
		snprintf(name, sizeof(name), "%s", d->arg);
	/* kaem echoes the call (set -x); bash runs it silently and the scripts print nothing of their own */
	snprintf(begin, sizeof(begin), " +> kaem --file /steps/%s", script);
	return add(b, bash_era ? STAGE_BASH : STAGE_KAEM, name, NULL, script,
		   improve ? PLAN_IMPROVE : PLAN_JUMP, bash_era ? NULL : begin, NULL)
		       ? 0
		       : b->err->code;
}

static int build_plan(struct builder *b)
{
	if (!plan_add(b->plan, STAGE_KAEM, FIRST_STEP, NULL, NULL, PLAN_SCRIPT, NULL, NULL, b->err))
		return b->err->code;
	bool bash_era = false;
	for (size_t i = 0; i < b->ev->n_dirs; i++) {
		const struct steps_directive *d = &b->ev->dirs[i];
		int rc = 0;
		switch (d->type) {
		case STEPS_DIR_BUILD:
			rc = add_build(b, i, bash_era);
			if (!strncmp(d->arg, BASH_PREFIX, strlen(BASH_PREFIX)))
				bash_era = true;
			break;
		case STEPS_DIR_IMPROVE:
		case STEPS_DIR_JUMP:
			rc = add_script_step(b, i, bash_era);
			break;
		case STEPS_DIR_UNINSTALL: /* runs inside the script it sits in; not a step of its own */
		case STEPS_DIR_DEFINE:
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int steps_plan(const char *tree, const struct steps_config *cfg, struct plan *plan, struct error *err)
{
	char *manifest = NULL, *cfg_text = NULL;
	size_t manifest_len, cfg_len;
	struct steps_eval ev;
	steps_eval_init(&ev);
	int rc = steps_read_text(tree, STEPS_MANIFEST, &manifest, &manifest_len, err);
	if (!rc)
		rc = steps_config_write(cfg, &cfg_text, &cfg_len, err);
	if (!rc)
		rc = steps_eval_run(&ev, STEPS_MANIFEST, manifest, manifest_len, cfg_text, cfg_len, err);
	if (!rc && !(plan->layout = strdup(LAYOUT_NAME)))
		rc = error_fail(err, -ENOMEM, "out of memory");
	struct builder b = { .tree = tree, .cfg = cfg, .ev = &ev, .plan = plan, .err = err };
	if (!rc)
		rc = build_plan(&b);
	for (size_t i = 0; i < b.n_repo; i++)
		free(b.repo[i]);
	free(b.repo);
	steps_eval_free(&ev);
	free(manifest);
	free(cfg_text);
	if (rc && err->status == 0 && rc == -EINVAL)
		err->status = 2;
	return rc;
}
