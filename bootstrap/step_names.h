/* Names for the steps of a chain that builds some packages more than once: the package, then the build
 * script when it is not the default one, then " (N)" for the Nth step that would otherwise repeat a name. */
#ifndef LBVM_BOOTSTRAP_STEP_NAMES_H
#define LBVM_BOOTSTRAP_STEP_NAMES_H

#include <stddef.h>

#include "bootstrap/plan.h"

/* Write a name for a build of PACKAGE with SCRIPT (NULL or "<package>.sh" = the default) that no step of
 * PLAN has yet. */
void step_name_unique(const struct plan *plan, const char *package, const char *script, char *buf, size_t len);

#endif
