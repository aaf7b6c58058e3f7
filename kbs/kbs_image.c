#include "kbs/kbs_image.h"
#include "common/hex.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/img_output.h"

#define BOOT_SIGNATURE_0 0x55
#define BOOT_SIGNATURE_1 0xaa
#define MAX_SOURCE       (64u << 20)   /* a stage's hex0 text: builder-hex0's is under 100 KiB */
#define COPY_CHUNK       (1u << 20)
#define NAME_MAX_BYTES   1024          /* builder-hex0's file names, with the leading '/' and the NUL */

/* ---- output: one buffered sequential writer ----------------------------------------------------------- */

struct writer {
	int fd;
	const char *path;
	uint64_t offset;
	uint8_t *buf;
	size_t used;
	struct error *err;
};

static int flush(struct writer *w)
{
	size_t done = 0;
	while (done < w->used) {
		ssize_t n = write(w->fd, w->buf + done, w->used - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_fail(w->err, -errno, "cannot write %s: %s", w->path, strerror(errno));
		done += (size_t)n;
	}
	w->used = 0;
	return 0;
}

static int put(struct writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		size_t n = COPY_CHUNK - w->used < len ? COPY_CHUNK - w->used : len;
		memcpy(w->buf + w->used, p, n);
		w->used += n;
		w->offset += n;
		p += n;
		len -= n;
		if (w->used == COPY_CHUNK) {
			int rc = flush(w);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int put_zeros(struct writer *w, uint64_t len)
{
	static const uint8_t zeros[KBS_SECTOR];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int rc = put(w, zeros, n);
		if (rc)
			return rc;
		len -= n;
	}
	return 0;
}

/* ---- inputs ----------------------------------------------------------------------------------------------- */

static int read_file(const char *path, const char *what, char **out, size_t *len, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_fail(err, -errno, "%s '%s': %s", what, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_SOURCE) {
		close(fd);
		return error_fail(err, -EINVAL, "%s '%s': not a regular file of at most %u MiB", what, path,
				MAX_SOURCE >> 20);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return error_fail(err, -e, "%s '%s': cannot read: %s", what, path, strerror(e));
		}
		done += (size_t)n;
	}
	close(fd);
	buf[done] = 0;
	*out = buf;
	*len = done;
	return 0;
}

int kbs_hex0_compile(const char *text, size_t text_len, const char *name, uint8_t **out, size_t *len,
		     struct error *err)
{
	uint8_t *bytes = malloc(text_len / 2 + 1);
	if (!bytes)
		return error_fail(err, -ENOMEM, "out of memory");
	size_t n = 0;
	unsigned line = 1;
	int high = -1;
	int comment = 0;
	for (size_t i = 0; i < text_len; i++) {
		int c = (unsigned char)text[i];
		if (c == '\n') {
			line++;
			comment = 0;
			continue;
		}
		if (comment)
			continue;
		if (c == '#' || c == ';') {
			comment = 1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r')
			continue;
		int v = hex_digit_value(c);
		if (v < 0) {
			free(bytes);
			return error_fail(err, -EINVAL, "%s, line %u: '%c' is not hex0 (hex digits, '#' or ';' comments)",
					name, line, isprint(c) ? c : '?');
		}
		if (high < 0) {
			high = v;
		} else {
			bytes[n++] = (uint8_t)(high << 4 | v);
			high = -1;
		}
	}
	if (high >= 0) {
		free(bytes);
		return error_fail(err, -EINVAL, "%s: an odd number of hex digits", name);
	}
	*out = bytes;
	*len = n;
	return 0;
}

/* ---- the pieces of the image ------------------------------------------------------------------------------ */

static int write_stage1(struct writer *w, const char *path)
{
	char *text;
	size_t len;
	int rc = read_file(path, "stage 1", &text, &len, w->err);
	if (rc)
		return rc;
	uint8_t *bin;
	size_t n;
	rc = kbs_hex0_compile(text, len, path, &bin, &n, w->err);
	free(text);
	if (rc)
		return rc;
	if (n != KBS_SECTOR || bin[KBS_SECTOR - 2] != BOOT_SIGNATURE_0 || bin[KBS_SECTOR - 1] != BOOT_SIGNATURE_1)
		rc = error_fail(w->err, -EINVAL, "stage 1 '%s': %zu bytes, not a 512-byte boot sector ending in 55 AA",
			      path, n);
	else
		rc = put(w, bin, n);
	free(bin);
	return rc;
}

static int write_stage2(struct writer *w, const char *path)
{
	char *text;
	size_t len;
	int rc = read_file(path, "stage 2", &text, &len, w->err);
	if (rc)
		return rc;
	/* Stage 1 compiles it up to the first zero byte: one inside would cut it short. */
	if (memchr(text, 0, len))
		rc = error_fail(w->err, -EINVAL, "stage 2 '%s': contains a zero byte, not hex0 text", path);
	else if ((rc = put(w, text, len)) == 0)
		rc = put_zeros(w, (KBS_SECTOR - w->offset % KBS_SECTOR) % KBS_SECTOR);
	free(text);
	return rc;
}

/* builder-hex0's src reads a name up to the newline into a 1 KiB-per-name table: no control characters,
 * nothing longer (spaces are fine). */
static int check_name(const char *path, struct error *err)
{
	if (strlen(path) + 1 >= NAME_MAX_BYTES)
		return error_fail(err, -ENAMETOOLONG, "tree entry '%s': longer than builder-hex0's %d-byte names", path,
				NAME_MAX_BYTES);
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return error_fail(err, -EINVAL, "tree entry '%s': builder-hex0 cannot name it (control character)",
					path);
	return 0;
}

static int put_line(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put_line(struct writer *w, const char *fmt, ...)
{
	char line[PATH_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return error_fail(w->err, -ENAMETOOLONG, "a name in the tree is too long");
	return put(w, line, (size_t)n);
}

/* A file's bytes, exactly `size` of them (a file that changes while it is copied is an error). */
static int put_file(struct writer *w, const char *host, uint64_t size, uint8_t *chunk)
{
	int fd = open(host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_fail(w->err, -errno, "cannot open %s: %s", host, strerror(errno));
	uint64_t done = 0;
	int rc = 0;
	while (rc == 0 && done < size) {
		size_t want = size - done < COPY_CHUNK ? (size_t)(size - done) : COPY_CHUNK;
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = error_fail(w->err, n < 0 ? -errno : -EIO, "cannot read %s: %s", host,
				      n < 0 ? strerror(errno) : "it shrank while being copied");
		else if ((rc = put(w, chunk, (size_t)n)) == 0)
			done += (uint64_t)n;
	}
	close(fd);
	return rc;
}

static int write_item(struct writer *w, const struct steps_srcfs_item *it, uint8_t *chunk)
{
	int rc = check_name(it->text, w->err);
	if (rc)
		return rc;
	switch (it->kind) {
	case STEPS_SRCFS_DIR:
		return put_line(w, "src 0 %s\n", it->text);
	case STEPS_SRCFS_COMMAND:
		return put_line(w, "%s\n", it->text);
	case STEPS_SRCFS_FILE:
		break;
	}
	const struct fs_entry *e = it->entry;
	if ((rc = put_line(w, "src %" PRIu64 " %s\n", e->size, it->text)))
		return rc;
	if (e->data)
		return put(w, e->data, (size_t)e->size);
	if (e->source)
		return put_file(w, e->source, e->size, chunk);
	return e->size ? error_fail(w->err, -EINVAL, "%s: no data", it->text) : 0;
}

static int write_image(struct writer *w, const struct steps_srcfs *stream, uint64_t size)
{
	int rc = write_stage1(w, stream->stage1);
	if (rc == 0)
		rc = write_stage2(w, stream->stage2);
	uint8_t *chunk = rc == 0 ? malloc(COPY_CHUNK) : NULL;
	if (rc == 0 && !chunk)
		rc = error_fail(w->err, -ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < stream->n; i++)
		rc = write_item(w, &stream->items[i], chunk);
	free(chunk);
	/* The stream ends at a zero byte; the image at a whole MiB. */
	if (rc == 0)
		rc = put_zeros(w, KBS_ALIGN - w->offset % KBS_ALIGN);
	if (rc == 0)
		rc = flush(w);
	if (rc == 0 && size) {
		if (size < w->offset)
			rc = error_fail_status(w->err, 2, -EFBIG, "the image needs %" PRIu64 " MiB, more than the %" PRIu64
					       " bytes asked for", w->offset >> 20, size);
		else if (ftruncate(w->fd, (off_t)size) != 0)
			rc = error_fail(w->err, -errno, "cannot extend %s to %" PRIu64 " bytes: %s", w->path, size,
					strerror(errno));
	}
	return rc;
}

int kbs_image_write(const struct steps_srcfs *stream, uint64_t size, const char *path, struct error *err)
{
	struct atomic_file out;
	int rc = img_output_open(&out, path, err);
	if (rc)
		return rc;
	struct writer w = { .fd = out.fd, .path = path, .err = err, .buf = malloc(COPY_CHUNK) };
	if (!w.buf)
		rc = error_fail(err, -ENOMEM, "out of memory");
	else
		rc = write_image(&w, stream, size);
	free(w.buf);
	return img_output_close(&out, rc, path, err);
}
