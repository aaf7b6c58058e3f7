/* The firmware image (built from firmware/bios.S by make), linked into lbvm as read-only data;
 * firmware/load.c copies it into guest RAM. FIRMWARE_BIN names the file, given by the Makefile. */
	.section .rodata
	.balign 16
	.globl lbvm_firmware_image
	.type lbvm_firmware_image, @object
lbvm_firmware_image:
	.incbin FIRMWARE_BIN
	.globl lbvm_firmware_image_end
lbvm_firmware_image_end:
	.section .note.GNU-stack, "", @progbits
