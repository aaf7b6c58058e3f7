#include "common/atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(struct atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->tmp_path);
	f->fd = -1;
	f->path = f->tmp_path = NULL;
}

int atomic_file_open(struct atomic_file *f, const char *path)
{
	f->fd = -1;
	f->path = strdup(path);
	f->tmp_path = malloc(strlen(path) + sizeof(".tmp-XXXXXX"));
	if (!f->path || !f->tmp_path) {
		release(f);
		return -ENOMEM;
	}
	strcpy(f->tmp_path, path);
	strcat(f->tmp_path, ".tmp-XXXXXX");
	f->fd = mkostemp(f->tmp_path, O_CLOEXEC);
	if (f->fd < 0) {
		int err = -errno;
		release(f);
		return err;
	}
	return 0;
}

int atomic_file_commit(struct atomic_file *f, mode_t mode)
{
	mode_t mask = umask(0);
	umask(mask);
	int err = 0;
	if (fsync(f->fd) != 0 || fchmod(f->fd, mode & ~mask) != 0 || rename(f->tmp_path, f->path) != 0)
		err = -errno;
	if (err)
		unlink(f->tmp_path);
	release(f);
	return err;
}

void atomic_file_abort(struct atomic_file *f)
{
	if (f->tmp_path)
		unlink(f->tmp_path);
	release(f);
}
