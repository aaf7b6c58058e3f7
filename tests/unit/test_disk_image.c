/* disk_image: the host-side checks (regular file, 512-byte multiple, read-only really read-only) and the
 * vectored I/O loops, against real files in a temporary directory. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/disk_image.h"

static char dir[] = "/tmp/lbvm-disk-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/lbvm-disk-XXXXXX");
}

static char *make_file(const char *name, size_t size, uint8_t seed)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc((int)((i * 7 + seed) & 0xff), f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(opens_a_raw_image)
{
	const char *path = make_file("a.img", 8 * 512, 1);
	struct disk_image *img = NULL;
	uint64_t size = 0;
	ck_assert_int_eq(disk_image_open(path, false, &img, &size), 0);
	ck_assert_uint_eq(size, 4096);
	ck_assert_uint_eq(img->sectors, 8);
	ck_assert(!img->read_only);
	uint8_t buf[512];
	ck_assert_int_eq(disk_image_pread(img, buf, sizeof(buf), 512), 0);
	ck_assert_uint_eq(buf[0], (512 * 7 + 1) & 0xff);
	disk_image_close(img);
}
END_TEST

START_TEST(host_mistakes_have_one_line_messages)
{
	char msg[512];
	struct disk_image *img = NULL;
	uint64_t size = 0;
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/nope.img", dir);
	int err = disk_image_open(missing, false, &img, &size);
	ck_assert_int_eq(err, -ENOENT);
	disk_image_strerror(msg, sizeof(msg), missing, err, size);
	ck_assert_msg(strstr(msg, "nope.img': No such file or directory"), "%s", msg);

	err = disk_image_open(dir, true, &img, &size);
	ck_assert_int_eq(err, -DISK_IMAGE_ENOTREG);
	disk_image_strerror(msg, sizeof(msg), dir, err, size);
	ck_assert_msg(strstr(msg, "': not a regular file"), "%s", msg);

	const char *odd = make_file("odd.img", 1000, 0);
	err = disk_image_open(odd, false, &img, &size);
	ck_assert_int_eq(err, -DISK_IMAGE_EALIGN);
	disk_image_strerror(msg, sizeof(msg), odd, err, size);
	ck_assert_msg(strstr(msg, "size 1000 is not a multiple of 512"), "%s", msg);
	ck_assert_ptr_null(strchr(msg, '\n'));

	const char *empty = make_file("empty.img", 0, 0);
	err = disk_image_open(empty, false, &img, &size);
	ck_assert_int_eq(err, -DISK_IMAGE_EEMPTY);

	/* A FIFO is refused without blocking in open(). */
	char fifo[300];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(disk_image_open(fifo, true, &img, &size), -DISK_IMAGE_ENOTREG);
}
END_TEST

START_TEST(read_only_is_opened_read_only)
{
	const char *path = make_file("ro.img", 4 * 512, 3);
	struct disk_image *img = NULL;
	ck_assert_int_eq(disk_image_open(path, true, &img, NULL), 0);
	ck_assert_int_eq(fcntl(img->fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	uint8_t buf[512] = { 0 };
	ck_assert_int_eq(disk_image_pwrite(img, buf, sizeof(buf), 0), -DISK_IMAGE_EROFS);
	ck_assert_int_eq(disk_image_flush(img), 0);
	ck_assert_int_eq(disk_image_pread(img, buf, sizeof(buf), 0), 0);
	ck_assert_uint_eq(buf[1], 10);
	disk_image_close(img);
}
END_TEST

START_TEST(range_is_checked)
{
	const char *path = make_file("r.img", 4 * 512, 0);
	struct disk_image *img = NULL;
	ck_assert_int_eq(disk_image_open(path, false, &img, NULL), 0);
	uint8_t buf[1024];
	ck_assert_int_eq(disk_image_pread(img, buf, 1024, 3 * 512), -DISK_IMAGE_ERANGE);
	ck_assert_int_eq(disk_image_pwrite(img, buf, 1, 4 * 512), -DISK_IMAGE_ERANGE);
	ck_assert_int_eq(disk_image_pread(img, buf, 1, UINT64_MAX), -DISK_IMAGE_ERANGE);
	ck_assert_int_eq(disk_image_pread(img, buf, 512, 3 * 512), 0);
	disk_image_close(img);
}
END_TEST

/* More segments than one preadv batch, of uneven sizes, some empty: the bytes land in order. */
START_TEST(vectored_io_round_trips)
{
	enum { SEGS = 200, SIZE = 64 * 512 };
	const char *path = make_file("v.img", SIZE, 0);
	struct disk_image *img = NULL;
	ck_assert_int_eq(disk_image_open(path, false, &img, NULL), 0);
	uint8_t *src = malloc(SIZE), *dst = calloc(1, SIZE);
	for (unsigned i = 0; i < SIZE; i++)
		src[i] = (uint8_t)(i * 13 + 5);
	struct iovec iov[SEGS];
	size_t off = 0;
	for (unsigned i = 0; i < SEGS; i++) {
		size_t len = i % 5 == 0 ? 0 : (i * 37) % 300;
		if (off + len > SIZE)
			len = SIZE - off;
		iov[i] = (struct iovec){ src + off, len };
		off += len;
	}
	ck_assert_uint_gt(off, 16 * 512);
	ck_assert_int_eq(disk_image_pwritev(img, iov, SEGS, SIZE - off + 512), -DISK_IMAGE_ERANGE);
	ck_assert_int_eq(disk_image_pwritev(img, iov, SEGS, 0), 0);
	for (unsigned i = 0; i < SEGS; i++)
		iov[i].iov_base = dst + ((uint8_t *)iov[i].iov_base - src);
	ck_assert_int_eq(disk_image_preadv(img, iov, SEGS, 0), 0);
	ck_assert_mem_eq(src, dst, off);
	ck_assert_int_eq(disk_image_flush(img), 0);
	free(src);
	free(dst);
	disk_image_close(img);
}
END_TEST

START_TEST(parses_disk_specs)
{
	char *path = NULL;
	bool ro = true;
	ck_assert_int_eq(disk_image_parse_spec("a.img", &path, &ro), 0);
	ck_assert_str_eq(path, "a.img");
	ck_assert(!ro);
	free(path);
	ck_assert_int_eq(disk_image_parse_spec("/x/b,c.img,ro", &path, &ro), 0);
	ck_assert_str_eq(path, "/x/b,c.img");
	ck_assert(ro);
	free(path);
	ck_assert_int_eq(disk_image_parse_spec("c.img,rw", &path, &ro), 0);
	ck_assert_str_eq(path, "c.img,rw"); /* a file name; opening it gives the clear error */
	free(path);
	ck_assert_int_eq(disk_image_parse_spec(",ro", &path, &ro), -EINVAL);
	ck_assert_int_eq(disk_image_parse_spec("", &path, &ro), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("disk_image");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, opens_a_raw_image);
	tcase_add_test(tc, host_mistakes_have_one_line_messages);
	tcase_add_test(tc, read_only_is_opened_read_only);
	tcase_add_test(tc, range_is_checked);
	tcase_add_test(tc, vectored_io_round_trips);
	tcase_add_test(tc, parses_disk_specs);
	suite_add_tcase(s, tc);
	return check_run(s);
}
