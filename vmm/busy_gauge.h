/* Whether the vCPU thread is busy, judged from its CPU time instead of by interrupting it.
 *
 * A guest that waits for input sleeps in KVM's halt, so its vCPU thread uses almost no CPU; a vCPU thread
 * that ran most of the last second is working (in user or kernel mode), and the idle probe need not take
 * samples to know it is not idle. Each sample is a signal that takes the vCPU out of the guest: a build
 * that computed silently for an hour was interrupted three times a second, and nested guests are fragile
 * under such interruptions (docs/testing.md). A window below the share proves nothing (the host may have
 * been busy elsewhere): then the probe samples as before. */
#ifndef LBVM_VMM_BUSY_GAUGE_H
#define LBVM_VMM_BUSY_GAUGE_H

#include <stdbool.h>
#include <stdint.h>

#define BUSY_GAUGE_WINDOW_NS INT64_C(1000000000) /* judged once per second of wall time */
#define BUSY_GAUGE_SHARE 0.75                    /* of the window spent on a CPU: busy */

struct busy_gauge {
	bool started;
	bool busy;        /* the verdict of the last complete window */
	int64_t wall_ns;  /* where the current window began: wall clock */
	int64_t cpu_ns;   /* and the thread's CPU clock */
};

/* Feed a reading of both clocks; returns the verdict of the last complete window (false before one). */
bool busy_gauge_feed(struct busy_gauge *g, int64_t wall_ns, int64_t cpu_ns);

#endif
