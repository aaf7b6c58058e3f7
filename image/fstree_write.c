#include "image/fstree_write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PERM_BITS 07777u
#define COPY_CHUNK (1u << 20)

/* Open the directory holding PATH's last component, walking from ROOT without following symlinks.
 * *leaf points into PATH at the last component. Returns an fd or -errno. */
static int open_parent(int root, const char *path, const char **leaf)
{
	int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash) {
			*leaf = p;
			return fd;
		}
		char name[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		if (n == 0 || n > NAME_MAX) {
			close(fd);
			return -EINVAL;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0)
			return -e;
		fd = next;
		p = slash + 1;
	}
}

static int write_all(int dst, const unsigned char *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(dst, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (size_t)w;
	}
	return 0;
}

static int copy_data(int dst, const char *source, uint64_t size)
{
	int src = open(source, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -errno;
	char *buf = malloc(COPY_CHUNK);
	int rc = buf ? 0 : -ENOMEM;
	uint64_t done = 0;
	while (!rc && done < size) {
		size_t want = size - done > COPY_CHUNK ? COPY_CHUNK : (size_t)(size - done);
		ssize_t n = read(src, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO; /* the source shrank since it was listed */
			break;
		}
		rc = write_all(dst, (const unsigned char *)buf, (size_t)n);
		done += (uint64_t)n;
	}
	free(buf);
	close(src);
	return rc;
}

static int write_entry(const struct fs_tree *tree, size_t i, int root, struct error *err)
{
	const struct fs_entry *e = &tree->entries[i];
	const char *leaf;
	int dir = open_parent(root, e->path, &leaf);
	if (dir < 0)
		return error_fail(err, dir, "cannot open the folder of /%s: %s", e->path, strerror(-dir));
	int rc = 0;
	mode_t perm = (mode_t)(e->mode & PERM_BITS);
	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		/* owner-writable until every entry is in; fstree_write_dir sets its mode last */
		if (mkdirat(dir, leaf, 0700) < 0)
			rc = -errno;
		break;
	case S_IFLNK:
		if (symlinkat(e->target, dir, leaf) < 0)
			rc = -errno;
		break;
	case S_IFREG:
		if (e->link_first != i) {
			const char *first_leaf;
			int first_dir = open_parent(root, tree->entries[e->link_first].path, &first_leaf);
			if (first_dir < 0)
				rc = first_dir;
			else if (linkat(first_dir, first_leaf, dir, leaf, 0) < 0)
				rc = -errno;
			if (first_dir >= 0)
				close(first_dir);
			break;
		}
		int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = -errno;
			break;
		}
		if (e->data)
			rc = write_all(fd, e->data, (size_t)e->size);
		else if (e->source)
			rc = copy_data(fd, e->source, e->size);
		if (!rc && fchmod(fd, perm) < 0)
			rc = -errno;
		if (close(fd) < 0 && !rc)
			rc = -errno;
		break;
	default:
		close(dir);
		return error_fail(err, -EPERM, "/%s: device nodes, fifos and sockets cannot be made without root",
				  e->path);
	}
	close(dir);
	if (rc)
		return error_fail(err, rc, "cannot create /%s: %s", e->path, strerror(-rc));
	return 0;
}

int fstree_write_dir(const struct fs_tree *tree, const char *dest, struct error *err)
{
	int root = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return error_fail(err, -errno, "%s: %s", dest, strerror(errno));
	int rc = 0;
	for (size_t i = 0; !rc && i < tree->count; i++)
		rc = write_entry(tree, i, root, err);
	for (size_t i = tree->count; !rc && i-- > 0;) {
		const struct fs_entry *e = &tree->entries[i];
		if (!S_ISDIR(e->mode))
			continue;
		const char *leaf;
		int dir = open_parent(root, e->path, &leaf);
		if (dir < 0 || fchmodat(dir, leaf, (mode_t)(e->mode & PERM_BITS), 0) < 0)
			rc = error_fail(err, dir < 0 ? dir : -errno, "cannot set the mode of /%s", e->path);
		if (dir >= 0)
			close(dir);
	}
	if (!rc && fchmod(root, (mode_t)(tree->root_mode & PERM_BITS)) < 0)
		rc = error_fail(err, -errno, "%s: %s", dest, strerror(errno));
	close(root);
	return rc;
}
