#include "bootstrap/diff_inputs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/printable.h"

#define SHOW 300 /* the most bytes of one value shown */

/* Options that say where things were, not what they were. */
static const char *const not_compared[] = { "distfiles" };

static bool skipped_option(const char *key)
{
	for (size_t i = 0; i < sizeof(not_compared) / sizeof(not_compared[0]); i++)
		if (!strcmp(key, not_compared[i]))
			return true;
	return false;
}

static void line(FILE *out, const char *what, const char *key, const char *va, const char *vb)
{
	char k[SHOW], a[SHOW], b[SHOW];
	fprintf(out, "  %s %s: %s (A) vs %s (B)\n", what, printable(k, sizeof(k), key), printable(a, sizeof(a), va),
		printable(b, sizeof(b), vb));
}

static void only(FILE *out, const char *what, const char *key, const char *side, const char *value)
{
	char k[SHOW], v[SHOW];
	fprintf(out, "  %s %s: only in %s (%s)\n", what, printable(k, sizeof(k), key), side,
		printable(v, sizeof(v), value));
}

static size_t items(const char *what, const struct run_item *a, size_t na, const struct run_item *b, size_t nb,
		    bool hashed, bool options, FILE *out)
{
	size_t n = 0;
	for (size_t i = 0; i < na; i++) {
		if (options && skipped_option(a[i].key))
			continue;
		const struct run_item *o = run_item_find(b, nb, a[i].key);
		if (!o) {
			only(out, what, a[i].key, "A", a[i].value);
			n++;
		} else if (hashed && a[i].sha256 && o->sha256) {
			if (strcmp(a[i].sha256, o->sha256)) {
				line(out, what, a[i].key, a[i].sha256, o->sha256);
				n++;
			}
		} else if (hashed && (!a[i].sha256) != (!o->sha256)) {
			line(out, what, a[i].key, a[i].sha256 ? a[i].sha256 : "not hashed",
			     o->sha256 ? o->sha256 : "not hashed");
			n++;
		} else if (strcmp(a[i].value, o->value)) {
			line(out, what, a[i].key, a[i].value, o->value);
			n++;
		}
	}
	for (size_t i = 0; i < nb; i++) {
		if ((options && skipped_option(b[i].key)) || run_item_find(a, na, b[i].key))
			continue;
		only(out, what, b[i].key, "B", b[i].value);
		n++;
	}
	return n;
}

/* The plans: the first step whose name differs, and the lengths. */
static size_t plans(const struct run_info *a, const struct run_info *b, FILE *out)
{
	size_t n = 0, common = a->n_steps < b->n_steps ? a->n_steps : b->n_steps;
	char sa[SHOW], sb[SHOW];
	for (size_t i = 0; i < common; i++) {
		if (strcmp(a->steps[i].name, b->steps[i].name)) {
			fprintf(out, "  plan: step %zu is '%s' (A) vs '%s' (B)\n", i + 1,
				printable(sa, sizeof(sa), a->steps[i].name), printable(sb, sizeof(sb), b->steps[i].name));
			n++;
			break;
		}
	}
	if (a->n_steps != b->n_steps) {
		fprintf(out, "  plan: %zu steps (A) vs %zu steps (B)\n", a->n_steps, b->n_steps);
		n++;
	}
	return n;
}

size_t diff_inputs(const struct run_info *a, const struct run_info *b, FILE *out)
{
	size_t n = 0;
	if (strcmp(a->version, b->version)) {
		line(out, "lbvm", "version", a->version, b->version);
		n++;
	}
	n += items("input", a->inputs, a->n_inputs, b->inputs, b->n_inputs, true, false, out);
	n += items("option", a->options, a->n_options, b->options, b->n_options, false, true, out);
	n += items("machine", a->machine, a->n_machine, b->machine, b->n_machine, false, false, out);
	n += plans(a, b, out);
	return n;
}

/* ---- keyed text files ---- */

struct keyed {
	char *key, *value;
};

struct keyed_list {
	struct keyed *v;
	size_t n;
};

static void keyed_free(struct keyed_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
}

/* Split LINE (LEN bytes) into key and value. */
static int split(enum keyed_format format, const char *line, size_t len, struct keyed *k)
{
	const char *key = line, *value = "";
	size_t klen = len, vlen = 0;
	if (format == KEYED_ASSIGN) {
		const char *eq = memchr(line, '=', len);
		if (eq) {
			klen = (size_t)(eq - line);
			value = eq + 1;
			vlen = len - klen - 1;
		}
	} else {
		const char *sp = memchr(line, ' ', len);
		/* "HASH  NAME" or "HASH *NAME" (binary mode) */
		if (sp && (size_t)(sp - line) + 2 <= len && (sp[1] == ' ' || sp[1] == '*')) {
			value = line;
			vlen = (size_t)(sp - line);
			key = sp + 2;
			klen = len - vlen - 2;
		}
	}
	k->key = strndup(key, klen);
	k->value = strndup(value, vlen);
	return k->key && k->value ? 0 : -1;
}

static int parse(enum keyed_format format, const char *text, struct keyed_list *l)
{
	memset(l, 0, sizeof(*l));
	size_t lines = 1;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	l->v = calloc(lines, sizeof(*l->v));
	if (!l->v)
		return -1;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len && (len > 1 || p[0] != '\r')) {
			size_t real = len - (p[len - 1] == '\r');
			if (split(format, p, real, &l->v[l->n++]) < 0)
				return -1;
		}
		p += len + (nl != NULL);
	}
	return 0;
}

static const struct keyed *keyed_find(const struct keyed_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return &l->v[i];
	return NULL;
}

size_t diff_keyed_text(const char *what, enum keyed_format format, const char *a, const char *b, FILE *out)
{
	if (!a && !b)
		return 0;
	if (!a || !b) {
		fprintf(out, "  %s: only in %s\n", what, a ? "A" : "B");
		return 1;
	}
	struct keyed_list la = { 0 }, lb = { 0 };
	if (parse(format, a, &la) < 0 || parse(format, b, &lb) < 0) {
		keyed_free(&la);
		keyed_free(&lb);
		fprintf(out, "  %s: could not be compared (out of memory)\n", what);
		return 1;
	}
	size_t n = 0;
	for (size_t i = 0; i < la.n; i++) {
		const struct keyed *o = keyed_find(&lb, la.v[i].key);
		if (!o) {
			only(out, what, la.v[i].key, "A", la.v[i].value);
			n++;
		} else if (strcmp(o->value, la.v[i].value)) {
			line(out, what, la.v[i].key, la.v[i].value, o->value);
			n++;
		}
	}
	for (size_t i = 0; i < lb.n; i++)
		if (!keyed_find(&la, lb.v[i].key)) {
			only(out, what, lb.v[i].key, "B", lb.v[i].value);
			n++;
		}
	keyed_free(&la);
	keyed_free(&lb);
	return n;
}

void keyed_value(enum keyed_format format, const char *text, const char *key, char *buf, size_t len)
{
	buf[0] = '\0';
	struct keyed_list l = { 0 };
	if (!text || parse(format, text, &l) < 0) {
		keyed_free(&l);
		return;
	}
	const struct keyed *k = keyed_find(&l, key);
	if (k)
		snprintf(buf, len, "%s", k->value);
	keyed_free(&l);
}
