#include "steps/manifest_eval.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TRUE_TEXT "True"
#define FALSE_TEXT "False"
#define CHAR_EOF 0xff /* the generator keeps fgetc's result in a char: byte 0xFF reads as end of file */

/* One non-comment line of the manifest, split as the generator's tokenizer splits it. */
struct line {
	char **tok;
	size_t n, cap;
	size_t lineno;
};

struct ctx {
	struct steps_eval *ev;
	const char *origin;
	struct error *err;
	size_t lineno; /* of the line being interpreted */
};

static int oom(struct error *err)
{
	return error_fail(err, -ENOMEM, "out of memory");
}

static int bad(struct ctx *c, const char *what)
{
	return error_fail(c->err, -EINVAL, "%s:%zu: %s", c->origin, c->lineno, what);
}

void steps_eval_init(struct steps_eval *ev)
{
	memset(ev, 0, sizeof(*ev));
}

void steps_eval_free(struct steps_eval *ev)
{
	for (size_t i = 0; i < ev->n_dirs; i++)
		free(ev->dirs[i].arg);
	free(ev->dirs);
	for (size_t i = 0; i < ev->n_vars; i++) {
		free(ev->vars[i].name);
		free(ev->vars[i].value);
	}
	free(ev->vars);
	steps_eval_init(ev);
}

static void line_free(struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->tok[i]);
	free(l->tok);
	memset(l, 0, sizeof(*l));
}

static int line_push(struct line *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **t = realloc(l->tok, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		l->tok = t;
		l->cap = cap;
	}
	char *d = strndup(s, len);
	if (!d)
		return -ENOMEM;
	l->tok[l->n++] = d;
	return 0;
}

/* ---- variables: the generator's singly linked list, kept as an array in list order ---- */

static int var_append(struct steps_eval *ev, const char *name, size_t name_len, const char *value,
		      size_t value_len)
{
	if (ev->n_vars == ev->cap_vars) {
		size_t cap = ev->cap_vars ? ev->cap_vars * 2 : 32;
		struct steps_var *v = realloc(ev->vars, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ev->vars = v;
		ev->cap_vars = cap;
	}
	struct steps_var *v = &ev->vars[ev->n_vars];
	v->name = strndup(name, name_len);
	v->value = strndup(value, value_len);
	if (!v->name || !v->value) {
		free(v->name);
		free(v->value);
		return -ENOMEM;
	}
	ev->n_vars++;
	return 0;
}

const char *steps_eval_var(const struct steps_eval *ev, const char *name)
{
	for (size_t i = 0; i < ev->n_vars; i++)
		if (!strcmp(ev->vars[i].name, name))
			return ev->vars[i].value;
	return "";
}

/* define's update: the first entry after the head with that name, else a new last entry. With an empty
 * list the generator creates the head and then, its loop finding no successor, appends a second copy. */
static int var_define(struct steps_eval *ev, const char *name, const char *value)
{
	if (ev->n_vars == 0 && var_append(ev, name, strlen(name), value, strlen(value)))
		return -ENOMEM;
	for (size_t i = 1; i < ev->n_vars; i++) {
		if (!strcmp(ev->vars[i].name, name)) {
			char *d = strdup(value);
			if (!d)
				return -ENOMEM;
			free(ev->vars[i].value);
			ev->vars[i].value = d;
			return 0;
		}
	}
	return var_append(ev, name, strlen(name), value, strlen(value));
}

/* bootstrap.cfg as load_config reads it: NAME is what precedes the first '=', VALUE the rest without its
 * last byte (the newline). */
static int load_cfg(struct steps_eval *ev, const char *cfg, size_t len, struct error *err)
{
	size_t pos = 0, lineno = 0;
	while (pos < len) {
		lineno++;
		const char *start = cfg + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - start) + 1 : len - pos; /* with its newline */
		if (!nl)
			return error_fail(err, -EINVAL, "bootstrap.cfg:%zu: the last line has no newline", lineno);
		if (line_len - 1 > STEPS_MAX_CFG_LINE)
			return error_fail(err, -EINVAL,
					  "bootstrap.cfg:%zu: a line of %zu bytes (the chain reads at most %d)", lineno,
					  line_len - 1, STEPS_MAX_CFG_LINE);
		if (memchr(start, '\0', line_len))
			return error_fail(err, -EINVAL, "bootstrap.cfg:%zu: a NUL byte", lineno);
		const char *eq = memchr(start, '=', line_len);
		if (!eq)
			return error_fail(err, -EINVAL, "bootstrap.cfg:%zu: not NAME=VALUE", lineno);
		size_t name_len = (size_t)(eq - start);
		size_t value_len = line_len - name_len - 2; /* minus '=' and the newline */
		if (var_append(ev, start, name_len, eq + 1, value_len))
			return oom(err);
		pos += line_len;
	}
	return 0;
}

/* ---- predicates ---- */

static bool tok_is(const struct line *l, size_t i, const char *s)
{
	return i < l->n && !strcmp(l->tok[i], s);
}

/* logic = name ")" | name ("=="|"!=") value (")" | ("||"|"&&") logic). On return *i is at the ")". */
static int logic(struct ctx *c, const struct line *l, size_t *i, const char **val)
{
	if (*i >= l->n)
		return bad(c, "the predicate ends before its closing ')'");
	const char *lhs = l->tok[*i];
	(*i)++;
	if (*i >= l->n)
		return bad(c, "the predicate ends before its closing ')'");
	if (tok_is(l, *i, ")")) {
		*val = lhs; /* a constant */
		return 0;
	}
	bool eq = tok_is(l, *i, "=="), ne = tok_is(l, *i, "!=");
	if (!eq && !ne) {
		error_fail(c->err, -EINVAL, "%s:%zu: expected == or != after '%s' in the predicate", c->origin,
			   c->lineno, lhs);
		return -EINVAL;
	}
	if (*i + 1 >= l->n)
		return bad(c, "the predicate has no value after its == or !=");
	bool same = !strcmp(steps_eval_var(c->ev, lhs), l->tok[*i + 1]);
	bool result = eq ? same : !same;
	*i += 2;
	if (*i >= l->n)
		return bad(c, "the predicate ends before its closing ')'");
	if (tok_is(l, *i, ")")) {
		*val = result ? TRUE_TEXT : FALSE_TEXT;
		return 0;
	}
	bool or = tok_is(l, *i, "||"), and = tok_is(l, *i, "&&");
	if (!or && !and) {
		error_fail(c->err, -EINVAL, "%s:%zu: expected ||, && or ')' in the predicate, found '%s'",
			   c->origin, c->lineno, l->tok[*i]);
		return -EINVAL;
	}
	(*i)++;
	const char *rhs;
	int rc = logic(c, l, i, &rhs);
	if (rc)
		return rc;
	bool r = !strcmp(rhs, TRUE_TEXT);
	*val = (or ? (result || r) : (result && r)) ? TRUE_TEXT : FALSE_TEXT;
	return 0;
}

/* "(" logic ")"; *i ends at the ")". */
static int primary_logic(struct ctx *c, const struct line *l, size_t *i, const char **val)
{
	if (!tok_is(l, *i, "(")) {
		error_fail(c->err, -EINVAL, "%s:%zu: expected a predicate starting with '(', found '%s'",
			   c->origin, c->lineno, *i < l->n ? l->tok[*i] : "the end of the line");
		return -EINVAL;
	}
	(*i)++;
	return logic(c, l, i, val);
}

/* The predicate starting at token i (if any): *keep false when it evaluates to anything but True. */
static int predicate(struct ctx *c, const struct line *l, size_t i, bool *keep)
{
	*keep = true;
	if (i >= l->n)
		return 0;
	const char *val;
	int rc = primary_logic(c, l, &i, &val);
	if (rc)
		return rc;
	*keep = !strcmp(val, TRUE_TEXT);
	return 0;
}

/* ---- directives ---- */

static int keep_directive(struct ctx *c, enum steps_directive_type type, char *arg)
{
	struct steps_eval *ev = c->ev;
	if (ev->n_dirs == ev->cap_dirs) {
		size_t cap = ev->cap_dirs ? ev->cap_dirs * 2 : 128;
		struct steps_directive *d = realloc(ev->dirs, cap * sizeof(*d));
		if (!d) {
			free(arg);
			return oom(c->err);
		}
		ev->dirs = d;
		ev->cap_dirs = cap;
	}
	ev->dirs[ev->n_dirs++] = (struct steps_directive){ .type = type, .arg = arg, .line = c->lineno };
	return 0;
}

static int do_define(struct ctx *c, const struct line *l)
{
	if (l->n < 2)
		return bad(c, "define: needs NAME = VALUE");
	const char *name = l->tok[1];
	if (!tok_is(l, 2, "=")) {
		error_fail(c->err, -EINVAL, "%s:%zu: define of %s has no '=' after the name", c->origin,
			   c->lineno, name);
		return -EINVAL;
	}
	size_t i = 3;
	const char *val;
	if (i >= l->n)
		return bad(c, "define: has no value after '='");
	if (tok_is(l, i, "(")) {
		int rc = primary_logic(c, l, &i, &val);
		if (rc)
			return rc;
	} else {
		val = l->tok[i];
	}
	bool keep;
	int rc = predicate(c, l, i + 1, &keep);
	if (rc || !keep)
		return rc;
	return var_define(c->ev, name, val) ? oom(c->err) : 0;
}

static int do_uninstall(struct ctx *c, const struct line *l)
{
	if (l->n < 2)
		return bad(c, "uninstall: needs something to uninstall");
	size_t i = 1, len = strlen(l->tok[1]) + 1;
	for (size_t j = 2; j < l->n && !tok_is(l, j, "("); j++)
		len += strlen(l->tok[j]) + 1;
	if (len - 1 > STEPS_MAX_UNINSTALL)
		return bad(c, "uninstall: has more arguments than the chain's generator holds");
	char *arg = malloc(len);
	if (!arg)
		return oom(c->err);
	arg[0] = '\0';
	/* The first argument is taken even when it is "(": the generator fills it before looking. */
	strcat(arg, l->tok[i++]);
	for (; i < l->n && !tok_is(l, i, "("); i++) {
		strcat(arg, " ");
		strcat(arg, l->tok[i]);
	}
	bool keep;
	int rc = predicate(c, l, i, &keep);
	if (rc || !keep) {
		free(arg);
		return rc;
	}
	return keep_directive(c, STEPS_DIR_UNINSTALL, arg);
}

static int interpret(struct ctx *c, const struct line *l)
{
	static const struct {
		const char *word;
		enum steps_directive_type type;
	} simple[] = {
		{ "build:", STEPS_DIR_BUILD },
		{ "improve:", STEPS_DIR_IMPROVE },
		{ "jump:", STEPS_DIR_JUMP },
	};
	c->lineno = l->lineno;
	const char *word = l->tok[0];
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		if (strcmp(word, simple[k].word))
			continue;
		if (l->n < 2) {
			error_fail(c->err, -EINVAL, "%s:%zu: %s needs a name", c->origin, c->lineno, word);
			return -EINVAL;
		}
		bool keep;
		int rc = predicate(c, l, 2, &keep);
		if (rc || !keep)
			return rc;
		char *arg = strdup(l->tok[1]);
		return arg ? keep_directive(c, simple[k].type, arg) : oom(c->err);
	}
	if (!strcmp(word, "define:"))
		return do_define(c, l);
	if (!strcmp(word, "uninstall:"))
		return do_uninstall(c, l);
	error_fail(c->err, -EINVAL,
		   "%s:%zu: '%s' is not a directive (build:, improve:, jump:, define:, uninstall:)", c->origin,
		   c->lineno, word);
	return -EINVAL;
}

/* ---- the tokenizer: consume_line of the generator, over a buffer ---- */

struct reader {
	const unsigned char *p;
	size_t len, pos, lineno;
};

/* The next byte, or -1 at the end (also for 0xFF, as the generator's char-typed fgetc result). */
static int next_byte(struct reader *r)
{
	if (r->pos >= r->len || r->p[r->pos] == CHAR_EOF)
		return -1;
	return r->p[r->pos++];
}

static int skip_comment(struct reader *r)
{
	int ch = next_byte(r);
	while (ch != -1 && ch != '\n')
		ch = next_byte(r);
	return ch;
}

/* Tokens of one line into l (l->n stays 0 for a comment or blank line); returns the byte that ended it. */
static int read_line(struct reader *r, struct line *l, struct ctx *c, int *rc)
{
	*rc = 0;
	int ch = next_byte(r);
	if (ch == '#')
		return skip_comment(r);
	if (ch == '\n' || ch == -1)
		return ch;
	while (ch != -1 && ch != '\n') {
		size_t start = r->pos - 1, len = 0;
		while (ch != -1 && ch != '\n' && ch != ' ' && ch != '#') {
			if (ch == '\0' || ch == '\r') {
				*rc = bad(c, ch ? "a carriage return (CRLF line ends?): the chain's generator would "
						  "take it as part of a name"
						: "a NUL byte");
				return -1;
			}
			len++;
			ch = next_byte(r);
		}
		if (len > STEPS_MAX_TOKEN) {
			*rc = bad(c, "a word longer than 63 bytes (the chain's generator holds 64)");
			return -1;
		}
		if (line_push(l, (const char *)r->p + start, len)) {
			*rc = oom(c->err);
			return -1;
		}
		if (ch == ' ')
			ch = next_byte(r);
		if (ch == '#')
			ch = skip_comment(r);
	}
	return ch;
}

int steps_eval_run(struct steps_eval *ev, const char *origin, const char *manifest, size_t manifest_len,
		   const char *cfg, size_t cfg_len, struct error *err)
{
	int rc = load_cfg(ev, cfg, cfg_len, err);
	if (rc)
		return rc;
	struct ctx c = { .ev = ev, .origin = origin, .err = err };
	struct reader r = { .p = (const unsigned char *)manifest, .len = manifest_len };
	if (memchr(manifest, CHAR_EOF, manifest_len)) {
		/* count the line for the message */
		size_t at = (size_t)((const char *)memchr(manifest, CHAR_EOF, manifest_len) - manifest), line = 1;
		for (size_t i = 0; i < at; i++)
			line += manifest[i] == '\n';
		return error_fail(err, -EINVAL, "%s:%zu: a 0xFF byte: the chain's generator stops reading there",
				  origin, line);
	}
	int ch = 0;
	size_t lineno = 0;
	while (ch != -1) {
		struct line l = { 0 };
		lineno++;
		c.lineno = lineno;
		l.lineno = lineno;
		ch = read_line(&r, &l, &c, &rc);
		if (!rc && l.n)
			rc = interpret(&c, &l);
		line_free(&l);
		if (rc)
			return rc;
	}
	return 0;
}
