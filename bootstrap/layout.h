/* Which live-bootstrap layout a checkout has, and what is missing when it cannot be run. */
#ifndef LBVM_BOOTSTRAP_LAYOUT_H
#define LBVM_BOOTSTRAP_LAYOUT_H

#include "common/error.h"

enum bootstrap_layout {
	LAYOUT_2021,    /* sysa/ sysb/ sysc/ sysglobal/, rootfs.py (live-bootstrap 2021-09, commit acfe6cc7) */
	LAYOUT_CURRENT, /* seed/ steps/ with a manifest (live-bootstrap today) */
};

/* Look at TREE. 0 and *out set, or -1 with err filled (exit status 2): not a directory, not a
 * live-bootstrap tree, a layout lbvm does not know, or submodules not checked out. */
int bootstrap_detect_layout(const char *tree, enum bootstrap_layout *out, struct error *err);
const char *bootstrap_layout_name(enum bootstrap_layout layout);

#endif
