/* A small encoder for ACPI Machine Language (ACPI 6.x, section 20): just what lbvm's DSDT needs (names,
 * integers, packages, buffers, scopes and devices). It writes into a caller's fixed buffer; a package's
 * PkgLength is filled in when the package ends, in the shortest form that fits. Errors (buffer full,
 * nesting too deep, a bad name) are sticky: check aml_failed() once at the end. Pure, no allocation. */
#ifndef LBVM_BOOT_AML_H
#define LBVM_BOOT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

/* Opcodes lbvm emits. */
#define AML_ZERO_OP         0x00
#define AML_ONE_OP          0x01
#define AML_NAME_OP         0x08
#define AML_BYTE_PREFIX     0x0a
#define AML_WORD_PREFIX     0x0b
#define AML_DWORD_PREFIX    0x0c
#define AML_QWORD_PREFIX    0x0e
#define AML_SCOPE_OP        0x10
#define AML_BUFFER_OP       0x11
#define AML_PACKAGE_OP      0x12
#define AML_DUAL_NAME       0x2e
#define AML_MULTI_NAME      0x2f
#define AML_ROOT_CHAR       0x5c
#define AML_EXT_OP_PREFIX   0x5b
#define AML_DEVICE_OP       0x82 /* after AML_EXT_OP_PREFIX */

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool failed;
	unsigned depth;
	size_t open[AML_MAX_DEPTH]; /* where each open package's contents begin (its PkgLength goes there) */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
bool aml_failed(const struct aml *a);

void aml_bytes(struct aml *a, const void *bytes, size_t n);
/* An integer in its shortest encoding: ZeroOp, OneOp, or a Byte/Word/DWord/QWord constant. */
void aml_integer(struct aml *a, uint64_t v);
/* A NameString: "\\_SB_.PCI0", "_S5", "PCI0" (segments of 1..4 of [A-Z0-9_], padded with '_'). */
void aml_name_string(struct aml *a, const char *path);
/* Name(NAME, ...): the value follows (an integer, a package, a buffer). */
void aml_name(struct aml *a, const char *name);
/* Package(n) { ... }: the n elements follow, then aml_end. */
void aml_package(struct aml *a, unsigned elements);
/* Scope(NAME) { ... } and Device(NAME) { ... }: the contents follow, then aml_end. */
void aml_scope(struct aml *a, const char *name);
void aml_device(struct aml *a, const char *name);
/* Close the innermost package, scope or device: its PkgLength is written in front of its contents. */
void aml_end(struct aml *a);
/* Buffer() { bytes } in one piece. */
void aml_buffer(struct aml *a, const uint8_t *bytes, size_t n);

/* A compressed EISA id ("PNP0A03") as the 32-bit integer _HID takes; 0 for a malformed id. */
uint32_t aml_eisaid(const char *id);

#endif
