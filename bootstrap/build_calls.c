#include "bootstrap/build_calls.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 16
#define MAX_WORD 256
#define MAX_DEPTH 16
#define MAX_SCRIPT (4u << 20)
#define MAX_VARS 64

struct words {
	char w[MAX_WORDS][MAX_WORD];
	int n;
};

void build_calls_free(struct build_calls *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->calls[i].package);
		free(c->calls[i].script);
	}
	free(c->calls);
	memset(c, 0, sizeof(*c));
}

static int add_call(struct build_calls *c, const char *pkg, const char *script, unsigned line, struct error *err)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct build_call *grown = realloc(c->calls, cap * sizeof(*grown));
		if (!grown)
			return error_fail(err, -ENOMEM, "out of memory");
		c->calls = grown;
		c->cap = cap;
	}
	struct build_call *b = &c->calls[c->n];
	b->package = strdup(pkg);
	b->script = script ? strdup(script) : NULL;
	b->line = line;
	if (!b->package || (script && !b->script)) {
		free(b->package);
		free(b->script);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	c->n++;
	return 0;
}

/* A package or script name as the chain uses them: no path, no blanks, nothing a shell would expand. */
static bool plain_name(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
			return false;
	return true;
}

/* Split one line into words: blanks separate, '...' and "..." quote (and are removed), a word starting
 * with '#' ends the line, ';' ends a word. Variables ${NAME} and $NAME are replaced by LOOKUP's value
 * (outside single quotes) when LOOKUP is given. -1 when the line has too many or too long words. */
static int split(const char *line, struct words *out, const char *(*lookup)(void *, const char *), void *ctx)
{
	out->n = 0;
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			return 0;
		if (*p == ';') {
			p++;
			continue;
		}
		if (out->n == MAX_WORDS)
			return -1;
		char *w = out->w[out->n];
		size_t len = 0;
		char quote = 0;
		for (; *p && (quote || (*p != ' ' && *p != '\t' && *p != ';')); p++) {
			if (!quote && (*p == '\'' || *p == '"')) {
				quote = *p;
				continue;
			}
			if (quote && *p == quote) {
				quote = 0;
				continue;
			}
			if (*p == '$' && quote != '\'' && lookup) {
				char name[64];
				size_t n = 0;
				const char *q = p + 1;
				bool braced = *q == '{';
				if (braced)
					q++;
				while ((isalnum((unsigned char)*q) || *q == '_') && n + 1 < sizeof(name))
					name[n++] = *q++;
				name[n] = '\0';
				if (n && (!braced || *q == '}')) {
					const char *v = lookup(ctx, name);
					for (; v && *v; v++) {
						if (len + 1 >= MAX_WORD)
							return -1;
						w[len++] = *v;
					}
					p = braced ? q : q - 1;
					continue;
				}
			}
			if (len + 1 >= MAX_WORD)
				return -1;
			w[len++] = *p;
		}
		if (quote)
			return -1;
		w[len] = '\0';
		out->n++;
	}
}

/* Iterate over the lines of text: returns the next line (NUL-terminated copy in buf) or NULL. */
static const char *next_line(const char **pos, char *buf, size_t cap)
{
	const char *s = *pos;
	if (!*s)
		return NULL;
	const char *e = strchr(s, '\n');
	size_t len = e ? (size_t)(e - s) : strlen(s);
	*pos = e ? e + 1 : s + len;
	if (len >= cap)
		len = cap - 1; /* a longer line is judged by its start */
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[len - 1] = '\0';
	return buf;
}

/* --- kaem scripts ------------------------------------------------------------------------------------ */

struct kaem_vars {
	char name[MAX_VARS][MAX_WORD];
	char value[MAX_VARS][MAX_WORD];
	int n;
};

static const char *kaem_lookup(void *ctx, const char *name)
{
	struct kaem_vars *v = ctx;
	for (int i = v->n - 1; i >= 0; i--)
		if (!strcmp(v->name[i], name))
			return v->value[i];
	return "";
}

static void kaem_set(struct kaem_vars *v, const char *name, const char *value)
{
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->name[i], name)) {
			snprintf(v->value[i], MAX_WORD, "%s", value);
			return;
		}
	if (v->n == MAX_VARS)
		return;
	snprintf(v->name[v->n], MAX_WORD, "%s", name);
	snprintf(v->value[v->n], MAX_WORD, "%s", value);
	v->n++;
}

int build_calls_parse_kaem(struct build_calls *c, const char *name, const char *text, struct error *err)
{
	struct kaem_vars *vars = calloc(1, sizeof(*vars));
	struct words *w = malloc(sizeof(*w));
	if (!vars || !w) {
		free(vars);
		free(w);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	char buf[1024];
	const char *pos = text;
	unsigned lineno = 0;
	int rc = 0;
	for (const char *line; rc == 0 && (line = next_line(&pos, buf, sizeof(buf)));) {
		lineno++;
		if (split(line, w, kaem_lookup, vars) < 0) {
			rc = error_fail(err, -EINVAL, "%s:%u: a line lbvm cannot read", name, lineno);
			break;
		}
		if (w->n == 1 && strchr(w->w[0], '=') && w->w[0][0] != '=') {
			char *eq = strchr(w->w[0], '=');
			*eq = '\0';
			kaem_set(vars, w->w[0], eq + 1);
		} else if (w->n == 3 && !strcmp(w->w[0], "kaem") && (!strcmp(w->w[1], "--file") || !strcmp(w->w[1], "-f"))) {
			const char *pkg = kaem_lookup(vars, "pkg");
			size_t plen = strlen(w->w[2]);
			if (plen > 5 && !strcmp(w->w[2] + plen - 5, ".kaem")) {
				w->w[2][plen - 5] = '\0';
				if (!plain_name(w->w[2]) || strcmp(w->w[2], pkg))
					rc = error_fail(err, -EINVAL, "%s:%u: 'kaem --file %s.kaem' does not name the package "
							"set by pkg= ('%s')", name, lineno, w->w[2], pkg);
				else
					rc = add_call(c, pkg, NULL, lineno, err);
			}
		}
	}
	free(vars);
	free(w);
	return rc;
}

/* --- bash scripts ------------------------------------------------------------------------------------ */

struct bash_ctx {
	build_var_fn var;
	void *ctx;
};

static const char *bash_lookup(void *ctx, const char *name)
{
	struct bash_ctx *b = ctx;
	const char *v = b->var ? b->var(b->ctx, name) : NULL;
	return v ? v : "";
}

/* `if [ A = B ]; then` / `if [ A != B ]; then` (words already split and expanded). 1/0, or -1 if the
 * condition is not one lbvm can evaluate. */
static int condition(const struct words *w)
{
	if (w->n == 7 && !strcmp(w->w[0], "if") && !strcmp(w->w[1], "[") && !strcmp(w->w[5], "]") &&
	    !strcmp(w->w[6], "then")) {
		if (!strcmp(w->w[3], "=") || !strcmp(w->w[3], "=="))
			return !strcmp(w->w[2], w->w[4]);
		if (!strcmp(w->w[3], "!="))
			return strcmp(w->w[2], w->w[4]) != 0;
	}
	return -1;
}

int build_calls_parse_bash(struct build_calls *c, const char *name, const char *text, build_var_fn var,
			   void *ctx, struct error *err)
{
	struct bash_ctx bc = { .var = var, .ctx = ctx };
	struct words *w = malloc(sizeof(*w));
	if (!w)
		return error_fail(err, -ENOMEM, "out of memory");
	bool active[MAX_DEPTH];
	int depth = 0;
	bool in_function = false;
	char buf[1024];
	const char *pos = text;
	unsigned lineno = 0;
	int rc = 0;
	for (const char *line; rc == 0 && (line = next_line(&pos, buf, sizeof(buf)));) {
		lineno++;
		/* Function definitions run only when called: their bodies are not the chain's order. */
		if (in_function) {
			if (line[0] == '}')
				in_function = false;
			continue;
		}
		size_t len = strlen(line);
		if (len >= 4 && strstr(line, "()") && line[len - 1] == '{' && !isspace((unsigned char)line[0])) {
			in_function = true;
			continue;
		}
		if (split(line, w, bash_lookup, &bc) < 0) {
			rc = error_fail(err, -EINVAL, "%s:%u: a line lbvm cannot read", name, lineno);
			break;
		}
		if (w->n == 0)
			continue;
		bool on = true;
		for (int i = 0; i < depth; i++)
			on = on && active[i];
		if (!strcmp(w->w[0], "if")) {
			int cond = condition(w);
			if (cond < 0) {
				rc = error_fail(err, -EINVAL, "%s:%u: an 'if' lbvm cannot evaluate (it reads only "
						"'if [ \"${VAR}\" = VALUE ]; then')", name, lineno);
				break;
			}
			if (depth == MAX_DEPTH) {
				rc = error_fail(err, -EINVAL, "%s:%u: 'if' nested too deep", name, lineno);
				break;
			}
			active[depth++] = cond == 1;
		} else if (!strcmp(w->w[0], "else")) {
			if (!depth) {
				rc = error_fail(err, -EINVAL, "%s:%u: 'else' without 'if'", name, lineno);
				break;
			}
			active[depth - 1] = !active[depth - 1];
		} else if (!strcmp(w->w[0], "elif")) {
			rc = error_fail(err, -EINVAL, "%s:%u: 'elif' is not read by lbvm", name, lineno);
			break;
		} else if (!strcmp(w->w[0], "fi")) {
			if (!depth) {
				rc = error_fail(err, -EINVAL, "%s:%u: 'fi' without 'if'", name, lineno);
				break;
			}
			depth--;
		} else if (!on) {
			continue;
		} else if (!strcmp(w->w[0], "exec") && depth == 0) {
			break; /* the script is replaced: nothing after this line runs */
		} else if (!strcmp(w->w[0], "build")) {
			if (w->n < 2 || !plain_name(w->w[1])) {
				rc = error_fail(err, -EINVAL, "%s:%u: 'build' without a package name lbvm can read",
						name, lineno);
				break;
			}
			char script[MAX_WORD + 4];
			if (w->n >= 3 && w->w[2][0])
				snprintf(script, sizeof(script), "%s", w->w[2]);
			else
				snprintf(script, sizeof(script), "%s.sh", w->w[1]);
			rc = add_call(c, w->w[1], script, lineno, err);
		}
	}
	if (rc == 0 && depth)
		rc = error_fail(err, -EINVAL, "%s: 'if' without 'fi'", name);
	free(w);
	return rc;
}

static char *read_script(const char *path, struct error *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		error_fail(err, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(MAX_SCRIPT + 1);
	size_t n = text ? fread(text, 1, MAX_SCRIPT + 1, f) : 0;
	int bad = ferror(f);
	fclose(f);
	if (!text) {
		error_fail(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (bad || n > MAX_SCRIPT || memchr(text, '\0', n)) {
		free(text);
		error_fail(err, -EINVAL, "%s: %s", path, bad ? "cannot be read" : "not a script lbvm can read");
		return NULL;
	}
	text[n] = '\0';
	return text;
}

int build_calls_read_kaem(struct build_calls *c, const char *path, struct error *err)
{
	char *text = read_script(path, err);
	if (!text)
		return err->code;
	int rc = build_calls_parse_kaem(c, path, text, err);
	free(text);
	return rc;
}

int build_calls_read_bash(struct build_calls *c, const char *path, build_var_fn var, void *ctx,
			  struct error *err)
{
	char *text = read_script(path, err);
	if (!text)
		return err->code;
	int rc = build_calls_parse_bash(c, path, text, var, ctx, err);
	free(text);
	return rc;
}
