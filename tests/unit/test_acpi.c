/* The ACPI tables lbvm writes (boot/acpi.c) and the AML encoder behind the DSDT (boot/aml.c): checksums
 * and lengths, the pointers between tables, the FADT's registers, the MADT's entries, and the DSDT's AML
 * against bytes decoded by hand from the ACPI 6.0 specification. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/acpi.h"
#include "boot/aml.h"
#include "common/layout.h"

#define AREA 0x10000

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* A table in the area by its guest address: signature, length within the area, checksum 0. */
static const uint8_t *table_at(const uint8_t *area, uint64_t gpa, const char *sig)
{
	ck_assert_uint_ge(gpa, LAYOUT_ACPI);
	ck_assert_uint_lt(gpa, LAYOUT_ACPI + AREA);
	const uint8_t *t = area + (gpa - LAYOUT_ACPI);
	ck_assert_mem_eq(t, sig, 4);
	uint32_t len = get32(t + 4);
	ck_assert_uint_ge(len, 36);
	ck_assert_uint_le(gpa + len, LAYOUT_ACPI + AREA);
	ck_assert_uint_eq(sum(t, len), 0);
	ck_assert_mem_eq(t + 10, "LBVM  ", 6);
	return t;
}

static struct acpi_config small_config(void)
{
	struct acpi_config c = { .slp_typ_s5 = 5, .reset_value = 6, .npci_routes = 2 };
	c.pci_routes[0] = (struct acpi_pci_route){ .slot = 0, .pin = 1, .gsi = 16 };
	c.pci_routes[1] = (struct acpi_pci_route){ .slot = 1, .pin = 2, .gsi = 18 };
	return c;
}

/* ---- AML encoder ------------------------------------------------------------------------------ */

START_TEST(aml_integers_and_names)
{
	uint8_t buf[64];
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0x1234);
	aml_integer(&a, 0x1ffff);
	aml_integer(&a, 0x100000000ULL);
	static const uint8_t want_ints[] = { 0x00, 0x01, 0x0a, 0x02, 0x0b, 0x34, 0x12, 0x0c, 0xff, 0xff, 0x01, 0x00,
					     0x0e, 0, 0, 0, 0, 1, 0, 0, 0 };
	ck_assert(!aml_failed(&a));
	ck_assert_uint_eq(a.len, sizeof(want_ints));
	ck_assert_mem_eq(buf, want_ints, sizeof(want_ints));

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "_S5");
	aml_name_string(&a, "\\_SB_");
	aml_name_string(&a, "\\_SB.PCI0");
	aml_name_string(&a, "A.B.C");
	static const uint8_t want_names[] = { '_', 'S', '5', '_', 0x5c, '_', 'S', 'B', '_',
					      0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
					      0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_' };
	ck_assert(!aml_failed(&a));
	ck_assert_uint_eq(a.len, sizeof(want_names));
	ck_assert_mem_eq(buf, want_names, sizeof(want_names));

	/* malformed names are refused */
	const char *bad[] = { "", "TOOLONG", "1ABC", "a", "AB.", "\\" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_string(&a, bad[i]);
		ck_assert_msg(aml_failed(&a), "'%s' accepted", bad[i]);
	}
	ck_assert_uint_eq(aml_eisaid("PNP0A03"), 0x030ad041);
	ck_assert_uint_eq(aml_eisaid("PNP0501"), 0x0105d041);
	ck_assert_uint_eq(aml_eisaid("pnp0a03"), 0);
	ck_assert_uint_eq(aml_eisaid("PNP0A0"), 0);
}
END_TEST

START_TEST(aml_package_lengths)
{
	/* 62 bytes of contents: one-byte PkgLength (63); 63 bytes: two bytes (65 = 0x41 -> 0x41, 0x04). */
	static uint8_t buf[8192];
	uint8_t filler[5000];
	memset(filler, 0xaa, sizeof(filler));
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "A");
	aml_bytes(&a, filler, 62 - 4);
	aml_end(&a);
	ck_assert(!aml_failed(&a));
	ck_assert_uint_eq(buf[0], 0x10);
	ck_assert_uint_eq(buf[1], 63);
	ck_assert_uint_eq(a.len, 1 + 1 + 62);

	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "A");
	aml_bytes(&a, filler, 63 - 4);
	aml_end(&a);
	ck_assert_uint_eq(buf[1], 0x40 | (65 & 0xf));
	ck_assert_uint_eq(buf[2], 65 >> 4);
	ck_assert_uint_eq(a.len, 1 + 2 + 63);

	/* 4094 bytes: 4094 + 2 = 4096 does not fit two bytes' 12 bits, so three: 4097 */
	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "A");
	aml_bytes(&a, filler, 4094 - 4);
	aml_end(&a);
	ck_assert_uint_eq(buf[1], 0x80 | (4097 & 0xf));
	ck_assert_uint_eq(buf[2], (4097 >> 4) & 0xff);
	ck_assert_uint_eq(buf[3], 4097 >> 12);

	/* nested: the inner length is inserted first, the outer one counts it */
	aml_init(&a, buf, sizeof(buf));
	aml_package(&a, 1);
	aml_package(&a, 1);
	aml_integer(&a, 7);
	aml_end(&a);
	aml_end(&a);
	static const uint8_t nested[] = { 0x12, 0x07, 0x01, 0x12, 0x04, 0x01, 0x0a, 0x07 };
	ck_assert(!aml_failed(&a));
	ck_assert_uint_eq(a.len, sizeof(nested));
	ck_assert_mem_eq(buf, nested, sizeof(nested));

	/* an unbalanced end, an unclosed package and a full buffer are failures */
	aml_init(&a, buf, sizeof(buf));
	aml_end(&a);
	ck_assert(aml_failed(&a));
	aml_init(&a, buf, sizeof(buf));
	aml_package(&a, 0);
	ck_assert(aml_failed(&a));
	aml_init(&a, buf, 3);
	aml_integer(&a, 0x12345678);
	ck_assert(aml_failed(&a));
}
END_TEST

/* ---- the tables --------------------------------------------------------------------------------- */

START_TEST(rsdp_and_root_tables)
{
	uint8_t *area = calloc(1, AREA);
	struct acpi_config cfg = small_config();
	struct acpi_tables t;
	ck_assert_int_eq(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, &t), 0);
	ck_assert_uint_eq(t.rsdp, LAYOUT_ACPI);
	ck_assert_uint_le(t.size, AREA);
	/* RSDP: signature, 20-byte checksum, revision 2, length 36, extended checksum, 16-byte aligned */
	ck_assert_mem_eq(area, "RSD PTR ", 8);
	ck_assert_uint_eq(sum(area, 20), 0);
	ck_assert_uint_eq(sum(area, 36), 0);
	ck_assert_uint_eq(area[15], 2);
	ck_assert_uint_eq(get32(area + 20), 36);
	ck_assert_uint_eq(get32(area + 16), t.rsdt);
	ck_assert_uint_eq(get64(area + 24), t.xsdt);
	ck_assert_uint_eq(LAYOUT_ACPI % 16, 0);
	/* the RSDP lies where Linux's legacy scan looks, below the BIOS area */
	ck_assert_uint_ge(LAYOUT_ACPI, 0xe0000);
	ck_assert_uint_le(LAYOUT_ACPI + AREA, LAYOUT_BIOS_AREA);

	/* RSDT and XSDT list the same two tables: FADT and MADT */
	const uint8_t *rsdt = table_at(area, t.rsdt, "RSDT");
	const uint8_t *xsdt = table_at(area, t.xsdt, "XSDT");
	ck_assert_uint_eq(get32(rsdt + 4), 36 + 2 * 4);
	ck_assert_uint_eq(get32(xsdt + 4), 36 + 2 * 8);
	ck_assert_uint_eq(get32(rsdt + 36), t.fadt);
	ck_assert_uint_eq(get32(rsdt + 40), t.madt);
	ck_assert_uint_eq(get64(xsdt + 36), t.fadt);
	ck_assert_uint_eq(get64(xsdt + 44), t.madt);
	table_at(area, t.fadt, "FACP");
	table_at(area, t.madt, "APIC");
	table_at(area, t.dsdt, "DSDT");
	/* FACS: no checksum, 64 bytes, 64-byte aligned */
	const uint8_t *facs = area + (t.facs - LAYOUT_ACPI);
	ck_assert_mem_eq(facs, "FACS", 4);
	ck_assert_uint_eq(get32(facs + 4), 64);
	ck_assert_uint_eq(t.facs % 64, 0);
	/* too little room is refused, not overrun */
	ck_assert_int_lt(acpi_build(area, 256, LAYOUT_ACPI, &cfg, &t), 0);
	ck_assert_int_lt(acpi_build(area, AREA, LAYOUT_ACPI + 8, &cfg, &t), 0);
	free(area);
}
END_TEST

START_TEST(fadt_registers)
{
	uint8_t *area = calloc(1, AREA);
	struct acpi_config cfg = small_config();
	struct acpi_tables t;
	ck_assert_int_eq(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, &t), 0);
	const uint8_t *f = table_at(area, t.fadt, "FACP");
	ck_assert_uint_eq(get32(f + 4), 276);
	ck_assert_uint_eq(f[8], 6);                          /* revision */
	ck_assert_uint_eq(get32(f + 36), t.facs);            /* FIRMWARE_CTRL */
	ck_assert_uint_eq(get32(f + 40), t.dsdt);            /* DSDT */
	ck_assert_uint_eq(get64(f + 132), 0);                /* X_FIRMWARE_CTRL: not a second FACS address */
	ck_assert_uint_eq(get64(f + 140), t.dsdt);           /* X_DSDT = DSDT */
	ck_assert_uint_eq(get16(f + 46), LAYOUT_IRQ_ACPI_SCI); /* SCI_INT */
	ck_assert_uint_eq(get32(f + 48), 0);                 /* SMI_CMD: none, ACPI is always on */
	ck_assert_uint_eq(get32(f + 56), LAYOUT_PORT_ACPI_PM1_EVT);
	ck_assert_uint_eq(get32(f + 60), 0);                 /* no PM1b */
	ck_assert_uint_eq(get32(f + 64), LAYOUT_PORT_ACPI_PM1_CNT);
	ck_assert_uint_eq(get32(f + 76), 0);                 /* no PM timer ... */
	ck_assert_uint_eq(f[91], 0);                         /* ... and its length 0 */
	ck_assert_uint_eq(get32(f + 80), 0);                 /* no GPE blocks */
	ck_assert_uint_eq(f[88], 4);                         /* PM1_EVT_LEN */
	ck_assert_uint_eq(f[89], 2);                         /* PM1_CNT_LEN */
	ck_assert_uint_eq(get16(f + 109) & 0x3, 0x3);        /* legacy devices, 8042 */
	uint32_t flags = get32(f + 112);
	ck_assert(flags & (1u << 10));                       /* RESET_REG_SUP */
	ck_assert(flags & (1u << 4));                        /* no fixed power button */
	ck_assert(!(flags & (1u << 20)));                    /* not hardware-reduced */
	/* RESET_REG: system I/O, 8 bits at offset 0, byte access, port 0xcf9; RESET_VALUE 6 */
	static const uint8_t reset_reg[12] = { 1, 8, 0, 1, 0xf9, 0x0c, 0, 0, 0, 0, 0, 0 };
	ck_assert_mem_eq(f + 116, reset_reg, 12);
	ck_assert_uint_eq(f[128], 6);
	/* X_PM1a_EVT_BLK and X_PM1a_CNT_BLK agree with the 32-bit blocks (no mismatch warnings) */
	static const uint8_t x_evt[12] = { 1, 32, 0, 2, 0x00, 0x06, 0, 0, 0, 0, 0, 0 };
	static const uint8_t x_cnt[12] = { 1, 16, 0, 2, 0x04, 0x06, 0, 0, 0, 0, 0, 0 };
	ck_assert_mem_eq(f + 148, x_evt, 12);
	ck_assert_mem_eq(f + 172, x_cnt, 12);
	for (unsigned off = 160; off < 172; off++) /* X_PM1b_EVT_BLK empty */
		ck_assert_uint_eq(f[off], 0);
	for (unsigned off = 208; off < 244; off++) /* X_PM_TMR_BLK, X_GPE0/1_BLK empty */
		ck_assert_uint_eq(f[off], 0);
	free(area);
}
END_TEST

START_TEST(madt_entries)
{
	uint8_t *area = calloc(1, AREA);
	struct acpi_config cfg = small_config();
	struct acpi_tables t;
	ck_assert_int_eq(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, &t), 0);
	const uint8_t *m = table_at(area, t.madt, "APIC");
	/* Decoded by hand (ACPI 6.0, 5.2.12): local APIC address, PCAT_COMPAT, then the entries. */
	static const uint8_t want[] = {
		0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00,             /* LAPIC at 0xfee00000, 8259s */
		0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,             /* CPU UID 0, APIC id 0, enabled */
		0x01, 0x0c, 0x01, 0x00, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* IOAPIC id 1 at 0xfec00000, GSI 0 */
		0x02, 0x0a, 0x00, 0x09, 0x09, 0x00, 0x00, 0x00, 0x0d, 0x00, /* ISA IRQ 9 = GSI 9, level, high */
		0x04, 0x06, 0xff, 0x00, 0x00, 0x01,                         /* NMI on LINT1 of every CPU */
	};
	ck_assert_uint_eq(get32(m + 4), 36 + sizeof(want));
	ck_assert_mem_eq(m + 36, want, sizeof(want));
	/* No override for IRQ 0: the PIT arrives on pin 0, as in the MP table. */
	free(area);
}
END_TEST

/* The DSDT of small_config(), decoded by hand: \_S5 and \_SB.PCI0 with _HID, _UID, _CRS, _PRT. */
static const uint8_t want_s5[] = {
	0x08, '_', 'S', '5', '_',                         /* Name(_S5_, */
	0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00, /* Package(4){5, 5, 0, 0}) */
};
static const uint8_t want_crs_bytes[] = {
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x00, 0, 0, 0x00, 0x01, /* bus 0-255 */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,                                      /* IO 0xcf8, 8 */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x00, 0xf7, 0x0c, 0, 0, 0xf8, 0x0c, /* IO 0-0xcf7 */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3, /* IO 0xd00-0xffff */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xc0,              /* mem 0xc0000000 */
	0xff, 0xff, 0xbf, 0xfe, 0, 0, 0, 0, 0x00, 0x00, 0xc0, 0x3e,                          /* -0xfebfffff */
	0x79, 0x00,                                                                          /* end */
};
static const uint8_t want_prt[] = {
	0x08, '_', 'P', 'R', 'T',                          /* Name(_PRT, */
	0x12, 0x18, 0x02,                                  /* Package(2){ (24 bytes) */
	0x12, 0x09, 0x04, 0x0b, 0xff, 0xff, 0x00, 0x00, 0x0a, 0x10,             /* {0xffff, 0, 0, 16} */
	0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x01, 0x00, 0x0a, 0x12, /* {0x1ffff, 1, 0, 18} */
};

START_TEST(dsdt_aml)
{
	uint8_t *area = calloc(1, AREA);
	struct acpi_config cfg = small_config();
	struct acpi_tables t;
	ck_assert_int_eq(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, &t), 0);
	const uint8_t *d = table_at(area, t.dsdt, "DSDT");
	ck_assert_uint_eq(d[8], 2); /* revision 2: 64-bit integers */

	uint8_t want[512];
	size_t n = 0;
#define PUT(...)                                                                                         \
	do {                                                                                             \
		const uint8_t b_[] = { __VA_ARGS__ };                                                    \
		memcpy(want + n, b_, sizeof(b_));                                                        \
		n += sizeof(b_);                                                                         \
	} while (0)
#define PUT_ARRAY(a)                                                                                     \
	do {                                                                                             \
		memcpy(want + n, a, sizeof(a));                                                          \
		n += sizeof(a);                                                                          \
	} while (0)
	PUT_ARRAY(want_s5);
	/* Scope(\_SB_): 153 bytes of contents + 2 of PkgLength = 155 = 0x9b -> 0x4b 0x09 */
	PUT(0x10, 0x4b, 0x09, 0x5c, '_', 'S', 'B', '_');
	/* Device(PCI0): 144 + 2 = 146 = 0x92 -> 0x42 0x09 */
	PUT(0x5b, 0x82, 0x42, 0x09, 'P', 'C', 'I', '0');
	PUT(0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03); /* EisaId("PNP0A03") */
	PUT(0x08, '_', 'U', 'I', 'D', 0x00);
	/* Name(_CRS, Buffer(84){...}): 2 + 84 + 2 = 88 = 0x58 -> 0x48 0x05 */
	PUT(0x08, '_', 'C', 'R', 'S', 0x11, 0x48, 0x05, 0x0a, 0x54);
	PUT_ARRAY(want_crs_bytes);
	PUT_ARRAY(want_prt);
#undef PUT
#undef PUT_ARRAY
	ck_assert_uint_eq(sizeof(want_crs_bytes), 84);
	ck_assert_uint_eq(get32(d + 4), 36 + n);
	ck_assert_mem_eq(d + 36, want, n);
	free(area);
}
END_TEST

/* PkgLength at p: the length it encodes and, in *size, how many bytes it takes. */
static size_t pkglength(const uint8_t *p, size_t *size)
{
	unsigned follow = p[0] >> 6;
	*size = 1 + follow;
	if (!follow)
		return p[0] & 0x3f;
	size_t v = p[0] & 0x0f;
	for (unsigned i = 0; i < follow; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	return v;
}

START_TEST(prt_routes_every_slot)
{
	/* The machine's own configuration: 32 slots x 4 pins. The _PRT is walked, not compared. */
	uint8_t *area = calloc(1, AREA);
	struct acpi_config cfg = { .slp_typ_s5 = 5, .reset_value = 6 };
	for (unsigned s = 0; s < 32; s++)
		for (unsigned p = 1; p <= 4; p++)
			cfg.pci_routes[cfg.npci_routes++] = (struct acpi_pci_route){
				.slot = (uint8_t)s, .pin = (uint8_t)p, .gsi = (uint8_t)(16 + (s + p - 1) % 8) };
	struct acpi_tables t;
	ck_assert_int_eq(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, &t), 0);
	const uint8_t *d = table_at(area, t.dsdt, "DSDT");
	size_t len = get32(d + 4);
	const uint8_t *prt = memmem(d, len, "\x08_PRT", 5);
	ck_assert_ptr_nonnull(prt);
	const uint8_t *p = prt + 5;
	ck_assert_uint_eq(p[0], 0x12);
	size_t lsize;
	size_t outer = pkglength(p + 1, &lsize);
	ck_assert_uint_eq(lsize, 2);
	/* the package ends exactly where PCI0, \_SB and the table end */
	ck_assert_uint_eq((size_t)(p + 1 + outer - d), len);
	ck_assert_uint_eq(p[1 + lsize], 128);
	const uint8_t *e = p + 1 + lsize + 1;
	for (unsigned i = 0; i < 128; i++) {
		unsigned slot = i / 4, pin = i % 4;
		ck_assert_uint_eq(e[0], 0x12);
		size_t es;
		size_t el = pkglength(e + 1, &es);
		const uint8_t *q = e + 1 + es;
		ck_assert_uint_eq(q[0], 4);
		q++;
		uint32_t addr;
		if (q[0] == 0x0b) { addr = get16(q + 1); q += 3; }
		else { ck_assert_uint_eq(q[0], 0x0c); addr = get32(q + 1); q += 5; }
		ck_assert_uint_eq(addr, slot << 16 | 0xffff);
		unsigned got_pin = q[0] == 0x0a ? q[1] : q[0];
		q += q[0] == 0x0a ? 2 : 1;
		ck_assert_uint_eq(got_pin, pin);
		ck_assert_uint_eq(q[0], 0x00); /* source: a GSI */
		ck_assert_uint_eq(q[1], 0x0a);
		ck_assert_uint_eq(q[2], 16 + (slot + pin) % 8);
		q += 3;
		ck_assert_uint_eq((size_t)(q - (e + 1)), el);
		e = q;
	}
	ck_assert_uint_eq((size_t)(e - d), len);
	free(area);
}
END_TEST

START_TEST(bad_config_refused)
{
	uint8_t *area = calloc(1, AREA);
	struct acpi_config cfg = small_config();
	cfg.pci_routes[1].pin = 5;
	ck_assert_int_lt(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, NULL), 0);
	cfg = small_config();
	cfg.npci_routes = ACPI_MAX_PCI_ROUTES + 1;
	ck_assert_int_lt(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, NULL), 0);
	free(area);
}
END_TEST

static void write_table(const char *dir, const char *name, const uint8_t *t, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(t, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Run a shell command in dir; its output (stdout and stderr) must not mention a warning or an error. */
static void run_clean(const char *dir, const char *cmd)
{
	char line[1024];
	snprintf(line, sizeof(line), "cd %s && { %s; } >out.txt 2>&1", dir, cmd);
	int rc = system(line);
	snprintf(line, sizeof(line), "cd %s && ! grep -iE 'warning|error|invalid' out.txt | grep -v '0 Errors, 0 Warnings'",
		 dir);
	int clean = system(line);
	if (rc != 0 || clean != 0) {
		snprintf(line, sizeof(line), "cat %s/out.txt", dir);
		ck_assert_int_eq(system(line), 0);
	}
	ck_assert_msg(rc == 0, "'%s' failed", cmd);
	ck_assert_msg(clean == 0, "'%s' reported problems", cmd);
}

START_TEST(acpica_reads_the_tables)
{
	/* ACPICA's own disassembler (the parser Linux uses) reads every table without a complaint, and its
	 * compiler turns the disassembled DSDT back into AML without one. */
	ck_assert_msg(system("command -v iasl >/dev/null") == 0, "iasl is missing: install acpica-tools (make deps)");
	uint8_t *area = calloc(1, AREA);
	struct acpi_config cfg = { .slp_typ_s5 = 5, .reset_value = 6 };
	for (unsigned s = 0; s < 32; s++)
		for (unsigned p = 1; p <= 4; p++)
			cfg.pci_routes[cfg.npci_routes++] = (struct acpi_pci_route){
				.slot = (uint8_t)s, .pin = (uint8_t)p, .gsi = (uint8_t)(16 + (s + p - 1) % 8) };
	struct acpi_tables t;
	ck_assert_int_eq(acpi_build(area, AREA, LAYOUT_ACPI, &cfg, &t), 0);
	char dir[] = "/tmp/lbvm-acpi-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	static const struct { const char *file; const char *sig; } tables[] = {
		{ "dsdt.dat", "DSDT" }, { "facp.dat", "FACP" }, { "apic.dat", "APIC" },
		{ "rsdt.dat", "RSDT" }, { "xsdt.dat", "XSDT" },
	};
	const uint64_t where[] = { t.dsdt, t.fadt, t.madt, t.rsdt, t.xsdt };
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		const uint8_t *tb = table_at(area, where[i], tables[i].sig);
		write_table(dir, tables[i].file, tb, get32(tb + 4));
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "iasl -d %s", tables[i].file);
		run_clean(dir, cmd);
	}
	run_clean(dir, "grep -q 'EisaId (.PNP0A03.)' dsdt.dsl && grep -q 'Name (_S5, Package (0x04)' dsdt.dsl");
	run_clean(dir, "cp dsdt.dsl again.dsl && iasl again.dsl && test -s again.aml");
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(area);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("tables");
	tcase_add_test(tc, aml_integers_and_names);
	tcase_add_test(tc, aml_package_lengths);
	tcase_add_test(tc, rsdp_and_root_tables);
	tcase_add_test(tc, fadt_registers);
	tcase_add_test(tc, madt_entries);
	tcase_add_test(tc, dsdt_aml);
	tcase_add_test(tc, prt_routes_every_slot);
	tcase_add_test(tc, bad_config_refused);
	tcase_add_test(tc, acpica_reads_the_tables);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return check_run(s);
}
