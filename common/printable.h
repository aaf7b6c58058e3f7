/* Text that came from a guest (file names, archive members, configuration lines) shown on the user's
 * terminal: control bytes become '?', so a name cannot move the cursor or rewrite the screen. */
#ifndef LBVM_COMMON_PRINTABLE_H
#define LBVM_COMMON_PRINTABLE_H

#include <stddef.h>

/* Copy SRC into DST (LEN > 0 bytes, always NUL-terminated) with every byte below 0x20 and 0x7f replaced
 * by '?'; a text that does not fit ends in "...". Returns DST. */
char *printable(char *dst, size_t len, const char *src);

#endif
