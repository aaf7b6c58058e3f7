#include "common/escape.h"

#include <stdint.h>
#include <stdio.h>

#define C1_FIRST 0x80
#define C1_LAST  0x9f
#define DEL      0x7f

/* Length of the valid UTF-8 sequence at P (at most LEFT bytes), or 0 when it is not one. Overlong forms
 * and surrogates count as invalid, so a C1 control cannot hide in a longer encoding. */
static size_t utf8_len(const uint8_t *p, size_t left)
{
	uint8_t c = p[0];
	size_t n;
	uint32_t cp, min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp >= C1_FIRST && cp <= C1_LAST)
		return 0; /* U+0080..U+009F: C1 controls, escaped byte by byte */
	return n;
}

char *escape_name(char *out, size_t cap, const char *in, size_t len)
{
	size_t o = 0;
	if (cap == 0)
		return out;
	const uint8_t *p = (const uint8_t *)in;
	for (size_t i = 0; i < len;) {
		char piece[8];
		size_t plen;
		size_t u = p[i] >= 0x80 ? utf8_len(p + i, len - i) : 0;
		if (u) {
			for (plen = 0; plen < u; plen++)
				piece[plen] = (char)p[i + plen];
			i += u;
		} else {
			uint8_t c = p[i++];
			if (c == '\n')
				plen = (size_t)snprintf(piece, sizeof(piece), "\\n");
			else if (c == '\t')
				plen = (size_t)snprintf(piece, sizeof(piece), "\\t");
			else if (c == '\\')
				plen = (size_t)snprintf(piece, sizeof(piece), "\\\\");
			else if (c < 0x20 || c == DEL || c >= 0x80)
				plen = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", c);
			else
				piece[0] = (char)c, plen = 1;
		}
		if (plen >= cap - o)
			break; /* no room for the whole piece and the NUL: stop at a piece boundary */
		for (size_t k = 0; k < plen; k++)
			out[o++] = piece[k];
	}
	out[o] = '\0';
	return out;
}
