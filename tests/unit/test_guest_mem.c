/* Guest RAM: every range the guest names is checked against low and high RAM (no sum can wrap), and the
 * mapping lbvm makes is left out of core dumps. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guest_mem.h"
#include "common/layout.h"

/* The VmFlags line of the mapping that holds ADDR, from /proc/self/smaps. */
static int vm_flags(const void *addr, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	char line[512];
	int inside = 0, found = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			inside = (unsigned long)addr >= lo && (unsigned long)addr < hi;
			continue;
		}
		if (inside && !strncmp(line, "VmFlags:", 8)) {
			size_t n = strlen(line + 8);
			n = n < cap - 1 ? n : cap - 1;
			memcpy(out, line + 8, n);
			out[n] = '\0';
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

START_TEST(guest_ram_is_not_dumped)
{
	struct guest_mem mem;
	ck_assert_int_eq(guest_mem_init(&mem, 64 * MiB), 0);
	char flags[256];
	ck_assert_int_eq(vm_flags(mem.host + 32 * MiB, flags, sizeof(flags)), 0);
	ck_assert_msg(strstr(flags, " dd") != NULL, "VmFlags:%s", flags); /* dd: do not include in core dump */
	guest_mem_destroy(&mem);
}
END_TEST

START_TEST(ranges_are_checked_in_low_and_high_ram)
{
	const uint64_t low = 1 * MiB, high = 1 * MiB;
	uint8_t *buf = calloc(1, low + high);
	struct guest_mem mem;
	guest_mem_wrap_split(&mem, buf, low, high);
	ck_assert_uint_eq(guest_mem_high_size(&mem), high);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 0, low), buf);
	ck_assert_ptr_null(guest_mem_ptr(&mem, 0, low + 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, low, 1)); /* the hole below 4 GiB */
	ck_assert_ptr_eq(guest_mem_ptr(&mem, LAYOUT_HIGH_RAM, high), buf + low);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, LAYOUT_HIGH_RAM + high - 1, 1), buf + low + high - 1);
	ck_assert_ptr_null(guest_mem_ptr(&mem, LAYOUT_HIGH_RAM + high - 1, 2));
	ck_assert_ptr_null(guest_mem_ptr(&mem, LAYOUT_HIGH_RAM - 1, 2));   /* straddles the hole's end */
	ck_assert_ptr_null(guest_mem_ptr(&mem, UINT64_MAX, 1));
	ck_assert_ptr_null(guest_mem_ptr(&mem, LAYOUT_HIGH_RAM, UINT64_MAX)); /* a length that would wrap */
	ck_assert_ptr_null(guest_mem_ptr(&mem, 16, 0));
	uint8_t v = 7;
	ck_assert_int_eq(guest_mem_write(&mem, LAYOUT_HIGH_RAM + 5, &v, 1), 0);
	ck_assert_uint_eq(buf[low + 5], 7);
	ck_assert_int_eq(guest_mem_read(&mem, LAYOUT_HIGH_RAM + high, &v, 1), -14 /* -EFAULT */);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guest-mem");
	TCase *tc = tcase_create("ram");
	tcase_add_test(tc, guest_ram_is_not_dumped);
	tcase_add_test(tc, ranges_are_checked_in_low_and_high_ram);
	suite_add_tcase(s, tc);
	return check_run(s);
}
