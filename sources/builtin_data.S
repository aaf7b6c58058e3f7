/* The distfile manifests built into lbvm (sources/builtin.h): their bytes, between start and end labels. */
	.section .rodata
	.balign 16
	.globl lbvm_manifest_2021_sysa_start, lbvm_manifest_2021_sysa_end
lbvm_manifest_2021_sysa_start:
	.incbin "sources/live-bootstrap-2021-09-sysa.manifest"
lbvm_manifest_2021_sysa_end:
	.globl lbvm_manifest_2021_sysc_start, lbvm_manifest_2021_sysc_end
lbvm_manifest_2021_sysc_start:
	.incbin "sources/live-bootstrap-2021-09-sysc.manifest"
lbvm_manifest_2021_sysc_end:
	.section .note.GNU-stack,"",%progbits
