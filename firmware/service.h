/* The firmware's line to lbvm: an I/O-port window (LAYOUT_PORT_FW) on which the firmware asks lbvm to serve
 * an INT 13h frame (firmware/int13.c) and reports the events that end a run (the reset vector, no bootable
 * disk). A guest that writes there itself gets the same services and nothing more. */
#ifndef LBVM_FIRMWARE_SERVICE_H
#define LBVM_FIRMWARE_SERVICE_H

#include <stdint.h>

#include "firmware/int13.h"
#include "common/guest_mem.h"

typedef void (*fw_event_fn)(void *opaque, unsigned event); /* FW_EVENT_* */

struct fw_service {
	const struct guest_mem *mem;
	struct int13_disks disks;
	fw_event_fn event;
	void *opaque;
	uint64_t int13_calls;   /* statistics */
};

/* disks[0] is drive 80h (at most INT13_MAX_DISKS). */
void fw_service_init(struct fw_service *s, const struct guest_mem *mem, struct disk_image *const *disks,
		     unsigned ndisks, fw_event_fn event, void *opaque);
/* Bus handler for the FW_PORT_COUNT-port window (reads are left to the bus: all ones). */
void fw_service_io_write(void *dev, uint64_t offset, const void *data, unsigned size);

#endif
