#include "bootstrap/diff2021.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sources/sha256.h"

#define LISTS_DIR_SYSA "after"    /* sysa's packages: /after/PKG (the initramfs, the sysa tree) */
#define LISTS_DIR_SYSC "usr/src"  /* sysc's packages: /usr/src/PKG on the disk */
#define LIST_NAME "checksums"

int diff2021_order(struct diff_pkgs *pkgs, const struct run_step *steps, size_t n, struct error *err)
{
	/* from the end, so each package sits at its last build */
	struct diff_pkgs rev;
	diff_pkgs_init(&rev);
	int rc = 0;
	for (size_t i = n; !rc && i-- > 0;) {
		const struct run_step *s = &steps[i];
		if (!s->package)
			continue;
		char *key;
		if (asprintf(&key, "%s/%s", s->stage, s->package) < 0)
			rc = error_fail(err, -ENOMEM, "out of memory");
		else
			rc = diff_pkgs_add(&rev, key, s->name, s->index, err);
		free(key);
	}
	for (size_t i = rev.n; !rc && i-- > 0;)
		rc = diff_pkgs_add(pkgs, rev.p[i].name, rev.p[i].step, rev.p[i].index, err);
	diff_pkgs_free(&rev);
	return rc;
}

/* ---- the lists ---- */

struct path_ref {
	char *path;
	size_t pkg;
};

struct paths {
	struct path_ref *v;
	size_t n, cap;
};

static int add_path(struct paths *l, const char *path, size_t len, size_t pkg)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct path_ref *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	if (!(l->v[l->n].path = strndup(path, len)))
		return -ENOMEM;
	l->v[l->n++].pkg = pkg;
	return 0;
}

static bool hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!s[i] || !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

/* Every "HASH  PATH" line of TEXT (LEN bytes) adds PATH for package PKG; other lines are not file lines. */
static int parse_list(const char *text, size_t len, size_t pkg, struct paths *out)
{
	const char *end = text + len;
	for (const char *p = text; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t raw = nl ? (size_t)(nl - p) : (size_t)(end - p), n = raw;
		if (n && p[n - 1] == '\r')
			n--;
		if (n > 66 && hex64(p) && p[64] == ' ' && (p[65] == ' ' || p[65] == '*') && !memchr(p, '\0', n) &&
		    add_path(out, p + 66, n - 66, pkg))
			return -ENOMEM;
		p += raw + 1;
	}
	return 0;
}

static int read_list(struct run_files *f, const char *path, size_t pkg, struct paths *out, struct error *err)
{
	char *text;
	size_t len;
	int rc = run_files_read(f, path, DIFF2021_LIST_MAX, &text, &len, err);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = parse_list(text, len, pkg, out) ? error_fail(err, -ENOMEM, "out of memory") : 0;
	free(text);
	return rc;
}

/* DIR/PKG/checksums in a run's files: one list, or a folder of lists. */
static int lists_in_files(struct run_files *f, const char *dir, const char *pkg, size_t idx, struct paths *out,
			  struct error *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "/%s/%s/%s", dir, pkg, LIST_NAME);
	int rc = run_files_is_dir(f, path, err);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (rc == 0)
		return read_list(f, path, idx, out, err);
	char **names;
	size_t n;
	rc = run_files_list(f, path, &names, &n, err);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	for (size_t i = 0; !rc && i < n; i++) {
		char sub[4096 + 256];
		snprintf(sub, sizeof(sub), "%s/%s", path, names[i]);
		rc = read_list(f, sub, idx, out, err);
	}
	run_files_free_names(names, n);
	return rc;
}

/* A member name without its leading "./" or "/". */
static const char *bare(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return name + strspn(name, "/");
}

bool diff2021_keep_list(void *ctx, const char *name)
{
	(void)ctx;
	const char *n = bare(name);
	if (strncmp(n, LISTS_DIR_SYSA "/", sizeof(LISTS_DIR_SYSA)))
		return false;
	const char *slash = strchr(n + sizeof(LISTS_DIR_SYSA), '/');
	return slash && !strncmp(slash + 1, LIST_NAME, sizeof(LIST_NAME) - 1) &&
	       (slash[sizeof(LIST_NAME)] == '\0' || slash[sizeof(LIST_NAME)] == '/');
}

/* after/PKG/checksums or after/PKG/checksums/NAME among the kept initramfs members. */
static int lists_in_cpio(const struct archive_members *cpio, const char *pkg, size_t idx, struct paths *out,
			 struct error *err)
{
	char want[4096];
	int wl = snprintf(want, sizeof(want), "%s/%s/%s", LISTS_DIR_SYSA, pkg, LIST_NAME);
	for (size_t i = 0; i < cpio->n; i++) {
		const struct archive_member *m = &cpio->m[i];
		const char *n = bare(m->name);
		if (!m->data || strncmp(n, want, (size_t)wl) || (n[wl] != '\0' && n[wl] != '/'))
			continue;
		if (parse_list(m->data, m->data_len, idx, out))
			return error_fail(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int lists_of(const struct diff2021_run *r, const char *unit, size_t idx, struct paths *out,
		    struct error *err)
{
	const char *slash = strchr(unit, '/');
	if (!slash)
		return 0;
	const char *pkg = slash + 1;
	size_t stage_len = (size_t)(slash - unit);
	if (stage_len == 4 && !strncmp(unit, "sysc", 4))
		return lists_in_files(r->sys, LISTS_DIR_SYSC, pkg, idx, out, err);
	if (stage_len == 4 && !strncmp(unit, "sysa", 4)) {
		if (r->sysa)
			return lists_in_files(r->sysa, LISTS_DIR_SYSA, pkg, idx, out, err);
		if (r->cpio)
			return lists_in_cpio(r->cpio, pkg, idx, out, err);
	}
	return 0;
}

/* ---- attribution and hashing ---- */

static int by_path_then_pkg(const void *x, const void *y)
{
	const struct path_ref *a = x, *b = y;
	int c = strcmp(a->path, b->path);
	return c ? c : (a->pkg > b->pkg) - (a->pkg < b->pkg);
}

static int hash_file(struct run_files *f, const char *path, bool *present, uint8_t hash[32], struct error *err)
{
	int fd;
	int rc = run_files_open(f, path, &fd, err);
	*present = false;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = sha256_fd(fd, hash);
	close(fd);
	if (rc)
		return error_fail(err, rc, "%s: %s: %s", run_files_where(f), path, strerror(-rc));
	*present = true;
	return 0;
}

static int hash_package(struct diff_pkg *p, const struct diff2021_pkg *files, int side, struct error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return error_fail(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < files->n; i++) {
		const struct diff2021_file *f = &files->f[i];
		char hex[SHA256_HEX_LEN + 1] = "-";
		if (f->present[side])
			sha256_to_hex(f->hash[side], hex);
		fprintf(m, "%s  %s\n", hex, f->path);
		p->present[side] |= f->present[side];
	}
	if (fclose(m) != 0) {
		free(text);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	int rc = sha256_buffer(text, len, p->hash[side]) ? error_fail(err, -EIO, "SHA-256 failed") : 0;
	free(text);
	return rc;
}

int diff2021_compare(const struct diff2021_run run[2], struct diff_pkgs *pkgs, struct diff2021 *out,
		     struct error *err)
{
	memset(out, 0, sizeof(*out));
	out->pkgs = calloc(pkgs->n ? pkgs->n : 1, sizeof(*out->pkgs));
	if (!out->pkgs)
		return error_fail(err, -ENOMEM, "out of memory");
	out->n = pkgs->n;
	struct paths all = { 0 };
	int rc = 0;
	for (size_t i = 0; !rc && i < pkgs->n; i++)
		for (int s = 0; !rc && s < 2; s++)
			rc = lists_of(&run[s], pkgs->p[i].name, i, &all, err);
	if (!rc && all.n)
		qsort(all.v, all.n, sizeof(*all.v), by_path_then_pkg);
	/* each path once, for the latest package that lists it (the last of its run of equal paths) */
	for (size_t k = 0; !rc && k < all.n; k++) {
		if (k + 1 < all.n && !strcmp(all.v[k].path, all.v[k + 1].path))
			continue;
		struct diff2021_pkg *p = &out->pkgs[all.v[k].pkg];
		struct diff2021_file *nf = realloc(p->f, (p->n + 1) * sizeof(*nf));
		if (!nf) {
			rc = error_fail(err, -ENOMEM, "out of memory");
			break;
		}
		p->f = nf;
		memset(&p->f[p->n], 0, sizeof(p->f[0]));
		p->f[p->n].path = all.v[k].path;
		all.v[k].path = NULL; /* now the package's */
		p->n++;
	}
	for (size_t k = 0; k < all.n; k++)
		free(all.v[k].path);
	free(all.v);
	for (size_t i = 0; !rc && i < out->n; i++) {
		struct diff2021_pkg *p = &out->pkgs[i];
		for (size_t k = 0; !rc && k < p->n; k++)
			for (int s = 0; !rc && s < 2; s++)
				rc = hash_file(run[s].sys, p->f[k].path, &p->f[k].present[s], p->f[k].hash[s], err);
		for (int s = 0; !rc && s < 2; s++)
			rc = hash_package(&pkgs->p[i], p, s, err);
	}
	if (rc)
		diff2021_free(out);
	return rc;
}

void diff2021_free(struct diff2021 *d)
{
	for (size_t i = 0; i < d->n; i++) {
		for (size_t k = 0; k < d->pkgs[i].n; k++)
			free(d->pkgs[i].f[k].path);
		free(d->pkgs[i].f);
	}
	free(d->pkgs);
	memset(d, 0, sizeof(*d));
}
