/* lbvm confines the parts of itself that handle what a guest controls: a seccomp filter (libseccomp) per
 * kind of thread or helper process, allowing only the system calls that part needs, several of them only
 * on the descriptors it was given. Anything else traps: a SIGSYS handler prints one line naming the thread
 * and the system call, and the process exits with EXIT_SANDBOX (10). The lists and why each call is there:
 * docs/security.md. A filter applies to the calling thread (and threads it creates later) and cannot be
 * lifted, so each thread enters its own sandbox at its start, after everything it opens is open. */
#ifndef LBVM_COMMON_SANDBOX_H
#define LBVM_COMMON_SANDBOX_H

#include "common/error.h"

enum sandbox_kind {
	SANDBOX_IMAGE_READER, /* lbvm disk: the child process that reads a guest-written filesystem */
	SANDBOX_VCPU,         /* the KVM_RUN loop and every device model behind it */
	SANDBOX_CONSOLE_IN,   /* stdin into the UART */
	SANDBOX_WATCHDOG,     /* timeouts, stop signals, the panic grace period */
	SANDBOX_CONSOLE_OUT,  /* one writer of guest console output (serial log or stdout) */
	SANDBOX_NET,          /* --net hermetic: the user-mode network (libslirp); its only socket is the mirror's */
	SANDBOX_NET_ONLINE,   /* --net user: the same with sockets to the outside */
	SANDBOX_MIRROR,       /* lbvm's distfile mirror: the cache's files, the connections slirp hands it */
	SANDBOX_KIND_COUNT,
};

#define SANDBOX_MAX_FDS 32 /* as many disks as the AHCI model has ports, and more */

/* The descriptors a policy refers to (unused ones: count 0 or -1). */
struct sandbox_fds {
	int write_fds[SANDBOX_MAX_FDS]; /* the only descriptors write()/writev() may use */
	unsigned nwrite;
	int read_fds[SANDBOX_MAX_FDS];  /* console input: the only descriptors read()/poll() may use */
	unsigned nread;
	int disk_fds[SANDBOX_MAX_FDS];  /* vCPU: disk images, for pread/pwrite(v)/fdatasync */
	unsigned ndisks;
	int vcpu_fd, vm_fd;             /* vCPU: KVM_RUN on the first, KVM_IRQ_LINE on the second (also net) */
	int dir_fd;                     /* mirror: the cache directory, the only place openat may look */
	int listen_fd;                  /* mirror: the socket accept4 may take connections from */
};

/* The test hook: with LBVM_TEST_FORBIDDEN_SYSCALL set to a kind's name ("vcpu", "console-in", ...), a
 * thread of that kind makes a forbidden call (openat of "/") right after entering its sandbox, so tests
 * can watch the report and exit status 10. A documented test hook: it can only stop lbvm early. */
#define SANDBOX_TEST_HOOK_ENV "LBVM_TEST_FORBIDDEN_SYSCALL"

/* Install KIND's filter on the calling thread. 0, or -errno with err filled (libseccomp refused, the
 * kernel lacks seccomp): the caller must not go on unconfined. */
int sandbox_enter(enum sandbox_kind kind, const struct sandbox_fds *fds, struct error *err);
/* End the whole process at once with STATUS: exit_group itself, not _exit(), which sanitizer runtimes
 * intercept to run exit-time checks that need calls no sandbox allows. */
_Noreturn void sandbox_exit(int status);
/* "image-reader", "vcpu", ...: the name in reports and in LBVM_TEST_FORBIDDEN_SYSCALL. */
const char *sandbox_kind_name(enum sandbox_kind kind);

#endif
