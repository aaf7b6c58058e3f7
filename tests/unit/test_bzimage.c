/* The bzImage parser and the load plan against Debian's real amd64 and 686 kernels, and against truncated
 * and corrupted copies of them. */
#include "check_run.h"
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "boot/bzimage.h"
#include "boot/loader.h"
#include "fixture_kernels.h"
#include "common/layout.h"

static void check_debian_header(const struct bzimage *bz)
{
	ck_assert_uint_ge(bz->protocol, 0x020f);
	ck_assert_uint_eq(bz->kernel_offset, bz->setup_size);
	ck_assert_uint_eq(bz->relocatable, 1);
	ck_assert_uint_eq(bz->pref_address, 0x1000000);
	ck_assert_uint_eq(bz->cmdline_size, 2047);
	ck_assert_uint_eq(bz->initrd_addr_max, 0x7fffffff);
	ck_assert_uint_gt(bz->init_size, bz->kernel_size);
}

START_TEST(amd64_header)
{
	size_t len;
	uint8_t *k = fixture_kernel("amd64", &len);
	struct bzimage bz;
	ck_assert_int_eq(bzimage_parse(k, len, &bz), BZIMAGE_OK);
	check_debian_header(&bz);
	ck_assert_int_eq(bzimage_has_entry64(&bz), 1);
	/* Debian's images are signed: the signature follows the kernel, so the file is longer than it. */
	ck_assert_uint_le(bz.kernel_offset + bz.kernel_size, len);
	free(k);
}
END_TEST

START_TEST(i686_header)
{
	size_t len;
	uint8_t *k = fixture_kernel("i386", &len);
	struct bzimage bz;
	ck_assert_int_eq(bzimage_parse(k, len, &bz), BZIMAGE_OK);
	check_debian_header(&bz);
	ck_assert_int_eq(bzimage_has_entry64(&bz), 0);
	free(k);
}
END_TEST

/* Every cut of the file shorter than the kernel it describes is refused, never read past. */
START_TEST(truncated_copies)
{
	size_t len;
	uint8_t *k = fixture_kernel(_i ? "i386" : "amd64", &len);
	struct bzimage bz;
	ck_assert_int_eq(bzimage_parse(k, len, &bz), BZIMAGE_OK);
	size_t end = bz.kernel_offset + bz.kernel_size;
	size_t cuts[] = { 0, 1, 0x1f0, 0x1f1, 0x200, 0x201, 0x260, bz.setup_size - 1, bz.setup_size,
			  bz.setup_size + 1, end / 2, end - 4096, end - 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		/* An exact-size heap copy, so ASan catches any read past the cut. */
		uint8_t *copy = malloc(cuts[i] ? cuts[i] : 1);
		memcpy(copy, k, cuts[i]);
		enum bzimage_error err = bzimage_parse(copy, cuts[i], &bz);
		ck_assert_msg(err == BZIMAGE_TOO_SHORT || err == BZIMAGE_TRUNCATED, "cut at %zu: error %d", cuts[i], err);
		free(copy);
	}
	free(k);
}
END_TEST

START_TEST(corrupted_copies)
{
	size_t len;
	uint8_t *k = fixture_kernel("amd64", &len);
	struct bzimage bz;
	uint8_t *c = malloc(len);

	memcpy(c, k, len);
	c[0x202] = 'X'; /* HdrS */
	ck_assert_int_eq(bzimage_parse(c, len, &bz), BZIMAGE_NO_MAGIC);

	memcpy(c, k, len);
	c[0x1fe] = 0; /* boot flag 0xAA55 */
	ck_assert_int_eq(bzimage_parse(c, len, &bz), BZIMAGE_NO_BOOT_FLAG);

	memcpy(c, k, len);
	c[0x206] = 0x04; /* protocol 2.04 */
	c[0x207] = 0x02;
	ck_assert_int_eq(bzimage_parse(c, len, &bz), BZIMAGE_OLD_PROTOCOL);

	memcpy(c, k, len);
	c[0x211] &= (uint8_t)~0x01; /* loadflags LOADED_HIGH */
	ck_assert_int_eq(bzimage_parse(c, len, &bz), BZIMAGE_NOT_BZIMAGE);

	memcpy(c, k, len);
	memset(c + 0x1f4, 0xff, 4); /* syssize: a kernel far longer than the file */
	ck_assert_int_eq(bzimage_parse(c, len, &bz), BZIMAGE_TRUNCATED);

	memcpy(c, k, len);
	memset(c + 0x1f4, 0, 4); /* syssize 0: no kernel at all */
	ck_assert_int_eq(bzimage_parse(c, len, &bz), BZIMAGE_BAD_HEADER);

	for (int e = BZIMAGE_TOO_SHORT; e <= BZIMAGE_BAD_HEADER; e++)
		ck_assert(strlen(bzimage_strerror((enum bzimage_error)e)) > 0);
	free(c);
	free(k);
}
END_TEST

START_TEST(plan_places_everything)
{
	size_t len;
	uint8_t *k = fixture_kernel("amd64", &len);
	struct boot_plan plan;
	const uint64_t ram = 512 * MiB, initrd = 20 * MiB + 123;
	ck_assert_int_eq(boot_plan(&plan, k, len, ram, initrd, "console=ttyS0", BOOT_ENTRY_AUTO), 0);
	ck_assert_int_eq(plan.entry64, 1);
	ck_assert_uint_eq(plan.entry_rip, LAYOUT_KERNEL + 0x200);
	ck_assert_uint_eq(plan.entry_rsi, LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(plan.kernel_limit, 0x1000000 + plan.bz.init_size);
	ck_assert_uint_eq(plan.initrd_addr % 4096, 0);
	ck_assert_uint_ge(plan.initrd_addr, plan.kernel_limit);
	ck_assert_uint_le(plan.initrd_addr + initrd, ram);
	ck_assert_uint_eq(plan.cmdline_len, strlen("console=ttyS0"));

	ck_assert_int_eq(boot_plan(&plan, k, len, ram, initrd, "", BOOT_ENTRY_32), 0);
	ck_assert_int_eq(plan.entry64, 0);
	ck_assert_uint_eq(plan.entry_rip, LAYOUT_KERNEL);

	/* Above the PCI hole the initrd still goes below 3 GiB and below initrd_addr_max. */
	ck_assert_int_eq(boot_plan(&plan, k, len, 8 * GiB, initrd, "", BOOT_ENTRY_AUTO), 0);
	ck_assert_uint_le(plan.initrd_addr + initrd, 0x80000000);
	free(k);
}
END_TEST

START_TEST(plan_refuses_what_cannot_work)
{
	size_t len;
	uint8_t *k = fixture_kernel("amd64", &len);
	struct boot_plan plan;
	ck_assert_int_eq(boot_plan(&plan, k, len, 512 * MiB, 600 * MiB, "", BOOT_ENTRY_AUTO), -1);
	ck_assert_ptr_nonnull(strstr(plan.why, "initrd"));
	ck_assert_int_eq(boot_plan(&plan, k, len, 32 * MiB, 0, "", BOOT_ENTRY_AUTO), -1);
	ck_assert_ptr_nonnull(strstr(plan.why, "decompress"));
	char *longline = malloc(3000);
	memset(longline, 'x', 2999);
	longline[2999] = 0;
	ck_assert_int_eq(boot_plan(&plan, k, len, 512 * MiB, 0, longline, BOOT_ENTRY_AUTO), -1);
	ck_assert_ptr_nonnull(strstr(plan.why, "command line"));
	free(longline);
	/* A crafted pref_address near 2^64: pref_address + init_size wrapped to a small "limit" that passed
	 * the RAM check, and the initrd was then placed over the decompressing kernel. */
	const uint64_t crafted = UINT64_MAX - 0xfff;
	memcpy(k + 0x258, &crafted, sizeof(crafted));
	ck_assert_int_eq(boot_plan(&plan, k, len, 512 * MiB, 20 * MiB, "", BOOT_ENTRY_AUTO), -1);
	ck_assert_ptr_nonnull(strstr(plan.why, "4 GiB"));
	free(k);

	k = fixture_kernel("i386", &len);
	ck_assert_int_eq(boot_plan(&plan, k, len, 512 * MiB, 0, "", BOOT_ENTRY_64), -1);
	ck_assert_ptr_nonnull(strstr(plan.why, "64-bit"));
	free(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bzimage");
	TCase *tc = tcase_create("debian-kernels");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, amd64_header);
	tcase_add_test(tc, i686_header);
	tcase_add_loop_test(tc, truncated_copies, 0, 2);
	tcase_add_test(tc, corrupted_copies);
	tcase_add_test(tc, plan_places_everything);
	tcase_add_test(tc, plan_refuses_what_cannot_work);
	suite_add_tcase(s, tc);
	return check_run(s);
}
