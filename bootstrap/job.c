#include "bootstrap/job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/prepare_current.h"
#include "common/diag.h"
#include "common/exit_codes.h"

void bootstrap_job_free(struct bootstrap_job *job)
{
	plan_free(&job->plan);
	if (job->have_t2021)
		tree2021_close(&job->t2021);
	prepare_current_free(&job->current);
	job->have_t2021 = false;
	record_free(&job->record);
}

long bootstrap_find_step(const struct plan *plan, const char *name, struct error *err)
{
	long i = plan_find(plan, name);
	if (i >= 0)
		return i;
	return error_fail_status(err, EXIT_USAGE, -EINVAL, "--until '%s': no such step (lbvm bootstrap --plan lists "
				 "them; e.g. '%s' or '%s')", name, plan->n_steps ? plan->steps[0].name : "",
				 plan->n_steps ? plan->steps[plan->n_steps - 1].name : ""), -1;
}

const struct distfile *bootstrap_find_distfile(const struct manifest *const *files, size_t n_files, const char *name)
{
	for (size_t i = 0; i < n_files; i++) {
		const struct distfile *d = manifest_find(files[i], name);
		if (d)
			return d;
	}
	return NULL;
}

int bootstrap_get_distfiles(const struct manifest *want, const struct fetch_options *how, struct error *err)
{
	enum fetch_state *states = calloc(want->n_files ? want->n_files : 1, sizeof(*states));
	if (!states)
		return error_fail(err, -ENOMEM, "out of memory");
	struct fetch_summary sum;
	int rc = fetch_all(want, how, states, &sum, err);
	if (!rc && (sum.missing || sum.bad)) {
		for (size_t i = 0; i < want->n_files; i++) {
			const struct distfile *d = &want->files[i];
			if (states[i] == FETCH_MISSING || states[i] == FETCH_BAD)
				diag_error("%s distfile %s (package %s, %s)", states[i] == FETCH_BAD ? "bad" : "missing",
					   d->name, d->package ? d->package : "?", d->n_urls ? d->urls[0] : "no URL");
		}
		rc = error_fail_status(err, EXIT_INCOMPLETE, -ENOENT, "%zu of the %zu distfiles this run needs %s "
				       "(nothing was booted)", sum.missing + sum.bad, want->n_files,
				       how->offline ? "are not verified in the cache (--offline)" : "could not be had");
	}
	free(states);
	return rc;
}

void bootstrap_print_plan(const struct bootstrap_job *job, const struct manifest *const *files, size_t n_files)
{
	size_t count[4] = { 0 };
	for (size_t i = 0; i < job->plan.n_steps; i++)
		count[job->plan.steps[i].kind]++;
	printf("# %s: %zu steps (%zu builds, %zu improves, %zu jumps, %zu scripts)%s\n",
	       bootstrap_layout_name(job->layout), job->plan.n_steps, count[PLAN_BUILD], count[PLAN_IMPROVE],
	       count[PLAN_JUMP], count[PLAN_SCRIPT],
	       job->until + 1 < job->plan.n_steps ? "; the run stops after --until" : "");
	for (size_t i = 0; i < job->plan.n_steps; i++) {
		const struct plan_step *s = &job->plan.steps[i];
		static const char *const kinds[] = { "script", "build", "improve", "jump" };
		printf("%4zu %-6s %-7s %s%s\n", i + 1, s->stage, kinds[s->kind], s->name,
		       i > job->until ? "  (after --until: not run)" : "");
		for (size_t k = 0; k < s->n_distfiles; k++) {
			const struct distfile *d = bootstrap_find_distfile(files, n_files, s->distfiles[k]);
			const char *state = "not in any manifest";
			if (d) {
				char path[BOOTSTRAP_PATH];
				uint8_t digest[SHA256_BYTES];
				snprintf(path, sizeof(path), "%s/%s", job->opt.distfiles, d->name);
				int rc = sha256_file(path, digest);
				state = rc == -ENOENT ? "missing" : rc ? "unreadable"
					: memcmp(digest, d->sha256, SHA256_BYTES) ? "BAD (hash differs)" : "verified";
			}
			printf("                 %s  %s\n", s->distfiles[k], state);
		}
	}
}
