#include "image/initramfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/img_output.h"
#include "image/spec.h"

#define COPY_BUF_SIZE (256 * 1024)
#define ROOT_INO 1
#define FIRST_ENTRY_INO 2 /* entry i gets i + 2 (hard links: their first name's number) */

static int copy_file(struct cpio_writer *w, const struct fs_entry *e, unsigned char *buf)
{
	if (e->data)
		return cpio_write_data(w, e->data, e->size);
	int fd = open(e->source, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_fail(w->err, -errno, "cannot read %s: %s", e->source, strerror(errno));
	uint64_t left = e->size;
	int rc = 0;
	while (rc == 0 && left) {
		size_t want = left < COPY_BUF_SIZE ? (size_t)left : COPY_BUF_SIZE;
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = error_fail(w->err, -errno, "cannot read %s: %s", e->source, strerror(errno));
		else if (n == 0)
			rc = error_fail(w->err, -EINVAL, "%s shrank while it was being read", e->source);
		else {
			rc = cpio_write_data(w, buf, (size_t)n);
			left -= (uint64_t)n;
		}
	}
	close(fd);
	return rc;
}

static int write_entry(struct cpio_writer *w, const struct fs_tree *tree, size_t i, uint32_t epoch,
		       unsigned char *buf)
{
	const struct fs_entry *e = &tree->entries[i];
	struct cpio_header h;
	memset(&h, 0, sizeof(h));
	h.ino = (uint32_t)(e->link_first + FIRST_ENTRY_INO);
	h.mode = e->mode;
	h.uid = e->uid;
	h.gid = e->gid;
	h.nlink = S_ISDIR(e->mode) || S_ISREG(e->mode) ? e->nlink : 1;
	h.mtime = epoch;
	h.rdevmajor = e->rdev_major;
	h.rdevminor = e->rdev_minor;
	bool carries_data = S_ISLNK(e->mode) || (S_ISREG(e->mode) && e->link_last == i);
	if (carries_data && e->size > UINT32_MAX)
		return error_fail(w->err, -EFBIG, "%s is 4 GiB or larger, which cpio newc cannot hold",
				e->source ? e->source : e->path);
	h.filesize = carries_data ? (uint32_t)e->size : 0;
	int rc = cpio_write_header(w, &h, e->path);
	if (rc || !carries_data || h.filesize == 0)
		return rc;
	if (S_ISLNK(e->mode))
		return cpio_write_data(w, e->target, e->size);
	return copy_file(w, e, buf);
}

int initramfs_write_tree(struct cpio_writer *w, const struct fs_tree *tree, uint32_t epoch)
{
	unsigned char *buf = malloc(COPY_BUF_SIZE);
	if (!buf)
		return error_fail(w->err, -ENOMEM, "out of memory");
	struct cpio_header root;
	memset(&root, 0, sizeof(root));
	root.ino = ROOT_INO;
	root.mode = tree->root_mode;
	root.uid = tree->root_uid;
	root.gid = tree->root_gid;
	root.nlink = tree->root_nlink;
	root.mtime = epoch;
	int rc = cpio_write_header(w, &root, ".");
	for (size_t i = 0; rc == 0 && i < tree->count; i++)
		rc = write_entry(w, tree, i, epoch, buf);
	if (!rc)
		rc = cpio_writer_finish(w);
	free(buf);
	return rc;
}

int initramfs_build_tree(const struct initramfs_opts *opts, const struct fs_tree *tree, struct error *err)
{
	struct atomic_file out;
	int rc = img_output_open(&out, opts->output, err);
	if (rc)
		return rc;
	struct cpio_writer w;
	rc = cpio_writer_init(&w, out.fd, opts->output, opts->gzip, err);
	if (!rc)
		rc = initramfs_write_tree(&w, tree, opts->epoch);
	cpio_writer_free(&w);
	return img_output_close(&out, rc, opts->output, err);
}

int initramfs_build(const struct initramfs_opts *opts, struct error *err)
{
	struct fs_tree tree;
	fstree_init(&tree);
	int rc = spec_build_tree(&tree, opts->dir, opts->spec, err);
	if (!rc)
		rc = initramfs_build_tree(opts, &tree, err);
	fstree_free(&tree);
	return rc;
}
