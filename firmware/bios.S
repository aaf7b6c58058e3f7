/* lbvm's PC firmware: the few BIOS services a boot sector such as builder-hex0 calls, in real mode, and
 * nothing else. Built at `make` time with Debian's binutils (as, ld, objcopy) into a 64 KiB image that
 * lbvm copies to F000:0000 and starts the vCPU at (docs/firmware.md).
 *
 *   F000:0000  fw_entry: IVT, BIOS data area, both 8259s (every line masked), then INT 19h boots LBA 0
 *   INT 10h    AH=0Eh teletype to COM1 (every register kept), AH=0Fh video mode
 *   INT 11h    equipment word          INT 12h  conventional memory in KiB
 *   INT 13h    disk services: the registers go to lbvm through LAYOUT_PORT_FW (firmware/int13.c)
 *   INT 15h    E820 memory map (from the table lbvm wrote), A20 calls (A20 is always on under KVM)
 *   INT 18h    boot failure            INT 19h  load LBA 0 of drive 80h to 0000:7C00 and jump there, DL=80h
 *   IRQ 0..15  end of interrupt, nothing more (the firmware unmasks none of them)
 *   F000:FFF0  reset vector: tells lbvm, which ends the run as a reboot
 *
 * The PIT is left alone: it is KVM's, and until a guest programs it, it does not tick. */
#include "common/layout.h"
#include "firmware/abi.h"

/* Offsets inside segment F000 of the addresses in common/layout.h. */
#define FW_OFF(addr)         ((addr) - LAYOUT_FIRMWARE)
#define TABLES               FW_OFF(LAYOUT_FW_TABLES)
#define FRAME                FW_OFF(LAYOUT_FW_INT13_FRAME)

/* BIOS data area fields (offsets from LAYOUT_BDA, the PC's fixed layout). */
#define BDA_COM1             0x00
#define BDA_EBDA_SEGMENT     0x0e
#define BDA_EQUIPMENT        0x10
#define BDA_BASE_KIB         0x13
#define BDA_HARD_DISKS       0x75
#define EQUIPMENT_ONE_SERIAL 0x0200 /* bits 9..11: serial ports; no floppy, no video */

/* 8259 programming: ICW1 edge + cascade + ICW4, ICW3 slave on IRQ 2, ICW4 8086 mode. */
#define PIC_ICW1             0x11
#define PIC_CASCADE_IRQ      0x04
#define PIC_SLAVE_ID         0x02
#define PIC_ICW4_8086        0x01
#define PIC_MASK_ALL         0xff
#define PIC_EOI              0x20

#define UART_LSR             5
#define UART_LSR_THRE        0x20
#define TX_WAIT_POLLS        0xffff
#define SMAP                 0x534d4150 /* "SMAP" */
#define BIOS_UNSUPPORTED     0x86       /* AH for an unknown function */
#define BOOT_DRIVE           0x80

	.code16
	.text

/* ---- start: lbvm puts the vCPU here in real mode, CS = F000 ----------------------------------------- */
	.globl fw_entry
fw_entry:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ss
	movw $LAYOUT_FW_STACK_TOP, %sp
	movw %ax, %ds
	movw %ax, %es
	call setup_ivt
	call setup_bda
	call setup_pics
	int $0x19
	/* INT 19h does not come back */

.macro set_vector vec, handler
	movw $\handler, (LAYOUT_IVT + (\vec) * 4)
	movw %cs, (LAYOUT_IVT + (\vec) * 4 + 2)
.endm

/* Every vector points at an IRET, the 16 IRQ vectors at an EOI, then the services. DS = ES = 0. */
setup_ivt:
	movw $LAYOUT_IVT, %di
	movw $256, %cx
1:	movw $int_unused, %ax
	stosw
	movw %cs, %ax
	stosw
	loop 1b
	movw $(LAYOUT_IVT + LAYOUT_PIC_VECTOR_MASTER * 4), %di
	movw $8, %cx
2:	movw $irq_master, %ax
	stosw
	movw %cs, %ax
	stosw
	loop 2b
	movw $(LAYOUT_IVT + LAYOUT_PIC_VECTOR_SLAVE * 4), %di
	movw $8, %cx
3:	movw $irq_slave, %ax
	stosw
	movw %cs, %ax
	stosw
	loop 3b
	set_vector 0x10, int10
	set_vector 0x11, int11
	set_vector 0x12, int12
	set_vector 0x13, int13
	set_vector 0x15, int15
	set_vector 0x18, int18
	set_vector 0x19, int19
	ret

setup_bda:
	movw $LAYOUT_PORT_COM1, (LAYOUT_BDA + BDA_COM1)
	movw $EQUIPMENT_ONE_SERIAL, (LAYOUT_BDA + BDA_EQUIPMENT)
	movw $(LAYOUT_EBDA >> 4), (LAYOUT_BDA + BDA_EBDA_SEGMENT)
	movw %cs:(TABLES + FW_TAB_BASE_KIB), %ax
	movw %ax, (LAYOUT_BDA + BDA_BASE_KIB)
	movb %cs:(TABLES + FW_TAB_DISKS), %al
	movb %al, (LAYOUT_BDA + BDA_HARD_DISKS)
	ret

/* Both 8259s at the PC's vectors (08h, 70h), every line masked: no interrupt reaches a guest that does
 * not ask for one. */
setup_pics:
	movb $PIC_ICW1, %al
	outb %al, $LAYOUT_PORT_PIC_MASTER
	outb %al, $LAYOUT_PORT_PIC_SLAVE
	movb $LAYOUT_PIC_VECTOR_MASTER, %al
	outb %al, $(LAYOUT_PORT_PIC_MASTER + 1)
	movb $LAYOUT_PIC_VECTOR_SLAVE, %al
	outb %al, $(LAYOUT_PORT_PIC_SLAVE + 1)
	movb $PIC_CASCADE_IRQ, %al
	outb %al, $(LAYOUT_PORT_PIC_MASTER + 1)
	movb $PIC_SLAVE_ID, %al
	outb %al, $(LAYOUT_PORT_PIC_SLAVE + 1)
	movb $PIC_ICW4_8086, %al
	outb %al, $(LAYOUT_PORT_PIC_MASTER + 1)
	outb %al, $(LAYOUT_PORT_PIC_SLAVE + 1)
	movb $PIC_MASK_ALL, %al
	outb %al, $(LAYOUT_PORT_PIC_MASTER + 1)
	outb %al, $(LAYOUT_PORT_PIC_SLAVE + 1)
	ret

/* ---- common exits of the services: IRET with the caller's flags, carry set or clear --------------- */
/* Stack on entry: IP, CS, FLAGS. */
iret_cf:
	pushw %bp
	movw %sp, %bp
	orw $1, 6(%bp)
	popw %bp
	iret
iret_nc:
	pushw %bp
	movw %sp, %bp
	andw $0xfffe, 6(%bp)
	popw %bp
	iret
unsupported:
	movb $BIOS_UNSUPPORTED, %ah
	jmp iret_cf

int_unused:
	iret

irq_master:
	pushw %ax
	movb $PIC_EOI, %al
	outb %al, $LAYOUT_PORT_PIC_MASTER
	popw %ax
	iret
irq_slave:
	pushw %ax
	movb $PIC_EOI, %al
	outb %al, $LAYOUT_PORT_PIC_SLAVE
	outb %al, $LAYOUT_PORT_PIC_MASTER
	popw %ax
	iret

/* ---- INT 10h: the console is COM1 ------------------------------------------------------------------ */
int10:
	cmpb $0x0e, %ah
	je 1f
	cmpb $0x0f, %ah
	je 3f
	iret
1:	pushw %ax           /* teletype: AL to the UART once it can take it; every register is kept */
	pushw %cx
	pushw %dx
	movw $(LAYOUT_PORT_COM1 + UART_LSR), %dx
	movw $TX_WAIT_POLLS, %cx
2:	inb %dx, %al
	testb $UART_LSR_THRE, %al
	loopz 2b
	popw %dx
	popw %cx
	popw %ax
	pushw %dx
	movw $LAYOUT_PORT_COM1, %dx
	outb %al, %dx
	popw %dx
	iret
3:	movw $0x5003, %ax   /* get video mode: 80 columns, mode 3, page 0 */
	movb $0, %bh
	iret

int11:
	pushw %ds
	xorw %ax, %ax
	movw %ax, %ds
	movw (LAYOUT_BDA + BDA_EQUIPMENT), %ax
	popw %ds
	iret

int12:
	pushw %ds
	xorw %ax, %ax
	movw %ax, %ds
	movw (LAYOUT_BDA + BDA_BASE_KIB), %ax
	popw %ds
	iret

/* ---- INT 13h: the frame goes to lbvm, which does the disk work on bounds-checked guest memory -------- */
int13:
	pushw %ds
	pushw %bp
	movw %sp, %bp       /* 0(%bp) BP, 2 DS, 4 IP, 6 CS, 8 FLAGS */
	pushw %ax
	movw %cs, %ax
	movw %ax, %ds
	popw %ax
	movw %ax, (FRAME + FW_FRAME_AX)
	movw %bx, (FRAME + FW_FRAME_BX)
	movw %cx, (FRAME + FW_FRAME_CX)
	movw %dx, (FRAME + FW_FRAME_DX)
	movw %si, (FRAME + FW_FRAME_SI)
	movw %di, (FRAME + FW_FRAME_DI)
	movw %es, (FRAME + FW_FRAME_ES)
	movw 2(%bp), %ax
	movw %ax, (FRAME + FW_FRAME_DS)
	movw $(LAYOUT_PORT_FW + FW_PORT_INT13), %dx
	outb %al, %dx
	movw (FRAME + FW_FRAME_AX), %ax
	movw (FRAME + FW_FRAME_BX), %bx
	movw (FRAME + FW_FRAME_CX), %cx
	movw (FRAME + FW_FRAME_DX), %dx
	movw (FRAME + FW_FRAME_DI), %di
	movw (FRAME + FW_FRAME_ES), %es
	testb $FW_FRAME_CF, (FRAME + FW_FRAME_FLAGS)
	jz 1f
	orw $1, 8(%bp)
	jmp 2f
1:	andw $0xfffe, 8(%bp)
2:	popw %bp
	popw %ds
	iret

/* ---- INT 15h: E820 and A20 ------------------------------------------------------------------------- */
int15:
	cmpl $0xe820, %eax
	je e820
	cmpw $0x2400, %ax
	je unsupported      /* disable A20: KVM has no A20 gate, the line is always on */
	cmpw $0x2401, %ax
	je a20_enable
	cmpw $0x2402, %ax
	je a20_status
	cmpw $0x2403, %ax
	je a20_support
	jmp unsupported
a20_enable:
	movb $0, %ah
	jmp iret_nc
a20_status:
	movw $0x0001, %ax   /* AH 0, AL 1: enabled */
	jmp iret_nc
a20_support:
	movb $0, %ah
	xorw %bx, %bx       /* no gate to switch: neither the keyboard controller nor port 92h */
	jmp iret_nc

/* EBX: which entry (0 first); ES:DI: 20 bytes or more (ECX); EDX: "SMAP". Returns the entry, EAX "SMAP",
 * ECX 20, EBX the next one or 0 after the last. */
e820:
	cmpl $SMAP, %edx
	jne unsupported
	cmpl $FW_E820_ENTRY_SIZE, %ecx
	jb unsupported
	pushw %ds
	pushw %si
	pushw %di
	movw %cs, %si
	movw %si, %ds
	movzwl (TABLES + FW_TAB_E820_COUNT), %esi
	cmpl %esi, %ebx
	jae 1f
	imulw $FW_E820_ENTRY_SIZE, %bx, %si
	addw $(TABLES + FW_TAB_E820), %si
	movw $(FW_E820_ENTRY_SIZE / 2), %cx
	rep movsw
	popw %di
	incl %ebx
	movzwl (TABLES + FW_TAB_E820_COUNT), %esi
	cmpl %esi, %ebx
	jb 2f
	xorl %ebx, %ebx
2:	popw %si
	popw %ds
	movl $FW_E820_ENTRY_SIZE, %ecx
	movl $SMAP, %eax
	jmp iret_nc
1:	popw %di
	popw %si
	popw %ds
	jmp unsupported

/* ---- booting ------------------------------------------------------------------------------------- */
int18:
	movw %cs, %ax
	movw %ax, %ds
	movw $msg_no_boot, %si
	call puts
	movb $FW_EVENT_NO_BOOT, %al
	jmp fw_event

/* Load LBA 0 of drive 80h to 0000:7C00 through our own INT 13h, check 55 AA, enter with DL = 80h. */
int19:
	cli
	xorw %ax, %ax
	movw %ax, %ss
	movw $LAYOUT_FW_STACK_TOP, %sp
	movw %cs, %ax
	movw %ax, %ds
	movw $1, (boot_dap + 2)
	movw $boot_dap, %si
	movb $BOOT_DRIVE, %dl
	movb $0x42, %ah
	int $0x13
	jc int18
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	cmpw $FW_BOOT_SIGNATURE, (LAYOUT_BOOT_SECTOR + FW_BOOT_SIGNATURE_OFFSET)
	jne int18
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	movl $BOOT_DRIVE, %edx
	sti
	ljmp $0, $LAYOUT_BOOT_SECTOR

/* DS:SI: a NUL-terminated string, through INT 10h. */
puts:
	lodsb
	testb %al, %al
	jz 1f
	movb $0x0e, %ah
	int $0x10
	jmp puts
1:	ret

/* AL: an event for lbvm; the run ends there. */
fw_event:
	movw $(LAYOUT_PORT_FW + FW_PORT_EVENT), %dx
	outb %al, %dx
	cli
1:	hlt
	jmp 1b

boot_dap:                 /* disk address packet: 1 sector of LBA 0 to 0000:7C00 */
	.byte 16, 0
	.word 1
	.word LAYOUT_BOOT_SECTOR, 0
	.quad 0

msg_no_boot:
	.asciz "lbvm firmware: no bootable disk (LBA 0 of drive 80h unreadable or without 55 AA)\r\n"

	.globl fw_code_end
fw_code_end:

/* lbvm's tables and the INT 13h frame live here (zero in the image); .org fails the build if the code
 * ever grows into them. */
	.org TABLES
	.space FW_TAB_SIZE
	.org FRAME
	.space FW_FRAME_SIZE

/* ---- the reset vector: F000:FFF0 ------------------------------------------------------------------- */
	.org FW_OFF(LAYOUT_FW_RESET_VECTOR)
	.globl fw_reset_vector
fw_reset_vector:
	movb $FW_EVENT_RESET, %al
	movw $(LAYOUT_PORT_FW + FW_PORT_EVENT), %dx
	outb %al, %dx
	cli
1:	hlt
	jmp 1b
	.org LAYOUT_FIRMWARE_SIZE
