/* The run's stages as the guest announces them (a kernel starting, a kexec, a "lbvm-mark:" line such as
 * switch_root), with the time each began; at the end, how long each took. */
#ifndef LBVM_SESSION_TIMELINE_H
#define LBVM_SESSION_TIMELINE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define TIMELINE_MAX 64
#define TIMELINE_NAME 96

struct timeline {
	struct timespec start;
	size_t count;
	unsigned kernels;
	struct {
		double at; /* seconds since start */
		char name[TIMELINE_NAME];
	} stage[TIMELINE_MAX];
};

void timeline_init(struct timeline *t);
double timeline_now(const struct timeline *t);
/* Begin a stage now (ignored once TIMELINE_MAX stages exist); returns its start time. */
double timeline_begin(struct timeline *t, const char *name);
/* One line per stage: name, start, duration (the last one ends at `end`). */
void timeline_print(const struct timeline *t, double end, FILE *out);

#endif
