/* `lbvm diff RUN_A RUN_B` (docs/diff.md): the reproducibility diff of two bootstrap runs. First what went
 * in (bootstrap/diff_inputs.h), then the packages in the chain's order, read from the runs' disks or
 * chroot trees (bootstrap/diff_packages.h, bootstrap/diff2021.h): the first package whose output differs,
 * its two hashes, what differs inside it (bootstrap/member_diff.h), the later packages that also differ,
 * and the diffoscope command that shows the bytes — run when diffoscope is installed. */
#ifndef LBVM_BOOTSTRAP_RUN_DIFF_H
#define LBVM_BOOTSTRAP_RUN_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"

/* Exit statuses, as diffoscope's. */
#define RUN_DIFF_SAME 0
#define RUN_DIFF_DIFFERENT 1
#define RUN_DIFF_TROUBLE 2

struct run_diff_options {
	const char *run[2];      /* the run directories, A and B */
	const char *out_dir;     /* where the first differing package's files are copied for diffoscope (must
				  * be new or empty); NULL: a new lbvm-diff-XXXXXX folder in $TMPDIR or /tmp */
	bool diffoscope;         /* run diffoscope on them when it is installed */
};

/* Compare; the report goes to OUT. RUN_DIFF_SAME when every package is the same, RUN_DIFF_DIFFERENT when
 * one differs, RUN_DIFF_TROUBLE with one line in err when the runs cannot be compared (a missing or
 * damaged record or disk, runs of different layouts, an I/O error). Inputs that differ are reported but
 * do not by themselves make the runs different: the question is whether the outputs are. */
int run_diff(const struct run_diff_options *o, FILE *out, struct error *err);

#endif
