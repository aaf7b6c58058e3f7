#include "image/fstree.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PERM_BITS 07777u

void fstree_init(struct fs_tree *tree)
{
	memset(tree, 0, sizeof(*tree));
	tree->root_mode = S_IFDIR | 0755;
}

void fstree_free(struct fs_tree *tree)
{
	for (size_t i = 0; i < tree->count; i++) {
		free(tree->entries[i].path);
		free(tree->entries[i].source);
		free(tree->entries[i].data);
		free(tree->entries[i].target);
	}
	free(tree->entries);
	fstree_init(tree);
}

int fstree_add(struct fs_tree *tree, const struct fs_entry *entry)
{
	if (tree->count == tree->cap) {
		size_t cap = tree->cap ? tree->cap * 2 : 256;
		struct fs_entry *grown = realloc(tree->entries, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		tree->entries = grown;
		tree->cap = cap;
	}
	tree->entries[tree->count++] = *entry;
	return 0;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	size_t at = la;
	if (la && lb)
		s[at++] = '/';
	memcpy(s + at, b, lb + 1);
	return s;
}

static int read_link(const char *host, size_t size_hint, char **out, struct error *err)
{
	size_t cap = size_hint + 1;
	for (;;) {
		char *buf = malloc(cap);
		if (!buf)
			return error_fail(err, -ENOMEM, "out of memory");
		ssize_t n = readlink(host, buf, cap);
		if (n < 0) {
			int e = errno;
			free(buf);
			return error_fail(err, -e, "cannot read symlink %s: %s", host, strerror(e));
		}
		if ((size_t)n < cap) {
			buf[n] = '\0';
			*out = buf;
			return 0;
		}
		free(buf);
		cap *= 2;
	}
}

/* One host entry (already lstat'ed) into the tree. */
static int add_host_entry(struct fs_tree *tree, const char *rel, const char *host, const struct stat *st,
			  struct error *err)
{
	struct fs_entry e;
	memset(&e, 0, sizeof(e));
	e.mode = (uint32_t)(st->st_mode & (S_IFMT | PERM_BITS));
	e.host_dev = st->st_dev;
	e.host_ino = st->st_ino;
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		e.size = (uint64_t)st->st_size;
		if (!(e.source = strdup(host)))
			return error_fail(err, -ENOMEM, "out of memory");
		break;
	case S_IFLNK: {
		int rc = read_link(host, (size_t)st->st_size, &e.target, err);
		if (rc)
			return rc;
		e.size = strlen(e.target);
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
		e.rdev_major = major(st->st_rdev);
		e.rdev_minor = minor(st->st_rdev);
		break;
	default:
		break;
	}
	if (!(e.path = strdup(rel)) || fstree_add(tree, &e)) {
		free(e.path);
		free(e.source);
		free(e.target);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int scan_dir(struct fs_tree *tree, const char *host_dir, const char *rel_dir, struct error *err)
{
	DIR *d = opendir(host_dir);
	if (!d)
		return error_fail(err, -errno, "cannot read directory %s: %s", host_dir, strerror(errno));
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *host = join(host_dir, de->d_name);
		char *rel = join(rel_dir, de->d_name);
		struct stat st;
		if (!host || !rel)
			rc = error_fail(err, -ENOMEM, "out of memory");
		else if (lstat(host, &st) != 0)
			rc = error_fail(err, -errno, "cannot stat %s: %s", host, strerror(errno));
		else if ((rc = add_host_entry(tree, rel, host, &st, err)) == 0 && S_ISDIR(st.st_mode))
			rc = scan_dir(tree, host, rel, err);
		free(host);
		free(rel);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = error_fail(err, -errno, "cannot read directory %s: %s", host_dir, strerror(errno));
	closedir(d);
	return rc;
}

static bool skipped(const char *name, unsigned flags)
{
	if ((flags & FSTREE_NO_HIDDEN) && name[0] == '.')
		return true;
	return (flags & FSTREE_NO_GIT) && strstr(name, ".git");
}

static uint32_t git_mode(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return S_IFREG | ((mode & 0111) ? 0755 : 0644);
	case S_IFDIR:
		return S_IFDIR | 0755;
	case S_IFLNK:
		return S_IFLNK | 0777;
	default:
		return mode;
	}
}

static int add_dir_filtered(struct fs_tree *tree, const char *host_dir, const char *rel_dir, unsigned flags,
			    struct error *err)
{
	DIR *d = opendir(host_dir);
	if (!d)
		return error_fail(err, -errno, "cannot read directory %s: %s", host_dir, strerror(errno));
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || skipped(de->d_name, flags)) {
			errno = 0;
			continue;
		}
		char *host = join(host_dir, de->d_name);
		char *rel = join(rel_dir, de->d_name);
		struct stat st;
		if (!host || !rel)
			rc = error_fail(err, -ENOMEM, "out of memory");
		else if (lstat(host, &st) != 0)
			rc = error_fail(err, -errno, "cannot stat %s: %s", host, strerror(errno));
		else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
			rc = error_fail(err, -EINVAL, "%s is not a file, directory or symlink", host);
		else if ((rc = add_host_entry(tree, rel, host, &st, err)) == 0) {
			struct fs_entry *e = &tree->entries[tree->count - 1];
			e->host_dev = 0;
			e->host_ino = 0;
			if (flags & FSTREE_GIT_MODES)
				e->mode = git_mode(e->mode);
			if (S_ISDIR(st.st_mode))
				rc = add_dir_filtered(tree, host, rel, flags, err);
		}
		free(host);
		free(rel);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = error_fail(err, -errno, "cannot read directory %s: %s", host_dir, strerror(errno));
	closedir(d);
	return rc;
}

int fstree_add_host_dir(struct fs_tree *tree, const char *dir, const char *prefix, unsigned flags,
			struct error *err)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return error_fail(err, -errno, "cannot read %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_fail(err, -ENOTDIR, "%s is not a directory", dir);
	return add_dir_filtered(tree, dir, prefix, flags, err);
}

static int add_made(struct fs_tree *tree, const char *path, uint32_t mode, const char *source,
		    struct error *err)
{
	struct fs_entry e;
	memset(&e, 0, sizeof(e));
	e.mode = mode;
	if (source) {
		struct stat st;
		if (stat(source, &st) != 0)
			return error_fail(err, -errno, "cannot read %s: %s", source, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return error_fail(err, -EINVAL, "%s is not a regular file", source);
		e.size = (uint64_t)st.st_size;
	}
	e.path = strdup(path);
	e.source = source ? strdup(source) : NULL;
	if (!e.path || (source && !e.source) || fstree_add(tree, &e)) {
		free(e.path);
		free(e.source);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int fstree_add_dir(struct fs_tree *tree, const char *path, uint32_t perm, struct error *err)
{
	return add_made(tree, path, S_IFDIR | (perm & PERM_BITS), NULL, err);
}

int fstree_add_file(struct fs_tree *tree, const char *path, const char *source, uint32_t perm,
		    struct error *err)
{
	return add_made(tree, path, S_IFREG | (perm & PERM_BITS), source, err);
}

int fstree_scan(struct fs_tree *tree, const char *dir, struct error *err)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return error_fail(err, -errno, "cannot read %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_fail(err, -ENOTDIR, "%s is not a directory", dir);
	tree->root_mode = (uint32_t)(S_IFDIR | (st.st_mode & PERM_BITS));
	return scan_dir(tree, dir, "", err);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct fs_entry *)a)->path, ((const struct fs_entry *)b)->path);
}

void fstree_sort(struct fs_tree *tree)
{
	if (tree->count > 1)
		qsort(tree->entries, tree->count, sizeof(*tree->entries), cmp_entry);
}

long fstree_find(const struct fs_tree *tree, const char *path)
{
	if (tree->count == 0)
		return -1;
	struct fs_entry key;
	key.path = (char *)path;
	const struct fs_entry *hit = bsearch(&key, tree->entries, tree->count, sizeof(key), cmp_entry);
	return hit ? (long)(hit - tree->entries) : -1;
}

size_t fstree_parent_len(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? (size_t)(slash - path) : 0;
}

/* Hard links: regular files sharing a host (dev, inode); sort indices by that identity. */
static const struct fs_entry *link_sort_base;

static int cmp_host_id(const void *a, const void *b)
{
	const struct fs_entry *x = &link_sort_base[*(const size_t *)a], *y = &link_sort_base[*(const size_t *)b];
	if (x->host_dev != y->host_dev)
		return x->host_dev < y->host_dev ? -1 : 1;
	if (x->host_ino != y->host_ino)
		return x->host_ino < y->host_ino ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int group_links(struct fs_tree *tree, struct error *err)
{
	size_t n = 0;
	size_t *idx = malloc((tree->count ? tree->count : 1) * sizeof(*idx));
	if (!idx)
		return error_fail(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < tree->count; i++) {
		struct fs_entry *e = &tree->entries[i];
		e->link_first = e->link_last = i;
		e->nlink = S_ISDIR(e->mode) ? 2 : 1;
		if (S_ISREG(e->mode) && e->source && e->host_ino != 0)
			idx[n++] = i;
	}
	link_sort_base = tree->entries;
	if (n > 1)
		qsort(idx, n, sizeof(*idx), cmp_host_id);
	for (size_t s = 0; s < n;) {
		size_t t = s + 1;
		const struct fs_entry *first = &tree->entries[idx[s]];
		while (t < n && tree->entries[idx[t]].host_dev == first->host_dev &&
		       tree->entries[idx[t]].host_ino == first->host_ino)
			t++;
		/* idx[s..t) is sorted by index, so idx[s] is the first name in tree order */
		for (size_t k = s; k < t; k++) {
			struct fs_entry *e = &tree->entries[idx[k]];
			/* one inode has one mode and owner: a spec that set them on one name only is ambiguous */
			if (e->mode != first->mode || e->uid != first->uid || e->gid != first->gid) {
				free(idx);
				return error_fail(err, -EINVAL, "'/%s' and '/%s' are hard links but the spec gives them "
						"different modes or owners", first->path, e->path);
			}
			e->link_first = idx[s];
			e->link_last = idx[t - 1];
			e->nlink = (uint32_t)(t - s);
		}
		s = t;
	}
	free(idx);
	return 0;
}

int fstree_finish(struct fs_tree *tree, struct error *err)
{
	fstree_sort(tree);
	tree->root_nlink = 2;
	for (size_t i = 0; i < tree->count; i++) {
		const struct fs_entry *e = &tree->entries[i];
		if (i > 0 && !strcmp(tree->entries[i - 1].path, e->path))
			return error_fail(err, -EINVAL, "'/%s' is given twice", e->path);
		size_t plen = fstree_parent_len(e->path);
		if (plen == 0)
			continue;
		char *parent = strndup(e->path, plen);
		if (!parent)
			return error_fail(err, -ENOMEM, "out of memory");
		long p = fstree_find(tree, parent);
		int ok = p >= 0 && S_ISDIR(tree->entries[p].mode);
		free(parent);
		if (!ok)
			return error_fail(err, -EINVAL, "'/%s' has no parent directory in the tree", e->path);
	}
	int rc = group_links(tree, err);
	if (rc)
		return rc;
	/* directory link counts: 2 + one per subdirectory (its "..") */
	for (size_t i = 0; i < tree->count; i++) {
		const struct fs_entry *e = &tree->entries[i];
		if (!S_ISDIR(e->mode))
			continue;
		size_t plen = fstree_parent_len(e->path);
		if (plen == 0) {
			tree->root_nlink++;
			continue;
		}
		char *parent = strndup(e->path, plen);
		if (!parent)
			return error_fail(err, -ENOMEM, "out of memory");
		tree->entries[fstree_find(tree, parent)].nlink++;
		free(parent);
	}
	return 0;
}

char *fstree_normalise(const char *path)
{
	while (*path == '/')
		path++;
	char *out = strdup(path);
	if (!out)
		return NULL;
	size_t len = strlen(out);
	while (len && out[len - 1] == '/')
		out[--len] = '\0';
	if (len == 0)
		return out;
	for (const char *c = out; c;) {
		const char *next = strchr(c, '/');
		size_t clen = next ? (size_t)(next - c) : strlen(c);
		if (clen == 0 || (clen == 1 && c[0] == '.') || (clen == 2 && c[0] == '.' && c[1] == '.')) {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		c = next ? next + 1 : NULL;
	}
	return out;
}
