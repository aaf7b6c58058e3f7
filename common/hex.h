/* One hexadecimal digit's value: 0..15, or -1 for anything else (either case). */
#ifndef LBVM_COMMON_HEX_H
#define LBVM_COMMON_HEX_H

static inline int hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
