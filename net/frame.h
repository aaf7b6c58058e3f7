/* Ethernet + IPv4 + UDP: parsing the guest's frames and building replies to it, for the answers the
 * network gives itself (DHCP and DNS in hermetic mode). Pure functions over byte buffers; every length
 * the guest wrote is checked against the frame it came in. */
#ifndef LBVM_NET_FRAME_H
#define LBVM_NET_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_ETH_ALEN      6
#define NET_ETH_HLEN      14
#define NET_ETH_P_IP      0x0800
#define NET_IPV4_HLEN     20
#define NET_UDP_HLEN      8
#define NET_IPPROTO_UDP   17
#define NET_FRAME_MAX     1514 /* what the network sends: MTU 1500 plus the Ethernet header */

/* A UDP datagram in an IPv4 packet in an Ethernet frame. Addresses in host byte order. */
struct udp4_view {
	const uint8_t *dst_mac, *src_mac;
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port;
	const uint8_t *payload;
	size_t payload_len;
};

/* True when the frame is IPv4/UDP, not a fragment, with consistent lengths; fills *v. */
bool frame_parse_udp4(const uint8_t *frame, size_t len, struct udp4_view *v);

/* Build Ethernet + IPv4 (TTL 64, header checksum) + UDP (checksum) around payload. The frame's length,
 * or 0 when it would not fit in cap bytes. */
size_t frame_build_udp4(uint8_t *out, size_t cap, const uint8_t dst_mac[NET_ETH_ALEN],
			const uint8_t src_mac[NET_ETH_ALEN], uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
			uint16_t dst_port, uint16_t ip_id, const uint8_t *payload, size_t payload_len);

#endif
