/* An address bus (one for I/O ports, one for MMIO): devices claim non-overlapping windows and receive
 * accesses as (offset inside their window, size, data). Unclaimed reads return all ones, as on a PC. */
#ifndef LBVM_DEVICES_BUS_H
#define LBVM_DEVICES_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*bus_read_fn)(void *dev, uint64_t offset, void *data, unsigned size);
typedef void (*bus_write_fn)(void *dev, uint64_t offset, const void *data, unsigned size);

struct bus_window {
	uint64_t base;
	uint64_t len;
	bus_read_fn read;
	bus_write_fn write;
	void *dev;
	const char *name;
};

struct bus {
	struct bus_window *windows; /* sorted by base */
	size_t count;
	size_t cap;
};

void bus_init(struct bus *bus);
void bus_destroy(struct bus *bus);
/* Claim [base, base+len). 0, -EINVAL for an empty or wrapping window, -EBUSY on overlap, -ENOMEM. */
int bus_add(struct bus *bus, uint64_t base, uint64_t len, bus_read_fn read, bus_write_fn write, void *dev,
	    const char *name);
/* The window containing addr, or NULL. */
const struct bus_window *bus_find(const struct bus *bus, uint64_t addr);
/* Dispatch one access of 1..8 bytes; false when no window claims addr (reads then fill 0xff). */
bool bus_read(const struct bus *bus, uint64_t addr, void *data, unsigned size);
bool bus_write(const struct bus *bus, uint64_t addr, const void *data, unsigned size);

#endif
