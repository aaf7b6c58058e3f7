/* Running a prepared bootstrap in lbvm's machine: the seed kernel, the first system's initramfs and the
 * disk, with progress on stderr (step N of M by name, elapsed, ETA from an earlier run's timings kept in
 * CACHE_DIR), the console log and run.json in the run directory, and a report when a step fails. */
#ifndef LBVM_BOOTSTRAP_VM_RUN_H
#define LBVM_BOOTSTRAP_VM_RUN_H

#include "bootstrap/job.h"

/* Returns the exit status (common/exit_codes.h; docs/bootstrap.md lists what each means here). */
int bootstrap_vm_run(struct bootstrap_job *job, const char *cache_dir);

#endif
