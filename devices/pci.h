/* PCI bus 0 behind configuration mechanism #1 (address port 0xcf8, data 0xcfc..0xcff), as Linux finds it
 * with `pci=conf1`. A host bridge sits at 00:00.0; devices register at the next free slot with up to six
 * 32-bit memory or I/O BARs. The host claims ONE window on the MMIO bus (LAYOUT_PCI_MMIO..LAYOUT_PCI_MMIO_END)
 * and one on the I/O bus (LAYOUT_PCI_IO..LAYOUT_PCI_IO_END) and forwards each access to the BAR that
 * decodes it now, so the guest may move BARs freely.
 * INTx: slot N's INTx# (x = A..D) is IOAPIC pin LAYOUT_IRQ_PCI_FIRST + (N + x) % 8, level-triggered and
 * shared (pci_intx_gsi; the MP table and ACPI's _PRT say the same).
 * Port 0xcf9, a byte inside the configuration window, is the PC chipset's reset control register: a byte
 * access there goes to the handler the machine attaches (pci_host_attach_port_cf9), as on a PC.
 * Threads: configuration space, BAR decoding and MMIO/IO dispatch belong to the vCPU thread; a device may
 * set its INTx level or ask for its bus-master bit from any thread (the host's lock covers those, and it
 * is never held while a device's BAR handler runs). */
#ifndef LBVM_DEVICES_PCI_H
#define LBVM_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

#define PCI_SLOTS        32
#define PCI_NUM_BARS     6
#define PCI_CONFIG_SIZE  256
#define PCI_INTX_PINS    8   /* IOAPIC pins LAYOUT_IRQ_PCI_FIRST .. +7 */

/* Config-space offsets and bits a device model may need. */
#define PCI_VENDOR_ID     0x00
#define PCI_DEVICE_ID     0x02
#define PCI_COMMAND       0x04
#define PCI_STATUS        0x06
#define PCI_CLASS_REV     0x08
#define PCI_HEADER_TYPE   0x0e
#define PCI_BAR0          0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID     0x2e
#define PCI_ROM_ADDRESS   0x30
#define PCI_INT_LINE      0x3c
#define PCI_INT_PIN       0x3d

#define PCI_COMMAND_IO       0x0001
#define PCI_COMMAND_MEMORY   0x0002
#define PCI_COMMAND_MASTER   0x0004
#define PCI_COMMAND_INTX_OFF 0x0400
#define PCI_STATUS_INTX      0x0008 /* the device's INTx is asserted (whether or not it is disabled) */

#define PCI_INTA 1 /* Interrupt Pin register value */

/* A BAR's guest accesses: offset inside the BAR, 1/2/4/8 bytes, little-endian data. */
typedef void (*pci_bar_read_fn)(void *opaque, unsigned bar, uint64_t offset, void *data, unsigned size);
typedef void (*pci_bar_write_fn)(void *opaque, unsigned bar, uint64_t offset, const void *data, unsigned size);

struct pci_device_info {
	uint16_t vendor, device;
	uint32_t class_code;      /* class << 16 | subclass << 8 | prog-if, e.g. 0x010601 */
	uint8_t revision;
	uint16_t subsys_vendor, subsys;
	uint8_t int_pin;          /* 0: no interrupt, PCI_INTA */
	uint32_t bar_size[PCI_NUM_BARS]; /* 0: absent; else a power of two >= 16: a 32-bit memory BAR */
	uint8_t io_bars;          /* bit n set: BAR n is an I/O BAR instead (size a power of two >= 4) */
	pci_bar_read_fn read;
	pci_bar_write_fn write;
	void *opaque;
	const char *name;
};

struct pci_host;

struct pci_device {
	struct pci_host *host;
	unsigned slot;
	struct pci_device_info info;
	uint8_t cfg[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];   /* bits the guest may change */
	uint8_t initial[PCI_CONFIG_SIZE]; /* the registration-time image, restored by pci_host_reset() */
	bool intx_level;                  /* what the device asks for */
	bool intx_asserted;               /* what it currently contributes to its IOAPIC pin */
	unsigned gsi;                     /* IOAPIC pin of its INTx */
};

struct pci_host {
	struct bus *io, *mmio;
	struct irq_line intx;             /* .set/.opaque used; .gsi is chosen per device */
	uint32_t config_address;          /* port 0xcf8 */
	struct pci_device *slots[PCI_SLOTS];
	unsigned pin_count[PCI_INTX_PINS]; /* devices asserting each shared pin */
	uint64_t next_mmio;               /* where the next memory BAR is placed */
	uint64_t next_io;                 /* where the next I/O BAR is placed */
	pthread_mutex_t lock;             /* INTx state, STATUS and COMMAND against other threads */
	bus_read_fn cf9_read;             /* byte accesses to port 0xcf9, or NULL */
	bus_write_fn cf9_write;
	void *cf9_dev;
};

/* One row of the INTx routing table, for MP-table interrupt entries. */
struct pci_intx_route {
	unsigned slot;
	unsigned pin;  /* PCI_INTA */
	unsigned gsi;  /* IOAPIC pin */
};

/* Claim 0xcf8..0xcff on `io` and the PCI MMIO window on `mmio`, register the host bridge at 00:00.0.
 * `intx` carries the machine's set-level callback. 0 or -errno (-EBUSY when a window is taken). */
int pci_host_init(struct pci_host *host, struct bus *io, struct bus *mmio, struct irq_line intx);
void pci_host_destroy(struct pci_host *host);
/* Restore every device's config space to its registration state (BARs back home, decoding off). */
void pci_host_reset(struct pci_host *host);

/* Register a device at the next free slot; its BARs get addresses from LAYOUT_PCI_MMIO (LAYOUT_PCI_IO for
 * I/O BARs) upward and its Interrupt Line the IOAPIC pin. 0 with *out set, -EINVAL for a bad BAR size,
 * -ENOSPC when the bus or a window is full, -ENOMEM. The host owns the device. */
int pci_host_register(struct pci_host *host, const struct pci_device_info *info, struct pci_device **out);

/* The device's INTx level (1 asserted). Honours COMMAND.INTX_DISABLE; shared pins are ORed. Any thread. */
void pci_device_set_intx(struct pci_device *dev, int level);
/* Whether the guest lets the device master the bus (COMMAND.BME): without it a device must not touch
 * guest memory (no DMA, no FIS delivery). Any thread. */
bool pci_device_bus_master(const struct pci_device *dev);
/* Current base of a BAR as the guest programmed it: a guest-physical address, or a port for an I/O BAR. */
uint64_t pci_device_bar_addr(const struct pci_device *dev, unsigned bar);

/* The IOAPIC pin of slot `slot`'s interrupt pin `pin` (PCI_INTA .. PCI_INTA + 3). */
unsigned pci_intx_gsi(unsigned slot, unsigned pin);
/* Hand byte accesses to port 0xcf9 (the reset control register) to another device. */
void pci_host_attach_port_cf9(struct pci_host *host, bus_read_fn read, bus_write_fn write, void *dev);

/* Fill up to `max` routes (devices with an interrupt pin, by slot); returns how many exist. */
size_t pci_host_intx_routes(const struct pci_host *host, struct pci_intx_route *out, size_t max);

/* The bus handlers (exposed for tests that drive the host without a struct bus). */
void pci_host_io_read(void *opaque, uint64_t offset, void *data, unsigned size);
void pci_host_io_write(void *opaque, uint64_t offset, const void *data, unsigned size);
void pci_host_mmio_read(void *opaque, uint64_t offset, void *data, unsigned size);
void pci_host_mmio_write(void *opaque, uint64_t offset, const void *data, unsigned size);
void pci_host_iobar_read(void *opaque, uint64_t offset, void *data, unsigned size);
void pci_host_iobar_write(void *opaque, uint64_t offset, const void *data, unsigned size);

#endif
