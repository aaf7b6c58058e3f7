/* Shared helpers of the steps/ unit tests: the synthetic current-layout tree, the synthetic tree's own
 * script generator (tests/bootstrap/current/seed/script-generator.awk, run with the host's awk) and the
 * plan both as one comparable list of lines. Paths are relative to the repository root, where the unit
 * tests run. */
#ifndef LBVM_TESTS_STEPS_FIXTURE_H
#define LBVM_TESTS_STEPS_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "img_fixture.h"
#include "steps/steps.h"

#define MAKE_TREE "tests/bootstrap/make-current-tree.sh"
#define AWK_GENERATOR "tests/bootstrap/current/seed/script-generator.awk"

/* A list of lines, growing. */
struct sx_lines {
	char **v;
	size_t n;
};

static inline void sx_push(struct sx_lines *l, const char *s)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	ck_assert_ptr_nonnull(l->v);
	l->v[l->n] = strdup(s);
	ck_assert_ptr_nonnull(l->v[l->n]);
	l->n++;
}

static inline void sx_free(struct sx_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Run a shell command; it must succeed. */
static inline void sx_run(const char *fmt, const char *a, const char *b)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), fmt, a, b);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* The synthetic tree in a new scratch directory (removed with fx_rmtree). */
static inline char *sx_make_tree(const char *flags)
{
	char *d = fx_tmpdir();
	char *tree = fx_path(d, "tree");
	sx_run("sh " MAKE_TREE " %s %s >/dev/null", tree, flags);
	free(tree);
	return d;
}

/* The plan's builds, improves and jumps as "ERA KIND NAME SCRIPT" lines (what the generated scripts
 * show: kaem's `pkg=NAME` + `kaem --file passN.kaem`, bash's `build NAME passN.sh`, the calls of
 * improve/ and jump/ scripts). */
static inline void sx_plan_lines(const struct plan *p, struct sx_lines *out)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct plan_step *s = &p->steps[i];
		char line[512];
		if (s->kind == PLAN_BUILD)
			snprintf(line, sizeof(line), "%s build %s %s", s->stage, s->package, s->script);
		else if (s->kind == PLAN_IMPROVE || s->kind == PLAN_JUMP)
			snprintf(line, sizeof(line), "%s %s", s->stage, s->script);
		else
			continue;
		sx_push(out, line);
	}
}

/* The scripts the awk generator writes under ROOT (ROOT/steps/manifest, env and bootstrap.cfg in place),
 * read back in their order as the same kind of lines. */
static inline void sx_awk_lines(const char *root, struct sx_lines *out)
{
	sx_run("awk -v root=%s -f " AWK_GENERATOR " %s/steps/manifest", root, root);
	char pkg[256] = "";
	for (int n = 0;; n++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/steps/%d.sh", root, n);
		FILE *f = fopen(path, "r");
		if (!f)
			break;
		char buf[1024];
		const char *era = NULL;
		while (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = '\0';
			if (!era)
				era = strcmp(buf, "#!/bin/bash") ? "kaem" : "bash";
			char line[1200], a[256], b[256];
			if (sscanf(buf, "pkg=%255s", pkg) == 1)
				continue;
			if (sscanf(buf, "kaem --file %255[^/ ]", a) == 1 && strstr(a, ".kaem")) {
				snprintf(line, sizeof(line), "kaem build %s %s", pkg, a);
				sx_push(out, line);
			} else if (sscanf(buf, "build %255s %255s", a, b) == 2) {
				snprintf(line, sizeof(line), "bash build %s %s", a, b);
				sx_push(out, line);
			} else if ((sscanf(buf, "kaem --file /steps/%255s", a) == 1 ||
				    sscanf(buf, ". /steps/%255s", a) == 1) &&
				   (!strncmp(a, "improve/", 8) || !strncmp(a, "jump/", 5))) {
				snprintf(line, sizeof(line), "%s %s", era, a);
				sx_push(out, line);
			}
		}
		fclose(f);
	}
}

static inline void sx_assert_same(const struct sx_lines *a, const struct sx_lines *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++)
		ck_assert_msg(!strcmp(a->v[i], b->v[i]), "step %zu: '%s' vs '%s'", i, a->v[i], b->v[i]);
	ck_assert_uint_eq(a->n, b->n);
}

/* Options for MODE with one mirror, into a configuration. */
static inline void sx_config(struct steps_config *cfg, enum steps_mode mode, struct steps_options *o)
{
	struct error err = { 0 };
	o->mode = mode;
	if (o->n_mirrors == 0)
		ck_assert_int_eq(steps_options_add_mirror(o, "http://127.0.0.1:8000", &err), 0);
	ck_assert_msg(steps_config_from_options(o, cfg, &err) == 0, "%s", err.msg);
}

/* The plan of TREE with CFG; the generator's scripts for the same manifest and configuration; equal. */
static inline void sx_check_agreement(const char *tree, const struct steps_config *cfg, struct plan *p)
{
	struct error err = { 0 };
	plan_init(p);
	ck_assert_msg(steps_plan(tree, cfg, p, &err) == 0, "%s", err.msg);
	char *root = fx_tmpdir();
	char *steps = fx_path(root, "steps");
	ck_assert_int_eq(mkdir(steps, 0755), 0);
	sx_run("cp %s/steps/manifest %s/", tree, steps);
	sx_run("cp %s/steps/env %s/", tree, steps);
	char *text;
	size_t len;
	ck_assert_int_eq(steps_config_write(cfg, &text, &len, &err), 0);
	char *cfgpath = fx_path(steps, "bootstrap.cfg");
	FILE *f = fopen(cfgpath, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	free(text);
	struct sx_lines mine = { 0 }, theirs = { 0 };
	sx_plan_lines(p, &mine);
	sx_awk_lines(root, &theirs);
	sx_assert_same(&mine, &theirs);
	sx_free(&mine);
	sx_free(&theirs);
	free(cfgpath);
	free(steps);
	fx_rmtree(root);
}

#endif
