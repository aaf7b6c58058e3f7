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
	uint64_t memory;
	uint64_t disk_size;
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

struct bootstrap_job {
	struct bootstrap_options opt;
	enum bootstrap_layout layout;
	struct plan plan;
	size_t until;                /* index of the last step to run (n_steps - 1 without --until) */
	const char *completion_line; /* the chain's own "done" line, NULL when completion is a power-off */
	struct tree2021 t2021;
	bool have_t2021;
	/* paths inside the run directory */
	char cfg_file[BOOTSTRAP_PATH];
	char initramfs[BOOTSTRAP_PATH];
	char disk[BOOTSTRAP_PATH];
	char log[BOOTSTRAP_PATH];
	char kernel[BOOTSTRAP_PATH];
	char cmdline[512];
	struct run_record record;
};

void bootstrap_job_free(struct bootstrap_job *job);
/* The index of step NAME, or -1 with err listing what --until accepts. */
long bootstrap_find_step(const struct plan *plan, const char *name, struct error *err);
/* Every distfile the steps 0..job->until need, verified in the cache (fetched unless --offline); what
 * could not be had is listed on stderr, one line each, and the result is EXIT_INCOMPLETE. 0 when all are
 * there. FILES are the manifests the names come from. */
int bootstrap_get_distfiles(struct bootstrap_job *job, const struct manifest *const *files, size_t n_files,
			    const struct fetch_options *how, struct error *err);
/* Print the plan (`--plan`): step, stage, name, distfiles and whether each is verified in the cache. */
void bootstrap_print_plan(const struct bootstrap_job *job, const struct manifest *const *files, size_t n_files);

#endif
