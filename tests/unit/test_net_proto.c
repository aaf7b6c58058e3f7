/* The network's own protocol pieces, fed the messages real clients send: Ethernet/IPv4/UDP frames
 * (net/frame), the hermetic DHCP server (net/dhcp_server) with busybox udhcpc's and dhcpcd's message
 * shapes, the DNS server (net/dns_server) with A, AAAA and EDNS queries, and the mirror's HTTP request
 * parser (net/http_request) with what curl and busybox wget send, plus the malformed inputs a guest can
 * make up. */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "common/inet_csum.h"
#include "net/dhcp_server.h"
#include "net/dns_server.h"
#include "net/frame.h"
#include "net/http_request.h"
#include "common/layout.h"

static const uint8_t guest_mac[6] = LAYOUT_NET_GUEST_MAC;
static const uint8_t host_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

/* ---- frames ---- */

START_TEST(udp_frame_round_trip)
{
	uint8_t payload[100], frame[NET_FRAME_MAX];
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 3);
	size_t len = frame_build_udp4(frame, sizeof(frame), guest_mac, host_mac, LAYOUT_NET_DNS, LAYOUT_NET_GUEST, 53,
				      40000, 7, payload, sizeof(payload));
	ck_assert_uint_eq(len, 14 + 20 + 8 + 100);
	/* Both checksums verify as a receiver checks them. */
	ck_assert_uint_eq(inet_csum_fold(inet_csum_add(0, frame + 14, 20)), 0xffff);
	uint64_t s = inet_csum_add(0, frame + 26, 8);
	s = inet_csum_add16(s, 17);
	s = inet_csum_add16(s, 108);
	s = inet_csum_add(s, frame + 34, 108);
	ck_assert_uint_eq(inet_csum_fold(s), 0xffff);
	struct udp4_view v;
	ck_assert(frame_parse_udp4(frame, len, &v));
	ck_assert_mem_eq(v.dst_mac, guest_mac, 6);
	ck_assert_mem_eq(v.src_mac, host_mac, 6);
	ck_assert_uint_eq(v.src_ip, LAYOUT_NET_DNS);
	ck_assert_uint_eq(v.dst_ip, LAYOUT_NET_GUEST);
	ck_assert_uint_eq(v.src_port, 53);
	ck_assert_uint_eq(v.dst_port, 40000);
	ck_assert_uint_eq(v.payload_len, 100);
	ck_assert_mem_eq(v.payload, payload, 100);
	/* Too small a buffer: nothing built. */
	ck_assert_uint_eq(frame_build_udp4(frame, 100, guest_mac, host_mac, 1, 2, 3, 4, 0, payload, 100), 0);
}
END_TEST

START_TEST(udp_frame_rejects)
{
	uint8_t payload[20] = { 0 }, frame[NET_FRAME_MAX], bad[NET_FRAME_MAX];
	size_t len = frame_build_udp4(frame, sizeof(frame), guest_mac, host_mac, 1, 2, 3, 4, 0, payload, sizeof(payload));
	struct udp4_view v;
	for (size_t cut = 0; cut < len; cut++)
		ck_assert(!frame_parse_udp4(frame, cut, &v) || cut >= 14 + 20 + 8 + 20);
	memcpy(bad, frame, len);
	bad[12] = 0x86; /* not IPv4 */
	ck_assert(!frame_parse_udp4(bad, len, &v));
	memcpy(bad, frame, len);
	bad[14 + 6] = 0x20; /* more fragments */
	ck_assert(!frame_parse_udp4(bad, len, &v));
	memcpy(bad, frame, len);
	bad[14] = 0x44; /* header shorter than 20 bytes */
	ck_assert(!frame_parse_udp4(bad, len, &v));
	memcpy(bad, frame, len);
	bad[14 + 3] = 0xff; /* total length past the frame */
	ck_assert(!frame_parse_udp4(bad, len, &v));
	memcpy(bad, frame, len);
	bad[14 + 20 + 5] = 200; /* UDP length past the packet */
	ck_assert(!frame_parse_udp4(bad, len, &v));
	memcpy(bad, frame, len);
	bad[14 + 9] = 6; /* TCP */
	ck_assert(!frame_parse_udp4(bad, len, &v));
	/* Ethernet padding after the packet is fine. */
	memcpy(bad, frame, len);
	ck_assert(frame_parse_udp4(bad, len + 10, &v));
	ck_assert_uint_eq(v.payload_len, 20);
}
END_TEST

/* ---- DHCP ---- */

static const struct dhcp_plan plan = {
	.server = LAYOUT_NET_HOST, .client = LAYOUT_NET_GUEST, .netmask = LAYOUT_NET_NETMASK,
	.router = LAYOUT_NET_HOST, .dns = LAYOUT_NET_DNS, .lease_s = 86400,
};

/* A client message: type, then optional requested address and server id (0: absent). */
static size_t dhcp_msg(uint8_t *m, uint8_t type, uint32_t ciaddr, uint32_t requested, uint32_t server)
{
	memset(m, 0, 548);
	m[0] = 1;
	m[1] = 1;
	m[2] = 6;
	memcpy(m + 4, "\x39\x03\xf3\x26", 4);
	m[10] = 0x80; /* broadcast flag, as udhcpc sets it */
	m[12] = (uint8_t)(ciaddr >> 24), m[13] = (uint8_t)(ciaddr >> 16), m[14] = (uint8_t)(ciaddr >> 8), m[15] = (uint8_t)ciaddr;
	memcpy(m + 28, guest_mac, 6);
	memcpy(m + 236, "\x63\x82\x53\x63", 4);
	uint8_t *p = m + 240;
	*p++ = 53, *p++ = 1, *p++ = type;
	*p++ = 61, *p++ = 7, *p++ = 1; /* client identifier */
	memcpy(p, guest_mac, 6);
	p += 6;
	if (requested) {
		*p++ = 50, *p++ = 4;
		*p++ = (uint8_t)(requested >> 24), *p++ = (uint8_t)(requested >> 16), *p++ = (uint8_t)(requested >> 8),
		*p++ = (uint8_t)requested;
	}
	if (server) {
		*p++ = 54, *p++ = 4;
		*p++ = (uint8_t)(server >> 24), *p++ = (uint8_t)(server >> 16), *p++ = (uint8_t)(server >> 8),
		*p++ = (uint8_t)server;
	}
	*p++ = 55, *p++ = 4, *p++ = 1, *p++ = 3, *p++ = 6, *p++ = 15; /* parameter request list */
	*p++ = 255;
	return (size_t)(p - m);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The value of option `code` in a reply (4-byte options), or 0 with *found false. */
static uint32_t reply_option(const uint8_t *r, size_t len, uint8_t code, bool *found)
{
	*found = false;
	for (size_t i = 240; i + 1 < len && r[i] != 255;) {
		if (r[i] == 0) {
			i++;
			continue;
		}
		if (r[i] == code) {
			*found = true;
			return r[i + 1] == 1 ? r[i + 2] : be32(r + i + 2);
		}
		i += 2 + r[i + 1];
	}
	return 0;
}

START_TEST(dhcp_discover_request_ack)
{
	uint8_t m[548], r[DHCP_REPLY_MAX];
	uint32_t dst = 0;
	bool found;
	size_t len = dhcp_answer(&plan, m, dhcp_msg(m, 1, 0, 0, 0), r, &dst);
	ck_assert_uint_ge(len, 300);
	ck_assert_uint_eq(r[0], 2);
	ck_assert_mem_eq(r + 4, m + 4, 4);
	ck_assert_uint_eq(be32(r + 16), LAYOUT_NET_GUEST);
	ck_assert_mem_eq(r + 28, guest_mac, 6);
	ck_assert_uint_eq(dst, 0xffffffffu);
	ck_assert_uint_eq(reply_option(r, len, 53, &found), 2); /* OFFER */
	ck_assert_uint_eq(reply_option(r, len, 54, &found), LAYOUT_NET_HOST);
	ck_assert_uint_eq(reply_option(r, len, 1, &found), LAYOUT_NET_NETMASK);
	ck_assert_uint_eq(reply_option(r, len, 3, &found), LAYOUT_NET_HOST);
	ck_assert_uint_eq(reply_option(r, len, 6, &found), LAYOUT_NET_DNS);
	ck_assert(found);
	ck_assert_uint_eq(reply_option(r, len, 51, &found), 86400);

	len = dhcp_answer(&plan, m, dhcp_msg(m, 3, 0, LAYOUT_NET_GUEST, LAYOUT_NET_HOST), r, &dst);
	ck_assert_uint_eq(reply_option(r, len, 53, &found), 5); /* ACK */
	ck_assert_uint_eq(be32(r + 16), LAYOUT_NET_GUEST);
	/* Renewal: unicast to the client's address. */
	len = dhcp_answer(&plan, m, dhcp_msg(m, 3, LAYOUT_NET_GUEST, 0, 0), r, &dst);
	ck_assert_uint_eq(reply_option(r, len, 53, &found), 5);
	ck_assert_uint_eq(dst, LAYOUT_NET_GUEST);
	/* Another address: NAK, no lease. */
	len = dhcp_answer(&plan, m, dhcp_msg(m, 3, 0, 0x0a000263u, 0), r, &dst);
	ck_assert_uint_eq(reply_option(r, len, 53, &found), 6);
	ck_assert_uint_eq(be32(r + 16), 0);
	reply_option(r, len, 3, &found);
	ck_assert(!found);
	/* INFORM: configuration, no address. */
	len = dhcp_answer(&plan, m, dhcp_msg(m, 8, LAYOUT_NET_GUEST, 0, 0), r, &dst);
	ck_assert_uint_eq(reply_option(r, len, 53, &found), 5);
	ck_assert_uint_eq(be32(r + 16), 0);
	ck_assert_uint_eq(reply_option(r, len, 6, &found), LAYOUT_NET_DNS);
}
END_TEST

START_TEST(dhcp_ignores_and_rejects)
{
	uint8_t m[548], r[DHCP_REPLY_MAX];
	uint32_t dst;
	/* For another server, a release, a decline: no answer. */
	ck_assert_uint_eq(dhcp_answer(&plan, m, dhcp_msg(m, 3, 0, LAYOUT_NET_GUEST, 0x0a000201u), r, &dst), 0);
	ck_assert_uint_eq(dhcp_answer(&plan, m, dhcp_msg(m, 7, LAYOUT_NET_GUEST, 0, LAYOUT_NET_HOST), r, &dst), 0);
	ck_assert_uint_eq(dhcp_answer(&plan, m, dhcp_msg(m, 4, 0, LAYOUT_NET_GUEST, LAYOUT_NET_HOST), r, &dst), 0);
	/* Malformed: a reply, another hardware type, no cookie, options running off the end, truncated. */
	size_t len = dhcp_msg(m, 1, 0, 0, 0);
	m[0] = 2;
	ck_assert_uint_eq(dhcp_answer(&plan, m, len, r, &dst), 0);
	m[0] = 1;
	m[1] = 6;
	ck_assert_uint_eq(dhcp_answer(&plan, m, len, r, &dst), 0);
	m[1] = 1;
	m[236] = 0;
	ck_assert_uint_eq(dhcp_answer(&plan, m, len, r, &dst), 0);
	len = dhcp_msg(m, 1, 0, 0, 0);
	m[244] = 200; /* the client identifier claims 200 bytes */
	ck_assert_uint_eq(dhcp_answer(&plan, m, len, r, &dst), 0);
	len = dhcp_msg(m, 1, 0, 0, 0);
	for (size_t cut = 0; cut < 243; cut++)
		ck_assert_uint_eq(dhcp_answer(&plan, m, cut, r, &dst), 0);
	/* No message type option: plain BOOTP, not answered. */
	len = dhcp_msg(m, 1, 0, 0, 0);
	m[240] = 0, m[241] = 0, m[242] = 0;
	ck_assert_uint_eq(dhcp_answer(&plan, m, len, r, &dst), 0);
}
END_TEST

/* ---- DNS ---- */

static size_t dns_query(uint8_t *q, const char *name, uint16_t type, bool edns)
{
	memset(q, 0, 512);
	q[0] = 0xab, q[1] = 0xcd;
	q[2] = 0x01; /* RD */
	q[5] = 1;
	q[11] = edns;
	size_t i = 12;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		q[i++] = (uint8_t)l;
		memcpy(q + i, p, l);
		i += l;
		p += l + (dot ? 1 : 0);
	}
	q[i++] = 0;
	q[i++] = (uint8_t)(type >> 8), q[i++] = (uint8_t)type;
	q[i++] = 0, q[i++] = 1;
	if (edns) {
		static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };
		memcpy(q + i, opt, sizeof(opt));
		i += sizeof(opt);
	}
	return i;
}

START_TEST(dns_every_name_is_the_mirror)
{
	uint8_t q[512], r[DNS_REPLY_MAX];
	size_t qlen = dns_query(q, "example.com", 1, false);
	size_t len = dns_answer(q, qlen, LAYOUT_NET_MIRROR, r);
	ck_assert_uint_eq(len, qlen + 16);
	ck_assert_uint_eq(r[0], 0xab);
	ck_assert_uint_eq(r[1], 0xcd);
	ck_assert_uint_eq(r[2] & 0x80, 0x80); /* a response */
	ck_assert_uint_eq(r[2] & 0x01, 0x01); /* RD copied */
	ck_assert_uint_eq(r[3] & 0x0f, 0);   /* NOERROR */
	ck_assert_uint_eq(r[7], 1);          /* one answer */
	ck_assert_mem_eq(r + 12, q + 12, qlen - 12);
	const uint8_t *a = r + qlen;
	ck_assert_uint_eq(a[0], 0xc0);
	ck_assert_uint_eq(a[1], 12);
	ck_assert_uint_eq(a[3], 1);
	ck_assert_uint_eq(be32(a + 12), LAYOUT_NET_MIRROR);
	/* EDNS and a long name: answered all the same (the OPT record is not echoed). */
	qlen = dns_query(q, "ftp.gnu.org", 1, true);
	len = dns_answer(q, qlen, LAYOUT_NET_MIRROR, r);
	ck_assert_uint_eq(len, qlen - 11 + 16);
	ck_assert_uint_eq(r[11], 0);
	/* AAAA: no data, so clients use IPv4. */
	qlen = dns_query(q, "example.com", 28, false);
	len = dns_answer(q, qlen, LAYOUT_NET_MIRROR, r);
	ck_assert_uint_eq(len, qlen);
	ck_assert_uint_eq(r[3] & 0x0f, 0);
	ck_assert_uint_eq(r[7], 0);
}
END_TEST

START_TEST(dns_refuses_what_is_not_a_query)
{
	uint8_t q[512], r[DNS_REPLY_MAX];
	size_t qlen = dns_query(q, "example.com", 1, false);
	ck_assert_uint_eq(dns_answer(q, 11, LAYOUT_NET_MIRROR, r), 0);
	q[2] |= 0x80; /* a response: ignored */
	ck_assert_uint_eq(dns_answer(q, qlen, LAYOUT_NET_MIRROR, r), 0);
	q[2] = 0x10; /* opcode 2 (status): not implemented */
	ck_assert_uint_eq(dns_answer(q, qlen, LAYOUT_NET_MIRROR, r), 12);
	ck_assert_uint_eq(r[3] & 0x0f, 4);
	q[2] = 0x01;
	for (size_t cut = 12; cut < qlen; cut++) { /* truncated question: FORMERR */
		ck_assert_uint_eq(dns_answer(q, cut, LAYOUT_NET_MIRROR, r), 12);
		ck_assert_uint_eq(r[3] & 0x0f, 1);
	}
	q[5] = 2; /* two questions */
	ck_assert_uint_eq(dns_answer(q, qlen, LAYOUT_NET_MIRROR, r), 12);
	q[5] = 1;
	q[12] = 0xc0; /* a compression pointer in a query */
	ck_assert_uint_eq(dns_answer(q, qlen, LAYOUT_NET_MIRROR, r), 12);
	/* A label longer than 63, a name longer than 255. */
	memset(q + 12, 'a', 300);
	q[12] = 64;
	ck_assert_uint_eq(dns_answer(q, 400, LAYOUT_NET_MIRROR, r), 12);
	for (unsigned i = 0; i < 5; i++)
		q[12 + i * 64] = 63;
	q[12 + 5 * 64] = 0;
	ck_assert_uint_eq(dns_answer(q, 12 + 5 * 64 + 5, LAYOUT_NET_MIRROR, r), 12);
	ck_assert_uint_eq(r[3] & 0x0f, 1);
}
END_TEST

/* ---- HTTP requests ---- */

static int parse(const char *text, struct http_request *req)
{
	return http_parse_request(text, strlen(text), req);
}

START_TEST(http_requests_clients_send)
{
	struct http_request req;
	/* curl 8 */
	ck_assert_int_eq(parse("GET /gcc-13.2.0.tar.xz HTTP/1.1\r\nHost: 10.0.2.4\r\nUser-Agent: curl/8.12.1\r\n"
			       "Accept: */*\r\n\r\n", &req), 1);
	ck_assert_int_eq(req.method, HTTP_GET);
	ck_assert_str_eq(req.path, "/gcc-13.2.0.tar.xz");
	/* busybox wget */
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n", &req), 1);
	ck_assert_str_eq(req.path, "/");
	ck_assert_int_eq(parse("HEAD /x HTTP/1.0\n\n", &req), 1);
	ck_assert_int_eq(req.method, HTTP_HEAD);
	/* escapes, query, absolute form */
	ck_assert_int_eq(parse("GET /a%2Bb%20c?x=1 HTTP/1.1\r\n\r\n", &req), -1); /* a decoded space */
	ck_assert_int_eq(parse("GET /a%2Bb.tar?x=1#f HTTP/1.1\r\n\r\n", &req), 1);
	ck_assert_str_eq(req.path, "/a+b.tar");
	ck_assert_int_eq(parse("GET http://mirror.invalid/pkg.tar.gz HTTP/1.1\r\n\r\n", &req), 1);
	ck_assert_str_eq(req.path, "/pkg.tar.gz");
	ck_assert_int_eq(parse("GET http://mirror.invalid HTTP/1.1\r\n\r\n", &req), 1);
	ck_assert_str_eq(req.path, "/");
	ck_assert_int_eq(parse("DELETE /x HTTP/1.1\r\n\r\n", &req), 1);
	ck_assert_int_eq(req.method, HTTP_OTHER);
	/* not yet complete */
	ck_assert_int_eq(parse("GET /x HTTP/1.1\r\nHost: a\r\n", &req), 0);
	ck_assert_int_eq(parse("", &req), 0);
}
END_TEST

START_TEST(http_requests_refused)
{
	struct http_request req;
	const char *bad[] = {
		"GET\r\n\r\n", "GET /x\r\n\r\n", "GET  HTTP/1.1\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
		"GET /%zz HTTP/1.1\r\n\r\n", "GET /%0 HTTP/1.1\r\n\r\n", "GET /a%00b HTTP/1.1\r\n\r\n",
		"GET /a%0ab HTTP/1.1\r\n\r\n", "GET /\x80 HTTP/1.1\r\n\r\n",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(parse(bad[i], &req), -1);
		ck_assert_int_eq(req.status, 400);
	}
	ck_assert_int_eq(parse("GET / HTTP/2.0\r\n\r\n", &req), -1);
	ck_assert_int_eq(req.status, 505);
	ck_assert_int_eq(parse("GET / SPDY\r\n\r\n", &req), -1);
	static char big[HTTP_HEAD_MAX + 100];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	ck_assert_int_eq(http_parse_request(big, sizeof(big), &req), -1);
	ck_assert_int_eq(req.status, 431);
	char longpath[HTTP_PATH_MAX + 64];
	memset(longpath, 'b', sizeof(longpath));
	memcpy(longpath, "GET /", 5);
	memcpy(longpath + sizeof(longpath) - 15, " HTTP/1.1\r\n\r\n", 14);
	longpath[sizeof(longpath) - 1] = 0;
	ck_assert_int_eq(parse(longpath, &req), -1);
	ck_assert_int_eq(req.status, 414);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net-proto");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, udp_frame_round_trip);
	tcase_add_test(tc, udp_frame_rejects);
	tcase_add_test(tc, dhcp_discover_request_ack);
	tcase_add_test(tc, dhcp_ignores_and_rejects);
	tcase_add_test(tc, dns_every_name_is_the_mirror);
	tcase_add_test(tc, dns_refuses_what_is_not_a_query);
	tcase_add_test(tc, http_requests_clients_send);
	tcase_add_test(tc, http_requests_refused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
