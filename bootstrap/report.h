/* The failure report of a bootstrap run: the stage and step it ended in, the evidence lines (checksum
 * mismatches with their Wanted/Received hashes, kaem aborting, ...) and the last lines of that step's
 * output. One text, shown on stderr and kept in the run directory (report.txt, run.json, junit.xml). */
#ifndef LBVM_BOOTSTRAP_REPORT_H
#define LBVM_BOOTSTRAP_REPORT_H

#include "bootstrap/step_progress.h"

/* A malloc'd report, or NULL when out of memory. */
char *report_compose(const struct progress *p, const char *outcome, const char *detail);

#endif
