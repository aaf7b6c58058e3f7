/* libFuzzer target: the guest-controlled inputs of the user-mode network's own servers. The input is
 * taken as a whole frame (parsed as Ethernet/IPv4/UDP), as a DHCP message, as a DNS query and as an HTTP
 * request head; ASan/UBSan catch any read past the input or write past a reply buffer, and the target
 * checks the answers' own limits (lengths, a DNS reply echoing the query's id, a decoded path that is
 * printable and starts with '/'). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcp_server.h"
#include "net/dns_server.h"
#include "net/frame.h"
#include "net/http_request.h"
#include "common/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copies, so a read one byte past the input is caught. */
	uint8_t *in = malloc(size ? size : 1);
	if (!in)
		abort();
	memcpy(in, data, size);

	struct udp4_view v;
	if (frame_parse_udp4(in, size, &v)) {
		if (v.payload < in || v.payload + v.payload_len > in + size)
			abort();
	}

	static const struct dhcp_plan plan = {
		.server = LAYOUT_NET_HOST, .client = LAYOUT_NET_GUEST, .netmask = LAYOUT_NET_NETMASK,
		.router = LAYOUT_NET_HOST, .dns = LAYOUT_NET_DNS, .lease_s = 86400,
	};
	uint8_t *reply = malloc(DHCP_REPLY_MAX);
	uint32_t dst;
	size_t n = dhcp_answer(&plan, in, size, reply, &dst);
	if (n > DHCP_REPLY_MAX || (n && reply[0] != 2))
		abort();
	free(reply);

	uint8_t *dns = malloc(DNS_REPLY_MAX);
	n = dns_answer(in, size, LAYOUT_NET_MIRROR, dns);
	if (n > DNS_REPLY_MAX || (n && (n < 12 || memcmp(dns, in, 2) || !(dns[2] & 0x80))))
		abort();
	free(dns);

	struct http_request req;
	int rc = http_parse_request((const char *)in, size, &req);
	if (rc == 1) {
		if (req.path[0] != '/')
			abort();
		for (const char *p = req.path; *p; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
				abort();
	} else if (rc == -1 && (req.status < 400 || req.status > 505)) {
		abort();
	}
	free(in);
	return 0;
}
