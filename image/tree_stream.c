#include "image/tree_stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The header on the wire: 10 little-endian u32 and 2 u64, 56 bytes, then the name. Both ends are the same
 * lbvm binary on the same host, so the layout only needs to be fixed, not portable. */
#define WIRE_U32 10
#define WIRE_U64 2
#define WIRE_HEADER (WIRE_U32 * 4 + WIRE_U64 * 8)

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int write_all(int fd, const void *buf, size_t len, struct error *err)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_fail(err, -errno, "cannot hand the tree over: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0 after LEN bytes; -EPROTO at an early end of the stream. */
static int read_all(int fd, void *buf, size_t len, struct error *err)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_fail(err, -errno, "cannot read the image reader's output: %s", strerror(errno));
		if (n == 0)
			return error_fail(err, -EPROTO, "the image reader stopped in the middle of the tree");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tree_stream_put(int fd, const struct tree_record *r, struct error *err)
{
	if (r->name_len > TREE_STREAM_NAME_MAX)
		return error_fail(err, -ENAMETOOLONG, "a name of %u bytes in the image (damaged image)", r->name_len);
	uint8_t buf[WIRE_HEADER + TREE_STREAM_NAME_MAX];
	const uint32_t u32[WIRE_U32] = { r->kind, r->mode, r->uid, r->gid, r->mtime, r->nlink, r->rdev_major,
					 r->rdev_minor, r->name_len, 0 };
	for (unsigned i = 0; i < WIRE_U32; i++)
		put_le(buf + 4 * i, u32[i], 4);
	put_le(buf + WIRE_U32 * 4, r->id, 8);
	put_le(buf + WIRE_U32 * 4 + 8, r->size, 8);
	memcpy(buf + WIRE_HEADER, r->name, r->name_len);
	return write_all(fd, buf, WIRE_HEADER + r->name_len, err);
}

int tree_stream_put_payload(int fd, const void *buf, size_t len, struct error *err)
{
	return write_all(fd, buf, len, err);
}

int tree_stream_get(int fd, struct tree_record *r, struct error *err)
{
	uint8_t buf[WIRE_HEADER];
	int rc = read_all(fd, buf, sizeof(buf), err);
	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	uint32_t *fields[WIRE_U32 - 1] = { &r->kind, &r->mode, &r->uid, &r->gid, &r->mtime, &r->nlink,
					   &r->rdev_major, &r->rdev_minor, &r->name_len };
	for (unsigned i = 0; i < WIRE_U32 - 1; i++)
		*fields[i] = (uint32_t)get_le(buf + 4 * i, 4);
	r->id = get_le(buf + WIRE_U32 * 4, 8);
	r->size = get_le(buf + WIRE_U32 * 4 + 8, 8);
	if (r->kind < TREE_DIR || r->kind > TREE_END || get_le(buf + 4 * (WIRE_U32 - 1), 4) != 0)
		return error_fail(err, -EPROTO, "the image reader sent a record of unknown kind %u", r->kind);
	if (r->name_len > TREE_STREAM_NAME_MAX)
		return error_fail(err, -EPROTO, "the image reader sent a name of %u bytes", r->name_len);
	rc = read_all(fd, r->name, r->name_len, err);
	r->name[r->name_len] = '\0';
	return rc;
}

int tree_stream_get_payload(int fd, void *buf, size_t len, struct error *err)
{
	return read_all(fd, buf, len, err);
}
