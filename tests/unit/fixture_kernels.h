/* The real Debian kernels the unit tests parse, from the fixture cache tests/host/fixtures.sh fills
 * (LBVM_FIXTURES, set by `make unit`). Missing fixtures fail the test: they are part of the test. */
#ifndef LBVM_TESTS_FIXTURE_KERNELS_H
#define LBVM_TESTS_FIXTURE_KERNELS_H

#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read ARCH/boot/vmlinuz-* ("amd64" or "i386") whole; *len set. */
static inline uint8_t *fixture_kernel(const char *arch, size_t *len)
{
	const char *cache = getenv("LBVM_FIXTURES");
	ck_assert_msg(cache && *cache, "LBVM_FIXTURES is not set (run the tests through `make unit`)");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/%s/boot", cache, arch);
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "no fixture directory %s", dir);
	char path[8192] = "";
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vmlinuz-", 8))
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	closedir(d);
	ck_assert_msg(path[0], "no vmlinuz-* in %s", dir);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)size);
	ck_assert(buf != NULL);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

#endif
