/* The DHCP server of hermetic mode (libslirp's, in restricted mode, leaves out the router and DNS options,
 * and without a DNS server the guest cannot resolve the name its network probe asks for). It hands the
 * one guest the same lease as QEMU's `-nic user` does: LAYOUT_NET_GUEST/24, router LAYOUT_NET_HOST, DNS
 * LAYOUT_NET_DNS. Pure: a BOOTP message in, the reply message out. */
#ifndef LBVM_NET_DHCP_SERVER_H
#define LBVM_NET_DHCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_REPLY_MAX   576 /* the smallest message every client must accept */

/* Addresses in host byte order. */
struct dhcp_plan {
	uint32_t server, client, netmask, router, dns;
	uint32_t lease_s;
};

/* The reply to the BOOTP/DHCP request in msg: its length in out (at least DHCP_REPLY_MAX bytes), or 0 when
 * the request gets none (not a request, malformed, a release, or for another server). *dst_ip is where
 * the reply goes: the client's address when it has one, else the broadcast address. */
size_t dhcp_answer(const struct dhcp_plan *plan, const uint8_t *msg, size_t len, uint8_t *out, uint32_t *dst_ip);

#endif
