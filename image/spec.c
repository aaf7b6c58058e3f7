#include "image/spec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SPEC_MAX_FIELDS 8
#define SPEC_MAX_ID 0xfffffffful
#define SPEC_MAX_MAJOR 0xffful   /* Linux dev_t: 12-bit major, 20-bit minor */
#define SPEC_MAX_MINOR 0xffffful

struct spec_line {
	const char *name; /* the spec file, for messages */
	unsigned long number;
	char *field[SPEC_MAX_FIELDS];
	int nfields;
};

static int line_fail(struct error *err, const struct spec_line *l, const char *what, const char *value)
{
	return error_fail(err, -EINVAL, "%s:%lu: %s%s%s%s", l->name, l->number, what, value ? " '" : "",
			value ? value : "", value ? "'" : "");
}

static int parse_num(const struct spec_line *l, int i, int base, unsigned long max, uint32_t *out,
		     const char *what, struct error *err)
{
	const char *text = l->field[i];
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, base);
	if (!*text || *end || errno || v > max || text[0] == '-' || text[0] == '+')
		return line_fail(err, l, what, text);
	*out = (uint32_t)v;
	return 0;
}

/* MODE UID GID starting at field i */
static int parse_attrs(const struct spec_line *l, int i, struct fs_entry *e, struct error *err)
{
	uint32_t perm;
	int rc = parse_num(l, i, 8, 07777, &perm, "bad octal mode", err);
	if (!rc)
		rc = parse_num(l, i + 1, 10, SPEC_MAX_ID, &e->uid, "bad uid", err);
	if (!rc)
		rc = parse_num(l, i + 2, 10, SPEC_MAX_ID, &e->gid, "bad gid", err);
	e->mode = (e->mode & S_IFMT) | perm;
	return rc;
}

static int add_new(struct fs_tree *tree, const struct spec_line *l, struct fs_entry *e, struct error *err)
{
	if (fstree_find(tree, e->path) >= 0 || e->path[0] == '\0')
		return line_fail(err, l, "entry already exists:", e->path[0] ? e->path : "/");
	if (fstree_add(tree, e))
		return error_fail(err, -ENOMEM, "out of memory");
	e->path = e->target = NULL; /* owned by the tree now */
	fstree_sort(tree);
	return 0;
}

/* Set mode and owner of an existing entry (or the root for ""). Type must match when want_type != 0. */
static int set_existing(struct fs_tree *tree, const struct spec_line *l, const struct fs_entry *e,
			uint32_t want_type, struct error *err)
{
	if (e->path[0] == '\0') {
		tree->root_mode = S_IFDIR | (e->mode & 07777);
		tree->root_uid = e->uid;
		tree->root_gid = e->gid;
		return 0;
	}
	long i = fstree_find(tree, e->path);
	if (i < 0)
		return line_fail(err, l, "no such entry in the tree:", e->path);
	struct fs_entry *t = &tree->entries[i];
	if (want_type && (t->mode & S_IFMT) != want_type)
		return line_fail(err, l, "exists and is not a directory:", e->path);
	t->mode = (t->mode & S_IFMT) | (e->mode & 07777);
	t->uid = e->uid;
	t->gid = e->gid;
	return 0;
}

static int apply_line(struct fs_tree *tree, struct spec_line *l, struct error *err)
{
	static const struct { const char *kw; int nfields; } kinds[] = {
		{ "dir", 5 }, { "nod", 8 }, { "pipe", 5 }, { "sock", 5 }, { "slink", 6 }, { "attr", 5 },
	};
	const char *kw = l->field[0];
	size_t k;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(kw, kinds[k].kw))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return line_fail(err, l, "unknown entry type", kw);
	if (l->nfields != kinds[k].nfields)
		return error_fail(err, -EINVAL, "%s:%lu: '%s' takes %d fields, found %d", l->name, l->number, kw,
				kinds[k].nfields - 1, l->nfields - 1);
	struct fs_entry e;
	memset(&e, 0, sizeof(e));
	e.path = fstree_normalise(l->field[1]);
	if (!e.path)
		return errno == ENOMEM ? error_fail(err, -ENOMEM, "out of memory")
				       : line_fail(err, l, "bad path (empty component, '.' or '..')", l->field[1]);
	int rc;
	if (!strcmp(kw, "slink")) {
		e.mode = S_IFLNK;
		rc = parse_attrs(l, 3, &e, err);
		if (!rc && !(e.target = strdup(l->field[2])))
			rc = error_fail(err, -ENOMEM, "out of memory");
		if (!rc) {
			e.size = strlen(e.target);
			rc = add_new(tree, l, &e, err);
		}
	} else {
		rc = parse_attrs(l, 2, &e, err);
		if (rc)
			goto out;
		if (!strcmp(kw, "attr")) {
			rc = set_existing(tree, l, &e, 0, err);
		} else if (!strcmp(kw, "dir")) {
			e.mode |= S_IFDIR;
			if (e.path[0] == '\0' || fstree_find(tree, e.path) >= 0)
				rc = set_existing(tree, l, &e, S_IFDIR, err);
			else
				rc = add_new(tree, l, &e, err);
		} else if (!strcmp(kw, "pipe") || !strcmp(kw, "sock")) {
			e.mode |= kw[0] == 'p' ? S_IFIFO : S_IFSOCK;
			rc = add_new(tree, l, &e, err);
		} else { /* nod */
			const char *type = l->field[5];
			if (strcmp(type, "c") && strcmp(type, "b")) {
				rc = line_fail(err, l, "device type must be c or b, not", type);
				goto out;
			}
			e.mode |= type[0] == 'c' ? S_IFCHR : S_IFBLK;
			rc = parse_num(l, 6, 10, SPEC_MAX_MAJOR, &e.rdev_major, "bad major number", err);
			if (!rc)
				rc = parse_num(l, 7, 10, SPEC_MAX_MINOR, &e.rdev_minor, "bad minor number", err);
			if (!rc)
				rc = add_new(tree, l, &e, err);
		}
	}
out:
	free(e.path);
	free(e.target);
	return rc;
}

int spec_apply_stream(struct fs_tree *tree, FILE *in, const char *name, struct error *err)
{
	char *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	struct spec_line l;
	memset(&l, 0, sizeof(l));
	l.name = name;
	fstree_sort(tree);
	while (rc == 0 && getline(&buf, &cap, in) >= 0) {
		l.number++;
		if (strlen(buf) != strcspn(buf, "\n") + (strchr(buf, '\n') ? 1 : 0)) {
			rc = line_fail(err, &l, "NUL byte in line", NULL);
			break;
		}
		l.nfields = 0;
		int too_many = 0;
		for (char *save = NULL, *tok = strtok_r(buf, " \t\r\n", &save); tok;
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (tok[0] == '#' && l.nfields == 0)
				break;
			if (l.nfields == SPEC_MAX_FIELDS) {
				too_many = 1;
				break;
			}
			l.field[l.nfields++] = tok;
		}
		if (too_many)
			rc = line_fail(err, &l, "too many fields", NULL);
		else if (l.nfields > 0)
			rc = apply_line(tree, &l, err);
	}
	if (rc == 0 && ferror(in))
		rc = error_fail(err, -EIO, "cannot read spec file %s", name);
	free(buf);
	return rc;
}

int spec_apply_file(struct fs_tree *tree, const char *path, struct error *err)
{
	FILE *in = fopen(path, "re");
	if (!in)
		return error_fail(err, -errno, "cannot open spec file %s: %s", path, strerror(errno));
	int rc = spec_apply_stream(tree, in, path, err);
	fclose(in);
	return rc;
}

int spec_build_tree(struct fs_tree *tree, const char *dir, const char *spec, struct error *err)
{
	int rc = fstree_scan(tree, dir, err);
	if (!rc && spec)
		rc = spec_apply_file(tree, spec, err);
	if (!rc)
		rc = fstree_finish(tree, err);
	return rc;
}
