/* live-bootstrap 2021, the second system: the small tree sysa packs into /usr/boot/initramfs-sysb and
 * kexecs into (sysb/init, /usr/src/run.sh, bootstrap.cfg, helpers.sh). It mounts the disk, copies sysa's
 * /usr over and switch_roots into sysc. lbvm only places it; nothing of sysb runs in chroot mode. */
#ifndef LBVM_SYSB_SYSB_H
#define LBVM_SYSB_SYSB_H

#include "bootstrap/plan.h"
#include "bootstrap/tree2021.h"
#include "image/fstree.h"

#define SYSB_STAGE "sysb"

/* Append the steps of the handoff (the kexec, sysb's copy and switch_root) to PLAN. */
int sysb_add_steps(struct plan *plan, struct error *err);
/* Add the sysb tree under PREFIX ("sysb" inside the sysa initramfs). */
int sysb_assemble(const struct tree2021 *t, struct fs_tree *image, const char *prefix, struct error *err);

#endif
