#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <malloc.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/exit_codes.h"

#define MAX_SYSCALL_NR 512 /* x86-64 numbers stay below this; others are reported by number only */

static const char *const kind_names[SANDBOX_KIND_COUNT] = {
	[SANDBOX_IMAGE_READER] = "image-reader",
	[SANDBOX_VCPU] = "vcpu",
	[SANDBOX_CONSOLE_IN] = "console-in",
	[SANDBOX_WATCHDOG] = "watchdog",
	[SANDBOX_CONSOLE_OUT] = "console-out",
	[SANDBOX_NET] = "net",
	[SANDBOX_NET_ONLINE] = "net-online",
	[SANDBOX_MIRROR] = "mirror",
};

/* Names for the SIGSYS report, resolved before any filter exists: the handler may not allocate. */
static const char *syscall_names[MAX_SYSCALL_NR];
static pthread_once_t prepare = PTHREAD_ONCE_INIT;
static _Thread_local int current_kind = -1;

void sandbox_exit(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return (unsigned)kind < SANDBOX_KIND_COUNT ? kind_names[kind] : "unknown";
}

/* Once per process, before the first filter: resolve the names for the report, and stop glibc's malloc
 * from ever giving the top of a thread's heap back (shrink_heap): the first time it would, it reads
 * /proc/sys/vm/overcommit_memory, an open() no sandbox allows, from whichever thread frees. Memory still
 * returns to the system through munmap of whole heaps and of large blocks. */
static void prepare_once(void)
{
	for (int nr = 0; nr < MAX_SYSCALL_NR; nr++)
		syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

/* ---- the report: async-signal-safe, from the thread that made the call ---- */

struct line {
	char buf[256];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_num(struct line *l, long v)
{
	char digits[24];
	int n = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < (int)sizeof(digits));
	if (v < 0)
		put(l, "-");
	while (n)
		put(l, (char[]){ digits[--n], '\0' });
}

static void on_sigsys(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)uctx;
	struct line l = { .len = 0 };
	int nr = info->si_syscall;
	put(&l, "lbvm: sandbox: the ");
	put(&l, current_kind >= 0 ? kind_names[current_kind] : "unconfined");
	put(&l, " thread made a forbidden system call: ");
	put(&l, nr >= 0 && nr < MAX_SYSCALL_NR && syscall_names[nr] ? syscall_names[nr] : "?");
	put(&l, " (");
	put_num(&l, nr);
	put(&l, "); lbvm stops (exit status 10, docs/security.md)\n");
	ssize_t ignored = write(STDERR_FILENO, l.buf, l.len);
	(void)ignored;
	sandbox_exit(EXIT_SANDBOX);
}

/* ---- building filters ---- */

/* Argument checks, spelled out (libseccomp's SCMP_A* macros leave a field to the default). */
static struct scmp_arg_cmp arg_eq(unsigned arg, scmp_datum_t value)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0 };
}

static struct scmp_arg_cmp arg_masked_eq(unsigned arg, scmp_datum_t mask, scmp_datum_t value)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = value };
}

static int allow(scmp_filter_ctx ctx, int nr)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int allow_on_fds(scmp_filter_ctx ctx, int nr, const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, arg_eq(0, (scmp_datum_t)fds[i]));
		if (rc)
			return rc;
	}
	return 0;
}

/* Memory management for malloc, never executable memory. */
static int allow_memory(scmp_filter_ctx ctx)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, arg_masked_eq(2, PROT_EXEC, 0));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      arg_masked_eq(2, PROT_EXEC, 0));
	static const int plain[] = { SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise) };
	for (size_t i = 0; !rc && i < sizeof(plain) / sizeof(plain[0]); i++)
		rc = allow(ctx, plain[i]);
	return rc;
}

/* What every confined thread needs to end, to be told to end, and to abort() on a failed assertion
 * (abort signals only its own process); and what glibc asks the kernel on its own: sysinfo (qsort sizes
 * its buffer by the machine's memory), sched_getaffinity (malloc counts CPUs), sched_yield. */
static int allow_lifecycle(scmp_filter_ctx ctx)
{
	static const int plain[] = { SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
				     SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid),
				     SCMP_SYS(gettid), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
				     SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield), SCMP_SYS(sysinfo),
				     SCMP_SYS(sched_getaffinity) };
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(plain) / sizeof(plain[0]); i++)
		rc = allow(ctx, plain[i]);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				      arg_eq(0, (scmp_datum_t)getpid()));
	/* stderr: the SIGSYS report itself, and lbvm's one-line messages */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, arg_eq(0, STDERR_FILENO));
	return rc;
}

/* The image reader: reads the image through the descriptor it holds (it can open nothing), writes only
 * its output pipe, the status pipe and stderr. libext2fs's open asks who it runs as (get*id and
 * PR_GET_DUMPABLE, for its secure getenv), checks and duplicates its descriptor (fcntl), fsyncs it, and
 * probes a block-device ioctl, which is answered "not a tty" without reaching the kernel. */
static int image_reader_rules(scmp_filter_ctx ctx, const struct sandbox_fds *fds)
{
	static const int plain[] = { SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(preadv),
				     SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(fsync),
				     SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid) };
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(plain) / sizeof(plain[0]); i++)
		rc = allow(ctx, plain[i]);
	/* fstat() is newfstatat(fd, "", AT_EMPTY_PATH) in glibc: only that form */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1, arg_eq(3, AT_EMPTY_PATH));
	static const int fcntl_cmds[] = { F_GETFD, F_GETFL, F_DUPFD_CLOEXEC };
	for (size_t i = 0; !rc && i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      arg_eq(1, (scmp_datum_t)fcntl_cmds[i]));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, arg_eq(0, PR_GET_DUMPABLE));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
	if (!rc)
		rc = allow_on_fds(ctx, SCMP_SYS(write), fds->write_fds, fds->nwrite);
	if (!rc)
		rc = allow_on_fds(ctx, SCMP_SYS(writev), fds->write_fds, fds->nwrite);
	return rc;
}

static int allow_list(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++)
		rc = allow(ctx, nrs[i]);
	return rc;
}

/* Two argument checks at once: this descriptor and this request (ioctl). */
static int allow_fd_request(scmp_filter_ctx ctx, int nr, int fd, unsigned long request)
{
	if (fd < 0)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, arg_eq(0, (scmp_datum_t)fd), arg_eq(1, request));
}

/* The vCPU thread: KVM_RUN, reading its own registers, the interrupt line, the disks' I/O (AHCI commands run synchronously in the
 * MMIO write that rings the doorbell), stderr for lbvm's stage lines. The console bytes go into a ring in
 * memory; their writers are other threads. */
static int vcpu_rules(scmp_filter_ctx ctx, const struct sandbox_fds *fds)
{
	/* KVM_GET_REGS/SREGS/MP_STATE: the samples of where the vCPU is, taken between runs (vmm/fate.h). */
	static const unsigned long vcpu_requests[] = { KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_MP_STATE };
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(vcpu_requests) / sizeof(vcpu_requests[0]); i++)
		rc = allow_fd_request(ctx, SCMP_SYS(ioctl), fds->vcpu_fd, vcpu_requests[i]);
	if (!rc)
		rc = allow_fd_request(ctx, SCMP_SYS(ioctl), fds->vm_fd, KVM_IRQ_LINE);
	static const int disk_io[] = { SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
				       SCMP_SYS(fdatasync) };
	for (size_t i = 0; !rc && i < sizeof(disk_io) / sizeof(disk_io[0]); i++)
		rc = allow_on_fds(ctx, disk_io[i], fds->disk_fds, fds->ndisks);
	if (!rc)
		rc = allow_on_fds(ctx, SCMP_SYS(write), fds->write_fds, fds->nwrite);
	return rc;
}

/* Console input: wait for and read stdin, hand the bytes to the UART (a mutex and a condition variable),
 * and stop the run on Ctrl-A x (a signal to the vCPU thread: tgkill, in the lifecycle rules). */
static int console_in_rules(scmp_filter_ctx ctx, const struct sandbox_fds *fds)
{
	/* Bytes fed to the UART can raise its interrupt: KVM_IRQ_LINE on the VM's descriptor, nothing else. */
	int rc = allow_fd_request(ctx, SCMP_SYS(ioctl), fds->vm_fd, KVM_IRQ_LINE);
	if (!rc)
		rc = allow_on_fds(ctx, SCMP_SYS(read), fds->read_fds, fds->nread);
	static const int waits[] = { SCMP_SYS(poll), SCMP_SYS(ppoll) };
	if (!rc)
		rc = allow_list(ctx, waits, sizeof(waits) / sizeof(waits[0]));
	return rc;
}

/* The watchdog: waits for the stop signals with a timeout and reads clocks; it ends the run through
 * machine_stop (a mutex, an atomic, and a signal to the vCPU thread). It does no I/O at all. */
static int watchdog_rules(scmp_filter_ctx ctx)
{
	static const int plain[] = { SCMP_SYS(rt_sigtimedwait), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep) };
	return allow_list(ctx, plain, sizeof(plain) / sizeof(plain[0]));
}

/* A console writer: write its one descriptor; stderr is not needed. */
static int console_out_rules(scmp_filter_ctx ctx, const struct sandbox_fds *fds)
{
	return allow_on_fds(ctx, SCMP_SYS(write), fds->write_fds, fds->nwrite);
}

/* A socket of this domain and type (SOCK_CLOEXEC/SOCK_NONBLOCK may be added), any protocol. */
static int allow_socket(scmp_filter_ctx ctx, int domain, int type)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, arg_eq(0, (scmp_datum_t)domain),
				arg_masked_eq(1, ~(scmp_datum_t)(SOCK_CLOEXEC | SOCK_NONBLOCK) & 0xffffffffu,
					      (scmp_datum_t)type));
}

/* The user-mode network's thread (net/slirp_net.c): libslirp's poll loop over its own sockets, the wake-up
 * eventfd (read, and written by slirp's notify), frames into the card (guest memory, and KVM_IRQ_LINE on
 * the VM for the card's interrupt). Socket descriptors come and go with the guest's connections, so the
 * calls on them cannot name a descriptor; what bounds them is which sockets may exist at all:
 *   hermetic: one kind, AF_UNIX stream, which slirp connects to the mirror's socket (slirp_add_unix);
 *   online:   also AF_INET/AF_INET6 stream and datagram (TCP, UDP, ICMP echo through IPPROTO_ICMP
 *             datagram sockets), and stat() of a path: slirp checks /etc/resolv.conf for changes before
 *             it forwards a DNS query. It never opens the file inside the sandbox: slirp_net reads it
 *             once before the thread confines itself (a changed file is not read again). */
static int net_rules(scmp_filter_ctx ctx, const struct sandbox_fds *fds, bool online)
{
	static const int plain[] = { SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(readv),
				     SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(connect), SCMP_SYS(shutdown),
				     SCMP_SYS(close), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
				     SCMP_SYS(getsockname), SCMP_SYS(getpeername) };
	int rc = allow_list(ctx, plain, sizeof(plain) / sizeof(plain[0]));
	static const int fcntl_cmds[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD };
	for (size_t i = 0; !rc && i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, arg_eq(1, (scmp_datum_t)fcntl_cmds[i]));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, arg_eq(1, FIONREAD));
	if (!rc)
		rc = allow_fd_request(ctx, SCMP_SYS(ioctl), fds->vm_fd, KVM_IRQ_LINE);
	if (!rc)
		rc = allow_on_fds(ctx, SCMP_SYS(write), fds->write_fds, fds->nwrite);
	if (!rc)
		rc = allow_socket(ctx, AF_UNIX, SOCK_STREAM);
	if (online) {
		static const int domains[] = { AF_INET, AF_INET6 }, types[] = { SOCK_STREAM, SOCK_DGRAM };
		for (size_t d = 0; !rc && d < 2; d++)
			for (size_t t = 0; !rc && t < 2; t++)
				rc = allow_socket(ctx, domains[d], types[t]);
		if (!rc)
			rc = allow(ctx, SCMP_SYS(newfstatat));
		if (!rc)
			rc = allow(ctx, SCMP_SYS(stat));
	}
	return rc;
}

/* The mirror's thread (net/mirror.c): the connections slirp forwards (accepted on its listening socket,
 * read, written, shut down), and the cache's files: openat only relative to the cache directory, read-only,
 * no symbolic link followed; fstat, read and pread on what it opened. It records each request through
 * the caller's callback: the serial log's ring (memory) and stderr. */
static int mirror_rules(scmp_filter_ctx ctx, const struct sandbox_fds *fds)
{
	static const int plain[] = { SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(pread64),
				     SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(shutdown), SCMP_SYS(close),
				     SCMP_SYS(fstat) };
	int rc = allow_list(ctx, plain, sizeof(plain) / sizeof(plain[0]));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1, arg_eq(3, AT_EMPTY_PATH));
	if (!rc && fds->listen_fd >= 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4), 1,
				      arg_eq(0, (scmp_datum_t)fds->listen_fd));
	if (!rc && fds->dir_fd >= 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 2, arg_eq(0, (scmp_datum_t)fds->dir_fd),
				      arg_eq(2, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
	if (!rc)
		rc = allow_on_fds(ctx, SCMP_SYS(write), fds->write_fds, fds->nwrite);
	return rc;
}

/* LBVM_TEST_FORBIDDEN_SYSCALL=KIND: the thread that just entered KIND's sandbox breaks it. */
static void test_hook(enum sandbox_kind kind)
{
	const char *want = getenv(SANDBOX_TEST_HOOK_ENV);
	if (want && !strcmp(want, kind_names[kind]))
		syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY); /* raw: no sanitizer interceptor in between */
}

int sandbox_enter(enum sandbox_kind kind, const struct sandbox_fds *fds, struct error *err)
{
	if ((unsigned)kind >= SANDBOX_KIND_COUNT || fds->nwrite > SANDBOX_MAX_FDS || fds->nread > SANDBOX_MAX_FDS ||
	    fds->ndisks > SANDBOX_MAX_FDS)
		return error_fail_status(err, EXIT_INTERNAL, -EINVAL, "sandbox: no such policy");
	pthread_once(&prepare, prepare_once);
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return error_fail_status(err, EXIT_INTERNAL, -errno, "sandbox: cannot install the SIGSYS handler: %s",
					 strerror(errno));
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return error_fail_status(err, EXIT_INTERNAL, -ENOMEM, "sandbox: libseccomp cannot start a filter");
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!rc)
		rc = allow_lifecycle(ctx);
	if (!rc)
		rc = allow_memory(ctx);
	if (!rc) {
		switch (kind) {
		case SANDBOX_IMAGE_READER: rc = image_reader_rules(ctx, fds); break;
		case SANDBOX_VCPU: rc = vcpu_rules(ctx, fds); break;
		case SANDBOX_CONSOLE_IN: rc = console_in_rules(ctx, fds); break;
		case SANDBOX_WATCHDOG: rc = watchdog_rules(ctx); break;
		case SANDBOX_CONSOLE_OUT: rc = console_out_rules(ctx, fds); break;
		case SANDBOX_NET: rc = net_rules(ctx, fds, false); break;
		case SANDBOX_NET_ONLINE: rc = net_rules(ctx, fds, true); break;
		case SANDBOX_MIRROR: rc = mirror_rules(ctx, fds); break;
		case SANDBOX_KIND_COUNT: rc = -EINVAL; break;
		}
	}
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc)
		return error_fail_status(err, EXIT_INTERNAL, rc, "sandbox: cannot confine the %s: %s", kind_names[kind],
					 strerror(-rc));
	current_kind = (int)kind;
	test_hook(kind);
	return 0;
}
