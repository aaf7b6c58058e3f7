#include "bootstrap/chroot_run.h"


#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap/prepare2021.h"
#include "bootstrap/prepare_current.h"
#include "bootstrap/watch.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "image/fstree.h"
#include "image/fstree_write.h"
#include "session/console_out.h"
#include "sysa/sysa.h"
#include "sysc/sysc.h"

#define LINE_MAX_BYTES 4096
#define POLL_MS 100
/* Exit statuses of the namespace helper process that say why it could not start the system. */
#define HELPER_NO_USERNS 120
#define HELPER_SETUP 121
#define HELPER_EXEC 122

/* The device nodes live-bootstrap's populate_device_nodes makes with mknod, which a user namespace cannot
 * do: the host's harmless nodes are bound over empty files instead, so its `test -c` finds them. The
 * console and tty are /dev/null here: nothing in a chroot run has a terminal. */
static const struct { const char *name, *host; } bound_nodes[] = {
	{ "null", "/dev/null" },     { "zero", "/dev/zero" },       { "random", "/dev/random" },
	{ "urandom", "/dev/urandom" }, { "ptmx", "/dev/ptmx" },      { "tty", "/dev/null" },
	{ "console", "/dev/null" },
};

struct chroot_run {
	struct bootstrap_job *job;
	struct watch watch;
	struct console_out out;
	int log_fd;
	struct timespec start;
	atomic_bool done_flag;
	pid_t child;
	char line[LINE_MAX_BYTES];
	size_t line_len;
};

static double runner_now(void *ctx)
{
	struct chroot_run *r = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->start.tv_sec) + (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
}

static double runner_quiet(void *ctx)
{
	struct chroot_run *r = ctx;
	return (double)(console_out_clock_ns() - atomic_load(&r->out.last_output_ns)) / 1e9;
}

static void runner_done(void *ctx, const char *why)
{
	(void)why;
	struct chroot_run *r = ctx;
	atomic_store(&r->done_flag, true);
}

static void runner_log(void *ctx, const char *line)
{
	struct chroot_run *r = ctx;
	console_out_log_line(&r->out, line);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* In the new namespaces, as their root: bind the device nodes, chroot, exec INIT with PATH=/bin only. */
static void system_main(const char *root, const char *init)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(HELPER_SETUP);
	char path[4096];
	snprintf(path, sizeof(path), "%s/dev", root);
	mkdir(path, 0755);
	for (size_t i = 0; i < sizeof(bound_nodes) / sizeof(bound_nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", root, bound_nodes[i].name);
		int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0)
			close(fd);
		if (mount(bound_nodes[i].host, path, NULL, MS_BIND, NULL) < 0)
			_exit(HELPER_SETUP);
	}
	if (chroot(root) < 0 || chdir("/") < 0)
		_exit(HELPER_SETUP);
	char *argv[] = { (char *)init, NULL };
	char *envp[] = { "PATH=/bin", NULL };
	execve(init, argv, envp);
	_exit(HELPER_EXEC);
}

/* The first child: a new user namespace (uid/gid 0 = the caller), mount, pid, UTS, IPC and network
 * namespaces; its own child is PID 1 there and runs the system. Returns that child's status. */
static void helper_main(const char *root, const char *init, uid_t uid, gid_t gid, int out_fd)
{
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) < 0)
		_exit(HELPER_NO_USERNS);
	char map[64];
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		_exit(HELPER_NO_USERNS);
	write_file("/proc/self/setgroups", "deny\n");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		_exit(HELPER_NO_USERNS);
	sethostname("lbvm-chroot", 11);
	pid_t pid = fork();
	if (pid < 0)
		_exit(HELPER_SETUP);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		system_main(root, init);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void feed(struct chroot_run *r, const char *buf, size_t n)
{
	console_out_guest(&r->out, (const uint8_t *)buf, n);
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c == '\r')
			continue;
		if (c != '\n') {
			if (r->line_len + 1 < sizeof(r->line))
				r->line[r->line_len++] = c;
			continue;
		}
		r->line[r->line_len] = '\0';
		r->line_len = 0;
		watch_line(&r->watch, r->line);
	}
}

enum system_end { SYS_EXITED, SYS_DONE, SYS_TIMEOUT, SYS_STALL, SYS_SIGNAL };

/* Run one system to its end. *code: its exit status when SYS_EXITED. */
static enum system_end run_system(struct chroot_run *r, const char *root, const char *init, int *code,
				  int *signo)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		*code = HELPER_SETUP;
		return SYS_EXITED;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		*code = HELPER_SETUP;
		return SYS_EXITED;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		helper_main(root, init, getuid(), getgid(), pipefd[1]);
	}
	close(pipefd[1]);
	r->child = pid;
	sigset_t stop_set;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	const struct timespec no_wait = { 0, 0 };
	enum system_end end = SYS_EXITED;
	bool open_pipe = true;
	char buf[8192];
	while (open_pipe) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int ready = poll(&pfd, 1, POLL_MS);
		if (ready > 0) {
			ssize_t n = read(pipefd[0], buf, sizeof(buf));
			if (n > 0)
				feed(r, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				open_pipe = false;
		}
		console_out_tick(&r->out);
		int sig = sigtimedwait(&stop_set, NULL, &no_wait);
		double now = runner_now(r);
		if (sig > 0) {
			*signo = sig;
			end = SYS_SIGNAL;
		} else if (atomic_load(&r->done_flag)) {
			end = SYS_DONE;
		} else if (r->job->opt.timeout > 0 && now >= r->job->opt.timeout) {
			end = SYS_TIMEOUT;
		} else if (r->job->opt.stall_timeout > 0 && runner_quiet(r) >= r->job->opt.stall_timeout) {
			end = SYS_STALL;
		}
		if (end != SYS_EXITED) {
			kill(pid, SIGKILL); /* the helper's death takes the pid namespace with it */
			break;
		}
	}
	close(pipefd[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (r->line_len) { /* a last line without its newline */
		feed(r, "\n", 1);
	}
	return end;
}

/* sysa's /usr goes into sysc (leaving out /usr/src), as the 2021 harness's chroot_transition does. */
static int copy_usr(const char *from, const char *to, struct error *err)
{
	struct fs_tree t;
	fstree_init(&t);
	int rc = fstree_add_host_dir(&t, from, "", 0, err);
	/* keep the modes as the chain made them; leave out src/ at the top */
	struct fs_tree kept;
	fstree_init(&kept);
	for (size_t i = 0; !rc && i < t.count; i++) {
		struct fs_entry *e = &t.entries[i];
		if (!strcmp(e->path, "src") || !strncmp(e->path, "src/", 4))
			continue;
		if (fstree_add(&kept, e)) {
			rc = error_fail(err, -ENOMEM, "out of memory");
			break;
		}
		memset(e, 0, sizeof(*e)); /* moved into kept */
	}
	if (!rc)
		rc = fstree_finish(&kept, err);
	if (!rc)
		rc = fstree_write_dir(&kept, to, err);
	fstree_free(&kept);
	for (size_t i = 0; i < t.count; i++) {
		free(t.entries[i].path);
		free(t.entries[i].source);
		free(t.entries[i].target);
	}
	free(t.entries);
	return rc;
}

static const char *helper_failure(int code)
{
	switch (code) {
	case HELPER_NO_USERNS:
		return "cannot create a user namespace (unprivileged user namespaces may be disabled on this host: "
		       "sysctl kernel.unprivileged_userns_clone or an AppArmor restriction)";
	case HELPER_SETUP:
		return "cannot set up the chroot (mounts in the new namespace)";
	case HELPER_EXEC:
		return "cannot start the system's init (is this host able to run i386 programs? its kernel needs "
		       "CONFIG_IA32_EMULATION)";
	}
	return NULL;
}

/* Turn a system's end into the run's status; 0 = go on to the next system. */
static int judge(struct chroot_run *r, enum system_end end, int code, int signo, bool last, const char **outcome,
		 char *detail, size_t dlen)
{
	switch (end) {
	case SYS_DONE:
		*outcome = watch_completed(&r->watch) ? "completed" : "reached --until";
		return EXIT_OK;
	case SYS_SIGNAL:
		*outcome = "stopped by the user";
		snprintf(detail, dlen, "signal %s", strsignal(signo));
		return EXIT_STOPPED;
	case SYS_TIMEOUT:
		*outcome = "timed out";
		return EXIT_TIMEOUT;
	case SYS_STALL:
		*outcome = "stalled";
		snprintf(detail, dlen, "no output for %.0f s", r->job->opt.stall_timeout);
		return EXIT_STALLED;
	case SYS_EXITED:
		break;
	}
	const char *why = helper_failure(code);
	if (why) {
		*outcome = "chroot failed";
		snprintf(detail, dlen, "%s", why);
		return code == HELPER_SETUP ? EXIT_INTERNAL : EXIT_USAGE;
	}
	if (code == 0 && !last)
		return -1; /* on to sysc */
	if (code == 0 && (watch_completed(&r->watch) ||
			  (!r->job->completion_line && watch_only_silent_steps_left(&r->watch) &&
			   !watch_has_evidence(&r->watch)))) {
		*outcome = "completed";
		return EXIT_OK;
	}
	*outcome = "step failed";
	snprintf(detail, dlen, "the system's init exited with status %d", code);
	return EXIT_STEP_FAILED;
}

/* The systems a layout runs in turn: (root, init), and what happens between two of them. */
struct chroot_system {
	char dir[BOOTSTRAP_PATH];
	const char *init;
};

static int prepare_systems(struct bootstrap_job *job, struct chroot_system *sys, size_t *n, struct error *err)
{
	if (job->layout == LAYOUT_2021) {
		snprintf(sys[0].dir, sizeof(sys[0].dir), "%s/sysa", job->opt.run_dir);
		snprintf(sys[1].dir, sizeof(sys[1].dir), "%s/sysc", job->opt.run_dir);
		/* the harness ran `env -i PATH=/bin chroot sysa /bootstrap-seeds/POSIX/x86/kaem-optional-seed`,
		 * then `chroot sysc /init` */
		sys[0].init = "/bootstrap-seeds/POSIX/x86/kaem-optional-seed";
		sys[1].init = "/init";
		*n = 2;
		if (mkdir(sys[0].dir, 0755) < 0 || mkdir(sys[1].dir, 0755) < 0)
			return error_fail(err, -errno, "%s: %s", job->opt.run_dir, strerror(errno));
		return prepare2021_chroot_dirs(job, sys[0].dir, sys[1].dir, err);
	}
	int rc = prepare_current_images(job, err);
	snprintf(sys[0].dir, sizeof(sys[0].dir), "%s", job->target_dir);
	sys[0].init = "/bootstrap-seeds/POSIX/x86/kaem-optional-seed"; /* where rootfs.py enters its chroot */
	*n = 1;
	return rc;
}

int bootstrap_chroot_run(struct bootstrap_job *job, const char *cache_dir)
{
	static struct chroot_run r;
	memset(&r, 0, sizeof(r));
	r.job = job;
	atomic_init(&r.done_flag, false);
	struct error err = { 0 };
	struct chroot_system sys[2];
	size_t n_sys = 0;
	diag_info("assembling the chroot trees in %s", job->opt.run_dir);
	if (prepare_systems(job, sys, &n_sys, &err)) {
		diag_error("%s", err.msg);
		return error_exit_status(&err);
	}
	if (job->opt.assemble_only) {
		diag_info("chroot trees ready in %s", job->opt.run_dir);
		return EXIT_OK;
	}
	record_machine(&job->record, "isolation", "user, mount, pid, uts, ipc and network namespaces; chroot");
	struct watch_runner runner = { .now = runner_now, .quiet_for = runner_quiet, .done = runner_done,
				       .log_line = runner_log, .ctx = &r };
	if (watch_init(&r.watch, job, &runner, cache_dir) < 0) {
		diag_error("out of memory");
		return EXIT_INTERNAL;
	}
	sigset_t stop_set;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	signal(SIGPIPE, SIG_IGN);
	r.log_fd = open(job->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r.log_fd < 0 || console_out_start(&r.out, r.log_fd, job->opt.interactive ? STDOUT_FILENO : -1) < 0) {
		diag_error("%s: cannot be written", job->log);
		if (r.log_fd >= 0)
			close(r.log_fd);
		watch_free(&r.watch);
		return EXIT_INTERNAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	watch_start(&r.watch);
	const char *outcome = "internal error";
	char detail[ERROR_MSG_MAX + 64] = "";
	int status = -1;
	for (size_t i = 0; status < 0 && i < n_sys; i++) {
		if (i > 0) {
			/* 2021: sysa's /usr goes into sysc (without /usr/src), as the harness's chroot_transition */
			char from[BOOTSTRAP_PATH + 16], to[BOOTSTRAP_PATH + 16];
			snprintf(from, sizeof(from), "%s/usr", sys[0].dir);
			snprintf(to, sizeof(to), "%s/usr", sys[i].dir);
			console_out_log_line(&r.out, "[lbvm] sysa ended: copying its /usr into sysc (without /usr/src)");
			if (copy_usr(from, to, &err)) {
				outcome = "chroot failed";
				snprintf(detail, sizeof(detail), "copying sysa's /usr into sysc: %s", err.msg);
				status = EXIT_INTERNAL;
				break;
			}
		}
		int code = 0, signo = 0;
		enum system_end end = run_system(&r, sys[i].dir, sys[i].init, &code, &signo);
		status = judge(&r, end, code, signo, i + 1 == n_sys, &outcome, detail, sizeof(detail));
	}
	watch_stop(&r.watch);
	watch_finish(&r.watch, status, outcome, detail);
	console_out_finish(&r.out);
	close(r.log_fd);
	watch_free(&r.watch);
	return status;
}
