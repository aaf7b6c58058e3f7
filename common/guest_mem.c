#include "common/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common/layout.h"

static void split(struct guest_mem *mem, uint64_t size)
{
	mem->size = size;
	mem->low_size = size < LAYOUT_PCI_HOLE ? size : LAYOUT_PCI_HOLE;
}

int guest_mem_init(struct guest_mem *mem, uint64_t size)
{
	/* MAP_NORESERVE: a guest rarely touches all of its RAM; pages are backed when first written. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, size, MADV_HUGEPAGE); /* advice only: fewer TLB misses when THP is available */
	if (madvise(p, size, MADV_DONTDUMP) != 0) {
		int e = errno;
		munmap(p, size);
		return -e;
	}
	mem->host = p;
	mem->owned = 1;
	split(mem, size);
	return 0;
}

void guest_mem_wrap(struct guest_mem *mem, void *buf, uint64_t size)
{
	mem->host = buf;
	mem->owned = 0;
	split(mem, size);
}

void guest_mem_wrap_split(struct guest_mem *mem, void *buf, uint64_t low, uint64_t high)
{
	mem->host = buf;
	mem->owned = 0;
	mem->low_size = low < LAYOUT_PCI_HOLE ? low : LAYOUT_PCI_HOLE;
	mem->size = mem->low_size + high;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->owned && mem->host)
		munmap(mem->host, mem->size);
	mem->host = NULL;
	mem->size = mem->low_size = 0;
}

uint64_t guest_mem_high_size(const struct guest_mem *mem)
{
	return mem->size - mem->low_size;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (len == 0 || !mem->host)
		return NULL;
	/* Written so that no sum can overflow: compare against the room left after gpa. */
	if (gpa < mem->low_size) {
		if (len > mem->low_size - gpa)
			return NULL;
		return mem->host + gpa;
	}
	uint64_t high = guest_mem_high_size(mem);
	if (gpa < LAYOUT_HIGH_RAM || gpa - LAYOUT_HIGH_RAM >= high)
		return NULL;
	if (len > high - (gpa - LAYOUT_HIGH_RAM))
		return NULL;
	return mem->host + mem->low_size + (gpa - LAYOUT_HIGH_RAM);
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, size_t len)
{
	const void *p = guest_mem_ptr(mem, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, size_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}
