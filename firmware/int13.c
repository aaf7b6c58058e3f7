#include "firmware/int13.h"

#include <string.h>

/* Functions (AH). */
#define FN_RESET          0x00
#define FN_STATUS         0x01
#define FN_READ_CHS       0x02
#define FN_WRITE_CHS      0x03
#define FN_PARAMETERS     0x08
#define FN_DRIVE_TYPE     0x15
#define FN_CHECK_EXT      0x41
#define FN_READ_EXT       0x42
#define FN_WRITE_EXT      0x43
#define FN_VERIFY_EXT     0x44
#define FN_SEEK_EXT       0x47
#define FN_PARAMETERS_EXT 0x48

#define FIRST_HARD_DISK   0x80
#define EXT_MAGIC_IN      0x55aa /* AH=41h: BX in ... */
#define EXT_MAGIC_OUT     0xaa55 /* ... and out */
#define EDD_VERSION_3     0x30
#define EDD_FIXED_DISK    0x0001 /* CX of AH=41h: functions 42h, 43h, 44h, 47h, 48h */
#define DRIVE_TYPE_HARD   0x03   /* AH of AH=15h */

/* Disk address packet (AH=42h..47h) at DS:SI. */
#define DAP_SIZE          0
#define DAP_COUNT         2
#define DAP_BUFFER_OFF    4
#define DAP_BUFFER_SEG    6
#define DAP_LBA           8
#define DAP_FLAT_BUFFER   16     /* EDD 3.0: a 64-bit address, used when the buffer is FFFF:FFFF */
#define DAP_MIN_SIZE      16
#define DAP_FLAT_SIZE     24

/* Result buffer of AH=48h at DS:SI. */
#define PARAM_SIZE        0
#define PARAM_FLAGS       2
#define PARAM_CYLINDERS   4
#define PARAM_HEADS       8
#define PARAM_SPT         12
#define PARAM_SECTORS     16
#define PARAM_SECTOR_SIZE 24
#define PARAM_EDD_CONFIG  26
#define PARAM_MIN_SIZE    26
#define PARAM_EDD_SIZE    30
#define PARAM_NO_EDD_CONFIG UINT32_C(0xffffffff)

#define GEOMETRY_SPT      63
#define GEOMETRY_HEADS_SMALL 16
#define GEOMETRY_HEADS    255
#define GEOMETRY_MAX_CYL  1024

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static const unsigned frame_offsets[] = {
	FW_FRAME_AX, FW_FRAME_BX, FW_FRAME_CX, FW_FRAME_DX, FW_FRAME_SI,
	FW_FRAME_DI, FW_FRAME_DS, FW_FRAME_ES, FW_FRAME_FLAGS,
};

void int13_frame_decode(struct int13_frame *f, const uint8_t raw[FW_FRAME_SIZE])
{
	uint16_t *regs[] = { &f->ax, &f->bx, &f->cx, &f->dx, &f->si, &f->di, &f->ds, &f->es, &f->flags };
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		*regs[i] = get16(raw + frame_offsets[i]);
}

void int13_frame_encode(uint8_t raw[FW_FRAME_SIZE], const struct int13_frame *f)
{
	const uint16_t regs[] = { f->ax, f->bx, f->cx, f->dx, f->si, f->di, f->ds, f->es, f->flags };
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		put16(raw + frame_offsets[i], regs[i]);
}

void int13_geometry(uint64_t sectors, unsigned *cylinders, unsigned *heads, unsigned *spt)
{
	*spt = GEOMETRY_SPT;
	*heads = sectors <= (uint64_t)GEOMETRY_MAX_CYL * GEOMETRY_HEADS_SMALL * GEOMETRY_SPT ? GEOMETRY_HEADS_SMALL
											      : GEOMETRY_HEADS;
	uint64_t cyl = sectors / (*heads * *spt);
	*cylinders = cyl == 0 ? 1 : cyl > GEOMETRY_MAX_CYL ? GEOMETRY_MAX_CYL : (unsigned)cyl;
}

/* A real-mode segment:offset as a guest-physical address (up to 10FFEFh: A20 is always on). */
static uint64_t linear(uint16_t segment, uint16_t offset)
{
	return (uint64_t)segment * 16 + offset;
}

static uint8_t ah(const struct int13_frame *f) { return (uint8_t)(f->ax >> 8); }
static uint8_t al(const struct int13_frame *f) { return (uint8_t)f->ax; }
static uint8_t dl(const struct int13_frame *f) { return (uint8_t)f->dx; }

/* Move `count` sectors between the disk at `lba` and guest RAM at `buf`; *moved says how many did. */
static uint8_t transfer(struct disk_image *img, const struct guest_mem *mem, int write, uint64_t lba,
			uint32_t count, uint64_t buf, uint32_t *moved)
{
	*moved = 0;
	if (count == 0)
		return INT13_OK;
	if (lba >= img->sectors || count > img->sectors - lba)
		return INT13_NOT_FOUND;
	uint64_t bytes = (uint64_t)count * DISK_SECTOR_SIZE;
	void *host = guest_mem_ptr(mem, buf, bytes);
	if (!host)
		return INT13_BAD_COMMAND; /* the buffer is not guest RAM */
	if (write && img->read_only)
		return INT13_WRITE_PROTECT;
	int rc = write ? disk_image_pwrite(img, host, (size_t)bytes, lba * DISK_SECTOR_SIZE)
		       : disk_image_pread(img, host, (size_t)bytes, lba * DISK_SECTOR_SIZE);
	if (rc == -DISK_IMAGE_EROFS)
		return INT13_WRITE_PROTECT;
	if (rc)
		return INT13_CONTROLLER;
	*moved = count;
	return INT13_OK;
}

static uint8_t chs_call(struct disk_image *img, const struct guest_mem *mem, struct int13_frame *f, int write)
{
	unsigned cylinders, heads, spt;
	int13_geometry(img->sectors, &cylinders, &heads, &spt);
	unsigned sector = f->cx & 0x3f;
	unsigned cylinder = (f->cx >> 8) | (f->cx & 0xc0) << 2;
	unsigned head = f->dx >> 8;
	uint32_t moved = 0;
	uint8_t status = INT13_BAD_COMMAND;
	if (sector >= 1 && sector <= spt && head < heads && cylinder < cylinders) {
		uint64_t lba = ((uint64_t)cylinder * heads + head) * spt + sector - 1;
		status = transfer(img, mem, write, lba, al(f), linear(f->es, f->bx), &moved);
	}
	f->ax = (uint16_t)((f->ax & 0xff00) | (moved & 0xff));
	return status;
}

/* AH=42h, 43h, 44h, 47h: the disk address packet at DS:SI; the count moved goes back into it. */
static uint8_t packet_call(struct disk_image *img, const struct guest_mem *mem, const struct int13_frame *f)
{
	uint64_t at = linear(f->ds, f->si);
	uint8_t dap[DAP_FLAT_SIZE];
	if (guest_mem_read(mem, at, dap, DAP_MIN_SIZE) || dap[DAP_SIZE] < DAP_MIN_SIZE)
		return INT13_BAD_COMMAND;
	uint16_t count = get16(dap + DAP_COUNT);
	uint16_t off = get16(dap + DAP_BUFFER_OFF), seg = get16(dap + DAP_BUFFER_SEG);
	uint64_t lba = get64(dap + DAP_LBA);
	uint64_t buf = linear(seg, off);
	if (off == 0xffff && seg == 0xffff && dap[DAP_SIZE] >= DAP_FLAT_SIZE) {
		if (guest_mem_read(mem, at + DAP_FLAT_BUFFER, dap + DAP_FLAT_BUFFER, 8))
			return INT13_BAD_COMMAND;
		buf = get64(dap + DAP_FLAT_BUFFER);
	}
	uint32_t moved = 0;
	uint8_t status;
	switch (ah(f)) {
	case FN_READ_EXT: status = transfer(img, mem, 0, lba, count, buf, &moved); break;
	case FN_WRITE_EXT: status = transfer(img, mem, 1, lba, count, buf, &moved); break;
	case FN_VERIFY_EXT:
		status = lba < img->sectors && count <= img->sectors - lba ? INT13_OK : INT13_NOT_FOUND;
		moved = status == INT13_OK ? count : 0;
		break;
	default: /* seek */
		return lba < img->sectors ? INT13_OK : INT13_NOT_FOUND;
	}
	uint8_t back[2];
	put16(back, (uint16_t)moved);
	if (guest_mem_write(mem, at + DAP_COUNT, back, sizeof(back)))
		return INT13_BAD_COMMAND;
	return status;
}

static uint8_t parameters_ext(struct disk_image *img, const struct guest_mem *mem, const struct int13_frame *f)
{
	uint64_t at = linear(f->ds, f->si);
	uint8_t p[PARAM_EDD_SIZE] = { 0 };
	if (guest_mem_read(mem, at, p, 2))
		return INT13_BAD_COMMAND;
	uint16_t room = get16(p + PARAM_SIZE);
	if (room < PARAM_MIN_SIZE)
		return INT13_BAD_COMMAND;
	unsigned cylinders, heads, spt;
	int13_geometry(img->sectors, &cylinders, &heads, &spt);
	uint16_t size = room >= PARAM_EDD_SIZE ? PARAM_EDD_SIZE : PARAM_MIN_SIZE;
	put16(p + PARAM_SIZE, size);
	put16(p + PARAM_FLAGS, 0);
	put32(p + PARAM_CYLINDERS, cylinders);
	put32(p + PARAM_HEADS, heads);
	put32(p + PARAM_SPT, spt);
	put64(p + PARAM_SECTORS, img->sectors);
	put16(p + PARAM_SECTOR_SIZE, DISK_SECTOR_SIZE);
	put32(p + PARAM_EDD_CONFIG, PARAM_NO_EDD_CONFIG);
	return guest_mem_write(mem, at, p, size) ? INT13_BAD_COMMAND : INT13_OK;
}

static void parameters(const struct int13_disks *disks, struct disk_image *img, struct int13_frame *f)
{
	unsigned cylinders, heads, spt;
	int13_geometry(img->sectors, &cylinders, &heads, &spt);
	unsigned max_cyl = cylinders - 1;
	f->cx = (uint16_t)((max_cyl & 0xff) << 8 | ((max_cyl >> 2) & 0xc0) | spt);
	f->dx = (uint16_t)((heads - 1) << 8 | disks->count);
}

static void finish(struct int13_disks *disks, struct int13_frame *f, uint8_t status)
{
	disks->last_status = status;
	f->ax = (uint16_t)((f->ax & 0x00ff) | status << 8);
	if (status)
		f->flags |= FW_FRAME_CF;
}

void int13_call(struct int13_disks *disks, const struct guest_mem *mem, struct int13_frame *f)
{
	f->flags = 0;
	uint8_t fn = ah(f);
	unsigned index = dl(f) - FIRST_HARD_DISK;
	struct disk_image *img = dl(f) >= FIRST_HARD_DISK && index < disks->count ? disks->disk[index] : NULL;
	if (fn == FN_STATUS) {
		f->ax = (uint16_t)((f->ax & 0x00ff) | disks->last_status << 8);
		if (disks->last_status)
			f->flags |= FW_FRAME_CF;
		return;
	}
	if (!img) {
		if (fn == FN_DRIVE_TYPE) { /* "no such drive" is an answer, not an error */
			f->ax &= 0x00ff;
			return;
		}
		finish(disks, f, INT13_BAD_COMMAND);
		return;
	}
	switch (fn) {
	case FN_RESET:
		finish(disks, f, INT13_OK);
		break;
	case FN_READ_CHS:
	case FN_WRITE_CHS:
		finish(disks, f, chs_call(img, mem, f, fn == FN_WRITE_CHS));
		break;
	case FN_PARAMETERS:
		parameters(disks, img, f);
		finish(disks, f, INT13_OK);
		break;
	case FN_DRIVE_TYPE: {
		uint64_t n = img->sectors > UINT32_MAX ? UINT32_MAX : img->sectors;
		f->cx = (uint16_t)(n >> 16);
		f->dx = (uint16_t)n;
		disks->last_status = INT13_OK;
		f->ax = (uint16_t)((f->ax & 0x00ff) | DRIVE_TYPE_HARD << 8);
		break;
	}
	case FN_CHECK_EXT:
		if (f->bx != EXT_MAGIC_IN) {
			finish(disks, f, INT13_BAD_COMMAND);
			break;
		}
		f->bx = EXT_MAGIC_OUT;
		f->cx = EDD_FIXED_DISK;
		disks->last_status = INT13_OK;
		f->ax = (uint16_t)((f->ax & 0x00ff) | EDD_VERSION_3 << 8);
		break;
	case FN_READ_EXT:
	case FN_WRITE_EXT:
	case FN_VERIFY_EXT:
	case FN_SEEK_EXT:
		finish(disks, f, packet_call(img, mem, f));
		break;
	case FN_PARAMETERS_EXT:
		finish(disks, f, parameters_ext(img, mem, f));
		break;
	default:
		finish(disks, f, INT13_BAD_COMMAND);
		break;
	}
}
