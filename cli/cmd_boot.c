/* lbvm boot: check the user's inputs, build the machine, run it with the console attached, and turn how
 * the run ended into one line and an exit status (README.md, "Exit status"). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/loader.h"
#include "cli/commands.h"
#include "cli/console_io.h"
#include "cli/timeline.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "common/size.h"
#include "devices/cmos_rtc.h"
#include "devices/disk_image.h"
#include "common/layout.h"
#include "vmm/machine.h"

#define DEFAULT_RAM      (1 * GiB)
#define MAX_KERNEL_FILE  (256 * MiB)
#define PANIC_GRACE_S    3.0   /* after "Kernel panic", wait this long for the rest of the report */
#define WATCH_TICK_NS    50000000L
#define MAX_DISKS        8     /* sda .. sdh */

struct boot_options {
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *serial_log;
	uint64_t ram;
	double timeout; /* seconds, 0 = none */
	enum boot_entry entry;
	bool quiet;
	const char *disk_specs[MAX_DISKS]; /* FILE[,ro], in the order the guest sees them */
	unsigned ndisks;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm boot --kernel FILE [--initrd FILE] [--append STRING] [--memory SIZE]\n"
		"                 [--disk FILE[,ro]]... [--serial-log FILE] [--timeout SECONDS]\n"
		"                 [--entry auto|32|64] [--quiet]\n"
		"Boots a Linux bzImage in a KVM micro-VM; COM1 is the console (stdin in, stdout out).\n"
		"Each --disk is a raw image on an AHCI SATA port (sda, sdb, ... in order); ',ro' refuses writes.\n"
		"On a terminal, Ctrl-A x stops the run. Exit status: 0 power-off/halt/reboot, 2 bad input,\n"
		"3 kernel panic, 4 timeout, 5 guest crash, 6 stopped by the user, 1 internal error.\n");
}

static int parse_options(int argc, char **argv, struct boot_options *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },   { "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },   { "memory", required_argument, NULL, 'm' },
		{ "serial-log", required_argument, NULL, 'l' }, { "timeout", required_argument, NULL, 't' },
		{ "entry", required_argument, NULL, 'e' },    { "quiet", no_argument, NULL, 'q' },
		{ "disk", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },           { 0, 0, 0, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->ram = DEFAULT_RAM;
	o->append = "console=ttyS0";
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'a': o->append = optarg; break;
		case 'l': o->serial_log = optarg; break;
		case 'q': o->quiet = true; break;
		case 'd':
			if (o->ndisks == MAX_DISKS) {
				diag_error("--disk '%s': at most %d disks", optarg, MAX_DISKS);
				return -1;
			}
			o->disk_specs[o->ndisks++] = optarg;
			break;
		case 'h': usage(stdout); return 1;
		case 'm':
			if (size_parse(optarg, &o->ram) < 0 || o->ram % MiB) {
				diag_error("--memory '%s': expected a whole number of MiB such as 512M or 6G", optarg);
				return -1;
			}
			if (o->ram < LAYOUT_MIN_RAM || o->ram > LAYOUT_MAX_RAM) {
				diag_error("--memory '%s': must be between %llu MiB and %llu GiB", optarg,
					   (unsigned long long)(LAYOUT_MIN_RAM / MiB),
					   (unsigned long long)(LAYOUT_MAX_RAM / GiB));
				return -1;
			}
			break;
		case 't':
			errno = 0;
			o->timeout = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->timeout > 0) || o->timeout > 1e9) {
				diag_error("--timeout '%s': expected a positive number of seconds", optarg);
				return -1;
			}
			break;
		case 'e':
			if (!strcmp(optarg, "auto"))
				o->entry = BOOT_ENTRY_AUTO;
			else if (!strcmp(optarg, "32"))
				o->entry = BOOT_ENTRY_32;
			else if (!strcmp(optarg, "64"))
				o->entry = BOOT_ENTRY_64;
			else {
				diag_error("--entry '%s': expected auto, 32 or 64", optarg);
				return -1;
			}
			break;
		case ':':
			diag_error("option %s needs a value", argv[optind - 1]);
			return -1;
		default:
			diag_error("unknown option '%s' (lbvm boot --help lists them)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		diag_error("unexpected argument '%s' (lbvm boot --help lists the options)", argv[optind]);
		return -1;
	}
	if (!o->kernel) {
		diag_error("--kernel FILE is required");
		return -1;
	}
	return 0;
}

/* Open a regular file for reading; on failure print the one line and return -1. */
static int open_input(const char *what, const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_error("%s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		diag_error("%s '%s': not a regular file", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Read exactly len bytes; -1 with the line printed when the file is shorter or unreadable. */
static int read_exact(const char *what, const char *path, int fd, uint8_t *dst, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, dst + done, len - done > (1u << 30) ? (1u << 30) : len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("%s '%s': read failed: %s", what, path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			diag_error("%s '%s': file shrank while being read", what, path);
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

static uint8_t *load_kernel(const char *path, size_t *len)
{
	struct stat st;
	int fd = open_input("kernel", path, &st);
	if (fd < 0)
		return NULL;
	if (st.st_size == 0 || (uint64_t)st.st_size > MAX_KERNEL_FILE) {
		diag_error("kernel '%s': %s", path, st.st_size ? "larger than 256 MiB, not a bzImage" : "is empty");
		close(fd);
		return NULL;
	}
	uint8_t *buf = malloc((size_t)st.st_size);
	if (!buf) {
		diag_error("kernel '%s': out of memory", path);
		close(fd);
		return NULL;
	}
	if (read_exact("kernel", path, fd, buf, (uint64_t)st.st_size) < 0) {
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* --- the running session: hooks from the vCPU thread, the watchdog thread --------------------------- */

struct session {
	struct boot_options *opt;
	struct machine machine;
	struct console_io io;
	struct timeline timeline;
	pthread_mutex_t timeline_lock;
	pthread_t watchdog;
	volatile bool watchdog_stop;
};

static void on_event(void *opaque, enum console_event ev, const char *detail)
{
	struct session *s = opaque;
	char stage[TIMELINE_NAME];
	switch (ev) {
	case CONSOLE_KERNEL_START: {
		char version[48] = "";
		sscanf(detail, "Linux version %47s", version);
		pthread_mutex_lock(&s->timeline_lock);
		unsigned n = ++s->timeline.kernels;
		snprintf(stage, sizeof(stage), "%s %s", n == 1 ? "seed kernel" : "next kernel", version);
		break;
	}
	case CONSOLE_KEXEC:
		pthread_mutex_lock(&s->timeline_lock);
		snprintf(stage, sizeof(stage), "kexec");
		break;
	case CONSOLE_MARK:
		pthread_mutex_lock(&s->timeline_lock);
		snprintf(stage, sizeof(stage), "%.80s", detail);
		break;
	default:
		return;
	}
	double at = timeline_begin(&s->timeline, stage);
	pthread_mutex_unlock(&s->timeline_lock);
	char line[256];
	snprintf(line, sizeof(line), "[lbvm %9.3f s] %s", at, stage);
	console_io_log_line(&s->io, line);
	diag_info("%9.3f s: %s", at, stage);
}

static void *watchdog_main(void *opaque)
{
	struct session *s = opaque;
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	const struct timespec tick = { 0, WATCH_TICK_NS };
	double panic_at = -1;
	while (!s->watchdog_stop) {
		int sig = sigtimedwait(&stop_signals, NULL, &tick);
		double now = timeline_now(&s->timeline);
		if (sig > 0) {
			char why[64];
			snprintf(why, sizeof(why), "signal %s", strsignal(sig));
			machine_stop(&s->machine, MACHINE_USER_STOP, why);
		}
		console_io_flush(&s->io);
		if (s->opt->timeout > 0 && now >= s->opt->timeout)
			machine_stop(&s->machine, MACHINE_TIMEOUT, NULL);
		if (atomic_load(&s->machine.panic_seen)) {
			if (panic_at < 0)
				panic_at = now;
			else if (now - panic_at >= PANIC_GRACE_S)
				machine_stop(&s->machine, MACHINE_PANIC, s->machine.panic_line);
		}
	}
	return NULL;
}

static int report_end(struct session *s, enum machine_end end)
{
	const struct machine *m = &s->machine;
	double t = timeline_now(&s->timeline);
	char cpu[256];
	if (getenv("LBVM_DEBUG") && machine_describe_cpu(m, cpu, sizeof(cpu)) == 0)
		diag_info("vCPU at the end: %s", cpu);
	if (!s->opt->quiet)
		timeline_print(&s->timeline, t, stderr);
	switch (end) {
	case MACHINE_POWER_OFF:
	case MACHINE_HALT:
	case MACHINE_REBOOT:
		if (!s->opt->quiet)
			diag_info("guest %s after %.3f s", end == MACHINE_POWER_OFF ? "powered off"
							  : end == MACHINE_HALT    ? "halted"
										   : "rebooted",
				  t);
		return EXIT_OK;
	case MACHINE_PANIC:
		diag_error("guest kernel panic after %.3f s: %s", t, m->end_detail);
		return EXIT_GUEST_PANIC;
	case MACHINE_TIMEOUT:
		diag_error("timed out: the guest was still running after %g s (--timeout)", s->opt->timeout);
		return EXIT_TIMEOUT;
	case MACHINE_USER_STOP:
		diag_error("stopped by the user (%s) after %.3f s", m->end_detail, t);
		return EXIT_STOPPED;
	case MACHINE_CRASH:
		diag_error("guest crashed after %.3f s: %s", t, m->end_detail);
		return EXIT_GUEST_CRASH;
	case MACHINE_HOST_ERROR:
	case MACHINE_RUNNING:
		break;
	}
	diag_error("%s", m->end_detail[0] ? m->end_detail : "the run ended for no known reason");
	return EXIT_INTERNAL;
}

/* Place the initrd (already checked to fit by the plan) straight from its file into guest RAM. */
static int place_initrd(struct session *s, const struct boot_plan *plan, int fd)
{
	uint8_t *dst = guest_mem_ptr(&s->machine.mem, plan->initrd_addr, plan->initrd_size);
	if (!dst) {
		diag_error("initrd '%s' does not fit in guest RAM", s->opt->initrd);
		return -1;
	}
	return read_exact("initrd", s->opt->initrd, fd, dst, plan->initrd_size);
}

static void console_hook(void *opaque, const uint8_t *buf, size_t len)
{
	struct session *s = opaque;
	console_io_guest_bytes(&s->io, buf, len);
}

/* Open every --disk; on failure print the one line, close what was opened and return -1. */
static int open_disks(const struct boot_options *o, struct disk_image **disks)
{
	for (unsigned i = 0; i < o->ndisks; i++) {
		char *path = NULL;
		bool ro = false;
		uint64_t size = 0;
		int rc = disk_image_parse_spec(o->disk_specs[i], &path, &ro);
		if (rc == 0)
			rc = disk_image_open(path, ro, &disks[i], &size);
		if (rc < 0) {
			char msg[512];
			disk_image_strerror(msg, sizeof(msg), path ? path : o->disk_specs[i], rc, size);
			diag_error("--disk: %s", msg);
			free(path);
			while (i--)
				disk_image_close(disks[i]);
			return -1;
		}
		free(path);
	}
	return 0;
}

static int run_session(struct session *s, const struct boot_plan *plan, const uint8_t *kernel, int initrd_fd,
		       int64_t epoch, struct disk_image **disks)
{
	struct error err = { 0 };
	struct machine_config cfg = {
		.ram_size = s->opt->ram,
		.rtc_epoch = epoch,
		.hooks = { .console = console_hook, .event = on_event, .opaque = s },
		.disks = disks,
		.ndisks = s->opt->ndisks,
	};
	if (machine_create(&s->machine, &cfg, &err) < 0) {
		diag_error("%s", err.msg);
		return error_exit_status(&err);
	}
	int status;
	if (machine_load(&s->machine, plan, kernel, s->opt->append, &err) < 0) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
		goto out;
	}
	if (initrd_fd >= 0 && place_initrd(s, plan, initrd_fd) < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (console_io_start_input(&s->io, &s->machine) < 0) {
		diag_error("cannot start the console input thread");
		status = EXIT_INTERNAL;
		goto out;
	}
	if (pthread_create(&s->watchdog, NULL, watchdog_main, s)) {
		diag_error("cannot start the watchdog thread");
		status = EXIT_INTERNAL;
		goto out;
	}
	enum machine_end end = machine_run(&s->machine);
	s->watchdog_stop = true;
	pthread_join(s->watchdog, NULL);
	console_io_flush(&s->io);
	status = report_end(s, end);
out:
	machine_destroy(&s->machine);
	return status;
}

int cmd_boot(int argc, char **argv)
{
	struct boot_options opt;
	int rc = parse_options(argc, argv, &opt);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	diag_set_quiet(opt.quiet);

	int64_t epoch;
	if (cmos_rtc_epoch_from_env(&epoch) < 0) {
		diag_error("SOURCE_DATE_EPOCH='%s' is not a number of seconds since 1970", getenv("SOURCE_DATE_EPOCH"));
		return EXIT_USAGE;
	}
	size_t kernel_len = 0;
	uint8_t *kernel = load_kernel(opt.kernel, &kernel_len);
	if (!kernel)
		return EXIT_USAGE;
	int initrd_fd = -1;
	uint64_t initrd_size = 0;
	if (opt.initrd) {
		struct stat st;
		initrd_fd = open_input("initrd", opt.initrd, &st);
		if (initrd_fd < 0 || st.st_size == 0) {
			if (initrd_fd >= 0)
				diag_error("initrd '%s' is empty", opt.initrd);
			free(kernel);
			if (initrd_fd >= 0)
				close(initrd_fd);
			return EXIT_USAGE;
		}
		initrd_size = (uint64_t)st.st_size;
	}
	static struct boot_plan plan;
	if (boot_plan(&plan, kernel, kernel_len, opt.ram, initrd_size, opt.append, opt.entry) < 0) {
		if (strstr(plan.why, "initrd"))
			diag_error("initrd '%s': %s", opt.initrd, plan.why);
		else if (strstr(plan.why, "command line"))
			diag_error("--append: %s", plan.why);
		else
			diag_error("kernel '%s' %s", opt.kernel, plan.why);
		free(kernel);
		if (initrd_fd >= 0)
			close(initrd_fd);
		return EXIT_USAGE;
	}

	/* Stop signals are taken synchronously by the watchdog; block them before any thread exists. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct disk_image *disks[MAX_DISKS] = { 0 };
	if (open_disks(&opt, disks) < 0) {
		free(kernel);
		if (initrd_fd >= 0)
			close(initrd_fd);
		return EXIT_USAGE;
	}

	static struct session s;
	memset(&s, 0, sizeof(s));
	s.opt = &opt;
	pthread_mutex_init(&s.timeline_lock, NULL);
	timeline_init(&s.timeline);
	/* Until the kernel prints its first line it is being loaded and decompresses itself. */
	timeline_begin(&s.timeline, "load and decompress the kernel");
	int status;
	if ((rc = console_io_init(&s.io, true, opt.serial_log)) < 0) {
		diag_error("--serial-log '%s': %s", opt.serial_log, strerror(-rc));
		status = EXIT_USAGE;
	} else {
		status = run_session(&s, &plan, kernel, initrd_fd, epoch, disks);
		if (console_io_finish(&s.io, true) < 0 && status == EXIT_OK) {
			diag_error("--serial-log '%s': could not be written", opt.serial_log);
			status = EXIT_INTERNAL;
		}
	}
	for (unsigned i = 0; i < opt.ndisks; i++)
		disk_image_close(disks[i]);
	free(kernel);
	if (initrd_fd >= 0)
		close(initrd_fd);
	return status;
}
