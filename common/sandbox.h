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
	SANDBOX_KIND_COUNT,
};

#define SANDBOX_MAX_FDS 16

/* The descriptors a policy refers to (unused ones: count 0 or -1). */
struct sandbox_fds {
	int write_fds[SANDBOX_MAX_FDS]; /* the only descriptors write()/writev() may use */
	unsigned nwrite;
};

/* Install KIND's filter on the calling thread. 0, or -errno with err filled (libseccomp refused, the
 * kernel lacks seccomp): the caller must not go on unconfined. */
int sandbox_enter(enum sandbox_kind kind, const struct sandbox_fds *fds, struct error *err);
/* End the whole process at once with STATUS: exit_group itself, not _exit(), which sanitizer runtimes
 * intercept to run exit-time checks that need calls no sandbox allows. */
_Noreturn void sandbox_exit(int status);
/* "image reader", "vcpu", ...: the name in reports and in LBVM_TEST_FORBIDDEN_SYSCALL. */
const char *sandbox_kind_name(enum sandbox_kind kind);

#endif
