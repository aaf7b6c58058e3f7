#include "net/dns_server.h"

#include <string.h>

#define HDR_LEN          12
#define FLAG_QR          0x8000u
#define FLAG_AA          0x0400u
#define FLAG_RD          0x0100u
#define FLAG_RA          0x0080u
#define OPCODE(f)        (((f) >> 11) & 0xf)
#define RCODE_FORMERR    1
#define RCODE_NOTIMP     4
#define MAX_LABEL        63
#define MAX_NAME         255
#define TYPE_A           1
#define TYPE_ANY         255
#define CLASS_IN         1
#define NAME_POINTER     0xc00cu /* the name at offset 12: the question's */
#define ANSWER_LEN       16

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Length of the question's name at msg[HDR_LEN..] (labels up to the root), or 0 when malformed:
 * truncated, a label over 63 bytes, a name over 255, or a compression pointer (never in a query). */
static size_t question_name(const uint8_t *msg, size_t len)
{
	size_t i = HDR_LEN;
	while (i < len) {
		uint8_t l = msg[i];
		if (l == 0)
			return i + 1 - HDR_LEN <= MAX_NAME ? i + 1 - HDR_LEN : 0;
		if (l > MAX_LABEL)
			return 0;
		i += 1 + (size_t)l;
	}
	return 0;
}

static size_t header_only(const uint8_t *msg, uint16_t flags, unsigned rcode, uint8_t *out)
{
	memcpy(out, msg, 2);
	put16(out + 2, (uint16_t)(FLAG_QR | (flags & 0x7800u) | (flags & FLAG_RD) | FLAG_RA | rcode));
	memset(out + 4, 0, HDR_LEN - 4);
	return HDR_LEN;
}

size_t dns_answer(const uint8_t *msg, size_t len, uint32_t addr, uint8_t *out)
{
	if (len < HDR_LEN)
		return 0;
	uint16_t flags = be16(msg + 2);
	if (flags & FLAG_QR)
		return 0; /* a response: never answer one */
	if (OPCODE(flags) != 0)
		return header_only(msg, flags, RCODE_NOTIMP, out);
	size_t name = be16(msg + 4) == 1 ? question_name(msg, len) : 0;
	size_t qlen = name + 4; /* name, type, class */
	if (name == 0 || HDR_LEN + qlen > len || HDR_LEN + qlen + ANSWER_LEN > DNS_REPLY_MAX)
		return header_only(msg, flags, RCODE_FORMERR, out);
	const uint8_t *q = msg + HDR_LEN;
	uint16_t type = be16(q + name), class = be16(q + name + 2);
	int answers = (type == TYPE_A || type == TYPE_ANY) && class == CLASS_IN;
	memcpy(out, msg, 2);
	put16(out + 2, (uint16_t)(FLAG_QR | FLAG_AA | (flags & FLAG_RD) | FLAG_RA));
	put16(out + 4, 1);
	put16(out + 6, (uint16_t)answers);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + HDR_LEN, q, qlen);
	size_t n = HDR_LEN + qlen;
	if (answers) {
		uint8_t *a = out + n;
		put16(a, NAME_POINTER);
		put16(a + 2, TYPE_A);
		put16(a + 4, CLASS_IN);
		put16(a + 6, 0);
		put16(a + 8, DNS_TTL);
		put16(a + 10, 4);
		a[12] = (uint8_t)(addr >> 24);
		a[13] = (uint8_t)(addr >> 16);
		a[14] = (uint8_t)(addr >> 8);
		a[15] = (uint8_t)addr;
		n += ANSWER_LEN;
	}
	return n;
}
