/* lbvm boot: check the user's inputs, build the machine, run it with the console attached, and turn how
 * the run ended into one line and an exit status (README.md, "Exit status"). The machine starts in a
 * kernel (--kernel) or in lbvm's firmware, which boots the first disk (--firmware). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "session/boot_inputs.h"
#include "session/session.h"
#include "vmm/machine.h"

#define DEFAULT_RAM      (1 * GiB)
#define FIRMWARE_RAM     (4 * GiB) /* builder-hex0, the firmware's reason to be, assumes RAM up to 0xBBFFFFFF */
#define MAX_DISKS        8     /* sda .. sdh */

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
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lbvm boot --kernel FILE [--initrd FILE] [--append STRING] [--memory SIZE]\n"
		"                 [--disk FILE[,ro]]... [--serial-log FILE] [--timeout SECONDS]\n"
		"                 [--stall-timeout SECONDS] [--idle-exit SECONDS]\n"
		"                 [--entry auto|32|64] [--quiet]\n"
		"       lbvm boot --firmware --disk FILE[,ro] [--disk FILE[,ro]] [--memory SIZE] ...\n"
		"Boots a Linux bzImage in a KVM micro-VM; COM1 is the console (stdin in, stdout out).\n"
		"Each --disk is a raw image on an AHCI SATA port (sda, sdb, ... in order); ',ro' refuses writes.\n"
		"--firmware boots the first disk's boot sector through lbvm's own BIOS instead (INT 13h/10h/15h);\n"
		"its disks are the IDE master and slave, and --memory defaults to 4G.\n"
		"--idle-exit ends the run when the console is quiet and the guest waits idle that long.\n"
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
static int run(const struct boot_options *o, struct boot_inputs *in, int64_t epoch, struct disk_image **disks)
{
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
	};
	static struct session s;
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
	if (opt.firmware) {
		struct disk_image *disks[MAX_DISKS] = { 0 };
		if (open_disks(&opt, disks) < 0)
			return EXIT_USAGE;
		int status = check_boot_sector(&opt, disks[0]) < 0 ? EXIT_USAGE : run(&opt, NULL, epoch, disks);
		for (unsigned i = 0; i < opt.ndisks; i++)
			disk_image_close(disks[i]);
		return status;
	}
	if (boot_inputs_load(&in, opt.kernel, opt.initrd, opt.ram, opt.append, opt.entry, &err) < 0) {
		diag_error("%s", err.msg);
		boot_inputs_free(&in);
		return error_exit_status(&err);
	}
	struct disk_image *disks[MAX_DISKS] = { 0 };
	if (open_disks(&opt, disks) < 0) {
		boot_inputs_free(&in);
		return EXIT_USAGE;
	}
	int status = run(&opt, &in, epoch, disks);
	for (unsigned i = 0; i < opt.ndisks; i++)
		disk_image_close(disks[i]);
	boot_inputs_free(&in);
	return status;
}
