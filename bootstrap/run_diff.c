#include "bootstrap/run_diff.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap/diff2021.h"
#include "bootstrap/diff_bytes.h"
#include "bootstrap/diff_inputs.h"
#include "bootstrap/diff_packages.h"
#include "bootstrap/layout.h"
#include "bootstrap/member_diff.h"
#include "bootstrap/run_files.h"
#include "bootstrap/run_json.h"
#include "common/printable.h"
#include "image/archive_members.h"
#include "sources/sha256.h"

/* What a run directory holds (bootstrap/prepare_current.c, bootstrap/prepare2021.c, chroot_run.c). */
#define RUN_DISK_CURRENT "disk.img"
#define RUN_TREE_CURRENT "target"
#define RUN_DISK_2021 "sysc-disk.img"
#define RUN_INITRAMFS_2021 "sysa-initramfs.cpio"
#define RUN_TREE_SYSA "sysa"
#define RUN_TREE_SYSC "sysc"
#define RUN_CONFIG "bootstrap.cfg"
/* What the current layout's chain writes in its system (live-bootstrap's steps/helpers.sh). */
#define REPO_DIR "/external/repo"
#define PKG_SUMS "/steps/SHA256SUMS.pkgs"
#define TEXT_MAX (16u << 20)
#define DETAIL_LINES 500         /* members or files listed for the first difference */
#define SHOW 512

struct side {
	const char *dir;
	const char *label;          /* "A", "B" */
	struct run_info info;
	struct run_files *files;    /* the system: the disk, or the chroot trees */
	struct run_files *sysa;     /* 2021 --chroot: the sysa tree */
	struct archive_members cpio;/* 2021 VM: the lists kept from the sysa initramfs */
	bool have_cpio;
	char *cfg;                  /* RUN/bootstrap.cfg, NULL when the run has none */
	char *sums;                 /* current layout: the system's SHA256SUMS.pkgs, NULL when absent */
};

struct differ {
	const struct run_diff_options *o;
	FILE *out;
	struct error *err;
	struct side s[2];
	bool is2021;
	struct diff_pkgs pkgs;
	struct diff2021 files2021;
	struct diff_bytes bytes;
};

/* ---- opening a run ---- */

static int path_in(char *buf, size_t len, const char *dir, const char *name)
{
	return snprintf(buf, len, "%s/%s", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* A small text file of the run directory itself (not of the guest's system). NULL when absent. */
static int read_run_text(const char *dir, const char *name, char **out, struct error *err)
{
	char path[PATH_MAX];
	*out = NULL;
	if (path_in(path, sizeof(path), dir, name))
		return error_fail(err, -ENAMETOOLONG, "%s: path too long", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : error_fail(err, -errno, "%s: %s", path, strerror(errno));
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (m && (n = fread(buf, 1, sizeof(buf), f)) > 0 && len < TEXT_MAX)
		fwrite(buf, 1, n, m);
	int bad_read = ferror(f);
	fclose(f);
	if (!m || fclose(m) != 0) {
		free(text);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	if (bad_read || len >= TEXT_MAX || memchr(text, '\0', len)) {
		free(text);
		return error_fail(err, -EINVAL, "%s: not a text file lbvm wrote", path);
	}
	*out = text;
	return 0;
}

static int need_file(const char *dir, const char *name, const char *why, char *path, size_t len, struct error *err)
{
	struct stat st;
	if (path_in(path, len, dir, name))
		return error_fail(err, -ENAMETOOLONG, "%s: path too long", dir);
	if (stat(path, &st) != 0)
		return error_fail(err, -errno, "%s: %s (%s)", path, strerror(errno), why);
	return 0;
}

static int open_current(struct side *s, bool chroot, struct error *err)
{
	char path[PATH_MAX];
	if (chroot) {
		int rc = need_file(s->dir, RUN_TREE_CURRENT, "a --chroot run keeps its system there", path, sizeof(path),
				   err);
		const char *dirs[1] = { path };
		return rc ? rc : run_files_open_dirs(&s->files, dirs, 1, err);
	}
	int rc = need_file(s->dir, RUN_DISK_CURRENT, "a VM run keeps its disk there", path, sizeof(path), err);
	return rc ? rc : run_files_open_disk(&s->files, path, err);
}

static int open_2021(struct side *s, bool chroot, struct error *err)
{
	char sysa[PATH_MAX], sysc[PATH_MAX];
	if (chroot) {
		int rc = need_file(s->dir, RUN_TREE_SYSC, "a --chroot run keeps sysc's system there", sysc,
				   sizeof(sysc), err);
		if (!rc)
			rc = need_file(s->dir, RUN_TREE_SYSA, "a --chroot run keeps sysa's system there", sysa,
				       sizeof(sysa), err);
		const char *both[2] = { sysc, sysa }, *one[1] = { sysa };
		if (!rc)
			rc = run_files_open_dirs(&s->files, both, 2, err);
		return rc ? rc : run_files_open_dirs(&s->sysa, one, 1, err);
	}
	int rc = need_file(s->dir, RUN_DISK_2021, "a VM run keeps sysc's disk there", sysc, sizeof(sysc), err);
	if (!rc)
		rc = run_files_open_disk(&s->files, sysc, err);
	if (rc)
		return rc;
	/* sysa's package lists are in the initramfs the run booted */
	if (path_in(sysa, sizeof(sysa), s->dir, RUN_INITRAMFS_2021))
		return error_fail(err, -ENAMETOOLONG, "%s: path too long", s->dir);
	int fd = open(sysa, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : error_fail(err, -errno, "%s: %s", sysa, strerror(errno));
	rc = archive_members_read(fd, sysa, diff2021_keep_list, NULL, &s->cpio, err);
	close(fd);
	s->have_cpio = rc == 0;
	return rc;
}

static int open_side(struct differ *d, int i)
{
	struct side *s = &d->s[i];
	int rc = run_json_load(s->dir, &s->info, d->err);
	if (rc)
		return rc;
	if (strcmp(s->info.layout, bootstrap_layout_name(LAYOUT_CURRENT)) &&
	    strcmp(s->info.layout, bootstrap_layout_name(LAYOUT_2021))) {
		char l[SHOW];
		return error_fail(d->err, -EINVAL, "%s/run.json: layout '%s' is not one lbvm diff knows", s->dir,
			       printable(l, sizeof(l), s->info.layout));
	}
	return read_run_text(s->dir, RUN_CONFIG, &s->cfg, d->err);
}

static void close_side(struct side *s)
{
	run_json_free(&s->info);
	run_files_close(s->files);
	run_files_close(s->sysa);
	if (s->have_cpio)
		archive_members_free(&s->cpio);
	free(s->cfg);
	free(s->sums);
}

/* ---- the report's parts ---- */

static size_t steps_ok(const struct run_info *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_steps; i++)
		n += !strcmp(r->steps[i].outcome, "ok");
	return n;
}

static void print_header(struct differ *d)
{
	fprintf(d->out, "layout: %s\n", d->s[0].info.layout);
	for (int i = 0; i < 2; i++) {
		const struct side *s = &d->s[i];
		char dir[SHOW], outcome[SHOW];
		fprintf(d->out, "%s: %s (%s run, %s: %zu of %zu steps ok)\n", s->label, printable(dir, sizeof(dir), s->dir),
			run_json_is_chroot(&s->info) ? "chroot" : "VM",
			s->info.ended ? printable(outcome, sizeof(outcome), s->info.outcome) : "did not end",
			steps_ok(&s->info), s->info.n_steps);
	}
}

static bool updates_checksums(const char *cfg)
{
	char v[16];
	keyed_value(KEYED_ASSIGN, cfg, "UPDATE_CHECKSUMS", v, sizeof(v));
	return !strcmp(v, "True");
}

static int print_inputs(struct differ *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return error_fail(d->err, -ENOMEM, "out of memory");
	size_t n = diff_inputs(&d->s[0].info, &d->s[1].info, m);
	n += diff_keyed_text(RUN_CONFIG, KEYED_ASSIGN, d->s[0].cfg, d->s[1].cfg, m);
	/* the tree's expected package hashes (unless the runs rewrote them: UPDATE_CHECKSUMS) */
	bool sums = !d->is2021 && !updates_checksums(d->s[0].cfg) && !updates_checksums(d->s[1].cfg);
	if (sums)
		n += diff_keyed_text("SHA256SUMS.pkgs", KEYED_SHA256SUM, d->s[0].sums, d->s[1].sums, m);
	if (fclose(m) != 0) {
		free(text);
		return error_fail(d->err, -ENOMEM, "out of memory");
	}
	if (n == 0)
		fprintf(d->out, "inputs: the same (lbvm %s; %zu %s, options, machine, plan of %zu steps, %s%s)\n",
			d->s[0].info.version, d->s[0].info.n_inputs,
			d->s[0].info.n_inputs == 1 ? "input with its SHA-256" : "inputs with their SHA-256",
			d->s[0].info.n_steps, RUN_CONFIG, sums ? ", SHA256SUMS.pkgs" : "");
	else
		fprintf(d->out, "inputs: %zu difference%s (runs of other inputs are expected to give other outputs; "
			"the outputs are compared all the same)\n%s", n, n == 1 ? "" : "s", text);
	free(text);
	return 0;
}

/* The step of a package in run S's plan, for "made by step 10 (bash: words-1.0)". */
static const struct run_step *step_of(const struct side *s, const struct diff_pkg *p)
{
	if (!p->step)
		return NULL;
	for (size_t i = 0; i < s->info.n_steps; i++)
		if (!strcmp(s->info.steps[i].name, p->step))
			return &s->info.steps[i];
	return NULL;
}

static void describe_pkg(struct differ *d, const struct diff_pkg *p, FILE *out)
{
	char name[SHOW], step[SHOW], stage[64];
	fputs(printable(name, sizeof(name), p->name), out);
	const struct run_step *st = step_of(&d->s[0], p);
	if (!st)
		st = step_of(&d->s[1], p);
	if (st)
		fprintf(out, " (step %zu, %s: %s)", st->index, printable(stage, sizeof(stage), st->stage),
			printable(step, sizeof(step), st->name));
	else if (!d->is2021)
		fputs(" (no step of either plan makes it)", out);
}

static void print_hash_line(struct differ *d, const struct diff_pkg *p, int i)
{
	const struct side *s = &d->s[i];
	if (p->present[i]) {
		char hex[SHA256_HEX_LEN + 1];
		sha256_to_hex(p->hash[i], hex);
		fprintf(d->out, "  %s: sha256 %s", s->label, hex);
		if (!d->is2021 && s->sums) {
			char want[80];
			keyed_value(KEYED_SHA256SUM, s->sums, p->name, want, sizeof(want));
			const char *verdict = !want[0]		  ? "not in its SHA256SUMS.pkgs"
					      : strcmp(want, hex) ? "its SHA256SUMS.pkgs has another hash"
								  : "matches its SHA256SUMS.pkgs";
			fprintf(d->out, "  (%s)", verdict);
		}
		fputc('\n', d->out);
		return;
	}
	const struct run_step *st = step_of(s, p);
	char outcome[64];
	if (st)
		fprintf(d->out, "  %s: missing (its step's outcome: %s)\n", s->label,
			printable(outcome, sizeof(outcome), st->outcome));
	else
		fprintf(d->out, "  %s: missing\n", s->label);
}

/* ---- hashing the packages ---- */

static int hash_tarball(struct side *s, struct diff_pkg *p, int i, struct error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", REPO_DIR, p->name);
	int fd;
	int rc = run_files_open(s->files, path, &fd, err);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = sha256_fd(fd, p->hash[i]);
	close(fd);
	if (rc)
		return error_fail(err, rc, "%s: %s: %s", run_files_where(s->files), path, strerror(-rc));
	p->present[i] = true;
	return 0;
}

static int packages_current(struct differ *d)
{
	struct error *err = d->err;
	int rc = 0;
	for (int i = 0; !rc && i < 2; i++)
		rc = diff_pkgs_from_plan(&d->pkgs, d->s[i].info.steps, d->s[i].info.n_steps, err);
	/* whatever else the repos hold, after the plan's */
	for (int i = 0; !rc && i < 2; i++) {
		char **names;
		size_t n;
		int lrc = run_files_list(d->s[i].files, REPO_DIR, &names, &n, err);
		if (lrc == -ENOENT)
			continue;
		if (lrc)
			return lrc;
		for (size_t k = 0; !rc && k < n; k++)
			rc = diff_pkgs_add(&d->pkgs, names[k], NULL, 0, err);
		run_files_free_names(names, n);
	}
	for (size_t k = 0; !rc && k < d->pkgs.n; k++)
		for (int i = 0; !rc && i < 2; i++)
			rc = hash_tarball(&d->s[i], &d->pkgs.p[k], i, err);
	return rc;
}

static int packages_2021(struct differ *d)
{
	int rc = 0;
	for (int i = 0; !rc && i < 2; i++)
		rc = diff2021_order(&d->pkgs, d->s[i].info.steps, d->s[i].info.n_steps, d->err);
	struct diff2021_run run[2];
	for (int i = 0; i < 2; i++)
		run[i] = (struct diff2021_run){ d->s[i].files, d->s[i].sysa, d->s[i].have_cpio ? &d->s[i].cpio : NULL };
	if (!rc)
		rc = diff2021_compare(run, &d->pkgs, &d->files2021, d->err);
	return rc;
}

/* ---- the first difference ---- */

static int read_members(struct side *s, const char *path, struct archive_members *m, char *why, size_t len,
			struct error *err)
{
	int fd;
	int rc = run_files_open(s->files, path, &fd, err);
	if (rc == -ENOENT)
		return error_fail(err, rc, "%s: %s is no longer there", run_files_where(s->files), path);
	if (rc)
		return rc;
	struct error aerr = { 0 };
	rc = archive_members_read(fd, path, NULL, NULL, m, &aerr);
	close(fd);
	if (rc == -ENOMEM)
		return error_fail(err, rc, "out of memory");
	if (rc)
		snprintf(why, len, "%s", aerr.msg); /* a damaged package is a finding, not trouble */
	return 0;
}

static int detail_current(struct differ *d, const struct diff_pkg *p)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", REPO_DIR, p->name);
	if (!p->present[0] || !p->present[1])
		return 0;
	struct archive_members m[2] = { { 0 }, { 0 } };
	char why[2][ERROR_MSG_MAX] = { "", "" };
	int rc = 0;
	for (int i = 0; !rc && i < 2; i++)
		rc = read_members(&d->s[i], path, &m[i], why[i], sizeof(why[i]), d->err);
	for (int i = 0; !rc && i < 2; i++)
		if (why[i][0]) {
			char w[SHOW];
			fprintf(d->out, "  %s's package cannot be read as an archive: %s\n", d->s[i].label,
				printable(w, sizeof(w), why[i]));
		}
	struct member_diff md = { 0 };
	if (!rc && !why[0][0] && !why[1][0]) {
		rc = member_diff(&m[0], &m[1], &md, d->err);
	}
	if (!rc && !why[0][0] && !why[1][0]) {
		if (md.n == 0)
			fprintf(d->out, "  no member differs (%zu the same)%s: the archives differ in bytes lbvm does not "
				"compare (headers, padding, compression); diffoscope shows them\n", md.same,
				md.order_differs ? ", but they come in another order" : "");
		else
			fprintf(d->out, "  members that differ: %zu (%zu the same%s):\n", md.n, md.same,
				md.order_differs ? "; also in another order" : "");
		for (size_t k = 0; k < md.n && k < DETAIL_LINES; k++) {
			fputs("    ", d->out);
			member_delta_print(d->out, &md.d[k]);
			fputc('\n', d->out);
		}
		if (md.n > DETAIL_LINES)
			fprintf(d->out, "    ... and %zu more\n", md.n - DETAIL_LINES);
	}
	member_diff_free(&md);
	archive_members_free(&m[0]);
	archive_members_free(&m[1]);
	return rc;
}

static void detail_2021(struct differ *d, size_t idx)
{
	const struct diff2021_pkg *p = &d->files2021.pkgs[idx];
	size_t n = 0;
	for (size_t k = 0; k < p->n; k++)
		n += p->f[k].present[0] != p->f[k].present[1] ||
		     (p->f[k].present[0] && memcmp(p->f[k].hash[0], p->f[k].hash[1], 32));
	fprintf(d->out, "  files that differ: %zu (of the %zu its checksums lists name and no later package "
		"lists)%s\n", n, p->n, n ? ":" : "");
	size_t shown = 0;
	for (size_t k = 0; k < p->n && shown < DETAIL_LINES; k++) {
		const struct diff2021_file *f = &p->f[k];
		if (f->present[0] == f->present[1] && (!f->present[0] || !memcmp(f->hash[0], f->hash[1], 32)))
			continue;
		char path[SHOW], ha[SHA256_HEX_LEN + 1] = "absent", hb[SHA256_HEX_LEN + 1] = "absent";
		if (f->present[0])
			sha256_to_hex(f->hash[0], ha);
		if (f->present[1])
			sha256_to_hex(f->hash[1], hb);
		fprintf(d->out, "    %s: sha256 %s vs %s\n", printable(path, sizeof(path), f->path), ha, hb);
		shown++;
	}
	if (n > shown)
		fprintf(d->out, "    ... and %zu more\n", n - shown);
}

/* Copy the first difference's files out; CMD receives the two paths for diffoscope. */
static int copy_bytes(struct differ *d, size_t idx, char cmd[2][PATH_MAX])
{
	const struct diff_pkg *p = &d->pkgs.p[idx];
	int rc = diff_bytes_dir(&d->bytes, d->o->out_dir, d->err);
	if (rc)
		return rc;
	if (!d->is2021) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", REPO_DIR, p->name);
		for (int i = 0; !rc && i < 2; i++)
			if (p->present[i])
				rc = diff_bytes_copy(&d->bytes, d->s[i].files, d->s[i].label, path, p->name, cmd[i], PATH_MAX,
						     d->err);
		return rc;
	}
	const struct diff2021_pkg *fp = &d->files2021.pkgs[idx];
	for (size_t k = 0; !rc && k < fp->n; k++) {
		const struct diff2021_file *f = &fp->f[k];
		char dest[PATH_MAX];
		if (!diff_bytes_safe_rel(f->path))
			continue; /* a name no copy can have (it is listed above) */
		for (int i = 0; !rc && i < 2; i++)
			if (f->present[i])
				rc = diff_bytes_copy(&d->bytes, d->s[i].files, d->s[i].label, f->path, f->path, dest,
						     sizeof(dest), d->err);
	}
	for (int i = 0; !rc && i < 2; i++)
		if (snprintf(cmd[i], PATH_MAX, "%s/%s", d->bytes.dir, d->s[i].label) >= PATH_MAX)
			rc = error_fail(d->err, -ENAMETOOLONG, "%s: path too long", d->bytes.dir);
	return rc;
}

static int print_first(struct differ *d, size_t first)
{
	const struct diff_pkg *p = &d->pkgs.p[first];
	fputs("first difference: ", d->out);
	describe_pkg(d, p, d->out);
	fputc('\n', d->out);
	for (int i = 0; i < 2; i++)
		print_hash_line(d, p, i);
	int rc = d->is2021 ? (detail_2021(d, first), 0) : detail_current(d, p);
	if (rc)
		return rc;
	size_t later = 0;
	for (size_t k = first + 1; k < d->pkgs.n; k++)
		later += diff_pkg_differs(&d->pkgs.p[k]);
	if (later) {
		fprintf(d->out, "later packages that also differ (%zu; they may follow from the first):\n", later);
		for (size_t k = first + 1; k < d->pkgs.n; k++) {
			const struct diff_pkg *q = &d->pkgs.p[k];
			if (!diff_pkg_differs(q))
				continue;
			fputs("  ", d->out);
			describe_pkg(d, q, d->out);
			if (!q->present[0] || !q->present[1])
				fprintf(d->out, ": only in %s\n", q->present[0] ? "A" : "B");
			else {
				char ha[SHA256_HEX_LEN + 1], hb[SHA256_HEX_LEN + 1];
				sha256_to_hex(q->hash[0], ha);
				sha256_to_hex(q->hash[1], hb);
				fprintf(d->out, ": %s vs %s\n", ha, hb);
			}
		}
	} else {
		fprintf(d->out, "later packages that also differ: none\n");
	}
	char cmd[2][PATH_MAX];
	rc = copy_bytes(d, first, cmd);
	if (rc)
		return rc;
	if (!p->present[0] || !p->present[1]) {
		fprintf(d->out, "the bytes: only %s has it: ", p->present[0] ? "A" : "B");
		diff_bytes_shell_word(d->out, cmd[p->present[0] ? 0 : 1]);
		fputc('\n', d->out);
		return 0;
	}
	fputs("the bytes: diffoscope ", d->out);
	diff_bytes_shell_word(d->out, cmd[0]);
	fputc(' ', d->out);
	diff_bytes_shell_word(d->out, cmd[1]);
	fputc('\n', d->out);
	if (d->o->diffoscope)
		diff_bytes_diffoscope(d->out, cmd[0], cmd[1]);
	return 0;
}

static int compare_packages(struct differ *d)
{
	int rc = d->is2021 ? packages_2021(d) : packages_current(d);
	if (rc)
		return rc;
	size_t compared, differing;
	diff_pkgs_count(&d->pkgs, &compared, &differing);
	size_t neither = d->pkgs.n - compared;
	fprintf(d->out, "packages: %zu compared in the chain's order", compared);
	if (differing)
		fprintf(d->out, ": %zu the same, %zu differ%s", compared - differing, differing, differing == 1 ? "s" : "");
	else if (compared)
		fprintf(d->out, ": all the same");
	if (neither)
		fprintf(d->out, " (%zu more the plan names: made by neither run)", neither);
	if (!compared)
		fprintf(d->out, " (neither run made a package: nothing to compare)");
	fputc('\n', d->out);
	size_t first = diff_pkgs_first(&d->pkgs);
	if (first == d->pkgs.n)
		return RUN_DIFF_SAME;
	rc = print_first(d, first);
	return rc ? rc : RUN_DIFF_DIFFERENT;
}

int run_diff(const struct run_diff_options *o, FILE *out, struct error *err)
{
	struct differ d = { .o = o, .out = out, .err = err };
	d.s[0] = (struct side){ .dir = o->run[0], .label = "A" };
	d.s[1] = (struct side){ .dir = o->run[1], .label = "B" };
	diff_pkgs_init(&d.pkgs);
	int rc = open_side(&d, 0);
	if (!rc)
		rc = open_side(&d, 1);
	if (!rc && strcmp(d.s[0].info.layout, d.s[1].info.layout))
		rc = error_fail(err, -EINVAL, "the runs are of different layouts (A: %s; B: %s): lbvm diff compares runs "
				"of one layout", d.s[0].info.layout, d.s[1].info.layout);
	if (!rc) {
		d.is2021 = !strcmp(d.s[0].info.layout, bootstrap_layout_name(LAYOUT_2021));
		for (int i = 0; !rc && i < 2; i++) {
			bool chroot = run_json_is_chroot(&d.s[i].info);
			rc = d.is2021 ? open_2021(&d.s[i], chroot, err) : open_current(&d.s[i], chroot, err);
		}
	}
	for (int i = 0; !rc && !d.is2021 && i < 2; i++) {
		size_t len;
		int r = run_files_read(d.s[i].files, PKG_SUMS, TEXT_MAX, &d.s[i].sums, &len, err);
		if (r && r != -ENOENT)
			rc = r;
	}
	if (!rc) {
		print_header(&d);
		rc = print_inputs(&d);
	}
	int status = rc ? rc : compare_packages(&d);
	diff2021_free(&d.files2021);
	diff_pkgs_free(&d.pkgs);
	close_side(&d.s[0]);
	close_side(&d.s[1]);
	if (status < 0) {
		if (!err->status)
			err->status = RUN_DIFF_TROUBLE;
		return RUN_DIFF_TROUBLE;
	}
	return status;
}
