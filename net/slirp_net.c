#include "net/slirp_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libslirp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "common/sandbox.h"
#include "net/dhcp_server.h"
#include "net/dns_server.h"
#include "net/frame.h"
#include "common/layout.h"

#define FROM_GUEST_MAX  4096     /* frames queued for the stack (TSO bursts: up to 45 segments each) */
#define TO_GUEST_MAX    8192     /* frames held while the NIC has no buffer (a TCP window's worth) */
#define FRAME_LIMIT     65536    /* nothing longer is an Ethernet frame the stack could take */
#define POLL_MAX_MS     1000
#define LEASE_S         86400
#define SLIRP_CFG_V1    1        /* the SlirpConfig fields used here are all version 1's */

static const uint8_t broadcast_mac[NET_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct frame_node {
	struct frame_node *next;
	size_t len;
	uint8_t data[];
};

struct fifo {
	struct frame_node *head, *tail;
	size_t count;
};

struct net_timer {
	struct net_timer *next;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;
	bool armed;
};

struct slirp_net {
	Slirp *slirp;
	bool hermetic;
	slirp_net_deliver_fn deliver;
	void *opaque;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	int wake_fd;
	pthread_mutex_t lock;         /* from_guest and stats */
	struct fifo from_guest;
	struct slirp_net_stats stats;
	struct fifo to_guest;         /* the thread's own */
	_Atomic bool rx_waiting;      /* the thread holds frames and waits for buffers */
	struct net_timer *timers;
	struct pollfd *pfd;
	size_t npfd, pfd_cap;
	uint16_t ip_id;
	struct dhcp_plan dhcp;
	uint8_t host_mac[NET_ETH_ALEN];
	int vm_fd;
	pthread_mutex_t start_lock;   /* the thread's word on its sandbox: */
	pthread_cond_t started_cond;
	int start_rc;                 /* 1 not yet, 0 confined, -errno could not be */
	struct error start_err;
};

/* ---- queues ------------------------------------------------------------------------------------ */

static bool fifo_push(struct fifo *q, const uint8_t *data, size_t len)
{
	struct frame_node *f = malloc(sizeof(*f) + len);
	if (!f)
		return false;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, data, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->count++;
	return true;
}

static void fifo_pop(struct fifo *q)
{
	struct frame_node *f = q->head;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	free(f);
}

static void fifo_clear(struct fifo *q)
{
	while (q->head)
		fifo_pop(q);
}

static void wake(struct slirp_net *n)
{
	uint64_t one = 1;
	if (write(n->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is awake anyway */
	}
}

static void count(struct slirp_net *n, uint64_t *field)
{
	pthread_mutex_lock(&n->lock);
	(*field)++;
	pthread_mutex_unlock(&n->lock);
}

/* ---- towards the guest --------------------------------------------------------------------------- */

/* Deliver held frames in order until the NIC is full. Before sleeping on a full NIC the thread says it
 * waits and tries once more, so a receive buffer that appears in between is never missed. */
static void flush_to_guest(struct slirp_net *n)
{
	for (;;) {
		while (n->to_guest.head) {
			struct frame_node *f = n->to_guest.head;
			if (n->deliver(n->opaque, f->data, f->len) == -EAGAIN)
				break;
			fifo_pop(&n->to_guest);
			count(n, &n->stats.to_guest);
		}
		if (!n->to_guest.head) {
			atomic_store(&n->rx_waiting, false);
			return;
		}
		if (atomic_exchange(&n->rx_waiting, true))
			return;
	}
}

static void to_guest(struct slirp_net *n, const uint8_t *frame, size_t len)
{
	if (!n->to_guest.head && n->deliver(n->opaque, frame, len) != -EAGAIN) {
		count(n, &n->stats.to_guest);
		return;
	}
	if (n->to_guest.count >= TO_GUEST_MAX || !fifo_push(&n->to_guest, frame, len)) {
		count(n, &n->stats.dropped_to_guest);
		return;
	}
	flush_to_guest(n);
}

void slirp_net_rx_ready(struct slirp_net *n)
{
	if (atomic_load(&n->rx_waiting))
		wake(n);
}

/* ---- hermetic mode's own answers --------------------------------------------------------------- */

static void reply_udp(struct slirp_net *n, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src_ip,
		      uint32_t dst_ip, uint16_t src_port, uint16_t dst_port, const uint8_t *payload, size_t len)
{
	uint8_t frame[NET_FRAME_MAX];
	size_t flen = frame_build_udp4(frame, sizeof(frame), dst_mac, src_mac, src_ip, dst_ip, src_port, dst_port,
				       n->ip_id++, payload, len);
	if (flen)
		to_guest(n, frame, flen);
}

/* DHCP and DNS never reach slirp in hermetic mode. True when the frame was one of them. */
static bool answer_locally(struct slirp_net *n, const uint8_t *frame, size_t len)
{
	struct udp4_view v;
	if (!frame_parse_udp4(frame, len, &v))
		return false;
	if (v.dst_port == DHCP_SERVER_PORT) {
		uint8_t msg[DHCP_REPLY_MAX];
		uint32_t dst_ip;
		size_t m = dhcp_answer(&n->dhcp, v.payload, v.payload_len, msg, &dst_ip);
		if (m) {
			count(n, &n->stats.dhcp_replies);
			reply_udp(n, dst_ip == UINT32_C(0xffffffff) ? broadcast_mac : v.src_mac, n->host_mac,
				  LAYOUT_NET_HOST, dst_ip, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, msg, m);
		}
		return true;
	}
	if (v.dst_port == DNS_PORT) {
		uint8_t msg[DNS_REPLY_MAX];
		size_t m = v.dst_ip == LAYOUT_NET_DNS ? dns_answer(v.payload, v.payload_len, LAYOUT_NET_MIRROR, msg) : 0;
		if (m) {
			count(n, &n->stats.dns_replies);
			reply_udp(n, v.src_mac, v.dst_mac, LAYOUT_NET_DNS, v.src_ip, DNS_PORT, v.src_port, msg, m);
		}
		return true; /* a query to any other server goes nowhere */
	}
	return false;
}

/* ---- from the guest ---------------------------------------------------------------------------- */

void slirp_net_send(struct slirp_net *n, const uint8_t *frame, size_t len)
{
	pthread_mutex_lock(&n->lock);
	bool was_empty = n->from_guest.head == NULL;
	bool ok = len <= FRAME_LIMIT && n->from_guest.count < FROM_GUEST_MAX && fifo_push(&n->from_guest, frame, len);
	if (!ok)
		n->stats.dropped_from_guest++;
	pthread_mutex_unlock(&n->lock);
	if (ok && was_empty)
		wake(n);
}

static void drain_from_guest(struct slirp_net *n)
{
	pthread_mutex_lock(&n->lock);
	struct fifo q = n->from_guest;
	memset(&n->from_guest, 0, sizeof(n->from_guest));
	n->stats.from_guest += q.count;
	pthread_mutex_unlock(&n->lock);
	while (q.head) {
		struct frame_node *f = q.head;
		if (!n->hermetic || !answer_locally(n, f->data, f->len))
			slirp_input(n->slirp, f->data, (int)f->len);
		fifo_pop(&q);
	}
}

/* ---- slirp's callbacks ------------------------------------------------------------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	to_guest(opaque, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)msg;
	struct slirp_net *n = opaque;
	count(n, &n->stats.guest_errors);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_net *n = opaque;
	struct net_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->next = n->timers;
	n->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_net *n = opaque;
	for (struct net_timer **p = &n->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct net_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	struct net_timer *t = timer;
	t->expire_ms = expire_ms;
	t->armed = true;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque; /* descriptors are collected afresh on every loop (slirp_pollfds_fill) */
}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_register_poll_fd,
	.notify = cb_notify,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_net *n = opaque;
	if (n->npfd == n->pfd_cap) {
		size_t cap = n->pfd_cap ? n->pfd_cap * 2 : 64;
		struct pollfd *p = realloc(n->pfd, cap * sizeof(*p));
		if (!p)
			return -1;
		n->pfd = p;
		n->pfd_cap = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	n->pfd[n->npfd] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)n->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_net *n = opaque;
	if (idx < 0 || (size_t)idx >= n->npfd)
		return 0;
	short re = n->pfd[idx].revents;
	int ev = 0;
	if (re & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (re & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (re & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (re & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (re & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* Run every timer that is due; a callback may re-arm or free timers, so the scan restarts after each. */
static void run_timers(struct slirp_net *n)
{
	int64_t now = now_ns() / 1000000;
	for (bool fired = true; fired;) {
		fired = false;
		for (struct net_timer *t = n->timers; t; t = t->next) {
			if (t->armed && t->expire_ms <= now) {
				t->armed = false;
				t->cb(t->cb_opaque);
				fired = true;
				break;
			}
		}
	}
}

static uint32_t next_timer_ms(struct slirp_net *n, uint32_t limit)
{
	int64_t now = now_ns() / 1000000;
	for (struct net_timer *t = n->timers; t; t = t->next) {
		if (!t->armed)
			continue;
		int64_t in = t->expire_ms - now;
		if (in < 0)
			in = 0;
		if (in < limit)
			limit = (uint32_t)in;
	}
	return limit;
}

/* ---- the thread -------------------------------------------------------------------------------- */

/* Online mode: slirp reads /etc/resolv.conf the first time the guest asks its DNS address, and later only
 * stat()s it. A frame as the guest would send it (an empty datagram to the DNS address) makes it read the
 * file now, before the sandbox, which allows no open. */
static void read_resolv_conf_now(struct slirp_net *n)
{
	static const uint8_t guest_mac[NET_ETH_ALEN] = LAYOUT_NET_GUEST_MAC;
	static const uint8_t nothing[1];
	uint8_t frame[64];
	size_t len = frame_build_udp4(frame, sizeof(frame), n->host_mac, guest_mac, LAYOUT_NET_GUEST, LAYOUT_NET_DNS,
				      DNS_PORT, DNS_PORT, 0, nothing, 0);
	if (len)
		slirp_input(n->slirp, frame, (int)len);
}

static void report_start(struct slirp_net *n, int rc)
{
	pthread_mutex_lock(&n->start_lock);
	n->start_rc = rc;
	pthread_cond_signal(&n->started_cond);
	pthread_mutex_unlock(&n->start_lock);
}

static void *net_main(void *opaque)
{
	struct slirp_net *n = opaque;
	if (!n->hermetic)
		read_resolv_conf_now(n);
	struct sandbox_fds fds = { .read_fds = { n->wake_fd }, .nread = 1, .write_fds = { n->wake_fd }, .nwrite = 1,
				   .vcpu_fd = -1, .vm_fd = n->vm_fd, .dir_fd = -1, .listen_fd = -1 };
	struct error err = { 0 };
	int confined = sandbox_enter(n->hermetic ? SANDBOX_NET : SANDBOX_NET_ONLINE, &fds, &err);
	if (confined < 0)
		n->start_err = err;
	report_start(n, confined);
	if (confined < 0)
		return NULL;
	while (!atomic_load(&n->stop)) {
		n->npfd = 0;
		if (add_poll(n->wake_fd, SLIRP_POLL_IN, n) < 0)
			break;
		uint32_t timeout = POLL_MAX_MS;
		slirp_pollfds_fill(n->slirp, &timeout, add_poll, n);
		timeout = next_timer_ms(n, timeout);
		int rc = poll(n->pfd, n->npfd, (int)timeout);
		if (rc > 0 && (n->pfd[0].revents & POLLIN)) {
			uint64_t v;
			if (read(n->wake_fd, &v, sizeof(v)) < 0) {
				/* nothing to clear */
			}
		}
		slirp_pollfds_poll(n->slirp, rc < 0, get_revents, n);
		drain_from_guest(n);
		run_timers(n);
		flush_to_guest(n);
	}
	return NULL;
}

/* ---- life cycle -------------------------------------------------------------------------------- */

static struct in_addr addr4(uint32_t host_order)
{
	return (struct in_addr){ .s_addr = htonl(host_order) };
}

int slirp_net_start(const struct slirp_net_config *cfg, struct slirp_net **out, struct error *err)
{
	struct slirp_net *n = calloc(1, sizeof(*n));
	if (!n)
		return error_fail(err, -ENOMEM, "the network: out of memory");
	n->hermetic = cfg->hermetic;
	n->deliver = cfg->deliver;
	n->opaque = cfg->opaque;
	n->vm_fd = cfg->vm_fd;
	n->start_rc = 1;
	pthread_cond_init(&n->started_cond, NULL);
	pthread_mutex_init(&n->start_lock, NULL);
	n->dhcp = (struct dhcp_plan){ .server = LAYOUT_NET_HOST, .client = LAYOUT_NET_GUEST, .netmask = LAYOUT_NET_NETMASK,
				      .router = LAYOUT_NET_HOST, .dns = LAYOUT_NET_DNS, .lease_s = LEASE_S };
	/* The address slirp answers ARP with for the host (52:55 and the IPv4 address): the guest's ARP cache
	 * and the DHCP server's frames agree. */
	uint32_t host = LAYOUT_NET_HOST;
	const uint8_t mac[NET_ETH_ALEN] = { 0x52, 0x55, (uint8_t)(host >> 24), (uint8_t)(host >> 16), (uint8_t)(host >> 8),
					    (uint8_t)host };
	memcpy(n->host_mac, mac, sizeof(mac));
	pthread_mutex_init(&n->lock, NULL);
	n->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc;
	if (n->wake_fd < 0) {
		rc = -errno;
		error_fail_status(err, EXIT_INTERNAL, rc, "the network's wake-up descriptor: %s", strerror(-rc));
		goto fail;
	}
	SlirpConfig sc = {
		.version = SLIRP_CFG_V1,
		.restricted = cfg->hermetic,
		.in_enabled = true,
		.vnetwork = addr4(LAYOUT_NET_NETWORK),
		.vnetmask = addr4(LAYOUT_NET_NETMASK),
		.vhost = addr4(LAYOUT_NET_HOST),
		.in6_enabled = false,
		.vdhcp_start = addr4(LAYOUT_NET_GUEST),
		.vnameserver = addr4(LAYOUT_NET_DNS),
	};
	n->slirp = slirp_new(&sc, &callbacks, n);
	if (!n->slirp) {
		rc = error_fail_status(err, EXIT_INTERNAL, -ENOMEM, "the network: libslirp refused its configuration");
		goto fail;
	}
	if (cfg->mirror_socket) {
		struct in_addr mirror = addr4(LAYOUT_NET_MIRROR);
		if (slirp_add_unix(n->slirp, cfg->mirror_socket, &mirror, LAYOUT_NET_MIRROR_PORT) < 0) {
			rc = error_fail_status(err, EXIT_INTERNAL, -EINVAL, "the network: cannot forward the mirror's address to %s",
					       cfg->mirror_socket);
			goto fail;
		}
	}
	if ((rc = -pthread_create(&n->thread, NULL, net_main, n)) < 0) {
		error_fail_status(err, EXIT_INTERNAL, rc, "cannot start the network's thread: %s", strerror(-rc));
		goto fail;
	}
	n->started = true;
	pthread_mutex_lock(&n->start_lock);
	while (n->start_rc == 1)
		pthread_cond_wait(&n->started_cond, &n->start_lock);
	rc = n->start_rc;
	pthread_mutex_unlock(&n->start_lock);
	if (rc < 0) {
		*err = n->start_err;
		goto fail;
	}
	*out = n;
	return 0;
fail:
	slirp_net_stop(n);
	return rc;
}

void slirp_net_stop(struct slirp_net *n)
{
	if (!n)
		return;
	if (n->started) {
		atomic_store(&n->stop, true);
		wake(n);
		pthread_join(n->thread, NULL);
	}
	if (n->slirp)
		slirp_cleanup(n->slirp);
	while (n->timers)
		cb_timer_free(n->timers, n);
	fifo_clear(&n->from_guest);
	fifo_clear(&n->to_guest);
	if (n->wake_fd >= 0)
		close(n->wake_fd);
	free(n->pfd);
	pthread_mutex_destroy(&n->lock);
	pthread_mutex_destroy(&n->start_lock);
	pthread_cond_destroy(&n->started_cond);
	free(n);
}

struct slirp_net_stats slirp_net_stats(struct slirp_net *n)
{
	pthread_mutex_lock(&n->lock);
	struct slirp_net_stats s = n->stats;
	pthread_mutex_unlock(&n->lock);
	return s;
}

int slirp_net_wake_fd(const struct slirp_net *n)
{
	return n->wake_fd;
}
