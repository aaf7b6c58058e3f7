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
#include "bootstrap/prepare_current.h"
#include "bootstrap/vm_run.h"
#include "sources/sha256.h"
#include "sysc/sysc.h"
#include "cli/commands.h"
#include "cli/fetch_view.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "common/layout.h"
#include "common/size.h"
#include "common/stop.h"

#define MEMORY_2021 (8000 * MiB)          /* the 2021 harness: qemu -m 8000M */
#define MEMORY_CURRENT (4096 * MiB)       /* rootfs.py -qr default */
#define DEFAULT_DISTFILES ".cache/distfiles" /* shared with lbvm fetch */
#define DEFAULT_RUN_DIR "lbvm-run"
#define DEFAULT_STALL_S 3600.0

#ifndef LBVM_VERSION
#define LBVM_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm bootstrap --tree DIR [--kernel FILE [--initrd FILE]] [--distfiles DIR] [--offline]\n"
		"                      [--memory SIZE] [--disk-size SIZE] [--run-dir DIR] [--until STEP]\n"
		"                      [--timeout SECONDS] [--stall-timeout SECONDS] [--idle-timeout SECONDS]\n"
		"                      [--interactive] [--chroot]\n"
		"                      [--plan | --assemble-only] [--quiet]\n"
		"\n"
		"Run a live-bootstrap checkout in lbvm's machine (or, with --chroot, in a user namespace).\n"
		"  --tree DIR          the checkout (its submodules checked out)\n"
		"  --kernel FILE       2021 layout: the seed kernel (default: the tree's file 'kernel');\n"
		"                      current layout: boot FILE with the disk only (rootfs.py's --kernel mode)\n"
		"  --initrd FILE       current layout with --kernel: an initramfs for a kernel whose disk drivers\n"
		"                      are modules (it must mount /dev/sda1 and run /init)\n"
		"  --distfiles DIR     verified distfiles, fetched there when missing (default %s)\n"
		"  --offline           never download: every needed distfile must already be verified\n"
		"  --mirror URL        try URL/NAME first for every download; repeatable\n"
		"  --memory SIZE       guest RAM (default: 8000M for the 2021 layout, 4096M for the current one)\n"
		"  --disk-size SIZE    the disk, sparse (default: 8G for the 2021 layout, 16G for the current one)\n"
		"  --run-dir DIR       console.log, run.json, junit.xml, images (default %s; must be new or empty)\n"
		"  --until STEP        stop with success once STEP has finished (names: --plan)\n"
		"  --timeout SECONDS   stop the run after this long (exit 4)\n"
		"  --stall-timeout S   stop when the console is silent this long (default %.0f; exit 9)\n"
		"  --idle-timeout S    a guest waiting for input this long before the chain completed stopped at\n"
		"                      a shell: a failed step (default 60; exit 8)\n"
		"  --interactive       show the console and hand it to the terminal; stay after completion\n"
		"  --chroot            no VM: the systems run in a chroot in a user namespace (sysb skipped)\n"
		"  --plan              print the ordered steps and their distfiles, run nothing\n"
		"  --assemble-only     verify the distfiles and build the images in the run directory, run nothing\n"
		"current layout: live-bootstrap's flags too: --cores N, --jobs N, --force-timestamps,\n"
		"  --update-checksums, --external-sources, --build-kernels, --swap SIZE, --repo DIR, --arch x86\n"
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

static int parse_options(int argc, char **argv, struct bootstrap_job *job)
{
	enum { O_TREE = 256, O_KERNEL, O_INITRD, O_DISTFILES, O_OFFLINE, O_MEMORY, O_DISK_SIZE, O_RUN_DIR, O_UNTIL,
	       O_TIMEOUT, O_STALL, O_IDLE, O_INTERACTIVE, O_CHROOT, O_PLAN, O_ASSEMBLE, O_QUIET, O_HELP };
	static const struct option own[] = {
		{ "tree", required_argument, NULL, O_TREE },         { "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "distfiles", required_argument, NULL, O_DISTFILES }, { "offline", no_argument, NULL, O_OFFLINE },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "disk-size", required_argument, NULL, O_DISK_SIZE }, { "run-dir", required_argument, NULL, O_RUN_DIR },
		{ "until", required_argument, NULL, O_UNTIL },       { "timeout", required_argument, NULL, O_TIMEOUT },
		{ "stall-timeout", required_argument, NULL, O_STALL }, { "interactive", no_argument, NULL, O_INTERACTIVE },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "chroot", no_argument, NULL, O_CHROOT },           { "plan", no_argument, NULL, O_PLAN },
		{ "assemble-only", no_argument, NULL, O_ASSEMBLE },
		{ "quiet", no_argument, NULL, O_QUIET },             { "help", no_argument, NULL, O_HELP },
		{ 0, 0, 0, 0 },
	};
	struct bootstrap_options *o = &job->opt;
	/* live-bootstrap's own flags (--cores, --mirror, ...) come from steps/ and mean what they mean there */
	struct option *longopts = steps_merge_options(own);
	if (!longopts) {
		diag_error("out of memory");
		return -1;
	}
	o->distfiles = DEFAULT_DISTFILES;
	o->run_dir = DEFAULT_RUN_DIR;
	o->stall_timeout = DEFAULT_STALL_S;
	opterr = 0;
	optind = 1;
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		struct error err = { 0 };
		switch (c) {
		case O_TREE: o->tree = optarg; break;
		case O_KERNEL: o->kernel = optarg; break;
		case O_INITRD: o->initrd = optarg; break;
		case O_DISTFILES: o->distfiles = optarg; break;
		case O_OFFLINE: o->offline = true; break;
		case O_MEMORY:
			rc = size_option("--memory", optarg, &o->memory, LAYOUT_MIN_RAM, LAYOUT_MAX_RAM);
			break;
		case O_DISK_SIZE:
			rc = size_option("--disk-size", optarg, &o->disk_size, 64 * MiB, 16384 * GiB);
			break;
		case O_RUN_DIR: o->run_dir = optarg; break;
		case O_UNTIL: o->until = optarg; break;
		case O_TIMEOUT: rc = seconds_option("--timeout", optarg, &o->timeout); break;
		case O_STALL: rc = seconds_option("--stall-timeout", optarg, &o->stall_timeout); break;
		case O_IDLE: rc = seconds_option("--idle-timeout", optarg, &o->idle_timeout); break;
		case O_INTERACTIVE: o->interactive = true; break;
		case O_CHROOT: o->chroot = true; break;
		case O_PLAN: o->plan_only = true; break;
		case O_ASSEMBLE: o->assemble_only = true; break;
		case O_QUIET: o->quiet = true; break;
		case O_HELP: usage(stdout); rc = 1; break;
		default:
			if (c >= STEPS_OPT_FIRST) {
				if (steps_options_apply(&job->current.options, c, optarg, &err) < 0) {
					diag_error("%s", err.msg);
					rc = -1;
				}
			} else if (c == '?' && steps_harness_flag(argv[optind - 1])) {
				diag_error("bootstrap: %s", steps_harness_flag(argv[optind - 1]));
				rc = -1;
			} else {
				diag_bad_option("bootstrap", c, argv[optind - 1]);
				rc = -1;
			}
		}
	}
	free(longopts);
	if (rc)
		return rc;
	if (optind < argc) {
		diag_error("bootstrap: unexpected argument '%s' (lbvm bootstrap --help)", argv[optind]);
		return -1;
	}
	if (!o->tree) {
		diag_error("bootstrap: --tree DIR is required (a live-bootstrap checkout)");
		return -1;
	}
	if (o->chroot && (o->kernel || o->initrd)) {
		diag_error("bootstrap: --chroot runs no kernel: --kernel and --initrd do not go with it");
		return -1;
	}
	/* --mirror: where lbvm fetches first, and (current layout) the guest's MIRRORS */
	for (size_t i = 0; i < job->current.options.n_mirrors && i < BOOTSTRAP_MAX_MIRRORS; i++)
		o->mirrors[o->n_mirrors++] = job->current.options.mirrors[i];
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

/* The layout's plan, into job->plan; job->until set. */
static int make_plan(struct bootstrap_job *job, struct error *err)
{
	int rc = job->layout == LAYOUT_2021 ? prepare2021_plan(job, err) : prepare_current_plan(job, err);
	if (rc)
		return rc;
	job->until = job->plan.n_steps ? job->plan.n_steps - 1 : 0;
	if (job->opt.until) {
		long i = bootstrap_find_step(&job->plan, job->opt.until, err);
		if (i < 0)
			return err->code;
		job->until = (size_t)i;
	}
	return 0;
}

/* The seed kernel (2021: the tree's file `kernel` unless --kernel), checked readable; defaults. */
static int settle_machine(struct bootstrap_job *job)
{
	struct bootstrap_options *o = &job->opt;
	if (job->layout == LAYOUT_2021) {
		if (o->initrd) {
			diag_error("bootstrap: --initrd is for the current layout's --kernel mode (the 2021 layout boots "
				   "its own sysa initramfs)");
			return -1;
		}
		if (!o->memory)
			o->memory = MEMORY_2021;
		if (!o->disk_size)
			o->disk_size = SYSC_DEFAULT_DISK_SIZE;
	} else {
		if (!o->memory)
			o->memory = MEMORY_CURRENT;
		if (!o->chroot && !o->kernel) {
			diag_error("bootstrap: the kernel bootstrap (builder-hex0, Fiwix, Linux: no --kernel) is not in "
				   "this lbvm yet; give --kernel FILE, or --chroot");
			return -1;
		}
		if (o->initrd && access(o->initrd, R_OK) != 0) {
			diag_error("--initrd '%s': %s", o->initrd, strerror(errno));
			return -1;
		}
	}
	if (o->chroot || o->assemble_only)
		return 0;
	if (o->kernel)
		snprintf(job->kernel, sizeof(job->kernel), "%s", o->kernel);
	else
		snprintf(job->kernel, sizeof(job->kernel), "%s/kernel", o->tree);
	if (access(job->kernel, R_OK) != 0) {
		diag_error("kernel '%s': %s%s", job->kernel, strerror(errno),
			   o->kernel ? "" : " (give one with --kernel FILE: it must run i386 programs, unpack an "
			   "initramfs, have an 8250 console and kexec)");
		return -1;
	}
	return 0;
}

static void record_start(struct bootstrap_job *job, const struct manifest *needed)
{
	record_init(&job->record, job->opt.run_dir, LBVM_VERSION, bootstrap_layout_name(job->layout), job->opt.tree);
	record_option(&job->record, "mode", job->opt.chroot ? "chroot" : "vm");
	if (job->opt.until)
		record_option(&job->record, "until", job->opt.until);
	record_option(&job->record, "distfiles", job->opt.distfiles);
	record_option(&job->record, "offline", job->opt.offline ? "true" : "false");
	for (size_t i = 0; i < needed->n_files; i++) {
		char hex[SHA256_HEX_LEN + 1], key[300];
		sha256_to_hex(needed->files[i].sha256, hex);
		snprintf(key, sizeof(key), "distfile %s", needed->files[i].name);
		record_input(&job->record, key, needed->files[i].name, hex);
	}
}

/* A stop signal before the machine runs: taken at points where stopping leaves nothing half-written. */
static int stop_sig;

static bool stop_asked(void *ctx)
{
	(void)ctx;
	if (!stop_sig)
		stop_sig = stop_signal_pending();
	return stop_sig != 0;
}

static int stopped(const char *when)
{
	diag_error("stopped by the user (signal %s) %s", strsignal(stop_sig), when);
	return EXIT_STOPPED;
}

static int fetch_needed(struct bootstrap_job *job, struct manifest *needed, struct error *err)
{
	int rc = job->layout == LAYOUT_2021 ? prepare2021_needed(job, needed, err)
					    : prepare_current_needed(job, needed, err);
	if (rc)
		return rc;
	if (job->t2021.hash_overrides)
		diag_info("the tree's SHA256SUMS.sources differs from lbvm's manifests for %zu distfiles: the tree's "
			  "hashes are used", job->t2021.hash_overrides);
	if (mkdir(job->opt.distfiles, 0755) < 0 && errno != EEXIST)
		return error_fail_status(err, EXIT_USAGE, -errno, "--distfiles '%s': %s", job->opt.distfiles,
					 strerror(errno));
	struct fetch_view view = { .tty = isatty(STDERR_FILENO) == 1, .quiet = job->opt.quiet };
	struct fetch_options how = {
		.cache_dir = job->opt.distfiles,
		.mirrors = job->opt.mirrors,
		.n_mirrors = job->opt.n_mirrors,
		.jobs = 4,
		.retries = 3,
		.backoff_ms = 1000,
		.connect_timeout_s = 30,
		.stall_timeout_s = 30,
		.offline = job->opt.offline,
		.on_event = fetch_view_event,
		.on_progress = fetch_view_progress,
		.cancelled = stop_asked,
		.ctx = &view,
	};
	rc = bootstrap_get_distfiles(needed, &how, err);
	fetch_view_clear(&view);
	return rc;
}

int cmd_bootstrap(int argc, char **argv)
{
	static struct bootstrap_job job;
	memset(&job, 0, sizeof(job));
	stop_sig = 0;
	/* Until the machine's session takes them over, stop signals are asked for at safe points. */
	stop_signals_block();
	steps_options_init(&job.current.options);
	struct manifest needed;
	manifest_init(&needed);
	struct error err = { 0 };
	int status = EXIT_OK;
	int rc = parse_options(argc, argv, &job);
	if (rc) {
		status = rc > 0 ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	diag_set_quiet(job.opt.quiet);
	if (bootstrap_detect_layout(job.opt.tree, &job.layout, &err) < 0 || make_plan(&job, &err)) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
		goto out;
	}
	const struct manifest *files[2] = { &job.current.all_files, NULL };
	size_t n_files = 1;
	if (job.layout == LAYOUT_2021) {
		files[0] = &job.t2021.sysa_files;
		files[1] = &job.t2021.sysc_files;
		n_files = 2;
	}
	if (job.opt.plan_only) {
		bootstrap_print_plan(&job, files, n_files);
		goto out;
	}
	if (settle_machine(&job) < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (stop_asked(NULL)) {
		status = stopped("before any distfile was fetched");
		goto out;
	}
	if (fetch_needed(&job, &needed, &err)) {
		if (err.code == -ECANCELED)
			status = stopped("while fetching distfiles (what arrived is kept to be resumed)");
		else {
			diag_error("%s", err.msg);
			status = error_exit_status(&err);
		}
		goto out;
	}
	if (stop_asked(NULL)) {
		status = stopped("before the images were assembled");
		goto out;
	}
	if (make_run_dir(job.opt.run_dir) < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	snprintf(job.log, sizeof(job.log), "%s/console.log", job.opt.run_dir);
	record_start(&job, &needed);
	char cache_dir[BOOTSTRAP_PATH];
	cache_dir_for(&job.opt, cache_dir, sizeof(cache_dir));
	if (job.opt.chroot) {
		status = bootstrap_chroot_run(&job, cache_dir);
		goto out;
	}
	diag_info("assembling the images in %s", job.opt.run_dir);
	rc = job.layout == LAYOUT_2021 ? prepare2021_images(&job, &err) : prepare_current_images(&job, &err);
	if (rc) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
		goto out;
	}
	if (job.layout == LAYOUT_CURRENT && job.opt.initrd)
		snprintf(job.initramfs, sizeof(job.initramfs), "%s", job.opt.initrd);
	if (job.opt.assemble_only) {
		diag_info("images ready in %s", job.opt.run_dir);
		goto out;
	}
	if (stop_asked(NULL)) {
		status = stopped("after the images were assembled, before the machine started");
		goto out;
	}
	status = bootstrap_vm_run(&job, cache_dir);
out:
	manifest_free(&needed);
	bootstrap_job_free(&job);
	return status;
}
