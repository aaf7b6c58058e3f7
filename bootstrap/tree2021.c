#include "bootstrap/tree2021.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/exit_codes.h"
#include "sources/builtin.h"
#include "sources/sha256.h"

#define SUMS_MAX (1u << 20)

void tree2021_config_text(bool chroot, char *buf, size_t len)
{
	/* rootfs.py: FORCE_TIMESTAMPS and CHROOT are Python booleans, DISK is always sda1. */
	snprintf(buf, len, "FORCE_TIMESTAMPS=False\nCHROOT=%s\nDISK=sda1\n", chroot ? "True" : "False");
}

const char *tree2021_config_var(void *ctx, const char *name)
{
	const struct tree2021 *t = ctx;
	if (!strcmp(name, "CHROOT"))
		return t->chroot ? "True" : "False";
	if (!strcmp(name, "FORCE_TIMESTAMPS"))
		return "False";
	if (!strcmp(name, "DISK"))
		return "sda1";
	return NULL;
}

static int load_builtin(struct manifest *m, const char *name, struct error *err)
{
	const struct builtin_manifest *b = builtin_manifest(name);
	if (!b)
		return error_fail(err, -ENOENT, "lbvm was built without its manifest %s", name);
	return manifest_parse_text(m, name, b->text, b->len, err);
}

/* The tree's SHA256SUMS.sources: "HASH  NAME" lines. It is the authority for the hashes. */
static int apply_tree_sums(struct tree2021 *t, struct error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/SHA256SUMS.sources", t->tree);
	FILE *f = fopen(path, "re");
	if (!f)
		return error_fail_status(err, EXIT_USAGE, -errno, "%s: %s", path, strerror(errno));
	char line[1024];
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char hex[128], name[512];
		if (line[0] == '\n' || line[0] == '#')
			continue;
		uint8_t digest[SHA256_BYTES];
		if (sscanf(line, "%127s %511s", hex, name) != 2 || sha256_from_hex(hex, digest) < 0) {
			rc = error_fail_status(err, EXIT_USAGE, -EINVAL, "%s:%u: expected 'SHA256  NAME'", path, lineno);
			break;
		}
		struct manifest *both[2] = { &t->sysa_files, &t->sysc_files };
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; i < both[k]->n_files; i++) {
				struct distfile *d = &both[k]->files[i];
				if (strcmp(d->name, name) || !memcmp(d->sha256, digest, SHA256_BYTES))
					continue;
				memcpy(d->sha256, digest, SHA256_BYTES);
				t->hash_overrides++;
			}
	}
	fclose(f);
	return rc;
}

int tree2021_open(struct tree2021 *t, const char *tree, bool chroot, struct error *err)
{
	memset(t, 0, sizeof(*t));
	t->tree = tree;
	t->chroot = chroot;
	manifest_init(&t->sysa_files);
	manifest_init(&t->sysc_files);
	int rc = load_builtin(&t->sysa_files, "live-bootstrap-2021-09-sysa.manifest", err);
	if (!rc)
		rc = load_builtin(&t->sysc_files, "live-bootstrap-2021-09-sysc.manifest", err);
	if (!rc)
		rc = apply_tree_sums(t, err);
	if (rc)
		tree2021_close(t);
	return rc;
}

void tree2021_close(struct tree2021 *t)
{
	manifest_free(&t->sysa_files);
	manifest_free(&t->sysc_files);
}

int tree2021_attach_distfiles(struct plan *plan, const struct manifest *files, struct error *err)
{
	for (size_t i = 0; i < files->n_files; i++) {
		const struct distfile *d = &files->files[i];
		if (!d->package)
			continue;
		for (size_t s = 0; s < plan->n_steps; s++) {
			struct plan_step *step = &plan->steps[s];
			if (step->package && !strcmp(step->package, d->package)) {
				int rc = plan_step_add_distfile(step, d->name, err);
				if (rc)
					return rc;
				break; /* the package's first step unpacks it; later passes reuse the folder */
			}
		}
	}
	return 0;
}

static bool image_has(const struct fs_tree *image, const char *path)
{
	for (size_t i = 0; i < image->count; i++)
		if (!strcmp(image->entries[i].path, path))
			return true;
	return false;
}

int tree2021_add_dirs(struct fs_tree *image, const char *path, struct error *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return error_fail(err, -ENAMETOOLONG, "path too long: %s", path);
	for (size_t i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = '\0';
		if (!image_has(image, buf)) {
			int rc = fstree_add_dir(image, buf, 0755, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int tree2021_add_tree_file(const struct tree2021 *t, struct fs_tree *image, const char *rel, const char *path,
			   struct error *err)
{
	char host[PATH_MAX];
	struct stat st;
	snprintf(host, sizeof(host), "%s/%s", t->tree, rel);
	if (stat(host, &st) != 0)
		return error_fail_status(err, EXIT_USAGE, -errno, "tree '%s': %s: %s", t->tree, rel, strerror(errno));
	return fstree_add_file(image, path, host, (st.st_mode & 0111) ? 0755 : 0644, err);
}

int tree2021_add_package(const struct tree2021 *t, struct fs_tree *image, const char *sys, const char *pkg,
			 const struct manifest *files, const char *dest, struct error *err)
{
	char host[PATH_MAX], target[PATH_MAX];
	snprintf(host, sizeof(host), "%s/%s/%s", t->tree, sys, pkg);
	snprintf(target, sizeof(target), "%s/%s", dest, pkg);
	struct stat st;
	if (stat(host, &st) != 0 || !S_ISDIR(st.st_mode))
		return error_fail_status(err, EXIT_USAGE, -ENOENT, "tree '%s': the chain builds %s but %s/%s is not "
					 "a folder", t->tree, pkg, sys, pkg);
	int rc = tree2021_add_dirs(image, target, err);
	if (!rc)
		rc = fstree_add_host_dir(image, host, target, FSTREE_GIT_MODES | FSTREE_NO_HIDDEN | FSTREE_NO_GIT, err);
	if (rc)
		return rc;
	/* src/ is made by the harness for every fetched package, even when the tree has one. */
	snprintf(target, sizeof(target), "%s/%s/src", dest, pkg);
	if (!image_has(image, target) && (rc = fstree_add_dir(image, target, 0755, err)))
		return rc;
	for (size_t i = 0; files && i < files->n_files; i++) {
		const struct distfile *d = &files->files[i];
		if (!d->package || strcmp(d->package, pkg) || !t->distfile_dir)
			continue;
		char src[PATH_MAX], at[PATH_MAX];
		snprintf(src, sizeof(src), "%s/%s", t->distfile_dir, d->name);
		if (stat(src, &st) != 0)
			continue; /* not needed by this run (past --until): the run stops before it */
		snprintf(at, sizeof(at), "%s/%s/src/%s", dest, pkg, d->name);
		if ((rc = fstree_add_file(image, at, src, 0644, err)))
			return rc;
	}
	return 0;
}
