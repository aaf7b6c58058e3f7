/* ACPI's fixed power-management registers, as the FADT (boot/acpi.c) describes them, and the PC's reset
 * control register: the two ways a kernel ends the machine that no text on the console can imitate.
 *   PM1a event block (4 ports): PM1_STS (write 1 to clear) and PM1_EN; the SCI is their AND, level.
 *   PM1a control block (2 ports): SCI_EN reads 1 (the machine is always in ACPI mode); writing SLP_EN with
 *     SLP_TYP = ACPI_PM_SLP_TYP_S5 (what \_S5 says) is the kernel's power-off. Other sleep types are not
 *     offered (no \_S1..\_S4) and are ignored.
 *   Reset control register (port 0xcf9, byte): a write with RST_CPU set resets the machine; 6 (RST_CPU and
 *     SYS_RST) is the FADT's RESET_VALUE.
 * The machine decides what power-off and reset mean (they end an lbvm run). */
#ifndef LBVM_DEVICES_ACPI_PM_H
#define LBVM_DEVICES_ACPI_PM_H

#include <stdint.h>

#include "devices/irq.h"

#define ACPI_PM_EVT_PORTS    4
#define ACPI_PM_CNT_PORTS    2
#define ACPI_PM_SLP_TYP_S5   5    /* SLP_TYP of soft off, as \_S5 announces it */
#define ACPI_PM_RESET_VALUE  0x06 /* RST_CPU | SYS_RST */

/* Register bits (ACPI 6.0, 4.8.3). */
#define ACPI_PM1_TMR_STS     (1u << 0)
#define ACPI_PM1_GBL_STS     (1u << 5)
#define ACPI_PM1_PWRBTN_STS  (1u << 8)
#define ACPI_PM1_SLPBTN_STS  (1u << 9)
#define ACPI_PM1_RTC_STS     (1u << 10)
#define ACPI_PM1_WAK_STS     (1u << 15)
#define ACPI_PM1_EN_MASK     0x0721u      /* TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN */
#define ACPI_PM1_SCI_EN      (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK  (7u << ACPI_PM1_SLP_TYP_SHIFT)
#define ACPI_PM1_SLP_EN      (1u << 13)  /* write-only */
#define ACPI_PM1_BM_RLD      (1u << 1)
#define ACPI_PM1_CNT_RW      (ACPI_PM1_SLP_TYP_MASK | ACPI_PM1_BM_RLD) /* GBL_RLS and SLP_EN are write-only */
#define ACPI_RESET_RST_CPU   0x04
#define ACPI_RESET_RW        0x0e         /* FULL_RST, RST_CPU, SYS_RST */

struct acpi_pm {
	uint16_t sts, en, cnt;    /* the guest-visible registers (cnt without SCI_EN, which always reads 1) */
	uint8_t reset_control;
	int sci_level;
	struct irq_line sci;
	void (*power_off)(void *opaque); /* SLP_EN with the S5 type */
	void (*reset)(void *opaque);     /* RST_CPU written to the reset control register */
	void *opaque;
};

void acpi_pm_init(struct acpi_pm *pm, struct irq_line sci, void (*power_off)(void *opaque),
		  void (*reset)(void *opaque), void *opaque);
void acpi_pm_reset(struct acpi_pm *pm);
/* Bus handlers: the event block (offset 0..3), the control block (offset 0..1), the reset control port. */
void acpi_pm_evt_read(void *dev, uint64_t offset, void *data, unsigned size);
void acpi_pm_evt_write(void *dev, uint64_t offset, const void *data, unsigned size);
void acpi_pm_cnt_read(void *dev, uint64_t offset, void *data, unsigned size);
void acpi_pm_cnt_write(void *dev, uint64_t offset, const void *data, unsigned size);
void acpi_pm_reset_read(void *dev, uint64_t offset, void *data, unsigned size);
void acpi_pm_reset_write(void *dev, uint64_t offset, const void *data, unsigned size);

#endif
