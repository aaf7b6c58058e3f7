#include "net/dhcp_server.h"

#include <string.h>

/* BOOTP message (RFC 951/2131): fixed part, then the magic cookie and the options. */
#define BOOTP_OP          0
#define BOOTP_HTYPE       1
#define BOOTP_HLEN        2
#define BOOTP_XID         4
#define BOOTP_FLAGS       10
#define BOOTP_CIADDR      12
#define BOOTP_YIADDR      16
#define BOOTP_SIADDR      20
#define BOOTP_GIADDR      24
#define BOOTP_CHADDR      28
#define BOOTP_FIXED       236
#define BOOTP_COOKIE      236
#define BOOTP_OPTIONS     240
#define BOOTP_MIN_REPLY   300
#define BOOTREQUEST       1
#define BOOTREPLY         2
#define HTYPE_ETHERNET    1
#define ETH_ALEN          6
static const uint8_t cookie[4] = { 99, 130, 83, 99 };

/* Options. */
#define OPT_PAD           0
#define OPT_NETMASK       1
#define OPT_ROUTER        3
#define OPT_DNS           6
#define OPT_REQUESTED_IP  50
#define OPT_LEASE_TIME    51
#define OPT_MSG_TYPE      53
#define OPT_SERVER_ID     54
#define OPT_END           255

/* Message types. */
#define DHCPDISCOVER      1
#define DHCPOFFER         2
#define DHCPREQUEST       3
#define DHCPDECLINE       4
#define DHCPACK           5
#define DHCPNAK           6
#define DHCPRELEASE       7
#define DHCPINFORM        8

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct request_options {
	int type;              /* 0 when absent */
	bool has_requested, has_server;
	uint32_t requested, server;
};

/* Walk the options; false when they run past the message. */
static bool parse_options(const uint8_t *msg, size_t len, struct request_options *o)
{
	memset(o, 0, sizeof(*o));
	size_t i = BOOTP_OPTIONS;
	while (i < len) {
		uint8_t code = msg[i++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return true;
		if (i >= len || msg[i] > len - i - 1)
			return false;
		uint8_t olen = msg[i++];
		const uint8_t *v = msg + i;
		if (code == OPT_MSG_TYPE && olen == 1)
			o->type = v[0];
		else if (code == OPT_REQUESTED_IP && olen == 4)
			o->has_requested = true, o->requested = be32(v);
		else if (code == OPT_SERVER_ID && olen == 4)
			o->has_server = true, o->server = be32(v);
		i += olen;
	}
	return true; /* no END option: accepted, as most servers do */
}

static uint8_t *option32(uint8_t *p, uint8_t code, uint32_t v)
{
	*p++ = code;
	*p++ = 4;
	put32(p, v);
	return p + 4;
}

size_t dhcp_answer(const struct dhcp_plan *plan, const uint8_t *msg, size_t len, uint8_t *out, uint32_t *dst_ip)
{
	if (len < BOOTP_OPTIONS || msg[BOOTP_OP] != BOOTREQUEST || msg[BOOTP_HTYPE] != HTYPE_ETHERNET ||
	    msg[BOOTP_HLEN] != ETH_ALEN || memcmp(msg + BOOTP_COOKIE, cookie, sizeof(cookie)))
		return 0;
	struct request_options o;
	if (!parse_options(msg, len, &o))
		return 0;
	uint32_t ciaddr = be32(msg + BOOTP_CIADDR);
	uint8_t reply;
	uint32_t yiaddr = plan->client;
	switch (o.type) {
	case DHCPDISCOVER:
		reply = DHCPOFFER;
		break;
	case DHCPREQUEST: {
		if (o.has_server && o.server != plan->server)
			return 0; /* the client took another server's offer */
		uint32_t wanted = o.has_requested ? o.requested : ciaddr;
		reply = wanted == plan->client ? DHCPACK : DHCPNAK;
		break;
	}
	case DHCPINFORM:
		reply = DHCPACK;
		yiaddr = 0;
		break;
	default:
		return 0; /* DECLINE, RELEASE, plain BOOTP, unknown */
	}
	memset(out, 0, DHCP_REPLY_MAX);
	out[BOOTP_OP] = BOOTREPLY;
	out[BOOTP_HTYPE] = HTYPE_ETHERNET;
	out[BOOTP_HLEN] = ETH_ALEN;
	memcpy(out + BOOTP_XID, msg + BOOTP_XID, 4);
	memcpy(out + BOOTP_FLAGS, msg + BOOTP_FLAGS, 2);
	memcpy(out + BOOTP_CIADDR, msg + BOOTP_CIADDR, 4);
	if (reply != DHCPNAK)
		put32(out + BOOTP_YIADDR, yiaddr);
	put32(out + BOOTP_SIADDR, plan->server);
	memcpy(out + BOOTP_GIADDR, msg + BOOTP_GIADDR, 4);
	memcpy(out + BOOTP_CHADDR, msg + BOOTP_CHADDR, 16);
	memcpy(out + BOOTP_COOKIE, cookie, sizeof(cookie));
	uint8_t *p = out + BOOTP_OPTIONS;
	*p++ = OPT_MSG_TYPE;
	*p++ = 1;
	*p++ = reply;
	p = option32(p, OPT_SERVER_ID, plan->server);
	if (reply != DHCPNAK) {
		if (o.type != DHCPINFORM)
			p = option32(p, OPT_LEASE_TIME, plan->lease_s);
		p = option32(p, OPT_NETMASK, plan->netmask);
		p = option32(p, OPT_ROUTER, plan->router);
		p = option32(p, OPT_DNS, plan->dns);
	}
	*p++ = OPT_END;
	size_t n = (size_t)(p - out);
	*dst_ip = (ciaddr && reply != DHCPNAK) ? ciaddr : UINT32_C(0xffffffff);
	return n < BOOTP_MIN_REPLY ? BOOTP_MIN_REPLY : n;
}
