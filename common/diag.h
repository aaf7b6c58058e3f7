/* One-line diagnostics for the user: "lbvm: <message>" on stderr. Modules return errors; only the command
 * layer prints them, so every failure reaches the user as exactly one line. */
#ifndef LBVM_COMMON_DIAG_H
#define LBVM_COMMON_DIAG_H

#include <stdbool.h>

void diag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* getopt's ':' (a missing value) or '?' (an unknown option) for lbvm CMD: one line, returns EXIT_USAGE. */
int diag_bad_option(const char *cmd, int getopt_result, const char *arg);
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress lines ("lbvm: ..."), shown unless quiet mode is on. */
void diag_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_set_quiet(bool quiet);

#endif
