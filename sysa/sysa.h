/* live-bootstrap 2021, the first system: its steps (stage0-posix, the kaem era of sysa/after.kaem, the
 * bash era of sysa/run.sh, the kexec into sysb) and its initramfs, assembled as the 2021 harness did:
 * stage0-posix's x86 files at the root, the five source trees beside them, /init = kaem-optional-seed,
 * /after.kaem, /bin, /x86.answers, /after with run.sh, SHA256SUMS.sources, bootstrap.cfg, helpers.sh and
 * one folder per package with its distfiles in src/, and the sysb tree at /sysb. */
#ifndef LBVM_SYSA_SYSA_H
#define LBVM_SYSA_SYSA_H

#include "bootstrap/plan.h"
#include "bootstrap/tree2021.h"
#include "image/fstree.h"

#define SYSA_STAGE "sysa"
/* The line after.kaem's `set -ex` prints: stage0-posix is done and live-bootstrap's own chain begins. */
#define SYSA_AFTER_KAEM_LINE " +> set -ex"

/* Append sysa's steps to PLAN. 0 or the failure in err (a broken tree: exit status 2). */
int sysa_add_steps(const struct tree2021 *t, struct plan *plan, struct error *err);
/* Add the sysa initramfs's entries (sysb included) for the steps of PLAN to IMAGE. */
int sysa_assemble(const struct tree2021 *t, const struct plan *plan, struct fs_tree *image, struct error *err);

#endif
