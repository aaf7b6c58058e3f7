/* The contract between lbvm's real-mode firmware (firmware/bios.S) and lbvm itself: the table lbvm writes
 * before the first instruction, the register frame of an INT 13h call, and what the firmware writes to its
 * I/O port. Addresses live in common/layout.h; this header holds only offsets and codes, so that the C side
 * and the assembler (which includes it too) cannot disagree. */
#ifndef LBVM_FIRMWARE_ABI_H
#define LBVM_FIRMWARE_ABI_H

/* At LAYOUT_FW_TABLES, written by lbvm (firmware/load.c), read by the firmware. Little-endian. */
#define FW_TAB_DISKS        0x00 /* u8: hard disks, BIOS drives 0x80 and up */
#define FW_TAB_BASE_KIB     0x02 /* u16: conventional memory in KiB (INT 12h, BDA 0x413) */
#define FW_TAB_E820_COUNT   0x04 /* u16: entries in the map below */
#define FW_TAB_E820         0x10 /* the e820 map: FW_E820_ENTRY_SIZE bytes each */
#define FW_E820_ENTRY_SIZE  20   /* base u64, length u64, type u32: INT 15h E820's classic record */
#define FW_E820_MAX         16
#define FW_TAB_SIZE         (FW_TAB_E820 + FW_E820_MAX * FW_E820_ENTRY_SIZE)

/* At LAYOUT_FW_INT13_FRAME: the caller's registers as INT 13h received them (u16 each), written by the
 * firmware; lbvm carries the call out and writes back AX, BX, CX, DX, DI, ES and FLAGS, which the firmware
 * loads before its IRET. Only the low 16 bits travel: the upper halves of the 32-bit registers stay. */
#define FW_FRAME_AX         0x00
#define FW_FRAME_BX         0x02
#define FW_FRAME_CX         0x04
#define FW_FRAME_DX         0x06
#define FW_FRAME_SI         0x08
#define FW_FRAME_DI         0x0a
#define FW_FRAME_DS         0x0c
#define FW_FRAME_ES         0x0e
#define FW_FRAME_FLAGS      0x10 /* out: bit 0 = the carry flag the caller sees */
#define FW_FRAME_SIZE       0x12
#define FW_FRAME_CF         0x01

/* Offsets inside the LAYOUT_PORT_FW window. */
#define FW_PORT_INT13       0    /* a byte written here: lbvm serves the INT 13h frame */
#define FW_PORT_EVENT       1    /* a byte written here: one of the events below */
#define FW_PORT_COUNT       2

#define FW_EVENT_RESET      1    /* the guest jumped to the reset vector: the run ends as a reboot */
#define FW_EVENT_NO_BOOT    2    /* LBA 0 could not be read or has no 55 AA signature */

/* The boot signature at the end of a boot sector (bytes 510..511: 55 AA). */
#define FW_BOOT_SIGNATURE_OFFSET 510
#define FW_BOOT_SIGNATURE   0xaa55

#endif
