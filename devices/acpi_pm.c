#include "devices/acpi_pm.h"

#include <string.h>

/* Byte offsets inside the event block. */
#define EVT_STS 0
#define EVT_EN  2

static void update_sci(struct acpi_pm *pm)
{
	int level = (pm->sts & pm->en) != 0;
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->sci, level);
	}
}

static uint8_t reg_byte(uint16_t reg, unsigned i)
{
	return (uint8_t)(reg >> (8 * i));
}

static uint16_t with_byte(uint16_t reg, unsigned i, uint8_t b)
{
	return (uint16_t)((reg & ~(0xffu << (8 * i))) | (unsigned)b << (8 * i));
}

void acpi_pm_evt_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	uint8_t *out = data;
	for (unsigned i = 0; i < size; i++) {
		uint64_t off = offset + i;
		out[i] = off < EVT_EN ? reg_byte(pm->sts, (unsigned)off)
		       : off < ACPI_PM_EVT_PORTS ? reg_byte(pm->en, (unsigned)(off - EVT_EN)) : 0xff;
	}
}

void acpi_pm_evt_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	const uint8_t *in = data;
	for (unsigned i = 0; i < size; i++) {
		uint64_t off = offset + i;
		if (off < EVT_EN)
			pm->sts &= (uint16_t)~((unsigned)in[i] << (8 * off)); /* write 1 to clear */
		else if (off < ACPI_PM_EVT_PORTS)
			pm->en = with_byte(pm->en, (unsigned)(off - EVT_EN), in[i]) & ACPI_PM1_EN_MASK;
	}
	update_sci(pm);
}

void acpi_pm_cnt_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	uint8_t *out = data;
	uint16_t cnt = pm->cnt | ACPI_PM1_SCI_EN;
	for (unsigned i = 0; i < size; i++)
		out[i] = offset + i < ACPI_PM_CNT_PORTS ? reg_byte(cnt, (unsigned)(offset + i)) : 0xff;
}

void acpi_pm_cnt_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	const uint8_t *in = data;
	uint16_t written = pm->cnt;
	for (unsigned i = 0; i < size; i++)
		if (offset + i < ACPI_PM_CNT_PORTS)
			written = with_byte(written, (unsigned)(offset + i), in[i]);
	pm->cnt = written & ACPI_PM1_CNT_RW;
	/* SLP_EN starts the transition into the sleep type written with it (or before it). */
	unsigned type = (pm->cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
	if ((written & ACPI_PM1_SLP_EN) && type == ACPI_PM_SLP_TYP_S5 && pm->power_off)
		pm->power_off(pm->opaque);
}

void acpi_pm_reset_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	(void)offset;
	memset(data, 0, size);
	*(uint8_t *)data = pm->reset_control;
}

void acpi_pm_reset_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	(void)offset;
	(void)size;
	uint8_t v = *(const uint8_t *)data;
	pm->reset_control = v & ACPI_RESET_RW;
	if ((v & ACPI_RESET_RST_CPU) && pm->reset)
		pm->reset(pm->opaque);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pm->sts = pm->en = pm->cnt = 0;
	pm->reset_control = 0;
	update_sci(pm);
}

void acpi_pm_init(struct acpi_pm *pm, struct irq_line sci, void (*power_off)(void *opaque),
		  void (*reset)(void *opaque), void *opaque)
{
	memset(pm, 0, sizeof(*pm));
	pm->sci = sci;
	pm->power_off = power_off;
	pm->reset = reset;
	pm->opaque = opaque;
}
