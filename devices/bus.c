#include "devices/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

void bus_destroy(struct bus *bus)
{
	free(bus->windows);
	bus_init(bus);
}

int bus_add(struct bus *bus, uint64_t base, uint64_t len, bus_read_fn read, bus_write_fn write, void *dev,
	    const char *name)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	size_t at = 0;
	while (at < bus->count && bus->windows[at].base < base)
		at++;
	/* Overlap with the neighbour before or the one at the insertion point. */
	if (at > 0 && bus->windows[at - 1].base + bus->windows[at - 1].len > base)
		return -EBUSY;
	if (at < bus->count && base + len > bus->windows[at].base)
		return -EBUSY;
	if (bus->count == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 8;
		struct bus_window *w = realloc(bus->windows, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		bus->windows = w;
		bus->cap = cap;
	}
	memmove(&bus->windows[at + 1], &bus->windows[at], (bus->count - at) * sizeof(*bus->windows));
	bus->windows[at] = (struct bus_window){ base, len, read, write, dev, name };
	bus->count++;
	return 0;
}

const struct bus_window *bus_find(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_window *w = &bus->windows[mid];
		if (addr < w->base)
			hi = mid;
		else if (addr - w->base >= w->len)
			lo = mid + 1;
		else
			return w;
	}
	return NULL;
}

bool bus_read(const struct bus *bus, uint64_t addr, void *data, unsigned size)
{
	const struct bus_window *w = bus_find(bus, addr);
	if (!w || !w->read) {
		memset(data, 0xff, size);
		return w != NULL;
	}
	w->read(w->dev, addr - w->base, data, size);
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, const void *data, unsigned size)
{
	const struct bus_window *w = bus_find(bus, addr);
	if (!w)
		return false;
	if (w->write)
		w->write(w->dev, addr - w->base, data, size);
	return true;
}
