/* An interrupt line as a device sees it: a device never calls KVM, it sets its line's level and the
 * machine (or a unit test) decides what that means. */
#ifndef LBVM_DEVICES_IRQ_H
#define LBVM_DEVICES_IRQ_H

struct irq_line {
	void (*set)(void *opaque, unsigned gsi, int level); /* level: 1 asserted, 0 deasserted */
	void *opaque;
	unsigned gsi; /* IOAPIC pin / ISA IRQ number, from common/layout.h */
};

static inline void irq_line_set(const struct irq_line *line, int level)
{
	if (line && line->set)
		line->set(line->opaque, line->gsi, level);
}

#endif
