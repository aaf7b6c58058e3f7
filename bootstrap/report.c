#include "bootstrap/report.h"

#include <stdio.h>
#include <stdlib.h>

char *report_compose(const struct progress *p, const char *outcome, const char *detail)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	const struct plan *plan = p->plan;
	fprintf(f, "outcome: %s%s%s\n", outcome, detail && *detail ? ": " : "", detail ? detail : "");
	if (p->current == PROGRESS_NONE) {
		fprintf(f, "the run ended before its first step began\n");
	} else {
		const struct plan_step *s = &plan->steps[p->current];
		fprintf(f, "stage: %s\nstep: %s (step %zu of %zu)\n", s->stage, s->name, p->current + 1, plan->n_steps);
	}
	if (p->n_evidence) {
		fprintf(f, "evidence:\n");
		for (size_t i = 0; i < p->n_evidence; i++) {
			size_t at = p->evidence_step[i];
			fprintf(f, "  [%s] %s\n", at == PROGRESS_NONE ? "before the first step" : plan->steps[at].name,
				p->evidence[i]);
		}
	}
	if (p->tail_count) {
		fprintf(f, "last lines of the step's output:\n");
		for (size_t i = 0; i < p->tail_count; i++)
			fprintf(f, "  %s\n", progress_tail_line(p, i));
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
