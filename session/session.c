#include "session/session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/exit_codes.h"

#define WATCH_TICK_NS ((long)(SESSION_SAMPLE_S * 1e9))
#define LOG_MODE 0644

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

double session_now(struct session *s)
{
	return timeline_now(&s->timeline);
}

void session_log_line(struct session *s, const char *line)
{
	if (s->have_out)
		console_out_log_line(&s->out, line);
}

void session_stage(struct session *s, const char *name)
{
	pthread_mutex_lock(&s->timeline_lock);
	double at = timeline_begin(&s->timeline, name);
	pthread_mutex_unlock(&s->timeline_lock);
	char line[256];
	snprintf(line, sizeof(line), "[lbvm %9.3f s] %s", at, name);
	session_log_line(s, line);
	diag_info("%9.3f s: %s", at, name);
}

struct machine *session_machine(struct session *s)
{
	return &s->machine;
}

int session_open(struct session *s, const struct session_options *o, struct error *err)
{
	memset(s, 0, sizeof(*s));
	s->opt = *o;
	s->log_fd = -1;
	atomic_init(&s->watchdog_stop, false);
	pthread_mutex_init(&s->timeline_lock, NULL);
	timeline_init(&s->timeline);

	/* Stop signals are taken synchronously by the watchdog: block them before any thread exists. */
	sigset_t set;
	stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o->serial_log) {
		/* Written in place as the output comes, so that it survives when lbvm is killed. */
		s->log_fd = open(o->serial_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, LOG_MODE);
		if (s->log_fd < 0) {
			error_fail_status(err, EXIT_USAGE, -errno, "--serial-log '%s': %s", o->serial_log,
					  strerror(errno));
			return -1;
		}
	}
	int rc = console_out_start(&s->out, s->log_fd, o->console_to_stdout ? STDOUT_FILENO : -1);
	if (rc < 0) {
		error_fail_status(err, EXIT_INTERNAL, rc, "cannot start the console writers: %s", strerror(-rc));
		if (s->log_fd >= 0)
			close(s->log_fd);
		s->log_fd = -1;
		return -1;
	}
	s->have_out = true;
	/* Until the kernel prints its first line it is being loaded and decompresses itself (or, with the
	 * firmware, a boot loader runs). */
	pthread_mutex_lock(&s->timeline_lock);
	timeline_begin(&s->timeline, o->first_stage ? o->first_stage : "load and decompress the kernel");
	pthread_mutex_unlock(&s->timeline_lock);
	return 0;
}

static void console_hook(void *opaque, const uint8_t *buf, size_t len)
{
	struct session *s = opaque;
	console_out_guest(&s->out, buf, len);
}

static void line_hook(void *opaque, const char *line)
{
	struct session *s = opaque;
	if (s->opt.on_line)
		s->opt.on_line(s->opt.ctx, line);
}

static void event_hook(void *opaque, enum console_event ev, const char *detail)
{
	struct session *s = opaque;
	char stage[TIMELINE_NAME];
	switch (ev) {
	case CONSOLE_KERNEL_START: {
		char version[48] = "";
		sscanf(detail, "Linux version %47s", version);
		pthread_mutex_lock(&s->timeline_lock);
		unsigned n = ++s->timeline.kernels;
		pthread_mutex_unlock(&s->timeline_lock);
		snprintf(stage, sizeof(stage), "%s %s", n == 1 ? "seed kernel" : "next kernel", version);
		session_stage(s, stage);
		break;
	}
	case CONSOLE_KEXEC:
		session_stage(s, "kexec");
		break;
	case CONSOLE_MARK:
		snprintf(stage, sizeof(stage), "%.80s", detail);
		session_stage(s, stage);
		break;
	default:
		break;
	}
	if (s->opt.on_event)
		s->opt.on_event(s->opt.ctx, ev, detail);
}

static void hint_hook(void *opaque, enum fate_hint h, const char *line)
{
	struct session *s = opaque;
	static const char *const what[FATE_HINTS] = {
		[FATE_HINT_PANIC] = "a panic", [FATE_HINT_POWER_DOWN] = "a power-off",
		[FATE_HINT_HALT] = "a halt", [FATE_HINT_RESTART] = "a restart",
	};
	char note[CONSOLE_LINE_MAX + 128];
	snprintf(note, sizeof(note), "[lbvm %9.3f s] the kernel announces %s (\"%.200s\"): the machine must confirm it",
		 session_now(s), h < FATE_HINTS ? what[h] : "an end", line);
	session_log_line(s, note);
}

static void guest_event_hook(void *opaque, const struct guest_event *ev)
{
	struct session *s = opaque;
	char text[GUEST_EVENT_LINE_MAX + 96];
	guest_event_format(ev, text, sizeof(text));
	char line[sizeof(text) + 32];
	snprintf(line, sizeof(line), "[lbvm-event %9.3f s] %s", session_now(s), text);
	session_log_line(s, line);
	if (ev->kind == GUEST_EVENT_MARK) {
		char stage[TIMELINE_NAME];
		snprintf(stage, sizeof(stage), "%.80s", ev->text);
		session_stage(s, stage);
	}
	if (s->opt.on_guest_event)
		s->opt.on_guest_event(s->opt.ctx, ev);
}

int session_create_machine(struct session *s, const struct machine_config *cfg, struct error *err)
{
	struct machine_config c = *cfg;
	c.hooks = (struct machine_hooks){ .console = console_hook, .line = line_hook, .event = event_hook,
					  .hint = hint_hook, .guest_event = guest_event_hook, .opaque = s };
	c.nic = s->opt.net != NULL;
	if (cfg->ndisks > SANDBOX_MAX_FDS) {
		error_fail_status(err, EXIT_USAGE, -EINVAL, "at most %d disks", SANDBOX_MAX_FDS);
		return -1;
	}
	if (machine_create(&s->machine, &c, err) < 0)
		return -1;
	s->have_machine = true;
	if (s->opt.net && net_start(s->opt.net, s->machine.nic, s->machine.kvm.vm_fd, &s->net, err) < 0)
		return -1;
	/* the vCPU thread may touch exactly these: its KVM descriptors, the disks, stderr, and with a network
	 * the eventfd that wakes the network's thread (the card hands it the guest's frames and says when it
	 * has receive buffers again) */
	s->vcpu_fds = (struct sandbox_fds){ .write_fds = { STDERR_FILENO }, .nwrite = 1,
					    .vcpu_fd = s->machine.kvm.vcpu_fd, .vm_fd = s->machine.kvm.vm_fd };
	if (s->net)
		s->vcpu_fds.write_fds[s->vcpu_fds.nwrite++] = net_wake_fd(s->net);
	for (unsigned i = 0; i < cfg->ndisks; i++)
		s->vcpu_fds.disk_fds[s->vcpu_fds.ndisks++] = cfg->disks[i]->fd;
	return 0;
}

struct net *session_net(struct session *s)
{
	return s->net;
}

/* The idle probe: once per idle period, when the console is quiet and every sample found the vCPU idle. */
static void check_idle(struct session *s, bool *reported)
{
	int64_t now = console_out_clock_ns();
	double quiet = (double)(now - atomic_load(&s->out.last_output_ns)) / 1e9;
	double idle = machine_idle_seconds(&s->machine, now);
	if (idle < s->opt.idle_after || quiet < s->opt.idle_after) {
		*reported = false;
		return;
	}
	if (*reported)
		return;
	*reported = true;
	char line[96];
	snprintf(line, sizeof(line), "[lbvm %9.3f s] the guest is idle (%.1f s without output, halted)",
		 session_now(s), idle < quiet ? idle : quiet);
	session_log_line(s, line);
	if (s->opt.on_idle)
		s->opt.on_idle(s->opt.ctx, idle);
}

static void *watchdog_main(void *opaque)
{
	struct session *s = opaque;
	struct sandbox_fds none = { .vcpu_fd = -1, .vm_fd = -1 };
	struct error err = { 0 };
	if (sandbox_enter(SANDBOX_WATCHDOG, &none, &err) < 0) {
		machine_stop(&s->machine, MACHINE_HOST_ERROR, err.msg);
		return NULL;
	}
	sigset_t set;
	stop_signals(&set);
	const struct timespec tick = { 0, WATCH_TICK_NS };
	bool idle_reported = false;
	double last_sample = -1e9;
	while (!atomic_load(&s->watchdog_stop)) {
		int sig = sigtimedwait(&set, NULL, &tick);
		double now = session_now(s);
		if (sig > 0) {
			char why[64];
			snprintf(why, sizeof(why), "signal %s", strsignal(sig));
			machine_stop(&s->machine, MACHINE_USER_STOP, why);
		}
		/* A vCPU thread that ran most of the last second is working, not waiting for input: the idle
		 * probe needs no samples to know that (vmm/busy_gauge.h); a stall says which it was. */
		bool busy = machine_vcpu_busy(&s->machine);
		if (s->opt.timeout > 0 && now >= s->opt.timeout)
			machine_stop(&s->machine, MACHINE_TIMEOUT, NULL);
		if (s->opt.stall_timeout > 0) {
			double quiet = (double)(console_out_clock_ns() - atomic_load(&s->out.last_output_ns)) / 1e9;
			if (quiet >= s->opt.stall_timeout) {
				char why[160];
				snprintf(why, sizeof(why), "no console output for %.0f s; the vCPU was %s", quiet,
					 busy ? "running (the guest computes or loops)" : "mostly waiting (halted or not scheduled)");
				machine_stop(&s->machine, MACHINE_STALL, why);
			}
		}
		/* The machine confirms a halt or a panic the kernel announced, and the idle probe sees a
		 * waiting guest, from samples of the vCPU. Each of those shows as a silent console (a panic
		 * spins after its last line), and nothing else needs them: every sample is a signal that takes
		 * the vCPU out of the guest. */
		double quiet_s = (double)(console_out_clock_ns() - atomic_load(&s->out.last_output_ns)) / 1e9;
		double idle_quiet_s = s->opt.idle_after / 4 > SESSION_IDLE_QUIET_MIN_S ? s->opt.idle_after / 4
										: SESSION_IDLE_QUIET_MIN_S;
		bool wanted = (quiet_s >= SESSION_SAMPLE_QUIET_S && machine_hint_live(&s->machine)) ||
			      (s->opt.idle_after > 0 && !busy && quiet_s >= idle_quiet_s);
		if (wanted && now - last_sample >= SESSION_SAMPLE_EVERY_S) {
			machine_request_sample(&s->machine);
			last_sample = now;
		}
		if (s->opt.idle_after > 0)
			check_idle(s, &idle_reported);
		console_out_tick(&s->out);
	}
	return NULL;
}

static void *vcpu_main(void *opaque)
{
	struct session *s = opaque;
	struct error err = { 0 };
	if (sandbox_enter(SANDBOX_VCPU, &s->vcpu_fds, &err) < 0)
		machine_stop(&s->machine, MACHINE_HOST_ERROR, err.msg);
	else
		machine_run(&s->machine);
	return NULL;
}

enum machine_end session_run(struct session *s)
{
	if (s->opt.forward_stdin && console_in_start(&s->in, &s->machine) < 0) {
		machine_stop(&s->machine, MACHINE_HOST_ERROR, "cannot start the console input thread");
		return machine_end_reason(&s->machine);
	}
	atomic_store(&s->watchdog_stop, false);
	bool watching = pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0;
	if (!watching)
		machine_stop(&s->machine, MACHINE_HOST_ERROR, "cannot start the watchdog thread");
	/* The vCPU gets a thread of its own, so that its sandbox never has to allow what the end of a run
	 * needs (restoring the terminal, the report, closing files): that stays on this thread. */
	if (pthread_create(&s->vcpu, NULL, vcpu_main, s) == 0)
		pthread_join(s->vcpu, NULL);
	else
		machine_stop(&s->machine, MACHINE_HOST_ERROR, "cannot start the vCPU thread");
	enum machine_end end = machine_end_reason(&s->machine);
	if (watching) {
		atomic_store(&s->watchdog_stop, true);
		pthread_join(s->watchdog, NULL);
	}
	console_in_stop(&s->in);
	return end;
}

int session_report(struct session *s, enum machine_end end)
{
	const struct machine *m = &s->machine;
	double t = session_now(s);
	char cpu[256];
	if (getenv("LBVM_DEBUG") && machine_describe_cpu(m, cpu, sizeof(cpu)) == 0)
		diag_info("vCPU at the end: %s", cpu);
	if (!s->opt.quiet) {
		pthread_mutex_lock(&s->timeline_lock);
		timeline_print(&s->timeline, t, stderr);
		pthread_mutex_unlock(&s->timeline_lock);
	}
	const char *detail = machine_end_detail(m);
	switch (end) {
	case MACHINE_POWER_OFF:
	case MACHINE_HALT:
	case MACHINE_REBOOT:
	case MACHINE_DONE:
		if (!s->opt.quiet)
			diag_info("guest %s after %.3f s%s%s", end == MACHINE_POWER_OFF ? "powered off"
							      : end == MACHINE_HALT    ? "halted"
							      : end == MACHINE_REBOOT  ? "rebooted"
										       : "reached its goal",
				  t, detail[0] ? ": " : "", detail);
		return EXIT_OK;
	case MACHINE_PANIC:
		diag_error("guest kernel panic after %.3f s: %s", t, detail);
		return EXIT_GUEST_PANIC;
	case MACHINE_TIMEOUT:
		diag_error("timed out: the guest was still running after %g s (--timeout)", s->opt.timeout);
		return EXIT_TIMEOUT;
	case MACHINE_STALL:
		diag_error("stalled: %s (--stall-timeout %g s) after %.3f s", detail, s->opt.stall_timeout, t);
		return EXIT_STALLED;
	case MACHINE_USER_STOP:
		diag_error("stopped by the user (%s) after %.3f s", detail, t);
		return EXIT_STOPPED;
	case MACHINE_CRASH:
		diag_error("guest crashed after %.3f s: %s", t, detail);
		return EXIT_GUEST_CRASH;
	case MACHINE_HOST_ERROR:
	case MACHINE_RUNNING:
		break;
	}
	diag_error("%s", detail[0] ? detail : "the run ended for no known reason");
	return EXIT_INTERNAL;
}

int session_close(struct session *s)
{
	net_stop(s->net); /* it delivers into the card: gone before the machine */
	s->net = NULL;
	if (s->have_machine)
		machine_destroy(&s->machine);
	s->have_machine = false;
	int rc = 0;
	if (s->have_out)
		rc = console_out_finish(&s->out);
	s->have_out = false;
	if (s->log_fd >= 0) {
		if (fsync(s->log_fd) < 0 && errno != EINVAL && !rc)
			rc = -errno;
		if (close(s->log_fd) < 0 && !rc)
			rc = -errno;
	}
	s->log_fd = -1;
	pthread_mutex_destroy(&s->timeline_lock);
	return rc;
}
