/* lbvm's one error type: a negative code (-errno, or a module's own negative code), the exit status the
 * command should end with, and one line of text for the user. Modules fill it; only the command layer
 * prints it (diag_error), so every failure reaches the user as exactly one line. */
#ifndef LBVM_COMMON_ERROR_H
#define LBVM_COMMON_ERROR_H

#define ERROR_MSG_MAX 512

struct error {
	int code;                  /* negative, 0 while nothing failed */
	int status;                /* exit status (common/exit_codes.h); 0 = derive it from code */
	char msg[ERROR_MSG_MAX];   /* the user's line, without the "lbvm: " prefix */
};

/* Record the failure (the first one wins) and return code, so callers can write `return error_fail(...)`.
 * The exit status is derived from the code (see error_exit_status). */
int error_fail(struct error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with an explicit exit status, for failures whose code does not say whose fault they are. */
int error_fail_status(struct error *err, int status, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Exit status for a failure: the explicit one if given; otherwise internal faults (out of memory, I/O
 * errors of the host) are 1 and everything the user can fix (missing or unreadable inputs, sizes, a full
 * image) is 2. */
int error_exit_status(const struct error *err);

#endif
