/* The guest-physical memory map and interrupt lines: the only place that names a guest address.
 *
 *   0x0000_0000  real-mode IVT and BIOS data area (RAM, left zero)
 *   0x0000_0500  boot GDT                         (written by the loader, entry only)
 *   0x0000_7000  zero page (struct boot_params)
 *   0x0000_9000  identity page tables for the 64-bit entry (PML4, PDPT, 4 PDs)
 *   0x0002_0000  kernel command line
 *   0x0009_fc00  MP floating pointer + MP config table (reserved in e820, where Linux scans)
 *   0x000e_0000  ACPI: RSDP (where Linux's legacy scan finds it), then RSDT, XSDT, FADT, FACS, MADT, DSDT
 *   0x000f_0000  legacy BIOS area (reserved in e820, empty)
 *   0x0010_0000  protected-mode kernel (bzImage payload), then free RAM; initrd at the top of low RAM
 *   0xc000_0000  32-bit PCI hole: PCI MMIO window, IOAPIC, LAPIC, KVM's TSS; RAM resumes at 4 GiB
 *
 * Also here: the I/O ports and interrupt lines, and the guest-visible addresses of the user-mode network.
 */
#ifndef LBVM_COMMON_LAYOUT_H
#define LBVM_COMMON_LAYOUT_H

#include <stdint.h>

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
#define LAYOUT_PCI_IO            0xc000 /* I/O BARs are placed from here ... */
#define LAYOUT_PCI_IO_END        0xc800 /* ... up to here (inside the DSDT's I/O window 0xd00..0xffff) */

/* Interrupt lines (ISA IRQ n is IOAPIC pin n, as KVM's default routing has it). */
#define LAYOUT_IRQ_COM1          4
#define LAYOUT_IRQ_COM2          3
#define LAYOUT_IRQ_RTC           8
#define LAYOUT_IRQ_ACPI_SCI      9      /* ACPI's system control interrupt (level) */
#define LAYOUT_IRQ_PCI_FIRST     16     /* PCI INTx lines use IOAPIC pins 16..23 */
#define LAYOUT_IOAPIC_PINS       24

/* APIC ids, as the MP table and the MADT name them. */
#define LAYOUT_BSP_APIC_ID       0      /* the one vCPU's local APIC */
#define LAYOUT_IOAPIC_ID         1      /* after the CPU's */

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
