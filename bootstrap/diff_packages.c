#include "bootstrap/diff_packages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diff_pkgs_init(struct diff_pkgs *l)
{
	memset(l, 0, sizeof(*l));
}

void diff_pkgs_free(struct diff_pkgs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->p[i].name);
		free(l->p[i].step);
	}
	free(l->p);
	memset(l, 0, sizeof(*l));
}

struct diff_pkg *diff_pkgs_find(const struct diff_pkgs *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->p[i].name, name))
			return &l->p[i];
	return NULL;
}

int diff_pkgs_add(struct diff_pkgs *l, const char *name, const char *step, size_t index, struct error *err)
{
	if (diff_pkgs_find(l, name))
		return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		struct diff_pkg *np = realloc(l->p, ncap * sizeof(*np));
		if (!np)
			return error_fail(err, -ENOMEM, "out of memory");
		l->p = np;
		l->cap = ncap;
	}
	struct diff_pkg *p = &l->p[l->n];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->step = step ? strdup(step) : NULL;
	p->index = index;
	if (!p->name || (step && !p->step)) {
		free(p->name);
		free(p->step);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	l->n++;
	return 0;
}

int diff_pkgs_from_plan(struct diff_pkgs *l, const struct run_step *steps, size_t n, struct error *err)
{
	/* The repo as the chain fills it, for get_revision: `ls -1 "${pkg}"* | wc -l`. */
	char **repo = calloc(n ? n : 1, sizeof(*repo));
	if (!repo)
		return error_fail(err, -ENOMEM, "out of memory");
	size_t n_repo = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		const struct run_step *s = &steps[i];
		if (!s->package || strcmp(s->stage, DIFF_BASH_STAGE))
			continue;
		size_t rev = 0, plen = strlen(s->package);
		for (size_t k = 0; k < n_repo; k++)
			rev += !strncmp(repo[k], s->package, plen);
		char *name;
		if (asprintf(&name, "%s_%zu.tar.bz2", s->package, rev) < 0) {
			rc = error_fail(err, -ENOMEM, "out of memory");
			break;
		}
		repo[n_repo++] = name;
		rc = diff_pkgs_add(l, name, s->name, s->index, err);
	}
	for (size_t k = 0; k < n_repo; k++)
		free(repo[k]);
	free(repo);
	return rc;
}

bool diff_pkg_differs(const struct diff_pkg *p)
{
	if (p->present[0] != p->present[1])
		return true;
	return p->present[0] && memcmp(p->hash[0], p->hash[1], sizeof(p->hash[0])) != 0;
}

size_t diff_pkgs_first(const struct diff_pkgs *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (diff_pkg_differs(&l->p[i]))
			return i;
	return l->n;
}

void diff_pkgs_count(const struct diff_pkgs *l, size_t *compared, size_t *differing)
{
	*compared = *differing = 0;
	for (size_t i = 0; i < l->n; i++) {
		*compared += l->p[i].present[0] || l->p[i].present[1];
		*differing += diff_pkg_differs(&l->p[i]);
	}
}
