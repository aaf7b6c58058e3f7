#include "devices/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/layout.h"

/* Port 0xcf8: configuration address. */
#define CONFIG_ENABLE     UINT32_C(0x80000000)
#define CONFIG_ADDR_MASK  UINT32_C(0x80fffffc) /* enable, bus, device, function, register; rest reads 0 */
#define CONFIG_BUS(a)     (((a) >> 16) & 0xff)
#define CONFIG_SLOT(a)    (((a) >> 11) & 0x1f)
#define CONFIG_FN(a)      (((a) >> 8) & 0x7)
#define CONFIG_REG(a)     ((a) & 0xfc)
#define PORT_ADDRESS      0  /* offsets inside the 8-port window at 0xcf8 */
#define PORT_CF9          1  /* the reset control register's byte */
#define PORT_DATA         4

/* The host bridge at 00:00.0: a PCI host bridge with no BARs and no interrupt. */
#define BRIDGE_VENDOR     0x1b36
#define BRIDGE_DEVICE     0x0008
#define BRIDGE_CLASS      0x060000

#define BAR_MEM_MASK      UINT32_C(0xfffffff0) /* low 4 bits: memory, 32-bit, not prefetchable = 0 */
#define BAR_MIN_SIZE      16u
#define BAR_IO_MASK       UINT32_C(0xfffffffc)
#define BAR_IO_SPACE      UINT32_C(0x1)        /* bit 0 of an I/O BAR */
#define BAR_IO_MIN_SIZE   4u
#define COMMAND_WRITABLE  (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF | \
			   0x0040 /* parity */ | 0x0100 /* SERR# */)
#define CACHE_LINE_SIZE   0x0c
#define LATENCY_TIMER     0x0d

static uint32_t cfg_get32(const uint8_t *cfg, unsigned off)
{
	return (uint32_t)cfg[off] | (uint32_t)cfg[off + 1] << 8 | (uint32_t)cfg[off + 2] << 16 |
	       (uint32_t)cfg[off + 3] << 24;
}

static uint16_t cfg_get16(const uint8_t *cfg, unsigned off)
{
	return (uint16_t)(cfg[off] | cfg[off + 1] << 8);
}

static void cfg_put32(uint8_t *cfg, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void cfg_put16(uint8_t *cfg, unsigned off, uint16_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

static void wmask_put16(uint8_t *wmask, unsigned off, uint16_t v)
{
	cfg_put16(wmask, off, v);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* ---- INTx -------------------------------------------------------------------------------------- */

static void intx_update(struct pci_device *dev)
{
	struct pci_host *host = dev->host;
	uint16_t command = cfg_get16(dev->cfg, PCI_COMMAND);
	bool want = dev->intx_level && !(command & PCI_COMMAND_INTX_OFF) && dev->info.int_pin;
	uint16_t status = cfg_get16(dev->cfg, PCI_STATUS);
	status = dev->intx_level ? (status | PCI_STATUS_INTX) : (status & ~PCI_STATUS_INTX);
	cfg_put16(dev->cfg, PCI_STATUS, status);
	if (want == dev->intx_asserted)
		return;
	dev->intx_asserted = want;
	unsigned idx = dev->gsi - LAYOUT_IRQ_PCI_FIRST;
	/* The pin is shared: it is high while any device on it asserts. */
	if (want && host->pin_count[idx]++ == 0) {
		struct irq_line line = host->intx;
		line.gsi = dev->gsi;
		irq_line_set(&line, 1);
	} else if (!want && --host->pin_count[idx] == 0) {
		struct irq_line line = host->intx;
		line.gsi = dev->gsi;
		irq_line_set(&line, 0);
	}
}

void pci_device_set_intx(struct pci_device *dev, int level)
{
	pthread_mutex_lock(&dev->host->lock);
	dev->intx_level = level != 0;
	intx_update(dev);
	pthread_mutex_unlock(&dev->host->lock);
}

bool pci_device_bus_master(const struct pci_device *dev)
{
	pthread_mutex_lock(&dev->host->lock);
	bool on = cfg_get16(dev->cfg, PCI_COMMAND) & PCI_COMMAND_MASTER;
	pthread_mutex_unlock(&dev->host->lock);
	return on;
}

/* ---- configuration space --------------------------------------------------------------------- */

static struct pci_device *selected(const struct pci_host *host)
{
	uint32_t a = host->config_address;
	if (!(a & CONFIG_ENABLE) || CONFIG_BUS(a) != 0 || CONFIG_FN(a) != 0)
		return NULL;
	return host->slots[CONFIG_SLOT(a)];
}

static void config_write(struct pci_device *dev, unsigned reg, uint32_t val, unsigned size)
{
	for (unsigned i = 0; i < size && reg + i < PCI_CONFIG_SIZE; i++) {
		uint8_t m = dev->wmask[reg + i];
		uint8_t b = (uint8_t)(val >> (8 * i));
		dev->cfg[reg + i] = (uint8_t)((dev->cfg[reg + i] & ~m) | (b & m));
	}
	if (reg < PCI_COMMAND + 2 && reg + size > PCI_COMMAND)
		intx_update(dev); /* INTx disable may have changed */
}

void pci_host_io_read(void *opaque, uint64_t offset, void *data, unsigned size)
{
	struct pci_host *host = opaque;
	uint32_t v = UINT32_MAX;
	if (offset == PORT_CF9 && size == 1 && host->cf9_read) {
		host->cf9_read(host->cf9_dev, 0, data, size);
		return;
	}
	if (offset < PORT_DATA) {
		/* Only the dword at 0xcf8 is the address register; a narrower read sees its bytes. */
		v = host->config_address >> (8 * offset);
	} else {
		const struct pci_device *dev = selected(host);
		unsigned reg = CONFIG_REG(host->config_address) + (unsigned)(offset - PORT_DATA);
		if (dev) {
			v = 0;
			pthread_mutex_lock(&host->lock); /* STATUS changes with INTx, from any thread */
			for (unsigned i = 0; i < size && i < 4; i++)
				v |= (uint32_t)(reg + i < PCI_CONFIG_SIZE ? dev->cfg[reg + i] : 0xff) << (8 * i);
			pthread_mutex_unlock(&host->lock);
		}
	}
	memset(data, 0xff, size);
	memcpy(data, &v, size < 4 ? size : 4);
}

void pci_host_io_write(void *opaque, uint64_t offset, const void *data, unsigned size)
{
	struct pci_host *host = opaque;
	uint32_t v = 0;
	memcpy(&v, data, size < 4 ? size : 4);
	if (offset == PORT_CF9 && size == 1 && host->cf9_write) {
		host->cf9_write(host->cf9_dev, 0, data, size);
		return;
	}
	if (offset < PORT_DATA) {
		if (offset == PORT_ADDRESS && size == 4)
			host->config_address = v & CONFIG_ADDR_MASK;
		return; /* byte/word writes at 0xcf8..0xcfb are not the address register */
	}
	struct pci_device *dev = selected(host);
	if (!dev)
		return;
	unsigned reg = CONFIG_REG(host->config_address) + (unsigned)(offset - PORT_DATA);
	/* An access may not cross the dword: clip to what is left of it. */
	unsigned room = 4 - (unsigned)(offset - PORT_DATA);
	pthread_mutex_lock(&host->lock);
	config_write(dev, reg, v, size < room ? size : room);
	pthread_mutex_unlock(&host->lock);
}

/* ---- MMIO and I/O windows ------------------------------------------------------------------- */

static bool bar_is_io(const struct pci_device *dev, unsigned bar)
{
	return dev->info.io_bars & (1u << bar);
}

uint64_t pci_device_bar_addr(const struct pci_device *dev, unsigned bar)
{
	if (bar >= PCI_NUM_BARS || !dev->info.bar_size[bar])
		return 0;
	return cfg_get32(dev->cfg, PCI_BAR0 + 4 * bar) & (bar_is_io(dev, bar) ? BAR_IO_MASK : BAR_MEM_MASK);
}

/* The device and BAR of the given space (memory or I/O) that decode [addr, addr+size) now, or NULL. */
static struct pci_device *decode(const struct pci_host *host, bool io, uint64_t addr, unsigned size, unsigned *bar,
				 uint64_t *off)
{
	uint16_t enable = io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		struct pci_device *dev = host->slots[s];
		if (!dev || !(cfg_get16(dev->cfg, PCI_COMMAND) & enable))
			continue;
		for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
			uint64_t len = dev->info.bar_size[b];
			uint64_t base = pci_device_bar_addr(dev, b);
			if (!len || bar_is_io(dev, b) != io || addr < base || addr - base >= len ||
			    size > len - (addr - base))
				continue;
			*bar = b;
			*off = addr - base;
			return dev;
		}
	}
	return NULL;
}

void pci_host_mmio_read(void *opaque, uint64_t offset, void *data, unsigned size)
{
	struct pci_host *host = opaque;
	unsigned bar;
	uint64_t off;
	struct pci_device *dev = decode(host, false, LAYOUT_PCI_MMIO + offset, size, &bar, &off);
	if (!dev || !dev->info.read) {
		memset(data, 0xff, size);
		return;
	}
	dev->info.read(dev->info.opaque, bar, off, data, size);
}

void pci_host_mmio_write(void *opaque, uint64_t offset, const void *data, unsigned size)
{
	struct pci_host *host = opaque;
	unsigned bar;
	uint64_t off;
	struct pci_device *dev = decode(host, false, LAYOUT_PCI_MMIO + offset, size, &bar, &off);
	if (dev && dev->info.write)
		dev->info.write(dev->info.opaque, bar, off, data, size);
}

void pci_host_iobar_read(void *opaque, uint64_t offset, void *data, unsigned size)
{
	struct pci_host *host = opaque;
	unsigned bar;
	uint64_t off;
	struct pci_device *dev = decode(host, true, LAYOUT_PCI_IO + offset, size, &bar, &off);
	if (!dev || !dev->info.read) {
		memset(data, 0xff, size);
		return;
	}
	dev->info.read(dev->info.opaque, bar, off, data, size);
}

void pci_host_iobar_write(void *opaque, uint64_t offset, const void *data, unsigned size)
{
	struct pci_host *host = opaque;
	unsigned bar;
	uint64_t off;
	struct pci_device *dev = decode(host, true, LAYOUT_PCI_IO + offset, size, &bar, &off);
	if (dev && dev->info.write)
		dev->info.write(dev->info.opaque, bar, off, data, size);
}

/* ---- registration ---------------------------------------------------------------------------- */

static int place_bars(struct pci_host *host, struct pci_device *dev)
{
	uint64_t next_mem = host->next_mmio, next_io = host->next_io;
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		uint32_t len = dev->info.bar_size[b];
		if (!len)
			continue;
		bool io = bar_is_io(dev, b);
		if (!is_pow2(len) || len < (io ? BAR_IO_MIN_SIZE : BAR_MIN_SIZE))
			return -EINVAL;
		uint64_t *next = io ? &next_io : &next_mem, end = io ? LAYOUT_PCI_IO_END : LAYOUT_PCI_MMIO_END;
		uint64_t base = (*next + len - 1) & ~(uint64_t)(len - 1);
		if (base > end || len > end - base)
			return -ENOSPC;
		cfg_put32(dev->cfg, PCI_BAR0 + 4 * b, (uint32_t)base | (io ? BAR_IO_SPACE : 0));
		cfg_put32(dev->wmask, PCI_BAR0 + 4 * b, ~(len - 1) & (io ? BAR_IO_MASK : BAR_MEM_MASK));
		*next = base + len;
	}
	host->next_mmio = next_mem;
	host->next_io = next_io;
	return 0;
}

static int add_device(struct pci_host *host, unsigned slot, const struct pci_device_info *info,
		      struct pci_device **out)
{
	struct pci_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->host = host;
	dev->slot = slot;
	dev->info = *info;
	dev->gsi = pci_intx_gsi(slot, info->int_pin ? info->int_pin : PCI_INTA);
	cfg_put16(dev->cfg, PCI_VENDOR_ID, info->vendor);
	cfg_put16(dev->cfg, PCI_DEVICE_ID, info->device);
	cfg_put32(dev->cfg, PCI_CLASS_REV, info->class_code << 8 | info->revision);
	cfg_put16(dev->cfg, PCI_SUBSYS_VENDOR, info->subsys_vendor);
	cfg_put16(dev->cfg, PCI_SUBSYS_ID, info->subsys);
	wmask_put16(dev->wmask, PCI_COMMAND, COMMAND_WRITABLE);
	dev->wmask[CACHE_LINE_SIZE] = 0xff;
	dev->wmask[LATENCY_TIMER] = 0xff;
	dev->wmask[PCI_INT_LINE] = 0xff;
	if (info->int_pin) {
		dev->cfg[PCI_INT_PIN] = info->int_pin;
		dev->cfg[PCI_INT_LINE] = (uint8_t)dev->gsi; /* what firmware would have written */
	}
	int err = place_bars(host, dev);
	if (err) {
		free(dev);
		return err;
	}
	/* Like firmware: decoding on for the spaces a device has BARs in, so Linux keeps the placement. */
	uint16_t command = 0;
	for (unsigned b = 0; b < PCI_NUM_BARS; b++)
		if (info->bar_size[b])
			command |= bar_is_io(dev, b) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	cfg_put16(dev->cfg, PCI_COMMAND, command);
	memcpy(dev->initial, dev->cfg, sizeof(dev->cfg));
	host->slots[slot] = dev;
	if (out)
		*out = dev;
	return 0;
}

int pci_host_register(struct pci_host *host, const struct pci_device_info *info, struct pci_device **out)
{
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++)
		if (!host->slots[slot])
			return add_device(host, slot, info, out);
	return -ENOSPC;
}

int pci_host_init(struct pci_host *host, struct bus *io, struct bus *mmio, struct irq_line intx)
{
	memset(host, 0, sizeof(*host));
	host->io = io;
	host->mmio = mmio;
	host->intx = intx;
	host->next_mmio = LAYOUT_PCI_MMIO;
	host->next_io = LAYOUT_PCI_IO;
	pthread_mutex_init(&host->lock, NULL);
	const struct pci_device_info bridge = {
		.vendor = BRIDGE_VENDOR, .device = BRIDGE_DEVICE, .class_code = BRIDGE_CLASS, .name = "host bridge",
	};
	int err = add_device(host, 0, &bridge, NULL);
	if (err) {
		pthread_mutex_destroy(&host->lock);
		return err;
	}
	err = bus_add(io, LAYOUT_PORT_PCI_CONFIG, 8, pci_host_io_read, pci_host_io_write, host, "pci-conf1");
	if (!err)
		err = bus_add(mmio, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_END - LAYOUT_PCI_MMIO, pci_host_mmio_read,
			      pci_host_mmio_write, host, "pci-mmio");
	if (!err)
		err = bus_add(io, LAYOUT_PCI_IO, LAYOUT_PCI_IO_END - LAYOUT_PCI_IO, pci_host_iobar_read,
			      pci_host_iobar_write, host, "pci-io");
	if (err) {
		/* bus has no removal: init fails only on a machine wiring mistake, and the caller gives up. */
		pci_host_destroy(host);
	}
	return err;
}

void pci_host_destroy(struct pci_host *host)
{
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		free(host->slots[s]);
		host->slots[s] = NULL;
	}
	pthread_mutex_destroy(&host->lock);
}

void pci_host_reset(struct pci_host *host)
{
	host->config_address = 0;
	pthread_mutex_lock(&host->lock);
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		struct pci_device *dev = host->slots[s];
		if (!dev)
			continue;
		memcpy(dev->cfg, dev->initial, sizeof(dev->cfg));
		intx_update(dev); /* the device keeps its level; INTx disable is off again */
	}
	pthread_mutex_unlock(&host->lock);
}

unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	/* The usual swizzle: neighbouring slots spread their INTA# over the pins. */
	return LAYOUT_IRQ_PCI_FIRST + (slot + pin - PCI_INTA) % PCI_INTX_PINS;
}

void pci_host_attach_port_cf9(struct pci_host *host, bus_read_fn read, bus_write_fn write, void *dev)
{
	host->cf9_read = read;
	host->cf9_write = write;
	host->cf9_dev = dev;
}

size_t pci_host_intx_routes(const struct pci_host *host, struct pci_intx_route *out, size_t max)
{
	size_t n = 0;
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		const struct pci_device *dev = host->slots[s];
		if (!dev || !dev->info.int_pin)
			continue;
		if (n < max)
			out[n] = (struct pci_intx_route){ .slot = s, .pin = dev->info.int_pin, .gsi = dev->gsi };
		n++;
	}
	return n;
}
