/* Running a prepared 2021-layout bootstrap without a VM and without root, as the 2021 harness's chroot
 * mode did with sudo: sysa's tree in a chroot, then sysa's /usr copied into sysc's tree and sysc in a
 * chroot (sysb is skipped: it only exists to change kernels). Each system runs as root of its own user
 * namespace (with mount, pid, UTS, IPC and network namespaces, so it can mount proc, sysfs and tmpfs and
 * reaches nothing); the device nodes its scripts would mknod are bound from the host's harmless ones.
 * Output, progress, the record and the exit statuses are those of a VM run (docs/bootstrap.md). */
#ifndef LBVM_BOOTSTRAP_CHROOT_RUN_H
#define LBVM_BOOTSTRAP_CHROOT_RUN_H

#include "bootstrap/job.h"

int bootstrap_chroot_run(struct bootstrap_job *job, const char *cache_dir);

#endif
