/* The `--kernel` mode disk: what lib/utils.py's create_disk makes with parted and mkfs.ext3 (msdos
 * label, one partition from 1 GiB to the end, ext3), built without root and byte-reproducibly. */
#include "steps/steps.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "image/mkdisk.h"

#define MIN_FS_BYTES (64ull << 20) /* room for ext3's journal and a small tree */

int steps_build_disk(const struct fs_tree *target, const char *output, uint64_t size, uint32_t epoch,
		     struct error *err)
{
	if (!size)
		size = STEPS_DISK_DEFAULT_SIZE;
	if (size % 512 || size < STEPS_DISK_PART_OFFSET + MIN_FS_BYTES)
		return error_fail_status(err, 2, -EINVAL,
					 "a disk of %" PRIu64 " bytes cannot hold the target: it needs a multiple of "
					 "512 bytes, at least 1 GiB (where the partition starts) + 64 MiB",
					 size);
	struct mkdisk_opts o;
	memset(&o, 0, sizeof(o));
	o.output = output;
	o.size = size;
	o.fs = MKDISK_EXT3;
	o.part_offset = STEPS_DISK_PART_OFFSET;
	o.epoch = epoch;
	return mkdisk_build_tree(&o, target, err);
}
