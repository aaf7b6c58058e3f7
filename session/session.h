/* One run of a machine, as `lbvm boot` and `lbvm bootstrap` share it: the serial log and stdout view
 * (session/console_out.h), stdin forwarding (session/console_in.h), the timeline of the run's stages,
 * lbvm's events from the guest's COM2 (into the serial log, never onto stdout), and the watchdog thread
 * that ends the run on --timeout, on --stall-timeout (no console output), on SIGINT, SIGTERM or SIGHUP,
 * samples the vCPU every SESSION_SAMPLE_S while the console is quiet, for the machine's own end decisions
 * (vmm/fate.h), and reports an idle guest. No I/O of the user's terminal or pipes is ever done by the vCPU or the watchdog, so a
 * reader that stops reading cannot stop either; every thread the session starts is joined before the
 * machine goes away. With a network (net/net.h) the machine gets its e1000 card, and the network is
 * stopped before the machine goes away.
 *
 * Use: session_open, session_create_machine, load the guest into session_machine(), session_run,
 * session_report (or the caller's own report), session_close. */
#ifndef LBVM_SESSION_SESSION_H
#define LBVM_SESSION_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/sandbox.h"
#include "net/net.h"
#include "session/console_in.h"
#include "session/console_out.h"
#include "session/timeline.h"
#include "vmm/machine.h"

#define SESSION_SAMPLE_S 0.1 /* the watchdog's tick: a vCPU sample, the timers, the signals */
/* When the vCPU is sampled (every SESSION_SAMPLE_EVERY_S): after the kernel announced an end (a fate hint)
 * and the console has been quiet SESSION_SAMPLE_QUIET_S; for the idle probe, after a quarter of its period
 * of quiet (at least SESSION_IDLE_QUIET_MIN_S). Never otherwise: every sample interrupts the guest. */
#define SESSION_SAMPLE_QUIET_S 0.5
#define SESSION_SAMPLE_EVERY_S 0.3
#define SESSION_IDLE_QUIET_MIN_S 2.0

struct session_options {
	double timeout;           /* seconds from the start, 0 = none */
	double stall_timeout;     /* seconds without console output, 0 = none */
	const char *serial_log;   /* written as the output comes, under this name; NULL = none */
	bool console_to_stdout;
	bool forward_stdin;
	bool quiet;               /* no stage lines on stderr */
	const char *first_stage;  /* the timeline's first stage; NULL: "load and decompress the kernel" */
	/* The caller's view of the run, called on the vCPU thread (keep them short, never block): every
	 * completed console line (CR and the kernel's timestamp removed), and every recognized event. */
	void (*on_line)(void *ctx, const char *line);
	void (*on_event)(void *ctx, enum console_event ev, const char *detail);
	/* Every event from the guest's COM2 channel (vmm/guest_events.h), on the vCPU thread. */
	void (*on_guest_event)(void *ctx, const struct guest_event *ev);
	/* The idle probe: when the console has been quiet for idle_after seconds (0 = off) and the vCPU
	 * samples of that time found it idle (halted with interrupts on: waiting for input, e.g. at a shell
	 * prompt; never in user mode, halted at least once a second: vmm/fate.h, struct idle_streak),
	 * on_idle is called once on the watchdog thread; again only after the guest did something.
	 * It may end the run with machine_stop(session_machine(s), MACHINE_DONE, ...). */
	double idle_after;
	void (*on_idle)(void *ctx, double idle_s);
	void *ctx;
	/* A network card and the network behind it (the caller's, read by session_create_machine); NULL:
	 * no network. */
	const struct net_options *net;
};

struct session {
	struct session_options opt;
	struct machine machine;
	bool have_machine;
	struct console_out out;
	bool have_out;
	struct console_in in;
	int log_fd;
	struct timeline timeline;
	pthread_mutex_t timeline_lock;
	pthread_t watchdog;
	atomic_bool watchdog_stop;
	pthread_t vcpu;
	struct sandbox_fds vcpu_fds;      /* what the vCPU thread's seccomp filter lets it touch */
	struct net *net;                  /* NULL without a network */
};

/* Block the stop signals (call before any thread exists), open the serial log, start the output writers
 * and the timeline. 0 or -1 with err filled. */
int session_open(struct session *s, const struct session_options *o, struct error *err);
/* Build the machine with the session's console and event hooks (cfg->hooks is ignored) and, when the
 * options ask for one, its network card with the network started behind it. */
int session_create_machine(struct session *s, const struct machine_config *cfg, struct error *err);
/* Run until the machine's end is decided; returns it. Starts and joins stdin forwarding, the watchdog and
 * the vCPU thread; each thread enters its own seccomp sandbox before it does anything else
 * (common/sandbox.h, docs/security.md), the vCPU before its first KVM_RUN. The calling thread only waits. */
enum machine_end session_run(struct session *s);
/* Print the stages and how the run ended (lbvm boot's report) and return the exit status for it. */
int session_report(struct session *s, enum machine_end end);
/* Tear down the machine, drain the output. 0, or -errno when the serial log could not be written. */
int session_close(struct session *s);

/* The running network (its mirror's records), or NULL. */
struct net *session_net(struct session *s);

/* Seconds since session_open. */
double session_now(struct session *s);
/* Begin a stage of the timeline now: a line on stderr (unless quiet) and in the serial log. Any thread. */
void session_stage(struct session *s, const char *name);
/* One lbvm line into the serial log, in order with the guest's output. Any thread. */
void session_log_line(struct session *s, const char *line);
/* The session's machine (after session_create_machine). */
struct machine *session_machine(struct session *s);

#endif
