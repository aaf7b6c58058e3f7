/* The plan of a bootstrap run: the ordered steps a live-bootstrap tree will run, read from the tree itself
 * by the module of its layout (sysa/ + sysc/ for the 2021 layout, steps/ for the current one), with the
 * distfiles each step needs and the console lines by which the guest announces it. The generic run code
 * (progress, run record, reports) only ever sees this list. */
#ifndef LBVM_BOOTSTRAP_PLAN_H
#define LBVM_BOOTSTRAP_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum plan_step_kind {
	PLAN_SCRIPT,  /* a script the chain runs as one unit (stage0-posix, a kaem-era package's .kaem file) */
	PLAN_BUILD,   /* a package build (helpers.sh's `build`, the manifest's `build:`) */
	PLAN_IMPROVE, /* the current layout's `improve:` scripts */
	PLAN_JUMP,    /* the current layout's `jump:` into a new kernel/init */
};

struct plan_step {
	char *stage;        /* the system or era it runs in: "sysa", "sysc", "kaem", "bash", ... */
	char *name;         /* unique, what the user sees: "gcc-4.0.4 pass2", "mes", "get_network" */
	char *package;      /* package directory ("gcc-4.0.4"), NULL when the step is no package */
	char *script;       /* the step's build script ("pass2.sh"), NULL when none */
	enum plan_step_kind kind;
	char **distfiles;   /* cache names of the files it needs (may be empty) */
	size_t n_distfiles;
	/* The console line (exact, after dropping CR and trailing blanks) that marks the step's start, and
	 * the one that marks its success; end_line NULL: the next step's start ends it. */
	char *begin_line;
	char *end_line;
};

struct plan {
	char *layout;       /* "live-bootstrap 2021 (sysa/sysb/sysc)", ... for messages and the run record */
	struct plan_step *steps;
	size_t n_steps, cap;
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);
/* Append a step; strings are copied (NULL stays NULL); distfiles are added with plan_step_add_distfile.
 * Returns the new step or NULL with err filled (out of memory, or a name already in the plan). */
struct plan_step *plan_add(struct plan *p, const char *stage, const char *name, const char *package,
			   const char *script, enum plan_step_kind kind, const char *begin_line,
			   const char *end_line, struct error *err);
int plan_step_add_distfile(struct plan_step *s, const char *name, struct error *err);
/* Index of the step named NAME, or -1. */
long plan_find(const struct plan *p, const char *name);

#endif
