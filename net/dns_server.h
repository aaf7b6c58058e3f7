/* The DNS server of hermetic mode: every name resolves to lbvm's mirror, answered inside lbvm, so that the
 * chain's network probe (`curl example.com`) and any MIRRORS host name reach the mirror and nothing is
 * asked of a resolver outside. A questions (and ANY) get one A record; every other type an empty answer
 * (no IPv6 address, so clients fall back to IPv4). Pure: a query message in, the reply message out. */
#ifndef LBVM_NET_DNS_SERVER_H
#define LBVM_NET_DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define DNS_PORT       53
#define DNS_REPLY_MAX  512 /* a classic UDP answer */
#define DNS_TTL        60

/* The reply to the query in msg (length in out, which holds DNS_REPLY_MAX bytes), or 0 when msg is not
 * a query worth answering (shorter than a header, or itself a response). `addr` in host byte order.
 * Malformed questions get FORMERR, other opcodes NOTIMP. */
size_t dns_answer(const uint8_t *msg, size_t len, uint32_t addr, uint8_t *out);

#endif
