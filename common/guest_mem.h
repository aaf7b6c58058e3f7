/* Guest RAM: one host mapping, seen by the guest as low RAM below the PCI hole plus high RAM from 4 GiB.
 * Every access a device makes on the guest's behalf goes through guest_mem_ptr(), which refuses any range
 * that is not entirely inside guest RAM — the guest can name any address, lbvm touches only its RAM. */
#ifndef LBVM_COMMON_GUEST_MEM_H
#define LBVM_COMMON_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;      /* the mapping: low RAM first, then high RAM */
	uint64_t size;      /* total RAM in bytes */
	uint64_t low_size;  /* bytes mapped at guest-physical 0 (at most LAYOUT_PCI_HOLE) */
	int owned;          /* 1 when guest_mem_init() made the mapping */
};

/* Map `size` bytes of zeroed guest RAM (lazily backed, hugepage-advised, left out of core dumps: a crash
 * of lbvm must not write the guest's memory, secrets and all, into a core file). 0 or -errno. */
int guest_mem_init(struct guest_mem *mem, uint64_t size);
/* Use a caller-owned buffer as guest RAM (unit tests, fuzzers); the same split at the PCI hole applies. */
void guest_mem_wrap(struct guest_mem *mem, void *buf, uint64_t size);
/* The same with the split chosen: LOW bytes at guest-physical 0 (at most LAYOUT_PCI_HOLE) and HIGH bytes
 * from 4 GiB, both in BUF (LOW + HIGH bytes). Lets tests and fuzzers reach the high-RAM path of
 * guest_mem_ptr without a 3 GiB buffer. */
void guest_mem_wrap_split(struct guest_mem *mem, void *buf, uint64_t low, uint64_t high);
void guest_mem_destroy(struct guest_mem *mem);

/* Bytes of RAM above 4 GiB. */
uint64_t guest_mem_high_size(const struct guest_mem *mem);

/* Host pointer for [gpa, gpa+len), or NULL when any byte of it is not guest RAM (len 0 is refused). */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/* Copies through guest_mem_ptr(): 0, or -EFAULT when the range is not guest RAM. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, size_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, size_t len);

#endif
