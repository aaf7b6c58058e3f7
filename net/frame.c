#include "net/frame.h"

#include <string.h>

#include "common/inet_csum.h"

#define IP_VERSION_4     4
#define IP_FLAG_MF       0x2000u /* more fragments */
#define IP_OFFSET_MASK   0x1fffu
#define IP_DEFAULT_TTL   64

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

bool frame_parse_udp4(const uint8_t *frame, size_t len, struct udp4_view *v)
{
	if (len < NET_ETH_HLEN + NET_IPV4_HLEN + NET_UDP_HLEN || be16(frame + 12) != NET_ETH_P_IP)
		return false;
	const uint8_t *ip = frame + NET_ETH_HLEN;
	size_t ip_room = len - NET_ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	size_t total = be16(ip + 2);
	if (ip[0] >> 4 != IP_VERSION_4 || ihl < NET_IPV4_HLEN || total < ihl + NET_UDP_HLEN || total > ip_room ||
	    ip[9] != NET_IPPROTO_UDP || (be16(ip + 6) & (IP_FLAG_MF | IP_OFFSET_MASK)))
		return false;
	const uint8_t *udp = ip + ihl;
	size_t udp_len = be16(udp + 4);
	if (udp_len < NET_UDP_HLEN || udp_len > total - ihl)
		return false;
	v->dst_mac = frame;
	v->src_mac = frame + NET_ETH_ALEN;
	v->src_ip = be32(ip + 12);
	v->dst_ip = be32(ip + 16);
	v->src_port = be16(udp);
	v->dst_port = be16(udp + 2);
	v->payload = udp + NET_UDP_HLEN;
	v->payload_len = udp_len - NET_UDP_HLEN;
	return true;
}

size_t frame_build_udp4(uint8_t *out, size_t cap, const uint8_t dst_mac[NET_ETH_ALEN],
			const uint8_t src_mac[NET_ETH_ALEN], uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
			uint16_t dst_port, uint16_t ip_id, const uint8_t *payload, size_t payload_len)
{
	size_t udp_len = NET_UDP_HLEN + payload_len, ip_len = NET_IPV4_HLEN + udp_len;
	size_t len = NET_ETH_HLEN + ip_len;
	if (payload_len > 0xffff - NET_IPV4_HLEN - NET_UDP_HLEN || len > cap)
		return 0;
	memcpy(out, dst_mac, NET_ETH_ALEN);
	memcpy(out + NET_ETH_ALEN, src_mac, NET_ETH_ALEN);
	put16(out + 12, NET_ETH_P_IP);
	uint8_t *ip = out + NET_ETH_HLEN, *udp = ip + NET_IPV4_HLEN;
	memset(ip, 0, NET_IPV4_HLEN);
	ip[0] = IP_VERSION_4 << 4 | NET_IPV4_HLEN / 4;
	put16(ip + 2, (uint16_t)ip_len);
	put16(ip + 4, ip_id);
	ip[8] = IP_DEFAULT_TTL;
	ip[9] = NET_IPPROTO_UDP;
	put32(ip + 12, src_ip);
	put32(ip + 16, dst_ip);
	put16(ip + 10, inet_csum_finish(inet_csum_add(0, ip, NET_IPV4_HLEN)));
	put16(udp, src_port);
	put16(udp + 2, dst_port);
	put16(udp + 4, (uint16_t)udp_len);
	put16(udp + 6, 0);
	memmove(udp + NET_UDP_HLEN, payload, payload_len);
	/* The UDP checksum covers a pseudo-header: addresses, protocol, length. 0 means "none": send 0xffff. */
	uint64_t sum = inet_csum_add(0, ip + 12, 8);
	sum = inet_csum_add16(sum, NET_IPPROTO_UDP);
	sum = inet_csum_add16(sum, (uint16_t)udp_len);
	sum = inet_csum_add(sum, udp, udp_len);
	uint16_t c = inet_csum_finish(sum);
	put16(udp + 6, c ? c : 0xffff);
	return len;
}
