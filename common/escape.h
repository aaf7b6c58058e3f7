/* Names that come from a guest (file names in an image it wrote, symlink targets) are printed to the
 * user's terminal: escape every byte that a terminal could act on, so a name cannot move the cursor,
 * retitle the window or hide the line it is part of. */
#ifndef LBVM_COMMON_ESCAPE_H
#define LBVM_COMMON_ESCAPE_H

#include <stddef.h>

/* Room that escape_name() needs for LEN input bytes: every byte may become \xHH. */
#define ESCAPE_ROOM(len) ((len) * 4 + 1)

/* Write LEN bytes of IN to OUT (CAP bytes, always NUL-terminated, cut short when too small) with C0
 * controls, DEL, backslash, C1 controls (raw or UTF-8 encoded) and bytes that are not valid UTF-8
 * written as \n, \t, \\ or \xHH; printable ASCII and valid UTF-8 pass unchanged. Returns OUT. */
char *escape_name(char *out, size_t cap, const char *in, size_t len);

#endif
