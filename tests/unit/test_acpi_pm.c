/* ACPI's PM1 registers and the reset control register (devices/acpi_pm.c), driven the way Linux's ACPICA
 * drives them (16-bit accesses, the two-write sleep sequence) and the way a confused guest might; and the
 * reset control port's place inside the PCI configuration window (devices/pci.c). */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "common/layout.h"
#include "devices/acpi_pm.h"
#include "devices/bus.h"
#include "devices/pci.h"

struct harness {
	struct acpi_pm pm;
	int sci_level, sci_changes;
	int power_offs, resets;
};

static void set_sci(void *opaque, unsigned gsi, int level)
{
	struct harness *h = opaque;
	ck_assert_uint_eq(gsi, LAYOUT_IRQ_ACPI_SCI);
	h->sci_level = level;
	h->sci_changes++;
}

static void power_off(void *opaque) { ((struct harness *)opaque)->power_offs++; }
static void reset(void *opaque) { ((struct harness *)opaque)->resets++; }

static void setup(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	struct irq_line sci = { .set = set_sci, .opaque = h, .gsi = LAYOUT_IRQ_ACPI_SCI };
	acpi_pm_init(&h->pm, sci, power_off, reset, h);
}

static uint16_t read16(void (*fn)(void *, uint64_t, void *, unsigned), struct harness *h, uint64_t off)
{
	uint8_t b[2];
	fn(&h->pm, off, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static void write16(void (*fn)(void *, uint64_t, const void *, unsigned), struct harness *h, uint64_t off,
		    uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	fn(&h->pm, off, b, 2);
}

START_TEST(control_register)
{
	struct harness h;
	setup(&h);
	/* ACPI is always on: SCI_EN reads 1, and writing 0 does not turn it off */
	ck_assert_uint_eq(read16(acpi_pm_cnt_read, &h, 0), ACPI_PM1_SCI_EN);
	write16(acpi_pm_cnt_write, &h, 0, 0);
	ck_assert_uint_eq(read16(acpi_pm_cnt_read, &h, 0) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
	/* ACPICA's S5 entry: write #1 SLP_TYP, write #2 SLP_TYP | SLP_EN */
	uint16_t typ = ACPI_PM_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT;
	write16(acpi_pm_cnt_write, &h, 0, typ);
	ck_assert_int_eq(h.power_offs, 0);
	ck_assert_uint_eq(read16(acpi_pm_cnt_read, &h, 0), typ | ACPI_PM1_SCI_EN);
	write16(acpi_pm_cnt_write, &h, 0, typ | ACPI_PM1_SLP_EN);
	ck_assert_int_eq(h.power_offs, 1);
	/* SLP_EN is write-only */
	ck_assert_uint_eq(read16(acpi_pm_cnt_read, &h, 0) & ACPI_PM1_SLP_EN, 0);
	/* one byte write to the high half carries SLP_TYP and SLP_EN together */
	setup(&h);
	uint8_t hi = (uint8_t)((typ | ACPI_PM1_SLP_EN) >> 8);
	acpi_pm_cnt_write(&h.pm, 1, &hi, 1);
	ck_assert_int_eq(h.power_offs, 1);
	/* a sleep type the tables do not offer (S3 = 3, S0 = 0) does nothing */
	setup(&h);
	write16(acpi_pm_cnt_write, &h, 0, 3 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
	write16(acpi_pm_cnt_write, &h, 0, ACPI_PM1_SLP_EN);
	ck_assert_int_eq(h.power_offs, 0);
	ck_assert_int_eq(h.resets, 0);
}
END_TEST

START_TEST(event_registers)
{
	struct harness h;
	setup(&h);
	/* PM1_EN keeps the defined enable bits (GBL_EN must stick: ACPICA checks it) and drops others */
	write16(acpi_pm_evt_write, &h, 2, 0xffff);
	ck_assert_uint_eq(read16(acpi_pm_evt_read, &h, 2), ACPI_PM1_EN_MASK);
	ck_assert_uint_eq(read16(acpi_pm_evt_read, &h, 0), 0);
	ck_assert_int_eq(h.sci_level, 0);
	/* a status bit with its enable raises the SCI; writing 1 clears it, writing 0 does not */
	h.pm.sts = ACPI_PM1_PWRBTN_STS;
	write16(acpi_pm_evt_write, &h, 2, ACPI_PM1_PWRBTN_STS); /* PWRBTN_EN has the same bit number */
	ck_assert_int_eq(h.sci_level, 1);
	write16(acpi_pm_evt_write, &h, 0, 0);
	ck_assert_uint_eq(read16(acpi_pm_evt_read, &h, 0), ACPI_PM1_PWRBTN_STS);
	write16(acpi_pm_evt_write, &h, 0, 0xffff);
	ck_assert_uint_eq(read16(acpi_pm_evt_read, &h, 0), 0);
	ck_assert_int_eq(h.sci_level, 0);
	/* a 32-bit access over the whole block: status in the low half, enable in the high half */
	uint8_t all[4];
	acpi_pm_evt_read(&h.pm, 0, all, 4);
	ck_assert_uint_eq(all[2] | all[3] << 8, ACPI_PM1_PWRBTN_STS);
	/* out of range bytes read as all ones and are ignored when written */
	uint8_t b = 0;
	acpi_pm_evt_read(&h.pm, 3, all, 4);
	ck_assert_uint_eq(all[1], 0xff);
	acpi_pm_evt_write(&h.pm, 7, &b, 1);
	acpi_pm_cnt_write(&h.pm, 5, &b, 1);
	ck_assert_int_eq(h.power_offs + h.resets, 0);
}
END_TEST

START_TEST(reset_control)
{
	struct harness h;
	setup(&h);
	uint8_t v = 0x02; /* SYS_RST alone: prepares, does not reset */
	acpi_pm_reset_write(&h.pm, 0, &v, 1);
	ck_assert_int_eq(h.resets, 0);
	uint8_t got;
	acpi_pm_reset_read(&h.pm, 0, &got, 1);
	ck_assert_uint_eq(got, 0x02);
	v = ACPI_PM_RESET_VALUE; /* what the FADT tells the kernel to write */
	acpi_pm_reset_write(&h.pm, 0, &v, 1);
	ck_assert_int_eq(h.resets, 1);
	ck_assert_int_eq(h.power_offs, 0);
}
END_TEST

static void noop_irq(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	(void)gsi;
	(void)level;
}

START_TEST(reset_port_inside_pci_window)
{
	/* 0xcf9 is a byte of the configuration address's window: bytes there go to the reset register,
	 * dword accesses at 0xcf8 stay the configuration address. */
	struct harness h;
	setup(&h);
	struct bus io, mmio;
	bus_init(&io);
	bus_init(&mmio);
	struct pci_host host;
	struct irq_line intx = { .set = noop_irq };
	ck_assert_int_eq(pci_host_init(&host, &io, &mmio, intx), 0);
	pci_host_attach_port_cf9(&host, acpi_pm_reset_read, acpi_pm_reset_write, &h.pm);
	uint32_t addr = 0x80000000;
	bus_write(&io, LAYOUT_PORT_PCI_CONFIG, &addr, 4);
	uint32_t id = 0;
	bus_read(&io, LAYOUT_PORT_PCI_CONFIG + 4, &id, 4);
	ck_assert_uint_eq(id & 0xffff, 0x1b36); /* the host bridge at 00:00.0 */
	ck_assert_int_eq(h.resets, 0);
	uint8_t v = 0x06;
	bus_write(&io, LAYOUT_PORT_RESET, &v, 1);
	ck_assert_int_eq(h.resets, 1);
	uint32_t back = 0;
	bus_read(&io, LAYOUT_PORT_PCI_CONFIG, &back, 4);
	ck_assert_uint_eq(back, 0x80000000); /* the configuration address is untouched */
	/* Linux's conf1 probe writes a byte at 0xcfb: neither a reset nor an address */
	v = 0x01;
	bus_write(&io, LAYOUT_PORT_PCI_CONFIG + 3, &v, 1);
	ck_assert_int_eq(h.resets, 1);
	pci_host_destroy(&host);
	bus_destroy(&io);
	bus_destroy(&mmio);
}
END_TEST

START_TEST(intx_routing_rule)
{
	/* INTA of slot N on pin 16 + N % 8 (as before); INTB..D swizzled */
	ck_assert_uint_eq(pci_intx_gsi(0, PCI_INTA), 16);
	ck_assert_uint_eq(pci_intx_gsi(1, PCI_INTA), 17);
	ck_assert_uint_eq(pci_intx_gsi(9, PCI_INTA), 17);
	ck_assert_uint_eq(pci_intx_gsi(1, PCI_INTA + 1), 18);
	ck_assert_uint_eq(pci_intx_gsi(7, PCI_INTA + 3), 18);
	for (unsigned s = 0; s < 32; s++)
		for (unsigned p = 1; p <= 4; p++) {
			unsigned g = pci_intx_gsi(s, p);
			ck_assert(g >= LAYOUT_IRQ_PCI_FIRST && g < LAYOUT_IRQ_PCI_FIRST + 8);
		}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("acpi-pm");
	TCase *tc = tcase_create("registers");
	tcase_add_test(tc, control_register);
	tcase_add_test(tc, event_registers);
	tcase_add_test(tc, reset_control);
	tcase_add_test(tc, reset_port_inside_pci_window);
	tcase_add_test(tc, intx_routing_rule);
	suite_add_tcase(s, tc);
	return check_run(s);
}
