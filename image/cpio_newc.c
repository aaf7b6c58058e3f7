#include "image/cpio_newc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CPIO_ALIGN 4               /* newc pads header+name and data to 4 bytes */
#define ZBUF_SIZE (256 * 1024)
#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, gzip wrapper instead of zlib's */
#define GZIP_MEM_LEVEL 8
#define GZIP_LEVEL 6
#define GZIP_OS_UNIX 3             /* pinned, so the header does not depend on how zlib was built */

static int write_all(struct cpio_writer *w, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_fail(w->err, -errno, "cannot write %s: %s", w->out_name, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int deflate_some(struct cpio_writer *w, int flush)
{
	for (;;) {
		w->z.next_out = w->zbuf;
		w->z.avail_out = ZBUF_SIZE;
		int zr = deflate(&w->z, flush);
		if (zr == Z_STREAM_ERROR)
			return error_fail(w->err, -EIO, "zlib deflate failed");
		int rc = write_all(w, w->zbuf, ZBUF_SIZE - w->z.avail_out);
		if (rc)
			return rc;
		if (flush == Z_FINISH ? zr == Z_STREAM_END : w->z.avail_out != 0)
			return 0;
	}
}

static int emit(struct cpio_writer *w, const void *data, size_t len)
{
	w->offset += len;
	if (!w->gzip)
		return write_all(w, data, len);
	const unsigned char *p = data;
	while (len) {
		uInt chunk = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
		w->z.next_in = (Bytef *)p;
		w->z.avail_in = chunk;
		int rc = deflate_some(w, Z_NO_FLUSH);
		if (rc)
			return rc;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

static int pad(struct cpio_writer *w)
{
	static const unsigned char zeros[CPIO_ALIGN];
	size_t rem = (size_t)(w->offset % CPIO_ALIGN);
	return rem ? emit(w, zeros, CPIO_ALIGN - rem) : 0;
}

int cpio_writer_init(struct cpio_writer *w, int fd, const char *out_name, bool gzip, struct error *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->out_name = out_name;
	w->gzip = gzip;
	w->err = err;
	if (!gzip)
		return 0;
	if (!(w->zbuf = malloc(ZBUF_SIZE)))
		return error_fail(err, -ENOMEM, "out of memory");
	if (deflateInit2(&w->z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(w->zbuf);
		w->zbuf = NULL;
		w->gzip = false;
		return error_fail(err, -ENOMEM, "zlib initialisation failed");
	}
	/* no name, no time (mtime 0 means "none"), fixed OS byte */
	w->gzhdr.os = GZIP_OS_UNIX;
	if (deflateSetHeader(&w->z, &w->gzhdr) != Z_OK)
		return error_fail(err, -EIO, "zlib refused the gzip header");
	return 0;
}

int cpio_write_header(struct cpio_writer *w, const struct cpio_header *h, const char *name)
{
	if (w->data_left)
		return error_fail(w->err, -EFAULT, "cpio: previous member is short of data");
	size_t namesize = strlen(name) + 1;
	if (namesize > UINT32_MAX)
		return error_fail(w->err, -EINVAL, "cpio: name too long: %.64s...", name);
	char hdr[CPIO_NEWC_HEADER_LEN + 1];
	int n = snprintf(hdr, sizeof(hdr), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", CPIO_NEWC_MAGIC,
			 h->ino, h->mode, h->uid, h->gid, h->nlink, h->mtime, h->filesize, h->devmajor, h->devminor,
			 h->rdevmajor, h->rdevminor, (uint32_t)namesize, 0u);
	if (n != CPIO_NEWC_HEADER_LEN)
		return error_fail(w->err, -EFAULT, "cpio: header formatting failed");
	int rc = emit(w, hdr, CPIO_NEWC_HEADER_LEN);
	if (!rc)
		rc = emit(w, name, namesize);
	if (!rc)
		rc = pad(w);
	w->data_left = h->filesize;
	return rc;
}

int cpio_write_data(struct cpio_writer *w, const void *data, size_t len)
{
	if (len > w->data_left)
		return error_fail(w->err, -EFAULT, "cpio: more data than the header announced");
	int rc = emit(w, data, len);
	if (rc)
		return rc;
	w->data_left -= len;
	return w->data_left ? 0 : pad(w);
}

int cpio_writer_finish(struct cpio_writer *w)
{
	struct cpio_header trailer;
	memset(&trailer, 0, sizeof(trailer));
	trailer.nlink = 1;
	int rc = cpio_write_header(w, &trailer, CPIO_TRAILER);
	if (!rc && w->gzip) {
		w->z.next_in = NULL;
		w->z.avail_in = 0;
		rc = deflate_some(w, Z_FINISH);
	}
	return rc;
}

void cpio_writer_free(struct cpio_writer *w)
{
	if (w->zbuf) {
		deflateEnd(&w->z);
		free(w->zbuf);
		w->zbuf = NULL;
	}
}
