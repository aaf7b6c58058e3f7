/* A boot sector that resets the machine one way (METHOD, given with --defsym): 1 port 92h bit 0,
 * 2 reset control 0xcf9, 3 the keyboard controller's pulse (0xfe to port 64h), 4 a triple fault.
 * It prints which through INT 10h first; tests/host/scenarios/firmware.sh checks how lbvm ends. */
	.code16
	.text
	.globl _start
_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x7000, %sp
	movw $msg + 0x7c00, %si
1:	lodsb
	testb %al, %al
	jz 2f
	movb $0x0e, %ah
	int $0x10
	jmp 1b
2:
	.if METHOD == 1
	inb $0x92, %al
	orb $0x01, %al
	outb %al, $0x92
	.elseif METHOD == 2
	movw $0xcf9, %dx
	movb $0x02, %al
	outb %al, %dx
	movb $0x06, %al
	outb %al, %dx
	.elseif METHOD == 3
	movb $0xfe, %al
	outb %al, $0x64
	.else
	/* A triple fault that no hypervisor turns into something else: in protected mode, an IDT whose first 32
	 * gates are 32-bit interrupt gates marked not present, and a divide error. Its gate is absent (#NP),
	 * so is the #NP's (a double fault), so is the #DF's: the CPU shuts down. Not simpler ways, which KVM
	 * nested on AMD (the test host) turns into something else: in real mode an IDT limit of 0 is ignored
	 * (the vector still comes from the firmware's IVT); a software INT n is emulated to find its return
	 * address (no NRIPS), and KVM's emulator gives up on a gate it cannot deliver (internal error). */
	movw $IDT, %di
	xorl %eax, %eax
	movw $32, %cx
4:	movl %eax, (%di)
	movl $0x00000e00, 4(%di)        /* type 0Eh (32-bit interrupt gate), P = 0 */
	addw $8, %di
	loop 4b
	lidt idt_desc + 0x7c00
	lgdt gdt_desc + 0x7c00
	movl %cr0, %eax
	orb $0x01, %al
	movl %eax, %cr0
	ljmp $0x08, $pm + 0x7c00
	.code32
pm:	xorl %ebx, %ebx
	divl %ebx
	.code16
	.endif
3:	hlt
	jmp 3b
	.set IDT, 0x1000                /* 32 gates, written above */
idt_desc:
	.word 32 * 8 - 1
	.long IDT
	.balign 8
gdt:	.quad 0
	.quad 0x00cf9a000000ffff        /* 08h: flat 32-bit code */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt + 0x7c00
msg:	.asciz "LBVM-BOOT: resetting\r\n"
	.org 510
	.byte 0x55, 0xaa
