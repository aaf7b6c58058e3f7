/* Following a bootstrap's plan through the guest's console lines: which step runs (step N of M), when each
 * began and ended, and the evidence of a failure (kaem's "ABORTING HARD", a checksum's FAILED with its
 * Wanted/Received lines, ...) together with the last lines of the step's output for the report.
 *
 * The console is the guest's, so nothing here decides how the run ends: a line only moves progress
 * forward (to one of the next PROGRESS_LOOKAHEAD steps that print a begin line, never back) or adds
 * evidence. Steps that print nothing of their own (the current layout's improves and jumps) are marked
 * done, with no duration, when a later step begins. Pure: no I/O, no
 * clock (the caller passes the time). */
#ifndef LBVM_BOOTSTRAP_STEP_PROGRESS_H
#define LBVM_BOOTSTRAP_STEP_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "bootstrap/plan.h"

#define PROGRESS_LINE 512
#define PROGRESS_TAIL 40      /* lines of the current step's output kept for a report */
#define PROGRESS_EVIDENCE 16  /* failure lines kept */
#define PROGRESS_LOOKAHEAD 3  /* how many announcing steps ahead a begin line may move the current step */
#define PROGRESS_NONE ((size_t)-1)

enum step_status {
	STEP_PENDING,  /* not begun */
	STEP_RUNNING,
	STEP_OK,       /* its success line was seen, or the next step began */
	STEP_FAILED,   /* the run ended in it with a failure */
	STEP_STOPPED,  /* the run ended in it for another reason (timeout, stop, --until after it) */
};

struct step_progress {
	enum step_status status;
	double begin, end;      /* seconds since the run started; end < 0 while running */
};

struct progress {
	const struct plan *plan;
	struct step_progress *steps;
	size_t current;         /* the step running or last begun, PROGRESS_NONE before the first */
	size_t done;            /* steps finished OK */
	const char *completion_line; /* the chain's "all done" line, or NULL */
	bool completed;         /* completion_line seen after the last step began */
	/* failure evidence, in order of appearance */
	char evidence[PROGRESS_EVIDENCE][PROGRESS_LINE];
	size_t evidence_step[PROGRESS_EVIDENCE];
	size_t n_evidence;
	/* the last lines of the current step */
	char tail[PROGRESS_TAIL][PROGRESS_LINE];
	size_t tail_next, tail_count;
};

/* 0 or -ENOMEM. The plan must outlive the progress. */
int progress_init(struct progress *p, const struct plan *plan, const char *completion_line);
void progress_free(struct progress *p);
/* The run started at time NOW: a first step without a begin line starts running. */
void progress_start(struct progress *p, double now);
/* One console line at time NOW. Returns the index of a step that began with this line (its
 * predecessor, if running, has ended OK), or PROGRESS_NONE. *ended (may be NULL) receives the index of a
 * step that ended OK with this line, or PROGRESS_NONE. */
size_t progress_feed(struct progress *p, const char *line, double now, size_t *ended);
/* The run ended at NOW: the running step gets STATUS (STEP_FAILED or STEP_STOPPED; STEP_OK when it
 * had nothing left to do). */
void progress_end(struct progress *p, double now, enum step_status status);
/* Is LINE failure evidence (a checksum mismatch, kaem aborting, ...)? */
bool progress_is_evidence(const char *line);
/* The kept tail of the current step, oldest first: call with i = 0 .. tail_count-1. */
const char *progress_tail_line(const struct progress *p, size_t i);
/* Seconds left, from an earlier run's durations (est[i] < 0 = unknown); -1 when unknown. */
double progress_eta(const struct progress *p, const double *est, double now);
const char *step_status_name(enum step_status s);

#endif
