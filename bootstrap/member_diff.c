#include "bootstrap/member_diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/printable.h"
#include "sources/sha256.h"

/* Members sorted by name, equal names in archive order (glibc's qsort_r passes the list). */
static int by_name(const void *x, const void *y, void *ctx)
{
	const struct archive_members *l = ctx;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = strcmp(l->m[i].name, l->m[j].name);
	return c ? c : (i > j) - (i < j);
}

static int sort_members(const struct archive_members *l, size_t **out)
{
	*out = malloc((l->n ? l->n : 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		(*out)[i] = i;
	qsort_r(*out, l->n, sizeof(**out), by_name, (void *)l);
	return 0;
}

static unsigned compare(const struct archive_member *a, const struct archive_member *b)
{
	unsigned f = 0;
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
		f |= MEMBER_TYPE;
	if (memcmp(a->sha256, b->sha256, sizeof(a->sha256)))
		f |= MEMBER_CONTENT;
	if (a->size != b->size)
		f |= MEMBER_SIZE;
	if ((a->mode & 07777) != (b->mode & 07777))
		f |= MEMBER_MODE;
	if (a->uid != b->uid || a->gid != b->gid || strcmp(a->uname, b->uname) || strcmp(a->gname, b->gname))
		f |= MEMBER_OWNER;
	if (a->mtime != b->mtime || a->mtime_nsec != b->mtime_nsec)
		f |= MEMBER_MTIME;
	if (strcmp(a->symlink ? a->symlink : "", b->symlink ? b->symlink : "") ||
	    strcmp(a->hardlink ? a->hardlink : "", b->hardlink ? b->hardlink : ""))
		f |= MEMBER_LINK;
	return f;
}

static int push(struct member_diff *d, size_t *cap, const struct archive_member *a, const struct archive_member *b,
		unsigned fields)
{
	if (d->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct member_delta *nd = realloc(d->d, ncap * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		d->d = nd;
		*cap = ncap;
	}
	d->d[d->n++] = (struct member_delta){ a, b, fields };
	return 0;
}

int member_diff(const struct archive_members *a, const struct archive_members *b, struct member_diff *out,
		struct error *err)
{
	memset(out, 0, sizeof(*out));
	size_t *ia = NULL, *ib = NULL, cap = 0;
	int rc = sort_members(a, &ia);
	if (!rc)
		rc = sort_members(b, &ib);
	size_t i = 0, j = 0;
	bool one_sided = false;
	while (!rc && (i < a->n || j < b->n)) {
		const struct archive_member *ma = i < a->n ? &a->m[ia[i]] : NULL;
		const struct archive_member *mb = j < b->n ? &b->m[ib[j]] : NULL;
		int c = !ma ? 1 : !mb ? -1 : strcmp(ma->name, mb->name);
		if (c < 0) {
			rc = push(out, &cap, ma, NULL, 0);
			i++;
			one_sided = true;
		} else if (c > 0) {
			rc = push(out, &cap, NULL, mb, 0);
			j++;
			one_sided = true;
		} else {
			unsigned f = compare(ma, mb);
			if (f)
				rc = push(out, &cap, ma, mb, f);
			else
				out->same++;
			i++;
			j++;
		}
	}
	free(ia);
	free(ib);
	if (rc) {
		member_diff_free(out);
		return error_fail(err, rc, "out of memory");
	}
	for (size_t k = 0; !one_sided && k < a->n && k < b->n && !out->order_differs; k++)
		out->order_differs = strcmp(a->m[k].name, b->m[k].name) != 0;
	return 0;
}

void member_diff_free(struct member_diff *d)
{
	free(d->d);
	memset(d, 0, sizeof(*d));
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	default: return "unknown type";
	}
}

static const char *link_of(const struct archive_member *m)
{
	return m->symlink ? m->symlink : m->hardlink ? m->hardlink : "(none)";
}

/* "0:0", or "0:0 (root:root)" when the header names them */
static void print_owner(FILE *f, const struct archive_member *m)
{
	char u[64], g[64];
	fprintf(f, "%" PRId64 ":%" PRId64, m->uid, m->gid);
	if (m->uname[0] || m->gname[0])
		fprintf(f, " (%s:%s)", printable(u, sizeof(u), m->uname), printable(g, sizeof(g), m->gname));
}

void member_delta_print(FILE *f, const struct member_delta *d)
{
	char name[1024], la[1024], lb[1024];
	if (!d->b) {
		fprintf(f, "%s: only in A (%s)", printable(name, sizeof(name), d->a->name), type_name(d->a->mode));
		return;
	}
	if (!d->a) {
		fprintf(f, "%s: only in B (%s)", printable(name, sizeof(name), d->b->name), type_name(d->b->mode));
		return;
	}
	const struct archive_member *a = d->a, *b = d->b;
	fprintf(f, "%s:", printable(name, sizeof(name), a->name));
	const char *sep = " ";
	if (d->fields & MEMBER_TYPE) {
		fprintf(f, "%stype %s vs %s", sep, type_name(a->mode), type_name(b->mode));
		sep = "; ";
	}
	if (d->fields & MEMBER_CONTENT) {
		char ha[SHA256_HEX_LEN + 1], hb[SHA256_HEX_LEN + 1];
		sha256_to_hex(a->sha256, ha);
		sha256_to_hex(b->sha256, hb);
		fprintf(f, "%scontent sha256 %s vs %s", sep, ha, hb);
		sep = "; ";
	}
	if (d->fields & MEMBER_SIZE) {
		fprintf(f, "%ssize %" PRId64 " vs %" PRId64, sep, a->size, b->size);
		sep = "; ";
	}
	if (d->fields & MEMBER_MODE) {
		fprintf(f, "%smode %04o vs %04o", sep, (unsigned)(a->mode & 07777), (unsigned)(b->mode & 07777));
		sep = "; ";
	}
	if (d->fields & MEMBER_OWNER) {
		fprintf(f, "%sowner ", sep);
		print_owner(f, a);
		fputs(" vs ", f);
		print_owner(f, b);
		sep = "; ";
	}
	if (d->fields & MEMBER_MTIME) {
		fprintf(f, "%smtime %" PRId64, sep, a->mtime);
		if (a->mtime_nsec || b->mtime_nsec)
			fprintf(f, ".%09ld", a->mtime_nsec);
		fprintf(f, " vs %" PRId64, b->mtime);
		if (a->mtime_nsec || b->mtime_nsec)
			fprintf(f, ".%09ld", b->mtime_nsec);
		sep = "; ";
	}
	if (d->fields & MEMBER_LINK)
		fprintf(f, "%slink %s vs %s", sep, printable(la, sizeof(la), link_of(a)),
			printable(lb, sizeof(lb), link_of(b)));
}
