/* The BIOS disk services (INT 13h) behind lbvm's firmware: the firmware hands the caller's registers over
 * in a frame (firmware/abi.h), and this module carries the call out on the disk images and on guest
 * memory, then fills in the registers the caller gets back. Every guest address (the disk address packet
 * at DS:SI, the buffer it names, ES:BX for CHS calls, the parameter table of AH=48h) goes through the
 * bounds-checked guest memory helpers; a bad one is an error code for the caller, never an access outside
 * guest RAM.
 *
 *   AH=00h reset             AH=01h status of the last call      AH=02h/03h CHS read/write
 *   AH=08h drive parameters  AH=15h drive type                   AH=41h extensions present (EDD 3.0)
 *   AH=42h/43h extended read/write (the sector count in the packet is written back: what was moved)
 *   AH=44h verify            AH=47h seek                         AH=48h extended drive parameters
 *
 * Drives 80h, 81h, ... are the disks in order. Anything else: AH=01h and the carry flag. */
#ifndef LBVM_FIRMWARE_INT13_H
#define LBVM_FIRMWARE_INT13_H

#include <stdint.h>

#include "devices/disk_image.h"
#include "firmware/abi.h"
#include "common/guest_mem.h"

#define INT13_MAX_DISKS 2

/* Status codes (AH after the call). */
#define INT13_OK             0x00
#define INT13_BAD_COMMAND    0x01 /* unknown function, bad drive or bad parameter */
#define INT13_WRITE_PROTECT  0x03
#define INT13_NOT_FOUND      0x04 /* sector past the end of the disk */
#define INT13_CONTROLLER     0x20 /* the host could not read or write the image */

struct int13_frame {
	uint16_t ax, bx, cx, dx, si, di, ds, es;
	uint16_t flags; /* out: FW_FRAME_CF */
};

struct int13_disks {
	struct disk_image *disk[INT13_MAX_DISKS];
	unsigned count;
	uint8_t last_status;  /* for AH=01h */
};

/* The frame as the firmware lays it out (little-endian u16s at FW_FRAME_* offsets), and back. */
void int13_frame_decode(struct int13_frame *f, const uint8_t raw[FW_FRAME_SIZE]);
void int13_frame_encode(uint8_t raw[FW_FRAME_SIZE], const struct int13_frame *f);

/* Serve one call: read the inputs from *f, do the work, leave the outputs in *f. */
void int13_call(struct int13_disks *disks, const struct guest_mem *mem, struct int13_frame *f);

/* The CHS geometry the services report for a disk of `sectors` sectors (at most 1024 cylinders). */
void int13_geometry(uint64_t sectors, unsigned *cylinders, unsigned *heads, unsigned *spt);

#endif
