/* The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words, shared by the NIC
 * model (checksum offload) and the user-mode network's own replies. */
#ifndef LBVM_COMMON_INET_CSUM_H
#define LBVM_COMMON_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes to a running sum (an odd last byte counts as its word's high half). */
uint64_t inet_csum_add(uint64_t sum, const uint8_t *data, size_t len);
/* Add one 16-bit value (a pseudo-header field). */
uint64_t inet_csum_add16(uint64_t sum, uint16_t value);
/* Fold the carries: the 16-bit ones'-complement sum, not yet complemented. */
uint16_t inet_csum_fold(uint64_t sum);
/* The checksum field's value for data whose sum is `sum`: ~fold(sum). */
uint16_t inet_csum_finish(uint64_t sum);

#endif
