#include "session/timeline.h"

#include <string.h>

void timeline_init(struct timeline *t)
{
	memset(t, 0, sizeof(*t));
	clock_gettime(CLOCK_MONOTONIC, &t->start);
}

double timeline_now(const struct timeline *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->start.tv_sec) + (double)(now.tv_nsec - t->start.tv_nsec) / 1e9;
}

double timeline_begin(struct timeline *t, const char *name)
{
	double at = timeline_now(t);
	if (t->count < TIMELINE_MAX) {
		t->stage[t->count].at = at;
		snprintf(t->stage[t->count].name, TIMELINE_NAME, "%s", name);
		t->count++;
	}
	return at;
}

void timeline_print(const struct timeline *t, double end, FILE *out)
{
	for (size_t i = 0; i < t->count; i++) {
		double stop = i + 1 < t->count ? t->stage[i + 1].at : end;
		fprintf(out, "lbvm: stage %-40s started at %8.3f s, took %8.3f s\n", t->stage[i].name, t->stage[i].at,
			stop - t->stage[i].at);
	}
}
