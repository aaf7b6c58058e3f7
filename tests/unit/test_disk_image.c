/* disk_image: the host-side checks (regular file, 512-byte multiple, read-only really read-only) and the
 * vectored I/O loops, against real files in a temporary directory. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* OFD locks, as QEMU takes them: one writer or any number of readers, whoever opens the image. */
START_TEST(images_are_locked)
{
	const char *path = make_file("l.img", 8 * 512, 0);
	char p[300];
	snprintf(p, sizeof(p), "%s", path);
	struct disk_image *a = NULL, *b = NULL;
	ck_assert_int_eq(disk_image_open(p, false, &a, NULL), 0);
	ck_assert_int_eq(disk_image_open(p, false, &b, NULL), -DISK_IMAGE_ELOCKED); /* same process too */
	ck_assert_int_eq(disk_image_open(p, true, &b, NULL), -DISK_IMAGE_ELOCKED);
	char msg[512];
	disk_image_strerror(msg, sizeof(msg), p, -DISK_IMAGE_ELOCKED, 0);
	ck_assert_msg(strstr(msg, "is in use"), "%s", msg);
	disk_image_close(a);
	/* readers share */
	ck_assert_int_eq(disk_image_open(p, true, &a, NULL), 0);
	ck_assert_int_eq(disk_image_open(p, true, &b, NULL), 0);
	struct disk_image *c = NULL;
	ck_assert_int_eq(disk_image_open(p, false, &c, NULL), -DISK_IMAGE_ELOCKED);
	disk_image_close(a);
	disk_image_close(b);
	/* the lock goes with the last descriptor: a closed (or killed) run leaves none behind */
	ck_assert_int_eq(disk_image_open(p, false, &c, NULL), 0);
	/* another process holding a classic POSIX lock conflicts as well */
	disk_image_close(c);
	pid_t child = fork();
	if (child == 0) {
		int fd = open(p, O_RDWR);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
			_exit(1);
		pause();
		_exit(0);
	}
	int rc = -1;
	for (int i = 0; i < 200 && rc != -DISK_IMAGE_ELOCKED; i++) {
		rc = disk_image_open(p, true, &c, NULL);
		if (rc == 0)
			disk_image_close(c), usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ck_assert_int_eq(rc, -DISK_IMAGE_ELOCKED);
}
END_TEST

/* --disk a --disk b: the same file under two names is refused before any lock is tried. */
START_TEST(one_image_twice_is_refused)
{
	char a[300], link_name[300], other[300];
	snprintf(a, sizeof(a), "%s", make_file("a.img", 8 * 512, 0));
	snprintf(other, sizeof(other), "%s", make_file("b.img", 8 * 512, 0));
	snprintf(link_name, sizeof(link_name), "%s/hard-link.img", dir);
	ck_assert_int_eq(link(a, link_name), 0);
	struct disk_image *d[3];
	struct error err = { 0 };
	char ro_spec[320];
	snprintf(ro_spec, sizeof(ro_spec), "%s,ro", link_name);
	const char *specs[] = { a, other, ro_spec };
	ck_assert_int_ne(disk_image_open_all(specs, 3, d, &err), 0);
	ck_assert_int_eq(error_exit_status(&err), 2);
	ck_assert_msg(strstr(err.msg, "is the same image as disk") && strstr(err.msg, "hard-link.img") &&
		      strstr(err.msg, "given twice"), "%s", err.msg);
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_null(d[i]);
	/* nothing stays open or locked: the same set without the duplicate opens */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(disk_image_open_all(specs, 2, d, &err), 0);
	/* and a second run on these images is refused, naming the disk */
	struct disk_image *e[1];
	struct error err2 = { 0 };
	ck_assert_int_ne(disk_image_open_all(specs + 1, 1, e, &err2), 0);
	ck_assert_msg(strstr(err2.msg, "b.img' is in use"), "%s", err2.msg);
	disk_image_close(d[0]);
	disk_image_close(d[1]);
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
	tcase_add_test(tc, images_are_locked);
	tcase_add_test(tc, one_image_twice_is_refused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
