/* SOURCE_DATE_EPOCH: the one timestamp every image entry carries. */
#ifndef LBVM_IMAGE_EPOCH_H
#define LBVM_IMAGE_EPOCH_H

#include <stdint.h>

#include "common/error.h"

/* The documented default when SOURCE_DATE_EPOCH is unset: 1 (1970-01-01 00:00:01 UTC). Not 0, because
 * libext2fs takes a zero time as "read the clock", which would make disk images differ run to run. */
#define EPOCH_DEFAULT 1u

/* Parse SOURCE_DATE_EPOCH from the environment into *out (decimal seconds, 0..2^32-1: cpio newc and ext
 * timestamps are 32-bit). Unset or empty gives EPOCH_DEFAULT. 0 or -EINVAL with err filled. */
int epoch_from_env(uint32_t *out, struct error *err);
/* The same for a given string. */
int epoch_parse(const char *text, uint32_t *out, struct error *err);

#endif
