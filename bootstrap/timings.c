#include "bootstrap/timings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"

/* The file for a plan: one per layout and plan length, so a different tree shape starts afresh. */
static void timings_path(const struct plan *plan, const char *cache_dir, char *buf, size_t len)
{
	unsigned long h = 5381;
	for (const char *c = plan->layout ? plan->layout : ""; *c; c++)
		h = h * 33 + (unsigned char)*c;
	snprintf(buf, len, "%s/timings-%08lx-%zu.tsv", cache_dir, h & 0xffffffffUL, plan->n_steps);
}

double *timings_load(const struct plan *plan, const char *cache_dir)
{
	double *est = malloc((plan->n_steps ? plan->n_steps : 1) * sizeof(*est));
	if (!est)
		return NULL;
	for (size_t i = 0; i < plan->n_steps; i++)
		est[i] = -1;
	char path[4096];
	timings_path(plan, cache_dir, path, sizeof(path));
	FILE *f = fopen(path, "re");
	if (!f) {
		free(est);
		return NULL;
	}
	char line[1024];
	size_t known = 0;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		char *name = tab + 1;
		name[strcspn(name, "\n")] = '\0';
		long i = plan_find(plan, name);
		double secs = strtod(line, NULL);
		if (i >= 0 && secs >= 0 && est[i] < 0) {
			est[i] = secs;
			known++;
		}
	}
	fclose(f);
	if (!known) {
		free(est);
		return NULL;
	}
	return est;
}

int timings_save(const struct plan *plan, const struct progress *p, const char *cache_dir)
{
	if (mkdir(cache_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	char path[4096];
	timings_path(plan, cache_dir, path, sizeof(path));
	/* Keep what an earlier run knew about the steps this one did not reach. */
	double *old = timings_load(plan, cache_dir);
	struct atomic_file af;
	int rc = atomic_file_open(&af, path);
	if (rc < 0) {
		free(old);
		return rc;
	}
	int dup_fd = fcntl(af.fd, F_DUPFD_CLOEXEC, 0);
	FILE *f = dup_fd >= 0 ? fdopen(dup_fd, "w") : NULL;
	if (!f) {
		if (dup_fd >= 0)
			close(dup_fd);
		free(old);
		atomic_file_abort(&af);
		return -EIO;
	}
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct step_progress *s = &p->steps[i];
		double secs = s->status == STEP_OK ? s->end - s->begin : old ? old[i] : -1;
		if (secs >= 0)
			fprintf(f, "%.3f\t%s\n", secs, plan->steps[i].name);
	}
	free(old);
	if (fclose(f) != 0) {
		atomic_file_abort(&af);
		return -EIO;
	}
	return atomic_file_commit(&af, 0644);
}
