#include "bootstrap/layout.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/exit_codes.h"

static bool is_kind(const char *tree, const char *rel, mode_t kind)
{
	char path[PATH_MAX];
	struct stat st;
	if (snprintf(path, sizeof(path), "%s/%s", tree, rel) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

static bool is_dir(const char *tree, const char *rel)
{
	return is_kind(tree, rel, S_IFDIR);
}

static bool is_file(const char *tree, const char *rel)
{
	return is_kind(tree, rel, S_IFREG);
}

/* A directory with at least one entry (a submodule that is not checked out is an empty directory). */
static bool has_entries(const char *tree, const char *rel)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", tree, rel) >= (int)sizeof(path))
		return false;
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d));)
		found = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return found;
}

static int fail(struct error *err, const char *fmt, const char *tree, const char *what)
{
	return error_fail_status(err, EXIT_USAGE, -EINVAL, fmt, tree, what), -1;
}

#define SUBMODULE_HINT "(run 'git submodule update --init --recursive' in the tree)"

static int check_2021(const char *tree, struct error *err)
{
	static const char *const files[] = { "rootfs.py", "SHA256SUMS.sources", "sysa/after.kaem", "sysa/run.sh",
					     "sysb/init", "sysb/run.sh", "sysc/init", "sysc/run.sh",
					     "sysglobal/helpers.sh" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!is_file(tree, files[i]))
			return fail(err, "tree '%s' looks like live-bootstrap's 2021 layout but has no %s", tree,
				    files[i]);
	if (!has_entries(tree, "sysa/stage0-posix/src"))
		return fail(err, "tree '%s': the stage0-posix submodule is not checked out (%s is empty) "
			    SUBMODULE_HINT, tree, "sysa/stage0-posix/src");
	static const char *const nested[] = { "x86", "M2-Planet", "M2libc", "mescc-tools", "mescc-tools-extra",
					      "bootstrap-seeds" };
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "sysa/stage0-posix/src/%s", nested[i]);
		if (!has_entries(tree, rel))
			return fail(err, "tree '%s': stage0-posix's own submodules are not checked out (%s is missing "
				    "or empty) " SUBMODULE_HINT, tree, rel);
	}
	if (!is_file(tree, "sysa/stage0-posix/src/bootstrap-seeds/POSIX/x86/kaem-optional-seed"))
		return fail(err, "tree '%s' has no %s: lbvm runs the x86 chain " SUBMODULE_HINT, tree,
			    "sysa/stage0-posix/src/bootstrap-seeds/POSIX/x86/kaem-optional-seed");
	return 0;
}

int bootstrap_detect_layout(const char *tree, enum bootstrap_layout *out, struct error *err)
{
	struct stat st;
	if (stat(tree, &st) != 0)
		return error_fail_status(err, EXIT_USAGE, -errno, "--tree '%s': %s", tree, strerror(errno)), -1;
	if (!S_ISDIR(st.st_mode))
		return fail(err, "--tree '%s': %s", tree, "not a directory");
	if (is_dir(tree, "sysa") && is_dir(tree, "sysb") && is_dir(tree, "sysc") && is_dir(tree, "sysglobal")) {
		if (check_2021(tree, err) < 0)
			return -1;
		*out = LAYOUT_2021;
		return 0;
	}
	if (is_dir(tree, "seed") && is_file(tree, "steps/manifest")) {
		*out = LAYOUT_CURRENT;
		return 0;
	}
	if (is_dir(tree, "sysa") || is_dir(tree, "sysc") || is_dir(tree, "steps") || is_file(tree, "rootfs.py"))
		return fail(err, "tree '%s' is a live-bootstrap layout lbvm does not know yet (%s)", tree,
			    "lbvm runs the 2021 sysa/sysb/sysc layout and today's seed/ + steps/manifest layout");
	return fail(err, "tree '%s' is not a live-bootstrap tree (%s)", tree,
		    "no sysa/ sysb/ sysc/ sysglobal/, no seed/ with steps/manifest");
}

const char *bootstrap_layout_name(enum bootstrap_layout layout)
{
	return layout == LAYOUT_2021 ? "live-bootstrap 2021 (sysa, sysb, sysc)" : "live-bootstrap (seed, steps)";
}
