#include "bootstrap/prepare_current.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/exit_codes.h"
#include "image/epoch.h"
#include "image/fstree_write.h"

int prepare_current_plan(struct bootstrap_job *job, struct error *err)
{
	struct current_layout *c = &job->current;
	if (steps_detect(job->opt.tree, err) < 0)
		return err->code;
	steps_config_init(&c->cfg);
	manifest_init(&c->all_files);
	manifest_init(&c->disk_files);
	c->ready = true;
	if (job->opt.chroot)
		c->options.mode = STEPS_MODE_CHROOT;
	else if (job->opt.kernel)
		c->options.mode = STEPS_MODE_KERNEL;
	else
		c->options.mode = STEPS_MODE_KERNEL_BOOTSTRAP;
	c->options.interactive = job->opt.interactive;
	/* A chroot has no network of its own (its own network namespace): everything goes on the target. */
	if (job->opt.chroot)
		c->options.external_sources = true;
	int rc = steps_config_from_options(&c->options, &c->cfg, err);
	if (!rc)
		c->cfg.missing_distfiles_ok = job->opt.until != NULL;
	plan_init(&job->plan);
	if (!rc)
		rc = steps_plan(job->opt.tree, &c->cfg, &job->plan, err);
	/* Where every distfile comes from (the `sources` lines of every build), and which go on the disk. */
	if (!rc)
		rc = steps_disk_distfiles(job->opt.tree, true, &c->all_files, err);
	if (!rc)
		rc = steps_disk_distfiles(job->opt.tree, c->cfg.external_sources, &c->disk_files, err);
	if (rc && !err->status && rc != -ENOMEM)
		err->status = EXIT_USAGE;
	job->completion_line = NULL; /* the chain ends by powering off (improve: after) */
	return rc;
}

int prepare_current_needed(const struct bootstrap_job *job, struct manifest *out, struct error *err)
{
	const struct current_layout *c = &job->current;
	if (job->opt.until) {
		/* Only what the steps up to --until build. */
		for (size_t i = 0; i <= job->until && i < job->plan.n_steps; i++)
			for (size_t k = 0; k < job->plan.steps[i].n_distfiles; k++) {
				const char *name = job->plan.steps[i].distfiles[k];
				const struct distfile *d = manifest_find(&c->all_files, name);
				if (!d)
					return error_fail(err, -EINVAL, "step %s needs %s, which no sources file lists",
							  job->plan.steps[i].name, name);
				if (!manifest_find(out, name) && manifest_add_copy(out, d, err))
					return err->code;
			}
		return 0;
	}
	/* The whole run: what the target carries (the harness refuses to start without it). */
	for (size_t i = 0; i < c->disk_files.n_files; i++)
		if (!manifest_find(out, c->disk_files.files[i].name) &&
		    manifest_add_copy(out, &c->disk_files.files[i], err))
			return err->code;
	return 0;
}

static int config_text(struct bootstrap_job *job, struct error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = steps_config_write(&job->current.cfg, &text, &len, err);
	if (rc)
		return rc;
	snprintf(job->cfg_file, sizeof(job->cfg_file), "%s/bootstrap.cfg", job->opt.run_dir);
	FILE *f = fopen(job->cfg_file, "we");
	if (!f || fwrite(text, 1, len, f) != len) {
		if (f)
			fclose(f);
		free(text);
		return error_fail(err, -EIO, "%s: cannot be written", job->cfg_file);
	}
	free(text);
	if (fclose(f) != 0)
		return error_fail(err, -EIO, "%s: cannot be written", job->cfg_file);
	return 0;
}

int prepare_current_images(struct bootstrap_job *job, struct error *err)
{
	uint32_t epoch;
	int rc = epoch_from_env(&epoch, err);
	if (!rc)
		rc = config_text(job, err);
	if (rc)
		return rc;
	struct fs_tree target;
	fstree_init(&target);
	rc = steps_build_target(job->opt.tree, &job->current.cfg, job->opt.distfiles, &target, err);
	if (!rc && job->opt.chroot) {
		snprintf(job->target_dir, sizeof(job->target_dir), "%s/target", job->opt.run_dir);
		if (mkdir(job->target_dir, 0755) < 0)
			rc = error_fail(err, -errno, "%s: %s", job->target_dir, strerror(errno));
		else
			rc = fstree_write_dir(&target, job->target_dir, err);
	} else if (!rc) {
		snprintf(job->disk, sizeof(job->disk), "%s/disk.img", job->opt.run_dir);
		rc = steps_build_disk(&target, job->disk, job->opt.disk_size, epoch, err);
		/* rootfs.py's QEMU command line for --kernel */
		snprintf(job->cmdline, sizeof(job->cmdline), "console=ttyS0 earlycon=uart8250,io,0x3f8,115200n8 "
			 "root=/dev/sda1 rootfstype=ext3 init=/init rw");
	}
	fstree_free(&target);
	return rc;
}

void prepare_current_free(struct current_layout *c)
{
	steps_options_free(&c->options);
	if (!c->ready)
		return;
	steps_config_free(&c->cfg);
	manifest_free(&c->all_files);
	manifest_free(&c->disk_files);
	c->ready = false;
}
