#include "bootstrap/step_progress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines that say a step failed, whatever the stage: stage0's and GNU sha256sum, kaem, the current
 * layout's package checks. */
static const char *const evidence_patterns[] = {
	"ABORTING HARD",
	"Subprocess error",
	": FAILED",
	"Wanted:",
	"Received:",
	"sha256sum: WARNING",
	"no checksum stored!",
	/* The chain's init exiting is a failed step; any other panic is the kernel's own (exit 3). */
	"Kernel panic - not syncing: Attempted to kill init!",
};

bool progress_is_evidence(const char *line)
{
	for (size_t i = 0; i < sizeof(evidence_patterns) / sizeof(evidence_patterns[0]); i++)
		if (strstr(line, evidence_patterns[i]))
			return true;
	return false;
}

int progress_init(struct progress *p, const struct plan *plan, const char *completion_line)
{
	memset(p, 0, sizeof(*p));
	p->plan = plan;
	p->current = PROGRESS_NONE;
	p->completion_line = completion_line;
	p->steps = calloc(plan->n_steps ? plan->n_steps : 1, sizeof(*p->steps));
	if (!p->steps)
		return -ENOMEM;
	for (size_t i = 0; i < plan->n_steps; i++)
		p->steps[i].begin = p->steps[i].end = -1;
	return 0;
}

void progress_free(struct progress *p)
{
	free(p->steps);
	p->steps = NULL;
}

static void finish(struct progress *p, size_t i, double now, enum step_status status)
{
	if (p->steps[i].status != STEP_RUNNING)
		return;
	p->steps[i].status = status;
	p->steps[i].end = now;
	if (status == STEP_OK)
		p->done++;
}

static void begin(struct progress *p, size_t i, double now)
{
	if (p->current != PROGRESS_NONE)
		finish(p, p->current, now, STEP_OK);
	p->current = i;
	p->steps[i].status = STEP_RUNNING;
	p->steps[i].begin = now;
	p->tail_next = p->tail_count = 0;
}

void progress_start(struct progress *p, double now)
{
	if (p->plan->n_steps && !p->plan->steps[0].begin_line && p->current == PROGRESS_NONE)
		begin(p, 0, now);
}

/* Compare a console line with a plan line, ignoring trailing blanks. */
static bool same_line(const char *line, const char *want)
{
	size_t n = strlen(want);
	if (strncmp(line, want, n))
		return false;
	for (const char *r = line + n; *r; r++)
		if (*r != ' ' && *r != '\t' && *r != '\r')
			return false;
	return true;
}

static void keep_tail(struct progress *p, const char *line)
{
	snprintf(p->tail[p->tail_next], PROGRESS_LINE, "%s", line);
	p->tail_next = (p->tail_next + 1) % PROGRESS_TAIL;
	if (p->tail_count < PROGRESS_TAIL)
		p->tail_count++;
}

const char *progress_tail_line(const struct progress *p, size_t i)
{
	if (i >= p->tail_count)
		return "";
	size_t first = (p->tail_next + PROGRESS_TAIL - p->tail_count) % PROGRESS_TAIL;
	return p->tail[(first + i) % PROGRESS_TAIL];
}

size_t progress_feed(struct progress *p, const char *line, double now, size_t *ended)
{
	size_t began = PROGRESS_NONE;
	if (ended)
		*ended = PROGRESS_NONE;
	const struct plan *plan = p->plan;
	size_t from = p->current == PROGRESS_NONE ? 0 : p->current + 1;
	/* Look at the next PROGRESS_LOOKAHEAD steps that announce themselves; those that print nothing of
	 * their own (improves, jumps) do not count against the window. */
	unsigned announced = 0;
	for (size_t i = from; i < plan->n_steps && announced < PROGRESS_LOOKAHEAD; i++) {
		const char *want = plan->steps[i].begin_line;
		if (!want)
			continue;
		announced++;
		if (same_line(line, want)) {
			size_t prev = p->current;
			bool prev_running = prev != PROGRESS_NONE && p->steps[prev].status == STEP_RUNNING;
			begin(p, i, now);
			/* Steps between that announce nothing ran unseen: done when the next one began. */
			for (size_t k = from; k < i; k++)
				if (!plan->steps[k].begin_line && p->steps[k].status == STEP_PENDING) {
					p->steps[k].status = STEP_OK;
					p->steps[k].begin = p->steps[k].end = now;
					p->done++;
				}
			if (ended && prev_running)
				*ended = prev;
			began = i;
			break;
		}
	}
	if (began == PROGRESS_NONE && p->current != PROGRESS_NONE) {
		const struct plan_step *s = &plan->steps[p->current];
		if (s->end_line && p->steps[p->current].status == STEP_RUNNING && same_line(line, s->end_line)) {
			finish(p, p->current, now, STEP_OK);
			if (ended)
				*ended = p->current;
		}
	}
	if (p->completion_line && same_line(line, p->completion_line) && plan->n_steps &&
	    p->current == plan->n_steps - 1)
		p->completed = true;
	if (progress_is_evidence(line) && p->n_evidence < PROGRESS_EVIDENCE) {
		snprintf(p->evidence[p->n_evidence], PROGRESS_LINE, "%s", line);
		p->evidence_step[p->n_evidence] = p->current;
		p->n_evidence++;
	}
	keep_tail(p, line);
	return began;
}

void progress_end(struct progress *p, double now, enum step_status status)
{
	if (p->current != PROGRESS_NONE)
		finish(p, p->current, now, status);
}

double progress_eta(const struct progress *p, const double *est, double now)
{
	if (!est)
		return -1;
	double left = 0;
	size_t from = p->current == PROGRESS_NONE ? 0 : p->current;
	for (size_t i = from; i < p->plan->n_steps; i++) {
		if (est[i] < 0)
			return -1;
		if (i == p->current && p->steps[i].status == STEP_RUNNING) {
			double spent = now - p->steps[i].begin;
			left += est[i] > spent ? est[i] - spent : 0;
		} else if (p->steps[i].status == STEP_PENDING) {
			left += est[i];
		}
	}
	return left;
}

const char *step_status_name(enum step_status s)
{
	switch (s) {
	case STEP_PENDING: return "not run";
	case STEP_RUNNING: return "running";
	case STEP_OK: return "ok";
	case STEP_FAILED: return "failed";
	case STEP_STOPPED: return "stopped";
	}
	return "?";
}
