#include "image/extfs_read.h"

#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/mbr.h"
#include "image/tree_stream.h"

#define COPY_BUF_SIZE (64 * 1024)
#define EXT_MAGIC_OFFSET (1024 + 56) /* superblock at 1024, s_magic at +56 */
#define EXT_MAGIC 0xef53
#define SYMLINK_MAX 65536            /* Linux caps targets at one page; more means a damaged inode */

struct extfs {
	ext2_filsys fs;
	uint64_t offset;
	char *image;
};

static int ext_fail(struct error *err, errcode_t e, const char *what, const char *name)
{
	if (e == EXT2_ET_FILE_NOT_FOUND)
		return error_fail(err, -ENOENT, "%s: no such file or directory in the image", name);
	if (e == EXT2_ET_NO_DIRECTORY)
		return error_fail(err, -ENOTDIR, "%s: not a directory in the image", name);
	if (e > 0 && e < 4096)
		return error_fail(err, -(int)e, "%s %s: %s", what, name, strerror((int)e));
	/* anything else libext2fs reports here means the image is damaged or not what it claims */
	return error_fail(err, -EINVAL, "%s %s: %s", what, name, error_message(e));
}

/* ---- opening ---- */

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);
	return n == (ssize_t)len ? 0 : -1;
}

/* Where the filesystem starts: offset 0 if the ext magic is there, else from the msdos table. */
static int find_offset(int fd, const char *image, int part, uint64_t *offset, struct error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return error_fail(err, -EINVAL, "%s is not a regular file", image);
	uint8_t sector[MBR_SECTOR_SIZE], magic[2];
	int has_sector = read_at(fd, sector, sizeof(sector), 0) == 0;
	int raw_fs = read_at(fd, magic, sizeof(magic), EXT_MAGIC_OFFSET) == 0 &&
		     (magic[0] | magic[1] << 8) == EXT_MAGIC;
	if (part == 0 && raw_fs) {
		*offset = 0;
		return 0;
	}
	struct mbr_part parts[MBR_MAX_PARTS];
	if (!has_sector || !mbr_parse(sector, parts))
		return error_fail(err, -EINVAL, "%s holds neither an ext filesystem nor an msdos partition table", image);
	int pick = -1;
	if (part > 0) {
		if (part > MBR_MAX_PARTS || parts[part - 1].type == 0)
			return error_fail(err, -EINVAL, "%s has no partition %d", image, part);
		pick = part - 1;
	} else {
		for (int i = 0; i < MBR_MAX_PARTS && pick < 0; i++)
			if (parts[i].type == MBR_TYPE_LINUX)
				pick = i;
		for (int i = 0; i < MBR_MAX_PARTS && pick < 0; i++)
			if (parts[i].type)
				pick = i;
	}
	*offset = parts[pick].start_lba * MBR_SECTOR_SIZE;
	if (*offset >= (uint64_t)st.st_size)
		return error_fail(err, -EINVAL, "%s: partition %d starts past the end of the image", image, pick + 1);
	return 0;
}

int extfs_open_fd(struct extfs **out, int fd, const char *image, int part, struct error *err)
{
	*out = NULL;
	initialize_ext2_error_table(); /* libext2fs's messages, not "Unknown code ext2 152" */
	uint64_t offset = 0;
	int rc = find_offset(fd, image, part, &offset, err);
	if (rc) {
		close(fd);
		return rc;
	}
	struct extfs *d = calloc(1, sizeof(*d));
	if (!d || !(d->image = strdup(image))) {
		free(d);
		close(fd);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	d->offset = offset;
	/* unixfd_io_manager reads through a descriptor (its "name" is the number), so nothing here opens a
	 * path: this runs inside the image reader's sandbox. It gets a duplicate because it closes its
	 * descriptor itself, with the filesystem or on a failure after taking it. */
	char fd_name[16], io_opts[64];
	int lib_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	close(fd);
	if (lib_fd < 0) {
		free(d->image);
		free(d);
		return error_fail(err, -errno, "cannot read %s: %s", image, strerror(errno));
	}
	snprintf(fd_name, sizeof(fd_name), "%d", lib_fd);
	snprintf(io_opts, sizeof(io_opts), "offset=%llu", (unsigned long long)offset);
	errcode_t e = ext2fs_open2(fd_name, io_opts, EXT2_FLAG_64BITS, 0, 0, unixfd_io_manager, &d->fs);
	if (e) {
		d->fs = NULL;
		extfs_close(d);
		if (e == EXT2_ET_BAD_MAGIC || e == EXT2_ET_SHORT_READ || e == EXT2_ET_CORRUPT_SUPERBLOCK)
			return error_fail(err, -EINVAL, "%s: no ext2/3/4 filesystem at offset %llu", image,
					(unsigned long long)offset);
		return ext_fail(err, e, "cannot open the filesystem in", image);
	}
	*out = d;
	return 0;
}

int extfs_open(struct extfs **out, const char *image, int part, struct error *err)
{
	*out = NULL;
	int fd = open(image, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return error_fail(err, -errno, "cannot open %s: %s", image, strerror(errno));
	return extfs_open_fd(out, fd, image, part, err);
}

void extfs_close(struct extfs *d)
{
	if (!d)
		return;
	if (d->fs)
		ext2fs_close_free(&d->fs);
	free(d->image);
	free(d);
}

uint64_t extfs_fs_offset(const struct extfs *d)
{
	return d->offset;
}

bool extfs_needs_recovery(const struct extfs *d)
{
	return ext2fs_has_feature_journal_needs_recovery(d->fs->super) != 0;
}

/* ---- lookups ---- */

static int stat_ino(struct extfs *d, ext2_ino_t ino, struct extfs_stat *st, const char *name,
		    struct error *err)
{
	struct ext2_inode in;
	errcode_t e = ext2fs_read_inode(d->fs, ino, &in);
	if (e)
		return ext_fail(err, e, "cannot read inode of", name);
	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->mode = in.i_mode;
	st->uid = inode_uid(in);
	st->gid = inode_gid(in);
	st->nlink = in.i_links_count;
	st->size = EXT2_I_SIZE(&in);
	st->mtime = in.i_mtime;
	if (LINUX_S_ISCHR(in.i_mode) || LINUX_S_ISBLK(in.i_mode)) {
		if (in.i_block[0]) {
			st->rdev_major = (in.i_block[0] >> 8) & 0xff;
			st->rdev_minor = in.i_block[0] & 0xff;
		} else {
			st->rdev_major = (in.i_block[1] >> 8) & 0xfff;
			st->rdev_minor = (in.i_block[1] & 0xff) | ((in.i_block[1] >> 12) & 0xfff00);
		}
	}
	return 0;
}

static int lookup(struct extfs *d, const char *path, ext2_ino_t *ino, struct error *err)
{
	while (*path == '/')
		path++;
	if (!*path) {
		*ino = EXT2_ROOT_INO;
		return 0;
	}
	errcode_t e = ext2fs_namei(d->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, ino);
	return e ? ext_fail(err, e, "cannot look up", path) : 0;
}

int extfs_stat(struct extfs *d, const char *path, struct extfs_stat *st, struct error *err)
{
	ext2_ino_t ino;
	int rc = lookup(d, path, &ino, err);
	return rc ? rc : stat_ino(d, ino, st, path, err);
}

/* ---- directories ---- */

struct dir_entry {
	char *name;
	ext2_ino_t ino;
};

struct dir_list {
	struct dir_entry *e;
	size_t n, cap;
	int failed;
};

static int collect(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int blocksize, char *buf,
		   void *priv)
{
	(void)dir;
	(void)entry;
	(void)offset;
	(void)blocksize;
	(void)buf;
	struct dir_list *l = priv;
	size_t len = ext2fs_dirent_name_len(de);
	if ((len == 1 && de->name[0] == '.') || (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct dir_entry *grown = realloc(l->e, cap * sizeof(*grown));
		if (!grown) {
			l->failed = 1;
			return DIRENT_ABORT;
		}
		l->e = grown;
		l->cap = cap;
	}
	if (!(l->e[l->n].name = strndup(de->name, len))) {
		l->failed = 1;
		return DIRENT_ABORT;
	}
	l->e[l->n++].ino = de->inode;
	return 0;
}

static int cmp_dir_entry(const void *a, const void *b)
{
	return strcmp(((const struct dir_entry *)a)->name, ((const struct dir_entry *)b)->name);
}

static void dir_list_free(struct dir_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
}

static int read_dir(struct extfs *d, ext2_ino_t dir, const char *name, struct dir_list *l,
		    struct error *err)
{
	memset(l, 0, sizeof(*l));
	errcode_t e = ext2fs_dir_iterate2(d->fs, dir, 0, NULL, collect, l);
	if (l->failed) {
		dir_list_free(l);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	if (e) {
		dir_list_free(l);
		return ext_fail(err, e, "cannot read directory", name);
	}
	if (l->n > 1)
		qsort(l->e, l->n, sizeof(*l->e), cmp_dir_entry);
	return 0;
}

int extfs_list(struct extfs *d, const char *path, extfs_list_fn fn, void *ctx, struct error *err)
{
	struct extfs_stat st;
	int rc = extfs_stat(d, path, &st, err);
	if (rc)
		return rc;
	if (!LINUX_S_ISDIR(st.mode))
		return error_fail(err, -ENOTDIR, "%s: not a directory in the image", path);
	struct dir_list l;
	if ((rc = read_dir(d, st.ino, path, &l, err)))
		return rc;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct extfs_stat cst;
		rc = stat_ino(d, l.e[i].ino, &cst, l.e[i].name, err);
		if (!rc)
			rc = fn(ctx, l.e[i].name, &cst);
	}
	dir_list_free(&l);
	return rc;
}

/* ---- file contents ---- */

int extfs_read_link(struct extfs *d, uint32_t ino, char **target, struct error *err)
{
	struct ext2_inode in;
	errcode_t e = ext2fs_read_inode(d->fs, ino, &in);
	if (e)
		return ext_fail(err, e, "cannot read", "symlink");
	size_t len = EXT2_I_SIZE(&in);
	if (len > SYMLINK_MAX)
		return error_fail(err, -EINVAL, "a symlink of %zu bytes (damaged image)", len);
	char *t = calloc(1, len + 1);
	if (!t)
		return error_fail(err, -ENOMEM, "out of memory");
	if (ext2fs_is_fast_symlink(&in) && !(in.i_flags & EXT4_INLINE_DATA_FL)) {
		if (len >= sizeof(in.i_block)) {
			free(t);
			return error_fail(err, -EINVAL, "a fast symlink longer than its inode (damaged image)");
		}
		memcpy(t, in.i_block, len);
	} else {
		ext2_file_t f;
		unsigned got = 0;
		e = ext2fs_file_open(d->fs, ino, 0, &f);
		if (!e) {
			e = ext2fs_file_read(f, t, (unsigned)len, &got);
			errcode_t e2 = ext2fs_file_close(f);
			if (!e)
				e = e2;
		}
		if (!e && got != len)
			e = EXT2_ET_SHORT_READ;
		if (e) {
			free(t);
			return ext_fail(err, e, "cannot read", "symlink");
		}
	}
	*target = t;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int copy_ino(struct extfs *d, ext2_ino_t ino, int out_fd, const char *name, const char *dest,
		    struct error *err)
{
	char *buf = malloc(COPY_BUF_SIZE);
	if (!buf)
		return error_fail(err, -ENOMEM, "out of memory");
	ext2_file_t f;
	errcode_t e = ext2fs_file_open(d->fs, ino, 0, &f);
	int rc = e ? ext_fail(err, e, "cannot open", name) : 0;
	/* A damaged inode can claim terabytes that would read back as endless zeros: a file larger than
	 * the whole filesystem is refused as damage (sparse files that big are not what images hold). */
	uint64_t fs_bytes = ext2fs_blocks_count(d->fs->super) * (uint64_t)d->fs->blocksize;
	__u64 claimed = 0;
	if (rc == 0 && ext2fs_file_get_lsize(f, &claimed) == 0 && claimed > fs_bytes) {
		rc = error_fail(err, -EFBIG, "%s claims %llu bytes, more than the whole filesystem (%llu): damaged image",
			      name, (unsigned long long)claimed, (unsigned long long)fs_bytes);
		e = 0;
	}
	while (rc == 0) {
		unsigned got = 0;
		e = ext2fs_file_read(f, buf, COPY_BUF_SIZE, &got);
		if (e) {
			rc = ext_fail(err, e, "cannot read", name);
		} else if (got == 0) {
			break;
		} else if ((rc = write_all(out_fd, buf, got))) {
			rc = error_fail(err, rc, "cannot write %s: %s", dest, strerror(-rc));
		}
	}
	if (!e || rc)
		ext2fs_file_close(f);
	free(buf);
	return rc;
}

int extfs_cat(struct extfs *d, const char *path, int out_fd, struct error *err)
{
	/* like cat(1), a symlink as the last component is followed */
	ext2_ino_t ino = EXT2_ROOT_INO;
	const char *rel = path + strspn(path, "/");
	errcode_t e = *rel ? ext2fs_namei_follow(d->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, rel, &ino) : 0;
	if (e)
		return ext_fail(err, e, "cannot look up", path);
	struct extfs_stat st;
	int rc = stat_ino(d, ino, &st, path, err);
	if (rc)
		return rc;
	if (!LINUX_S_ISREG(st.mode))
		return error_fail(err, -EINVAL, "%s: not a regular file in the image", path);
	return copy_ino(d, st.ino, out_fd, path, "standard output", err);
}

/* ---- exporting a tree ---- */

struct exporter {
	struct extfs *d;
	int fd;
	struct error *err;
	uint8_t *dir_done;   /* bitmap over inode numbers: a directory reached twice means a damaged image */
	uint8_t *file_sent;  /* bitmap: a file with several names whose content is already in the stream */
	uint32_t ninodes;
	unsigned depth;
	char *buf;
};

static int bit_test_set(uint8_t *map, uint32_t ino)
{
	int was = (map[ino / 8] >> (ino % 8)) & 1;
	map[ino / 8] |= (uint8_t)(1u << (ino % 8));
	return was;
}

static void record_from(struct tree_record *r, enum tree_record_kind kind, const struct extfs_stat *st,
			const char *entry, size_t entry_len)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->mode = st->mode;
	r->uid = st->uid;
	r->gid = st->gid;
	r->mtime = st->mtime;
	r->nlink = st->nlink;
	r->rdev_major = st->rdev_major;
	r->rdev_minor = st->rdev_minor;
	r->id = st->ino;
	r->name_len = (uint32_t)entry_len;
	memcpy(r->name, entry, entry_len);
}

/* A file's content, exactly st->size bytes: a file that ends early or claims more than the whole
 * filesystem is damage, never padded or read forever. */
static int export_content(struct exporter *ex, const struct extfs_stat *st, const char *name)
{
	uint64_t fs_bytes = ext2fs_blocks_count(ex->d->fs->super) * (uint64_t)ex->d->fs->blocksize;
	if (st->size > fs_bytes)
		return error_fail(ex->err, -EFBIG, "%s claims %llu bytes, more than the whole filesystem (%llu): damaged image",
				  name, (unsigned long long)st->size, (unsigned long long)fs_bytes);
	ext2_file_t f;
	errcode_t e = ext2fs_file_open(ex->d->fs, st->ino, 0, &f);
	if (e)
		return ext_fail(ex->err, e, "cannot open", name);
	uint64_t left = st->size;
	int rc = 0;
	while (rc == 0 && left) {
		unsigned want = left < COPY_BUF_SIZE ? (unsigned)left : COPY_BUF_SIZE, got = 0;
		e = ext2fs_file_read(f, ex->buf, want, &got);
		if (e)
			rc = ext_fail(ex->err, e, "cannot read", name);
		else if (got == 0)
			rc = error_fail(ex->err, -EINVAL, "%s ends before its size (damaged image)", name);
		else {
			rc = tree_stream_put_payload(ex->fd, ex->buf, got, ex->err);
			left -= got;
		}
	}
	ext2fs_file_close(f);
	return rc;
}

static int export_node(struct exporter *ex, const struct extfs_stat *st, const char *name, const char *entry,
		       size_t entry_len);

static int export_dir(struct exporter *ex, const struct extfs_stat *st, const char *name, const char *entry,
		      size_t entry_len)
{
	if (st->ino == 0 || st->ino > ex->ninodes || bit_test_set(ex->dir_done, st->ino))
		return error_fail(ex->err, -EINVAL, "%s: directory reached twice or out of range (damaged image)", name);
	if (ex->depth >= TREE_STREAM_MAX_DEPTH)
		return error_fail(ex->err, -EINVAL, "directories nested deeper than %d levels at %s",
				  TREE_STREAM_MAX_DEPTH, name);
	struct tree_record r;
	record_from(&r, TREE_DIR, st, entry, entry_len);
	int rc = tree_stream_put(ex->fd, &r, ex->err);
	struct dir_list l;
	if (rc || (rc = read_dir(ex->d, st->ino, name, &l, ex->err)))
		return rc;
	ex->depth++;
	size_t nlen = strlen(name);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		size_t clen = strlen(l.e[i].name);
		char *cname = malloc(nlen + clen + 2);
		if (!cname) {
			rc = error_fail(ex->err, -ENOMEM, "out of memory");
			break;
		}
		/* the image path, for messages only: the writer never builds host paths */
		snprintf(cname, nlen + clen + 2, "%s%s%s", name, nlen && name[nlen - 1] == '/' ? "" : "/", l.e[i].name);
		struct extfs_stat cst;
		if (!(rc = stat_ino(ex->d, l.e[i].ino, &cst, cname, ex->err)))
			rc = export_node(ex, &cst, cname, l.e[i].name, clen);
		free(cname);
	}
	ex->depth--;
	dir_list_free(&l);
	if (rc)
		return rc;
	memset(&r, 0, sizeof(r));
	r.kind = TREE_DIR_END;
	return tree_stream_put(ex->fd, &r, ex->err);
}

static int export_node(struct exporter *ex, const struct extfs_stat *st, const char *name, const char *entry,
		       size_t entry_len)
{
	struct tree_record r;
	int rc;
	switch (st->mode & LINUX_S_IFMT) {
	case LINUX_S_IFDIR:
		return export_dir(ex, st, name, entry, entry_len);
	case LINUX_S_IFREG:
		if (st->nlink > 1 && st->ino <= ex->ninodes && bit_test_set(ex->file_sent, st->ino)) {
			record_from(&r, TREE_LINK, st, entry, entry_len);
			return tree_stream_put(ex->fd, &r, ex->err);
		}
		record_from(&r, TREE_FILE, st, entry, entry_len);
		r.size = st->size;
		rc = tree_stream_put(ex->fd, &r, ex->err);
		return rc ? rc : export_content(ex, st, name);
	case LINUX_S_IFLNK: {
		char *target;
		if ((rc = extfs_read_link(ex->d, st->ino, &target, ex->err)))
			return rc;
		record_from(&r, TREE_SYMLINK, st, entry, entry_len);
		r.size = strlen(target); /* a NUL inside a damaged target ends it */
		rc = tree_stream_put(ex->fd, &r, ex->err);
		if (!rc)
			rc = tree_stream_put_payload(ex->fd, target, r.size, ex->err);
		free(target);
		return rc;
	}
	default: /* devices, FIFOs, sockets: described, and the writer refuses them */
		record_from(&r, TREE_SPECIAL, st, entry, entry_len);
		return tree_stream_put(ex->fd, &r, ex->err);
	}
}

int extfs_export(struct extfs *d, const char *path, int out_fd, struct error *err)
{
	struct extfs_stat st;
	int rc = extfs_stat(d, path, &st, err);
	if (rc)
		return rc;
	struct exporter ex = { .d = d, .fd = out_fd, .err = err, .ninodes = d->fs->super->s_inodes_count };
	ex.dir_done = calloc((size_t)ex.ninodes / 8 + 1, 1);
	ex.file_sent = calloc((size_t)ex.ninodes / 8 + 1, 1);
	ex.buf = malloc(COPY_BUF_SIZE);
	if (!ex.dir_done || !ex.file_sent || !ex.buf)
		rc = error_fail(err, -ENOMEM, "out of memory");
	else
		rc = export_node(&ex, &st, path, "", 0);
	if (!rc) {
		struct tree_record end = { .kind = TREE_END };
		rc = tree_stream_put(out_fd, &end, err);
	}
	free(ex.dir_done);
	free(ex.file_sent);
	free(ex.buf);
	return rc;
}
