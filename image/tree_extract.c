#include "image/tree_extract.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/escape.h"
#include "image/tree_stream.h"

#define COPY_BUF_SIZE (64 * 1024) /* a pipe's worth: larger chunks gain nothing through the stream */
#define STAGE_NODE    "n"           /* the copied node inside the staging directory */
#define STAGE_SUFFIX  ".tmp-"
#define STAGE_RANDOM  8
#define STAGE_TRIES   16
#define SETID_BITS    (S_ISUID | S_ISGID)
#define DIR_FLAGS     (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* One directory being filled: its descriptor, the name it has in its parent, its metadata for the end. */
struct level {
	int fd;
	char *name;
	char *display;            /* path relative to DEST, escaped, for messages */
	struct tree_record meta;
};

/* A file this copy created that has more names to come: where it is (components from the staging
 * directory) and what it is, so a link can be checked to reach exactly it. */
struct made_file {
	uint64_t id;
	char **comp;
	unsigned ncomp;
	dev_t dev;
	ino_t ino;
};

struct extractor {
	const char *dest;
	const struct tree_extract_opts *opts;
	struct tree_extract_stats *stats;
	struct error *err;
	int stream;
	int stage_fd;                 /* the staging directory */
	struct level stack[TREE_STREAM_MAX_DEPTH + 1];
	unsigned depth;               /* levels open on the stack */
	struct made_file *made;       /* sorted by id */
	size_t nmade, capmade;
	char *buf;
	int top_fd;                   /* the copied node, when it is a directory: finished after the rename */
	struct tree_record top_meta;
};

static int host_fail(struct extractor *x, const char *what, const char *display)
{
	int e = errno;
	return error_fail(x->err, -e, "cannot %s %s: %s", what, display, strerror(e));
}

/* ---- names ---- */

/* A name the stream may use for an entry: one component, as the kernel would take it. */
static const char *bad_name(const struct tree_record *r)
{
	if (r->name_len == 0)
		return "an empty name";
	if (memchr(r->name, '\0', r->name_len))
		return "a name holding a NUL byte";
	if (memchr(r->name, '/', r->name_len))
		return "a name holding '/'";
	if (!strcmp(r->name, ".") || !strcmp(r->name, ".."))
		return "a name that is '.' or '..'";
	return NULL;
}

/* The path of entry NAME (LEN bytes) in the current directory as the user will find it (DEST/...), with
 * the image's part escaped: for messages only, never for a system call. */
static char *display_of(const struct extractor *x, const char *name, size_t len)
{
	if (x->depth == 0)
		return strdup(x->dest);
	const char *dir = x->stack[x->depth - 1].display;
	size_t dlen = strlen(dir), cap = dlen + 1 + ESCAPE_ROOM(len);
	char *s = malloc(cap);
	if (!s)
		return NULL;
	memcpy(s, dir, dlen);
	s[dlen] = '/';
	escape_name(s + dlen + 1, cap - dlen - 1, name, len);
	return s;
}

static void refuse(struct extractor *x, const struct tree_record *r, const char *why)
{
	x->stats->refused++;
	char *shown = display_of(x, r->name, r->name_len);
	if (x->opts->refused)
		x->opts->refused(x->opts->ctx, shown ? shown : "(out of memory)", why);
	free(shown);
}

/* ---- the staging directory ---- */

static int make_stage(int parent_fd, const char *base, char **stage_name, struct error *err)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t blen = strlen(base);
	char *name = malloc(blen + sizeof(STAGE_SUFFIX) + STAGE_RANDOM);
	if (!name)
		return error_fail(err, -ENOMEM, "out of memory");
	for (int tries = 0; tries < STAGE_TRIES; tries++) {
		unsigned char rnd[STAGE_RANDOM];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			break;
		memcpy(name, base, blen);
		memcpy(name + blen, STAGE_SUFFIX, sizeof(STAGE_SUFFIX) - 1);
		char *p = name + blen + sizeof(STAGE_SUFFIX) - 1;
		for (int i = 0; i < STAGE_RANDOM; i++)
			p[i] = letters[rnd[i] % (sizeof(letters) - 1)];
		p[STAGE_RANDOM] = '\0';
		if (mkdirat(parent_fd, name, 0700) == 0) {
			*stage_name = name;
			return 0;
		}
		if (errno != EEXIST) {
			int e = errno;
			free(name);
			return error_fail(err, -e, "cannot create a directory beside %s: %s", base, strerror(e));
		}
	}
	free(name);
	return error_fail(err, -EEXIST, "cannot create a directory beside %s", base);
}

/* Remove NAME under DIR_FD and everything below it, without following any symlink. */
static void remove_tree_at(int dir_fd, const char *name, unsigned depth)
{
	if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
		return;
	int fd = openat(dir_fd, name, DIR_FLAGS);
	if (fd < 0 && errno == EACCES && fchmodat(dir_fd, name, 0700, 0) == 0)
		fd = openat(dir_fd, name, DIR_FLAGS);
	if (fd < 0)
		return;
	fchmod(fd, 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while (depth < TREE_STREAM_MAX_DEPTH + 2 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			remove_tree_at(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	unlinkat(dir_fd, name, AT_REMOVEDIR);
}

/* ---- metadata ---- */

static mode_t final_mode(const struct extractor *x, const struct tree_record *r)
{
	mode_t m = r->mode & 07777;
	return x->opts->keep_setid ? m : (m & ~(mode_t)SETID_BITS);
}

/* Owner first (chown clears set-id bits), then mode, then times, all through the node's descriptor. */
static int finish_fd(struct extractor *x, int fd, const struct tree_record *r, const char *display)
{
	if (x->opts->keep_owner && fchown(fd, r->uid, r->gid) != 0)
		return host_fail(x, "set the owner of", display);
	if (fchmod(fd, final_mode(x, r)) != 0)
		return host_fail(x, "set the mode of", display);
	struct timespec ts[2] = { { .tv_sec = r->mtime }, { .tv_sec = r->mtime } };
	if (futimens(fd, ts) != 0)
		return host_fail(x, "set the times of", display);
	return 0;
}

/* ---- payloads ---- */

static int skip_payload(struct extractor *x, uint64_t size)
{
	while (size) {
		size_t n = size < COPY_BUF_SIZE ? (size_t)size : COPY_BUF_SIZE;
		int rc = tree_stream_get_payload(x->stream, x->buf, n, x->err);
		if (rc)
			return rc;
		size -= n;
	}
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- hard links ---- */

static struct made_file *find_made(struct extractor *x, uint64_t id, size_t *pos)
{
	size_t lo = 0, hi = x->nmade;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->made[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return lo < x->nmade && x->made[lo].id == id ? &x->made[lo] : NULL;
}

static void free_comp(char **comp, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(comp[i]);
	free(comp);
}

/* Remember where the file with ID was made: the stack's names, then NAME. */
static int remember(struct extractor *x, uint64_t id, const char *name, const struct stat *st)
{
	size_t pos;
	if (find_made(x, id, &pos))
		return 0; /* a second FILE with the same id: the first one stays the link target */
	if (x->nmade == x->capmade) {
		size_t cap = x->capmade ? x->capmade * 2 : 16;
		struct made_file *grown = realloc(x->made, cap * sizeof(*grown));
		if (!grown)
			return error_fail(x->err, -ENOMEM, "out of memory");
		x->made = grown;
		x->capmade = cap;
	}
	unsigned n = x->depth + 1;
	char **comp = calloc(n, sizeof(*comp));
	if (!comp)
		return error_fail(x->err, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		comp[i] = strdup(i < x->depth ? x->stack[i].name : name);
		if (!comp[i]) {
			free_comp(comp, n);
			return error_fail(x->err, -ENOMEM, "out of memory");
		}
	}
	memmove(&x->made[pos + 1], &x->made[pos], (x->nmade - pos) * sizeof(*x->made));
	x->made[pos] = (struct made_file){ .id = id, .comp = comp, .ncomp = n, .dev = st->st_dev, .ino = st->st_ino };
	x->nmade++;
	return 0;
}

/* Link NAME in the current directory to a file made earlier, reaching it component by component from the
 * staging directory without following symlinks, and check the new name is that very file. */
static int link_made(struct extractor *x, const struct made_file *m, const char *name, const char *display)
{
	int dir = x->stage_fd, rc = 0;
	for (unsigned i = 0; i + 1 < m->ncomp; i++) {
		int next = openat(dir, m->comp[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir != x->stage_fd)
			close(dir);
		if (next < 0)
			return host_fail(x, "reach the first name of", display);
		dir = next;
	}
	int cur = x->stack[x->depth - 1].fd;
	if (linkat(dir, m->comp[m->ncomp - 1], cur, name, 0) != 0) {
		rc = host_fail(x, "create hard link", display);
	} else {
		struct stat st;
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			rc = host_fail(x, "check hard link", display);
		else if (st.st_dev != m->dev || st.st_ino != m->ino)
			rc = error_fail(x->err, -EIO, "hard link %s does not reach the file this copy made", display);
	}
	if (dir != x->stage_fd)
		close(dir);
	return rc;
}

/* ---- nodes ---- */

/* The directory new nodes go into, and the name the node gets there. */
static void place(const struct extractor *x, const struct tree_record *r, int *dir, const char **name)
{
	*dir = x->depth ? x->stack[x->depth - 1].fd : x->stage_fd;
	*name = x->depth ? r->name : STAGE_NODE;
}

static int do_dir(struct extractor *x, const struct tree_record *r, const char *display)
{
	int dir;
	const char *name;
	place(x, r, &dir, &name);
	if (x->depth >= TREE_STREAM_MAX_DEPTH)
		return error_fail(x->err, -EINVAL, "directories nested deeper than %d levels at %s",
				  TREE_STREAM_MAX_DEPTH, display);
	if (mkdirat(dir, name, 0700) != 0)
		return host_fail(x, "create directory", display);
	int fd = openat(dir, name, DIR_FLAGS);
	if (fd < 0)
		return host_fail(x, "open directory", display);
	struct level *l = &x->stack[x->depth];
	l->fd = fd;
	l->name = strdup(name);
	l->display = strdup(display);
	l->meta = *r;
	x->depth++;
	if (!l->name || !l->display)
		return error_fail(x->err, -ENOMEM, "out of memory");
	return 0;
}

static int do_dir_end(struct extractor *x)
{
	if (x->depth == 0)
		return error_fail(x->err, -EPROTO, "the image reader closed a directory it never opened");
	struct level *l = &x->stack[--x->depth];
	int rc = 0;
	if (x->depth == 0) {
		x->top_fd = l->fd; /* finished after the rename: a read-only top directory cannot be moved */
		x->top_meta = l->meta;
	} else {
		rc = finish_fd(x, l->fd, &l->meta, l->display);
		close(l->fd);
	}
	free(l->name);
	free(l->display);
	l->name = l->display = NULL;
	if (!rc)
		x->stats->dirs++;
	return rc;
}

static int do_file(struct extractor *x, const struct tree_record *r, const char *display)
{
	int dir;
	const char *name;
	place(x, r, &dir, &name);
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return host_fail(x, "create", display);
	int rc = 0;
	uint64_t left = r->size;
	while (rc == 0 && left) {
		size_t n = left < COPY_BUF_SIZE ? (size_t)left : COPY_BUF_SIZE;
		rc = tree_stream_get_payload(x->stream, x->buf, n, x->err);
		if (!rc && write_all(fd, x->buf, n) != 0)
			rc = host_fail(x, "write", display);
		left -= n;
	}
	if (!rc)
		rc = finish_fd(x, fd, r, display);
	struct stat st;
	if (!rc && r->nlink > 1) {
		if (fstat(fd, &st) != 0)
			rc = host_fail(x, "check", display);
		else
			rc = remember(x, r->id, name, &st);
	}
	if (close(fd) != 0 && !rc)
		rc = host_fail(x, "write", display);
	if (!rc)
		x->stats->files++;
	return rc;
}

static int do_symlink(struct extractor *x, const struct tree_record *r, const char *display)
{
	if (r->size == 0 || r->size > TREE_STREAM_TARGET_MAX) {
		refuse(x, r, r->size ? "a symlink target longer than 4095 bytes" : "an empty symlink target");
		return skip_payload(x, r->size);
	}
	int rc = tree_stream_get_payload(x->stream, x->buf, (size_t)r->size, x->err);
	if (rc)
		return rc;
	x->buf[r->size] = '\0';
	if (memchr(x->buf, '\0', (size_t)r->size)) {
		refuse(x, r, "a symlink target holding a NUL byte");
		return 0;
	}
	int dir;
	const char *name;
	place(x, r, &dir, &name);
	/* only the link itself is created and touched: its target is data, never looked up */
	if (symlinkat(x->buf, dir, name) != 0)
		return host_fail(x, "create symlink", display);
	if (x->opts->keep_owner && fchownat(dir, name, r->uid, r->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return host_fail(x, "set the owner of", display);
	struct timespec ts[2] = { { .tv_sec = r->mtime }, { .tv_sec = r->mtime } };
	if (utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return host_fail(x, "set the times of", display);
	x->stats->symlinks++;
	return 0;
}

static const char *special_kind(uint32_t mode, char *buf, size_t len, const struct tree_record *r)
{
	switch (mode & S_IFMT) {
	case S_IFCHR:
		snprintf(buf, len, "a character device (%u,%u): device nodes are not copied", r->rdev_major, r->rdev_minor);
		return buf;
	case S_IFBLK:
		snprintf(buf, len, "a block device (%u,%u): device nodes are not copied", r->rdev_major, r->rdev_minor);
		return buf;
	case S_IFIFO: return "a FIFO: named pipes are not copied";
	case S_IFSOCK: return "a socket: sockets are not copied";
	default: return "of an unknown file type";
	}
}

/* Entries with a name that is refused, or whose name already exists (a damaged directory listing a name
 * twice), are skipped together with everything below them. */
static int skip_node(struct extractor *x, const struct tree_record *first)
{
	int rc = first->kind == TREE_FILE || first->kind == TREE_SYMLINK ? skip_payload(x, first->size) : 0;
	unsigned open_dirs = first->kind == TREE_DIR;
	while (rc == 0 && open_dirs) {
		struct tree_record r;
		if ((rc = tree_stream_get(x->stream, &r, x->err)))
			break;
		if (r.kind == TREE_DIR)
			open_dirs++;
		else if (r.kind == TREE_DIR_END)
			open_dirs--;
		else if (r.kind == TREE_END)
			rc = error_fail(x->err, -EPROTO, "the image reader ended inside a directory");
		else if (r.kind == TREE_FILE || r.kind == TREE_SYMLINK)
			rc = skip_payload(x, r.size);
	}
	return rc;
}

/* One record that creates something (everything except DIR_END and END). */
static int do_node(struct extractor *x, const struct tree_record *r)
{
	bool top = x->depth == 0;
	const char *bad = top ? (r->name_len ? "a name for the node asked for" : NULL) : bad_name(r);
	if (bad && top)
		return error_fail(x->err, -EPROTO, "the image reader sent %s", bad);
	if (bad) {
		refuse(x, r, bad);
		return skip_node(x, r);
	}
	char *display = display_of(x, r->name, r->name_len);
	if (!display)
		return error_fail(x->err, -ENOMEM, "out of memory");
	int rc = 0, dir;
	const char *name;
	place(x, r, &dir, &name);
	struct stat st;
	if (!top && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		refuse(x, r, "a second entry with the same name (damaged directory)");
		free(display);
		return skip_node(x, r);
	}
	switch (r->kind) {
	case TREE_DIR: rc = do_dir(x, r, display); break;
	case TREE_FILE: rc = do_file(x, r, display); break;
	case TREE_SYMLINK: rc = do_symlink(x, r, display); break;
	case TREE_LINK: {
		size_t pos;
		const struct made_file *m = find_made(x, r->id, &pos);
		if (top)
			rc = error_fail(x->err, -EPROTO, "the image reader sent a hard link as the node asked for");
		else if (!m)
			refuse(x, r, "a hard link to a file this copy did not create");
		else if (!(rc = link_made(x, m, name, display)))
			x->stats->hardlinks++;
		break;
	}
	case TREE_SPECIAL: {
		char why[128];
		const char *kind = special_kind(r->mode, why, sizeof(why), r);
		if (top)
			rc = error_fail(x->err, -EINVAL, "%s is %s", x->opts->source ? x->opts->source : "the node",
					kind);
		else
			refuse(x, r, kind);
		break;
	}
	default:
		rc = error_fail(x->err, -EPROTO, "the image reader sent an unexpected record");
		break;
	}
	free(display);
	return rc;
}

/* Split DEST into its directory (opened) and its last component. */
static int open_parent(const char *dest, int *parent_fd, char **base, struct error *err)
{
	size_t len = strlen(dest);
	while (len > 1 && dest[len - 1] == '/')
		len--;
	const char *slash = memrchr(dest, '/', len);
	const char *b = slash ? slash + 1 : dest;
	size_t blen = len - (size_t)(b - dest);
	if (blen == 0 || (blen == 1 && b[0] == '.') || (blen == 2 && b[0] == '.' && b[1] == '.'))
		return error_fail(err, -EINVAL, "%s: the destination must end in a new name", dest);
	char *dir = slash ? strndup(dest, slash == dest ? 1 : (size_t)(slash - dest)) : strdup(".");
	*base = strndup(b, blen);
	if (!dir || !*base) {
		free(dir);
		free(*base);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	*parent_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = errno;
	free(dir);
	if (*parent_fd < 0) {
		free(*base);
		return error_fail(err, -e, "cannot open the directory of %s: %s", dest, strerror(e));
	}
	return 0;
}

static int run(struct extractor *x)
{
	bool started = false;
	for (;;) {
		struct tree_record r;
		int rc = tree_stream_get(x->stream, &r, x->err);
		if (rc)
			return rc;
		if (r.kind == TREE_END) {
			if (x->depth || !started)
				return error_fail(x->err, -EPROTO, "the image reader ended too early");
			return 0;
		}
		if (started && x->depth == 0)
			return error_fail(x->err, -EPROTO, "the image reader sent more than one tree");
		started = true;
		rc = r.kind == TREE_DIR_END ? do_dir_end(x) : do_node(x, &r);
		if (rc)
			return rc;
	}
}

int tree_extract(int stream_fd, const char *dest, const struct tree_extract_opts *opts,
		 struct tree_extract_stats *stats, struct error *err)
{
	memset(stats, 0, sizeof(*stats));
	struct stat st;
	if (lstat(dest, &st) == 0)
		return error_fail(err, -EEXIST, "%s already exists; lbvm disk get does not overwrite", dest);
	int parent_fd = -1;
	char *base = NULL, *stage_name = NULL;
	int rc = open_parent(dest, &parent_fd, &base, err);
	if (rc)
		return rc;
	struct extractor x = { .dest = dest, .opts = opts, .stats = stats, .err = err, .stream = stream_fd, .stage_fd = -1,
			       .top_fd = -1 };
	x.buf = malloc(COPY_BUF_SIZE + 1);
	if (!x.buf)
		rc = error_fail(err, -ENOMEM, "out of memory");
	if (!rc)
		rc = make_stage(parent_fd, base, &stage_name, err);
	if (!rc && (x.stage_fd = openat(parent_fd, stage_name, DIR_FLAGS)) < 0)
		rc = error_fail(err, -errno, "cannot open %s%s: %s", base, STAGE_SUFFIX, strerror(errno));
	if (!rc)
		rc = run(&x);
	if (!rc && renameat2(x.stage_fd, STAGE_NODE, parent_fd, base, RENAME_NOREPLACE) != 0)
		rc = error_fail(err, -errno, "cannot rename into %s: %s", dest, strerror(errno));
	if (!rc && x.top_fd >= 0)
		rc = finish_fd(&x, x.top_fd, &x.top_meta, dest); /* a failure here leaves DEST, complete but for this */
	while (x.depth) {
		struct level *l = &x.stack[--x.depth];
		close(l->fd);
		free(l->name);
		free(l->display);
	}
	if (x.top_fd >= 0)
		close(x.top_fd);
	if (x.stage_fd >= 0)
		close(x.stage_fd);
	if (stage_name)
		remove_tree_at(parent_fd, stage_name, 0);
	for (size_t i = 0; i < x.nmade; i++)
		free_comp(x.made[i].comp, x.made[i].ncomp);
	free(x.made);
	free(x.buf);
	free(stage_name);
	free(base);
	close(parent_fd);
	return rc;
}
