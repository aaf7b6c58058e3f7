/* steps/manifest, evaluated as the chain's own generator (seed/script-generator.c, run in the guest by
 * seed.kaem) evaluates it: which directives survive their predicates against bootstrap.cfg, in order.
 *
 * The language, as that generator reads it:
 *   - one directive a line: `build: PKG`, `improve: NAME`, `jump: NAME`, `uninstall: ARG...`,
 *     `define: NAME = VALUE` or `define: NAME = ( LOGIC )`, each optionally followed by a predicate
 *     `( LOGIC )`; tokens are separated by exactly one space (two spaces make an empty token); `#` starts
 *     a comment anywhere; a line that starts with `#` or is empty is skipped;
 *   - LOGIC is `VAR == VALUE` or `VAR != VALUE`, optionally followed by `|| LOGIC` or `&& LOGIC`
 *     (right-associative, no parentheses inside), or a bare constant, true when it is `True`; a variable
 *     that is not set compares as the empty string;
 *   - variables come from bootstrap.cfg (`NAME=VALUE` lines, in file order) and from `define:` lines,
 *     which take effect for the lines after them. A define updates the first later entry of that name or
 *     appends one; lookups take the first entry. (So a define can never change the file's first key: the
 *     generator's update loop starts at the second entry. Reproduced, not fixed.)
 *   - tokens after a predicate's closing `)` are ignored, as the generator ignores them.
 * What the generator would crash on or misread (a missing name or operand, an unknown directive, a token
 * over 63 bytes, a NUL, 0xFF or CR byte, a config line of 2047 bytes or more) is refused here with the
 * line number. Nothing here prints. */
#ifndef LBVM_STEPS_MANIFEST_EVAL_H
#define LBVM_STEPS_MANIFEST_EVAL_H

#include <stddef.h>

#include "common/error.h"

/* The generator's limits: tokens live in 64-byte buffers, config lines are read with fgets(2048). */
#define STEPS_MAX_TOKEN 63
#define STEPS_MAX_CFG_LINE 2046 /* bytes before the newline */
#define STEPS_MAX_UNINSTALL 2047

enum steps_directive_type {
	STEPS_DIR_BUILD = 1,
	STEPS_DIR_IMPROVE,
	STEPS_DIR_DEFINE,
	STEPS_DIR_JUMP,
	STEPS_DIR_UNINSTALL,
};

struct steps_directive {
	enum steps_directive_type type;
	char *arg;     /* package, script name, or the uninstall arguments joined by single spaces */
	size_t line;   /* 1-based line in the manifest */
};

struct steps_var {
	char *name;
	char *value;
};

struct steps_eval {
	struct steps_directive *dirs; /* the directives that survived, in manifest order (no defines) */
	size_t n_dirs, cap_dirs;
	struct steps_var *vars;       /* the variables at the end, in the generator's list order */
	size_t n_vars, cap_vars;
};

void steps_eval_init(struct steps_eval *ev);
void steps_eval_free(struct steps_eval *ev);

/* Load bootstrap.cfg text into ev's variables (every line `NAME=VALUE\n`), then evaluate the manifest
 * text. ORIGIN names the manifest in messages ("steps/manifest"). 0, or -EINVAL (a line the generator
 * would refuse or crash on) / -ENOMEM with err. */
int steps_eval_run(struct steps_eval *ev, const char *origin, const char *manifest, size_t manifest_len,
		   const char *cfg, size_t cfg_len, struct error *err);

/* The value of NAME as the generator's get_var sees it ("" when unset). */
const char *steps_eval_var(const struct steps_eval *ev, const char *name);

#endif
