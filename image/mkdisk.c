#include "image/mkdisk.h"

#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/img_output.h"
#include "image/spec.h"
#include "image/mbr.h"

#define COPY_BUF_SIZE (1024 * 1024)
#define LOG_BLOCK_SIZE 2              /* 1024 << 2 = MKDISK_BLOCK_SIZE */
#define LOG_GROUPS_PER_FLEX 4         /* 16 groups per flex group, as mke2fs does */
#define INODE_MARGIN 64               /* inodes beyond the tree's count (lost+found, reserved slack) */
#define LOST_FOUND_MIN_BYTES 16384    /* e2fsck can reconnect files without growing it */
#define LABEL_MAX 16
#define ID_DOMAIN "lbvm-mkdisk-1"     /* bump when the derivation changes */
#define MAX_NAME_LEN 255

struct build {
	const struct mkdisk_opts *o;
	const struct fs_tree *t;
	struct error *err;
	ext2_filsys fs;
	ext2_ino_t *ino;        /* inode of each tree entry */
	unsigned char *buf;
	uint8_t hash_seed[16];
	uint32_t disk_id;
};

int mkdisk_parse_fs(const char *name, enum mkdisk_fs *out)
{
	if (!strcmp(name, "ext4"))
		*out = MKDISK_EXT4;
	else if (!strcmp(name, "ext3"))
		*out = MKDISK_EXT3;
	else if (!strcmp(name, "ext2"))
		*out = MKDISK_EXT2;
	else
		return -EINVAL;
	return 0;
}

/* libext2fs error -> one line; "too small" and host-disk-full cases are the user's to fix (exit 2). */
static int ext_fail(struct build *b, errcode_t e, const char *what)
{
	switch (e) {
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_TOOSMALL:
	case EXT2_ET_TOO_MANY_INODES:
	case EXT2_ET_JOURNAL_TOO_SMALL:
	case EXT2_ET_EA_NO_SPACE:
		return error_fail(b->err, -ENOSPC, "--size %llu is too small for the content of %s (ran out at: %s)",
				(unsigned long long)b->o->size, b->o->dir ? b->o->dir : "the tree", what);
	case EXT2_ET_SHORT_WRITE:
		return error_fail(b->err, -ENOSPC, "%s: short write to %s (host disk full?)", what, b->o->output);
	default:
		break;
	}
	if (e > 0 && e < 4096) /* a plain errno from the I/O manager */
		return error_fail(b->err, -(int)e, "%s: %s: %s", what, b->o->output, strerror((int)e));
	return error_fail(b->err, -EIO, "%s: %s", what, error_message(e));
}

/* ---- identifiers derived from the input ---- */

static void put_u64(EVP_MD_CTX *md, uint64_t v)
{
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	EVP_DigestUpdate(md, le, sizeof(le));
}

static void put_str(EVP_MD_CTX *md, const char *s)
{
	EVP_DigestUpdate(md, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* UUID, hash seed and disk signature from a SHA-256 over the options and the tree's metadata: equal input,
 * equal identifiers; different trees practically never collide. */
static int derive_ids(struct build *b, uint8_t uuid[16])
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return error_fail(b->err, -ENOMEM, "cannot set up SHA-256");
	}
	const struct mkdisk_opts *o = b->o;
	put_str(md, ID_DOMAIN);
	put_u64(md, o->fs);
	put_u64(md, o->size);
	put_u64(md, o->raw ? 0 : o->part_offset);
	put_u64(md, o->epoch);
	put_str(md, o->label);
	put_u64(md, o->bytes_per_inode);
	put_u64(md, b->t->root_mode | (uint64_t)b->t->root_uid << 32);
	put_u64(md, b->t->root_gid);
	for (size_t i = 0; i < b->t->count; i++) {
		const struct fs_entry *e = &b->t->entries[i];
		put_str(md, e->path);
		put_u64(md, e->mode | (uint64_t)e->uid << 32);
		put_u64(md, e->gid | (uint64_t)e->link_first << 32);
		put_u64(md, e->size);
		put_u64(md, e->rdev_major | (uint64_t)e->rdev_minor << 32);
		put_str(md, e->target);
	}
	int ok = EVP_DigestFinal_ex(md, d, &dlen) == 1 && dlen >= 32;
	EVP_MD_CTX_free(md);
	if (!ok)
		return error_fail(b->err, -EIO, "SHA-256 failed");
	if (o->have_uuid) {
		memcpy(uuid, o->uuid, 16);
	} else {
		memcpy(uuid, d, 16);
		uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* RFC 4122 layout: version 4, variant 1 */
		uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	}
	memcpy(b->hash_seed, d + 16, 12);
	memcpy(b->hash_seed + 12, d, 4);
	b->disk_id = (uint32_t)d[28] | (uint32_t)d[29] << 8 | (uint32_t)d[30] << 16 | (uint32_t)d[31] << 24;
	return 0;
}

/* ---- inodes ---- */

static void set_owner(struct ext2_inode_large *in, uint32_t uid, uint32_t gid)
{
	in->i_uid = (__u16)uid;
	in->i_gid = (__u16)gid;
	in->osd2.linux2.l_i_uid_high = (__u16)(uid >> 16);
	in->osd2.linux2.l_i_gid_high = (__u16)(gid >> 16);
}

/* Every timestamp of an in-use inode becomes the epoch (sub-second parts zero). */
static void pin_times(const struct build *b, struct ext2_inode_large *in)
{
	in->i_atime = in->i_ctime = in->i_mtime = b->o->epoch;
	if (EXT2_INODE_SIZE(b->fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
	    in->i_extra_isize >= offsetof(struct ext2_inode_large, i_crtime_extra) + sizeof(in->i_crtime_extra) -
					 EXT2_GOOD_OLD_INODE_SIZE) {
		in->i_ctime_extra = in->i_mtime_extra = in->i_atime_extra = 0;
		in->i_crtime = b->o->epoch;
		in->i_crtime_extra = 0;
	}
}

/* Rewrite an existing inode's permissions, owner and times (type bits stay). */
static int settle_inode(struct build *b, ext2_ino_t ino, uint32_t mode, uint32_t uid, uint32_t gid,
			const char *what)
{
	struct ext2_inode_large in;
	memset(&in, 0, sizeof(in));
	errcode_t e = ext2fs_read_inode_full(b->fs, ino, (struct ext2_inode *)&in, sizeof(in));
	if (!e) {
		in.i_mode = (__u16)((in.i_mode & S_IFMT) | (mode & 07777));
		set_owner(&in, uid, gid);
		pin_times(b, &in);
		e = ext2fs_write_inode_full(b->fs, ino, (struct ext2_inode *)&in, sizeof(in));
	}
	return e ? ext_fail(b, e, what) : 0;
}

static int dirent_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return EXT2_FT_REG_FILE;
	case S_IFDIR: return EXT2_FT_DIR;
	case S_IFLNK: return EXT2_FT_SYMLINK;
	case S_IFCHR: return EXT2_FT_CHRDEV;
	case S_IFBLK: return EXT2_FT_BLKDEV;
	case S_IFIFO: return EXT2_FT_FIFO;
	case S_IFSOCK: return EXT2_FT_SOCK;
	default: return EXT2_FT_UNKNOWN;
	}
}

/* Add NAME -> INO to DIR, growing the directory by a block when it is full. */
static errcode_t link_name(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t ino, uint32_t mode)
{
	errcode_t e = ext2fs_link(fs, dir, name, ino, dirent_type(mode));
	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(fs, dir);
		if (!e)
			e = ext2fs_link(fs, dir, name, ino, dirent_type(mode));
	}
	return e;
}

/* A fresh inode of any non-directory type, linked under NAME; the caller fills data afterwards. */
static int new_node(struct build *b, const struct fs_entry *e, ext2_ino_t parent, const char *name,
		    ext2_ino_t *out)
{
	ext2_filsys fs = b->fs;
	ext2_ino_t ino;
	errcode_t err = ext2fs_new_inode(fs, parent, (int)e->mode, NULL, &ino);
	if (!err)
		err = link_name(fs, parent, name, ino, e->mode);
	if (err)
		return ext_fail(b, err, e->path);
	ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
	struct ext2_inode_large in;
	memset(&in, 0, sizeof(in));
	in.i_mode = (__u16)e->mode;
	in.i_links_count = (__u16)(S_ISREG(e->mode) ? e->nlink : 1);
	set_owner(&in, e->uid, e->gid);
	if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
		/* the kernel's encodings: old 8:8 when both fit, else new 12:20 in the second word */
		if (e->rdev_major < 256 && e->rdev_minor < 256)
			in.i_block[0] = e->rdev_major << 8 | e->rdev_minor;
		else
			in.i_block[1] = (e->rdev_minor & 0xff) | (e->rdev_major << 8) | ((e->rdev_minor & ~0xffu) << 12);
	}
	if (S_ISREG(e->mode) && ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h;
		err = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)&in, &h); /* writes the empty extent header */
		if (err)
			return ext_fail(b, err, e->path);
		ext2fs_extent_free(h);
	}
	err = ext2fs_write_new_inode(fs, ino, (struct ext2_inode *)&in);
	if (err)
		return ext_fail(b, err, e->path);
	*out = ino;
	return 0;
}

static int copy_data(struct build *b, const struct fs_entry *e, ext2_ino_t ino)
{
	int fd = -1;
	if (!e->data && (fd = open(e->source, O_RDONLY | O_CLOEXEC)) < 0)
		return error_fail(b->err, -errno, "cannot read %s: %s", e->source, strerror(errno));
	ext2_file_t f;
	errcode_t err = ext2fs_file_open(b->fs, ino, EXT2_FILE_WRITE, &f);
	if (err) {
		if (fd >= 0)
			close(fd);
		return ext_fail(b, err, e->path);
	}
	int rc = 0;
	uint64_t left = e->size;
	while (rc == 0 && left) {
		size_t want = left < COPY_BUF_SIZE ? (size_t)left : COPY_BUF_SIZE;
		const void *chunk = e->data ? e->data + (e->size - left) : b->buf;
		ssize_t n = e->data ? (ssize_t)want : read(fd, b->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_fail(b->err, -errno, "cannot read %s: %s", e->source, strerror(errno));
		} else if (n == 0) {
			rc = error_fail(b->err, -EINVAL, "%s shrank while it was being read", e->source);
		} else {
			unsigned int written = 0;
			err = ext2fs_file_write(f, chunk, (unsigned int)n, &written);
			if (!err && written != (unsigned int)n)
				err = EXT2_ET_SHORT_WRITE;
			if (err)
				rc = ext_fail(b, err, e->path);
			left -= (uint64_t)n;
		}
	}
	if (fd >= 0)
		close(fd);
	err = ext2fs_file_close(f);
	if (!rc && err)
		rc = ext_fail(b, err, e->path);
	return rc;
}

static int add_entry(struct build *b, size_t i)
{
	const struct fs_entry *e = &b->t->entries[i];
	size_t plen = fstree_parent_len(e->path);
	const char *name = e->path + plen + (plen ? 1 : 0);
	if (strlen(name) > MAX_NAME_LEN)
		return error_fail(b->err, -EINVAL, "'/%s': name longer than %d bytes", e->path, MAX_NAME_LEN);
	ext2_ino_t parent = EXT2_ROOT_INO;
	if (plen) {
		char *pp = strndup(e->path, plen);
		if (!pp)
			return error_fail(b->err, -ENOMEM, "out of memory");
		long p = fstree_find(b->t, pp);
		free(pp);
		if (p < 0)
			return error_fail(b->err, -EFAULT, "'/%s' has no parent in the tree", e->path);
		parent = b->ino[p];
	}
	ext2_filsys fs = b->fs;
	errcode_t err;
	ext2_ino_t ino = 0;
	int rc = 0;
	if (S_ISREG(e->mode) && e->link_first != i) { /* another name of an earlier file */
		ino = b->ino[e->link_first];
		err = link_name(fs, parent, name, ino, e->mode);
		b->ino[i] = ino;
		return err ? ext_fail(b, err, e->path) : 0;
	}
	bool lost_found = parent == EXT2_ROOT_INO && !strcmp(name, "lost+found");
	if (lost_found && !S_ISDIR(e->mode))
		return error_fail(b->err, -EINVAL, "'/lost+found' in the tree must be a directory (e2fsck needs it)");
	if (S_ISDIR(e->mode)) {
		if (lost_found) {
			err = ext2fs_lookup(fs, EXT2_ROOT_INO, name, strlen(name), NULL, &ino);
		} else {
			err = ext2fs_new_inode(fs, parent, LINUX_S_IFDIR | 0755, NULL, &ino);
			if (!err)
				err = ext2fs_mkdir(fs, parent, ino, name);
			if (err == EXT2_ET_DIR_NO_SPACE) { /* the parent is full: grow it and try once more */
				err = ext2fs_expand_dir(fs, parent);
				if (!err)
					err = ext2fs_mkdir(fs, parent, ino, name);
			}
		}
		if (err)
			return ext_fail(b, err, e->path);
	} else if (S_ISLNK(e->mode)) {
		err = ext2fs_new_inode(fs, parent, LINUX_S_IFLNK | 0777, NULL, &ino);
		if (!err)
			err = ext2fs_symlink(fs, parent, ino, name, e->target);
		if (err == EXT2_ET_DIR_NO_SPACE) {
			err = ext2fs_expand_dir(fs, parent);
			if (!err)
				err = ext2fs_symlink(fs, parent, ino, name, e->target);
		}
		if (err)
			return ext_fail(b, err, e->path);
	} else {
		rc = new_node(b, e, parent, name, &ino);
		if (!rc && S_ISREG(e->mode) && e->size)
			rc = copy_data(b, e, ino);
		if (rc)
			return rc;
	}
	b->ino[i] = ino;
	return settle_inode(b, ino, e->mode, e->uid, e->gid, e->path);
}

/* ---- the filesystem skeleton: what mke2fs does before populating ---- */

static void set_features(struct ext2_super_block *p, enum mkdisk_fs type)
{
	/* has_journal is added by ext2fs_add_journal_inode3 itself */
	p->s_feature_compat = EXT2_FEATURE_COMPAT_EXT_ATTR | EXT2_FEATURE_COMPAT_DIR_INDEX;
	p->s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE;
	p->s_feature_ro_compat = EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
	if (type == MKDISK_EXT4) {
		p->s_feature_incompat |= EXT3_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_FLEX_BG;
		p->s_feature_ro_compat |= EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_DIR_NLINK |
					  EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
		p->s_log_groups_per_flex = LOG_GROUPS_PER_FLEX;
		p->s_checksum_type = EXT2_CRC32C_CHKSUM;
	}
}

static int make_skeleton(struct build *b, const char *tmp_path, uint64_t fs_offset, uint64_t fs_bytes)
{
	const struct mkdisk_opts *o = b->o;
	struct ext2_super_block param;
	memset(&param, 0, sizeof(param));
	uint64_t blocks = fs_bytes / MKDISK_BLOCK_SIZE;
	uint64_t inodes = fs_bytes / (o->bytes_per_inode ? o->bytes_per_inode : MKDISK_BYTES_PER_INODE);
	if (inodes < b->t->count + INODE_MARGIN)
		inodes = b->t->count + INODE_MARGIN;
	if (inodes > UINT32_MAX)
		return error_fail(b->err, -EINVAL, "the tree has too many entries for an ext filesystem");
	ext2fs_blocks_count_set(&param, blocks);
	param.s_log_block_size = LOG_BLOCK_SIZE;
	param.s_rev_level = EXT2_DYNAMIC_REV;
	param.s_inode_size = MKDISK_INODE_SIZE;
	param.s_inodes_count = (__u32)inodes;
	set_features(&param, o->fs);

	ext2_filsys fs;
	errcode_t err = ext2fs_initialize(tmp_path, EXT2_FLAG_64BITS, &param, unix_io_manager, &fs);
	if (err)
		return ext_fail(b, err, "creating the filesystem");
	b->fs = fs;
	char io_opts[64];
	snprintf(io_opts, sizeof(io_opts), "offset=%llu", (unsigned long long)fs_offset);
	if ((err = io_channel_set_options(fs->io, io_opts)))
		return ext_fail(b, err, "placing the filesystem");
	fs->now = (time_t)o->epoch;
	fs->umask = 022;

	struct ext2_super_block *sb = fs->super;
	uint8_t uuid[16] = { 0 };
	int rc = derive_ids(b, uuid);
	if (rc)
		return rc;
	memcpy(sb->s_uuid, uuid, sizeof(sb->s_uuid));
	if (ext2fs_has_feature_metadata_csum(sb))
		sb->s_checksum_type = EXT2_CRC32C_CHKSUM; /* ext2fs_initialize does not copy it from param */
	ext2fs_init_csum_seed(fs);
	memcpy(sb->s_hash_seed, b->hash_seed, sizeof(sb->s_hash_seed));
	sb->s_def_hash_version = EXT2_HASH_HALF_MD4;
	sb->s_flags |= EXT2_FLAGS_SIGNED_HASH; /* x86's convention, pinned so other hosts build the same */
	sb->s_max_mnt_count = -1;
	sb->s_checkinterval = 0;
	sb->s_mkfs_time = sb->s_wtime = sb->s_lastcheck = o->epoch;
	sb->s_mtime = 0;
	sb->s_r_blocks_count = 0; /* no root reserve: a build disk, not a system's */
	if (EXT2_INODE_SIZE(sb) > EXT2_GOOD_OLD_INODE_SIZE) {
		sb->s_min_extra_isize = sb->s_want_extra_isize =
			sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	}
	if (o->label) {
		memset(sb->s_volume_name, 0, sizeof(sb->s_volume_name));
		memcpy(sb->s_volume_name, o->label, strlen(o->label));
	}

	if ((err = ext2fs_allocate_tables(fs)))
		return ext_fail(b, err, "laying out the filesystem");
	/* the inode tables lie in a fresh sparse file: already zero, nothing for the kernel to initialise */
	for (dgrp_t g = 0; g < fs->group_desc_count; g++)
		ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);

	if ((err = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, NULL)))
		return ext_fail(b, err, "creating the root directory");
	ext2_ino_t lf;
	if ((err = ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, "lost+found")) ||
	    (err = ext2fs_lookup(fs, EXT2_ROOT_INO, "lost+found", 10, NULL, &lf)))
		return ext_fail(b, err, "creating lost+found");
	for (;;) {
		struct ext2_inode in;
		if ((err = ext2fs_read_inode(fs, lf, &in)))
			return ext_fail(b, err, "lost+found");
		if (EXT2_I_SIZE(&in) >= LOST_FOUND_MIN_BYTES)
			break;
		if ((err = ext2fs_expand_dir(fs, lf)))
			return ext_fail(b, err, "growing lost+found");
	}
	if ((rc = settle_inode(b, lf, 0700, 0, 0, "lost+found")))
		return rc;
	/* reserved inodes are in use from the start; the bad-block inode exists, empty */
	for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(sb); i++)
		ext2fs_inode_alloc_stats2(fs, i, +1, 0);
	ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
	ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
	if ((err = ext2fs_update_bb_inode(fs, NULL)))
		return ext_fail(b, err, "creating the bad-block inode");

	if (o->fs != MKDISK_EXT2 && !o->no_journal) {
		struct ext2fs_journal_params jp;
		if ((err = ext2fs_get_journal_params(&jp, fs)))
			return ext_fail(b, err, "sizing the journal");
		/* LAZYINIT: the journal's blocks are holes of a fresh file, already zero */
		if ((err = ext2fs_add_journal_inode3(fs, &jp, ~0ULL,
						     EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK)))
			return ext_fail(b, err, "creating the journal");
	}
	return 0;
}

/* Pin the times of the reserved inodes the library wrote (bad blocks, journal) and of the root. */
static int pin_reserved(struct build *b)
{
	for (ext2_ino_t i = 1; i < EXT2_FIRST_INODE(b->fs->super); i++) {
		struct ext2_inode_large in;
		memset(&in, 0, sizeof(in));
		errcode_t err = ext2fs_read_inode_full(b->fs, i, (struct ext2_inode *)&in, sizeof(in));
		if (err)
			return ext_fail(b, err, "reserved inode");
		if (!in.i_atime && !in.i_ctime && !in.i_mtime && !in.i_mode)
			continue;
		pin_times(b, &in);
		if ((err = ext2fs_write_inode_full(b->fs, i, (struct ext2_inode *)&in, sizeof(in))))
			return ext_fail(b, err, "reserved inode");
	}
	return settle_inode(b, EXT2_ROOT_INO, b->t->root_mode, b->t->root_uid, b->t->root_gid, "/");
}

static int check_opts(const struct mkdisk_opts *o, uint64_t *fs_offset, uint64_t *fs_bytes, struct error *err)
{
	if (o->size == 0 || o->size % MBR_SECTOR_SIZE)
		return error_fail(err, -EINVAL, "--size %llu is not a positive multiple of 512 bytes",
				(unsigned long long)o->size);
	if (o->bytes_per_inode && o->bytes_per_inode < MKDISK_MIN_BYTES_PER_INODE)
		return error_fail(err, -EINVAL, "--inode-ratio %u is below %u bytes per inode", o->bytes_per_inode,
				MKDISK_MIN_BYTES_PER_INODE);
	if (o->label && strlen(o->label) > LABEL_MAX)
		return error_fail(err, -EINVAL, "label '%s' is longer than %d bytes", o->label, LABEL_MAX);
	*fs_offset = o->raw ? 0 : o->part_offset;
	if (!o->raw && (o->part_offset < MBR_SECTOR_SIZE || o->part_offset % MBR_SECTOR_SIZE))
		return error_fail(err, -EINVAL, "--part-offset %llu is not a multiple of 512 bytes of at least 512",
				(unsigned long long)o->part_offset);
	if (*fs_offset >= o->size)
		return error_fail(err, -EINVAL, "--part-offset %llu leaves no room in a %llu-byte image",
				(unsigned long long)*fs_offset, (unsigned long long)o->size);
	*fs_bytes = (o->size - *fs_offset) / MKDISK_BLOCK_SIZE * MKDISK_BLOCK_SIZE;
	if (*fs_bytes / MKDISK_BLOCK_SIZE > UINT32_MAX)
		return error_fail(err, -EINVAL, "--size %llu: the filesystem would exceed 16 TiB, the limit without "
				"the 64bit feature", (unsigned long long)o->size);
	if (!o->raw && (*fs_offset / MBR_SECTOR_SIZE > UINT32_MAX ||
			(o->size - *fs_offset) / MBR_SECTOR_SIZE > UINT32_MAX))
		return error_fail(err, -EINVAL, "a partition of that size or offset does not fit an msdos table (2 TiB)");
	return 0;
}

static int write_table(struct build *b, int fd, uint64_t fs_offset)
{
	struct mbr_part part = {
		.type = MBR_TYPE_LINUX,
		.bootable = false,
		.start_lba = fs_offset / MBR_SECTOR_SIZE,
		.sectors = (b->o->size - fs_offset) / MBR_SECTOR_SIZE,
	};
	uint8_t sector[MBR_SECTOR_SIZE];
	if (mbr_format(sector, &part, b->disk_id))
		return error_fail(b->err, -EINVAL, "the partition does not fit an msdos table");
	if (pwrite(fd, sector, sizeof(sector), 0) != (ssize_t)sizeof(sector))
		return error_fail(b->err, errno ? -errno : -EIO, "cannot write %s: %s", b->o->output, strerror(errno));
	return 0;
}

int mkdisk_build_tree(const struct mkdisk_opts *o, const struct fs_tree *tree, struct error *err)
{
	initialize_ext2_error_table(); /* libext2fs's messages, not "Unknown code ext2 N" */
	uint64_t fs_offset = 0, fs_bytes = 0;
	int rc = check_opts(o, &fs_offset, &fs_bytes, err);
	if (rc)
		return rc;
	struct build b;
	memset(&b, 0, sizeof(b));
	b.o = o;
	b.t = tree;
	b.err = err;
	b.ino = calloc(tree->count ? tree->count : 1, sizeof(*b.ino));
	b.buf = malloc(COPY_BUF_SIZE);
	if (!b.ino || !b.buf) {
		free(b.ino);
		free(b.buf);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	struct atomic_file out;
	rc = img_output_open(&out, o->output, err);
	if (rc) {
		free(b.ino);
		free(b.buf);
		return rc;
	}
	/* sparse: the size comes from ftruncate, only used blocks are ever written */
	if (ftruncate(out.fd, (off_t)o->size) != 0)
		rc = error_fail(err, -errno, "cannot size %s to %llu bytes: %s", o->output,
			      (unsigned long long)o->size, strerror(errno));
	if (!rc)
		rc = make_skeleton(&b, out.tmp_path, fs_offset, fs_bytes);
	for (size_t i = 0; rc == 0 && i < tree->count; i++)
		rc = add_entry(&b, i);
	if (!rc)
		rc = pin_reserved(&b);
	if (!rc) {
		errcode_t e = ext2fs_set_gdt_csum(b.fs);
		if (e)
			rc = ext_fail(&b, e, "finishing the group descriptors");
	}
	if (b.fs) {
		errcode_t e = rc ? (ext2fs_free(b.fs), 0) : ext2fs_close_free(&b.fs);
		if (!rc && e)
			rc = ext_fail(&b, e, "writing the filesystem");
	}
	if (!rc && !o->raw)
		rc = write_table(&b, out.fd, fs_offset);
	free(b.ino);
	free(b.buf);
	return img_output_close(&out, rc, o->output, err);
}

int mkdisk_build(const struct mkdisk_opts *o, struct error *err)
{
	struct fs_tree tree;
	fstree_init(&tree);
	int rc = spec_build_tree(&tree, o->dir, o->spec, err);
	if (!rc)
		rc = mkdisk_build_tree(o, &tree, err);
	fstree_free(&tree);
	return rc;
}
