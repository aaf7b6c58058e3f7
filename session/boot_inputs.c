#include "session/boot_inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.h"

/* Open a regular file for reading; -1 with err filled. */
static int open_input(const char *what, const char *path, struct stat *st, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_fail_status(err, EXIT_USAGE, -errno, "%s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		error_fail_status(err, EXIT_USAGE, -EINVAL, "%s '%s': not a regular file", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Read exactly len bytes; -1 with err filled when the file is shorter or unreadable. */
static int read_exact(const char *what, const char *path, int fd, uint8_t *dst, uint64_t len,
		      struct error *err)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, dst + done, len - done > (1u << 30) ? (1u << 30) : len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_fail_status(err, EXIT_USAGE, -errno, "%s '%s': read failed: %s", what, path,
					  strerror(errno));
			return -1;
		}
		if (n == 0) {
			error_fail_status(err, EXIT_USAGE, -EIO, "%s '%s': file shrank while being read", what, path);
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

static int load_kernel(struct boot_inputs *b, struct error *err)
{
	struct stat st;
	int fd = open_input("kernel", b->kernel_path, &st, err);
	if (fd < 0)
		return -1;
	int rc = -1;
	if (st.st_size == 0 || (uint64_t)st.st_size > BOOT_INPUTS_MAX_KERNEL)
		error_fail_status(err, EXIT_USAGE, -EINVAL, "kernel '%s': %s", b->kernel_path,
				  st.st_size ? "larger than 256 MiB, not a bzImage" : "is empty");
	else if (!(b->kernel = malloc((size_t)st.st_size)))
		error_fail_status(err, EXIT_INTERNAL, -ENOMEM, "kernel '%s': out of memory", b->kernel_path);
	else if (read_exact("kernel", b->kernel_path, fd, b->kernel, (uint64_t)st.st_size, err) == 0) {
		b->kernel_len = (size_t)st.st_size;
		rc = 0;
	}
	close(fd);
	return rc;
}

int boot_inputs_load(struct boot_inputs *b, const char *kernel, const char *initrd, uint64_t ram,
		     const char *cmdline, enum boot_entry entry, struct error *err)
{
	memset(b, 0, sizeof(*b));
	b->kernel_path = kernel;
	b->initrd_path = initrd;
	b->initrd_fd = -1;
	if (load_kernel(b, err) < 0)
		return -1;
	if (initrd) {
		struct stat st;
		b->initrd_fd = open_input("initrd", initrd, &st, err);
		if (b->initrd_fd < 0)
			return -1;
		if (st.st_size == 0)
			return error_fail_status(err, EXIT_USAGE, -EINVAL, "initrd '%s' is empty", initrd), -1;
		b->initrd_size = (uint64_t)st.st_size;
	}
	if (boot_plan(&b->plan, b->kernel, b->kernel_len, ram, b->initrd_size, cmdline, entry) < 0) {
		if (strstr(b->plan.why, "initrd"))
			error_fail_status(err, EXIT_USAGE, -EINVAL, "initrd '%s': %s", initrd, b->plan.why);
		else if (strstr(b->plan.why, "command line"))
			error_fail_status(err, EXIT_USAGE, -EINVAL, "kernel command line: %s", b->plan.why);
		else
			error_fail_status(err, EXIT_USAGE, -EINVAL, "kernel '%s' %s", kernel, b->plan.why);
		return -1;
	}
	return 0;
}

int boot_inputs_place(struct boot_inputs *b, struct machine *m, const char *cmdline, struct error *err)
{
	if (machine_load(m, &b->plan, b->kernel, cmdline, err) < 0)
		return -1;
	if (b->initrd_fd < 0)
		return 0;
	/* The plan checked that it fits; read it straight from its file into guest RAM. */
	uint8_t *dst = guest_mem_ptr(&m->mem, b->plan.initrd_addr, b->plan.initrd_size);
	if (!dst)
		return error_fail_status(err, EXIT_USAGE, -EINVAL, "initrd '%s' does not fit in guest RAM",
					 b->initrd_path), -1;
	int rc = read_exact("initrd", b->initrd_path, b->initrd_fd, dst, b->plan.initrd_size, err);
	/* in guest RAM now: the file is not needed during the run */
	close(b->initrd_fd);
	b->initrd_fd = -1;
	return rc;
}

void boot_inputs_free(struct boot_inputs *b)
{
	free(b->kernel);
	b->kernel = NULL;
	if (b->initrd_fd >= 0)
		close(b->initrd_fd);
	b->initrd_fd = -1;
}
