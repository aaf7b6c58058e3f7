/* A raw disk image: a regular file whose size is a whole number of 512-byte sectors, read and written at
 * byte offsets by the AHCI model. A read-only image is opened O_RDONLY, so nothing in lbvm can change it.
 * Every image opened by path is locked for as long as it is open, as QEMU does: an exclusive OFD lock for
 * read-write, a shared one for read-only (common/file_lock.h), so no two runs write one image, and no run
 * writes an image another run (or `lbvm disk`) reads. */
#ifndef LBVM_DEVICES_DISK_IMAGE_H
#define LBVM_DEVICES_DISK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/error.h"

#define DISK_SECTOR_SIZE 512u

/* Errors beyond errno's range that disk_image_open() returns (negated, like -errno). */
enum disk_image_error {
	DISK_IMAGE_ENOTREG = 10001, /* not a regular file */
	DISK_IMAGE_EALIGN = 10002,  /* size not a multiple of 512 */
	DISK_IMAGE_EEMPTY = 10003,  /* size 0 */
	DISK_IMAGE_ERANGE = 10004,  /* an access past the end of the image */
	DISK_IMAGE_EROFS = 10005,   /* a write to a read-only image */
	DISK_IMAGE_ELOCKED = 10006, /* another open holds a conflicting lock: the image is in use */
};

struct disk_image {
	int fd;
	bool read_only;
	uint64_t size;     /* bytes */
	uint64_t sectors;  /* size / 512 */
	char *path;        /* for messages */
	dev_t dev;         /* the file's identity: one image named twice is the same (dev, ino) */
	ino_t ino;
};

/* Open `path` (read-only when asked) and lock it. 0 with *out set, or a negative code
 * (-DISK_IMAGE_ELOCKED when it is in use); *size_out (may be NULL) gets the file's size whenever it was
 * learnt, for the message. */
int disk_image_open(const char *path, bool read_only, struct disk_image **out, uint64_t *size_out);
/* Open every --disk SPEC ("FILE[,ro]", in order) into out[0..n-1]: refused when two specs name the same
 * file (compared by device and inode, not by name: links and other spellings count) or when an image is in
 * use. 0, or a negative code with err filled (one line naming the disk, exit status 2) and nothing left
 * open. */
int disk_image_open_all(const char *const *specs, unsigned n, struct disk_image **out, struct error *err);
/* Take over an open descriptor (memfd or temp file in tests and fuzzers); same checks as open, no lock. */
int disk_image_from_fd(int fd, const char *name, bool read_only, struct disk_image **out, uint64_t *size_out);
void disk_image_close(struct disk_image *img);

/* Split a --disk argument "FILE[,ro]": only a final ",ro" is an option, so other commas stay part of the
 * file name. 0 with *path (malloc'd, the caller frees it) and *read_only set; -EINVAL for an empty name. */
int disk_image_parse_spec(const char *spec, char **path, bool *read_only);

/* Turn an error from disk_image_open() into the one line the command layer prints (without "lbvm: "). */
void disk_image_strerror(char *buf, size_t len, const char *path, int err, uint64_t size);

/* Move `len` bytes at byte `offset`, looping over partial transfers. 0, -DISK_IMAGE_ERANGE past the end,
 * -DISK_IMAGE_EROFS for a write to a read-only image, -EIO on an unexpected end of file, or -errno. */
int disk_image_pread(struct disk_image *img, void *buf, size_t len, uint64_t offset);
int disk_image_pwrite(struct disk_image *img, const void *buf, size_t len, uint64_t offset);
/* The same for a scatter list (the iovec array is not modified). */
int disk_image_preadv(struct disk_image *img, const struct iovec *iov, unsigned iovcnt, uint64_t offset);
int disk_image_pwritev(struct disk_image *img, const struct iovec *iov, unsigned iovcnt, uint64_t offset);
/* Make every completed write durable (fdatasync). 0 or -errno; a read-only image has nothing to sync. */
int disk_image_flush(struct disk_image *img);

#endif
