/* Watching a bootstrap run, wherever it runs (lbvm's machine or a chroot): console lines feed the
 * progress (bootstrap/step_progress.h) under a lock; a monitor thread announces each step on stderr (N of M,
 * elapsed, ETA), keeps run.json current, and asks the runner to stop once the goal is met (--until, or the
 * chain's completion line followed by quiet). At the end it writes the record, the report and the
 * timings. The runner provides the clock, the quiet time and the stop. */
#ifndef LBVM_BOOTSTRAP_WATCH_H
#define LBVM_BOOTSTRAP_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bootstrap/job.h"
#include "bootstrap/step_progress.h"

struct watch_runner {
	double (*now)(void *ctx);          /* seconds since the run started */
	double (*quiet_for)(void *ctx);    /* seconds since the last console output */
	void (*done)(void *ctx, const char *why); /* the goal is met: end the run as a success */
	void (*log_line)(void *ctx, const char *line); /* an lbvm line into the console log */
	/* May be NULL. After the completion line: ask the guest to write its disk back (a machine has its
	 * kernel sync, docs/bootstrap.md), and whether it said it did. */
	void (*flush)(void *ctx);
	bool (*flushed)(void *ctx);
	void *ctx;
};

struct watch {
	struct bootstrap_job *job;
	struct watch_runner runner;
	pthread_mutex_t lock;
	struct progress progress;
	double *estimates;
	const char *cache_dir;
	pthread_t monitor;
	bool monitoring;
	atomic_bool stop;
	size_t shown, recorded_done;
	bool flush_asked;            /* monitor thread only */
	double flush_asked_at;
};

int watch_init(struct watch *w, struct bootstrap_job *job, const struct watch_runner *runner, const char *cache_dir);
/* Start the monitor thread (the first step without a begin line starts now). 0 or -errno. */
int watch_start(struct watch *w);
/* One console line (any thread). */
void watch_line(struct watch *w, const char *line);
/* Stop the monitor thread. */
void watch_stop(struct watch *w);
/* The run ended with STATUS and OUTCOME (detail: the runner's reason): mark the step, print the report
 * (not on success), write run.json, junit.xml, report.txt and the timings. */
void watch_finish(struct watch *w, int status, const char *outcome, const char *detail);
void watch_free(struct watch *w);
/* Under the lock: is there failure evidence, has the chain printed its completion line? */
bool watch_has_evidence(struct watch *w);
bool watch_completed(struct watch *w);
/* Is the run in its last step? */
bool watch_in_last_step(struct watch *w);
/* Has every step that announces itself begun (those left print nothing of their own)? */
bool watch_only_silent_steps_left(struct watch *w);

#endif
