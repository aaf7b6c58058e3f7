#include "devices/disk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "common/file_lock.h"

/* At most this many iovecs per preadv/pwritev call (the kernel refuses more than IOV_MAX). */
#define IOV_BATCH 64

int disk_image_from_fd(int fd, const char *name, bool read_only, struct disk_image **out, uint64_t *size_out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -DISK_IMAGE_ENOTREG;
	uint64_t size = (uint64_t)st.st_size;
	if (size_out)
		*size_out = size;
	if (size == 0)
		return -DISK_IMAGE_EEMPTY;
	if (size % DISK_SECTOR_SIZE)
		return -DISK_IMAGE_EALIGN;
	struct disk_image *img = calloc(1, sizeof(*img));
	char *copy = strdup(name ? name : "");
	if (!img || !copy) {
		free(img);
		free(copy);
		return -ENOMEM;
	}
	img->fd = fd;
	img->dev = st.st_dev;
	img->ino = st.st_ino;
	img->read_only = read_only;
	img->size = size;
	img->sectors = size / DISK_SECTOR_SIZE;
	img->path = copy;
	*out = img;
	return 0;
}

/* Open and check, without the lock (disk_image_open_all looks for duplicates first). */
static int open_unlocked(const char *path, bool read_only, struct disk_image **out, uint64_t *size_out)
{
	/* O_NONBLOCK: opening a FIFO by mistake must not hang before fstat() says it is not a regular file. */
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	int err = disk_image_from_fd(fd, path, read_only, out, size_out);
	if (err) {
		close(fd);
		return err;
	}
	/* Back to blocking I/O for the image itself. */
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		err = -errno;
		disk_image_close(*out);
		*out = NULL;
		return err;
	}
	return 0;
}

static int lock(struct disk_image *img)
{
	int err = file_lock(img->fd, !img->read_only);
	return err == -EAGAIN ? -DISK_IMAGE_ELOCKED : err;
}

int disk_image_open(const char *path, bool read_only, struct disk_image **out, uint64_t *size_out)
{
	int err = open_unlocked(path, read_only, out, size_out);
	if (!err && (err = lock(*out))) {
		disk_image_close(*out);
		*out = NULL;
	}
	return err;
}

int disk_image_open_all(const char *const *specs, unsigned n, struct disk_image **out, struct error *err)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = NULL;
	int rc = 0;
	for (unsigned i = 0; i < n && !rc; i++) {
		char *path = NULL;
		bool ro = false;
		uint64_t size = 0;
		rc = disk_image_parse_spec(specs[i], &path, &ro);
		if (!rc)
			rc = open_unlocked(path, ro, &out[i], &size);
		for (unsigned j = 0; !rc && j < i; j++) {
			if (out[j]->dev == out[i]->dev && out[j]->ino == out[i]->ino) {
				rc = error_fail_status(err, EXIT_USAGE, -EINVAL,
						       "disk '%s' is the same image as disk '%s' (given twice)",
						       out[i]->path, out[j]->path);
			}
		}
		if (!rc)
			rc = lock(out[i]);
		if (rc && !err->code) {
			char msg[ERROR_MSG_MAX];
			disk_image_strerror(msg, sizeof(msg), path ? path : specs[i], rc, size);
			error_fail_status(err, rc == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE, rc, "%s", msg);
		}
		free(path);
	}
	if (rc) {
		for (unsigned i = 0; i < n; i++) {
			disk_image_close(out[i]);
			out[i] = NULL;
		}
	}
	return rc;
}

int disk_image_parse_spec(const char *spec, char **path, bool *read_only)
{
	static const char ro_suffix[] = ",ro";
	size_t len = strlen(spec), suffix = sizeof(ro_suffix) - 1;
	bool ro = len >= suffix && !strcmp(spec + len - suffix, ro_suffix);
	if (ro)
		len -= suffix;
	if (len == 0)
		return -EINVAL;
	char *copy = strndup(spec, len);
	if (!copy)
		return -ENOMEM;
	*path = copy;
	*read_only = ro;
	return 0;
}

void disk_image_close(struct disk_image *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	free(img->path);
	free(img);
}

void disk_image_strerror(char *buf, size_t len, const char *path, int err, uint64_t size)
{
	switch (-err) {
	case DISK_IMAGE_ENOTREG:
		snprintf(buf, len, "disk '%s': not a regular file", path);
		break;
	case DISK_IMAGE_EALIGN:
		snprintf(buf, len, "disk '%s': size %llu is not a multiple of %u", path, (unsigned long long)size,
			 DISK_SECTOR_SIZE);
		break;
	case DISK_IMAGE_EEMPTY:
		snprintf(buf, len, "disk '%s': the image is empty (size 0)", path);
		break;
	case DISK_IMAGE_ERANGE:
		snprintf(buf, len, "disk '%s': access past the end of the image", path);
		break;
	case DISK_IMAGE_EROFS:
		snprintf(buf, len, "disk '%s': the image is read-only", path);
		break;
	case DISK_IMAGE_ELOCKED:
		snprintf(buf, len, "disk '%s' is in use: another lbvm (or another program) has it open%s", path,
			 " for writing, or for reading while this run would write it");
		break;
	default:
		snprintf(buf, len, "disk '%s': %s", path, strerror(-err));
		break;
	}
}

static int check_range(const struct disk_image *img, uint64_t len, uint64_t offset)
{
	if (offset > img->size || len > img->size - offset)
		return -DISK_IMAGE_ERANGE;
	return 0;
}

int disk_image_pread(struct disk_image *img, void *buf, size_t len, uint64_t offset)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	return disk_image_preadv(img, &iov, 1, offset);
}

int disk_image_pwrite(struct disk_image *img, const void *buf, size_t len, uint64_t offset)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	return disk_image_pwritev(img, &iov, 1, offset);
}

static uint64_t iov_total(const struct iovec *iov, unsigned iovcnt)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	return total;
}

/* One loop for both directions: copy up to IOV_BATCH entries into a local array, transfer, and after a
 * short transfer advance inside the local copy so the caller's array stays untouched. */
static int transfer(struct disk_image *img, const struct iovec *iov, unsigned iovcnt, uint64_t offset, bool write)
{
	uint64_t total = iov_total(iov, iovcnt);
	int err = check_range(img, total, offset);
	if (err)
		return err;
	if (write && img->read_only)
		return -DISK_IMAGE_EROFS;
	struct iovec batch[IOV_BATCH];
	unsigned next = 0;
	while (next < iovcnt) {
		unsigned n = 0;
		while (n < IOV_BATCH && next + n < iovcnt) {
			batch[n] = iov[next + n];
			n++;
		}
		next += n;
		struct iovec *cur = batch;
		unsigned left = n;
		while (left) {
			if (cur->iov_len == 0) {
				cur++;
				left--;
				continue;
			}
			ssize_t r = write ? pwritev(img->fd, cur, (int)left, (off_t)offset)
					  : preadv(img->fd, cur, (int)left, (off_t)offset);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (r == 0)
				return -EIO; /* the file shrank under us */
			offset += (uint64_t)r;
			size_t done = (size_t)r;
			while (left && done >= cur->iov_len) {
				done -= cur->iov_len;
				cur++;
				left--;
			}
			if (left) {
				cur->iov_base = (uint8_t *)cur->iov_base + done;
				cur->iov_len -= done;
			}
		}
	}
	return 0;
}

int disk_image_preadv(struct disk_image *img, const struct iovec *iov, unsigned iovcnt, uint64_t offset)
{
	return transfer(img, iov, iovcnt, offset, false);
}

int disk_image_pwritev(struct disk_image *img, const struct iovec *iov, unsigned iovcnt, uint64_t offset)
{
	return transfer(img, iov, iovcnt, offset, true);
}

int disk_image_flush(struct disk_image *img)
{
	if (img->read_only)
		return 0;
	if (fdatasync(img->fd) < 0)
		return -errno;
	return 0;
}
