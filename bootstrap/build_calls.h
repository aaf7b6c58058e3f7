/* Reading the order of a live-bootstrap 2021 chain from its own scripts, without running them:
 *   - kaem scripts (sysa/after.kaem): `pkg=NAME` (or `pkg="NAME"`, `pkg=${VAR}`) followed by
 *     `kaem --file ${pkg}.kaem` is one package; simple `VAR=value` assignments are followed;
 *   - bash scripts (sysa/run.sh, sysc/run.sh, run2.sh): `build PKG [SCRIPT] [CHECKSUMS] [PATCHES] [DIR]`
 *     calls of helpers.sh, inside `if [ "${VAR}" = VALUE ]; then ... fi` blocks evaluated against the
 *     run's bootstrap.cfg values; nothing after a top-level `exec` line runs.
 * Anything else in the scripts is ignored: they are the tree's, lbvm only reads their order. */
#ifndef LBVM_BOOTSTRAP_BUILD_CALLS_H
#define LBVM_BOOTSTRAP_BUILD_CALLS_H

#include <stddef.h>

#include "common/error.h"

struct build_call {
	char *package;    /* PKG */
	char *script;     /* SCRIPT, or PKG.sh when omitted or '' (bash); NULL for kaem packages */
	unsigned line;    /* 1-based line in the script */
};

struct build_calls {
	struct build_call *calls;
	size_t n, cap;
};

/* A variable's value for the scripts' `if` tests (bootstrap.cfg's keys); NULL when unset. */
typedef const char *(*build_var_fn)(void *ctx, const char *name);

void build_calls_free(struct build_calls *c);
/* Append the packages of a kaem script (PATH is named in messages). 0 or -errno/-EINVAL with err. */
int build_calls_read_kaem(struct build_calls *c, const char *path, struct error *err);
/* Append the `build` calls of a bash script. */
int build_calls_read_bash(struct build_calls *c, const char *path, build_var_fn var, void *ctx,
			  struct error *err);
/* The same from text in memory (for tests). */
int build_calls_parse_kaem(struct build_calls *c, const char *name, const char *text, struct error *err);
int build_calls_parse_bash(struct build_calls *c, const char *name, const char *text, build_var_fn var,
			   void *ctx, struct error *err);

#endif
