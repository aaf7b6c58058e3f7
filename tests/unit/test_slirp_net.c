/* The user-mode network on its own thread with the real libslirp, seen from the guest's side of the wire:
 * the test sends the frames a guest sends (ARP, DHCP, DNS, TCP SYNs, UDP, ICMP) and captures what comes
 * back. Hermetic mode: DHCP and DNS answered inside lbvm, TCP to the mirror address reaches the mirror's
 * socket, TCP anywhere else is reset and nothing leaves (a listener on the host's loopback sees no
 * connection). Online mode: TCP to the gateway reaches the host's loopback, as under QEMU's -nic user.
 * And frames held while the NIC has no buffer come in order once it has. */
#include "check_run.h"
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/inet_csum.h"
#include "net/frame.h"
#include "net/slirp_net.h"
#include "common/layout.h"

#define MAX_FRAMES 256
#define WAIT_MS    3000
#define QUIET_MS   400

static const uint8_t guest_mac[6] = LAYOUT_NET_GUEST_MAC;
static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t frame[MAX_FRAMES][1600];
	size_t len[MAX_FRAMES];
	unsigned n;
	bool full;          /* the "NIC" refuses frames (-EAGAIN) */
} cap = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static int deliver(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	pthread_mutex_lock(&cap.lock);
	if (cap.full) {
		pthread_mutex_unlock(&cap.lock);
		return -EAGAIN;
	}
	if (cap.n < MAX_FRAMES && len <= sizeof(cap.frame[0])) {
		memcpy(cap.frame[cap.n], frame, len);
		cap.len[cap.n++] = len;
	}
	pthread_cond_broadcast(&cap.cond);
	pthread_mutex_unlock(&cap.lock);
	return 0;
}

static struct slirp_net *net;
static char sock_dir[] = "/tmp/lbvm-slirp-XXXXXX";
static char sock_path[96];
static int mirror_listen = -1;

static void start(bool hermetic, bool mirror)
{
	cap.n = 0;
	cap.full = false;
	if (mirror) {
		strcpy(sock_dir, "/tmp/lbvm-slirp-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(sock_dir));
		snprintf(sock_path, sizeof(sock_path), "%s/m.sock", sock_dir);
		mirror_listen = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		ck_assert_int_eq(bind(mirror_listen, (struct sockaddr *)&sa, sizeof(sa)), 0);
		ck_assert_int_eq(listen(mirror_listen, 4), 0);
	}
	struct slirp_net_config cfg = { .vm_fd = -1, .hermetic = hermetic, .mirror_socket = mirror ? sock_path : NULL,
					.deliver = deliver };
	struct error err = { 0 };
	ck_assert_int_eq(slirp_net_start(&cfg, &net, &err), 0);
}

static void stop(void)
{
	slirp_net_stop(net);
	net = NULL;
	if (mirror_listen >= 0) {
		close(mirror_listen);
		mirror_listen = -1;
		unlink(sock_path);
		rmdir(sock_dir);
	}
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, type);
	return 14;
}

static void send_arp_request(uint32_t target)
{
	uint8_t f[60] = { 0 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t o = eth(f, bcast, 0x0806);
	put16(f + o, 1);
	put16(f + o + 2, 0x0800);
	f[o + 4] = 6;
	f[o + 5] = 4;
	put16(f + o + 6, 1); /* request */
	memcpy(f + o + 8, guest_mac, 6);
	put32(f + o + 14, LAYOUT_NET_GUEST);
	put32(f + o + 24, target);
	slirp_net_send(net, f, sizeof(f));
}

static size_t ipv4(uint8_t *f, size_t o, uint8_t proto, uint32_t dst, size_t payload)
{
	uint8_t *ip = f + o;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + payload));
	put16(ip + 4, 0x4242);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, LAYOUT_NET_GUEST);
	put32(ip + 16, dst);
	put16(ip + 10, inet_csum_finish(inet_csum_add(0, ip, 20)));
	return o + 20;
}

static void send_tcp(uint32_t dst, uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack)
{
	uint8_t f[60] = { 0 };
	size_t o = ipv4(f, eth(f, gw_mac, 0x0800), 6, dst, 20);
	uint8_t *tcp = f + o;
	put16(tcp, 40001);
	put16(tcp + 2, port);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	uint64_t s = inet_csum_add(0, f + 26, 8);
	s = inet_csum_add16(s, 6);
	s = inet_csum_add16(s, 20);
	put16(tcp + 16, inet_csum_finish(inet_csum_add(s, tcp, 20)));
	slirp_net_send(net, f, 14 + 20 + 20);
}

static void send_tcp_syn(uint32_t dst, uint16_t port)
{
	send_tcp(dst, port, 0x02, 1000, 0);
}

static void send_udp(uint32_t dst, uint16_t port, const uint8_t *payload, size_t len)
{
	uint8_t f[NET_FRAME_MAX];
	size_t n = frame_build_udp4(f, sizeof(f), gw_mac, guest_mac, LAYOUT_NET_GUEST, dst, 40002, port, 1, payload, len);
	ck_assert_uint_gt(n, 0);
	slirp_net_send(net, f, n);
}

static void send_ping(uint32_t dst)
{
	uint8_t f[14 + 20 + 16] = { 0 };
	size_t o = ipv4(f, eth(f, gw_mac, 0x0800), 1, dst, 16);
	f[o] = 8; /* echo request */
	put16(f + o + 4, 7);
	put16(f + o + 6, 1);
	memcpy(f + o + 8, "lbvmping", 8);
	put16(f + o + 2, inet_csum_finish(inet_csum_add(0, f + o, 16)));
	slirp_net_send(net, f, sizeof(f));
}

/* The index of the first captured frame from `from` that matches, waiting up to ms; -1 if none came. */
typedef bool (*match_fn)(const uint8_t *f, size_t len, uint32_t arg);

static int wait_for(match_fn match, uint32_t arg, unsigned from, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&cap.lock);
	int found = -1;
	for (;;) {
		for (unsigned i = from; i < cap.n && found < 0; i++)
			if (match(cap.frame[i], cap.len[i], arg))
				found = (int)i;
		if (found >= 0 || pthread_cond_timedwait(&cap.cond, &cap.lock, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&cap.lock);
	return found;
}

static bool is_arp_reply_for(const uint8_t *f, size_t len, uint32_t ip)
{
	return len >= 42 && be16(f + 12) == 0x0806 && be16(f + 20) == 2 && be32(f + 28) == ip;
}

static bool is_tcp(const uint8_t *f, size_t len, uint32_t unused)
{
	(void)unused;
	return len >= 54 && be16(f + 12) == 0x0800 && f[23] == 6;
}

static bool is_udp_from_port(const uint8_t *f, size_t len, uint32_t port)
{
	struct udp4_view v;
	return frame_parse_udp4(f, len, &v) && v.src_port == port;
}

static bool is_icmp(const uint8_t *f, size_t len, uint32_t unused)
{
	(void)unused;
	return len >= 34 && be16(f + 12) == 0x0800 && f[23] == 1;
}

static bool any_frame(const uint8_t *f, size_t len, uint32_t unused)
{
	(void)f;
	(void)len;
	(void)unused;
	return true;
}

/* The TCP flags of captured frame i. */
static uint8_t tcp_flags(int i)
{
	return cap.frame[i][14 + 20 + 13];
}

static bool host_listener_saw_connection(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1;
}

static int loopback_listener(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	socklen_t sl = sizeof(sa);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

START_TEST(hermetic_dhcp_and_dns_inside_lbvm)
{
	start(true, true);
	/* DHCP DISCOVER (udhcpc's shape, trimmed) */
	uint8_t m[300] = { 1, 1, 6, 0, 1, 2, 3, 4 };
	memcpy(m + 28, guest_mac, 6);
	memcpy(m + 236, "\x63\x82\x53\x63\x35\x01\x01\xff", 8);
	uint8_t f[NET_FRAME_MAX];
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	size_t n = frame_build_udp4(f, sizeof(f), bcast, guest_mac, 0, 0xffffffffu, 68, 67, 1, m, sizeof(m));
	slirp_net_send(net, f, n);
	int i = wait_for(is_udp_from_port, 67, 0, WAIT_MS);
	ck_assert_int_ge(i, 0);
	struct udp4_view v;
	ck_assert(frame_parse_udp4(cap.frame[i], cap.len[i], &v));
	ck_assert_uint_eq(v.src_ip, LAYOUT_NET_HOST);
	ck_assert_uint_eq(v.dst_port, 68);
	ck_assert_uint_eq(be32(v.payload + 16), LAYOUT_NET_GUEST); /* yiaddr */
	/* DNS for example.com: the mirror's address */
	static const uint8_t q[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				     3, 'c', 'o', 'm', 0, 0, 1, 0, 1 };
	send_udp(LAYOUT_NET_DNS, 53, q, sizeof(q));
	i = wait_for(is_udp_from_port, 53, 0, WAIT_MS);
	ck_assert_int_ge(i, 0);
	ck_assert(frame_parse_udp4(cap.frame[i], cap.len[i], &v));
	ck_assert_uint_eq(v.src_ip, LAYOUT_NET_DNS);
	ck_assert_uint_eq(v.dst_ip, LAYOUT_NET_GUEST);
	ck_assert_uint_eq(v.dst_port, 40002);
	ck_assert_uint_eq(be32(v.payload + v.payload_len - 4), LAYOUT_NET_MIRROR);
	/* DNS to a server outside: no answer, and nothing else comes back either. */
	unsigned before = cap.n;
	send_udp(0x08080808u, 53, q, sizeof(q));
	ck_assert_int_lt(wait_for(any_frame, 0, before, QUIET_MS), 0);
	struct slirp_net_stats s = slirp_net_stats(net);
	ck_assert_uint_eq(s.dhcp_replies, 1);
	ck_assert_uint_eq(s.dns_replies, 1);
	stop();
}
END_TEST

START_TEST(hermetic_only_the_mirror_is_reachable)
{
	start(true, true);
	uint16_t port;
	int host = loopback_listener(&port);
	send_arp_request(LAYOUT_NET_MIRROR);
	ck_assert_int_ge(wait_for(is_arp_reply_for, LAYOUT_NET_MIRROR, 0, WAIT_MS), 0);
	/* The mirror address: the connection reaches the mirror's socket, the guest gets SYN+ACK. */
	unsigned before = cap.n;
	send_tcp_syn(LAYOUT_NET_MIRROR, LAYOUT_NET_MIRROR_PORT);
	int i = wait_for(is_tcp, 0, before, WAIT_MS);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(tcp_flags(i) & 0x12, 0x12);
	/* slirp connects the forward once the handshake completes */
	send_tcp(LAYOUT_NET_MIRROR, LAYOUT_NET_MIRROR_PORT, 0x10, 1001, be32(cap.frame[i] + 14 + 20 + 4) + 1);
	ck_assert(host_listener_saw_connection(mirror_listen, WAIT_MS));
	/* The host's loopback through the gateway, another port of the mirror, an address outside: reset. */
	uint32_t targets[][2] = { { LAYOUT_NET_HOST, port }, { LAYOUT_NET_MIRROR, 443 }, { 0x5db8d822u, 80 } };
	for (unsigned t = 0; t < 3; t++) {
		before = cap.n;
		send_tcp_syn(targets[t][0], (uint16_t)targets[t][1]);
		i = wait_for(is_tcp, 0, before, WAIT_MS);
		ck_assert_int_ge(i, 0);
		ck_assert_uint_eq(tcp_flags(i) & 0x04, 0x04); /* RST */
	}
	ck_assert(!host_listener_saw_connection(host, QUIET_MS));
	/* UDP and ICMP to the outside: nothing. */
	before = cap.n;
	send_udp(0x5db8d822u, 123, (const uint8_t *)"ntp?", 4);
	send_ping(0x01010101u);
	ck_assert_int_lt(wait_for(any_frame, 0, before, QUIET_MS), 0);
	/* ICMP to the gateway is answered by slirp itself, without leaving the machine. */
	send_ping(LAYOUT_NET_HOST);
	ck_assert_int_ge(wait_for(is_icmp, 0, before, WAIT_MS), 0);
	close(host);
	stop();
}
END_TEST

START_TEST(online_reaches_the_host_loopback)
{
	start(false, false);
	uint16_t port;
	int host = loopback_listener(&port);
	send_arp_request(LAYOUT_NET_HOST);
	ck_assert_int_ge(wait_for(is_arp_reply_for, LAYOUT_NET_HOST, 0, WAIT_MS), 0);
	unsigned before = cap.n;
	send_tcp_syn(LAYOUT_NET_HOST, port);
	ck_assert(host_listener_saw_connection(host, WAIT_MS));
	int i = wait_for(is_tcp, 0, before, WAIT_MS);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(tcp_flags(i) & 0x12, 0x12);
	close(host);
	stop();
}
END_TEST

START_TEST(frames_wait_for_receive_buffers)
{
	start(true, true);
	pthread_mutex_lock(&cap.lock);
	cap.full = true;
	pthread_mutex_unlock(&cap.lock);
	static const uint8_t q[] = { 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1 };
	uint8_t qq[sizeof(q)];
	for (unsigned k = 0; k < 20; k++) {
		memcpy(qq, q, sizeof(q));
		qq[1] = (uint8_t)k;
		send_udp(LAYOUT_NET_DNS, 53, qq, sizeof(qq));
	}
	usleep(200000);
	ck_assert_uint_eq(cap.n, 0);
	pthread_mutex_lock(&cap.lock);
	cap.full = false;
	pthread_mutex_unlock(&cap.lock);
	slirp_net_rx_ready(net);
	for (unsigned k = 0; k < 20; k++) {
		int i = wait_for(is_udp_from_port, 53, k, WAIT_MS);
		ck_assert_int_eq(i, (int)k);
		struct udp4_view v;
		ck_assert(frame_parse_udp4(cap.frame[i], cap.len[i], &v));
		ck_assert_uint_eq(v.payload[1], k); /* in order */
	}
	stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("slirp-net");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hermetic_dhcp_and_dns_inside_lbvm);
	tcase_add_test(tc, hermetic_only_the_mirror_is_reachable);
	tcase_add_test(tc, online_reaches_the_host_loopback);
	tcase_add_test(tc, frames_wait_for_receive_buffers);
	suite_add_tcase(s, tc);
	return check_run(s);
}
