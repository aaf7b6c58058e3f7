#include "boot/aml.h"

#include <string.h>

#define NAME_SEG 4
#define PKGLEN_MAX_BYTES 4
#define PKGLEN_ONE_BYTE_MAX 0x3f /* a one-byte PkgLength holds 6 bits */

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

bool aml_failed(const struct aml *a)
{
	return a->failed || a->depth != 0;
}

void aml_bytes(struct aml *a, const void *bytes, size_t n)
{
	if (a->failed || n > a->cap - a->len) {
		a->failed = true;
		return;
	}
	memcpy(a->buf + a->len, bytes, n);
	a->len += n;
}

static void byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void little_endian(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		byte(a, AML_ZERO_OP);
	else if (v == 1)
		byte(a, AML_ONE_OP);
	else if (v <= UINT8_MAX) {
		byte(a, AML_BYTE_PREFIX);
		little_endian(a, v, 1);
	} else if (v <= UINT16_MAX) {
		byte(a, AML_WORD_PREFIX);
		little_endian(a, v, 2);
	} else if (v <= UINT32_MAX) {
		byte(a, AML_DWORD_PREFIX);
		little_endian(a, v, 4);
	} else {
		byte(a, AML_QWORD_PREFIX);
		little_endian(a, v, 8);
	}
}

static bool seg_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void aml_name_string(struct aml *a, const char *path)
{
	if (*path == '\\') {
		byte(a, AML_ROOT_CHAR);
		path++;
	}
	/* Count and check the segments first: the prefix depends on how many there are. */
	unsigned segs = 0;
	for (const char *p = path; *p;) {
		size_t n = 0;
		while (p[n] && p[n] != '.')
			n++;
		if (n == 0 || n > NAME_SEG || !seg_char(p[0]) || (p[0] >= '0' && p[0] <= '9')) {
			a->failed = true;
			return;
		}
		for (size_t i = 0; i < n; i++)
			if (!seg_char(p[i])) {
				a->failed = true;
				return;
			}
		segs++;
		p += n;
		if (*p == '.' && !*++p) {
			a->failed = true; /* a trailing dot */
			return;
		}
	}
	if (segs == 0 || segs > UINT8_MAX) {
		a->failed = true;
		return;
	}
	if (segs == 2)
		byte(a, AML_DUAL_NAME);
	else if (segs > 2) {
		byte(a, AML_MULTI_NAME);
		byte(a, (uint8_t)segs);
	}
	for (const char *p = path; *p;) {
		size_t n = 0;
		while (p[n] && p[n] != '.')
			n++;
		char seg[NAME_SEG] = { '_', '_', '_', '_' };
		memcpy(seg, p, n);
		aml_bytes(a, seg, NAME_SEG);
		p += n;
		if (*p == '.')
			p++;
	}
}

void aml_name(struct aml *a, const char *name)
{
	byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

/* Remember where the contents of a package begin; its PkgLength is inserted there by aml_end. */
static void open_package(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->failed = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_package(struct aml *a, unsigned elements)
{
	byte(a, AML_PACKAGE_OP);
	open_package(a);
	if (elements > UINT8_MAX)
		a->failed = true;
	byte(a, (uint8_t)elements);
}

void aml_scope(struct aml *a, const char *name)
{
	byte(a, AML_SCOPE_OP);
	open_package(a);
	aml_name_string(a, name);
}

void aml_device(struct aml *a, const char *name)
{
	byte(a, AML_EXT_OP_PREFIX);
	byte(a, AML_DEVICE_OP);
	open_package(a);
	aml_name_string(a, name);
}

/* The PkgLength encoding of a package whose contents are `body` bytes: the length counts itself.
 * Returns its size in bytes (1..4), 0 when too long. */
static unsigned pkglength(size_t body, uint8_t out[PKGLEN_MAX_BYTES])
{
	for (unsigned n = 1; n <= PKGLEN_MAX_BYTES; n++) {
		size_t total = body + n;
		if (n == 1) {
			if (total <= PKGLEN_ONE_BYTE_MAX) {
				out[0] = (uint8_t)total;
				return 1;
			}
			continue;
		}
		/* Lead byte: count of following bytes in bits 7-6, the low nibble in bits 3-0. */
		if (total >> (4 + 8 * (n - 1)))
			continue;
		out[0] = (uint8_t)((n - 1) << 6 | (total & 0x0f));
		for (unsigned i = 1; i < n; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

void aml_end(struct aml *a)
{
	if (a->failed)
		return;
	if (a->depth == 0) {
		a->failed = true;
		return;
	}
	size_t start = a->open[--a->depth];
	size_t body = a->len - start;
	uint8_t enc[PKGLEN_MAX_BYTES];
	unsigned n = pkglength(body, enc);
	if (n == 0 || n > a->cap - a->len) {
		a->failed = true;
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, enc, n);
	a->len += n;
}

void aml_buffer(struct aml *a, const uint8_t *bytes, size_t n)
{
	byte(a, AML_BUFFER_OP);
	open_package(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_end(a);
}

uint32_t aml_eisaid(const char *id)
{
	if (strlen(id) != 7)
		return 0;
	uint32_t letters = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		letters = letters << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	uint32_t digits = 0;
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d;
		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return 0;
		digits = digits << 4 | d;
	}
	/* Stored big-endian (letters, then the product number), read as a little-endian integer. */
	return (letters >> 8) | (letters & 0xff) << 8 | (digits >> 8) << 16 | (digits & 0xff) << 24;
}
