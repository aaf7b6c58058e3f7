/* The machine's network, as a run switches it on: the NIC's backend (net/slirp_net.h) and, when a cache of
 * verified distfiles is given, lbvm's mirror (net/mirror.h) behind LAYOUT_NET_MIRROR. `lbvm boot --net`
 * uses it today and `lbvm bootstrap` will; docs/network.md describes both modes and the mirror. */
#ifndef LBVM_NET_NET_H
#define LBVM_NET_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "devices/e1000.h"
#include "net/mirror.h"
#include "net/slirp_net.h"
#include "sources/manifest.h"

enum net_mode {
	NET_ONLINE,    /* QEMU's -nic user: the guest reaches the outside */
	NET_HERMETIC,  /* no route out; DHCP, DNS and the mirror answered inside lbvm */
};

struct net_options {
	enum net_mode mode;
	const char *cache_dir;              /* verified distfiles (lbvm fetch's cache); NULL: no mirror */
	const struct manifest *manifest;    /* what the cache's files must hash to; the caller's until net_stop */
	/* Each finished mirror request, from the mirror's thread (may be NULL). */
	void (*on_fetch)(void *ctx, const struct mirror_record *rec);
	void *ctx;
};

struct net;

/* Start the mirror (if any) and the stack, and attach them to the NIC; vm_fd is the KVM VM the card
 * raises its interrupt on (the stack's thread may, and its sandbox lets it). Each thread is inside its
 * seccomp sandbox (common/sandbox.h) when this returns. 0, or -errno with err filled.
 * Hermetic mode without a mirror is refused (-EINVAL): the guest's probe needs one. */
int net_start(const struct net_options *o, struct e1000 *nic, int vm_fd, struct net **out, struct error *err);
/* The descriptor the card writes to wake the stack's thread (the vCPU thread's sandbox must allow it). */
int net_wake_fd(const struct net *n);
/* Detach from the NIC and stop everything (before the NIC is destroyed). */
void net_stop(struct net *n);

/* The mirror's records so far (see mirror_records); 0 and NULL without a mirror. */
size_t net_fetch_records(struct net *n, struct mirror_record **out);
uint64_t net_probes(struct net *n);
struct slirp_net_stats net_stack_stats(struct net *n);
const char *net_mode_name(enum net_mode mode);

#endif
