/* lbvm's firmware in guest RAM: the image linked into lbvm (built from firmware/bios.S at make time) and
 * the table lbvm writes beside it before the first instruction (firmware/abi.h). */
#ifndef LBVM_FIRMWARE_LOAD_H
#define LBVM_FIRMWARE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/guest_mem.h"

/* The linked image (LAYOUT_FIRMWARE_SIZE bytes when the build is right). */
const uint8_t *firmware_image(size_t *len);

/* Copy the image to LAYOUT_FIRMWARE and fill its table: the number of hard disks, conventional memory,
 * and the e820 map of a machine with ram_size bytes of RAM (boot/e820.c: the map a kernel would find in
 * its zero page). 0; -EINVAL when the linked image has the wrong size or there are too many disks;
 * -EFAULT when guest RAM cannot hold it. */
int firmware_load(const struct guest_mem *mem, uint64_t ram_size, unsigned ndisks);

#endif
