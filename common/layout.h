/* The guest-physical memory map and interrupt lines: the only place that names a guest address.
 *
 *   0x0000_0000  real-mode IVT and BIOS data area (left zero; filled by the firmware with --firmware)
 *   0x0000_0500  boot GDT                         (written by the loader, entry only)
 *   0x0000_7000  zero page (struct boot_params)
 *   0x0000_7c00  with --firmware: the boot sector (LBA 0 of the first disk), the firmware's stack below it
 *   0x0000_9000  identity page tables for the 64-bit entry (PML4, PDPT, 4 PDs)
 *   0x0002_0000  kernel command line
 *   0x0009_fc00  MP floating pointer + MP config table (reserved in e820, where Linux scans)
 *   0x000e_0000  ACPI: RSDP (where Linux's legacy scan finds it), then RSDT, XSDT, FADT, FACS, MADT, DSDT
 *                (reserved in e820; written in both boot modes, 64 KiB, ends where the BIOS area starts)
 *   0x000f_0000  legacy BIOS area (reserved in e820): empty, or with --firmware lbvm's firmware (64 KiB)
 *   0x0010_0000  protected-mode kernel (bzImage payload), then free RAM; initrd at the top of low RAM
 *   0xc000_0000  32-bit PCI hole: PCI MMIO window, IOAPIC, LAPIC, KVM's TSS; RAM resumes at 4 GiB
 *
 * Also here: the I/O ports and interrupt lines, and the guest-visible addresses of the user-mode network.
 */
#ifndef LBVM_COMMON_LAYOUT_H
#define LBVM_COMMON_LAYOUT_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#else
#define UINT64_C(x) x /* the firmware's assembler source (firmware/bios.S) reads this map too */
#endif

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* Boot-time structures written by boot/ before the first KVM_RUN. */
#define LAYOUT_BOOT_GDT          UINT64_C(0x00000500) /* 4 descriptors: null, null, CS 0x10, DS 0x18 */
#define LAYOUT_ZERO_PAGE         UINT64_C(0x00007000) /* boot_params, 4 KiB */
#define LAYOUT_PML4              UINT64_C(0x00009000) /* 64-bit entry: page-map level 4 */
#define LAYOUT_PDPT              UINT64_C(0x0000a000) /* 64-bit entry: one PDPT */
#define LAYOUT_PD                UINT64_C(0x0000b000) /* 64-bit entry: 4 PDs of 2 MiB pages = 4 GiB */
#define LAYOUT_CMDLINE           UINT64_C(0x00020000) /* kernel command line */
#define LAYOUT_CMDLINE_MAX       UINT64_C(0x00010000) /* room reserved for it (64 KiB) */
#define LAYOUT_MPTABLE           UINT64_C(0x0009fc00) /* MP floating pointer, then the config table */
#define LAYOUT_MPTABLE_SIZE      UINT64_C(0x00000400) /* the last KiB of base memory */
#define LAYOUT_ACPI              UINT64_C(0x000e0000) /* RSDP first, the tables after it (reserved) */
#define LAYOUT_ACPI_SIZE         UINT64_C(0x00010000) /* 64 KiB, below the BIOS area */
#define LAYOUT_BIOS_AREA         UINT64_C(0x000f0000) /* reserved, as on a PC */
#define LAYOUT_BIOS_AREA_SIZE    UINT64_C(0x00010000)
#define LAYOUT_BASE_MEM_END      UINT64_C(0x0009fc00) /* end of usable conventional memory */
#define LAYOUT_KERNEL            UINT64_C(0x00100000) /* protected-mode kernel load address (1 MiB) */

/* Firmware mode (lbvm boot --firmware, firmware/bios.S): the PC's real-mode first MiB. */
#define LAYOUT_IVT               UINT64_C(0x00000000) /* 256 real-mode interrupt vectors */
#define LAYOUT_BDA               UINT64_C(0x00000400) /* BIOS data area (256 bytes) */
#define LAYOUT_BOOT_SECTOR       UINT64_C(0x00007c00) /* LBA 0 of the first disk, entered at 0000:7C00 */
#define LAYOUT_FW_STACK_TOP      UINT64_C(0x00007c00) /* the firmware's stack (0000:7C00), grows down */
#define LAYOUT_EBDA              LAYOUT_MPTABLE       /* extended BIOS data area = the MP table's KiB */
#define LAYOUT_FIRMWARE          LAYOUT_BIOS_AREA     /* the firmware image, 64 KiB, real-mode segment F000 */
#define LAYOUT_FIRMWARE_SIZE     LAYOUT_BIOS_AREA_SIZE
#define LAYOUT_FW_SEGMENT        0xf000               /* LAYOUT_FIRMWARE >> 4 */
#define LAYOUT_FW_ENTRY          UINT64_C(0x000f0000) /* the vCPU's first instruction: F000:0000 */
#define LAYOUT_FW_TABLES         UINT64_C(0x000fe000) /* written by lbvm before the first instruction:
							 disk count, base memory, e820 map (firmware/abi.h) */
#define LAYOUT_FW_INT13_FRAME    UINT64_C(0x000fe200) /* an INT 13h call's registers, read and answered by lbvm */
#define LAYOUT_FW_RESET_VECTOR   UINT64_C(0x000ffff0) /* F000:FFF0: a jump here ends the run as a reboot */

/* The 32-bit hole: guest RAM above 3 GiB is moved up to 4 GiB so devices can live here. */
#define LAYOUT_PCI_HOLE          UINT64_C(0xc0000000)
#define LAYOUT_PCI_HOLE_END      UINT64_C(0x100000000)
#define LAYOUT_HIGH_RAM          UINT64_C(0x100000000) /* where RAM above the hole resumes */
#define LAYOUT_PCI_MMIO          UINT64_C(0xc0000000)  /* BARs are placed from here ... */
#define LAYOUT_PCI_MMIO_END      UINT64_C(0xfec00000)  /* ... up to the IOAPIC */
#define LAYOUT_IOAPIC            UINT64_C(0xfec00000)  /* KVM's in-kernel IOAPIC */
#define LAYOUT_LAPIC             UINT64_C(0xfee00000)  /* KVM's in-kernel local APIC */
#define LAYOUT_KVM_IDENTITY_MAP  UINT64_C(0xfffbc000)  /* KVM_SET_IDENTITY_MAP_ADDR, 1 page (Intel) */
#define LAYOUT_KVM_TSS           UINT64_C(0xfffbd000)  /* KVM_SET_TSS_ADDR, 3 pages (Intel) */

/* Limits of the guest RAM size lbvm accepts. */
#define LAYOUT_MIN_RAM           (32 * MiB)
#define LAYOUT_MAX_RAM           (1024 * GiB)

/* I/O ports. */
#define LAYOUT_PORT_COM1         0x3f8
#define LAYOUT_PORT_COM2         0x2f8
#define LAYOUT_PORT_I8042_DATA   0x60
#define LAYOUT_PORT_I8042_CMD    0x64
#define LAYOUT_PORT_RTC          0x70   /* index; data at 0x71 */
#define LAYOUT_PORT_PCI_CONFIG   0xcf8  /* configuration mechanism #1: address 0xcf8, data 0xcfc..0xcff */
#define LAYOUT_PORT_RESET        0xcf9  /* reset control register (byte access), also the FADT's RESET_REG */
#define LAYOUT_PORT_ACPI_PM1_EVT 0x600  /* ACPI PM1a event block: status (2 bytes), enable (2 bytes) */
#define LAYOUT_PORT_ACPI_PM1_CNT 0x604  /* ACPI PM1a control block (2 bytes) */
#define LAYOUT_PORT_PIC_MASTER   0x20   /* KVM's in-kernel 8259s: command port, data (mask) port at +1 */
#define LAYOUT_PORT_PIC_SLAVE    0xa0
#define LAYOUT_PORT_PIT          0x40   /* KVM's in-kernel 8254: channels 0..2, mode register at +3 */
#define LAYOUT_PORT_SPEAKER      0x61   /* KVM's too (KVM_PIT_SPEAKER_DUMMY): PIT channel 2 gate and output */
#define LAYOUT_PORT_SYSCTL_A     0x92   /* system control port A: A20 (always on), fast reset */
#define LAYOUT_PORT_IDE_CMD      0x1f0  /* primary IDE channel, command block 0x1f0..0x1f7 (--firmware) */
#define LAYOUT_PORT_IDE_CTL      0x3f6  /* its device control / alternate status register */
#define LAYOUT_PORT_FW           0xfa0  /* the firmware's line to lbvm: +0 INT 13h call, +1 event */
#define LAYOUT_PCI_IO            0xc000 /* I/O BARs are placed from here ... */
#define LAYOUT_PCI_IO_END        0xc800 /* ... up to here (inside the DSDT's I/O window 0xd00..0xffff) */

/* Interrupt lines (ISA IRQ n is IOAPIC pin n, as KVM's default routing has it). */
#define LAYOUT_IRQ_COM1          4
#define LAYOUT_IRQ_COM2          3
#define LAYOUT_IRQ_RTC           8
#define LAYOUT_IRQ_ACPI_SCI      9      /* ACPI's system control interrupt (level) */
#define LAYOUT_IRQ_IDE           14
#define LAYOUT_PIC_VECTOR_MASTER 0x08   /* where the firmware puts the 8259s: IRQ 0..7, as on a PC */
#define LAYOUT_PIC_VECTOR_SLAVE  0x70   /* IRQ 8..15 */
#define LAYOUT_IRQ_PCI_FIRST     16     /* PCI INTx lines use IOAPIC pins 16..23 */
#define LAYOUT_IOAPIC_PINS       24

/* APIC ids, as the MP table and the MADT name them. */
#define LAYOUT_BSP_APIC_ID       0      /* the one vCPU's local APIC */
#define LAYOUT_IOAPIC_ID         1      /* after the CPU's */

#ifndef __ASSEMBLER__
/* The areas of the first MiB that lbvm writes must not overlap: with --firmware the ACPI tables and the
 * firmware image (with its tables at LAYOUT_FW_TABLES) share the top 128 KiB. */
_Static_assert(LAYOUT_MPTABLE + LAYOUT_MPTABLE_SIZE <= LAYOUT_ACPI, "MP table below the ACPI area");
_Static_assert(LAYOUT_ACPI + LAYOUT_ACPI_SIZE <= LAYOUT_FIRMWARE, "ACPI area below the firmware");
_Static_assert(LAYOUT_FW_TABLES >= LAYOUT_FIRMWARE && LAYOUT_FW_TABLES < LAYOUT_FIRMWARE + LAYOUT_FIRMWARE_SIZE,
	       "the firmware's tables inside its image");
#endif
/* The user-mode network behind the NIC (--net): QEMU's `-nic user` address plan. IPv4 addresses as host-order
 * numbers; the mirror is lbvm's own HTTP mirror of verified distfiles. */
#define LAYOUT_NET_NETWORK       UINT32_C(0x0a000200) /* 10.0.2.0/24 */
#define LAYOUT_NET_NETMASK       UINT32_C(0xffffff00) /* 255.255.255.0 */
#define LAYOUT_NET_HOST          UINT32_C(0x0a000202) /* 10.0.2.2: gateway, DHCP server; host loopback online */
#define LAYOUT_NET_DNS           UINT32_C(0x0a000203) /* 10.0.2.3: DNS server */
#define LAYOUT_NET_MIRROR        UINT32_C(0x0a000204) /* 10.0.2.4: lbvm's distfile mirror */
#define LAYOUT_NET_MIRROR_PORT   80                   /* ... serving HTTP here */
#define LAYOUT_NET_GUEST         UINT32_C(0x0a00020f) /* 10.0.2.15: the address DHCP gives the guest */
#define LAYOUT_NET_GUEST_MAC     { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } /* the NIC's EEPROM MAC address */

#endif
