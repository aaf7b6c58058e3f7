#include "bootstrap/prepare2021.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "image/epoch.h"
#include "image/fstree_write.h"
#include "image/initramfs.h"
#include "image/mkdisk.h"
#include "sysa/sysa.h"
#include "sysc/sysc.h"

int prepare2021_plan(struct bootstrap_job *job, struct error *err)
{
	struct tree2021 *t = &job->t2021;
	int rc = tree2021_open(t, job->opt.tree, job->opt.chroot, err);
	if (rc)
		return rc;
	job->have_t2021 = true;
	plan_init(&job->plan);
	rc = sysa_add_steps(t, &job->plan, err);
	if (!rc)
		rc = sysc_add_steps(t, &job->plan, err);
	if (!rc)
		rc = tree2021_attach_distfiles(&job->plan, &t->sysa_files, err);
	if (!rc)
		rc = tree2021_attach_distfiles(&job->plan, &t->sysc_files, err);
	if (rc && err->status == 0 && rc != -ENOMEM)
		err->status = EXIT_USAGE; /* the tree's scripts could not be read: a broken tree */
	job->completion_line = SYSC_COMPLETED_LINE;
	return rc;
}

int prepare2021_needed(const struct bootstrap_job *job, struct manifest *out, struct error *err)
{
	const struct manifest *files[] = { &job->t2021.sysa_files, &job->t2021.sysc_files };
	for (size_t i = 0; i <= job->until && i < job->plan.n_steps; i++) {
		const struct plan_step *s = &job->plan.steps[i];
		for (size_t k = 0; k < s->n_distfiles; k++) {
			if (manifest_find(out, s->distfiles[k]))
				continue;
			const struct distfile *d = bootstrap_find_distfile(files, 2, s->distfiles[k]);
			if (!d)
				return error_fail(err, -EINVAL, "step %s needs %s, which no manifest lists", s->name,
						  s->distfiles[k]);
			if (manifest_add_copy(out, d, err))
				return err->code;
		}
	}
	return 0;
}

static int write_text(const char *path, const char *text, struct error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_fail(err, -errno, "%s: %s", path, strerror(errno));
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int e = errno;
	if (close(fd) != 0 || n != (ssize_t)len)
		return error_fail(err, n < 0 ? -e : -EIO, "%s: write failed", path);
	return 0;
}

/* The run's bootstrap.cfg, as rootfs.py writes it, in the run directory. */
static int write_config(struct bootstrap_job *job, struct error *err)
{
	char text[256];
	tree2021_config_text(job->opt.chroot, text, sizeof(text));
	snprintf(job->cfg_file, sizeof(job->cfg_file), "%s/bootstrap.cfg", job->opt.run_dir);
	int rc = write_text(job->cfg_file, text, err);
	if (rc)
		return rc;
	job->t2021.cfg_file = job->cfg_file;
	job->t2021.distfile_dir = job->opt.distfiles;
	return 0;
}

int prepare2021_assemble(struct bootstrap_job *job, struct fs_tree *sysa, struct fs_tree *sysc, struct error *err)
{
	int rc = write_config(job, err);
	fstree_init(sysa);
	fstree_init(sysc);
	if (!rc)
		rc = sysa_assemble(&job->t2021, &job->plan, sysa, err);
	if (!rc)
		rc = fstree_finish(sysa, err);
	if (!rc)
		rc = sysc_assemble(&job->t2021, &job->plan, sysc, err);
	if (!rc)
		rc = fstree_finish(sysc, err);
	return rc;
}

int prepare2021_images(struct bootstrap_job *job, struct error *err)
{
	uint32_t epoch;
	int rc = epoch_from_env(&epoch, err);
	if (rc)
		return rc;
	struct fs_tree sysa, sysc;
	rc = prepare2021_assemble(job, &sysa, &sysc, err);
	snprintf(job->initramfs, sizeof(job->initramfs), "%s/sysa-initramfs.cpio", job->opt.run_dir);
	snprintf(job->disk, sizeof(job->disk), "%s/sysc-disk.img", job->opt.run_dir);
	if (!rc) {
		/* The 2021 harness packed an uncompressed cpio newc archive. */
		struct initramfs_opts io = { .output = job->initramfs, .gzip = false, .epoch = epoch };
		rc = initramfs_build_tree(&io, &sysa, err);
	}
	if (!rc) {
		/* parted's `mkpart primary ext4 0% 100%` on a fresh label starts at 1 MiB. No journal,
		 * unlike the harness's mkfs.ext4: the chain never unmounts or syncs the disk, and with a
		 * journal its last files stay in the journal (committed, never checkpointed) where no reader
		 * of the image looks — `lbvm disk`, `lbvm diff` and the tests found sysc's results missing.
		 * Without one, Linux writes data and metadata in place within 30 s (dirty_expire). */
		struct mkdisk_opts mo = {
			.output = job->disk,
			.size = job->opt.disk_size,
			.fs = MKDISK_EXT4,
			.part_offset = MKDISK_DEFAULT_PART_OFFSET,
			.epoch = epoch,
			.no_journal = true,
		};
		rc = mkdisk_build_tree(&mo, &sysc, err);
	}
	fstree_free(&sysa);
	fstree_free(&sysc);
	snprintf(job->cmdline, sizeof(job->cmdline), "console=ttyS0");
	return rc;
}

int prepare2021_chroot_dirs(struct bootstrap_job *job, const char *sysa_dir, const char *sysc_dir,
			    struct error *err)
{
	struct fs_tree sysa, sysc;
	int rc = prepare2021_assemble(job, &sysa, &sysc, err);
	if (!rc)
		rc = fstree_write_dir(&sysa, sysa_dir, err);
	if (!rc)
		rc = fstree_write_dir(&sysc, sysc_dir, err);
	fstree_free(&sysa);
	fstree_free(&sysc);
	return rc;
}
