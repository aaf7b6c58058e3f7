#include "sysb/sysb.h"

#include <stdio.h>

#include "sysa/sysa.h"

int sysb_add_steps(struct plan *plan, struct error *err)
{
	/* sysa's run.sh (go_sysb) and sysb's run.sh announce the handoff on the console. */
	if (!plan_add(plan, SYSA_STAGE, "kexec into sysb", NULL, NULL, PLAN_JUMP,
		      "Loading kernel + sysb initramfs using kexec", "kexecing into sysb", err))
		return err->code;
	if (!plan_add(plan, SYSB_STAGE, "sysb", NULL, NULL, PLAN_JUMP, "Mounting sysc", "Switching into sysc", err))
		return err->code;
	return 0;
}

int sysb_assemble(const struct tree2021 *t, struct fs_tree *image, const char *prefix, struct error *err)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/usr/src", prefix);
	int rc = tree2021_add_dirs(image, path, err);
	snprintf(path, sizeof(path), "%s/init", prefix);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysb/init", path, err);
	snprintf(path, sizeof(path), "%s/usr/src/run.sh", prefix);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysb/run.sh", path, err);
	snprintf(path, sizeof(path), "%s/usr/src/bootstrap.cfg", prefix);
	if (!rc)
		rc = fstree_add_file(image, path, t->cfg_file, 0644, err);
	snprintf(path, sizeof(path), "%s/usr/src/helpers.sh", prefix);
	if (!rc)
		rc = tree2021_add_tree_file(t, image, "sysglobal/helpers.sh", path, err);
	return rc;
}
