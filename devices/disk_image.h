/* A raw disk image: a regular file whose size is a whole number of 512-byte sectors, read and written at
 * byte offsets by the AHCI model. A read-only image is opened O_RDONLY, so nothing in lbvm can change it. */
#ifndef LBVM_DEVICES_DISK_IMAGE_H
#define LBVM_DEVICES_DISK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_SECTOR_SIZE 512u

/* Errors beyond errno's range that disk_image_open() returns (negated, like -errno). */
enum disk_image_error {
	DISK_IMAGE_ENOTREG = 10001, /* not a regular file */
	DISK_IMAGE_EALIGN = 10002,  /* size not a multiple of 512 */
	DISK_IMAGE_EEMPTY = 10003,  /* size 0 */
	DISK_IMAGE_ERANGE = 10004,  /* an access past the end of the image */
	DISK_IMAGE_EROFS = 10005,   /* a write to a read-only image */
};

struct disk_image {
	int fd;
	bool read_only;
	uint64_t size;     /* bytes */
	uint64_t sectors;  /* size / 512 */
	char *path;        /* for messages */
};

/* Open `path` (read-only when asked). 0 with *out set, or a negative code; *size_out (may be NULL) gets
 * the file's size whenever it was learnt, for the message. */
int disk_image_open(const char *path, bool read_only, struct disk_image **out, uint64_t *size_out);
/* Take over an open descriptor (memfd or temp file in tests and fuzzers); same checks as open. */
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
