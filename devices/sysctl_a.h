/* System control port A (port 92h, "fast A20 and reset"): bit 0 written as one resets the machine, bit 1
 * is the A20 gate. Under KVM A20 cannot be masked, so bit 1 always reads as one whatever the guest wrote:
 * a guest that tests the gate learns the truth. Every other bit reads as written. */
#ifndef LBVM_DEVICES_SYSCTL_A_H
#define LBVM_DEVICES_SYSCTL_A_H

#include <stdint.h>

#define SYSCTL_A_RESET  0x01
#define SYSCTL_A_A20    0x02

struct sysctl_a {
	uint8_t value;
	void (*reset)(void *opaque);
	void *opaque;
};

void sysctl_a_init(struct sysctl_a *p, void (*reset)(void *opaque), void *opaque);
/* Bus handlers for the one-port window. */
void sysctl_a_read(void *dev, uint64_t offset, void *data, unsigned size);
void sysctl_a_write(void *dev, uint64_t offset, const void *data, unsigned size);

#endif
