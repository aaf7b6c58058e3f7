/* Error reports of the image builders: a negative code (-errno) plus one line of text for the user.
 * Modules fill it; only the command layer prints it (diag_error). */
#ifndef LBVM_SYSA_IMG_ERR_H
#define LBVM_SYSA_IMG_ERR_H

#define IMG_ERR_MSG_MAX 512

struct img_err {
	int code;                   /* negative errno, 0 when nothing failed */
	char msg[IMG_ERR_MSG_MAX];  /* the user's line, without the "lbvm: " prefix */
};

/* Record the failure (the first one wins) and return code, so callers can write `return img_fail(...)`. */
int img_fail(struct img_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Exit status for a failure: internal faults (out of memory, I/O errors of the host) are 1, everything
 * the user can fix (missing or unreadable inputs, sizes, a full image) is 2. */
int img_err_exit_status(const struct img_err *err);

#endif
