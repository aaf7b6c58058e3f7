/* The target tree as generator.py's prepare() lays it out, assembled in memory and normalized so that
 * equal checkouts give equal trees. */
#include "steps/steps.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "steps/internal.h"

#define DIR_MODE (S_IFDIR | 0755)
#define EXEC_MODE (S_IFREG | 0755)
#define FILE_MODE (S_IFREG | 0644)
#define MAX_DEPTH 64 /* deeper than any checkout: a symlink loop */
#define GIT_NAME ".git"
#define STAGE0 "seed/stage0-posix"
#define SEEDS_DIR "bootstrap-seeds"

struct asm_ctx {
	struct fs_tree *out;
	struct error *err;
	const char *confine; /* the checkout's real path: its symlinks must stay inside it; NULL: no limit */
};

/* Follow HOST (stat) into ST; a symlink of the checkout must lead to a place inside the checkout, so a
 * tree cannot carry the host's other files into the image. */
static int follow(struct asm_ctx *c, const char *host, struct stat *st)
{
	struct stat lst;
	if (lstat(host, &lst) != 0 || stat(host, st) != 0)
		return error_fail_status(c->err, 2, -errno, "cannot use %s: %s", host, strerror(errno));
	if (!S_ISLNK(lst.st_mode) || !c->confine)
		return 0;
	char *real = realpath(host, NULL);
	if (!real)
		return error_fail_status(c->err, 2, -errno, "cannot use %s: %s", host, strerror(errno));
	size_t n = strlen(c->confine);
	bool inside = !strncmp(real, c->confine, n) && (real[n] == '/' || real[n] == '\0');
	int rc = inside ? 0
			: error_fail_status(c->err, 2, -EPERM, "%s is a symlink out of the tree (to %s)", host,
					    real);
	free(real);
	return rc;
}

static char *join(const char *a, const char *b)
{
	if (!*a)
		return strdup(b);
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);
	if (s) {
		memcpy(s, a, la);
		s[la] = '/';
		memcpy(s + la + 1, b, lb + 1);
	}
	return s;
}

static int add_entry(struct asm_ctx *c, const char *rel, uint32_t mode, uint64_t size, const char *source,
		     unsigned char *data)
{
	struct fs_entry e;
	memset(&e, 0, sizeof(e));
	e.mode = mode;
	e.size = size;
	e.path = strdup(rel);
	e.source = source ? strdup(source) : NULL;
	e.data = data;
	if (!e.path || (source && !e.source) || fstree_add(c->out, &e)) {
		free(e.path);
		free(e.source);
		free(data);
		return error_fail(c->err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int add_dir(struct asm_ctx *c, const char *rel)
{
	return add_entry(c, rel, DIR_MODE, 0, NULL, NULL);
}

/* A host file as the harness copies it (shutil.copy2 follows symlinks): only its executable bit counts. */
static int add_file(struct asm_ctx *c, const char *rel, const char *host, const struct stat *st)
{
	return add_entry(c, rel, (st->st_mode & S_IXUSR) ? EXEC_MODE : FILE_MODE, (uint64_t)st->st_size, host,
			 NULL);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of HOST_DIR under REL (REL itself is not added), following symlinks, leaving out entries
 * named .git and, at the top, the one named SKIP (if any). */
static int add_tree(struct asm_ctx *c, const char *host_dir, const char *rel, const char *skip, int depth)
{
	if (depth > MAX_DEPTH)
		return error_fail(c->err, -ELOOP, "%s is nested too deeply (a symlink loop?)", host_dir);
	DIR *d = opendir(host_dir);
	if (!d)
		return error_fail(c->err, -errno, "cannot read directory %s: %s", host_dir, strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, GIT_NAME) ||
		    (skip && !strcmp(de->d_name, skip)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **g = realloc(names, cap * sizeof(*g));
			if (!g) {
				rc = error_fail(c->err, -ENOMEM, "out of memory");
				break;
			}
			names = g;
		}
		if (!(names[n] = strdup(de->d_name)))
			rc = error_fail(c->err, -ENOMEM, "out of memory");
		else
			n++;
	}
	closedir(d);
	if (!rc)
		qsort(names, n, sizeof(*names), name_cmp); /* messages name the same entry whatever readdir says */
	for (size_t i = 0; !rc && i < n; i++) {
		char *host = join(host_dir, names[i]), *r = join(rel, names[i]);
		struct stat st;
		if (!host || !r)
			rc = error_fail(c->err, -ENOMEM, "out of memory");
		else if ((rc = follow(c, host, &st)) != 0)
			;
		else if (S_ISDIR(st.st_mode)) {
			rc = add_dir(c, r);
			if (!rc)
				rc = add_tree(c, host, r, NULL, depth + 1);
		} else if (S_ISREG(st.st_mode))
			rc = add_file(c, r, host, &st);
		else
			rc = error_fail_status(c->err, 2, -EINVAL, "%s is neither a file nor a directory", host);
		free(host);
		free(r);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* One host file (followed if a symlink) at REL. */
static int add_host_file(struct asm_ctx *c, const char *rel, const char *host)
{
	struct stat st;
	int rc = follow(c, host, &st);
	if (rc)
		return rc;
	if (!S_ISREG(st.st_mode))
		return error_fail_status(c->err, 2, -EINVAL, "%s is not a file", host);
	return add_file(c, rel, host, &st);
}

/* seed/'s own files (not its folders) at the root, as Generator.seed copies them. */
static int add_seed_files(struct asm_ctx *c, const char *tree)
{
	char *seed = steps_path(tree, "seed");
	if (!seed)
		return error_fail(c->err, -ENOMEM, "out of memory");
	DIR *d = opendir(seed);
	int rc = d ? 0 : error_fail(c->err, -errno, "cannot read directory %s: %s", seed, strerror(errno));
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, GIT_NAME))
			continue;
		char *host = join(seed, de->d_name);
		struct stat st;
		if (!host)
			rc = error_fail(c->err, -ENOMEM, "out of memory");
		else if (stat(host, &st) == 0 && S_ISREG(st.st_mode) && (rc = follow(c, host, &st)) == 0)
			rc = add_file(c, de->d_name, host, &st); /* like os.path.isfile: the rest is skipped */
		free(host);
	}
	if (d)
		closedir(d);
	free(seed);
	return rc;
}

static int add_config(struct asm_ctx *c, const struct steps_config *cfg)
{
	char *text;
	size_t len;
	int rc = steps_config_write(cfg, &text, &len, c->err);
	if (rc)
		return rc;
	return add_entry(c, "steps/bootstrap.cfg", FILE_MODE, len, NULL, (unsigned char *)text);
}

/* The distfiles of LIST from DISTFILE_DIR into REL. Every missing one is counted; the first is named. */
static int add_distfiles(struct asm_ctx *c, const struct manifest *list, const char *distfile_dir,
			 const char *rel, bool missing_ok)
{
	int rc = add_dir(c, rel);
	size_t missing = 0;
	const char *first = NULL;
	for (size_t i = 0; !rc && i < list->n_files; i++) {
		char *host = steps_path(distfile_dir, list->files[i].name), *r = join(rel, list->files[i].name);
		struct stat st;
		if (!host || !r)
			rc = error_fail(c->err, -ENOMEM, "out of memory");
		else if (stat(host, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (!missing++)
				first = list->files[i].name;
		} else
			rc = add_file(c, r, host, &st);
		free(host);
		free(r);
	}
	if (!rc && missing && !missing_ok)
		rc = error_fail_status(c->err, 2, -ENOENT,
				       "%zu distfile%s the target needs %s not in %s (the first: %s)", missing,
				       missing == 1 ? "" : "s", missing == 1 ? "is" : "are", distfile_dir, first);
	return rc;
}

/* An entry's path with its insertion index, to sort stably. */
struct keyed {
	const char *path;
	size_t idx;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = strcmp(x->path, y->path);
	return r ? r : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static void entry_free(struct fs_entry *e)
{
	free(e->path);
	free(e->source);
	free(e->data);
	free(e->target);
}

/* Later entries replace earlier ones of the same path (seed's after.kaem over stage0-posix's, our
 * bootstrap.cfg over a stale one in the checkout); a file may not replace a folder or the reverse. */
static int settle(struct asm_ctx *c)
{
	struct fs_tree *t = c->out;
	struct keyed *k = malloc((t->count + 1) * sizeof(*k));
	struct fs_entry *kept = malloc((t->count + 1) * sizeof(*kept));
	if (!k || !kept) {
		free(k);
		free(kept);
		return error_fail(c->err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->count; i++)
		k[i] = (struct keyed){ t->entries[i].path, i };
	qsort(k, t->count, sizeof(*k), keyed_cmp);
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < t->count; i++) {
		struct fs_entry *e = &t->entries[k[i].idx];
		if (i + 1 < t->count && !strcmp(k[i + 1].path, e->path)) {
			const struct fs_entry *next = &t->entries[k[i + 1].idx];
			if (!rc && S_ISDIR(next->mode) != S_ISDIR(e->mode))
				rc = error_fail_status(c->err, 2, -EINVAL,
						       "/%s would be both a folder and a file in the target", e->path);
			entry_free(e);
			continue;
		}
		kept[n++] = *e;
	}
	free(k);
	free(t->entries);
	t->entries = kept;
	t->cap = t->count + 1;
	t->count = n;
	return rc ? rc : fstree_finish(t, c->err);
}

int steps_build_target(const char *tree, const struct steps_config *cfg, const char *distfile_dir,
		       struct fs_tree *out, struct error *err)
{
	char *real_tree = realpath(tree, NULL);
	if (!real_tree)
		return error_fail_status(err, 2, -errno, "%s: %s", tree, strerror(errno));
	struct asm_ctx c = { .out = out, .err = err, .confine = real_tree };
	bool kb = cfg->mode == STEPS_MODE_KERNEL_BOOTSTRAP;
	char *stage0 = steps_path(tree, STAGE0), *steps = steps_path(tree, "steps");
	char seed_rel[128];
	snprintf(seed_rel, sizeof(seed_rel), STAGE0 "/" SEEDS_DIR "/POSIX/%s/kaem-optional-seed", cfg->arch_dir);
	char *init = steps_path(tree, seed_rel);
	struct manifest dist;
	manifest_init(&dist);
	int rc = stage0 && steps && init ? 0 : error_fail(err, -ENOMEM, "out of memory");
	if (!rc)
		rc = add_tree(&c, stage0, "", kb ? SEEDS_DIR : NULL, 0);
	if (!rc && !kb)
		rc = add_host_file(&c, "init", init);
	if (!rc)
		rc = add_seed_files(&c, tree);
	if (!rc)
		rc = add_dir(&c, "external");
	if (!rc)
		rc = add_dir(&c, "steps");
	if (!rc)
		rc = add_tree(&c, steps, "steps", NULL, 0);
	if (!rc)
		rc = add_config(&c, cfg);
	c.confine = NULL; /* distfiles and prebuilt packages may be links into a cache anywhere */
	/* the kernel bootstrap's own image carries only what it needs before the network */
	if (!rc)
		rc = steps_disk_distfiles(tree, cfg->external_sources && !kb, &dist, err);
	if (!rc)
		rc = add_distfiles(&c, &dist, distfile_dir, "external/distfiles", cfg->missing_distfiles_ok);
	if (!rc && cfg->repo && !kb) {
		rc = add_dir(&c, "external/repo-preseeded");
		if (!rc)
			rc = add_tree(&c, cfg->repo, "external/repo-preseeded", NULL, 0);
	}
	if (!rc)
		rc = settle(&c);
	manifest_free(&dist);
	free(stage0);
	free(steps);
	free(init);
	free(real_tree);
	return rc;
}

int steps_build_external(const char *tree, const struct steps_config *cfg, const char *distfile_dir,
			 struct fs_tree *out, struct error *err)
{
	if (cfg->mode != STEPS_MODE_KERNEL_BOOTSTRAP || (!cfg->repo && !cfg->external_sources))
		return error_fail(err, -EINVAL, "a second disk exists only for the kernel bootstrap with "
				  "--external-sources or --repo");
	struct asm_ctx c = { .out = out, .err = err };
	struct manifest dist;
	manifest_init(&dist);
	int rc = steps_disk_distfiles(tree, cfg->external_sources, &dist, err);
	if (!rc)
		rc = add_distfiles(&c, &dist, distfile_dir, "distfiles", cfg->missing_distfiles_ok);
	if (!rc && cfg->repo) {
		rc = add_dir(&c, "repo-preseeded");
		if (!rc)
			rc = add_tree(&c, cfg->repo, "repo-preseeded", NULL, 0);
	}
	if (!rc)
		rc = settle(&c);
	manifest_free(&dist);
	return rc;
}
