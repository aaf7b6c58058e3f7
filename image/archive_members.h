/* The members of a tar or cpio archive (bzip2, gzip, xz, zstd or uncompressed), read through libarchive:
 * each member's header fields and the SHA-256 of its content, in archive order. Nothing is written to
 * disk. Used to compare two builds of a package member by member (bootstrap/member_diff.h) and to pick
 * small text files out of an initramfs. Only the formats and filters named here are enabled: an archive
 * from a guest never makes libarchive start an external decompressor. */
#ifndef LBVM_IMAGE_ARCHIVE_MEMBERS_H
#define LBVM_IMAGE_ARCHIVE_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define ARCHIVE_MEMBERS_MAX 1000000  /* more members than any package of the chain: a damaged archive */
#define ARCHIVE_KEEP_MAX (1u << 20)  /* the most content kept for one member (see keep) */

struct archive_member {
	char *name;            /* the path as stored */
	uint32_t mode;         /* S_IFMT | 07777 */
	int64_t uid, gid;
	char *uname, *gname;   /* "" when the header has none */
	int64_t mtime;
	long mtime_nsec;
	int64_t size;          /* the content's size (0 for links and directories) */
	char *symlink;         /* the target of a symbolic link, else NULL */
	char *hardlink;        /* the member this one is a hard link to, else NULL */
	uint8_t sha256[32];    /* of the content */
	char *data;            /* the content, only when keep asked for it (NUL-terminated) */
	size_t data_len;
};

struct archive_members {
	struct archive_member *m;
	size_t n;
};

/* KEEP(ctx, name): keep this member's content in memory (at most ARCHIVE_KEEP_MAX bytes, else an error). */
typedef bool (*archive_keep_fn)(void *ctx, const char *name);

/* Read every member of the archive open on FD (read from its current offset). NAME labels messages.
 * 0, or a negative code with one line in err: not an archive of a known format, damaged, cut short
 * (exit status 2), or out of memory (1). */
int archive_members_read(int fd, const char *name, archive_keep_fn keep, void *ctx, struct archive_members *out,
			 struct error *err);
void archive_members_free(struct archive_members *l);

#endif
