#include "firmware/service.h"

#include <string.h>

#include "firmware/abi.h"
#include "common/layout.h"

void fw_service_init(struct fw_service *s, const struct guest_mem *mem, struct disk_image *const *disks,
		     unsigned ndisks, fw_event_fn event, void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->mem = mem;
	for (unsigned i = 0; i < ndisks && i < INT13_MAX_DISKS; i++)
		s->disks.disk[s->disks.count++] = disks[i];
	s->event = event;
	s->opaque = opaque;
}

static void serve_int13(struct fw_service *s)
{
	uint8_t raw[FW_FRAME_SIZE];
	if (guest_mem_read(s->mem, LAYOUT_FW_INT13_FRAME, raw, sizeof(raw)))
		return; /* the frame is in the firmware's RAM: always there unless the machine is broken */
	struct int13_frame f;
	int13_frame_decode(&f, raw);
	int13_call(&s->disks, s->mem, &f);
	int13_frame_encode(raw, &f);
	(void)guest_mem_write(s->mem, LAYOUT_FW_INT13_FRAME, raw, sizeof(raw)); /* where it was just read */
	s->int13_calls++;
}

void fw_service_io_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct fw_service *s = dev;
	uint8_t v = *(const uint8_t *)data;
	(void)size;
	if (offset == FW_PORT_INT13)
		serve_int13(s);
	else if (offset == FW_PORT_EVENT && (v == FW_EVENT_RESET || v == FW_EVENT_NO_BOOT) && s->event)
		s->event(s->opaque, v);
}
