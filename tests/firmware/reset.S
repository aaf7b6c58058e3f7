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
	lidt idt_none + 0x7c00          /* no IDT at all: the next exception shuts the CPU down */
	int $0x03
	.endif
3:	hlt
	jmp 3b
idt_none:
	.word 0
	.long 0
msg:	.asciz "LBVM-BOOT: resetting\r\n"
	.org 510
	.byte 0x55, 0xaa
