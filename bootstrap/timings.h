/* How long each step took in an earlier run, kept in lbvm's cache, so a run can show an ETA. */
#ifndef LBVM_BOOTSTRAP_TIMINGS_H
#define LBVM_BOOTSTRAP_TIMINGS_H

#include "bootstrap/plan.h"
#include "bootstrap/step_progress.h"

/* Seconds per step (-1 = unknown), or NULL when nothing is known (free() it). */
double *timings_load(const struct plan *plan, const char *cache_dir);
/* Remember the durations of the steps that finished OK in P. 0 or -errno. */
int timings_save(const struct plan *plan, const struct progress *p, const char *cache_dir);

#endif
