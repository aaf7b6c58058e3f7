/* Two builds of one package, member by member: which members only one archive has, and for those both
 * have, which of content (SHA-256), size, file type, mode, owner, mtime and link target differ. Members
 * are matched by name (the k-th member of a name with the k-th of the same name in the other archive). */
#ifndef LBVM_BOOTSTRAP_MEMBER_DIFF_H
#define LBVM_BOOTSTRAP_MEMBER_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "image/archive_members.h"

enum member_field {
	MEMBER_TYPE = 1u << 0,
	MEMBER_CONTENT = 1u << 1,   /* SHA-256 of the content */
	MEMBER_SIZE = 1u << 2,
	MEMBER_MODE = 1u << 3,      /* permission bits */
	MEMBER_OWNER = 1u << 4,     /* uid, gid, user and group names */
	MEMBER_MTIME = 1u << 5,
	MEMBER_LINK = 1u << 6,      /* symlink or hard link target */
};

struct member_delta {
	const struct archive_member *a, *b;  /* NULL: the member is only in the other archive */
	unsigned fields;                     /* enum member_field bits, when both are there */
};

struct member_diff {
	struct member_delta *d;   /* in name order */
	size_t n;
	bool order_differs;       /* the same members, in another order */
	size_t same;              /* members with nothing different */
};

/* Compare A and B. 0 or -ENOMEM with err filled. */
int member_diff(const struct archive_members *a, const struct archive_members *b, struct member_diff *out,
		struct error *err);
void member_diff_free(struct member_diff *d);
/* One line for a delta (without newline): "NAME: only in A", "NAME: content A1B2... / C3D4..., mtime 0 / 17", ... */
void member_delta_print(FILE *f, const struct member_delta *d);

#endif
