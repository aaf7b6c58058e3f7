/* lbvm boot: check the user's inputs, build the machine, run it with the console attached, and turn how
 * the run ended into one line and an exit status (README.md, "Exit status"). The machine starts in a
 * kernel (--kernel) or in lbvm's firmware, which boots the first disk (--firmware). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/loader.h"
#include "cli/commands.h"
#include "common/diag.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/size.h"
#include "devices/cmos_rtc.h"
#include "devices/disk_image.h"
#include "devices/ide.h"
#include "common/layout.h"
#include "firmware/abi.h"
#include "net/net.h"
#include "session/boot_inputs.h"
#include "session/session.h"
#include "sources/manifest.h"
#include "vmm/machine.h"

#define DEFAULT_RAM      (1 * GiB)
#define FIRMWARE_RAM     (4 * GiB) /* builder-hex0, the firmware's reason to be, assumes RAM up to 0xBBFFFFFF */
#define MAX_DISKS        8     /* sda .. sdh */
#define MAX_MANIFESTS    64

struct boot_options {
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *serial_log;
	uint64_t ram;
	double timeout; /* seconds, 0 = none */
	double stall_timeout; /* seconds without console output, 0 = none */
	double idle_exit;     /* end the run when the guest idles this long, 0 = never */
	enum boot_entry entry;
	bool quiet;
	bool firmware;  /* boot the first disk through lbvm's firmware */
	bool ram_given, entry_given;
	const char *disk_specs[MAX_DISKS]; /* FILE[,ro], in the order the guest sees them */
	unsigned ndisks;
	const char *net;                /* NULL (no network card), "user" or "hermetic" */
	enum net_mode net_mode;
	const char *net_cache;          /* the mirror's verified distfiles */
	const char *net_manifests[MAX_MANIFESTS];
	unsigned nmanifests;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm boot --kernel FILE [--initrd FILE] [--append STRING] [--memory SIZE]\n"
		"                 [--disk FILE[,ro]]... [--serial-log FILE] [--timeout SECONDS]\n"
		"                 [--stall-timeout SECONDS] [--idle-exit SECONDS]\n"
		"                 [--net user|hermetic [--net-cache DIR --net-manifest FILE...]]\n"
		"                 [--entry auto|32|64] [--quiet]\n"
		"       lbvm boot --firmware --disk FILE[,ro] [--disk FILE[,ro]] [--memory SIZE] ...\n"
		"Boots a Linux bzImage in a KVM micro-VM; COM1 is the console (stdin in, stdout out).\n"
		"Each --disk is a raw image on an AHCI SATA port (sda, sdb, ... in order); ',ro' refuses writes.\n"
		"--firmware boots the first disk's boot sector through lbvm's own BIOS instead (INT 13h/10h/15h);\n"
		"its disks are the IDE master and slave, and --memory defaults to 4G.\n"
		"--idle-exit ends the run when the console is quiet and the guest waits idle that long.\n"
		"--net adds an e1000 card behind QEMU's -nic user network (10.0.2.0/24): 'user' reaches the\n"
		"outside, 'hermetic' nothing but lbvm's mirror of --net-cache at http://10.0.2.4/ (docs/network.md).\n"
		"On a terminal, Ctrl-A x stops the run. Exit status: 0 power-off/halt/reboot/idle, 2 bad input,\n"
		"3 kernel panic, 4 timeout, 5 guest crash, 6 stopped by the user, 9 no console output for\n"
		"--stall-timeout, 1 internal error.\n");
}

/* --firmware boots a disk: no kernel options, one or two disks (the IDE master and slave). */
static int check_firmware_options(struct boot_options *o)
{
	const char *kernel_option = o->kernel ? "--kernel" : o->initrd ? "--initrd" : o->append ? "--append"
				  : o->entry_given ? "--entry" : NULL;
	if (kernel_option) {
		diag_error("%s does not go with --firmware: the firmware boots the first --disk", kernel_option);
		return -1;
	}
	if (o->ndisks == 0) {
		diag_error("--firmware needs a --disk to boot (a raw image with a boot sector)");
		return -1;
	}
	if (o->ndisks > IDE_DRIVES) {
		diag_error("--firmware: at most %d disks (the IDE master and slave), not %u", IDE_DRIVES, o->ndisks);
		return -1;
	}
	if (!o->ram_given)
		o->ram = FIRMWARE_RAM;
	return 0;
}

static int parse_options(int argc, char **argv, struct boot_options *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },   { "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },   { "memory", required_argument, NULL, 'm' },
		{ "serial-log", required_argument, NULL, 'l' }, { "timeout", required_argument, NULL, 't' },
		{ "entry", required_argument, NULL, 'e' },    { "quiet", no_argument, NULL, 'q' },
		{ "disk", required_argument, NULL, 'd' },    { "stall-timeout", required_argument, NULL, 's' },
		{ "firmware", no_argument, NULL, 'f' },       { "idle-exit", required_argument, NULL, 'I' },
		{ "net", required_argument, NULL, 'n' },     { "net-cache", required_argument, NULL, 'c' },
		{ "net-manifest", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },           { 0, 0, 0, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->ram = DEFAULT_RAM;
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
		case 'f': o->firmware = true; break;
		case 'd':
			if (o->ndisks == MAX_DISKS) {
				diag_error("--disk '%s': at most %d disks", optarg, MAX_DISKS);
				return -1;
			}
			o->disk_specs[o->ndisks++] = optarg;
			break;
		case 'n':
			if (strcmp(optarg, "user") && strcmp(optarg, "hermetic")) {
				diag_error("--net '%s': expected user or hermetic", optarg);
				return -1;
			}
			o->net = optarg;
			o->net_mode = strcmp(optarg, "hermetic") ? NET_ONLINE : NET_HERMETIC;
			break;
		case 'c': o->net_cache = optarg; break;
		case 'M':
			if (o->nmanifests == MAX_MANIFESTS) {
				diag_error("--net-manifest '%s': at most %d manifests", optarg, MAX_MANIFESTS);
				return -1;
			}
			o->net_manifests[o->nmanifests++] = optarg;
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
			o->ram_given = true;
			break;
		case 't':
		case 's':
		case 'I': {
			errno = 0;
			double v = strtod(optarg, &end);
			const char *name = c == 't' ? "--timeout" : c == 's' ? "--stall-timeout" : "--idle-exit";
			if (errno || end == optarg || *end || !(v > 0) || v > 1e9) {
				diag_error("%s '%s': expected a positive number of seconds", name, optarg);
				return -1;
			}
			*(c == 't' ? &o->timeout : c == 's' ? &o->stall_timeout : &o->idle_exit) = v;
			break;
		}
		case 'e':
			o->entry_given = true;
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
	if ((o->net_cache || o->nmanifests) && !o->net) {
		diag_error("%s needs --net user or --net hermetic", o->net_cache ? "--net-cache" : "--net-manifest");
		return -1;
	}
	if (o->net_cache && !o->nmanifests) {
		diag_error("--net-cache needs at least one --net-manifest FILE: the hashes the cache's files must have");
		return -1;
	}
	if (o->nmanifests && !o->net_cache) {
		diag_error("--net-manifest needs --net-cache DIR: the directory of verified distfiles to serve");
		return -1;
	}
	if (o->net && o->net_mode == NET_HERMETIC && !o->net_cache) {
		diag_error("--net hermetic serves the verified cache to the guest: --net-cache DIR and --net-manifest "
			   "FILE are required");
		return -1;
	}
	if (o->firmware)
		return check_firmware_options(o);
	if (!o->kernel) {
		diag_error("--kernel FILE is required (or --firmware to boot a disk)");
		return -1;
	}
	if (!o->append)
		o->append = "console=ttyS0";
	return 0;
}

/* The mirror's cache directory and the manifests its files are checked against. 0, or -1 with the line
 * printed. */
static int load_net_inputs(const struct boot_options *o, struct manifest *man)
{
	struct stat st;
	if (stat(o->net_cache, &st) < 0) {
		diag_error("--net-cache '%s': %s", o->net_cache, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_error("--net-cache '%s': not a directory", o->net_cache);
		return -1;
	}
	for (unsigned i = 0; i < o->nmanifests; i++) {
		struct error merr = { 0 };
		if (manifest_load(man, o->net_manifests[i], &merr) < 0) {
			diag_error("--net-manifest: %s", merr.msg);
			return -1;
		}
	}
	return 0;
}

/* Each request the mirror finished: into the serial log; refusals also on stderr, as they happen. */
static void on_fetch(void *ctx, const struct mirror_record *r)
{
	struct session *s = ctx;
	char line[512];
	snprintf(line, sizeof(line), "[lbvm] mirror: %s%.200s: %s, %llu bytes", r->head ? "HEAD " : "", r->name,
		 mirror_verdict_name(r->verdict), (unsigned long long)r->bytes);
	session_log_line(s, line);
	if (r->verdict != MIRROR_SERVED)
		diag_warn("mirror: refused %s'%.200s': %s (HTTP %d)", r->head ? "HEAD " : "", r->name,
			  mirror_verdict_name(r->verdict), r->status);
}

/* One line: what the mirror served and refused over the run. */
static void report_net(struct session *s, const struct boot_options *o)
{
	struct net *n = session_net(s);
	if (!n || !o->net_cache)
		return;
	struct mirror_record *recs;
	size_t count = net_fetch_records(n, &recs), served = 0, refused = 0;
	unsigned long long bytes = 0;
	for (size_t i = 0; i < count; i++) {
		if (recs[i].verdict == MIRROR_SERVED && !recs[i].head) {
			served++;
			bytes += recs[i].bytes;
		} else if (recs[i].verdict != MIRROR_SERVED) {
			refused++;
		}
	}
	mirror_records_free(recs, count);
	diag_info("network (%s): the mirror served %zu file(s), %llu bytes; refused %zu request(s); %llu probe(s)",
		  net_mode_name(o->net_mode), served, bytes, refused, (unsigned long long)net_probes(n));
}

/* Open and lock every --disk; on failure print the one line and return -1 (nothing stays open). */
static int open_disks(const struct boot_options *o, struct disk_image **disks)
{
	struct error err = { 0 };
	if (disk_image_open_all(o->disk_specs, o->ndisks, disks, &err) < 0) {
		diag_error("--disk: %s", err.msg);
		return -1;
	}
	return 0;
}

/* The firmware boots only what has a boot sector: say so before a machine is built. */
static int check_boot_sector(const struct boot_options *o, struct disk_image *disk)
{
	uint8_t sector[DISK_SECTOR_SIZE];
	int rc = disk_image_pread(disk, sector, sizeof(sector), 0);
	if (rc < 0) {
		char msg[512];
		disk_image_strerror(msg, sizeof(msg), o->disk_specs[0], rc, disk->size);
		diag_error("--disk: %s", msg);
		return -1;
	}
	if ((sector[FW_BOOT_SIGNATURE_OFFSET] | sector[FW_BOOT_SIGNATURE_OFFSET + 1] << 8) != FW_BOOT_SIGNATURE) {
		diag_error("--disk '%s': no boot sector (bytes 510..511 are not 55 AA): the firmware cannot boot it",
			   disk->path);
		return -1;
	}
	return 0;
}

/* --idle-exit: the guest waits for input; that is the end of this run. */
static void on_idle(void *ctx, double idle_s)
{
	struct session *s = ctx;
	char why[96];
	snprintf(why, sizeof(why), "the guest was idle for %.1f s (--idle-exit)", idle_s);
	machine_stop(session_machine(s), MACHINE_DONE, why);
}

/* The machine for the options, the guest placed in it (a kernel, or the firmware when `in` is NULL), run
 * to its end. Returns the exit status. */
static int run(const struct boot_options *o, struct boot_inputs *in, int64_t epoch, struct disk_image **disks,
	       const struct manifest *man)
{
	static struct session s;
	struct net_options net = {
		.mode = o->net_mode,
		.cache_dir = o->net_cache,
		.manifest = o->net_cache ? man : NULL,
		.on_fetch = on_fetch,
		.ctx = &s,
	};
	struct session_options so = {
		.timeout = o->timeout,
		.stall_timeout = o->stall_timeout,
		.serial_log = o->serial_log,
		.console_to_stdout = true,
		.forward_stdin = true,
		.quiet = o->quiet,
		.first_stage = o->firmware ? "firmware and boot loader" : NULL,
		.idle_after = o->idle_exit,
		.on_idle = on_idle,
		.net = o->net ? &net : NULL,
	};
	so.ctx = &s;
	struct error err = { 0 };
	if (session_open(&s, &so, &err) < 0) {
		diag_error("%s", err.msg);
		return error_exit_status(&err);
	}
	struct machine_config cfg = {
		.ram_size = o->ram,
		.rtc_epoch = epoch,
		.disks = disks,
		.ndisks = o->ndisks,
		.firmware = o->firmware,
	};
	int status;
	if (session_create_machine(&s, &cfg, &err) < 0 ||
	    (in ? boot_inputs_place(in, &s.machine, o->append, &err) : machine_load_firmware(&s.machine, &err)) < 0) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
	} else {
		status = session_report(&s, session_run(&s));
		report_net(&s, o);
	}
	int rc = session_close(&s);
	if (rc < 0 && o->serial_log) {
		diag_error("--serial-log '%s': could not be written: %s", o->serial_log, strerror(-rc));
		if (status == EXIT_OK)
			status = EXIT_INTERNAL;
	}
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
	static struct boot_inputs in;
	struct error err = { 0 };
	static struct manifest man;
	manifest_init(&man);
	if (opt.net_cache && load_net_inputs(&opt, &man) < 0) {
		manifest_free(&man);
		return EXIT_USAGE;
	}
	if (opt.firmware) {
		struct disk_image *disks[MAX_DISKS] = { 0 };
		int status = EXIT_USAGE;
		if (open_disks(&opt, disks) == 0 && check_boot_sector(&opt, disks[0]) == 0)
			status = run(&opt, NULL, epoch, disks, &man);
		for (unsigned i = 0; i < opt.ndisks; i++)
			disk_image_close(disks[i]);
		manifest_free(&man);
		return status;
	}
	if (boot_inputs_load(&in, opt.kernel, opt.initrd, opt.ram, opt.append, opt.entry, &err) < 0) {
		diag_error("%s", err.msg);
		boot_inputs_free(&in);
		manifest_free(&man);
		return error_exit_status(&err);
	}
	struct disk_image *disks[MAX_DISKS] = { 0 };
	if (open_disks(&opt, disks) < 0) {
		manifest_free(&man);
		boot_inputs_free(&in);
		return EXIT_USAGE;
	}
	int status = run(&opt, &in, epoch, disks, &man);
	for (unsigned i = 0; i < opt.ndisks; i++)
		disk_image_close(disks[i]);
	manifest_free(&man);
	boot_inputs_free(&in);
	return status;
}
