/* libFuzzer target: any bytes as a package tarball (a guest makes them). Reading its members through
 * libarchive must refuse or succeed without crashing, leaking or reading out of bounds; a list compared
 * with itself has no difference; every difference line prints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bootstrap/member_diff.h"
#include "image/archive_members.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool keep_all(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	struct archive_members a, b;
	struct error err = { 0 };
	int rc = archive_members_read(fd, "fuzz", keep_all, NULL, &a, &err);
	close(fd);
	if (rc < 0) {
		if (!err.msg[0] || strchr(err.msg, '\n'))
			abort();
		return 0;
	}
	/* the same members against an empty list: every one "only in A", and each line prints */
	memset(&b, 0, sizeof(b));
	struct member_diff d;
	if (member_diff(&a, &a, &d, &err) == 0) {
		if (d.n != 0 || d.same != a.n)
			abort();
		member_diff_free(&d);
	}
	if (member_diff(&a, &b, &d, &err) == 0) {
		FILE *null = fopen("/dev/null", "w");
		for (size_t i = 0; i < d.n; i++)
			member_delta_print(null, &d.d[i]);
		fclose(null);
		member_diff_free(&d);
	}
	archive_members_free(&a);
	return 0;
}
