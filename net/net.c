#include "net/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct net {
	struct e1000 *nic;
	struct mirror *mirror;
	struct slirp_net *stack;
};

static int deliver(void *opaque, const uint8_t *frame, size_t len)
{
	int rc = e1000_receive(opaque, frame, len);
	return rc == -EAGAIN ? -EAGAIN : 0; /* anything else the card refused is lost, as on a wire */
}

static void transmit(void *opaque, const uint8_t *frame, size_t len)
{
	slirp_net_send(opaque, frame, len);
}

static void rx_ready(void *opaque)
{
	slirp_net_rx_ready(opaque);
}

const char *net_mode_name(enum net_mode mode)
{
	return mode == NET_HERMETIC ? "hermetic" : "online";
}

int net_start(const struct net_options *o, struct e1000 *nic, int vm_fd, struct net **out, struct error *err)
{
	if (o->mode == NET_HERMETIC && (!o->cache_dir || !o->manifest))
		return error_fail(err, -EINVAL, "hermetic networking needs the mirror: a cache directory and its manifest");
	struct net *n = calloc(1, sizeof(*n));
	if (!n)
		return error_fail(err, -ENOMEM, "the network: out of memory");
	n->nic = nic;
	int rc;
	if (o->cache_dir) {
		struct mirror_config mc = { .cache_dir = o->cache_dir, .manifest = o->manifest, .on_record = o->on_fetch,
					    .ctx = o->ctx };
		if ((rc = mirror_start(&mc, &n->mirror, err)) < 0) {
			free(n);
			return rc;
		}
	}
	struct slirp_net_config sc = {
		.hermetic = o->mode == NET_HERMETIC,
		.mirror_socket = n->mirror ? mirror_socket_path(n->mirror) : NULL,
		.deliver = deliver,
		.opaque = nic,
		.vm_fd = vm_fd,
	};
	if ((rc = slirp_net_start(&sc, &n->stack, err)) < 0) {
		mirror_stop(n->mirror);
		free(n);
		return rc;
	}
	struct e1000_backend be = { .transmit = transmit, .rx_ready = rx_ready, .opaque = n->stack };
	e1000_connect(nic, &be);
	*out = n;
	return 0;
}

void net_stop(struct net *n)
{
	if (!n)
		return;
	e1000_connect(n->nic, NULL); /* the guest's frames go nowhere from now on */
	slirp_net_stop(n->stack);
	mirror_stop(n->mirror);
	free(n);
}

int net_wake_fd(const struct net *n)
{
	return slirp_net_wake_fd(n->stack);
}

size_t net_fetch_records(struct net *n, struct mirror_record **out)
{
	*out = NULL;
	return n->mirror ? mirror_records(n->mirror, out) : 0;
}

uint64_t net_probes(struct net *n)
{
	return n->mirror ? mirror_probes(n->mirror) : 0;
}

struct slirp_net_stats net_stack_stats(struct net *n)
{
	return slirp_net_stats(n->stack);
}
