#include "image/extfs_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/exit_codes.h"
#include "common/file_lock.h"
#include "common/sandbox.h"

#define CHILD_STDOUT_BUF 65536

/* Close every descriptor except 0-2 and the KEEP ones (sorted, above 2). */
static void close_others(const int *keep, unsigned n)
{
	unsigned from = 3;
	for (unsigned i = 0; i <= n; i++) {
		unsigned to = i < n ? (unsigned)keep[i] : ~0u;
		if (to > from && close_range(from, to - 1, 0) != 0 && errno == ENOSYS)
			for (unsigned fd = from; fd < to && fd < 1024; fd++)
				close((int)fd);
		if (i < n)
			from = (unsigned)keep[i] + 1;
	}
}

static void write_status(int fd, const struct error *err)
{
	const char *p = (const char *)err;
	size_t left = sizeof(*err);
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		left -= (size_t)n;
	}
}

/* The child: never returns. */
static void child_main(const char *image, int part, int out_fd, int status_fd, extfs_job_fn job, void *ctx)
{
	static char stdout_buf[CHILD_STDOUT_BUF];
	struct error err = { 0 };
	int keep[2] = { out_fd < status_fd ? out_fd : status_fd, out_fd < status_fd ? status_fd : out_fd };
	close_others(keep[0] > 2 ? keep : keep + 1, keep[0] > 2 ? 2 : 1);
	/* stdio allocates and fstat()s a stream on first use: give stdout its buffer now, outside the sandbox */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	/* Open the image, then confine: the partition table and everything libext2fs reads from the
	 * filesystem are parsed inside the sandbox. */
	struct extfs *d = NULL;
	int rc = 0, fd = open(image, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		rc = error_fail(&err, -errno, "cannot open %s: %s", image, strerror(errno));
	if (!rc) {
		struct sandbox_fds fds = { .write_fds = { out_fd, status_fd, STDERR_FILENO }, .nwrite = 3 };
		rc = sandbox_enter(SANDBOX_IMAGE_READER, &fds, &err);
	}
	if (!rc)
		rc = extfs_open_fd(&d, fd, image, part, &err);
	if (!rc && extfs_needs_recovery(d))
		diag_warn("%s: the filesystem was not unmounted and its journal holds writes not yet in place; "
			  "lbvm does not replay a journal, so what it reads may be older than the guest's last writes",
			  image);
	if (!rc)
		rc = job(d, ctx, out_fd, &err);
	if (fflush(stdout) != 0 && !rc)
		rc = error_fail(&err, -EIO, "cannot write to standard output");
	extfs_close(d);
	if (rc)
		write_status(status_fd, &err);
	sandbox_exit(rc ? EXIT_USAGE : EXIT_OK);
}

int extfs_child_start(struct extfs_child *c, const char *image, int part, int out_fd, extfs_job_fn job,
		      void *ctx, struct error *err)
{
	c->pid = -1;
	c->out_fd = c->status_fd = -1;
	c->lock_fd = open(image, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (c->lock_fd < 0)
		return error_fail(err, -errno, "cannot open %s: %s", image, strerror(errno));
	int rc = file_lock(c->lock_fd, false);
	if (rc) {
		close(c->lock_fd);
		c->lock_fd = -1;
		if (rc == -EAGAIN)
			return error_fail_status(err, EXIT_USAGE, rc,
						 "%s is in use: a running lbvm (or another program) has it open for writing",
						 image);
		return error_fail(err, rc, "cannot lock %s: %s", image, strerror(-rc));
	}
	int data[2] = { -1, -1 }, status[2];
	if ((out_fd < 0 && pipe2(data, O_CLOEXEC) != 0) || pipe2(status, O_CLOEXEC) != 0) {
		rc = error_fail(err, -errno, "cannot create a pipe: %s", strerror(errno));
		if (data[0] >= 0) {
			close(data[0]);
			close(data[1]);
		}
		close(c->lock_fd);
		c->lock_fd = -1;
		return rc;
	}
	fflush(stdout); /* nothing buffered may be written twice */
	c->pid = fork();
	if (c->pid == 0)
		child_main(image, part, out_fd >= 0 ? out_fd : data[1], status[1], job, ctx);
	int e = errno;
	if (out_fd < 0)
		close(data[1]);
	close(status[1]);
	c->out_fd = data[0];
	c->status_fd = status[0];
	if (c->pid < 0) {
		extfs_child_finish(c, true, err);
		return error_fail(err, -e, "cannot start the image reader: %s", strerror(e));
	}
	return 0;
}

int extfs_child_finish(struct extfs_child *c, bool abandon, struct error *err)
{
	if (c->pid > 0 && abandon)
		kill(c->pid, SIGKILL);
	if (c->out_fd >= 0)
		close(c->out_fd); /* a child still writing gets EPIPE */
	c->out_fd = -1;
	int wstatus = 0, rc = 0;
	if (c->pid > 0) {
		while (waitpid(c->pid, &wstatus, 0) < 0 && errno == EINTR)
			;
	}
	struct error child_err;
	ssize_t got = c->status_fd >= 0 ? read(c->status_fd, &child_err, sizeof(child_err)) : 0;
	if (got == (ssize_t)sizeof(child_err) && child_err.code < 0) {
		child_err.msg[sizeof(child_err.msg) - 1] = '\0';
		*err = child_err; /* the cause */
		rc = child_err.code;
	} else if (c->pid > 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == EXIT_SANDBOX) {
		memset(err, 0, sizeof(*err));
		rc = error_fail_status(err, EXIT_SANDBOX, -EPERM, "the image reader was stopped by its sandbox");
	} else if (c->pid > 0 && !abandon && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == EXIT_OK)) {
		memset(err, 0, sizeof(*err));
		if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGPIPE)
			rc = error_fail_status(err, EXIT_USAGE, -EPIPE, "the output was closed before the end");
		else if (WIFSIGNALED(wstatus))
			rc = error_fail_status(err, EXIT_INTERNAL, -EIO,
					       "the image reader died of signal %d (%s): a damaged image or a bug in it",
					       WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
		else
			rc = error_fail_status(err, EXIT_INTERNAL, -EIO, "the image reader failed (exit status %d)",
					       WEXITSTATUS(wstatus));
	}
	if (c->status_fd >= 0)
		close(c->status_fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->status_fd = c->lock_fd = -1;
	c->pid = -1;
	return rc;
}
