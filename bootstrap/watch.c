#include "bootstrap/watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootstrap/report.h"
#include "bootstrap/timings.h"
#include "common/diag.h"
#include "common/exit_codes.h"

#define MONITOR_TICK_NS 100000000L
/* After the chain's completion line the guest prints its shell prompt and waits. The 2021 chain never
 * syncs its disk, so what its last steps wrote may still be in the guest's page cache. Once the console
 * has been quiet COMPLETION_FLUSH_QUIET_S, a runner that can asks the guest's kernel to sync (a magic
 * SysRq over the serial console) and the run ends when the kernel says the sync is complete. Without
 * that answer (a kernel without SysRq) it ends after COMPLETION_SETTLE_S of quiet: Linux writes dirty
 * pages back once they are 30 s old, at its next 5 s writeback pass (with 2 s the test host's run found
 * sysc's last package missing from the disk; in the nested test host the guest's clock can lag). */
#define COMPLETION_FLUSH_QUIET_S 2.0
#define COMPLETION_SETTLE_S 45.0

int watch_init(struct watch *w, struct bootstrap_job *job, const struct watch_runner *runner, const char *cache_dir)
{
	memset(w, 0, sizeof(*w));
	w->job = job;
	w->runner = *runner;
	w->cache_dir = cache_dir;
	w->shown = PROGRESS_NONE;
	atomic_init(&w->stop, false);
	pthread_mutex_init(&w->lock, NULL);
	if (progress_init(&w->progress, &job->plan, job->completion_line) < 0)
		return -ENOMEM;
	w->estimates = timings_load(&job->plan, cache_dir);
	job->record.plan = &job->plan;
	job->record.progress = &w->progress;
	return 0;
}

void watch_free(struct watch *w)
{
	w->job->record.progress = NULL;
	progress_free(&w->progress);
	free(w->estimates);
	w->estimates = NULL;
	pthread_mutex_destroy(&w->lock);
}

void watch_line(struct watch *w, const char *line)
{
	double now = w->runner.now(w->runner.ctx);
	pthread_mutex_lock(&w->lock);
	progress_feed(&w->progress, line, now, NULL);
	pthread_mutex_unlock(&w->lock);
}

static void format_duration(double secs, char *buf, size_t len)
{
	long s = secs < 0 ? 0 : (long)(secs + 0.5);
	snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

static void announce(struct watch *w, size_t step, double now)
{
	const struct plan *plan = &w->job->plan;
	char elapsed[32], eta[48] = "";
	format_duration(now, elapsed, sizeof(elapsed));
	double left = progress_eta(&w->progress, w->estimates, now);
	if (left >= 0) {
		char t[32];
		format_duration(left, t, sizeof(t));
		snprintf(eta, sizeof(eta), ", ETA %s", t);
	}
	diag_info("[%zu/%zu] %s: %s (%s elapsed%s)", step + 1, plan->n_steps, plan->steps[step].stage,
		  plan->steps[step].name, elapsed, eta);
	char mark[600];
	snprintf(mark, sizeof(mark), "[lbvm %9.3f s] step %zu/%zu %s: %s", now, step + 1, plan->n_steps,
		 plan->steps[step].stage, plan->steps[step].name);
	if (w->runner.log_line)
		w->runner.log_line(w->runner.ctx, mark);
}

static void *monitor_main(void *opaque)
{
	struct watch *w = opaque;
	struct bootstrap_job *job = w->job;
	const struct timespec tick = { 0, MONITOR_TICK_NS };
	bool goal = false;
	while (!atomic_load(&w->stop)) {
		nanosleep(&tick, NULL);
		double now = w->runner.now(w->runner.ctx);
		pthread_mutex_lock(&w->lock);
		size_t current = w->progress.current;
		size_t done = w->progress.done;
		bool until_reached = job->until + 1 < job->plan.n_steps &&
				     w->progress.steps[job->until].status == STEP_OK;
		bool completed = w->progress.completed;
		if (current != PROGRESS_NONE && current != w->shown) {
			w->shown = current;
			announce(w, current, now);
		}
		struct record_text text = { 0 };
		bool store = false;
		if (done != w->recorded_done) {
			w->recorded_done = done;
			store = record_render(&job->record, &text) == 0;
		}
		pthread_mutex_unlock(&w->lock);
		struct error err = { 0 };
		if (store && record_store(job->record.dir, &text, &err))
			diag_warn("%s", err.msg);
		if (goal)
			continue;
		if (until_reached) {
			char why[300];
			snprintf(why, sizeof(why), "step %s finished (--until)", job->plan.steps[job->until].name);
			w->runner.done(w->runner.ctx, why);
			goal = true;
		} else if (completed && !job->opt.interactive) {
			double quiet = w->runner.quiet_for(w->runner.ctx);
			if (!w->flush_asked && w->runner.flush && quiet >= COMPLETION_FLUSH_QUIET_S) {
				w->runner.flush(w->runner.ctx);
				w->flush_asked = true;
				w->flush_asked_at = now;
			}
			bool flushed = w->flush_asked && w->runner.flushed && w->runner.flushed(w->runner.ctx);
			if (flushed || quiet >= COMPLETION_SETTLE_S ||
			    (w->flush_asked && now - w->flush_asked_at >= COMPLETION_SETTLE_S)) {
				w->runner.done(w->runner.ctx, job->completion_line);
				goal = true;
			}
		}
	}
	return NULL;
}

int watch_start(struct watch *w)
{
	pthread_mutex_lock(&w->lock);
	progress_start(&w->progress, w->runner.now(w->runner.ctx));
	pthread_mutex_unlock(&w->lock);
	struct error err = { 0 };
	if (record_write(&w->job->record, &err))
		diag_warn("%s", err.msg);
	int rc = pthread_create(&w->monitor, NULL, monitor_main, w);
	if (rc)
		return -rc;
	w->monitoring = true;
	return 0;
}

void watch_stop(struct watch *w)
{
	if (!w->monitoring)
		return;
	atomic_store(&w->stop, true);
	pthread_join(w->monitor, NULL);
	w->monitoring = false;
}

bool watch_has_evidence(struct watch *w)
{
	pthread_mutex_lock(&w->lock);
	bool yes = w->progress.n_evidence > 0;
	pthread_mutex_unlock(&w->lock);
	return yes;
}

bool watch_completed(struct watch *w)
{
	pthread_mutex_lock(&w->lock);
	bool yes = w->progress.completed;
	pthread_mutex_unlock(&w->lock);
	return yes;
}

bool watch_in_last_step(struct watch *w)
{
	pthread_mutex_lock(&w->lock);
	bool yes = w->job->plan.n_steps && w->progress.current + 1 == w->job->plan.n_steps;
	pthread_mutex_unlock(&w->lock);
	return yes;
}

bool watch_only_silent_steps_left(struct watch *w)
{
	pthread_mutex_lock(&w->lock);
	const struct plan *plan = &w->job->plan;
	size_t from = w->progress.current == PROGRESS_NONE ? 0 : w->progress.current + 1;
	bool silent = w->progress.current != PROGRESS_NONE;
	for (size_t i = from; silent && i < plan->n_steps; i++)
		silent = plan->steps[i].begin_line == NULL;
	pthread_mutex_unlock(&w->lock);
	return silent;
}

static void write_report_file(const struct bootstrap_job *job, const char *report)
{
	char path[BOOTSTRAP_PATH];
	snprintf(path, sizeof(path), "%s/report.txt", job->opt.run_dir);
	FILE *f = fopen(path, "we");
	if (!f || fputs(report, f) < 0 || fclose(f) != 0)
		diag_warn("%s could not be written", path);
}

void watch_finish(struct watch *w, int status, const char *outcome, const char *detail)
{
	struct bootstrap_job *job = w->job;
	struct run_record *rec = &job->record;
	double t = w->runner.now(w->runner.ctx);
	pthread_mutex_lock(&w->lock);
	progress_end(&w->progress, t, status == EXIT_OK ? STEP_OK : status == EXIT_STEP_FAILED ? STEP_FAILED
											: STEP_STOPPED);
	rec->ended = true;
	rec->exit_status = status;
	rec->duration = t;
	snprintf(rec->outcome, sizeof(rec->outcome), "%s", outcome);
	snprintf(rec->detail, sizeof(rec->detail), "%s", detail ? detail : "");
	if (status != EXIT_OK) {
		free(rec->report);
		rec->report = report_compose(&w->progress, outcome, rec->detail);
		if (rec->report) {
			fprintf(stderr, "lbvm: bootstrap %s; report (also in %s/report.txt):\n%s", outcome, job->opt.run_dir,
				rec->report);
			write_report_file(job, rec->report);
		}
	} else {
		diag_info("bootstrap %s after %.0f s: %zu of %zu steps done", outcome, t, w->progress.done,
			  job->plan.n_steps);
	}
	struct error err = { 0 };
	if (record_write(rec, &err))
		diag_warn("%s", err.msg);
	if (timings_save(&job->plan, &w->progress, w->cache_dir) < 0)
		diag_warn("could not remember the step timings in %s", w->cache_dir);
	pthread_mutex_unlock(&w->lock);
}
