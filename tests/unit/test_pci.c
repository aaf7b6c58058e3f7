/* PCI host: driven through port accesses on a real struct bus, the way Linux's pci=conf1 code does it. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "common/layout.h"

struct irq_log {
	int level[LAYOUT_IOAPIC_PINS];
	unsigned calls;
};

static struct bus io, mmio;
static struct pci_host host;
static struct irq_log irqs;

static void record_irq(void *opaque, unsigned gsi, int level)
{
	struct irq_log *log = opaque;
	ck_assert_uint_lt(gsi, LAYOUT_IOAPIC_PINS);
	log->level[gsi] = level;
	log->calls++;
}

/* A device with two BARs that remembers the last access it saw. */
struct fake {
	unsigned bar;
	uint64_t offset;
	uint32_t value;
	unsigned size;
	unsigned reads, writes;
};

static void fake_read(void *opaque, unsigned bar, uint64_t offset, void *data, unsigned size)
{
	struct fake *f = opaque;
	f->bar = bar;
	f->offset = offset;
	f->reads++;
	uint32_t v = 0xa0000000u | (uint32_t)(bar << 16) | (uint32_t)offset;
	memcpy(data, &v, size);
}

static void fake_write(void *opaque, unsigned bar, uint64_t offset, const void *data, unsigned size)
{
	struct fake *f = opaque;
	f->bar = bar;
	f->offset = offset;
	f->size = size;
	f->value = 0;
	memcpy(&f->value, data, size);
	f->writes++;
}

static void setup(void)
{
	bus_init(&io);
	bus_init(&mmio);
	memset(&irqs, 0, sizeof(irqs));
	struct irq_line line = { .set = record_irq, .opaque = &irqs };
	ck_assert_int_eq(pci_host_init(&host, &io, &mmio, line), 0);
}

static void teardown(void)
{
	pci_host_destroy(&host);
	bus_destroy(&io);
	bus_destroy(&mmio);
}

static uint32_t cfg_addr(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read(unsigned slot, unsigned reg, unsigned size)
{
	uint32_t a = cfg_addr(0, slot, 0, reg), v = 0;
	ck_assert(bus_write(&io, 0xcf8, &a, 4));
	ck_assert(bus_read(&io, 0xcfc + (reg & 3), &v, size));
	return v;
}

static void cfg_write(unsigned slot, unsigned reg, uint32_t v, unsigned size)
{
	uint32_t a = cfg_addr(0, slot, 0, reg);
	ck_assert(bus_write(&io, 0xcf8, &a, 4));
	ck_assert(bus_write(&io, 0xcfc + (reg & 3), &v, size));
}

static struct pci_device *add_fake(struct fake *f, uint32_t bar0, uint32_t bar2)
{
	struct pci_device_info info = {
		.vendor = 0x1234, .device = 0x5678, .class_code = 0x010601, .revision = 7, .int_pin = PCI_INTA,
		.read = fake_read, .write = fake_write, .opaque = f, .name = "fake",
	};
	info.bar_size[0] = bar0;
	info.bar_size[2] = bar2;
	struct pci_device *dev = NULL;
	ck_assert_int_eq(pci_host_register(&host, &info, &dev), 0);
	return dev;
}

/* Linux's type-1 probe: a byte written at 0xcfb must not disturb the dword address register. */
START_TEST(conf1_probe)
{
	uint8_t b = 1;
	ck_assert(bus_write(&io, 0xcfb, &b, 1));
	uint32_t a = 0x80000000u, v = 0;
	ck_assert(bus_write(&io, 0xcf8, &a, 4));
	ck_assert(bus_read(&io, 0xcf8, &v, 4));
	ck_assert_uint_eq(v, 0x80000000u);
	ck_assert(bus_write(&io, 0xcfb, &b, 1));
	ck_assert(bus_read(&io, 0xcf8, &v, 4));
	ck_assert_uint_eq(v, 0x80000000u);
	a = 0xffffffffu; /* reserved bits read back zero */
	ck_assert(bus_write(&io, 0xcf8, &a, 4));
	ck_assert(bus_read(&io, 0xcf8, &v, 4));
	ck_assert_uint_eq(v, 0x80fffffcu);
}
END_TEST

START_TEST(host_bridge_and_absent_devices)
{
	ck_assert_uint_eq(cfg_read(0, 0, 4), 0x00081b36u);
	ck_assert_uint_eq(cfg_read(0, 8, 4) >> 8, 0x060000u);
	ck_assert_uint_eq(cfg_read(0, 0x0e, 1), 0); /* single-function, type 0 */
	ck_assert_uint_eq(cfg_read(5, 0, 4), 0xffffffffu);
	ck_assert_uint_eq(cfg_read(5, 0, 2), 0xffffu);
	/* Another bus, another function, or the enable bit off: nothing answers. */
	uint32_t v = 0, addrs[] = { cfg_addr(1, 0, 0, 0), cfg_addr(0, 0, 1, 0), cfg_addr(0, 0, 0, 0) & 0x7fffffffu };
	for (unsigned i = 0; i < 3; i++) {
		ck_assert(bus_write(&io, 0xcf8, &addrs[i], 4));
		ck_assert(bus_read(&io, 0xcfc, &v, 4));
		ck_assert_uint_eq(v, 0xffffffffu);
	}
	/* Read-only identity: writes to vendor/device/class change nothing. */
	cfg_write(0, 0, 0, 4);
	cfg_write(0, 8, 0, 4);
	ck_assert_uint_eq(cfg_read(0, 0, 4), 0x00081b36u);
	ck_assert_uint_eq(cfg_read(0, 8, 4) >> 8, 0x060000u);
}
END_TEST

START_TEST(registration_places_bars_and_interrupt_line)
{
	struct fake f = { 0 };
	struct pci_device *dev = add_fake(&f, 0x1000, 0x100);
	ck_assert_uint_eq(dev->slot, 1);
	ck_assert_uint_eq(cfg_read(1, 0, 4), 0x56781234u);
	ck_assert_uint_eq(cfg_read(1, 8, 4), 0x01060107u);
	uint32_t bar0 = cfg_read(1, 0x10, 4), bar2 = cfg_read(1, 0x18, 4);
	ck_assert_uint_eq(bar0, LAYOUT_PCI_MMIO);
	ck_assert_uint_eq(bar2, LAYOUT_PCI_MMIO + 0x1000);
	ck_assert_uint_eq(cfg_read(1, 0x14, 4), 0); /* absent BAR */
	ck_assert_uint_eq(cfg_read(1, 0x3d, 1), PCI_INTA);
	ck_assert_uint_eq(cfg_read(1, 0x3c, 1), LAYOUT_IRQ_PCI_FIRST + 1);
	ck_assert_uint_eq(cfg_read(1, 4, 2) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
	/* The Interrupt Line register is the driver's scratch: writable. */
	cfg_write(1, 0x3c, 0x55, 1);
	ck_assert_uint_eq(cfg_read(1, 0x3c, 1), 0x55);
	ck_assert_uint_eq(cfg_read(1, 0x3d, 1), PCI_INTA);

	struct pci_intx_route routes[4];
	ck_assert_uint_eq(pci_host_intx_routes(&host, routes, 4), 1);
	ck_assert_uint_eq(routes[0].slot, 1);
	ck_assert_uint_eq(routes[0].pin, PCI_INTA);
	ck_assert_uint_eq(routes[0].gsi, LAYOUT_IRQ_PCI_FIRST + 1);
}
END_TEST

START_TEST(bar_sizing_and_moves)
{
	struct fake f = { 0 };
	add_fake(&f, 0x1000, 0x100);
	cfg_write(1, 0x10, 0xffffffffu, 4);
	ck_assert_uint_eq(cfg_read(1, 0x10, 4), 0xfffff000u);
	cfg_write(1, 0x18, 0xffffffffu, 4);
	ck_assert_uint_eq(cfg_read(1, 0x18, 4), 0xffffff00u);
	ck_assert_uint_eq(cfg_read(1, 0x30, 4), 0); /* no expansion ROM */
	cfg_write(1, 0x30, 0xfffff800u, 4);
	ck_assert_uint_eq(cfg_read(1, 0x30, 4), 0);

	/* Move BAR0 to the end of the window, BAR2 back to the start; accesses follow. */
	uint32_t moved = (uint32_t)(LAYOUT_PCI_MMIO_END - 0x1000);
	cfg_write(1, 0x10, moved | 0xfff, 4); /* low bits are read-only */
	cfg_write(1, 0x18, (uint32_t)LAYOUT_PCI_MMIO, 4);
	ck_assert_uint_eq(cfg_read(1, 0x10, 4), moved);
	uint32_t v = 0;
	ck_assert(bus_read(&mmio, moved + 0x24, &v, 4));
	ck_assert_uint_eq(f.bar, 0);
	ck_assert_uint_eq(f.offset, 0x24);
	ck_assert_uint_eq(v, 0xa0000024u);
	v = 0x12345678;
	ck_assert(bus_write(&mmio, LAYOUT_PCI_MMIO + 0x10, &v, 2));
	ck_assert_uint_eq(f.bar, 2);
	ck_assert_uint_eq(f.offset, 0x10);
	ck_assert_uint_eq(f.size, 2);
	ck_assert_uint_eq(f.value, 0x5678);
	/* Where BAR0 used to be (and is no more): all ones, no device call. */
	unsigned reads = f.reads;
	ck_assert(bus_read(&mmio, LAYOUT_PCI_MMIO + 0x800, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert_uint_eq(f.reads, reads);
	/* An access straddling the end of a BAR is not decoded. */
	ck_assert(bus_read(&mmio, LAYOUT_PCI_MMIO + 0xfe, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert_uint_eq(f.reads, reads);

	/* Memory decode off: nothing decodes. */
	cfg_write(1, 4, 0, 2);
	ck_assert(bus_read(&mmio, moved, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert_uint_eq(f.reads, reads);
	cfg_write(1, 4, PCI_COMMAND_MEMORY, 2);
	ck_assert(bus_read(&mmio, moved, &v, 4));
	ck_assert_uint_eq(f.reads, reads + 1);

	/* Byte-wise BAR writes, as some drivers do them. */
	cfg_write(1, 0x13, 0xc1, 1);
	ck_assert_uint_eq(cfg_read(1, 0x10, 4), (moved & 0x00ffffffu) | 0xc1000000u);

	/* Reset puts everything back. */
	pci_host_reset(&host);
	ck_assert_uint_eq(cfg_read(1, 0x10, 4), LAYOUT_PCI_MMIO);
}
END_TEST

START_TEST(intx_levels_disable_and_sharing)
{
	struct fake f[9];
	struct pci_device *devs[9];
	memset(f, 0, sizeof(f));
	for (unsigned i = 0; i < 9; i++)
		devs[i] = add_fake(&f[i], 0x10, 0);
	/* Slots 1 and 9 share IOAPIC pin 17. */
	ck_assert_uint_eq(devs[0]->slot, 1);
	ck_assert_uint_eq(devs[8]->slot, 9);
	ck_assert_uint_eq(devs[8]->gsi, LAYOUT_IRQ_PCI_FIRST + 1);
	unsigned pin = LAYOUT_IRQ_PCI_FIRST + 1;

	pci_device_set_intx(devs[0], 1);
	ck_assert_int_eq(irqs.level[pin], 1);
	ck_assert_uint_eq(cfg_read(1, 6, 2) & PCI_STATUS_INTX, PCI_STATUS_INTX);
	pci_device_set_intx(devs[8], 1);
	pci_device_set_intx(devs[0], 0);
	ck_assert_int_eq(irqs.level[pin], 1); /* slot 9 still asserts */
	ck_assert_uint_eq(cfg_read(1, 6, 2) & PCI_STATUS_INTX, 0);
	pci_device_set_intx(devs[8], 0);
	ck_assert_int_eq(irqs.level[pin], 0);

	/* INTx disable masks the line but the status bit still shows the request. */
	pci_device_set_intx(devs[1], 1);
	ck_assert_int_eq(irqs.level[LAYOUT_IRQ_PCI_FIRST + 2], 1);
	cfg_write(2, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_OFF, 2);
	ck_assert_int_eq(irqs.level[LAYOUT_IRQ_PCI_FIRST + 2], 0);
	ck_assert_uint_eq(cfg_read(2, 6, 2) & PCI_STATUS_INTX, PCI_STATUS_INTX);
	cfg_write(2, 4, PCI_COMMAND_MEMORY, 2);
	ck_assert_int_eq(irqs.level[LAYOUT_IRQ_PCI_FIRST + 2], 1);

	struct pci_intx_route routes[16];
	ck_assert_uint_eq(pci_host_intx_routes(&host, routes, 16), 9);
	ck_assert_uint_eq(pci_host_intx_routes(&host, routes, 2), 9); /* count even when the array is short */
}
END_TEST

START_TEST(bad_registrations)
{
	struct fake f = { 0 };
	struct pci_device_info info = { .vendor = 1, .device = 2, .read = fake_read, .write = fake_write, .opaque = &f };
	info.bar_size[0] = 0x1800; /* not a power of two */
	ck_assert_int_eq(pci_host_register(&host, &info, NULL), -EINVAL);
	info.bar_size[0] = 8; /* below the minimum */
	ck_assert_int_eq(pci_host_register(&host, &info, NULL), -EINVAL);
	info.bar_size[0] = 0x80000000u; /* larger than the window */
	ck_assert_int_eq(pci_host_register(&host, &info, NULL), -ENOSPC);
	info.bar_size[0] = 0;
	for (unsigned i = 1; i < PCI_SLOTS; i++)
		ck_assert_int_eq(pci_host_register(&host, &info, NULL), 0);
	ck_assert_int_eq(pci_host_register(&host, &info, NULL), -ENOSPC);
}
END_TEST

/* An I/O BAR (e1000-style: BAR0 memory, BAR1 ports): placed in the I/O window, sized and moved by the
 * guest, decoded only while COMMAND.IO is on, and never confused with the memory BAR. */
START_TEST(io_bars)
{
	struct fake f = { 0 };
	struct pci_device_info info = {
		.vendor = 0x8086, .device = 0x100e, .class_code = 0x020000, .int_pin = PCI_INTA,
		.read = fake_read, .write = fake_write, .opaque = &f, .name = "nic", .io_bars = 1u << 1,
	};
	info.bar_size[0] = 0x20000;
	info.bar_size[1] = 0x40;
	struct pci_device *dev = NULL;
	ck_assert_int_eq(pci_host_register(&host, &info, &dev), 0);
	ck_assert_uint_eq(cfg_read(1, 0x10, 4), LAYOUT_PCI_MMIO);
	ck_assert_uint_eq(cfg_read(1, 0x14, 4), LAYOUT_PCI_IO | 1);
	ck_assert_uint_eq(pci_device_bar_addr(dev, 1), LAYOUT_PCI_IO);
	ck_assert_uint_eq(cfg_read(1, 4, 2) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	cfg_write(1, 0x14, 0xffffffffu, 4);
	ck_assert_uint_eq(cfg_read(1, 0x14, 4), 0xffffffc1u); /* 64 ports, the space bit stays */
	cfg_write(1, 0x14, LAYOUT_PCI_IO + 0x100, 4);
	ck_assert_uint_eq(cfg_read(1, 0x14, 4), (LAYOUT_PCI_IO + 0x100) | 1);

	uint32_t v = 0xdeadbeef;
	ck_assert(bus_write(&io, LAYOUT_PCI_IO + 0x104, &v, 4));
	ck_assert_uint_eq(f.bar, 1);
	ck_assert_uint_eq(f.offset, 4);
	ck_assert_uint_eq(f.value, 0xdeadbeef);
	ck_assert(bus_read(&io, LAYOUT_PCI_IO + 0x100, &v, 4));
	ck_assert_uint_eq(v, 0xa0010000u);
	/* The old place answers nothing, and ports never reach the memory BAR. */
	unsigned reads = f.reads;
	ck_assert(bus_read(&io, LAYOUT_PCI_IO, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert_uint_eq(f.reads, reads);
	/* I/O decode off: nothing; memory decode keeps working. */
	cfg_write(1, 4, PCI_COMMAND_MEMORY, 2);
	ck_assert(bus_read(&io, LAYOUT_PCI_IO + 0x100, &v, 4));
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert_uint_eq(f.reads, reads);
	ck_assert(bus_read(&mmio, LAYOUT_PCI_MMIO + 8, &v, 4));
	ck_assert_uint_eq(f.bar, 0);
	ck_assert_uint_eq(f.reads, reads + 1);

	/* Bus mastering is the guest's to grant. */
	ck_assert(!pci_device_bus_master(dev));
	cfg_write(1, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert(pci_device_bus_master(dev));

	/* A too-small I/O BAR is refused; the window fills up. */
	info.bar_size[1] = 2;
	ck_assert_int_eq(pci_host_register(&host, &info, NULL), -EINVAL);
	info.bar_size[0] = 0;
	info.bar_size[1] = 0x800;
	ck_assert_int_eq(pci_host_register(&host, &info, NULL), -ENOSPC);
}
END_TEST

/* Devices raise INTx from their own threads (a network backend) while the vCPU writes COMMAND. */
struct toggler {
	struct pci_device *dev;
	unsigned rounds;
};

static void *toggle_intx(void *opaque)
{
	struct toggler *t = opaque;
	for (unsigned i = 0; i < t->rounds; i++)
		pci_device_set_intx(t->dev, (int)(i & 1));
	pci_device_set_intx(t->dev, 0);
	return NULL;
}

START_TEST(intx_from_another_thread)
{
	struct fake f = { 0 };
	struct toggler t = { .dev = add_fake(&f, 0x10, 0), .rounds = 20000 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, toggle_intx, &t), 0);
	for (unsigned i = 0; i < 2000; i++)
		cfg_write(1, 4, PCI_COMMAND_MEMORY | ((i & 1) ? PCI_COMMAND_INTX_OFF : 0), 2);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	cfg_write(1, 4, PCI_COMMAND_MEMORY, 2);
	ck_assert_int_eq(irqs.level[LAYOUT_IRQ_PCI_FIRST + 1], 0);
	ck_assert_uint_eq(host.pin_count[1], 0);
}
END_TEST

START_TEST(windows_are_claimed_once)
{
	struct pci_host other;
	struct irq_line line = { 0 };
	ck_assert_int_eq(pci_host_init(&other, &io, &mmio, line), -EBUSY);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, conf1_probe);
	tcase_add_test(tc, host_bridge_and_absent_devices);
	tcase_add_test(tc, registration_places_bars_and_interrupt_line);
	tcase_add_test(tc, bar_sizing_and_moves);
	tcase_add_test(tc, intx_levels_disable_and_sharing);
	tcase_add_test(tc, bad_registrations);
	tcase_add_test(tc, io_bars);
	tcase_add_test(tc, intx_from_another_thread);
	tcase_add_test(tc, windows_are_claimed_once);
	suite_add_tcase(s, tc);
	return check_run(s);
}
