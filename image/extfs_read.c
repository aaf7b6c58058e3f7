#include "image/extfs_read.h"

#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image/mbr.h"

#define COPY_BUF_SIZE (1024 * 1024)
#define EXT_MAGIC_OFFSET (1024 + 56) /* superblock at 1024, s_magic at +56 */
#define EXT_MAGIC 0xef53
#define STAGE_NAME "n"               /* the node inside the staging directory */
#define NFTW_FDS 32
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
static int find_offset(const char *image, int part, uint64_t *offset, struct error *err)
{
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_fail(err, -errno, "cannot open %s: %s", image, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_fail(err, -EINVAL, "%s is not a regular file", image);
	}
	uint8_t sector[MBR_SECTOR_SIZE], magic[2];
	int has_sector = read_at(fd, sector, sizeof(sector), 0) == 0;
	int raw_fs = read_at(fd, magic, sizeof(magic), EXT_MAGIC_OFFSET) == 0 &&
		     (magic[0] | magic[1] << 8) == EXT_MAGIC;
	close(fd);
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

int extfs_open(struct extfs **out, const char *image, int part, struct error *err)
{
	*out = NULL;
	uint64_t offset;
	int rc = find_offset(image, part, &offset, err);
	if (rc)
		return rc;
	struct extfs *d = calloc(1, sizeof(*d));
	if (!d || !(d->image = strdup(image))) {
		free(d);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	d->offset = offset;
	char io_opts[64];
	snprintf(io_opts, sizeof(io_opts), "offset=%llu", (unsigned long long)offset);
	errcode_t e = ext2fs_open2(image, io_opts, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &d->fs);
	if (e) {
		extfs_close(d);
		if (e == EXT2_ET_BAD_MAGIC || e == EXT2_ET_SHORT_READ || e == EXT2_ET_CORRUPT_SUPERBLOCK)
			return error_fail(err, -EINVAL, "%s: no ext2/3/4 filesystem at offset %llu", image,
					(unsigned long long)offset);
		return ext_fail(err, e, "cannot open the filesystem in", image);
	}
	*out = d;
	return 0;
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

/* ---- copying out ---- */

struct seen_link {
	ext2_ino_t ino;
	char *path;
};

struct getter {
	struct extfs *d;
	struct error *err;
	struct extfs_get_stats *stats;
	struct seen_link *seen;
	size_t nseen, capseen;
	uint8_t *dir_done;      /* bitmap over inode numbers: a directory reached twice means a damaged image */
	uint32_t ninodes;
	int as_root;
};

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '/')
		la--; /* "/" + "x" is "/x" */
	char *s = malloc(la + lb + 2);
	if (s) {
		memcpy(s, a, la);
		s[la] = '/';
		memcpy(s + la + 1, b, lb + 1);
	}
	return s;
}

static int host_fail(struct getter *g, const char *what, const char *path)
{
	int e = errno;
	return error_fail(g->err, -e, "cannot %s %s: %s", what, path, strerror(e));
}

/* Owner (root only), then mode (chown would clear set-id bits), then times. */
static int finish_node(struct getter *g, const char *dest, const struct extfs_stat *st)
{
	if (g->as_root && lchown(dest, st->uid, st->gid) != 0)
		return host_fail(g, "set the owner of", dest);
	if (!LINUX_S_ISLNK(st->mode) && chmod(dest, st->mode & 07777) != 0)
		return host_fail(g, "set the mode of", dest);
	struct timespec ts[2] = { { .tv_sec = st->mtime }, { .tv_sec = st->mtime } };
	if (utimensat(AT_FDCWD, dest, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return host_fail(g, "set the times of", dest);
	return 0;
}

static int get_node(struct getter *g, const struct extfs_stat *st, const char *name, const char *dest);

static int get_dir(struct getter *g, const struct extfs_stat *st, const char *name, const char *dest)
{
	if (st->ino == 0 || st->ino > g->ninodes || (g->dir_done[st->ino / 8] & (1u << (st->ino % 8))))
		return error_fail(g->err, -EINVAL, "%s: directory reached twice or out of range (damaged image)", name);
	g->dir_done[st->ino / 8] |= (uint8_t)(1u << (st->ino % 8));
	if (mkdir(dest, 0700) != 0)
		return host_fail(g, "create directory", dest);
	struct dir_list l;
	int rc = read_dir(g->d, st->ino, name, &l, g->err);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		char *cname = join(name, l.e[i].name), *cdest = join(dest, l.e[i].name);
		struct extfs_stat cst;
		if (!cname || !cdest)
			rc = error_fail(g->err, -ENOMEM, "out of memory");
		else if (!(rc = stat_ino(g->d, l.e[i].ino, &cst, cname, g->err)))
			rc = get_node(g, &cst, cname, cdest);
		free(cname);
		free(cdest);
	}
	dir_list_free(&l);
	if (rc == 0)
		g->stats->dirs++;
	return rc ? rc : finish_node(g, dest, st);
}

static int get_file(struct getter *g, const struct extfs_stat *st, const char *name, const char *dest)
{
	if (st->nlink > 1) {
		for (size_t i = 0; i < g->nseen; i++) {
			if (g->seen[i].ino != st->ino)
				continue;
			if (link(g->seen[i].path, dest) != 0)
				return host_fail(g, "create hard link", dest);
			g->stats->hardlinks++;
			return 0;
		}
	}
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return host_fail(g, "create", dest);
	int rc = copy_ino(g->d, st->ino, fd, name, dest, g->err);
	if (close(fd) != 0 && !rc)
		rc = host_fail(g, "write", dest);
	if (!rc)
		rc = finish_node(g, dest, st);
	if (!rc && st->nlink > 1) {
		if (g->nseen == g->capseen) {
			size_t cap = g->capseen ? g->capseen * 2 : 16;
			struct seen_link *grown = realloc(g->seen, cap * sizeof(*grown));
			if (!grown)
				return error_fail(g->err, -ENOMEM, "out of memory");
			g->seen = grown;
			g->capseen = cap;
		}
		if (!(g->seen[g->nseen].path = strdup(dest)))
			return error_fail(g->err, -ENOMEM, "out of memory");
		g->seen[g->nseen++].ino = st->ino;
	}
	if (!rc)
		g->stats->files++;
	return rc;
}

static int get_node(struct getter *g, const struct extfs_stat *st, const char *name, const char *dest)
{
	switch (st->mode & LINUX_S_IFMT) {
	case LINUX_S_IFDIR:
		return get_dir(g, st, name, dest);
	case LINUX_S_IFREG:
		return get_file(g, st, name, dest);
	case LINUX_S_IFLNK: {
		char *target;
		int rc = extfs_read_link(g->d, st->ino, &target, g->err);
		if (rc)
			return rc;
		rc = symlink(target, dest) != 0 ? host_fail(g, "create symlink", dest) : 0;
		free(target);
		if (!rc)
			g->stats->symlinks++;
		return rc ? rc : finish_node(g, dest, st);
	}
	case LINUX_S_IFIFO:
		if (mkfifo(dest, 0600) != 0)
			return host_fail(g, "create pipe", dest);
		return finish_node(g, dest, st);
	case LINUX_S_IFCHR:
	case LINUX_S_IFBLK:
		if (mknod(dest, (st->mode & LINUX_S_IFMT) | 0600, makedev(st->rdev_major, st->rdev_minor)) != 0) {
			if (errno != EPERM)
				return host_fail(g, "create device", dest);
			g->stats->skipped++; /* an ordinary user cannot; the caller says so */
			return 0;
		}
		return finish_node(g, dest, st);
	default: /* sockets only mean something while a process listens on them */
		g->stats->skipped++;
		return 0;
	}
}

static int make_writable(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D)
		chmod(path, (sb->st_mode & 07777) | 0700);
	return 0;
}

static int remove_node(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, make_writable, NFTW_FDS, FTW_PHYS);
	nftw(path, remove_node, NFTW_FDS, FTW_PHYS | FTW_DEPTH);
}

int extfs_get(struct extfs *d, const char *path, const char *dest, struct extfs_get_stats *stats,
	     struct error *err)
{
	memset(stats, 0, sizeof(*stats));
	struct extfs_stat st;
	int rc = extfs_stat(d, path, &st, err);
	if (rc)
		return rc;
	struct stat hst;
	if (lstat(dest, &hst) == 0)
		return error_fail(err, -EEXIST, "%s already exists; lbvm disk get does not overwrite", dest);
	char *stage = malloc(strlen(dest) + sizeof(".tmp-XXXXXX"));
	if (!stage)
		return error_fail(err, -ENOMEM, "out of memory");
	strcpy(stage, dest);
	strcat(stage, ".tmp-XXXXXX");
	if (!mkdtemp(stage)) {
		rc = error_fail(err, -errno, "cannot create a directory beside %s: %s", dest, strerror(errno));
		free(stage);
		return rc;
	}
	char *node = join(stage, STAGE_NAME);
	struct getter g = { .d = d, .err = err, .stats = stats, .as_root = geteuid() == 0 };
	g.ninodes = d->fs->super->s_inodes_count;
	g.dir_done = calloc((size_t)g.ninodes / 8 + 1, 1);
	if (!node || !g.dir_done)
		rc = error_fail(err, -ENOMEM, "out of memory");
	else
		rc = get_node(&g, &st, path, node);
	if (!rc && rename(node, dest) != 0)
		rc = error_fail(err, -errno, "cannot rename into %s: %s", dest, strerror(errno));
	remove_tree(stage);
	for (size_t i = 0; i < g.nseen; i++)
		free(g.seen[i].path);
	free(g.seen);
	free(g.dir_done);
	free(node);
	free(stage);
	return rc;
}
