/* lbvm's firmware as a guest sees it, without a CPU: the linked image (entry at F000:0000, the reset vector
 * reporting to the port common/layout.h names), the table lbvm writes beside it (INT 15h E820's map: the
 * machine's real one, with the contiguous low RAM builder-hex0 assumes), and INT 13h served through the
 * firmware's port exactly as firmware/bios.S hands a call over: registers in the frame at
 * LAYOUT_FW_INT13_FRAME, disk address packets and buffers in guest RAM (a malloc'd buffer wrapped as guest
 * memory), real raw images in a temporary directory. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/e820.h"
#include "firmware/abi.h"
#include "firmware/int13.h"
#include "firmware/load.h"
#include "firmware/service.h"
#include "common/layout.h"

#define RAM_BYTES     (2 * MiB)     /* what the tests back: the first MiB and a little more */
#define SECTORS       4096u
#define DAP           0x6000u       /* where the tests put a disk address packet */
#define BUF           0x10000u      /* and a buffer */
#define SMAP          UINT32_C(0x534d4150)

static uint8_t *ram;
static struct guest_mem mem;
static struct fw_service svc;
static struct disk_image *disks[2];
static char dir[] = "/tmp/lbvm-fw-XXXXXX";
static char paths[2][128];
static unsigned events[4], nevents;

static uint8_t pattern(unsigned disk, uint64_t offset)
{
	return (uint8_t)(offset * 5 + offset / 512 * 11 + disk * 37);
}

static void record_event(void *opaque, unsigned event)
{
	(void)opaque;
	if (nevents < 4)
		events[nevents++] = event;
}

static void start(unsigned ndisks, int ro)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (unsigned i = 0; i < ndisks; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/disk%u.img", dir, i);
		FILE *f = fopen(paths[i], "wb");
		ck_assert_ptr_nonnull(f);
		for (uint64_t o = 0; o < SECTORS * 512ull; o++)
			fputc(pattern(i, o), f);
		ck_assert_int_eq(fclose(f), 0);
		ck_assert_int_eq(disk_image_open(paths[i], ro, &disks[i], NULL), 0);
	}
	ram = calloc(1, RAM_BYTES);
	ck_assert_ptr_nonnull(ram);
	guest_mem_wrap(&mem, ram, RAM_BYTES);
	nevents = 0;
	fw_service_init(&svc, &mem, disks, ndisks, record_event, NULL);
}

static void setup(void) { start(2, 0); }
static void setup_ro(void) { start(1, 1); }

static void teardown(void)
{
	for (unsigned i = 0; i < 2; i++) {
		if (disks[i])
			disk_image_close(disks[i]);
		disks[i] = NULL;
		if (paths[i][0])
			unlink(paths[i]);
		paths[i][0] = 0;
	}
	rmdir(dir);
	strcpy(dir, "/tmp/lbvm-fw-XXXXXX");
	free(ram);
}

static uint16_t get16(uint64_t gpa) { return (uint16_t)(ram[gpa] | ram[gpa + 1] << 8); }
static uint32_t get32(uint64_t gpa) { return get16(gpa) | (uint32_t)get16(gpa + 2) << 16; }
static uint64_t get64(uint64_t gpa) { return get32(gpa) | (uint64_t)get32(gpa + 4) << 32; }
static void put16(uint64_t gpa, uint16_t v) { ram[gpa] = (uint8_t)v; ram[gpa + 1] = (uint8_t)(v >> 8); }
static void put32(uint64_t gpa, uint32_t v) { put16(gpa, (uint16_t)v); put16(gpa + 2, (uint16_t)(v >> 16)); }
static void put64(uint64_t gpa, uint64_t v) { put32(gpa, (uint32_t)v); put32(gpa + 4, (uint32_t)(v >> 32)); }

/* INT 13h as the firmware issues it: the registers into the frame, a byte to the port, the frame back. */
static struct int13_frame int13(struct int13_frame in)
{
	uint8_t raw[FW_FRAME_SIZE];
	in.flags = 0x55; /* whatever was there: lbvm must write its own */
	int13_frame_encode(raw, &in);
	memcpy(ram + LAYOUT_FW_INT13_FRAME, raw, sizeof(raw));
	uint8_t any = 0;
	fw_service_io_write(&svc, FW_PORT_INT13, &any, 1);
	struct int13_frame out;
	int13_frame_decode(&out, ram + LAYOUT_FW_INT13_FRAME);
	return out;
}

static int cf(const struct int13_frame *f) { return f->flags & FW_FRAME_CF; }
static uint8_t ah(const struct int13_frame *f) { return (uint8_t)(f->ax >> 8); }

static void dap(uint16_t count, uint16_t seg, uint16_t off, uint64_t lba)
{
	memset(ram + DAP, 0, 24);
	ram[DAP] = 16;
	put16(DAP + 2, count);
	put16(DAP + 4, off);
	put16(DAP + 6, seg);
	put64(DAP + 8, lba);
}

static struct int13_frame ext(uint8_t fn, uint8_t drive)
{
	return int13((struct int13_frame){ .ax = (uint16_t)(fn << 8 | 0x5a), .dx = drive, .ds = DAP >> 4,
					   .si = DAP & 15, .bx = 0x1111, .cx = 0x2222, .di = 0x3333, .es = 0x4444 });
}

static void check_data(uint64_t gpa, unsigned disk, uint64_t lba, unsigned count)
{
	for (uint64_t i = 0; i < count * 512ull; i++)
		ck_assert_uint_eq(ram[gpa + i], pattern(disk, lba * 512 + i));
}

START_TEST(image_entry_and_reset_vector)
{
	size_t len;
	const uint8_t *image = firmware_image(&len);
	ck_assert_uint_eq(len, LAYOUT_FIRMWARE_SIZE);
	ck_assert_uint_eq(image[LAYOUT_FW_ENTRY - LAYOUT_FIRMWARE], 0xfa); /* cli: the entry is code */
	/* The reset vector tells the port layout.h names: mov al, RESET; mov dx, port; out dx, al. */
	const uint8_t *rv = image + (LAYOUT_FW_RESET_VECTOR - LAYOUT_FIRMWARE);
	const uint16_t port = LAYOUT_PORT_FW + FW_PORT_EVENT;
	const uint8_t want[] = { 0xb0, FW_EVENT_RESET, 0xba, (uint8_t)port, (uint8_t)(port >> 8), 0xee };
	ck_assert_int_eq(memcmp(rv, want, sizeof(want)), 0);
	/* The table and the frame are lbvm's to fill: zero in the image. */
	for (unsigned i = 0; i < FW_TAB_SIZE; i++)
		ck_assert_uint_eq(image[LAYOUT_FW_TABLES - LAYOUT_FIRMWARE + i], 0);
	for (unsigned i = 0; i < FW_FRAME_SIZE; i++)
		ck_assert_uint_eq(image[LAYOUT_FW_INT13_FRAME - LAYOUT_FIRMWARE + i], 0);
	ck_assert_uint_eq(LAYOUT_FW_SEGMENT * 16, LAYOUT_FIRMWARE);
}
END_TEST

/* The map INT 15h E820 hands out, entry by entry, exactly as the firmware copies it (20-byte records). */
static unsigned read_e820(struct e820_range *out, unsigned max)
{
	unsigned n = get16(LAYOUT_FW_TABLES + FW_TAB_E820_COUNT);
	ck_assert_uint_le(n, FW_E820_MAX);
	for (unsigned i = 0; i < n && i < max; i++) {
		uint64_t e = LAYOUT_FW_TABLES + FW_TAB_E820 + i * FW_E820_ENTRY_SIZE;
		out[i] = (struct e820_range){ get64(e), get64(e + 8), get32(e + 16) };
	}
	return n;
}

START_TEST(e820_is_the_machines_map)
{
	ck_assert_int_eq(firmware_load(&mem, 4 * GiB, 2), 0);
	size_t len;
	const uint8_t *image = firmware_image(&len);
	ck_assert_int_eq(memcmp(ram + LAYOUT_FIRMWARE, image, 64), 0);
	ck_assert_uint_eq(ram[LAYOUT_FW_TABLES + FW_TAB_DISKS], 2);
	ck_assert_uint_eq(get16(LAYOUT_FW_TABLES + FW_TAB_BASE_KIB), 639);
	struct e820_range r[FW_E820_MAX];
	unsigned n = read_e820(r, FW_E820_MAX);
	const struct e820_range want[] = {
		{ 0, 0x9fc00, 1 },  { 0x9fc00, 0x400, 2 }, { 0xe0000, 0x10000, 2 }, { 0xf0000, 0x10000, 2 },
		{ 0x100000, 0xc0000000 - 0x100000, 1 },   { 0x100000000, 1 * GiB, 1 },
	};
	ck_assert_uint_eq(n, 6);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(r[i].addr, want[i].addr);
		ck_assert_uint_eq(r[i].size, want[i].size);
		ck_assert_uint_eq(r[i].type, want[i].type);
	}
	/* builder-hex0 uses RAM up to 0xBBFFFFFF without asking: one RAM entry must cover all of it. */
	int covered = 0;
	for (unsigned i = 0; i < n; i++)
		covered |= r[i].type == E820_TYPE_RAM && r[i].addr <= 0x100000 && r[i].addr + r[i].size >= 0xbc000000;
	ck_assert(covered);
	/* The firmware itself and the ACPI tables below it are reserved, so no kernel that reads the map
	 * takes them. */
	int fw_reserved = 0, acpi_reserved = 0;
	for (unsigned i = 0; i < n; i++) {
		fw_reserved |= r[i].type == E820_TYPE_RESERVED && r[i].addr <= LAYOUT_FIRMWARE &&
			       r[i].addr + r[i].size >= LAYOUT_FIRMWARE + LAYOUT_FIRMWARE_SIZE;
		acpi_reserved |= r[i].type == E820_TYPE_RESERVED && r[i].addr <= LAYOUT_ACPI &&
				 r[i].addr + r[i].size >= LAYOUT_ACPI + LAYOUT_ACPI_SIZE;
	}
	ck_assert(fw_reserved);
	ck_assert(acpi_reserved);
}
END_TEST

START_TEST(e820_of_a_small_machine)
{
	ck_assert_int_eq(firmware_load(&mem, 256 * MiB, 1), 0);
	struct e820_range r[FW_E820_MAX];
	unsigned n = read_e820(r, FW_E820_MAX);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(r[4].addr + r[4].size, 256 * MiB); /* exactly the RAM there is, nothing above */
	ck_assert_uint_eq(ram[LAYOUT_FW_TABLES + FW_TAB_DISKS], 1);
	ck_assert_int_eq(firmware_load(&mem, 256 * MiB, INT13_MAX_DISKS + 1), -EINVAL);
	/* Guest RAM too small to hold the firmware: refused, not written past. */
	struct guest_mem tiny;
	guest_mem_wrap(&tiny, ram, 512 * KiB);
	ck_assert_int_eq(firmware_load(&tiny, 256 * MiB, 1), -EFAULT);
}
END_TEST

START_TEST(extended_read_and_write)
{
	dap(8, BUF >> 4, 0, 100);
	struct int13_frame f = ext(0x42, 0x80);
	ck_assert(!cf(&f));
	ck_assert_uint_eq(f.ax, 0x005a); /* AH 0, AL kept */
	ck_assert_uint_eq(get16(DAP + 2), 8);
	check_data(BUF, 0, 100, 8);
	/* The other registers come back as they went. */
	ck_assert_uint_eq(f.bx, 0x1111);
	ck_assert_uint_eq(f.cx, 0x2222);
	ck_assert_uint_eq(f.di, 0x3333);
	ck_assert_uint_eq(f.es, 0x4444);
	/* Drive 81h is the second disk. */
	dap(1, 0x1000, 0x200, 7);
	f = ext(0x42, 0x81);
	ck_assert(!cf(&f));
	check_data(0x10200, 1, 7, 1);
	/* Write, then read back from the image file. */
	for (unsigned i = 0; i < 1024; i++)
		ram[BUF + i] = (uint8_t)(i * 13);
	dap(2, BUF >> 4, 0, 4000);
	f = ext(0x43, 0x80);
	ck_assert(!cf(&f));
	ck_assert_uint_eq(get16(DAP + 2), 2);
	uint8_t back[1024];
	ck_assert_int_eq(disk_image_pread(disks[0], back, sizeof(back), 4000 * 512), 0);
	ck_assert_int_eq(memcmp(back, ram + BUF, sizeof(back)), 0);
	/* EDD 3.0's flat 64-bit buffer, named by FFFF:FFFF in a 24-byte packet. */
	dap(1, 0xffff, 0xffff, 3);
	ram[DAP] = 24;
	put64(DAP + 16, 0x100000);
	f = ext(0x42, 0x80);
	ck_assert(!cf(&f));
	check_data(0x100000, 0, 3, 1);
	/* A count of zero moves nothing and succeeds. */
	dap(0, BUF >> 4, 0, 0);
	f = ext(0x42, 0x80);
	ck_assert(!cf(&f));
	ck_assert_uint_eq(get16(DAP + 2), 0);
}
END_TEST

START_TEST(extended_errors_write_back_zero)
{
	/* Past the end of the disk: sector not found, count 0, nothing read. */
	dap(4, BUF >> 4, 0, SECTORS - 2);
	memset(ram + BUF, 0xee, 4 * 512);
	struct int13_frame f = ext(0x42, 0x80);
	ck_assert(cf(&f));
	ck_assert_uint_eq(ah(&f), INT13_NOT_FOUND);
	ck_assert_uint_eq(get16(DAP + 2), 0);
	ck_assert_uint_eq(ram[BUF], 0xee);
	/* A buffer that runs off the end of guest RAM: refused, no byte written anywhere. */
	dap(8, 0xffff, 0xffff, 0);
	ram[DAP] = 24;
	put64(DAP + 16, RAM_BYTES - 512);
	f = ext(0x42, 0x80);
	ck_assert(cf(&f));
	ck_assert_uint_eq(ah(&f), INT13_BAD_COMMAND);
	ck_assert_uint_eq(get16(DAP + 2), 0);
	put64(DAP + 16, UINT64_C(0xfffffffffffffe00)); /* an end that wraps around */
	put16(DAP + 2, 8);                              /* the failed call wrote back 0 */
	f = ext(0x42, 0x80);
	ck_assert(cf(&f));
	ck_assert_uint_eq(ah(&f), INT13_BAD_COMMAND);
	/* A packet that is not one (size byte under 16), or lies outside RAM. */
	dap(1, BUF >> 4, 0, 0);
	ram[DAP] = 8;
	f = ext(0x42, 0x80);
	ck_assert_uint_eq(ah(&f), INT13_BAD_COMMAND);
	/* A packet straddling the end of guest RAM (a guest with RAM up to 10FFF0h: FFFF:FFF8 is 10FFE8h). */
	struct guest_mem tiny;
	struct fw_service small;
	guest_mem_wrap(&tiny, ram, 0x10fff0);
	fw_service_init(&small, &tiny, disks, 1, NULL, NULL);
	struct int13_frame in = { .ax = 0x4200, .dx = 0x80, .ds = 0xffff, .si = 0xfff8 };
	uint8_t raw[FW_FRAME_SIZE], any = 0;
	int13_frame_encode(raw, &in);
	memcpy(ram + LAYOUT_FW_INT13_FRAME, raw, sizeof(raw));
	ram[0x10ffe8] = 16;
	fw_service_io_write(&small, FW_PORT_INT13, &any, 1);
	int13_frame_decode(&f, ram + LAYOUT_FW_INT13_FRAME);
	ck_assert(cf(&f));
	ck_assert_uint_eq(ah(&f), INT13_BAD_COMMAND);
	/* AH=01h reports the last status; a good call clears it. */
	f = int13((struct int13_frame){ .ax = 0x0100, .dx = 0x80 });
	ck_assert_uint_eq(ah(&f), INT13_BAD_COMMAND);
	ck_assert(cf(&f));
	f = int13((struct int13_frame){ .ax = 0x0000, .dx = 0x80 });
	ck_assert(!cf(&f));
	f = int13((struct int13_frame){ .ax = 0x0100, .dx = 0x80 });
	ck_assert_uint_eq(ah(&f), 0);
	ck_assert(!cf(&f));
}
END_TEST

START_TEST(drives_and_functions_that_do_not_exist)
{
	dap(1, BUF >> 4, 0, 0);
	struct int13_frame f = ext(0x42, 0x82);
	ck_assert(cf(&f));
	ck_assert_uint_eq(ah(&f), INT13_BAD_COMMAND);
	f = ext(0x42, 0x00); /* no floppies */
	ck_assert(cf(&f));
	f = int13((struct int13_frame){ .ax = 0x9900, .dx = 0x80 });
	ck_assert(cf(&f));
	ck_assert_uint_eq(ah(&f), INT13_BAD_COMMAND);
	/* AH=15h answers "no such drive" without an error. */
	f = int13((struct int13_frame){ .ax = 0x1500, .dx = 0x85 });
	ck_assert(!cf(&f));
	ck_assert_uint_eq(ah(&f), 0);
}
END_TEST

START_TEST(parameters_and_extensions)
{
	struct int13_frame f = int13((struct int13_frame){ .ax = 0x4100, .bx = 0x55aa, .dx = 0x80 });
	ck_assert(!cf(&f));
	ck_assert_uint_eq(f.bx, 0xaa55);
	ck_assert_uint_eq(ah(&f), 0x30);
	ck_assert_uint_eq(f.cx & 1, 1);
	f = int13((struct int13_frame){ .ax = 0x4100, .bx = 0x1234, .dx = 0x80 });
	ck_assert(cf(&f));
	/* AH=08h: 16 heads, 63 sectors for a small disk; cylinders 4096 / (16 * 63) = 4; two drives. */
	f = int13((struct int13_frame){ .ax = 0x0800, .dx = 0x80 });
	ck_assert(!cf(&f));
	ck_assert_uint_eq(f.cx & 0x3f, 63);
	ck_assert_uint_eq((f.cx >> 8) | (f.cx & 0xc0) << 2, 3);
	ck_assert_uint_eq(f.dx >> 8, 15);
	ck_assert_uint_eq(f.dx & 0xff, 2);
	/* AH=15h: a hard disk of SECTORS sectors. */
	f = int13((struct int13_frame){ .ax = 0x1500, .dx = 0x81 });
	ck_assert_uint_eq(ah(&f), 3);
	ck_assert_uint_eq((uint32_t)f.cx << 16 | f.dx, SECTORS);
	/* AH=48h fills the caller's table, no more than it has room for. */
	memset(ram + BUF, 0xcc, 64);
	put16(BUF, 30);
	f = int13((struct int13_frame){ .ax = 0x4800, .dx = 0x80, .ds = BUF >> 4 });
	ck_assert(!cf(&f));
	ck_assert_uint_eq(get16(BUF), 30);
	ck_assert_uint_eq(get64(BUF + 16), SECTORS);
	ck_assert_uint_eq(get16(BUF + 24), 512);
	ck_assert_uint_eq(get32(BUF + 26), 0xffffffff);
	ck_assert_uint_eq(ram[BUF + 30], 0xcc);
	memset(ram + BUF, 0xcc, 64);
	put16(BUF, 26);
	f = int13((struct int13_frame){ .ax = 0x4800, .dx = 0x80, .ds = BUF >> 4 });
	ck_assert(!cf(&f));
	ck_assert_uint_eq(ram[BUF + 26], 0xcc);
	put16(BUF, 20);
	f = int13((struct int13_frame){ .ax = 0x4800, .dx = 0x80, .ds = BUF >> 4 });
	ck_assert(cf(&f));
	/* Verify and seek check the range only. */
	dap(16, BUF >> 4, 0, 10);
	f = ext(0x44, 0x80);
	ck_assert(!cf(&f));
	ck_assert_uint_eq(get16(DAP + 2), 16);
	dap(1, 0, 0, SECTORS);
	f = ext(0x47, 0x80);
	ck_assert_uint_eq(ah(&f), INT13_NOT_FOUND);
}
END_TEST

START_TEST(chs_read_and_write)
{
	/* Cylinder 2, head 3, sector 4: LBA (2 * 16 + 3) * 63 + 3 = 2208; 2 sectors to 1000:0100. */
	struct int13_frame f = int13((struct int13_frame){
		.ax = 0x0202, .cx = (uint16_t)(2 << 8 | 4), .dx = (uint16_t)(3 << 8 | 0x80), .es = 0x1000, .bx = 0x100 });
	ck_assert(!cf(&f));
	ck_assert_uint_eq(f.ax, 0x0002);
	check_data(0x10100, 0, 2208, 2);
	memset(ram + 0x10100, 0x3c, 512);
	f = int13((struct int13_frame){ .ax = 0x0301, .cx = 1, .dx = 0x80, .es = 0x1000, .bx = 0x100 });
	ck_assert(!cf(&f));
	uint8_t back[512];
	ck_assert_int_eq(disk_image_pread(disks[0], back, 512, 0), 0);
	ck_assert_uint_eq(back[0], 0x3c);
	ck_assert_uint_eq(back[511], 0x3c);
	/* Sector 0 and a head past the geometry do not exist. */
	f = int13((struct int13_frame){ .ax = 0x0201, .cx = 0, .dx = 0x80, .es = 0x1000 });
	ck_assert(cf(&f));
	ck_assert_uint_eq(f.ax & 0xff, 0);
	f = int13((struct int13_frame){ .ax = 0x0201, .cx = 1, .dx = (uint16_t)(16 << 8 | 0x80), .es = 0x1000 });
	ck_assert(cf(&f));
}
END_TEST

START_TEST(read_only_disk_is_write_protected)
{
	dap(1, BUF >> 4, 0, 0);
	struct int13_frame f = ext(0x43, 0x80);
	ck_assert(cf(&f));
	ck_assert_uint_eq(ah(&f), INT13_WRITE_PROTECT);
	ck_assert_uint_eq(get16(DAP + 2), 0);
	put16(DAP + 2, 1);
	f = ext(0x42, 0x80);
	ck_assert(!cf(&f));
	check_data(BUF, 0, 0, 1);
}
END_TEST

START_TEST(events_from_the_port)
{
	uint8_t v = FW_EVENT_RESET;
	fw_service_io_write(&svc, FW_PORT_EVENT, &v, 1);
	v = 0x77; /* unknown: ignored */
	fw_service_io_write(&svc, FW_PORT_EVENT, &v, 1);
	v = FW_EVENT_NO_BOOT;
	fw_service_io_write(&svc, FW_PORT_EVENT, &v, 1);
	ck_assert_uint_eq(nevents, 2);
	ck_assert_uint_eq(events[0], FW_EVENT_RESET);
	ck_assert_uint_eq(events[1], FW_EVENT_NO_BOOT);
	/* A frame of garbage is an error for the caller, nothing else. */
	for (unsigned i = 0; i < 200; i++) {
		for (unsigned b = 0; b < FW_FRAME_SIZE; b++)
			ram[LAYOUT_FW_INT13_FRAME + b] = (uint8_t)(rand() & 0xff);
		fw_service_io_write(&svc, FW_PORT_INT13, &v, 1);
	}
	ck_assert_uint_eq(svc.int13_calls, 200);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("firmware");
	TCase *tc = tcase_create("two disks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, image_entry_and_reset_vector);
	tcase_add_test(tc, e820_is_the_machines_map);
	tcase_add_test(tc, e820_of_a_small_machine);
	tcase_add_test(tc, extended_read_and_write);
	tcase_add_test(tc, extended_errors_write_back_zero);
	tcase_add_test(tc, drives_and_functions_that_do_not_exist);
	tcase_add_test(tc, parameters_and_extensions);
	tcase_add_test(tc, chs_read_and_write);
	tcase_add_test(tc, events_from_the_port);
	suite_add_tcase(s, tc);
	TCase *ro = tcase_create("read-only");
	tcase_add_checked_fixture(ro, setup_ro, teardown);
	tcase_add_test(ro, read_only_disk_is_write_protected);
	suite_add_tcase(s, ro);
	return check_run(s);
}
