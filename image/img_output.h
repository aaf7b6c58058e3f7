/* The output file of an image builder (initramfs, disk): created beside its final name and renamed into
 * place only when complete, so a failed build leaves nothing half-written. */
#ifndef LBVM_IMAGE_IMG_OUTPUT_H
#define LBVM_IMAGE_IMG_OUTPUT_H

#include "common/atomic_file.h"
#include "common/error.h"

/* Open the temporary for path. 0, or the failure recorded in err. */
int img_output_open(struct atomic_file *out, const char *path, struct error *err);
/* End the build: rc != 0 removes the temporary and returns rc; rc == 0 commits the image (mode 0644
 * under the umask) and returns 0 or the failure recorded in err. */
int img_output_close(struct atomic_file *out, int rc, const char *path, struct error *err);

#endif
