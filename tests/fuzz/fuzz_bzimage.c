/* libFuzzer target: a kernel file is the user's input, and a guest kernel built inside a bootstrap is as
 * good as untrusted: the bzImage parser and the load plan must refuse or place any file safely. The input
 * either is the kernel file itself (first byte odd) or patches a small valid bzImage template (a 2-byte
 * offset and a value per patch); a header chooses the RAM size, the initrd size, the entry mode and the
 * command-line length. An accepted plan must keep every piece inside low RAM and apart (kernel, its
 * decompression room, initrd below initrd_addr_max); it is then written into guest RAM with an MP table,
 * and the e820 map is built for the chosen RAM size. */
#include <stdlib.h>
#include <string.h>

#include "boot/e820.h"
#include "boot/acpi.h"
#include "boot/loader.h"
#include "common/guest_mem.h"
#include "common/layout.h"
#include "tests/fuzz/fuzz_input.h"

#define TEMPLATE_SIZE 2048           /* 1 setup sector + boot sector, then a 1 KiB "kernel" */
#define WRITE_RAM     (64 * MiB)     /* the RAM boot_write gets (calloc'ed once, touched sparsely) */
#define MAX_FILE      (64 * 1024)
#define CMDLINE_MAX   4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t template[TEMPLATE_SIZE];
static uint8_t *ram;
static char cmdline[CMDLINE_MAX + 1];

static void put16(size_t off, uint16_t v) { template[off] = (uint8_t)v; template[off + 1] = (uint8_t)(v >> 8); }
static void put32(size_t off, uint32_t v) { put16(off, (uint16_t)v); put16(off + 2, (uint16_t)(v >> 16)); }

static void init_once(void)
{
	if (ram)
		return;
	ram = calloc(1, WRITE_RAM);
	if (!ram)
		abort();
	template[0x1f1] = 1;                 /* setup_sects: setup is 2 * 512 bytes */
	put32(0x1f4, 1024 / 16);             /* syssize */
	put16(0x1fe, 0xaa55);
	template[0x201] = 0x66;              /* header ends at 0x268 */
	put32(0x202, 0x53726448);            /* "HdrS" */
	put16(0x206, 0x020f);
	template[0x211] = 0x01;              /* LOADED_HIGH */
	put32(0x214, 0x100000);
	put32(0x22c, 0x7fffffff);            /* initrd_addr_max */
	put32(0x230, 0x200000);              /* kernel_alignment */
	template[0x234] = 1;                 /* relocatable */
	put16(0x236, 0x0001);                /* XLF_KERNEL_64 */
	put32(0x238, 2047);                  /* cmdline_size */
	put32(0x258, 0x1000000);             /* pref_address */
	put32(0x260, 0x200000);              /* init_size */
	for (size_t i = 1024; i < TEMPLATE_SIZE; i++)
		template[i] = (uint8_t)i;
	memset(cmdline, 'c', CMDLINE_MAX);
}

static void check_plan(const struct boot_plan *p, uint64_t ram_size, uint64_t initrd_size)
{
	uint64_t low_end = ram_size < LAYOUT_PCI_HOLE ? ram_size : LAYOUT_PCI_HOLE;
	if (p->kernel_limit > low_end || p->kernel_addr < LAYOUT_KERNEL ||
	    p->bz.kernel_size > p->kernel_limit - p->kernel_addr || p->cmdline_len > p->bz.cmdline_size ||
	    p->cmdline_len >= LAYOUT_CMDLINE_MAX)
		abort();
	if (initrd_size) {
		if (p->initrd_addr < p->kernel_limit || p->initrd_addr % 4096 || p->initrd_size != initrd_size ||
		    initrd_size > low_end - p->initrd_addr ||
		    p->initrd_addr + initrd_size - 1 > (uint64_t)p->bz.initrd_addr_max)
			abort();
	}
	if (p->entry_rip != p->kernel_addr + (p->entry64 ? 0x200 : 0) || p->entry_rsi != LAYOUT_ZERO_PAGE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	struct fuzz_input in = { data, size };
	uint8_t mode = (uint8_t)fuzz_take(&in, 1);
	uint64_t ram_size = LAYOUT_MIN_RAM + (fuzz_take(&in, 4) % (LAYOUT_MAX_RAM / MiB)) * MiB;
	uint64_t initrd_size = fuzz_take(&in, 4) << (mode & 0x10 ? 8 : 0);
	enum boot_entry entry = (enum boot_entry)((mode >> 1) % 3);
	size_t cmdline_len = fuzz_take(&in, 2) % (CMDLINE_MAX + 1);
	uint8_t *file;
	size_t len;
	if (mode & 1) { /* the rest of the input is the kernel file */
		len = in.left < MAX_FILE ? in.left : MAX_FILE;
		file = malloc(len ? len : 1);
		if (!file)
			abort();
		memcpy(file, in.p, len);
	} else {
		len = TEMPLATE_SIZE;
		file = malloc(len);
		if (!file)
			abort();
		memcpy(file, template, len);
		while (in.left >= 3) {
			size_t off = fuzz_take(&in, 2) % TEMPLATE_SIZE;
			file[off] = (uint8_t)fuzz_take(&in, 1);
		}
		if (mode & 0x20)
			len -= (size_t)(mode & 0xc0) * 4; /* truncated copies */
	}
	cmdline[cmdline_len] = '\0';
	struct boot_plan plan;
	if (boot_plan(&plan, file, len, ram_size, initrd_size, cmdline, entry) == 0)
		check_plan(&plan, ram_size, initrd_size);
	else if (!plan.why[0])
		abort(); /* every refusal says why */
	struct e820_map map;
	e820_build(&map, ram_size);
	if (map.count == 0 || map.count > E820_MAP_MAX)
		abort();

	/* The same file in the RAM boot_write gets, written for real. */
	if (boot_plan(&plan, file, len, WRITE_RAM, initrd_size % (8 * MiB), cmdline, entry) == 0) {
		check_plan(&plan, WRITE_RAM, initrd_size % (8 * MiB));
		struct guest_mem mem;
		guest_mem_wrap(&mem, ram, WRITE_RAM);
		struct mptable_config mp = { .cpu_signature = (uint32_t)ram_size, .npci_irqs = mode % (MPTABLE_MAX_PCI_IRQS + 1) };
		for (unsigned i = 0; i < mp.npci_irqs; i++)
			mp.pci_irqs[i] = (struct mptable_pci_irq){ .slot = (uint8_t)i, .pin = 1, .ioapic_pin = (uint8_t)(16 + i % 8) };
		/* ACPI tables with the same PCI routes as the MP table, as the machine writes them */
		struct acpi_config acpi = { .slp_typ_s5 = 5, .reset_value = 6, .npci_routes = mp.npci_irqs };
		for (unsigned i = 0; i < mp.npci_irqs && i < ACPI_MAX_PCI_ROUTES; i++)
			acpi.pci_routes[i] = (struct acpi_pci_route){ .slot = (uint8_t)i, .pin = 1, .gsi = (uint8_t)(16 + i % 8) };
		if (acpi.npci_routes > ACPI_MAX_PCI_ROUTES)
			acpi.npci_routes = ACPI_MAX_PCI_ROUTES;
		if (boot_write(&plan, &mem, file, cmdline, &mp, &acpi) != 0)
			abort(); /* a plan for this RAM always fits it */
	}
	cmdline[cmdline_len] = 'c';
	free(file);
	return 0;
}
