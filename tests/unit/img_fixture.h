/* Shared helpers of the image unit tests: scratch directories and files, read whole files back. */
#ifndef LBVM_TESTS_IMG_FIXTURE_H
#define LBVM_TESTS_IMG_FIXTURE_H

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline char *fx_path(const char *dir, const char *rel)
{
	char *p = malloc(strlen(dir) + strlen(rel) + 2);
	ck_assert_ptr_nonnull(p);
	sprintf(p, "%s/%s", dir, rel);
	return p;
}

static inline void fx_write(const char *dir, const char *rel, const char *data, mode_t mode)
{
	char *p = fx_path(dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	free(p);
}

static inline void fx_mkdir(const char *dir, const char *rel)
{
	char *p = fx_path(dir, rel);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
}

static inline char *fx_tmpdir(void)
{
	char *d = strdup("/tmp/lbvm-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static inline int fx_rm(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void fx_rmtree(char *dir)
{
	nftw(dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* The whole file, malloc'ed; *len set. */
static inline unsigned char *fx_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

#endif
