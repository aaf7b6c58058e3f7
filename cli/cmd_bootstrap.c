/* lbvm bootstrap: run a live-bootstrap checkout end to end (docs/bootstrap.md). This file reads the
 * options and puts the steps in order; bootstrap/ does the work. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap/chroot_run.h"
#include "bootstrap/job.h"
#include "bootstrap/prepare2021.h"
#include "bootstrap/vm_run.h"
#include "cli/commands.h"
#include "cli/fetch_view.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "common/layout.h"
#include "common/size.h"

#define DEFAULT_MEMORY (8000 * MiB)       /* the 2021 harness: qemu -m 8000M */
#define DEFAULT_DISTFILES ".cache/distfiles" /* shared with lbvm fetch */
#define DEFAULT_RUN_DIR "lbvm-run"
#define DEFAULT_STALL_S 3600.0

#ifndef LBVM_VERSION
#define LBVM_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm bootstrap --tree DIR [--kernel FILE] [--distfiles DIR] [--offline] [--mirror URL]...\n"
		"                      [--memory SIZE] [--disk-size SIZE] [--run-dir DIR] [--until STEP]\n"
		"                      [--timeout SECONDS] [--stall-timeout SECONDS] [--interactive] [--chroot]\n"
		"                      [--plan | --assemble-only] [--quiet]\n"
		"\n"
		"Run a live-bootstrap checkout in lbvm's machine (or, with --chroot, in a user namespace).\n"
		"  --tree DIR          the checkout (its submodules checked out)\n"
		"  --kernel FILE       the seed kernel (default: the tree's file 'kernel', as the 2021 harness)\n"
		"  --distfiles DIR     verified distfiles, fetched there when missing (default %s)\n"
		"  --offline           never download: every needed distfile must already be verified\n"
		"  --mirror URL        try URL/NAME first for every download; repeatable\n"
		"  --memory SIZE       guest RAM (default 8000M, as the 2021 harness)\n"
		"  --disk-size SIZE    the sysc disk (default 8G, sparse)\n"
		"  --run-dir DIR       console.log, run.json, junit.xml, images (default %s; must be new or empty)\n"
		"  --until STEP        stop with success once STEP has finished (names: --plan)\n"
		"  --timeout SECONDS   stop the run after this long (exit 4)\n"
		"  --stall-timeout S   stop when the console is silent this long (default %.0f; exit 9)\n"
		"  --interactive       show the console and hand it to the terminal; stay after completion\n"
		"  --chroot            no VM: the systems run in a chroot in a user namespace (sysb skipped)\n"
		"  --plan              print the ordered steps and their distfiles, run nothing\n"
		"  --assemble-only     verify the distfiles and build the images in the run directory, run nothing\n"
		"exit status: 0 completed (or --until reached); 2 bad input or tree; 3 kernel panic; 4 timeout;\n"
		"5 guest crash; 6 stopped; 7 distfiles missing (nothing booted); 8 a step failed; 9 stalled;\n"
		"1 internal error\n",
		DEFAULT_DISTFILES, DEFAULT_RUN_DIR, DEFAULT_STALL_S);
}

static int seconds_option(const char *name, const char *text, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !(v > 0) || v > 1e9) {
		diag_error("%s '%s': expected a positive number of seconds", name, text);
		return -1;
	}
	*out = v;
	return 0;
}

static int size_option(const char *name, const char *text, uint64_t *out, uint64_t lo, uint64_t hi)
{
	if (size_parse(text, out) < 0 || *out % MiB || *out < lo || *out > hi) {
		diag_error("%s '%s': expected a whole number of MiB between %llu MiB and %llu GiB, such as 8G",
			   name, text, (unsigned long long)(lo / MiB), (unsigned long long)(hi / GiB));
		return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct bootstrap_options *o)
{
	enum { O_TREE = 256, O_KERNEL, O_DISTFILES, O_OFFLINE, O_MIRROR, O_MEMORY, O_DISK_SIZE, O_RUN_DIR, O_UNTIL,
	       O_TIMEOUT, O_STALL, O_INTERACTIVE, O_CHROOT, O_PLAN, O_ASSEMBLE, O_QUIET, O_HELP };
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, O_TREE },         { "kernel", required_argument, NULL, O_KERNEL },
		{ "distfiles", required_argument, NULL, O_DISTFILES }, { "offline", no_argument, NULL, O_OFFLINE },
		{ "mirror", required_argument, NULL, O_MIRROR },     { "memory", required_argument, NULL, O_MEMORY },
		{ "disk-size", required_argument, NULL, O_DISK_SIZE }, { "run-dir", required_argument, NULL, O_RUN_DIR },
		{ "until", required_argument, NULL, O_UNTIL },       { "timeout", required_argument, NULL, O_TIMEOUT },
		{ "stall-timeout", required_argument, NULL, O_STALL }, { "interactive", no_argument, NULL, O_INTERACTIVE },
		{ "chroot", no_argument, NULL, O_CHROOT },           { "plan", no_argument, NULL, O_PLAN },
		{ "assemble-only", no_argument, NULL, O_ASSEMBLE },
		{ "quiet", no_argument, NULL, O_QUIET },             { "help", no_argument, NULL, O_HELP },
		{ 0, 0, 0, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->memory = DEFAULT_MEMORY;
	o->disk_size = 8 * GiB;
	o->distfiles = DEFAULT_DISTFILES;
	o->run_dir = DEFAULT_RUN_DIR;
	o->stall_timeout = DEFAULT_STALL_S;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_TREE: o->tree = optarg; break;
		case O_KERNEL: o->kernel = optarg; break;
		case O_DISTFILES: o->distfiles = optarg; break;
		case O_OFFLINE: o->offline = true; break;
		case O_MIRROR:
			if (o->n_mirrors == BOOTSTRAP_MAX_MIRRORS) {
				diag_error("--mirror: at most %d", BOOTSTRAP_MAX_MIRRORS);
				return -1;
			}
			o->mirrors[o->n_mirrors++] = optarg;
			break;
		case O_MEMORY:
			if (size_option("--memory", optarg, &o->memory, LAYOUT_MIN_RAM, LAYOUT_MAX_RAM) < 0)
				return -1;
			break;
		case O_DISK_SIZE:
			if (size_option("--disk-size", optarg, &o->disk_size, 64 * MiB, 16384 * GiB) < 0)
				return -1;
			break;
		case O_RUN_DIR: o->run_dir = optarg; break;
		case O_UNTIL: o->until = optarg; break;
		case O_TIMEOUT:
			if (seconds_option("--timeout", optarg, &o->timeout) < 0)
				return -1;
			break;
		case O_STALL:
			if (seconds_option("--stall-timeout", optarg, &o->stall_timeout) < 0)
				return -1;
			break;
		case O_INTERACTIVE: o->interactive = true; break;
		case O_CHROOT: o->chroot = true; break;
		case O_PLAN: o->plan_only = true; break;
		case O_ASSEMBLE: o->assemble_only = true; break;
		case O_QUIET: o->quiet = true; break;
		case O_HELP: usage(stdout); return 1;
		default:
			diag_bad_option("bootstrap", c, argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		diag_error("bootstrap: unexpected argument '%s' (lbvm bootstrap --help)", argv[optind]);
		return -1;
	}
	if (!o->tree) {
		diag_error("bootstrap: --tree DIR is required (a live-bootstrap checkout)");
		return -1;
	}
	return 0;
}

/* The run directory must be new or empty: a run never mixes its files with another's. */
static int make_run_dir(const char *dir)
{
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST) {
		diag_error("--run-dir '%s': %s", dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		diag_error("--run-dir '%s': exists and is not a directory", dir);
		return -1;
	}
	if (rmdir(dir) == 0 && mkdir(dir, 0755) == 0)
		return 0; /* it was empty */
	diag_error("--run-dir '%s' is not empty: give a new one (lbvm never mixes two runs' files)", dir);
	return -1;
}

/* The cache for timings sits beside the distfiles. */
static void cache_dir_for(const struct bootstrap_options *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s/.lbvm", o->distfiles);
}

int cmd_bootstrap(int argc, char **argv)
{
	static struct bootstrap_job job;
	memset(&job, 0, sizeof(job));
	int rc = parse_options(argc, argv, &job.opt);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	diag_set_quiet(job.opt.quiet);
	struct error err = { 0 };
	if (bootstrap_detect_layout(job.opt.tree, &job.layout, &err) < 0) {
		diag_error("%s", err.msg);
		return error_exit_status(&err);
	}
	if (job.layout != LAYOUT_2021) {
		diag_error("tree '%s' has live-bootstrap's current layout (seed/, steps/): not supported yet by this "
			   "lbvm", job.opt.tree);
		return EXIT_USAGE;
	}
	int status = EXIT_OK;
	if (prepare2021_plan(&job, &err)) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
		goto out;
	}
	job.until = job.plan.n_steps ? job.plan.n_steps - 1 : 0;
	if (job.opt.until) {
		long i = bootstrap_find_step(&job.plan, job.opt.until, &err);
		if (i < 0) {
			diag_error("%s", err.msg);
			status = error_exit_status(&err);
			goto out;
		}
		job.until = (size_t)i;
	}
	const struct manifest *files[] = { &job.t2021.sysa_files, &job.t2021.sysc_files };
	if (job.opt.plan_only) {
		bootstrap_print_plan(&job, files, 2);
		goto out;
	}
	if (job.t2021.hash_overrides)
		diag_info("the tree's SHA256SUMS.sources differs from lbvm's manifests for %zu distfiles: the tree's "
			  "hashes are used", job.t2021.hash_overrides);

	struct fetch_view view = { .tty = isatty(STDERR_FILENO) == 1, .quiet = job.opt.quiet };
	struct fetch_options how = {
		.cache_dir = job.opt.distfiles,
		.mirrors = job.opt.mirrors,
		.n_mirrors = job.opt.n_mirrors,
		.jobs = 4,
		.retries = 3,
		.backoff_ms = 1000,
		.connect_timeout_s = 30,
		.stall_timeout_s = 30,
		.offline = job.opt.offline,
		.on_event = fetch_view_event,
		.on_progress = fetch_view_progress,
		.ctx = &view,
	};
	if (mkdir(job.opt.distfiles, 0755) < 0 && errno != EEXIST) {
		diag_error("--distfiles '%s': %s", job.opt.distfiles, strerror(errno));
		status = EXIT_USAGE;
		goto out;
	}
	rc = bootstrap_get_distfiles(&job, files, 2, &how, &err);
	fetch_view_clear(&view);
	if (rc) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
		goto out;
	}
	if (!job.opt.chroot && !job.opt.assemble_only) {
		if (job.opt.kernel)
			snprintf(job.kernel, sizeof(job.kernel), "%s", job.opt.kernel);
		else
			snprintf(job.kernel, sizeof(job.kernel), "%s/kernel", job.opt.tree);
		if (access(job.kernel, R_OK) != 0) {
			diag_error("seed kernel '%s': %s%s", job.kernel, strerror(errno),
				   job.opt.kernel ? "" : " (give one with --kernel FILE: it must run i386 programs, unpack "
				   "an initramfs, have an 8250 console and kexec)");
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (make_run_dir(job.opt.run_dir) < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	snprintf(job.log, sizeof(job.log), "%s/console.log", job.opt.run_dir);
	record_init(&job.record, job.opt.run_dir, LBVM_VERSION, bootstrap_layout_name(job.layout), job.opt.tree);
	record_option(&job.record, "mode", job.opt.chroot ? "chroot" : "vm");
	if (job.opt.until)
		record_option(&job.record, "until", job.opt.until);
	record_option(&job.record, "distfiles", job.opt.distfiles);
	record_option(&job.record, "offline", job.opt.offline ? "true" : "false");
	for (size_t i = 0; i <= job.until && i < job.plan.n_steps; i++)
		for (size_t k = 0; k < job.plan.steps[i].n_distfiles; k++) {
			char hex[SHA256_HEX_LEN + 1];
			const struct distfile *d = manifest_find(files[0], job.plan.steps[i].distfiles[k]);
			if (!d)
				d = manifest_find(files[1], job.plan.steps[i].distfiles[k]);
			if (!d)
				continue;
			sha256_to_hex(d->sha256, hex);
			char key[64 + 16];
			snprintf(key, sizeof(key), "distfile %s", d->name);
			record_input(&job.record, key, d->name, hex);
		}
	char cache_dir[BOOTSTRAP_PATH];
	cache_dir_for(&job.opt, cache_dir, sizeof(cache_dir));
	if (job.opt.chroot) {
		status = bootstrap_chroot_run(&job, cache_dir);
		goto out;
	}
	diag_info("assembling the sysa initramfs and the sysc disk in %s", job.opt.run_dir);
	if (prepare2021_images(&job, &err)) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
		goto out;
	}
	if (job.opt.assemble_only) {
		diag_info("images ready: %s, %s", job.initramfs, job.disk);
		goto out;
	}
	status = bootstrap_vm_run(&job, cache_dir);
out:
	bootstrap_job_free(&job);
	return status;
}
