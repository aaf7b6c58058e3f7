/* The kernel bootstrap's file stream: what generator.py writes after builder-hex0's two stages, in its
 * order (os.walk from the top: a folder's subfolders, then its files, then each subfolder in turn). */
#include "steps/steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "steps/internal.h"

#define GIT_MARK ".git" /* generator.py leaves out every path containing it */
#define STAGE1 "builder-hex0/builder-hex0-x86-stage1.hex0"
#define STAGE2 "builder-hex0/builder-hex0-x86-stage2.hex0"

/* After the tree, the seeds are made from their hex0 sources and kaem started (generator.py's
 * append_srcfs, x86). */
static const struct {
	enum steps_srcfs_kind kind;
	const char *text;
} tail[] = {
	{ STEPS_SRCFS_DIR, "/bootstrap-seeds" },
	{ STEPS_SRCFS_DIR, "/bootstrap-seeds/POSIX" },
	{ STEPS_SRCFS_DIR, "/bootstrap-seeds/POSIX/x86" },
	{ STEPS_SRCFS_COMMAND, "hex0 /x86/hex0_x86.hex0 /bootstrap-seeds/POSIX/x86/hex0-seed" },
	{ STEPS_SRCFS_COMMAND, "hex0 /x86/kaem-minimal.hex0 /bootstrap-seeds/POSIX/x86/kaem-optional-seed" },
	{ STEPS_SRCFS_COMMAND, "hex0 /x86/kaem-minimal.hex0 /init" },
	{ STEPS_SRCFS_COMMAND, "/bootstrap-seeds/POSIX/x86/kaem-optional-seed /kaem.x86" },
};

void steps_srcfs_free(struct steps_srcfs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].text);
	free(s->items);
	free(s->stage1);
	free(s->stage2);
	memset(s, 0, sizeof(*s));
}

static int push(struct steps_srcfs *s, enum steps_srcfs_kind kind, const char *prefix, const char *text,
		const struct fs_entry *e, struct error *err)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct steps_srcfs_item *g = realloc(s->items, cap * sizeof(*g));
		if (!g)
			return error_fail(err, -ENOMEM, "out of memory");
		s->items = g;
		s->cap = cap;
	}
	size_t lp = strlen(prefix), lt = strlen(text);
	char *t = malloc(lp + lt + 1);
	if (!t)
		return error_fail(err, -ENOMEM, "out of memory");
	memcpy(t, prefix, lp);
	memcpy(t + lp, text, lt + 1);
	s->items[s->n++] = (struct steps_srcfs_item){ .kind = kind, .text = t, .entry = e };
	return 0;
}

/* children[first[p] .. first[p + 1]) are the entries whose parent is p (p = count: the root), in path
 * order, which among siblings is name order. */
struct walk {
	const struct fs_tree *t;
	size_t *parent;   /* per entry */
	size_t *children; /* entry indices grouped by parent */
	size_t *first;    /* per parent (count + 2 slots) */
	struct steps_srcfs *out;
	struct error *err;
};

static int walk_dir(struct walk *w, size_t p)
{
	size_t a = w->first[p], b = w->first[p + 1];
	int rc = 0;
	for (size_t i = a; !rc && i < b; i++) {
		const struct fs_entry *e = &w->t->entries[w->children[i]];
		if (S_ISDIR(e->mode) && !strstr(e->path, GIT_MARK))
			rc = push(w->out, STEPS_SRCFS_DIR, "./", e->path, NULL, w->err);
	}
	for (size_t i = a; !rc && i < b; i++) {
		const struct fs_entry *e = &w->t->entries[w->children[i]];
		if (S_ISREG(e->mode) && !strstr(e->path, GIT_MARK))
			rc = push(w->out, STEPS_SRCFS_FILE, "./", e->path, e, w->err);
		else if (!S_ISREG(e->mode) && !S_ISDIR(e->mode))
			rc = error_fail(w->err, -EINVAL, "/%s: builder-hex0 takes only files and folders", e->path);
	}
	for (size_t i = a; !rc && i < b; i++)
		if (S_ISDIR(w->t->entries[w->children[i]].mode))
			rc = walk_dir(w, w->children[i]);
	return rc;
}

static bool file_exists(const char *tree, const char *rel, char **path)
{
	*path = steps_path(tree, rel);
	struct stat st;
	return *path && stat(*path, &st) == 0 && S_ISREG(st.st_mode);
}

int steps_srcfs_list(const char *tree, const struct fs_tree *init, struct steps_srcfs *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	if (!file_exists(tree, STAGE1, &out->stage1) || !file_exists(tree, STAGE2, &out->stage2)) {
		steps_srcfs_free(out);
		return error_fail_status(err, 2, -ENOENT,
					 "%s: builder-hex0 is not checked out (run `git submodule update --init "
					 "--recursive` in the tree)",
					 tree);
	}
	size_t n = init->count;
	struct walk w = { .t = init, .out = out, .err = err };
	w.parent = calloc(n + 1, sizeof(*w.parent));
	w.children = calloc(n + 1, sizeof(*w.children));
	w.first = calloc(n + 2, sizeof(*w.first));
	int rc = w.parent && w.children && w.first ? 0 : error_fail(err, -ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		const char *path = init->entries[i].path;
		size_t plen = fstree_parent_len(path);
		w.parent[i] = n; /* the root */
		if (plen) {
			char *par = strndup(path, plen);
			long at = par ? fstree_find(init, par) : -1;
			free(par);
			if (at < 0)
				rc = error_fail(err, -EINVAL, "/%s has no parent folder in the tree", path);
			else
				w.parent[i] = (size_t)at;
		}
	}
	/* counting sort by parent keeps path order among siblings */
	for (size_t i = 0; !rc && i < n; i++)
		w.first[w.parent[i] + 1]++;
	for (size_t p = 0; !rc && p <= n; p++)
		w.first[p + 1] += w.first[p];
	if (!rc) {
		size_t *fill = calloc(n + 1, sizeof(*fill));
		if (!fill) {
			rc = error_fail(err, -ENOMEM, "out of memory");
		} else {
			for (size_t i = 0; i < n; i++) {
				size_t p = w.parent[i];
				w.children[w.first[p] + fill[p]++] = i;
			}
			free(fill);
		}
	}
	if (!rc)
		rc = push(out, STEPS_SRCFS_DIR, "", ".", NULL, err);
	if (!rc)
		rc = walk_dir(&w, n);
	for (size_t i = 0; !rc && i < sizeof(tail) / sizeof(tail[0]); i++)
		rc = push(out, tail[i].kind, "", tail[i].text, NULL, err);
	free(w.parent);
	free(w.children);
	free(w.first);
	if (rc)
		steps_srcfs_free(out);
	return rc;
}
