/* libFuzzer target: the image writers' input side. A tree of up to 64 entries (any bytes in names, which
 * fstree_normalise must clean or refuse; directories, files sharing hard-link groups, symlinks with any
 * target, device nodes, pipes) goes through fstree_add and fstree_finish, and an accepted tree is written
 * as a cpio newc archive (plain or gzip) into a memfd. The target then reads the archive back with its own
 * small parser and checks it: every header has the newc magic and hex fields, names are NUL-terminated,
 * padding is right, the members are ".", the tree's paths in order, then the trailer, each hard-link group
 * carries its data once (on its last name), and nothing follows the trailer but padding. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "image/cpio_newc.h"
#include "image/fstree.h"
#include "image/initramfs.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_ENTRIES 64
#define MAX_NAME    300
#define DATA_SIZE   4096
#define MAX_ARCHIVE (4u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char source[] = "/tmp/lbvm-fuzz-cpio-XXXXXX";
static uint8_t *archive;

static void remove_source(void)
{
	unlink(source);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	int fd = mkstemp(source);
	uint8_t buf[DATA_SIZE];
	for (unsigned i = 0; i < DATA_SIZE; i++)
		buf[i] = (uint8_t)(i * 13);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || close(fd) != 0)
		abort();
	atexit(remove_source);
	archive = malloc(MAX_ARCHIVE);
	if (!archive)
		abort();
	return 0;
}

static uint32_t hex8(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10u : 16;
		if (d == 16)
			abort(); /* lbvm writes upper-case hex, as GNU cpio does */
		v = v << 4 | d;
	}
	return v;
}

static size_t align4(size_t v) { return (v + 3) & ~(size_t)3; }

/* Walk the archive and compare it with the tree. */
static void check_archive(const uint8_t *a, size_t len, const struct fs_tree *t)
{
	size_t off = 0;
	for (size_t m = 0; m < t->count + 2; m++) {
		if (len - off < CPIO_NEWC_HEADER_LEN || memcmp(a + off, CPIO_NEWC_MAGIC, 6) != 0)
			abort();
		uint32_t f[13];
		for (int i = 0; i < 13; i++)
			f[i] = hex8(a + off + 6 + 8 * i);
		uint32_t mode = f[1], filesize = f[6], namesize = f[11];
		size_t name_at = off + CPIO_NEWC_HEADER_LEN;
		if (namesize == 0 || namesize > len - name_at || a[name_at + namesize - 1] != '\0' ||
		    strlen((const char *)a + name_at) != namesize - 1)
			abort();
		const char *name = (const char *)a + name_at;
		const char *want = m == 0 ? "." : m == t->count + 1 ? CPIO_TRAILER : t->entries[m - 1].path;
		if (strcmp(name, want) != 0)
			abort();
		if (m >= 1 && m <= t->count) {
			const struct fs_entry *e = &t->entries[m - 1];
			bool carries = S_ISLNK(e->mode) || (S_ISREG(e->mode) && e->link_last == m - 1);
			if (mode != e->mode || filesize != (carries ? e->size : 0))
				abort();
			if (S_ISLNK(e->mode) && memcmp(a + align4(name_at + namesize), e->target, e->size) != 0)
				abort();
		}
		off = align4(name_at + namesize);
		if (filesize > len - off)
			abort();
		off = align4(off + filesize);
		if (off > len)
			abort();
	}
	if (off != len)
		abort();
}

static size_t gunzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		abort();
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int zr = inflate(&z, Z_FINISH);
	size_t n = cap - z.avail_out;
	inflateEnd(&z);
	if (zr != Z_STREAM_END)
		abort(); /* the writer's gzip stream must be complete and valid */
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t types[] = { S_IFDIR, S_IFREG, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK };
	struct fuzz_input in = { data, size };
	uint8_t flags = (uint8_t)fuzz_take(&in, 1);
	struct fs_tree t;
	fstree_init(&t);
	t.root_mode = S_IFDIR | 0755;
	for (unsigned n = 0; in.left && n < MAX_ENTRIES; n++) {
		uint8_t kind = (uint8_t)fuzz_take(&in, 1);
		char name[MAX_NAME + 1];
		size_t nlen = fuzz_take(&in, 1) % 24 + (kind & 0x80 ? 256 : 0);
		if (nlen > MAX_NAME)
			nlen = MAX_NAME;
		for (size_t i = 0; i < nlen; i++)
			name[i] = (char)fuzz_take(&in, 1);
		name[nlen] = '\0';
		struct fs_entry e;
		memset(&e, 0, sizeof(e));
		e.path = fstree_normalise(name);
		if (!e.path)
			continue; /* "." or ".." or an empty component: refused, as it must be */
		if (!e.path[0] || strstr(e.path, "//") || e.path[strlen(e.path) - 1] == '/') {
			if (e.path[0] && (strstr(e.path, "//") || e.path[strlen(e.path) - 1] == '/'))
				abort(); /* normalise let an empty component through */
			free(e.path);
			continue;
		}
		e.mode = types[kind & 7] | (uint32_t)(fuzz_take(&in, 2) & 07777);
		e.uid = (uint32_t)fuzz_take(&in, 1);
		e.rdev_major = kind >> 3 & 7;
		if (S_ISREG(e.mode)) {
			e.size = fuzz_take(&in, 2) % (DATA_SIZE + 1);
			e.source = e.size ? strdup(source) : NULL;
			e.host_dev = 1;
			e.host_ino = kind >> 4; /* 0: a file of its own; else a hard-link group */
			if (e.size && !e.source)
				abort();
		} else if (S_ISLNK(e.mode)) {
			size_t tlen = fuzz_take(&in, 1);
			e.target = malloc(tlen + 1);
			if (!e.target)
				abort();
			for (size_t i = 0; i < tlen; i++)
				e.target[i] = (char)fuzz_take(&in, 1);
			e.target[tlen] = '\0';
			e.size = strlen(e.target);
		}
		if (fstree_add(&t, &e))
			abort();
	}
	struct error err = { 0 };
	if (fstree_finish(&t, &err) != 0) {
		if (!err.msg[0])
			abort();
		fstree_free(&t);
		return 0;
	}
	int fd = memfd_create("fuzz-cpio", 0);
	if (fd < 0)
		abort();
	struct cpio_writer w;
	bool gzip = flags & 1;
	int rc = cpio_writer_init(&w, fd, "memfd", gzip, &err);
	if (!rc)
		rc = initramfs_write_tree(&w, &t, 1700000000);
	cpio_writer_free(&w);
	if (rc != 0) {
		/* the only refusal a finished tree may meet here: hard-link groups whose members differ in size */
		if (!err.msg[0])
			abort();
	} else {
		off_t len = lseek(fd, 0, SEEK_END);
		if (len <= 0 || (size_t)len > MAX_ARCHIVE)
			abort();
		uint8_t *raw = malloc((size_t)len);
		if (!raw || pread(fd, raw, (size_t)len, 0) != len)
			abort();
		size_t alen = gzip ? gunzip(raw, (size_t)len, archive, MAX_ARCHIVE) : (size_t)len;
		check_archive(gzip ? archive : raw, alen, &t);
		free(raw);
	}
	close(fd);
	fstree_free(&t);
	return 0;
}
