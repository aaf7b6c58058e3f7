/* Sizes as users write them: 512M, 6G, 8GiB, 1048576 (binary multiples). */
#ifndef LBVM_COMMON_SIZE_H
#define LBVM_COMMON_SIZE_H

#include <stdint.h>

/* 0 and *out set, or -EINVAL for anything but digits followed by an optional K/M/G/T[iB|B] suffix,
 * -ERANGE when it does not fit 64 bits. */
int size_parse(const char *text, uint64_t *out);

#endif
