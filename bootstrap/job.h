/* One `lbvm bootstrap` run: the user's options, the plan read from the tree, the verified distfiles,
 * the images assembled for it, and the run directory. Filled step by step by the layout's preparation
 * (bootstrap/prepare2021.c, ...), then run in the VM (bootstrap/vm_run.c) or in a chroot
 * (bootstrap/chroot_run.c). */
#ifndef LBVM_BOOTSTRAP_JOB_H
#define LBVM_BOOTSTRAP_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootstrap/layout.h"
#include "bootstrap/plan.h"
#include "bootstrap/record.h"
#include "bootstrap/tree2021.h"
#include "common/error.h"
#include "sources/fetch.h"
#include "steps/steps.h"

#define BOOTSTRAP_MAX_MIRRORS 16
#define BOOTSTRAP_PATH 4096

struct bootstrap_options {
	const char *tree;
	const char *kernel;          /* NULL: the tree's file `kernel` */
	const char *distfiles;       /* cache of verified distfiles */
	const char *run_dir;
	const char *until;           /* stop with success after this step, or NULL */
	const char *mirrors[BOOTSTRAP_MAX_MIRRORS];
	size_t n_mirrors;
	uint64_t memory;             /* 0: the layout's harness default */
	uint64_t disk_size;          /* 0: the layout's harness default */
	const char *initrd;          /* current layout, --kernel: an initramfs for a kernel whose disk
				      * drivers are modules (live-bootstrap's own kernels need none) */
	double timeout;              /* 0 = none */
	double stall_timeout;        /* 0 = none */
	double idle_timeout;         /* seconds the guest must sit idle at the chain's final shell */
	bool offline;
	bool interactive;
	bool chroot;
	bool plan_only;
	bool assemble_only;          /* build the images (or chroot trees) in the run directory, run nothing */
	bool quiet;
};

/* The current layout's side of a job (steps/). */
struct current_layout {
	struct steps_options options;  /* the live-bootstrap flags (steps_long_options) */
	struct steps_config cfg;
	struct manifest all_files;     /* every build's distfiles: where each comes from */
	struct manifest disk_files;    /* those the target carries */
	bool ready;
};

struct bootstrap_job {
	struct bootstrap_options opt;
	enum bootstrap_layout layout;
	struct plan plan;
	size_t until;                /* index of the last step to run (n_steps - 1 without --until) */
	const char *completion_line; /* the chain's own "done" line, NULL when completion is a power-off */
	struct tree2021 t2021;
	bool have_t2021;
	struct current_layout current;
	/* paths inside the run directory */
	char cfg_file[BOOTSTRAP_PATH];
	char initramfs[BOOTSTRAP_PATH];
	char disk[BOOTSTRAP_PATH];
	char target_dir[BOOTSTRAP_PATH]; /* --chroot, current layout: the target tree */
	char log[BOOTSTRAP_PATH];
	char kernel[BOOTSTRAP_PATH];
	char cmdline[512];
	struct run_record record;
};

void bootstrap_job_free(struct bootstrap_job *job);
/* The index of step NAME, or -1 with err listing what --until accepts. */
long bootstrap_find_step(const struct plan *plan, const char *name, struct error *err);
/* Verify (and, unless how->offline, fetch) every file of WANT into the cache; what could not be had is
 * listed on stderr, one line each, and the result is EXIT_INCOMPLETE. 0 when all are there. */
int bootstrap_get_distfiles(const struct manifest *want, const struct fetch_options *how, struct error *err);
/* The entry for NAME in the first of FILES that has it, or NULL. */
const struct distfile *bootstrap_find_distfile(const struct manifest *const *files, size_t n_files,
					       const char *name);
/* Print the plan (`--plan`): step, stage, name, distfiles and whether each is verified in the cache. */
void bootstrap_print_plan(const struct bootstrap_job *job, const struct manifest *const *files, size_t n_files);

#endif
