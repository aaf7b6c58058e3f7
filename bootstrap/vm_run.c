#include "bootstrap/vm_run.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/watch.h"
#include "common/diag.h"
#include "common/exit_codes.h"
#include "devices/cmos_rtc.h"
#include "devices/disk_image.h"
#include "session/boot_inputs.h"
#include "session/session.h"
#include "sources/sha256.h"

struct vm_run {
	struct session session;
	struct watch watch;
	atomic_bool waiting_shell;   /* the guest sat idle at a prompt before the chain completed */
	atomic_bool sync_asked;      /* lbvm sent the guest's kernel SysRq s (sync) after the completion line */
	atomic_bool sync_done;       /* and the kernel then said "Emergency Sync complete" */
};

/* What Linux prints when a SysRq sync has written everything back. A build could print it too, but only
 * after the completion line does it count, and then it only decides when the finished run stops. */
#define SYNC_DONE_LINE "Emergency Sync complete"

/* Seconds of quiet with the vCPU waiting for input after which an unfinished chain is taken to have
 * stopped at an interactive shell (2021: sysc's `trap bash EXIT` after a failure). */
#define IDLE_SHELL_S 60.0

static void on_line(void *ctx, const char *line)
{
	struct vm_run *r = ctx;
	watch_line(&r->watch, line);
	if (atomic_load(&r->sync_asked) && strstr(line, SYNC_DONE_LINE))
		atomic_store(&r->sync_done, true);
}

/* The chain completed and went quiet: have the guest's kernel write its disk back (SysRq s: a break
 * and 's' on the serial console) before the machine stops. */
static void runner_flush(void *ctx)
{
	struct vm_run *r = ctx;
	atomic_store(&r->sync_asked, true);
	if (uart_feed_sysrq(&r->session.machine.com1, 's'))
		session_log_line(&r->session, "[lbvm] the chain completed: asking the guest's kernel to sync its disk (SysRq s)");
}

static bool runner_flushed(void *ctx)
{
	struct vm_run *r = ctx;
	return atomic_load(&r->sync_done);
}

/* The idle probe (vmm/fate.h): the guest waits for input. After the chain's completion line that is its
 * final shell: done. Before it, the chain stopped at a shell on its own: a failed step. */
static void on_idle(void *ctx, double idle_s)
{
	struct vm_run *r = ctx;
	if (watch_completed(&r->watch)) {
		if (!r->watch.job->opt.interactive)
			machine_stop(&r->session.machine, MACHINE_DONE, r->watch.job->completion_line);
		return;
	}
	if (r->watch.job->opt.interactive)
		return;
	char why[128];
	snprintf(why, sizeof(why), "the guest has been waiting for input for %.0f s before the chain completed "
		 "(a shell waiting for input, or a step that sleeps)", idle_s);
	atomic_store(&r->waiting_shell, true);
	machine_stop(&r->session.machine, MACHINE_DONE, why);
}

static double runner_now(void *ctx)
{
	struct vm_run *r = ctx;
	return session_now(&r->session);
}

static double runner_quiet(void *ctx)
{
	struct vm_run *r = ctx;
	return (double)(console_out_clock_ns() - atomic_load(&r->session.out.last_output_ns)) / 1e9;
}

static void runner_done(void *ctx, const char *why)
{
	struct vm_run *r = ctx;
	machine_stop(&r->session.machine, MACHINE_DONE, why);
}

static void runner_log(void *ctx, const char *line)
{
	struct vm_run *r = ctx;
	session_log_line(&r->session, line);
}

/* How the machine's end reads for a bootstrap: the exit status and a short outcome. */
static int classify(struct vm_run *r, const struct bootstrap_job *job, enum machine_end end, const char **outcome)
{
	bool evidence = watch_has_evidence(&r->watch);
	bool completed = watch_completed(&r->watch);
	switch (end) {
	case MACHINE_DONE:
		if (atomic_load(&r->waiting_shell) && !completed) {
			*outcome = "step failed";
			return EXIT_STEP_FAILED;
		}
		*outcome = completed ? "completed" : "reached --until";
		return EXIT_OK;
	case MACHINE_USER_STOP:
		if (completed) {
			*outcome = "completed";
			return EXIT_OK;
		}
		*outcome = "stopped by the user";
		return EXIT_STOPPED;
	case MACHINE_PANIC:
		*outcome = evidence ? "step failed" : "kernel panic";
		return evidence ? EXIT_STEP_FAILED : EXIT_GUEST_PANIC;
	case MACHINE_STALL:
		*outcome = "stalled";
		return EXIT_STALLED;
	case MACHINE_TIMEOUT:
		*outcome = "timed out";
		return EXIT_TIMEOUT;
	case MACHINE_CRASH:
		*outcome = "guest crashed";
		return EXIT_GUEST_CRASH;
	case MACHINE_POWER_OFF:
	case MACHINE_HALT:
	case MACHINE_REBOOT:
		/* A chain that ends by powering off (the current layout) is done when its last step ran. */
		if (!job->completion_line && watch_only_silent_steps_left(&r->watch) && !evidence) {
			*outcome = "completed";
			return EXIT_OK;
		}
		*outcome = evidence ? "step failed" : "the guest stopped before the chain completed";
		return EXIT_STEP_FAILED;
	case MACHINE_HOST_ERROR:
	case MACHINE_RUNNING:
		break;
	}
	*outcome = "internal error";
	return EXIT_INTERNAL;
}

static void hash_input(struct run_record *rec, const char *what, const char *path)
{
	uint8_t digest[SHA256_BYTES];
	char hex[SHA256_HEX_LEN + 1] = "";
	if (sha256_file(path, digest) == 0)
		sha256_to_hex(digest, hex);
	record_input(rec, what, path, hex[0] ? hex : NULL);
}

static void describe_machine(struct bootstrap_job *job, bool have_disk)
{
	struct run_record *rec = &job->record;
	char mib[32];
	snprintf(mib, sizeof(mib), "%llu", (unsigned long long)(job->opt.memory >> 20));
	record_machine(rec, "memory_mib", mib);
	record_machine(rec, "cpus", "1");
	record_machine(rec, "kernel_cmdline", job->cmdline);
	record_machine(rec, "console", "COM1 16550A, 0x3f8, IRQ 4");
	record_machine(rec, "disk_controller", have_disk ? "AHCI, one SATA port (sda)" : "none");
}

/* Run the prepared machine under the watch; returns the exit status. */
static int run(struct vm_run *r, struct bootstrap_job *job, struct boot_inputs *in, struct disk_image *disk,
	       int64_t epoch)
{
	struct error err = { 0 };
	struct session_options so = {
		.timeout = job->opt.timeout,
		.stall_timeout = job->opt.stall_timeout,
		.serial_log = job->log,
		.console_to_stdout = job->opt.interactive,
		.forward_stdin = job->opt.interactive,
		.quiet = job->opt.quiet,
		.on_line = on_line,
		.idle_after = job->opt.idle_timeout > 0 ? job->opt.idle_timeout : IDLE_SHELL_S,
		.on_idle = on_idle,
		.ctx = r,
	};
	struct machine_config cfg = {
		.ram_size = job->opt.memory,
		.rtc_epoch = epoch,
		.disks = disk ? &disk : NULL,
		.ndisks = disk ? 1 : 0,
	};
	if (session_open(&r->session, &so, &err) < 0) {
		diag_error("%s", err.msg);
		return error_exit_status(&err);
	}
	if (session_create_machine(&r->session, &cfg, &err) < 0 ||
	    boot_inputs_place(in, &r->session.machine, job->cmdline, &err) < 0) {
		diag_error("%s", err.msg);
		session_close(&r->session);
		return error_exit_status(&err);
	}
	if (watch_start(&r->watch) < 0)
		machine_stop(&r->session.machine, MACHINE_HOST_ERROR, "cannot start the progress thread");
	enum machine_end end = session_run(&r->session);
	watch_stop(&r->watch);
	const char *outcome;
	int status = classify(r, job, end, &outcome);
	pthread_mutex_lock(&r->session.timeline_lock);
	for (size_t i = 0; i < r->session.timeline.count; i++)
		record_stage(&job->record, r->session.timeline.stage[i].name, r->session.timeline.stage[i].at);
	pthread_mutex_unlock(&r->session.timeline_lock);
	char detail[CONSOLE_LINE_MAX];
	snprintf(detail, sizeof(detail), "%s", machine_end_detail(&r->session.machine));
	watch_finish(&r->watch, status, outcome, detail);
	int rc = session_close(&r->session);
	if (rc < 0) {
		diag_error("console log %s could not be written: %s", job->log, strerror(-rc));
		if (status == EXIT_OK)
			status = EXIT_INTERNAL;
	}
	return status;
}

int bootstrap_vm_run(struct bootstrap_job *job, const char *cache_dir)
{
	static struct vm_run r;
	memset(&r, 0, sizeof(r));
	atomic_init(&r.waiting_shell, false);
	atomic_init(&r.sync_asked, false);
	atomic_init(&r.sync_done, false);
	struct watch_runner runner = { .now = runner_now, .quiet_for = runner_quiet, .done = runner_done,
				       .log_line = runner_log, .flush = runner_flush, .flushed = runner_flushed,
				       .ctx = &r };
	if (watch_init(&r.watch, job, &runner, cache_dir) < 0) {
		diag_error("out of memory");
		return EXIT_INTERNAL;
	}
	hash_input(&job->record, "kernel", job->kernel);
	if (job->initramfs[0])
		hash_input(&job->record, "initramfs", job->initramfs);
	if (job->disk[0])
		hash_input(&job->record, "disk", job->disk);
	describe_machine(job, job->disk[0] != 0);

	int64_t epoch = 0;
	struct error err = { 0 };
	int status = EXIT_OK;
	static struct boot_inputs in;
	struct disk_image *disk = NULL;
	uint64_t disk_size = 0;
	int drc;
	if (cmos_rtc_epoch_from_env(&epoch) < 0) {
		diag_error("SOURCE_DATE_EPOCH='%s' is not a number of seconds since 1970", getenv("SOURCE_DATE_EPOCH"));
		status = EXIT_USAGE;
	} else if (boot_inputs_load(&in, job->kernel, job->initramfs[0] ? job->initramfs : NULL, job->opt.memory,
				    job->cmdline, BOOT_ENTRY_AUTO, &err) < 0) {
		diag_error("%s", err.msg);
		status = error_exit_status(&err);
	} else if (job->disk[0] && (drc = disk_image_open(job->disk, false, &disk, &disk_size)) < 0) {
		char msg[ERROR_MSG_MAX];
		disk_image_strerror(msg, sizeof(msg), job->disk, drc, disk_size);
		diag_error("%s", msg); /* "... is in use" when another run holds it (docs/security.md) */
		status = drc == -DISK_IMAGE_ELOCKED ? EXIT_USAGE : EXIT_INTERNAL;
	} else {
		status = run(&r, job, &in, disk, epoch);
	}
	if (disk)
		disk_image_close(disk);
	boot_inputs_free(&in);
	watch_free(&r.watch);
	return status;
}
