/* A tiny test kernel for the KVM test host: a bzImage with a valid setup header (x86 boot protocol 2.06)
 * whose 32-bit protected-mode code does one thing that no Debian kernel can be made to do on purpose, then
 * never returns. Chosen at assembly time with --defsym MODE=n (tests/host/testkernel/build.sh):
 *   MODE_TRIPLE_FAULT  print a line, load an empty IDT and raise an exception: the CPU shuts down
 *   MODE_KBC_RESET     print a line, pulse the reset line through the i8042 (command 0xFE), no reboot message
 *   MODE_PANIC_SPIN    print a "Kernel panic" line without its end marker, then spin with no exits
 * lbvm enters at 0x100000 in flat 32-bit protected mode with interrupts off. */
	.set MODE_TRIPLE_FAULT, 1
	.set MODE_KBC_RESET, 2
	.set MODE_PANIC_SPIN, 3

	.set LOAD_ADDR, 0x100000    /* where the protected-mode code runs (boot protocol: code32_start) */
	.set SETUP_SECTS, 1         /* one 512-byte sector of setup code after the boot sector */
	.set COM1, 0x3f8
	.set COM1_LSR, COM1 + 5
	.set LSR_THRE, 0x20         /* transmitter holding register empty */
	.set I8042_CMD, 0x64
	.set I8042_PULSE_RESET, 0xfe
	.set LOADED_HIGH, 0x01      /* loadflags: the protected-mode code is at 1 MiB */

	.code32
	.text
/* --- the boot sector and setup sector (offsets as in struct boot_params) ------------------------------ */
boot:
	.org 0x1f1
	.byte SETUP_SECTS           /* 0x1f1 setup_sects */
	.word 0                     /* 0x1f2 root_flags */
	.long (pm_end - pm_start + 15) / 16 /* 0x1f4 syssize, in 16-byte units */
	.word 0                     /* 0x1f8 ram_size */
	.word 0                     /* 0x1fa vid_mode */
	.word 0                     /* 0x1fc root_dev */
	.word 0xaa55                /* 0x1fe boot_flag */
	.byte 0xeb                  /* 0x200 jump over the header ... */
	.byte header_end - 0x202    /* 0x201 ... whose length this byte gives */
	.ascii "HdrS"               /* 0x202 header magic */
	.word 0x0206                /* 0x206 protocol version */
	.long 0                     /* 0x208 realmode_swtch */
	.word 0                     /* 0x20c start_sys_seg */
	.word 0                     /* 0x20e kernel_version */
	.byte 0xff                  /* 0x210 type_of_loader */
	.byte LOADED_HIGH           /* 0x211 loadflags */
	.word 0                     /* 0x212 setup_move_size */
	.long LOAD_ADDR             /* 0x214 code32_start */
	.long 0                     /* 0x218 ramdisk_image */
	.long 0                     /* 0x21c ramdisk_size */
	.long 0                     /* 0x220 bootsect_kludge */
	.word 0                     /* 0x224 heap_end_ptr */
	.byte 0                     /* 0x226 ext_loader_ver */
	.byte 0                     /* 0x227 ext_loader_type */
	.long 0                     /* 0x228 cmd_line_ptr */
	.long 0x37ffffff            /* 0x22c initrd_addr_max */
	.long 0x1000                /* 0x230 kernel_alignment */
	.byte 0                     /* 0x234 relocatable_kernel: no */
	.byte 0                     /* 0x235 min_alignment */
	.word 0                     /* 0x236 xloadflags: no 64-bit entry */
	.long 255                   /* 0x238 cmdline_size */
	.long 0                     /* 0x23c hardware_subarch */
	.quad 0                     /* 0x240 hardware_subarch_data */
	.long 0                     /* 0x248 payload_offset */
	.long 0                     /* 0x24c payload_length */
	.quad 0                     /* 0x250 setup_data */
	.quad LOAD_ADDR             /* 0x258 pref_address */
	.long pm_end - pm_start     /* 0x260 init_size */
	.long 0                     /* 0x264 handover_offset */
header_end:
	.org (SETUP_SECTS + 1) * 512

/* --- the protected-mode code, run at LOAD_ADDR --------------------------------------------------------- */
	/* ABS(label): the run-time address of a label below */
	.macro abs_addr reg, label
	movl $(\label - pm_start + LOAD_ADDR), \reg
	.endm
pm_start:
	abs_addr %esp, stack_top
	abs_addr %esi, msg_hello
	call puts
.if MODE == MODE_TRIPLE_FAULT
	abs_addr %esi, msg_triple
	call puts
	abs_addr %eax, empty_idt
	lidt (%eax)                 /* limit 0: no exception can be delivered ... */
	int3                        /* ... so this one becomes #GP, #DF, then a shutdown */
.elseif MODE == MODE_KBC_RESET
	abs_addr %esi, msg_reset
	call puts
	movb $I8042_PULSE_RESET, %al
	outb %al, $I8042_CMD
.elseif MODE == MODE_PANIC_SPIN
	abs_addr %esi, msg_panic
	call puts
	abs_addr %esi, msg_panic_more
	call puts
.else
	.error "MODE must be 1, 2 or 3"
.endif
spin:
	jmp spin                    /* no exit: only lbvm's own watchdog can end this */

/* puts: write the NUL-terminated string at %esi to COM1 */
puts:
	movw $COM1_LSR, %dx
1:	inb %dx, %al
	testb $LSR_THRE, %al
	jz 1b
	lodsb
	testb %al, %al
	jz 2f
	movw $COM1, %dx
	outb %al, %dx
	jmp puts
2:	ret

msg_hello:	.asciz "LBVM-GUEST: test kernel up\n"
msg_triple:	.asciz "LBVM-GUEST: triple fault next\n"
msg_reset:	.asciz "LBVM-GUEST: i8042 reset next\n"
msg_panic:	.asciz "Kernel panic - not syncing: lbvm test kernel\n"
msg_panic_more:	.asciz "LBVM-GUEST: the rest of the panic report\n"
	.balign 8
empty_idt:	.word 0
	.long 0
	.balign 16
stack:	.fill 256, 1, 0
stack_top:
	.balign 16
pm_end:
