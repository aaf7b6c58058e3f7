/* lbvm's exit statuses, shared by every command (documented in README.md). */
#ifndef LBVM_COMMON_EXIT_CODES_H
#define LBVM_COMMON_EXIT_CODES_H

enum lbvm_exit {
	EXIT_OK = 0,           /* success; for `boot`: the guest powered off, halted or rebooted cleanly */
	EXIT_INTERNAL = 1,     /* an internal fault of lbvm or of the host (KVM refused something, I/O error) */
	EXIT_USAGE = 2,        /* bad user input: arguments, missing/garbage/truncated files, no /dev/kvm */
	EXIT_GUEST_PANIC = 3,  /* the guest kernel panicked */
	EXIT_TIMEOUT = 4,      /* --timeout expired before the guest stopped */
	EXIT_GUEST_CRASH = 5,  /* the guest stopped abnormally: triple fault, KVM entry failure or internal error */
	EXIT_STOPPED = 6,      /* stopped by the user: Ctrl-A x, SIGINT, SIGTERM or SIGHUP */
	EXIT_INCOMPLETE = 7,   /* fetch, bootstrap: some distfiles are missing or bad (the rest is in the cache) */
	EXIT_STEP_FAILED = 8,  /* bootstrap: a step of the chain failed (a build, a checksum, the chain's shell) */
	EXIT_STALLED = 9,      /* no console output for --stall-timeout */
	EXIT_SANDBOX = 10,     /* a confined thread made a system call its seccomp filter forbids (docs/security.md) */
};

#endif
