#include "bootstrap/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

static void step_free(struct plan_step *s)
{
	free(s->stage);
	free(s->name);
	free(s->package);
	free(s->script);
	free(s->begin_line);
	free(s->end_line);
	for (size_t i = 0; i < s->n_distfiles; i++)
		free(s->distfiles[i]);
	free(s->distfiles);
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		step_free(&p->steps[i]);
	free(p->steps);
	free(p->layout);
	plan_init(p);
}

/* strdup that keeps NULL; *ok turns false when memory runs out. */
static char *dup_or_null(const char *s, bool *ok)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

long plan_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (!strcmp(p->steps[i].name, name))
			return (long)i;
	return -1;
}

struct plan_step *plan_add(struct plan *p, const char *stage, const char *name, const char *package,
			   const char *script, enum plan_step_kind kind, const char *begin_line,
			   const char *end_line, struct error *err)
{
	if (plan_find(p, name) >= 0) {
		error_fail(err, -EINVAL, "step '%s' appears twice in the plan", name);
		return NULL;
	}
	if (p->n_steps == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct plan_step *steps = realloc(p->steps, cap * sizeof(*steps));
		if (!steps) {
			error_fail(err, -ENOMEM, "out of memory");
			return NULL;
		}
		p->steps = steps;
		p->cap = cap;
	}
	struct plan_step *s = &p->steps[p->n_steps];
	memset(s, 0, sizeof(*s));
	bool ok = true;
	s->stage = dup_or_null(stage, &ok);
	s->name = dup_or_null(name, &ok);
	s->package = dup_or_null(package, &ok);
	s->script = dup_or_null(script, &ok);
	s->kind = kind;
	s->begin_line = dup_or_null(begin_line, &ok);
	s->end_line = dup_or_null(end_line, &ok);
	if (!ok || !s->name) {
		step_free(s);
		error_fail(err, -ENOMEM, "out of memory");
		return NULL;
	}
	p->n_steps++;
	return s;
}

int plan_step_add_distfile(struct plan_step *s, const char *name, struct error *err)
{
	for (size_t i = 0; i < s->n_distfiles; i++)
		if (!strcmp(s->distfiles[i], name))
			return 0;
	char **files = realloc(s->distfiles, (s->n_distfiles + 1) * sizeof(*files));
	if (!files)
		return error_fail(err, -ENOMEM, "out of memory");
	s->distfiles = files;
	if (!(files[s->n_distfiles] = strdup(name)))
		return error_fail(err, -ENOMEM, "out of memory");
	s->n_distfiles++;
	return 0;
}
