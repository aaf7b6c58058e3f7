/* The current live-bootstrap layout (seed/, steps/, a manifest; commit 984b8322 and later): recognize a
 * checkout, write its steps/bootstrap.cfg from lbvm's options as its harness (rootfs.py) would, evaluate
 * steps/manifest as the chain's own generator does into the plan of the run, and assemble what the
 * harness assembles: the target tree, the `--kernel` mode disk, the kernel-bootstrap file list.
 *
 * A library: nothing here prints; every failure comes back as one line in struct error (status 2 for
 * what the user can fix). docs/steps.md describes the facts it relies on. */
#ifndef LBVM_STEPS_STEPS_H
#define LBVM_STEPS_STEPS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootstrap/plan.h"
#include "common/error.h"
#include "image/fstree.h"
#include "sources/manifest.h"

/* ---- detection ---- */

/* True when TREE has the current layout's shape (steps/manifest and seed/), usable or not: the
 * command's cue to hand the tree to this module rather than the 2021 one. */
bool steps_is_current_layout(const char *tree);

/* 0 when TREE is a current-layout checkout this module can run; otherwise -ENOENT/-ENOTDIR/-EINVAL with
 * one line (exit status 2) saying what is wrong: not a directory, not a live-bootstrap tree, the 2021
 * layout, a layout this module does not know (a file it relies on is missing), or submodules that are
 * not checked out (seed/stage0-posix or one of its own submodules empty). */
int steps_detect(const char *tree, struct error *err);

/* ---- options and configuration ---- */

enum steps_mode {
	STEPS_MODE_CHROOT,           /* rootfs.py --chroot: no VM; CHROOT=True */
	STEPS_MODE_KERNEL,           /* rootfs.py --qemu --kernel FILE: the user's kernel, one disk */
	STEPS_MODE_KERNEL_BOOTSTRAP, /* rootfs.py --qemu: builder-hex0, then Fiwix, then Linux */
};

#define STEPS_DEFAULT_CORES 2u
#define STEPS_MAX_MIRRORS 64

/* What the user asked for, in rootfs.py's terms. steps_options_init sets rootfs.py's defaults. The
 * command sets mode (from --chroot / --kernel) and interactive (its own --interactive) itself; the rest
 * comes from the flags below (steps_options_apply). */
struct steps_options {
	enum steps_mode mode;
	char *arch;                /* --arch: only "x86" runs */
	unsigned cores;            /* --cores: JOBS and FINAL_JOBS unless --jobs (and the VM's CPUs) */
	unsigned jobs;             /* --jobs: JOBS and FINAL_JOBS; 0 = cores */
	bool force_timestamps;     /* --force-timestamps */
	bool update_checksums;     /* --update-checksums */
	bool external_sources;     /* --external-sources: every distfile on the disk, no MIRRORS */
	bool build_kernels;        /* --build-kernels */
	bool interactive;          /* --interactive (the command's own flag) */
	uint64_t swap_mib;         /* --swap SIZE (MiB; 0 in chroot mode, as rootfs.py has it) */
	char *repo;                /* --repo DIR: prebuilt packages, /external/repo-preseeded */
	char **mirrors;            /* --mirror URL, repeatable: MIRRORS */
	size_t n_mirrors;
};

void steps_options_init(struct steps_options *o);
void steps_options_free(struct steps_options *o);
/* Add a mirror (the command adds its own hermetic mirror this way). -EINVAL for what the guest's shell
 * and curl could not take (not http:// or https://, blanks, quotes, '$', '`', '\'), -E2BIG past
 * STEPS_MAX_MIRRORS. */
int steps_options_add_mirror(struct steps_options *o, const char *url, struct error *err);

/* getopt_long entries of the live-bootstrap flags (--arch, --cores, --jobs, --force-timestamps,
 * --update-checksums, --external-sources, --build-kernels, --swap, --repo, --mirror, --mirrors), ending
 * with a zero entry. Their `val`s are STEPS_OPT_FIRST and up, clear of any character. */
#define STEPS_OPT_FIRST 0x5000
extern const struct option steps_long_options[];
/* OWN followed by steps_long_options, malloc'ed, or NULL when memory runs out. */
struct option *steps_merge_options(const struct option *own);
/* Apply one option getopt_long returned (val >= STEPS_OPT_FIRST). 0, or -EINVAL with one line. */
int steps_options_apply(struct steps_options *o, int val, const char *arg, struct error *err);
/* For an argument getopt did not know: when it is one of rootfs.py's flags lbvm does not take, the line
 * that says so (and names lbvm's own option where there is one); NULL otherwise. */
const char *steps_harness_flag(const char *arg);

/* steps/bootstrap.cfg: every key rootfs.py writes, in its order, with the values it would write. */
struct steps_config {
	char arch[16];            /* ARCH */
	char arch_dir[16];        /* ARCH_DIR: stage0-posix's folder for ARCH */
	bool force_timestamps;    /* FORCE_TIMESTAMPS */
	bool chroot;              /* CHROOT */
	bool update_checksums;    /* UPDATE_CHECKSUMS */
	unsigned jobs;            /* JOBS */
	uint64_t swap_size;       /* SWAP_SIZE (MiB) */
	unsigned final_jobs;      /* FINAL_JOBS */
	bool internal_ci;         /* INTERNAL_CI: live-bootstrap's own CI; always False here */
	bool interactive;         /* INTERACTIVE */
	bool qemu;                /* QEMU: True in both VM modes (lbvm stands where QEMU stood) */
	bool bare_metal;          /* BARE_METAL: rootfs.py sets it for QEMU + --interactive */
	char disk[8];             /* DISK: sda1 (chroot, --kernel), sda or sdb1 (kernel bootstrap) */
	bool kernel_bootstrap;    /* KERNEL_BOOTSTRAP */
	bool build_kernels;       /* BUILD_KERNELS: --build-kernels or --update-checksums */
	bool configurator;        /* CONFIGURATOR: always False (the interactive configurator is refused) */
	bool write_mirrors;       /* MIRRORS/MIRRORS_LEN written: false with --external-sources */
	char **mirrors;           /* MIRRORS (space-separated, quoted), MIRRORS_LEN */
	size_t n_mirrors;
	/* lbvm's side, not in the file */
	enum steps_mode mode;
	bool external_sources;
	char *repo;
	bool missing_distfiles_ok; /* --until: leave out distfiles the cache lacks (later steps need them) */
};

void steps_config_init(struct steps_config *cfg);
void steps_config_free(struct steps_config *cfg);
/* The configuration rootfs.py writes for these options. -EINVAL with one line for a combination it
 * refuses (an arch other than x86, zero cores, ...). */
int steps_config_from_options(const struct steps_options *o, struct steps_config *cfg, struct error *err);
/* The exact text of steps/bootstrap.cfg (malloc'ed, NUL-terminated; *len without the NUL). */
int steps_config_write(const struct steps_config *cfg, char **text, size_t *len, struct error *err);
/* Read bootstrap.cfg text (a user's, or steps_config_write's) back into cfg's keys. Every line must be
 * one of the keys above, each at most once, with a value of its type; anything else is an error, not
 * ignored. Keys that are absent keep cfg's values. */
int steps_config_parse(struct steps_config *cfg, const char *text, size_t len, struct error *err);

/* ---- the plan ---- */

/* The ordered steps of a run of TREE with CFG (bootstrap/plan.h): first "stage0-posix" (a PLAN_SCRIPT
 * that runs from boot until the first manifest step shows), then every build, improve and jump that
 * survives the manifest's predicates, in order. Stages: "kaem" up to and including the first bash-*
 * build (which kaem runs), "bash" after it. Names: the package for a package built once, "PKG passN"
 * for one built more often; improves and jumps by their name, "NAME #k" when one occurs k > 1 times.
 * Console lines (exact):
 *   kaem-era build    begin " +> pkg=PKG"                                         end NULL
 *   kaem-era improve  begin " +> kaem --file /steps/improve/NAME.sh"               end NULL
 *   kaem-era jump     begin " +> kaem --file /steps/jump/NAME.sh"                  end NULL
 *   bash-era build    begin "PKG: beginning build using script passN.sh"          end "PKG: build successful"
 *     (with --repo holding PKG_REV.tar.bz2: begin "PKG: installing prebuilt package.", end NULL)
 *   bash-era improve and jump, and stage0-posix: NULL, NULL (they print nothing of their own).
 * Each build carries the distfiles named in steps/PKG/sources. Missing scripts (a kaem-era build's
 * passN.kaem, an improve's or jump's .sh, a bash-era build's folder) are errors. */
int steps_plan(const char *tree, const struct steps_config *cfg, struct plan *plan, struct error *err);

/* The distfiles the harness puts in the target's /external/distfiles, in manifest order with their
 * SHA-256: those of every `build:` line (whatever its predicate, as generator.py reads it) before the
 * first `improve:` line that mentions "network"; with external_sources, those of every `build:` line.
 * The guest downloads the rest itself from MIRRORS. Appended to OUT. */
int steps_disk_distfiles(const char *tree, bool external_sources, struct manifest *out, struct error *err);

/* ---- the target ---- */

#define STEPS_DISK_DEFAULT_SIZE (16ull << 30)       /* rootfs.py's --target-size default */
#define STEPS_DISK_PART_OFFSET (1ull << 30)         /* the bootable partition starts at 1 GiB */
#define STEPS_EXTERNAL_PART_OFFSET (1ull << 20)     /* the kernel bootstrap's second disk: 1 MiB */

/* The target tree as the harness lays it out (generator.py prepare), in memory: chroot and --kernel
 * mode: seed/stage0-posix's contents at the root, seed's own files over them, /init (a copy of
 * bootstrap-seeds/POSIX/ARCH_DIR/kaem-optional-seed), /steps (the tree's steps/ with the bootstrap.cfg
 * CFG gives), /external/distfiles (steps_disk_distfiles, taken from DISTFILE_DIR), and
 * /external/repo-preseeded with --repo. Kernel bootstrap: the tree builder-hex0 unpacks (no
 * bootstrap-seeds, no /init; the pre-network distfiles only). Symlinks are followed (the harness copies
 * files), entries named ".git" are left out, owners are 0:0, directories 0755, files 0755 when the
 * owner may execute them and 0644 otherwise; so equal checkouts give equal trees whatever the umask,
 * times or readdir order. The caller verifies the distfiles' hashes; a missing one is an error unless
 * cfg->missing_distfiles_ok. A symlink of the checkout that leads out of it is refused. */
int steps_build_target(const char *tree, const struct steps_config *cfg, const char *distfile_dir,
		       struct fs_tree *out, struct error *err);

/* Kernel bootstrap with --external-sources or --repo: the second disk's tree (/distfiles with every
 * distfile or the pre-network ones, /repo-preseeded), an ext3 partition at 1 MiB that the guest sees as
 * sdb1. -EINVAL in other configurations. */
int steps_build_external(const char *tree, const struct steps_config *cfg, const char *distfile_dir,
			 struct fs_tree *out, struct error *err);

/* The `--kernel` mode disk: sparse, msdos label, one ext3 partition from STEPS_DISK_PART_OFFSET to the
 * end, holding TARGET (finished). SIZE 0 = STEPS_DISK_DEFAULT_SIZE. Written through a temporary file and
 * renamed; every time in it is EPOCH. */
int steps_build_disk(const struct fs_tree *target, const char *output, uint64_t size, uint32_t epoch,
		     struct error *err);

/* ---- the kernel bootstrap's file list (what generator.py streams after builder-hex0) ---- */

enum steps_srcfs_kind {
	STEPS_SRCFS_DIR,     /* "src 0 PATH" */
	STEPS_SRCFS_FILE,    /* "src SIZE PATH" followed by the file's bytes */
	STEPS_SRCFS_COMMAND, /* a line of its own, e.g. "hex0 /x86/hex0_x86.hex0 /bootstrap-seeds/..." */
};

struct steps_srcfs_item {
	enum steps_srcfs_kind kind;
	char *text;                   /* the path ("./steps/manifest") or the whole command line, no '\n' */
	const struct fs_entry *entry; /* FILE: where its bytes are (source or data), and its size */
};

struct steps_srcfs {
	struct steps_srcfs_item *items;
	size_t n, cap;
	char *stage1;  /* builder-hex0's stage-1 hex0 file in the tree (compiled into LBA 0) */
	char *stage2;  /* its stage-2 hex0 source (appended as text) */
};

void steps_srcfs_free(struct steps_srcfs *s);
/* The stream for INIT (steps_build_target's kernel-bootstrap tree, finished, kept alive while the list
 * is used), in generator.py's order: "." then, directory by directory from the top, its subdirectories,
 * then its files, then each subdirectory's contents (names sorted bytewise where Python took readdir
 * order); anything whose path contains ".git" left out; then the commands that make the seeds and start
 * kaem. The builder-hex0 files must exist in TREE. */
int steps_srcfs_list(const char *tree, const struct fs_tree *init, struct steps_srcfs *out, struct error *err);

#endif
