/* Is this a current-layout live-bootstrap checkout, complete enough to run? */
#include "steps/steps.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SUBMODULE_HINT "run `git submodule update --init --recursive` in the tree"

/* What the chain and this module read, relative to the tree. */
static const char *const layout_files[] = {
	"seed/seed.kaem", "seed/after.kaem", "steps/env", "steps/helpers.sh",
};
/* stage0-posix's own submodules that an x86 run uses (kaem.x86 and x86/kaem.run reach into them). */
static const char *const stage0_submodules[] = {
	"bootstrap-seeds", "x86", "M2libc", "M2-Planet", "M2-Mesoplanet", "mescc-tools", "mescc-tools-extra",
};
static const char *const stage0_files[] = {
	"kaem.x86", "x86/kaem.run", "bootstrap-seeds/POSIX/x86/kaem-optional-seed",
	"bootstrap-seeds/POSIX/x86/hex0-seed",
};

static int path_stat(const char *tree, const char *rel, struct stat *st)
{
	char p[4096];
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", tree, rel) >= sizeof(p))
		return -1;
	return stat(p, st);
}

static bool is_dir(const char *tree, const char *rel)
{
	struct stat st;
	return path_stat(tree, rel, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *tree, const char *rel)
{
	struct stat st;
	return path_stat(tree, rel, &st) == 0 && S_ISREG(st.st_mode);
}

/* A directory with nothing in it (a submodule git has not checked out). Missing counts as empty. */
static bool is_empty_dir(const char *tree, const char *rel)
{
	char p[4096];
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", tree, rel) >= sizeof(p))
		return true;
	DIR *d = opendir(p);
	if (!d)
		return true;
	bool empty = true;
	struct dirent *de;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

bool steps_is_current_layout(const char *tree)
{
	return is_file(tree, "steps/manifest") && is_dir(tree, "seed");
}

int steps_detect(const char *tree, struct error *err)
{
	struct stat st;
	if (stat(tree, &st) != 0)
		return error_fail_status(err, 2, -errno, "%s: %s", tree, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_fail_status(err, 2, -ENOTDIR, "%s is not a directory", tree);
	bool manifest = is_file(tree, "steps/manifest"), seed = is_dir(tree, "seed");
	if (!manifest && !seed) {
		if (is_dir(tree, "sysa") && is_dir(tree, "sysc"))
			return error_fail_status(err, 2, -EINVAL,
						 "%s has the 2021 live-bootstrap layout (sysa/ sysb/ sysc/), not the "
						 "current one (seed/ steps/)",
						 tree);
		return error_fail_status(err, 2, -ENOENT,
					 "%s is not a live-bootstrap tree (it has neither steps/manifest nor seed/)",
					 tree);
	}
	if (!manifest || !seed)
		return error_fail_status(err, 2, -EINVAL, "%s: a live-bootstrap layout lbvm does not know (it has %s)",
					 tree,
				manifest ? "steps/manifest but no seed/" : "seed/ but no steps/manifest");
	for (size_t i = 0; i < sizeof(layout_files) / sizeof(layout_files[0]); i++)
		if (!is_file(tree, layout_files[i]))
			return error_fail_status(err, 2, -EINVAL,
						 "%s: a live-bootstrap layout lbvm does not know (steps/manifest is "
						 "there but %s is missing)",
						 tree, layout_files[i]);
	if (is_empty_dir(tree, "seed/stage0-posix"))
		return error_fail_status(err, 2, -ENOENT,
					 "%s: seed/stage0-posix is empty: the submodules are not checked out (%s)", tree,
					 SUBMODULE_HINT);
	for (size_t i = 0; i < sizeof(stage0_submodules) / sizeof(stage0_submodules[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "seed/stage0-posix/%s", stage0_submodules[i]);
		if (is_empty_dir(tree, rel))
			return error_fail_status(err, 2, -ENOENT,
						 "%s: %s is empty: stage0-posix's own submodules are not checked out (%s)",
						 tree, rel, SUBMODULE_HINT);
	}
	for (size_t i = 0; i < sizeof(stage0_files) / sizeof(stage0_files[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "seed/stage0-posix/%s", stage0_files[i]);
		if (!is_file(tree, rel))
			return error_fail_status(err, 2, -EINVAL, "%s: a stage0-posix lbvm does not know (%s is missing)",
						 tree, rel);
	}
	return 0;
}
