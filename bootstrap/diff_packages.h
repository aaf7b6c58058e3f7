/* The packages of two runs in the chain's order, and which of them differ — the part of `lbvm diff` that
 * only orders and compares (no files are read here).
 *
 * Current layout: every bash-era build makes /external/repo/PKG_REV.tar.bz2, REV counting the packages
 * already in the repo whose name starts with PKG (helpers.sh's get_revision); the kaem era makes none.
 * The names come from the plan in run.json, so they are known before any file is read, and a run that
 * stopped early simply lacks the later ones.
 * 2021 layout: a package is its name; its files come from its checksums lists (bootstrap/diff2021.h). */
#ifndef LBVM_BOOTSTRAP_DIFF_PACKAGES_H
#define LBVM_BOOTSTRAP_DIFF_PACKAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootstrap/run_json.h"
#include "common/error.h"

#define DIFF_BASH_STAGE "bash" /* the current layout's stage of the builds that make packages */

struct diff_pkg {
	char *name;            /* "words-1.0_0.tar.bz2" (current layout) or "flex-2.5.11" (2021) */
	char *step;            /* the step that makes it ("words-1.0"), NULL when no plan has it */
	size_t index;          /* that step's number (1-based), 0 when none */
	bool present[2];       /* found in run A, run B */
	uint8_t hash[2][32];   /* SHA-256, when present */
};

struct diff_pkgs {
	struct diff_pkg *p;
	size_t n, cap;
};

void diff_pkgs_init(struct diff_pkgs *l);
void diff_pkgs_free(struct diff_pkgs *l);
/* The entry for NAME, or NULL. */
struct diff_pkg *diff_pkgs_find(const struct diff_pkgs *l, const char *name);
/* Append NAME (with the step that makes it, or NULL/0) unless it is there already. */
int diff_pkgs_add(struct diff_pkgs *l, const char *name, const char *step, size_t index, struct error *err);

/* Current layout: append the tarballs the bash-era builds of STEPS make, in order, as get_revision names
 * them. */
int diff_pkgs_from_plan(struct diff_pkgs *l, const struct run_step *steps, size_t n, struct error *err);

/* A package differs when one run has it and the other has not, or their hashes differ. Absent from both
 * (a step neither run reached) is not a difference. */
bool diff_pkg_differs(const struct diff_pkg *p);
/* Index of the first package that differs, or l->n when none does. */
size_t diff_pkgs_first(const struct diff_pkgs *l);
/* Counts: compared (present in at least one run), differing. */
void diff_pkgs_count(const struct diff_pkgs *l, size_t *compared, size_t *differing);

#endif
