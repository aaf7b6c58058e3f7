#include "image/img_output.h"

#include <string.h>

#define OUTPUT_MODE 0644

int img_output_open(struct atomic_file *out, const char *path, struct error *err)
{
	int rc = atomic_file_open(out, path);
	if (rc)
		return error_fail(err, rc, "cannot create %s: %s", path, strerror(-rc));
	return 0;
}

int img_output_close(struct atomic_file *out, int rc, const char *path, struct error *err)
{
	if (rc) {
		atomic_file_abort(out);
		return rc;
	}
	rc = atomic_file_commit(out, OUTPUT_MODE);
	if (rc)
		return error_fail(err, rc, "cannot write %s: %s", path, strerror(-rc));
	return 0;
}
