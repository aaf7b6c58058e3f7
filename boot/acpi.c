#include "boot/acpi.h"

#include <string.h>

#include "boot/aml.h"
#include "common/layout.h"

/* Identification every table carries. */
#define OEM_ID             "LBVM  "   /* 6 bytes */
#define OEM_TABLE_ID       "LBVMMACH" /* 8 bytes */
#define OEM_REVISION       1
#define CREATOR_ID         "LBVM"
#define CREATOR_REVISION   1

/* Table revisions: ACPI 6.0. */
#define RSDP_REVISION      2  /* ACPI 2.0+: has the XSDT */
#define RSDT_REVISION      1
#define XSDT_REVISION      1
#define FADT_REVISION      6
#define FADT_MINOR         0
#define MADT_REVISION      4
#define DSDT_REVISION      2  /* 64-bit integers */
#define FACS_VERSION       2

/* FADT field offsets (ACPI 6.0, table 5-33). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT          40
#define FADT_SCI_INT       46
#define FADT_PM1A_EVT_BLK  56
#define FADT_PM1A_CNT_BLK  64
#define FADT_PM1_EVT_LEN   88
#define FADT_PM1_CNT_LEN   89
#define FADT_P_LVL2_LAT    96
#define FADT_P_LVL3_LAT    98
#define FADT_CENTURY       108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS         112
#define FADT_RESET_REG     116
#define FADT_RESET_VALUE   128
#define FADT_MINOR_VERSION 131
#define FADT_X_DSDT        140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172

#define PM1_EVT_LEN        4      /* status + enable, 2 bytes each */
#define PM1_CNT_LEN        2
#define NO_C2              0x0fff /* a C2 latency over 100 us: no C2 */
#define NO_C3              0x0fff /* over 1000 us: no C3 */
#define RTC_CENTURY_REG    0x32   /* the CMOS RTC keeps the century there */

#define FADT_F_WBINVD      (1u << 0)
#define FADT_F_PROC_C1     (1u << 2)
#define FADT_F_PWR_BUTTON  (1u << 4)  /* no fixed power button */
#define FADT_F_SLP_BUTTON  (1u << 5)  /* no fixed sleep button */
#define FADT_F_FIX_RTC     (1u << 6)  /* no RTC wake status in the fixed registers */
#define FADT_F_RESET_REG   (1u << 10) /* RESET_REG is supported */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042     (1u << 1)

/* Generic Address Structure. */
#define GAS_SYSTEM_IO      1
#define GAS_ACCESS_BYTE    1
#define GAS_ACCESS_WORD    2

/* MADT. */
#define MADT_PCAT_COMPAT   1u     /* the 8259 PICs exist (KVM's) */
#define MADT_LAPIC         0
#define MADT_IOAPIC        1
#define MADT_ISO           2
#define MADT_LAPIC_NMI     4
#define MADT_LAPIC_ENABLED 1u
#define MADT_ALL_CPUS      0xff
#define MPS_ACTIVE_HIGH    0x1
#define MPS_LEVEL          (0x3 << 2)
#define LINT1              1
#define ISA_BUS            0

/* DSDT: the _CRS resource descriptors (ACPI 6.0, section 6.4). */
#define RES_IO             0x47   /* small item: I/O port, 7 bytes follow */
#define RES_END            0x79   /* small item: end tag, 1 byte follows */
#define RES_DWORD_ADDR     0x87
#define RES_WORD_ADDR      0x88
#define RES_TYPE_MEMORY    0
#define RES_TYPE_IO        1
#define RES_TYPE_BUS       2
#define RES_FIXED_RANGE    0x0c   /* producer, positive decode, min and max fixed */
#define RES_IO_ENTIRE      0x03   /* ISA and non-ISA ranges */
#define RES_MEM_RW         0x01   /* read-write, not cacheable */
#define PCI_CONFIG_PORTS   8
#define PCI_BUS_LAST       0xff
#define PRT_ALL_FUNCTIONS  0xffff
#define CRS_MAX            128

#define ALIGN(v, a) (((v) + (a) - 1) & ~(size_t)((a) - 1))

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* The common header; the checksum is set by finish() once the table is complete. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t + 32, CREATOR_REVISION);
}

static void finish(uint8_t *t, size_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

static void gas_io(uint8_t *g, uint16_t port, unsigned bytes, uint8_t access)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = (uint8_t)(bytes * 8);
	g[2] = 0;
	g[3] = access;
	put64(g + 4, port);
}

static size_t build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt, const struct acpi_config *cfg)
{
	header(t, "FACP", ACPI_FADT_SIZE, FADT_REVISION);
	put32(t + FADT_FIRMWARE_CTRL, facs); /* X_FIRMWARE_CTRL stays 0: one FACS address, no mismatch */
	put32(t + FADT_DSDT, dsdt);
	put16(t + FADT_SCI_INT, LAYOUT_IRQ_ACPI_SCI);
	/* SMI_CMD 0: no transition to make, the machine is in ACPI mode from the start (SCI_EN reads 1). */
	put32(t + FADT_PM1A_EVT_BLK, LAYOUT_PORT_ACPI_PM1_EVT);
	put32(t + FADT_PM1A_CNT_BLK, LAYOUT_PORT_ACPI_PM1_CNT);
	t[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	put16(t + FADT_P_LVL2_LAT, NO_C2);
	put16(t + FADT_P_LVL3_LAT, NO_C3);
	t[FADT_CENTURY] = RTC_CENTURY_REG;
	put16(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
	put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
				      FADT_F_FIX_RTC | FADT_F_RESET_REG);
	gas_io(t + FADT_RESET_REG, LAYOUT_PORT_RESET, 1, GAS_ACCESS_BYTE);
	t[FADT_RESET_VALUE] = cfg->reset_value;
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	put64(t + FADT_X_DSDT, dsdt);
	/* The 64-bit blocks say what the 32-bit ones say, so no reader sees a mismatch. */
	gas_io(t + FADT_X_PM1A_EVT_BLK, LAYOUT_PORT_ACPI_PM1_EVT, PM1_EVT_LEN, GAS_ACCESS_WORD);
	gas_io(t + FADT_X_PM1A_CNT_BLK, LAYOUT_PORT_ACPI_PM1_CNT, PM1_CNT_LEN, GAS_ACCESS_WORD);
	finish(t, ACPI_FADT_SIZE);
	return ACPI_FADT_SIZE;
}

static size_t build_facs(uint8_t *t)
{
	memcpy(t, "FACS", 4);
	put32(t + 4, ACPI_FACS_SIZE);
	t[32] = FACS_VERSION; /* everything else (waking vectors, global lock, flags) is 0 */
	return ACPI_FACS_SIZE;
}

static size_t build_madt(uint8_t *t)
{
	size_t n = ACPI_HEADER_SIZE;
	put32(t + n, (uint32_t)LAYOUT_LAPIC);
	put32(t + n + 4, MADT_PCAT_COMPAT);
	n += 8;

	uint8_t *e = t + n; /* the one vCPU */
	e[0] = MADT_LAPIC;
	e[1] = 8;
	e[2] = 0; /* ACPI processor UID */
	e[3] = LAYOUT_BSP_APIC_ID;
	put32(e + 4, MADT_LAPIC_ENABLED);
	n += 8;

	e = t + n;
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = LAYOUT_IOAPIC_ID;
	put32(e + 4, (uint32_t)LAYOUT_IOAPIC);
	put32(e + 8, 0); /* its pins are GSIs 0..23 */
	n += 12;

	/* ISA IRQ n is GSI n (KVM's default routing, the PIT's IRQ0 included): only the SCI needs an
	 * override, to say it is level-triggered. */
	e = t + n;
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = ISA_BUS;
	e[3] = LAYOUT_IRQ_ACPI_SCI;
	put32(e + 4, LAYOUT_IRQ_ACPI_SCI);
	put16(e + 8, MPS_ACTIVE_HIGH | MPS_LEVEL);
	n += 10;

	e = t + n;
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = MADT_ALL_CPUS;
	put16(e + 3, 0); /* bus-default polarity and trigger */
	e[5] = LINT1;
	n += 6;

	header(t, "APIC", (uint32_t)n, MADT_REVISION);
	finish(t, n);
	return n;
}

static size_t word_range(uint8_t *r, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
	r[0] = RES_WORD_ADDR;
	put16(r + 1, 13);
	r[3] = type;
	r[4] = RES_FIXED_RANGE;
	r[5] = type_flags;
	put16(r + 6, 0);   /* granularity */
	put16(r + 8, min);
	put16(r + 10, max);
	put16(r + 12, 0);  /* translation */
	put16(r + 14, (uint16_t)(max - min + 1));
	return 16;
}

/* The root bridge's resources: bus numbers, the configuration ports, the I/O ports around them, the
 * 32-bit PCI MMIO window. */
static size_t crs_template(uint8_t *r)
{
	size_t n = word_range(r, RES_TYPE_BUS, 0, 0, PCI_BUS_LAST);
	uint8_t *io = r + n;
	io[0] = RES_IO;
	io[1] = 0x01; /* 16-bit decode */
	put16(io + 2, LAYOUT_PORT_PCI_CONFIG);
	put16(io + 4, LAYOUT_PORT_PCI_CONFIG);
	io[6] = 1;
	io[7] = PCI_CONFIG_PORTS;
	n += 8;
	n += word_range(r + n, RES_TYPE_IO, RES_IO_ENTIRE, 0, LAYOUT_PORT_PCI_CONFIG - 1);
	n += word_range(r + n, RES_TYPE_IO, RES_IO_ENTIRE, LAYOUT_PORT_PCI_CONFIG + PCI_CONFIG_PORTS, 0xffff);
	uint8_t *m = r + n;
	m[0] = RES_DWORD_ADDR;
	put16(m + 1, 23);
	m[3] = RES_TYPE_MEMORY;
	m[4] = RES_FIXED_RANGE;
	m[5] = RES_MEM_RW;
	put32(m + 6, 0);
	put32(m + 10, (uint32_t)LAYOUT_PCI_MMIO);
	put32(m + 14, (uint32_t)(LAYOUT_PCI_MMIO_END - 1));
	put32(m + 18, 0);
	put32(m + 22, (uint32_t)(LAYOUT_PCI_MMIO_END - LAYOUT_PCI_MMIO));
	n += 26;
	r[n++] = RES_END;
	r[n++] = 0; /* checksum 0: "the template is valid" */
	return n;
}

static int build_dsdt(uint8_t *t, size_t cap, const struct acpi_config *cfg, size_t *len)
{
	if (cap < ACPI_HEADER_SIZE || cfg->npci_routes > ACPI_MAX_PCI_ROUTES)
		return -1;
	struct aml a;
	aml_init(&a, t + ACPI_HEADER_SIZE, cap - ACPI_HEADER_SIZE);

	/* \_S5: SLP_TYPa, SLP_TYPb for soft off. */
	aml_name(&a, "_S5_");
	aml_package(&a, 4);
	aml_integer(&a, cfg->slp_typ_s5);
	aml_integer(&a, cfg->slp_typ_s5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a);

	aml_scope(&a, "\\_SB_");
	aml_device(&a, "PCI0");
	aml_name(&a, "_HID");
	aml_integer(&a, aml_eisaid("PNP0A03"));
	aml_name(&a, "_UID");
	aml_integer(&a, 0);
	uint8_t crs[CRS_MAX];
	aml_name(&a, "_CRS");
	aml_buffer(&a, crs, crs_template(crs));
	/* _PRT: {address (device << 16 | any function), pin (0 = INTA), source 0 (a GSI), GSI}. */
	aml_name(&a, "_PRT");
	aml_package(&a, cfg->npci_routes);
	for (unsigned i = 0; i < cfg->npci_routes; i++) {
		const struct acpi_pci_route *r = &cfg->pci_routes[i];
		if (r->pin < 1 || r->pin > 4)
			return -1;
		aml_package(&a, 4);
		aml_integer(&a, (uint64_t)r->slot << 16 | PRT_ALL_FUNCTIONS);
		aml_integer(&a, r->pin - 1u);
		aml_integer(&a, 0);
		aml_integer(&a, r->gsi);
		aml_end(&a);
	}
	aml_end(&a); /* _PRT */
	aml_end(&a); /* PCI0 */
	aml_end(&a); /* \_SB */
	if (aml_failed(&a))
		return -1;
	*len = ACPI_HEADER_SIZE + a.len;
	header(t, "DSDT", (uint32_t)*len, DSDT_REVISION);
	finish(t, *len);
	return 0;
}

static size_t build_rsdt(uint8_t *t, const uint32_t *entries, size_t n)
{
	size_t len = ACPI_HEADER_SIZE + 4 * n;
	header(t, "RSDT", (uint32_t)len, RSDT_REVISION);
	for (size_t i = 0; i < n; i++)
		put32(t + ACPI_HEADER_SIZE + 4 * i, entries[i]);
	finish(t, len);
	return len;
}

static size_t build_xsdt(uint8_t *t, const uint32_t *entries, size_t n)
{
	size_t len = ACPI_HEADER_SIZE + 8 * n;
	header(t, "XSDT", (uint32_t)len, XSDT_REVISION);
	for (size_t i = 0; i < n; i++)
		put64(t + ACPI_HEADER_SIZE + 8 * i, entries[i]);
	finish(t, len);
	return len;
}

static void build_rsdp(uint8_t *p, uint32_t rsdt, uint64_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = RSDP_REVISION;
	put32(p + 16, rsdt);
	put32(p + 20, ACPI_RSDP_SIZE);
	put64(p + 24, xsdt);
	p[8] = checksum(p, 20);          /* ACPI 1.0 part */
	p[32] = checksum(p, ACPI_RSDP_SIZE); /* the whole structure */
}

int acpi_build(uint8_t *buf, size_t cap, uint64_t gpa, const struct acpi_config *cfg, struct acpi_tables *out)
{
	/* The fixed-size tables first, then the DSDT with whatever room is left. */
	enum { TABLES = 2 }; /* FADT and MADT, listed by the RSDT and XSDT */
	const size_t madt_max = ACPI_HEADER_SIZE + 8 + 8 + 12 + 10 + 6;
	size_t facs = ALIGN(ACPI_RSDP_SIZE, 64); /* the FACS must be 64-byte aligned */
	size_t rsdt = ALIGN(facs + ACPI_FACS_SIZE, 16);
	size_t xsdt = ALIGN(rsdt + ACPI_HEADER_SIZE + 4 * TABLES, 16);
	size_t fadt = ALIGN(xsdt + ACPI_HEADER_SIZE + 8 * TABLES, 16);
	size_t madt = ALIGN(fadt + ACPI_FADT_SIZE, 16);
	size_t dsdt = ALIGN(madt + madt_max, 16);
	if ((gpa & 15) || gpa + cap > UINT32_MAX || cap < dsdt)
		return -1;
	memset(buf, 0, cap);
	size_t dsdt_len;
	if (build_dsdt(buf + dsdt, cap - dsdt, cfg, &dsdt_len) < 0)
		return -1;
	build_facs(buf + facs);
	build_fadt(buf + fadt, (uint32_t)(gpa + facs), (uint32_t)(gpa + dsdt), cfg);
	build_madt(buf + madt);
	const uint32_t entries[TABLES] = { (uint32_t)(gpa + fadt), (uint32_t)(gpa + madt) };
	build_rsdt(buf + rsdt, entries, TABLES);
	build_xsdt(buf + xsdt, entries, TABLES);
	build_rsdp(buf, (uint32_t)(gpa + rsdt), gpa + xsdt);
	if (out)
		*out = (struct acpi_tables){ .rsdp = gpa, .rsdt = gpa + rsdt, .xsdt = gpa + xsdt, .fadt = gpa + fadt,
					     .facs = gpa + facs, .madt = gpa + madt, .dsdt = gpa + dsdt,
					     .size = dsdt + dsdt_len };
	return 0;
}
