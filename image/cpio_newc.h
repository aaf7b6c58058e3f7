/* A cpio "newc" (SVR4, magic 070701) archive writer, optionally gzip-compressed through zlib. It only
 * formats what it is given: the caller decides order, inode numbers and times (image/initramfs.h does that
 * deterministically). The gzip header carries no file name and a zero time, so equal input gives equal
 * bytes. */
#ifndef LBVM_IMAGE_CPIO_NEWC_H
#define LBVM_IMAGE_CPIO_NEWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "common/error.h"

#define CPIO_NEWC_MAGIC "070701"
#define CPIO_TRAILER "TRAILER!!!"
#define CPIO_NEWC_HEADER_LEN 110 /* magic + 13 fields of 8 hex digits */

/* One archive member's header fields (names as in the format; all 32-bit). */
struct cpio_header {
	uint32_t ino, mode, uid, gid, nlink, mtime, filesize;
	uint32_t devmajor, devminor, rdevmajor, rdevminor;
};

struct cpio_writer {
	int fd;
	const char *out_name; /* for messages */
	bool gzip;
	z_stream z;
	gz_header gzhdr;      /* zlib keeps a pointer to it until the header is out */
	unsigned char *zbuf;
	uint64_t offset;      /* bytes of (uncompressed) archive written so far */
	uint64_t data_left;   /* data bytes the current member still expects */
	struct error *err;
};

/* Start writing to FD (owned by the caller). 0 or -errno with err. */
int cpio_writer_init(struct cpio_writer *w, int fd, const char *out_name, bool gzip, struct error *err);
/* One member: header and name, then exactly h->filesize bytes through cpio_write_data. */
int cpio_write_header(struct cpio_writer *w, const struct cpio_header *h, const char *name);
int cpio_write_data(struct cpio_writer *w, const void *data, size_t len);
/* The TRAILER!!! member, then flush (and finish the gzip stream). */
int cpio_writer_finish(struct cpio_writer *w);
/* Release zlib state; safe after finish or a failure. */
void cpio_writer_free(struct cpio_writer *w);

#endif
