#include "image/archive_members.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/exit_codes.h"

#define READ_BLOCK (64 * 1024)

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static int damaged(struct error *err, const char *name, struct archive *a)
{
	const char *why = archive_error_string(a);
	return error_fail_status(err, EXIT_USAGE, -EINVAL, "%s: not a readable archive: %s", name,
				 why ? why : "unknown format");
}

/* Hash the current member's content (and keep it when asked). */
static int read_content(struct archive *a, struct archive_member *m, bool keep, const char *name,
			struct error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return error_fail(err, -ENOMEM, "out of memory (SHA-256)");
	}
	char *buf = malloc(READ_BLOCK);
	int rc = buf ? 0 : error_fail(err, -ENOMEM, "out of memory");
	size_t kept = 0, cap = 0;
	while (!rc) {
		la_ssize_t n = archive_read_data(a, buf, READ_BLOCK);
		if (n < 0) {
			rc = damaged(err, name, a);
			break;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			rc = error_fail(err, -EIO, "SHA-256 failed");
			break;
		}
		if (!keep)
			continue;
		if (kept + (size_t)n > ARCHIVE_KEEP_MAX) {
			rc = error_fail_status(err, EXIT_USAGE, -EFBIG, "%s: member %.200s is larger than %u KiB",
					       name, m->name, ARCHIVE_KEEP_MAX >> 10);
			break;
		}
		if (kept + (size_t)n + 1 > cap) {
			size_t ncap = (kept + (size_t)n + 1) * 2;
			char *d = realloc(m->data, ncap);
			if (!d) {
				rc = error_fail(err, -ENOMEM, "out of memory");
				break;
			}
			m->data = d;
			cap = ncap;
		}
		memcpy(m->data + kept, buf, (size_t)n);
		kept += (size_t)n;
	}
	free(buf);
	unsigned int len = 0;
	if (!rc && EVP_DigestFinal_ex(md, m->sha256, &len) != 1)
		rc = error_fail(err, -EIO, "SHA-256 failed");
	EVP_MD_CTX_free(md);
	if (!rc && keep) {
		if (!m->data && !(m->data = malloc(1)))
			return error_fail(err, -ENOMEM, "out of memory");
		m->data[kept] = '\0';
		m->data_len = kept;
	}
	return rc;
}

static int take_entry(struct archive *a, struct archive_entry *e, struct archive_member *m, archive_keep_fn keep,
		      void *ctx, const char *name, struct error *err)
{
	const char *path = archive_entry_pathname(e);
	m->name = dup_or_empty(path);
	m->uname = dup_or_empty(archive_entry_uname(e));
	m->gname = dup_or_empty(archive_entry_gname(e));
	if (!m->name || !m->uname || !m->gname)
		return error_fail(err, -ENOMEM, "out of memory");
	m->mode = (uint32_t)archive_entry_mode(e);
	m->uid = archive_entry_uid(e);
	m->gid = archive_entry_gid(e);
	m->mtime = archive_entry_mtime(e);
	m->mtime_nsec = archive_entry_mtime_nsec(e);
	m->size = archive_entry_size(e);
	const char *sl = archive_entry_symlink(e), *hl = archive_entry_hardlink(e);
	if ((sl && !(m->symlink = strdup(sl))) || (hl && !(m->hardlink = strdup(hl))))
		return error_fail(err, -ENOMEM, "out of memory");
	return read_content(a, m, keep && keep(ctx, m->name), name, err);
}

int archive_members_read(int fd, const char *name, archive_keep_fn keep, void *ctx, struct archive_members *out,
			 struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct archive *a = archive_read_new();
	if (!a)
		return error_fail(err, -ENOMEM, "out of memory");
	/* built-in decompressors only: nothing here may spawn a program */
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_empty(a);
	int rc = 0;
	if (archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK)
		rc = damaged(err, name, a);
	size_t cap = 0;
	while (!rc) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = damaged(err, name, a);
			break;
		}
		if (out->n == ARCHIVE_MEMBERS_MAX) {
			rc = error_fail_status(err, EXIT_USAGE, -EFBIG, "%s: more than %d members", name,
					       ARCHIVE_MEMBERS_MAX);
			break;
		}
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct archive_member *nm = realloc(out->m, ncap * sizeof(*nm));
			if (!nm) {
				rc = error_fail(err, -ENOMEM, "out of memory");
				break;
			}
			out->m = nm;
			cap = ncap;
		}
		memset(&out->m[out->n], 0, sizeof(out->m[0]));
		rc = take_entry(a, e, &out->m[out->n++], keep, ctx, name, err);
	}
	archive_read_free(a);
	if (rc)
		archive_members_free(out);
	return rc;
}

void archive_members_free(struct archive_members *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct archive_member *m = &l->m[i];
		free(m->name);
		free(m->uname);
		free(m->gname);
		free(m->symlink);
		free(m->hardlink);
		free(m->data);
	}
	free(l->m);
	l->m = NULL;
	l->n = 0;
}
