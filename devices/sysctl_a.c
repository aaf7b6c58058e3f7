#include "devices/sysctl_a.h"

#include <string.h>

void sysctl_a_init(struct sysctl_a *p, void (*reset)(void *opaque), void *opaque)
{
	memset(p, 0, sizeof(*p));
	p->value = SYSCTL_A_A20;
	p->reset = reset;
	p->opaque = opaque;
}

void sysctl_a_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	const struct sysctl_a *p = dev;
	(void)offset;
	memset(data, 0xff, size);
	*(uint8_t *)data = (uint8_t)(p->value | SYSCTL_A_A20);
}

void sysctl_a_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct sysctl_a *p = dev;
	uint8_t v = *(const uint8_t *)data;
	(void)offset;
	(void)size;
	uint8_t before = p->value;
	p->value = (uint8_t)(v | SYSCTL_A_A20);
	/* The reset bit acts on its rising edge, as on the chipsets that have it. */
	if ((v & SYSCTL_A_RESET) && !(before & SYSCTL_A_RESET) && p->reset)
		p->reset(p->opaque);
}
