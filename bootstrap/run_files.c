#include "bootstrap/run_files.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "image/extfs_read.h"

struct run_files {
	struct extfs *disk;                 /* a VM run's disk, or NULL */
	int roots[RUN_FILES_MAX_ROOTS];     /* a chroot run's trees */
	size_t n_roots;
	char where[512];
};

int run_files_open_disk(struct run_files **out, const char *image, struct error *err)
{
	struct run_files *f = calloc(1, sizeof(*f));
	if (!f)
		return error_fail(err, -ENOMEM, "out of memory");
	snprintf(f->where, sizeof(f->where), "%s", image);
	int rc = extfs_open(&f->disk, image, 0, err);
	if (rc) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int run_files_open_dirs(struct run_files **out, const char *const *dirs, size_t n, struct error *err)
{
	if (n == 0 || n > RUN_FILES_MAX_ROOTS)
		return error_fail(err, -EINVAL, "run_files_open_dirs: %zu trees", n);
	struct run_files *f = calloc(1, sizeof(*f));
	if (!f)
		return error_fail(err, -ENOMEM, "out of memory");
	int w = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			run_files_close(f);
			return error_fail_status(err, EXIT_USAGE, -e, "%s: %s (a --chroot run keeps its system there)",
						 dirs[i], strerror(e));
		}
		f->roots[f->n_roots++] = fd;
		if (w >= 0 && (size_t)w < sizeof(f->where))
			w += snprintf(f->where + w, sizeof(f->where) - (size_t)w, "%s%s", i ? " + " : "", dirs[i]);
	}
	*out = f;
	return 0;
}

void run_files_close(struct run_files *f)
{
	if (!f)
		return;
	if (f->disk)
		extfs_close(f->disk);
	for (size_t i = 0; i < f->n_roots; i++)
		close(f->roots[i]);
	free(f);
}

const char *run_files_where(const struct run_files *f)
{
	return f->where;
}

/* Open PATH inside ROOT as the guest would see it: absolute links and ".." stay inside ROOT. */
static int open_in(int root, const char *path, int flags)
{
	const char *rel = path + strspn(path, "/");
	/* openat2 refuses O_NOCTTY beside O_PATH */
	int extra = (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
	struct open_how how = { .flags = (uint64_t)(flags | extra), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	long fd = syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

static bool absent(int code)
{
	return code == -ENOENT || code == -ENOTDIR || code == -ELOOP;
}

static int tree_fail(struct run_files *f, int code, const char *path, struct error *err)
{
	if (code == -ENOSYS)
		return error_fail(err, code, "this kernel has no openat2 (Linux 5.6 or later is needed to read a "
				  "--chroot run's trees safely)");
	return error_fail(err, code, "%s: %s: %s", f->where, path, strerror(-code));
}

static int open_tree_file(struct run_files *f, const char *path, int *out, struct error *err)
{
	for (size_t i = 0; i < f->n_roots; i++) {
		/* O_NONBLOCK: a fifo in the tree must not block us; it is refused below anyway */
		int fd = open_in(f->roots[i], path, O_RDONLY | O_NONBLOCK);
		if (fd < 0 && absent(fd))
			continue;
		if (fd < 0)
			return tree_fail(f, fd, path, err);
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		*out = fd;
		return 0;
	}
	return -ENOENT;
}

static int open_disk_file(struct run_files *f, const char *path, int *out, struct error *err)
{
	struct extfs_stat st;
	struct error e = { 0 };
	int rc = extfs_stat(f->disk, path, &st, &e);
	if (rc && absent(rc))
		return -ENOENT;
	if (rc) {
		*err = e;
		return rc;
	}
	if (!S_ISREG(st.mode) && !S_ISLNK(st.mode))
		return -ENOENT;
	int fd = memfd_create("lbvm-run-file", MFD_CLOEXEC);
	if (fd < 0)
		return error_fail(err, -errno, "memfd_create: %s", strerror(errno));
	rc = extfs_cat(f->disk, path, fd, &e);
	if (rc) {
		close(fd);
		if (absent(rc) || (S_ISLNK(st.mode) && rc == -EINVAL))
			return -ENOENT; /* a dangling link, or one to a directory */
		*err = e;
		return rc;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return error_fail(err, -errno, "memfd: %s", strerror(errno));
	}
	*out = fd;
	return 0;
}

int run_files_open(struct run_files *f, const char *path, int *fd, struct error *err)
{
	return f->disk ? open_disk_file(f, path, fd, err) : open_tree_file(f, path, fd, err);
}

int run_files_read(struct run_files *f, const char *path, size_t max, char **text, size_t *len, struct error *err)
{
	int fd;
	int rc = run_files_open(f, path, &fd, err);
	if (rc)
		return rc;
	size_t cap = 4096, got = 0;
	char *buf = malloc(cap);
	rc = buf ? 0 : error_fail(err, -ENOMEM, "out of memory");
	while (!rc) {
		if (got > max) {
			rc = error_fail_status(err, EXIT_USAGE, -EFBIG, "%s: %s is larger than %zu bytes", f->where, path,
					       max);
			break;
		}
		if (got + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = error_fail(err, -ENOMEM, "out of memory");
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = error_fail(err, -errno, "%s: %s: %s", f->where, path, strerror(errno));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
};

static int add_name(struct names *l, const char *name)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		char **nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return -ENOMEM;
	l->n++;
	return 0;
}

static int disk_entry(void *ctx, const char *name, const struct extfs_stat *st)
{
	return S_ISDIR(st->mode) ? 0 : add_name(ctx, name);
}

static int by_string(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int list_tree(struct run_files *f, const char *path, struct names *l, struct error *err)
{
	for (size_t i = 0; i < f->n_roots; i++) {
		int fd = open_in(f->roots[i], path, O_RDONLY | O_DIRECTORY);
		if (fd < 0 && absent(fd))
			continue;
		if (fd < 0)
			return tree_fail(f, fd, path, err);
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return error_fail(err, -errno, "%s: %s: %s", f->where, path, strerror(errno));
		}
		int rc = 0;
		struct dirent *e;
		while (!rc && (e = readdir(d))) {
			struct stat st;
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
				continue;
			if (add_name(l, e->d_name))
				rc = error_fail(err, -ENOMEM, "out of memory");
		}
		closedir(d);
		return rc;
	}
	return -ENOENT;
}

int run_files_list(struct run_files *f, const char *path, char ***names, size_t *n, struct error *err)
{
	struct names l = { 0 };
	int rc;
	if (f->disk) {
		struct error e = { 0 };
		rc = extfs_list(f->disk, path, disk_entry, &l, &e);
		if (rc == -ENOMEM)
			rc = error_fail(err, rc, "out of memory");
		else if (rc && absent(rc))
			rc = -ENOENT;
		else if (rc)
			*err = e;
	} else {
		rc = list_tree(f, path, &l, err);
	}
	if (rc) {
		run_files_free_names(l.v, l.n);
		return rc;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_string);
	*names = l.v;
	*n = l.n;
	return 0;
}

int run_files_is_dir(struct run_files *f, const char *path, struct error *err)
{
	if (f->disk) {
		struct extfs_stat st;
		struct error e = { 0 };
		int rc = extfs_stat(f->disk, path, &st, &e);
		if (rc && absent(rc))
			return -ENOENT;
		if (rc) {
			*err = e;
			return rc;
		}
		return S_ISDIR(st.mode) ? 1 : 0;
	}
	for (size_t i = 0; i < f->n_roots; i++) {
		int fd = open_in(f->roots[i], path, O_PATH);
		if (fd < 0 && absent(fd))
			continue;
		if (fd < 0)
			return tree_fail(f, fd, path, err);
		struct stat st;
		int is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
		close(fd);
		return is_dir;
	}
	return -ENOENT;
}

void run_files_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
