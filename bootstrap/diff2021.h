/* `lbvm diff` for the 2021 layout (sysa, sysb, sysc), which makes no package tarballs: each package folder
 * has a `checksums` list (sha256sum's format; or a folder `checksums/` of such lists, one per build) of
 * the files its builds install. A package is compared through the files its lists name, as they are at
 * the end of the run; a file several packages list is counted for the one whose last build comes latest
 * in the plan (its build wrote what is on the disk). A package's hash is the SHA-256 of its lines
 * "HASH  PATH" (HASH "-" for a file the run lacks), in path order.
 *
 * Where the lists are: sysc's packages in the system's /usr/src/PKG/; sysa's in /after/PKG/ of the sysa
 * initramfs (the run directory's sysa-initramfs.cpio) or, for --chroot runs, of the sysa tree. */
#ifndef LBVM_BOOTSTRAP_DIFF2021_H
#define LBVM_BOOTSTRAP_DIFF2021_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootstrap/diff_packages.h"
#include "bootstrap/run_files.h"
#include "bootstrap/run_json.h"
#include "common/error.h"
#include "image/archive_members.h"

#define DIFF2021_LIST_MAX (16u << 20) /* one checksums list */

/* Where one run keeps its lists and its installed files. */
struct diff2021_run {
	struct run_files *sys;                /* the installed files: the disk, or sysc/ + sysa/ */
	struct run_files *sysa;               /* --chroot: the sysa tree (its /after/PKG/checksums), else NULL */
	const struct archive_members *cpio;   /* VM runs: the lists kept from sysa-initramfs.cpio, or NULL */
};

struct diff2021_file {
	char *path;
	bool present[2];
	uint8_t hash[2][32];
};

struct diff2021_pkg {
	struct diff2021_file *f;   /* path order */
	size_t n;
};

/* Parallel to the package list: files of package i in pkgs[i]. */
struct diff2021 {
	struct diff2021_pkg *pkgs;
	size_t n;
};

/* The packages of the two plans, each at its last build ("sysa/flex-2.5.11"), appended to PKGS in the
 * chain's order (A's plan, then what only B's has). */
int diff2021_order(struct diff_pkgs *pkgs, const struct run_step *steps, size_t n, struct error *err);
/* Read both runs' lists, count each file for one package, hash the files, and fill each package's
 * present/hash in PKGS. */
int diff2021_compare(const struct diff2021_run run[2], struct diff_pkgs *pkgs, struct diff2021 *out,
		     struct error *err);
void diff2021_free(struct diff2021 *d);
/* archive_members_read's keep function for the sysa initramfs: the checksums lists under after/. */
bool diff2021_keep_list(void *ctx, const char *name);

#endif
