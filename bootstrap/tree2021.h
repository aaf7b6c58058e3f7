/* What the 2021 layout's systems share while lbvm assembles them: the checkout, the run's bootstrap.cfg,
 * the distfiles (lbvm's manifests for where to get them, the tree's SHA256SUMS.sources for their hashes),
 * and the helpers that put the tree's package folders and their distfiles into an image tree exactly as
 * the 2021 harness (rootfs.py + lib/sysgeneral.py) copied them. */
#ifndef LBVM_BOOTSTRAP_TREE2021_H
#define LBVM_BOOTSTRAP_TREE2021_H

#include <stdbool.h>

#include "bootstrap/plan.h"
#include "common/error.h"
#include "image/fstree.h"
#include "sources/manifest.h"

struct tree2021 {
	const char *tree;          /* the checkout */
	bool chroot;               /* CHROOT=True: no sysb, no disk, no kernel builds */
	const char *cfg_file;      /* the run's bootstrap.cfg (written by the caller), or NULL before assembly */
	const char *distfile_dir;  /* verified distfiles by name, or NULL before assembly */
	struct manifest sysa_files; /* package= says which folder each file goes into */
	struct manifest sysc_files;
	size_t hash_overrides;     /* entries whose hash the tree's list changed */
};

/* The bootstrap.cfg the 2021 harness writes (rootfs.py create_configuration_file). */
void tree2021_config_text(bool chroot, char *buf, size_t len);
/* The value of a bootstrap.cfg key for the scripts' `if` tests (build_var_fn). */
const char *tree2021_config_var(void *tree2021, const char *name);

/* Load lbvm's built-in 2021 manifests and replace their hashes with the tree's SHA256SUMS.sources. */
int tree2021_open(struct tree2021 *t, const char *tree, bool chroot, struct error *err);
void tree2021_close(struct tree2021 *t);

/* Give each step of PACKAGE's first build its distfiles from FILES (so --plan and --until know them). */
int tree2021_attach_distfiles(struct plan *plan, const struct manifest *files, struct error *err);

/* Put the tree's folder SYS/PKG (leaving out *.git* and hidden names) under DEST/PKG, then DEST/PKG/src
 * with the package's distfiles from the distfile folder (those present; a step after --until may run
 * without its files). */
int tree2021_add_package(const struct tree2021 *t, struct fs_tree *image, const char *sys, const char *pkg,
			 const struct manifest *files, const char *dest, struct error *err);
/* One file of the tree (mode as git records it) at PATH of the image. */
int tree2021_add_tree_file(const struct tree2021 *t, struct fs_tree *image, const char *rel, const char *path,
			   struct error *err);
/* Every folder of PATH ("a/b/c" adds a, a/b, a/b/c) not yet in the image, mode 0755. */
int tree2021_add_dirs(struct fs_tree *image, const char *path, struct error *err);

#endif
