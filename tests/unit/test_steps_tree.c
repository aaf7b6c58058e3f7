/* The current layout on the synthetic tree (tests/bootstrap/make-current-tree.sh): detection and its
 * messages, the plan in each mode (and its agreement with the tree's own generator), the distfiles
 * before and after the network, the target tree, the --kernel disk, the kernel bootstrap's file
 * stream, and bit-reproducibility whatever the checkout's umask, times or extra .git entries. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/extfs_read.h"
#include "image/fstree_write.h"
#include "image/mbr.h"
#include "steps_fixture.h"

#define SMALL_DISK (STEPS_DISK_PART_OFFSET + (64ull << 20))

static char *scratch; /* made once per test case: scratch/tree is the synthetic tree */
static char *tree;
static char *distfiles;
static struct error err;

static void make_tree(void)
{
	scratch = sx_make_tree("--no-fixtures");
	tree = fx_path(scratch, "tree");
	distfiles = fx_path(tree, "distfiles");
}

static void drop_tree(void)
{
	free(tree);
	free(distfiles);
	fx_rmtree(scratch);
}

/* A copy of the tree in a new scratch directory, to break. */
static char *copy_tree(char **dir)
{
	*dir = fx_tmpdir();
	char *t = fx_path(*dir, "tree");
	sx_run("cp -R %s %s", tree, t);
	return t;
}

static void detect_fails(const char *t, const char *why)
{
	err = (struct error){ 0 };
	ck_assert_int_ne(steps_detect(t, &err), 0);
	ck_assert_msg(strstr(err.msg, why), "'%s' lacks '%s'", err.msg, why);
	ck_assert_int_eq(error_exit_status(&err), 2);
}

/* A copy of the tree broken by CMD (%s: the copy; a second %s too), refused with WHY. */
static void broken_copy(const char *cmd, const char *why)
{
	char *d;
	char *t = copy_tree(&d);
	sx_run(cmd, t, t);
	detect_fails(t, why);
	free(t);
	fx_rmtree(d);
}

START_TEST(detection)
{
	ck_assert_msg(steps_detect(tree, &err) == 0, "%s", err.msg);
	ck_assert(steps_is_current_layout(tree));
	char *d = fx_tmpdir();
	detect_fails(d, "is not a live-bootstrap tree (it has neither steps/manifest nor seed/)");
	ck_assert(!steps_is_current_layout(d));
	fx_mkdir(d, "sysa");
	fx_mkdir(d, "sysc");
	detect_fails(d, "has the 2021 live-bootstrap layout (sysa/ sysb/ sysc/)");
	fx_write(d, "file", "x", 0644);
	char *f = fx_path(d, "file");
	detect_fails(f, "is not a directory");
	free(f);
	fx_rmtree(d);

	broken_copy("rm -rf %s/seed", "a live-bootstrap layout lbvm does not know (it has steps/manifest but no seed/)");
	broken_copy("rm %s/seed/seed.kaem", "steps/manifest is there but seed/seed.kaem is missing");
	broken_copy("rm -rf %s/seed/stage0-posix/* %s/seed/stage0-posix/.??*",
		    "seed/stage0-posix is empty: the submodules are not checked out (run `git submodule update "
		    "--init --recursive` in the tree)");
	broken_copy("rm -rf %s/seed/stage0-posix/M2libc/*",
		    "seed/stage0-posix/M2libc is empty: stage0-posix's own submodules are not checked out");
	broken_copy("rm %s/seed/stage0-posix/bootstrap-seeds/POSIX/x86/kaem-optional-seed",
		    "a stage0-posix lbvm does not know (seed/stage0-posix/bootstrap-seeds/POSIX/x86/"
		    "kaem-optional-seed is missing)");
}
END_TEST

static void plan_is(enum steps_mode mode, struct steps_options *o, const char *const *names, size_t n)
{
	struct steps_config cfg;
	sx_config(&cfg, mode, o);
	struct plan p;
	sx_check_agreement(tree, &cfg, &p);
	for (size_t i = 0; i < p.n_steps && i < n; i++)
		ck_assert_msg(!strcmp(p.steps[i].name, names[i]), "mode %d step %zu: %s, not %s", mode, i,
			      p.steps[i].name, names[i]);
	ck_assert_uint_eq(p.n_steps, n);
	plan_free(&p);
	steps_config_free(&cfg);
}

#define N(a) (sizeof(a) / sizeof(a[0]))

START_TEST(plans_in_every_mode)
{
	static const char *const chroot[] = {
		"stage0-posix", "hello-1.0 pass1", "greet", "hello-1.0 pass2", "bash-1.0", "setup_repo", "merged_usr",
		"populate_device_nodes #1", "hello-1.0 pass3", "words-1.0", "populate_device_nodes #2",
		"fetched-1.0", "after",
	};
	static const char *const kernel[] = {
		"stage0-posix", "hello-1.0 pass1", "greet", "hello-1.0 pass2", "bash-1.0", "setup_repo", "merged_usr",
		"populate_device_nodes #1", "hello-1.0 pass3", "words-1.0", "restart", "populate_device_nodes #2",
		"get_network", "fetched-1.0", "after",
	};
	static const char *const kernel_bootstrap[] = {
		"stage0-posix", "hello-1.0 pass1", "extra-1.0", "tools-1.0", "early", "greet", "hello-1.0 pass2",
		"bash-1.0", "setup_repo", "merged_usr", "populate_device_nodes #1", "hello-1.0 pass3", "words-1.0",
		"restart", "populate_device_nodes #2", "get_network", "fetched-1.0", "after",
	};
	static const char *const kernel_options[] = {
		"stage0-posix", "hello-1.0 pass1", "tools-1.0", "greet", "hello-1.0 pass2", "bash-1.0", "setup_repo",
		"merged_usr", "populate_device_nodes #1", "open_console", "hello-1.0 pass3", "words-1.0", "restart",
		"populate_device_nodes #2", "get_network", "fetched-1.0", "after",
	};
	struct steps_options o;
	steps_options_init(&o);
	plan_is(STEPS_MODE_CHROOT, &o, chroot, N(chroot));
	plan_is(STEPS_MODE_KERNEL, &o, kernel, N(kernel));
	plan_is(STEPS_MODE_KERNEL_BOOTSTRAP, &o, kernel_bootstrap, N(kernel_bootstrap));
	/* --build-kernels sets BUILD_TOOLS through the define; --interactive outside a chroot, CONSOLES */
	o.build_kernels = true;
	o.interactive = true;
	plan_is(STEPS_MODE_KERNEL, &o, kernel_options, N(kernel_options));
	o.build_kernels = o.interactive = false;

	/* the lines and distfiles of a few steps, --kernel mode */
	struct steps_config cfg;
	sx_config(&cfg, STEPS_MODE_KERNEL, &o);
	struct plan p;
	plan_init(&p);
	ck_assert_int_eq(steps_plan(tree, &cfg, &p, &err), 0);
	ck_assert_str_eq(p.steps[1].begin_line, " +> pkg=hello-1.0");
	ck_assert_str_eq(p.steps[1].stage, "kaem");
	ck_assert_str_eq(p.steps[1].script, "pass1.kaem");
	ck_assert_str_eq(p.steps[2].begin_line, " +> kaem --file /steps/improve/greet.sh");
	ck_assert_str_eq(p.steps[4].stage, "kaem"); /* bash-1.0 is built by kaem */
	ck_assert_str_eq(p.steps[5].stage, "bash");
	ck_assert_ptr_null(p.steps[5].begin_line);
	ck_assert_str_eq(p.steps[8].begin_line, "hello-1.0: beginning build using script pass3.sh");
	ck_assert_str_eq(p.steps[8].end_line, "hello-1.0: build successful");
	ck_assert_uint_eq(p.steps[9].n_distfiles, 1);
	ck_assert_str_eq(p.steps[9].distfiles[0], "words-1.0.tar.gz"); /* the name the sources line gives */
	ck_assert_int_eq(p.steps[10].kind, PLAN_JUMP);
	ck_assert_str_eq(p.steps[13].distfiles[0], "fetched-1.0.tar.gz");
	plan_free(&p);
	steps_config_free(&cfg);

	/* --repo with hello-1.0's first package prebuilt: its bash-era build installs it instead */
	char *repo = fx_tmpdir();
	fx_write(repo, "hello-1.0_0.tar.bz2", "prebuilt", 0644);
	o.repo = strdup(repo);
	sx_config(&cfg, STEPS_MODE_KERNEL, &o);
	plan_init(&p);
	ck_assert_int_eq(steps_plan(tree, &cfg, &p, &err), 0);
	ck_assert_str_eq(p.steps[8].begin_line, "hello-1.0: installing prebuilt package.");
	ck_assert_ptr_null(p.steps[8].end_line);
	ck_assert_str_eq(p.steps[9].begin_line, "words-1.0: beginning build using script pass1.sh");
	plan_free(&p);
	steps_config_free(&cfg);
	steps_options_free(&o);
	fx_rmtree(repo);
}
END_TEST

static void names_are(const struct manifest *m, const char *const *names, size_t n)
{
	for (size_t i = 0; i < m->n_files && i < n; i++)
		ck_assert_str_eq(m->files[i].name, names[i]);
	ck_assert_uint_eq(m->n_files, n);
}

START_TEST(distfiles_before_and_after_the_network)
{
	/* every build line before `improve: get_network` counts, whatever its predicate (tools-1.0 is
	 * built only by the kernel bootstrap, its tarball goes on every disk), as generator.py reads it */
	static const char *const pre[] = { "hello-1.0.tar.gz", "tools-1.0.tar.gz", "words-1.0.tar.gz" };
	static const char *const all[] = { "hello-1.0.tar.gz", "tools-1.0.tar.gz", "words-1.0.tar.gz",
					   "fetched-1.0.tar.gz" };
	struct manifest m;
	manifest_init(&m);
	ck_assert_msg(steps_disk_distfiles(tree, false, &m, &err) == 0, "%s", err.msg);
	names_are(&m, pre, N(pre));
	manifest_free(&m);
	manifest_init(&m);
	ck_assert_int_eq(steps_disk_distfiles(tree, true, &m, &err), 0);
	names_are(&m, all, N(all));
	/* with the hashes the tree's sources files give */
	uint8_t digest[SHA256_BYTES];
	char *hello = fx_path(distfiles, "hello-1.0.tar.gz");
	ck_assert_int_eq(sha256_file(hello, digest), 0);
	ck_assert_int_eq(memcmp(digest, m.files[0].sha256, SHA256_BYTES), 0);
	free(hello);
	manifest_free(&m);
}
END_TEST

static const struct fs_entry *entry(const struct fs_tree *t, const char *path)
{
	long i = fstree_find(t, path);
	return i < 0 ? NULL : &t->entries[i];
}

static void target_for(enum steps_mode mode, struct steps_options *o, struct fs_tree *t, struct steps_config *cfg)
{
	sx_config(cfg, mode, o);
	fstree_init(t);
	err = (struct error){ 0 };
	ck_assert_msg(steps_build_target(tree, cfg, distfiles, t, &err) == 0, "%s", err.msg);
}

START_TEST(target_trees)
{
	struct steps_options o;
	steps_options_init(&o);
	struct steps_config cfg;
	struct fs_tree t;
	target_for(STEPS_MODE_KERNEL, &o, &t, &cfg);
	const struct fs_entry *e = entry(&t, "init");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->mode, S_IFREG | 0755);
	ck_assert_ptr_nonnull(strstr(e->source, "seed/stage0-posix/bootstrap-seeds/POSIX/x86/kaem-optional-seed"));
	ck_assert_ptr_nonnull(entry(&t, "bootstrap-seeds/POSIX/x86/kaem-optional-seed"));
	e = entry(&t, "after.kaem"); /* seed's, over stage0-posix's own */
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(strstr(e->source, "/seed/after.kaem"));
	ck_assert_ptr_nonnull(entry(&t, "script-generator.awk"));
	ck_assert_ptr_nonnull(entry(&t, "kaem.x86"));
	ck_assert_ptr_nonnull(entry(&t, "x86/kaem.run"));
	ck_assert_ptr_null(entry(&t, "seed"));
	ck_assert_ptr_null(entry(&t, "distfiles"));
	e = entry(&t, "steps/bootstrap.cfg");
	ck_assert_ptr_nonnull(e);
	char *text;
	size_t len;
	ck_assert_int_eq(steps_config_write(&cfg, &text, &len, &err), 0);
	ck_assert_uint_eq(e->size, len);
	ck_assert_int_eq(memcmp(e->data, text, len), 0);
	free(text);
	ck_assert_uint_eq(entry(&t, "steps/manifest")->mode, S_IFREG | 0644);
	ck_assert_uint_eq(entry(&t, "steps/improve/after.sh")->mode, S_IFREG | 0755);
	ck_assert_uint_eq(entry(&t, "steps/improve")->mode, S_IFDIR | 0755);
	ck_assert_uint_eq(entry(&t, "external")->mode, S_IFDIR | 0755);
	ck_assert_ptr_nonnull(entry(&t, "external/distfiles/hello-1.0.tar.gz"));
	ck_assert_ptr_nonnull(entry(&t, "external/distfiles/tools-1.0.tar.gz"));
	ck_assert_ptr_nonnull(entry(&t, "external/distfiles/words-1.0.tar.gz"));
	ck_assert_ptr_null(entry(&t, "external/distfiles/fetched-1.0.tar.gz")); /* the guest fetches it */
	for (size_t i = 0; i < t.count; i++) {
		ck_assert_uint_eq(t.entries[i].uid, 0);
		ck_assert_uint_eq(t.entries[i].host_ino, 0);
		ck_assert(S_ISDIR(t.entries[i].mode) || S_ISREG(t.entries[i].mode));
	}
	fstree_free(&t);
	steps_config_free(&cfg);

	/* the kernel bootstrap's tree: no seeds, no /init (builder-hex0 makes them from hex0) */
	target_for(STEPS_MODE_KERNEL_BOOTSTRAP, &o, &t, &cfg);
	ck_assert_ptr_null(entry(&t, "init"));
	ck_assert_ptr_null(entry(&t, "bootstrap-seeds"));
	ck_assert_ptr_nonnull(entry(&t, "kaem.x86"));
	fstree_free(&t);
	steps_config_free(&cfg);

	/* --external-sources: every distfile; --repo: the prebuilt packages */
	char *repo = fx_tmpdir();
	fx_write(repo, "hello-1.0_0.tar.bz2", "prebuilt", 0600);
	o.repo = strdup(repo);
	o.external_sources = true;
	target_for(STEPS_MODE_CHROOT, &o, &t, &cfg);
	ck_assert_ptr_nonnull(entry(&t, "external/distfiles/fetched-1.0.tar.gz"));
	e = entry(&t, "external/repo-preseeded/hello-1.0_0.tar.bz2");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->mode, S_IFREG | 0644);
	ck_assert_ptr_nonnull(entry(&t, "init"));
	fstree_free(&t);
	steps_config_free(&cfg);

	/* the kernel bootstrap keeps them on a second disk */
	target_for(STEPS_MODE_KERNEL_BOOTSTRAP, &o, &t, &cfg);
	ck_assert_ptr_null(entry(&t, "external/distfiles/fetched-1.0.tar.gz"));
	ck_assert_ptr_null(entry(&t, "external/repo-preseeded"));
	fstree_free(&t);
	fstree_init(&t);
	ck_assert_msg(steps_build_external(tree, &cfg, distfiles, &t, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(entry(&t, "distfiles/fetched-1.0.tar.gz"));
	ck_assert_ptr_nonnull(entry(&t, "repo-preseeded/hello-1.0_0.tar.bz2"));
	fstree_free(&t);
	steps_config_free(&cfg);
	sx_config(&cfg, STEPS_MODE_KERNEL, &o);
	fstree_init(&t);
	ck_assert_int_eq(steps_build_external(tree, &cfg, distfiles, &t, &err), -EINVAL);
	fstree_free(&t);
	steps_config_free(&cfg);
	steps_options_free(&o);
	fx_rmtree(repo);
}
END_TEST

START_TEST(target_refusals)
{
	char *d;
	char *t = copy_tree(&d);
	char *dist = fx_path(t, "distfiles");
	sx_run("rm %s/words-1.0.tar.gz%s", dist, "");
	struct steps_options o;
	steps_options_init(&o);
	struct steps_config cfg;
	sx_config(&cfg, STEPS_MODE_KERNEL, &o);
	struct fs_tree ft;
	fstree_init(&ft);
	err = (struct error){ 0 };
	ck_assert_int_eq(steps_build_target(t, &cfg, dist, &ft, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "1 distfile the target needs is not in "));
	ck_assert_ptr_nonnull(strstr(err.msg, "(the first: words-1.0.tar.gz)"));
	ck_assert_int_eq(error_exit_status(&err), 2);
	fstree_free(&ft);
	/* --until: a later step's file may be missing */
	cfg.missing_distfiles_ok = true;
	fstree_init(&ft);
	err = (struct error){ 0 };
	ck_assert_msg(steps_build_target(t, &cfg, dist, &ft, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(entry(&ft, "external/distfiles/words-1.0.tar.gz"));
	ck_assert_ptr_nonnull(entry(&ft, "external/distfiles/hello-1.0.tar.gz"));
	fstree_free(&ft);
	cfg.missing_distfiles_ok = false;
	/* a dangling symlink in the checkout: the harness could not copy it either */
	sx_run("touch %s/words-1.0.tar.gz && ln -s nowhere %s/steps/hello-1.0/dangling", dist, t);
	fstree_init(&ft);
	err = (struct error){ 0 };
	ck_assert_int_ne(steps_build_target(t, &cfg, dist, &ft, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "steps/hello-1.0/dangling"));
	fstree_free(&ft);
	/* a symlink inside the checkout is followed (copied, as the harness copies); one that leads out of
	 * it would carry a host file into the image: refused */
	sx_run("rm %s/steps/hello-1.0/dangling && ln -s ../env %s/steps/hello-1.0/env-link", t, t);
	fstree_init(&ft);
	err = (struct error){ 0 };
	ck_assert_msg(steps_build_target(t, &cfg, dist, &ft, &err) == 0, "%s", err.msg);
	const struct fs_entry *link = entry(&ft, "steps/hello-1.0/env-link");
	ck_assert_ptr_nonnull(link);
	ck_assert_uint_eq(link->mode, S_IFREG | 0644);
	ck_assert_uint_eq(link->size, entry(&ft, "steps/env")->size);
	fstree_free(&ft);
	sx_run("ln -s /etc/passwd %s/steps/hello-1.0/leak%s", t, "");
	fstree_init(&ft);
	err = (struct error){ 0 };
	ck_assert_int_eq(steps_build_target(t, &cfg, dist, &ft, &err), -EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "steps/hello-1.0/leak is a symlink out of the tree (to /etc/passwd)"));
	ck_assert_int_eq(error_exit_status(&err), 2);
	fstree_free(&ft);
	steps_config_free(&cfg);
	steps_options_free(&o);
	free(dist);
	free(t);
	fx_rmtree(d);
}
END_TEST

/* The bytes of A's data regions (SEEK_DATA) equal B's at the same offsets; holes read as zeros. */
static void data_of_a_in_b(int fa, int fb, off_t size)
{
	static char ba[1 << 20], bb[1 << 20];
	off_t at = 0;
	while (at < size) {
		off_t data = lseek(fa, at, SEEK_DATA);
		if (data < 0)
			break;
		off_t hole = lseek(fa, data, SEEK_HOLE);
		for (off_t o = data; o < hole; o += (off_t)sizeof(ba)) {
			size_t n = (size_t)(hole - o < (off_t)sizeof(ba) ? hole - o : (off_t)sizeof(ba));
			ck_assert_int_eq(pread(fa, ba, n, o), (ssize_t)n);
			ck_assert_int_eq(pread(fb, bb, n, o), (ssize_t)n);
			ck_assert_msg(memcmp(ba, bb, n) == 0, "the images differ near byte %lld", (long long)o);
		}
		at = hole;
	}
}

/* Two (sparse) files with the same bytes. */
static void same_bytes(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	ck_assert_int_ge(fa, 0);
	ck_assert_int_ge(fb, 0);
	struct stat sa, sb;
	ck_assert_int_eq(fstat(fa, &sa), 0);
	ck_assert_int_eq(fstat(fb, &sb), 0);
	ck_assert_int_eq(sa.st_size, sb.st_size);
	data_of_a_in_b(fa, fb, sa.st_size);
	data_of_a_in_b(fb, fa, sa.st_size);
	close(fa);
	close(fb);
}

static void disk_of(const char *t, const char *dist, const char *out)
{
	struct steps_options o;
	steps_options_init(&o);
	struct steps_config cfg;
	sx_config(&cfg, STEPS_MODE_KERNEL, &o);
	struct fs_tree ft;
	fstree_init(&ft);
	err = (struct error){ 0 };
	ck_assert_msg(steps_build_target(t, &cfg, dist, &ft, &err) == 0, "%s", err.msg);
	ck_assert_msg(steps_build_disk(&ft, out, SMALL_DISK, 1, &err) == 0, "%s", err.msg);
	fstree_free(&ft);
	steps_config_free(&cfg);
	steps_options_free(&o);
}

START_TEST(disk_reads_back_and_is_reproducible)
{
	char *w = fx_tmpdir();
	char *img = fx_path(w, "a.img"), *img2 = fx_path(w, "b.img");
	disk_of(tree, distfiles, img);
	/* msdos label, one Linux partition from exactly 1 GiB to the end */
	int fd = open(img, O_RDONLY);
	uint8_t sector[MBR_SECTOR_SIZE];
	ck_assert_int_eq(pread(fd, sector, sizeof(sector), 0), (ssize_t)sizeof(sector));
	close(fd);
	struct mbr_part parts[MBR_MAX_PARTS];
	ck_assert(mbr_parse(sector, parts));
	ck_assert_uint_eq(parts[0].type, MBR_TYPE_LINUX);
	ck_assert_uint_eq(parts[0].start_lba, STEPS_DISK_PART_OFFSET / 512);
	ck_assert_uint_eq(parts[0].start_lba + parts[0].sectors, SMALL_DISK / 512);
	struct stat st;
	ck_assert_int_eq(stat(img, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, SMALL_DISK);
	ck_assert_uint_lt((uint64_t)st.st_blocks * 512, SMALL_DISK / 4); /* sparse */
	struct extfs *fs;
	ck_assert_msg(extfs_open(&fs, img, 0, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(extfs_fs_offset(fs), STEPS_DISK_PART_OFFSET);
	struct extfs_stat es;
	ck_assert_int_eq(extfs_stat(fs, "/init", &es, &err), 0);
	ck_assert_uint_eq(es.mode, S_IFREG | 0755);
	ck_assert_uint_eq(es.uid, 0);
	ck_assert_int_eq(extfs_stat(fs, "/steps/bootstrap.cfg", &es, &err), 0);
	char *cfgout = fx_path(w, "cfg");
	int out = open(cfgout, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_eq(extfs_cat(fs, "/steps/bootstrap.cfg", out, &err), 0);
	close(out);
	size_t len;
	unsigned char *cfgtext = fx_slurp(cfgout, &len);
	cfgtext[len] = '\0';
	ck_assert_ptr_nonnull(strstr((char *)cfgtext, "CHROOT=False\nUPDATE_CHECKSUMS=False\n"));
	ck_assert_ptr_nonnull(strstr((char *)cfgtext, "DISK=sda1\nKERNEL_BOOTSTRAP=False\n"));
	free(cfgtext);
	ck_assert_int_eq(extfs_stat(fs, "/external/distfiles/hello-1.0.tar.gz", &es, &err), 0);
	extfs_close(fs);

	/* the same checkout as a user with umask 077 would have it, with other times and .git entries:
	 * the same bytes */
	char *d;
	char *t = copy_tree(&d);
	sx_run("chmod -R go-rwx %s && find %s -type f -exec touch -d @123456789 {} +", t, t);
	sx_run("echo 'gitdir: ../../.git/modules/seed/stage0-posix' > %s/seed/stage0-posix/.git && "
	       "mkdir -p %s/steps/.git/objects", t, t);
	sx_run("touch -d @987654321 %s/steps/manifest %s/seed", t, t);
	char *dist2 = fx_path(t, "distfiles");
	disk_of(t, dist2, img2);
	same_bytes(img, img2);
	/* and the size is the user's to choose, within reason */
	struct fs_tree ft;
	fstree_init(&ft);
	ck_assert_int_eq(steps_build_disk(&ft, img2, 512ull << 20, 1, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "at least 1 GiB"));
	fstree_free(&ft);
	free(dist2);
	free(t);
	fx_rmtree(d);
	free(cfgout);
	free(img);
	free(img2);
	fx_rmtree(w);
}
END_TEST

START_TEST(kernel_bootstrap_stream)
{
	char *d;
	char *t = copy_tree(&d);
	char *dist = fx_path(t, "distfiles");
	/* a file git would carry (.gitattributes): on the disks, but not in generator.py's stream */
	fx_write(t, "steps/hello-1.0/.gitattributes", "* text\n", 0644);
	struct steps_options o;
	steps_options_init(&o);
	struct steps_config cfg;
	sx_config(&cfg, STEPS_MODE_KERNEL_BOOTSTRAP, &o);
	struct fs_tree ft;
	fstree_init(&ft);
	ck_assert_int_eq(steps_build_target(t, &cfg, dist, &ft, &err), 0);
	ck_assert_ptr_nonnull(entry(&ft, "steps/hello-1.0/.gitattributes"));
	struct steps_srcfs s;
	ck_assert_int_eq(steps_srcfs_list(t, &ft, &s, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "builder-hex0 is not checked out"));
	err = (struct error){ 0 };
	fx_mkdir(t, "builder-hex0");
	fx_write(t, "builder-hex0/builder-hex0-x86-stage1.hex0", "EB FE\n", 0644);
	fx_write(t, "builder-hex0/builder-hex0-x86-stage2.hex0", "# stage 2\n", 0644);
	ck_assert_msg(steps_srcfs_list(t, &ft, &s, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(s.stage1, "builder-hex0/builder-hex0-x86-stage1.hex0"));
	/* ".", the top's folders, the top's files, then folder by folder */
	static const char *const head[] = {
		".", "./M2-Mesoplanet", "./M2-Planet", "./M2libc", "./external", "./lib", "./mescc-tools",
		"./mescc-tools-extra", "./steps", "./x86", "./after.kaem", "./busybox-links.sh", "./kaem.run",
		"./kaem.x86", "./script-generator.awk", "./seed.kaem", "./x86.answers", "./M2-Mesoplanet/README",
		"./M2-Planet/README", "./M2libc/README", "./external/distfiles",
		"./external/distfiles/hello-1.0.tar.gz",
	};
	for (size_t i = 0; i < N(head); i++)
		ck_assert_msg(!strcmp(s.items[i].text, head[i]), "item %zu: %s, not %s", i, s.items[i].text, head[i]);
	ck_assert_int_eq(s.items[0].kind, STEPS_SRCFS_DIR);
	ck_assert_int_eq(s.items[10].kind, STEPS_SRCFS_FILE);
	ck_assert_str_eq(s.items[10].entry->path, "after.kaem");
	size_t files = 0, dirs = 0;
	bool cfg_seen = false;
	for (size_t i = 0; i < s.n; i++) {
		ck_assert_ptr_null(strstr(s.items[i].text, ".git"));
		files += s.items[i].kind == STEPS_SRCFS_FILE;
		dirs += s.items[i].kind == STEPS_SRCFS_DIR;
		if (!strcmp(s.items[i].text, "./steps/bootstrap.cfg")) {
			cfg_seen = true;
			ck_assert_ptr_nonnull(s.items[i].entry->data);
			ck_assert_ptr_nonnull(strstr((const char *)s.items[i].entry->data, "KERNEL_BOOTSTRAP=True\n"));
		}
	}
	ck_assert(cfg_seen);
	/* every file and folder of the tree but the .git one, plus the three seed folders at the end */
	ck_assert_uint_eq(files + dirs, ft.count - 1 + 1 + 3);
	ck_assert_str_eq(s.items[s.n - 7].text, "/bootstrap-seeds");
	ck_assert_str_eq(s.items[s.n - 4].text, "hex0 /x86/hex0_x86.hex0 /bootstrap-seeds/POSIX/x86/hex0-seed");
	ck_assert_str_eq(s.items[s.n - 2].text, "hex0 /x86/kaem-minimal.hex0 /init");
	ck_assert_str_eq(s.items[s.n - 1].text, "/bootstrap-seeds/POSIX/x86/kaem-optional-seed /kaem.x86");
	ck_assert_int_eq(s.items[s.n - 1].kind, STEPS_SRCFS_COMMAND);
	steps_srcfs_free(&s);
	fstree_free(&ft);
	steps_config_free(&cfg);
	steps_options_free(&o);
	free(dist);
	free(t);
	fx_rmtree(d);
}
END_TEST

/* The chroot mode's tree, written out as a directory (what the chroot runner runs as /init). */
START_TEST(chroot_tree_written_out)
{
	struct steps_options o;
	steps_options_init(&o);
	struct steps_config cfg;
	struct fs_tree t;
	target_for(STEPS_MODE_CHROOT, &o, &t, &cfg);
	char *w = fx_tmpdir();
	char *root = fx_path(w, "root");
	ck_assert_int_eq(mkdir(root, 0755), 0);
	ck_assert_msg(fstree_write_dir(&t, root, &err) == 0, "%s", err.msg);
	char *init = fx_path(root, "init"), *cfgfile = fx_path(root, "steps/bootstrap.cfg");
	struct stat st;
	ck_assert_int_eq(stat(init, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	size_t len;
	unsigned char *text = fx_slurp(cfgfile, &len);
	char *want;
	size_t want_len;
	ck_assert_int_eq(steps_config_write(&cfg, &want, &want_len, &err), 0);
	ck_assert_uint_eq(len, want_len);
	ck_assert_int_eq(memcmp(text, want, len), 0);
	ck_assert_ptr_nonnull(memmem(text, len, "CHROOT=True\n", 12));
	free(want);
	free(text);
	free(init);
	free(cfgfile);
	free(root);
	fx_rmtree(w);
	fstree_free(&t);
	steps_config_free(&cfg);
	steps_options_free(&o);
}
END_TEST

/* With Debian's binaries in it (the fixtures `make unit` fetches): the tree a guest can run. */
START_TEST(tree_with_fixtures)
{
	char *d = sx_make_tree("--drop-checksum words-1.0");
	char *t = fx_path(d, "tree");
	ck_assert_msg(steps_detect(t, &err) == 0, "%s", err.msg);
	char *kaem = fx_path(t, "seed/stage0-posix/bootstrap-seeds/POSIX/x86/kaem-optional-seed");
	size_t len;
	unsigned char *elf = fx_slurp(kaem, &len);
	ck_assert_uint_gt(len, 4);
	ck_assert_int_eq(memcmp(elf, "\x7f" "ELF", 4), 0);
	free(elf);
	char *sums = fx_path(t, "steps/SHA256SUMS.pkgs");
	unsigned char *text = fx_slurp(sums, &len);
	text[len] = '\0';
	ck_assert_ptr_nonnull(strstr((char *)text, "  hello-1.0_0.tar.bz2\n"));
	ck_assert_ptr_null(strstr((char *)text, "words-1.0"));
	free(text);
	free(sums);
	free(kaem);
	free(t);
	fx_rmtree(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("steps_tree");
	TCase *tc = tcase_create("synthetic");
	tcase_add_unchecked_fixture(tc, make_tree, drop_tree);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, detection);
	tcase_add_test(tc, plans_in_every_mode);
	tcase_add_test(tc, distfiles_before_and_after_the_network);
	tcase_add_test(tc, target_trees);
	tcase_add_test(tc, target_refusals);
	tcase_add_test(tc, disk_reads_back_and_is_reproducible);
	tcase_add_test(tc, kernel_bootstrap_stream);
	tcase_add_test(tc, chroot_tree_written_out);
	tcase_add_test(tc, tree_with_fixtures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
