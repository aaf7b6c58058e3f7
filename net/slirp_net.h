/* The user-mode network: a libslirp stack with QEMU's `-nic user` address plan (common/layout.h, IPv4 only),
 * run on a thread of its own with slirp's timers and poll loop. Frames from the guest are queued from any
 * thread and fed to slirp on this one; frames to the guest are handed to a deliver callback from this
 * thread, and held (in order) while the NIC has no free receive buffer.
 *
 * Online mode is slirp as QEMU uses it: DHCP, DNS through the host's resolver, TCP/UDP/ICMP echo to the
 * outside, the host's loopback at LAYOUT_NET_HOST. Hermetic mode runs slirp restricted (no socket to the
 * outside is ever opened; TCP to anything but a forward is reset, UDP and ICMP dropped) and answers DHCP
 * and DNS itself (net/dhcp_server.h, net/dns_server.h), so the guest gets the same lease and every name
 * resolves to the mirror. In both modes, with a mirror, TCP to LAYOUT_NET_MIRROR:LAYOUT_NET_MIRROR_PORT is
 * forwarded to the mirror's Unix socket. */
#ifndef LBVM_NET_SLIRP_NET_H
#define LBVM_NET_SLIRP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Hand a frame to the guest's NIC. 0 taken (or dropped by the NIC), -EAGAIN no room: offer it again after
 * slirp_net_rx_ready(). Called on the network's thread. */
typedef int (*slirp_net_deliver_fn)(void *opaque, const uint8_t *frame, size_t len);

struct slirp_net_config {
	bool hermetic;
	const char *mirror_socket;      /* NULL: no mirror */
	slirp_net_deliver_fn deliver;
	void *opaque;
	int vm_fd;                      /* the KVM VM, for the card's interrupt from this thread; -1 none */
};

struct slirp_net_stats {
	uint64_t to_guest, from_guest;  /* frames */
	uint64_t dropped_to_guest;      /* the NIC held too many frames back */
	uint64_t dropped_from_guest;    /* the guest sent faster than the stack could take */
	uint64_t dhcp_replies, dns_replies;
	uint64_t guest_errors;          /* slirp's reports of guest misbehaviour */
};

struct slirp_net;

/* Create the stack and start its thread; it returns once the thread is inside its seccomp sandbox
 * (SANDBOX_NET, or SANDBOX_NET_ONLINE in online mode: common/sandbox.h). 0, or -errno with err filled. */
int slirp_net_start(const struct slirp_net_config *cfg, struct slirp_net **out, struct error *err);
/* Stop the thread and free everything; no deliver call happens after it returns. */
void slirp_net_stop(struct slirp_net *n);

/* A frame from the guest (copied). Any thread, never blocks: dropped when the queue is full. */
void slirp_net_send(struct slirp_net *n, const uint8_t *frame, size_t len);
/* The NIC has receive buffers again. Any thread. */
void slirp_net_rx_ready(struct slirp_net *n);
struct slirp_net_stats slirp_net_stats(struct slirp_net *n);
/* The eventfd that slirp_net_send and slirp_net_rx_ready write: the card's thread must be let write it. */
int slirp_net_wake_fd(const struct slirp_net *n);

#endif
