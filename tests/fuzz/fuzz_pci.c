/* libFuzzer target: PCI configuration mechanism #1 and the MMIO window as a guest sees them. Three
 * devices (two memory BARs of different sizes with INTA, one small BAR without an interrupt, one INTA
 * device without BARs, placed in slots 1 and 9 so that they share an IOAPIC pin) take config reads and writes
 * of every width at 0xcf8..0xcff, moves of their BARs, MMIO accesses anywhere near them, INTx changes and
 * resets. Each BAR handler checks that it is called only for an access that lies wholly inside that BAR
 * while memory decode is on; the target checks that every IOAPIC pin is high exactly when a device on it
 * asserts INTx with INTx-disable clear. */
#include <stdlib.h>
#include <string.h>

#include "common/layout.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_OPS 512
#define NDEVS   3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pin_level[PCI_INTX_PINS];
static struct pci_device *devs[NDEVS];

static void on_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	if (gsi < LAYOUT_IRQ_PCI_FIRST || gsi >= LAYOUT_IRQ_PCI_FIRST + PCI_INTX_PINS || (level != 0 && level != 1) ||
	    pin_level[gsi - LAYOUT_IRQ_PCI_FIRST] == level)
		abort(); /* a pin outside the PCI range, a bad level, or a "change" that changes nothing */
	pin_level[gsi - LAYOUT_IRQ_PCI_FIRST] = level;
}

static void check_access(void *opaque, unsigned bar, uint64_t offset, unsigned size)
{
	const struct pci_device *dev = *(struct pci_device **)opaque;
	uint16_t command = (uint16_t)(dev->cfg[PCI_COMMAND] | dev->cfg[PCI_COMMAND + 1] << 8);
	if (bar >= PCI_NUM_BARS || !dev->info.bar_size[bar] || !(command & PCI_COMMAND_MEMORY) ||
	    offset >= dev->info.bar_size[bar] || size > dev->info.bar_size[bar] - offset || size == 0 || size > 8)
		abort();
}

static void bar_read(void *opaque, unsigned bar, uint64_t offset, void *data, unsigned size)
{
	check_access(opaque, bar, offset, size);
	memset(data, 0x5a, size);
}

static void bar_write(void *opaque, unsigned bar, uint64_t offset, const void *data, unsigned size)
{
	(void)data;
	check_access(opaque, bar, offset, size);
}

static void check_pins(const struct pci_host *host)
{
	int want[PCI_INTX_PINS] = { 0 };
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		const struct pci_device *dev = host->slots[s];
		if (!dev)
			continue;
		uint16_t command = (uint16_t)(dev->cfg[PCI_COMMAND] | dev->cfg[PCI_COMMAND + 1] << 8);
		if (dev->intx_level && dev->info.int_pin && !(command & PCI_COMMAND_INTX_OFF))
			want[dev->gsi - LAYOUT_IRQ_PCI_FIRST] = 1;
	}
	for (unsigned p = 0; p < PCI_INTX_PINS; p++)
		if (want[p] != pin_level[p])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bus io, mmio;
	struct pci_host host;
	bus_init(&io);
	bus_init(&mmio);
	memset(pin_level, 0, sizeof(pin_level));
	struct irq_line line = { .set = on_irq };
	if (pci_host_init(&host, &io, &mmio, line))
		abort();
	static const uint32_t bars[NDEVS][PCI_NUM_BARS] = {
		{ [0] = 0x100000, [5] = 0x1000 },
		{ [2] = 0x10 },
		{ 0 },
	};
	static const uint8_t pins[NDEVS] = { PCI_INTA, 0, PCI_INTA };
	for (unsigned d = 0; d < NDEVS; d++) {
		if (d == NDEVS - 1) /* fillers up to slot 8, so the last device lands on slot 9: slot 1's pin */
			for (unsigned f = 0; f < PCI_INTX_PINS - 2; f++) {
				struct pci_device_info filler = { .vendor = 0x1234, .device = 0xff, .class_code = 0xff0000,
								  .name = "filler" };
				if (pci_host_register(&host, &filler, NULL))
					abort();
			}
		struct pci_device_info info = { .vendor = 0x1234, .device = (uint16_t)d, .class_code = 0xff0000,
						.int_pin = pins[d], .read = bar_read, .write = bar_write,
						.opaque = &devs[d], .name = "fuzz" };
		memcpy(info.bar_size, bars[d], sizeof(info.bar_size));
		if (pci_host_register(&host, &info, &devs[d]))
			abort();
	}
	struct fuzz_input in = { data, size };
	for (unsigned ops = 0; in.left && ops < MAX_OPS; ops++) {
		uint8_t op = (uint8_t)fuzz_take(&in, 1);
		unsigned len = 1u << ((op >> 3) % 4); /* 1, 2, 4 or 8 bytes */
		uint64_t v = fuzz_take(&in, len);
		switch (op & 7) {
		case 0: { /* select a register: enable bit, bus, slot, function, register from the input */
			uint32_t a = (uint32_t)fuzz_take(&in, 4);
			bus_write(&io, LAYOUT_PORT_PCI_CONFIG, &a, (op & 0x40) ? 4 : len);
			break;
		}
		case 1: /* config data write at 0xcfc..0xcff (or the address port) */
			bus_write(&io, LAYOUT_PORT_PCI_CONFIG + fuzz_take(&in, 1) % 8, &v, len);
			break;
		case 2:
			bus_read(&io, LAYOUT_PORT_PCI_CONFIG + fuzz_take(&in, 1) % 8, &v, len);
			break;
		case 3: { /* MMIO near a BAR of one of the devices, or anywhere in the window */
			const struct pci_device *dev = devs[fuzz_take(&in, 1) % NDEVS];
			uint64_t base = (op & 0x80) ? LAYOUT_PCI_MMIO + fuzz_take(&in, 4) % (LAYOUT_PCI_MMIO_END - LAYOUT_PCI_MMIO)
						    : pci_device_bar_addr(dev, (unsigned)fuzz_take(&in, 1) % PCI_NUM_BARS);
			uint64_t addr = base + fuzz_take(&in, 2) - 0x100;
			if (op & 0x40)
				bus_write(&mmio, addr, &v, len);
			else
				bus_read(&mmio, addr, &v, len);
			break;
		}
		case 4:
			pci_device_set_intx(devs[v % NDEVS], (int)(v >> 8) & 1);
			break;
		case 5:
			pci_host_reset(&host);
			break;
		default: { /* a config write through the address and data ports in one go */
			uint32_t a = 0x80000000u | (uint32_t)(v % 4) << 11 | (uint32_t)(fuzz_take(&in, 1) & 0xfc);
			uint32_t val = (uint32_t)fuzz_take(&in, 4);
			bus_write(&io, LAYOUT_PORT_PCI_CONFIG, &a, 4);
			bus_write(&io, LAYOUT_PORT_PCI_CONFIG + 4, &val, 4);
			break;
		}
		}
		check_pins(&host);
	}
	struct pci_intx_route routes[PCI_SLOTS];
	if (pci_host_intx_routes(&host, routes, PCI_SLOTS) != 2)
		abort();
	pci_host_destroy(&host);
	bus_destroy(&io);
	bus_destroy(&mmio);
	return 0;
}
