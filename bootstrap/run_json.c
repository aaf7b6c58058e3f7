#include "bootstrap/run_json.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "common/printable.h"

#define SHA256_HEX 64
#define MAX_STEPS 100000

/* The parser's state: where we are, for messages ("steps[3].index"). */
struct reader {
	const char *name;
	struct error *err;
};

static int bad(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct reader *r, const char *fmt, ...)
{
	char what[ERROR_MSG_MAX], shown[ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* keys and values from the file stay on the one line */
	return error_fail_status(r->err, EXIT_USAGE, -EINVAL, "%s: %s", r->name, printable(shown, sizeof(shown), what));
}

static int oom(struct reader *r)
{
	return error_fail(r->err, -ENOMEM, "out of memory");
}

/* A string without NUL bytes (the record never writes \u0000), copied. */
static int get_string(struct reader *r, json_object *o, const char *where, char **out)
{
	if (!json_object_is_type(o, json_type_string))
		return bad(r, "%s must be a string", where);
	const char *s = json_object_get_string(o);
	int len = json_object_get_string_len(o);
	if (len < 0 || (size_t)len != strlen(s))
		return bad(r, "%s holds a NUL character", where);
	if (!(*out = strdup(s)))
		return oom(r);
	return 0;
}

/* FIELD of object O, which must be there. */
static int member(struct reader *r, json_object *o, const char *where, const char *field, json_object **out)
{
	if (!json_object_object_get_ex(o, field, out))
		return bad(r, "%s lacks \"%s\"", where, field);
	return 0;
}

static int string_member(struct reader *r, json_object *o, const char *where, const char *field, char **out)
{
	json_object *v;
	char at[256];
	snprintf(at, sizeof(at), "%s%s%s", where, *where ? "." : "", field);
	int rc = member(r, o, where[0] ? where : "the record", field, &v);
	return rc ? rc : get_string(r, v, at, out);
}

static bool is_hex64(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n == SHA256_HEX && s[n] == '\0';
}

/* A package name becomes part of a file name: no '/', no control bytes, not "." or "..". */
static bool package_name_ok(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* "inputs", "options", "machine": objects of strings, or (inputs) of {"value": S, "sha256": HEX|null}. */
static int read_items(struct reader *r, json_object *root, const char *field, bool with_hash,
		      struct run_item **items, size_t *n)
{
	json_object *o;
	int rc = member(r, root, "the record", field, &o);
	if (rc)
		return rc;
	if (!json_object_is_type(o, json_type_object))
		return bad(r, "%s must be an object", field);
	size_t count = (size_t)json_object_object_length(o);
	*items = calloc(count ? count : 1, sizeof(**items));
	if (!*items)
		return oom(r);
	json_object_object_foreach(o, key, val)
	{
		struct run_item *it = &(*items)[(*n)++];
		char at[256];
		snprintf(at, sizeof(at), "%s.\"%.200s\"", field, key);
		if (!(it->key = strdup(key)))
			return oom(r);
		if (!with_hash) {
			if ((rc = get_string(r, val, at, &it->value)))
				return rc;
			continue;
		}
		if (!json_object_is_type(val, json_type_object))
			return bad(r, "%s must be an object with \"value\" and \"sha256\"", at);
		if ((rc = string_member(r, val, at, "value", &it->value)))
			return rc;
		json_object *h;
		if ((rc = member(r, val, at, "sha256", &h)))
			return rc;
		if (json_object_is_type(h, json_type_null))
			continue;
		char hat[300];
		snprintf(hat, sizeof(hat), "%s.sha256", at);
		if ((rc = get_string(r, h, hat, &it->sha256)))
			return rc;
		if (!is_hex64(it->sha256))
			return bad(r, "%s is not 64 lower-case hex digits", hat);
	}
	return 0;
}

static int read_step(struct reader *r, json_object *o, size_t i, struct run_step *s)
{
	char at[64];
	snprintf(at, sizeof(at), "steps[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return bad(r, "%s must be an object", at);
	json_object *v;
	int rc = member(r, o, at, "index", &v);
	if (rc)
		return rc;
	if (!json_object_is_type(v, json_type_int))
		return bad(r, "%s.index must be a whole number", at);
	int64_t index = json_object_get_int64(v);
	if (index != (int64_t)i + 1)
		return bad(r, "%s.index is %lld, expected %zu (steps are numbered in order from 1)", at,
			   (long long)index, i + 1);
	s->index = i + 1;
	if ((rc = string_member(r, o, at, "stage", &s->stage)) || (rc = string_member(r, o, at, "name", &s->name)) ||
	    (rc = string_member(r, o, at, "outcome", &s->outcome)))
		return rc;
	if ((rc = member(r, o, at, "package", &v)))
		return rc;
	if (!json_object_is_type(v, json_type_null)) {
		char pat[80];
		snprintf(pat, sizeof(pat), "%s.package", at);
		if ((rc = get_string(r, v, pat, &s->package)))
			return rc;
		if (!package_name_ok(s->package))
			return bad(r, "%s '%.100s' is not a package name", pat, s->package);
	}
	/* distfiles: optional for the diff, but when present a list of strings */
	if (json_object_object_get_ex(o, "distfiles", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return bad(r, "%s.distfiles must be a list", at);
		for (size_t k = 0; k < json_object_array_length(v); k++)
			if (!json_object_is_type(json_object_array_get_idx(v, k), json_type_string))
				return bad(r, "%s.distfiles[%zu] must be a string", at, k);
	}
	return 0;
}

static int read_steps(struct reader *r, json_object *root, struct run_info *out)
{
	json_object *a;
	int rc = member(r, root, "the record", "steps", &a);
	if (rc)
		return rc;
	if (!json_object_is_type(a, json_type_array))
		return bad(r, "steps must be a list");
	size_t n = json_object_array_length(a);
	if (n > MAX_STEPS)
		return bad(r, "steps has %zu entries, more than lbvm reads (%d)", n, MAX_STEPS);
	out->steps = calloc(n ? n : 1, sizeof(*out->steps));
	if (!out->steps)
		return oom(r);
	for (size_t i = 0; i < n; i++) {
		out->n_steps = i + 1;
		if ((rc = read_step(r, json_object_array_get_idx(a, i), i, &out->steps[i])))
			return rc;
	}
	return 0;
}

static int read_end(struct reader *r, json_object *root, struct run_info *out)
{
	json_object *e, *v;
	int rc = member(r, root, "the record", "end", &e);
	if (rc || json_object_is_type(e, json_type_null))
		return rc;
	if (!json_object_is_type(e, json_type_object))
		return bad(r, "end must be null or an object");
	if ((rc = member(r, e, "end", "exit_status", &v)))
		return rc;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 || json_object_get_int64(v) > 255)
		return bad(r, "end.exit_status must be a whole number from 0 to 255");
	out->exit_status = (int)json_object_get_int64(v);
	if ((rc = string_member(r, e, "end", "outcome", &out->outcome)))
		return rc;
	out->ended = true;
	return 0;
}

static int read_record(struct reader *r, json_object *root, struct run_info *out)
{
	if (!json_object_is_type(root, json_type_object))
		return bad(r, "not a run record (a JSON object)");
	char *format = NULL;
	int rc = string_member(r, root, "", "format", &format);
	if (!rc && strcmp(format, RUN_JSON_FORMAT))
		rc = bad(r, "format '%.100s' is not %s (a record of another lbvm?)", format, RUN_JSON_FORMAT);
	free(format);
	if (!rc)
		rc = string_member(r, root, "", "lbvm_version", &out->version);
	if (!rc)
		rc = string_member(r, root, "", "layout", &out->layout);
	if (!rc)
		rc = string_member(r, root, "", "tree", &out->tree);
	if (!rc)
		rc = string_member(r, root, "", "started", &out->started);
	if (!rc)
		rc = read_items(r, root, "inputs", true, &out->inputs, &out->n_inputs);
	if (!rc)
		rc = read_items(r, root, "options", false, &out->options, &out->n_options);
	if (!rc)
		rc = read_items(r, root, "machine", false, &out->machine, &out->n_machine);
	if (!rc)
		rc = read_steps(r, root, out);
	if (!rc)
		rc = read_end(r, root, out);
	return rc;
}

int run_json_parse(const char *text, size_t len, const char *name, struct run_info *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct reader r = { name, err };
	if (len > RUN_JSON_MAX_BYTES || len > INT_MAX)
		return bad(&r, "%zu bytes, more than a run record can be", len);
	if (memchr(text, '\0', len))
		return bad(&r, "holds a NUL byte: not a run record");
	/* the record ends with a newline, which json-c's strict mode counts as trailing text */
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
		len--;
	if (!len)
		return bad(&r, "empty");
	/* json-c takes a lone literal for "to be continued": say what it is instead */
	if (text[strspn(text, " \t\r\n")] != '{')
		return bad(&r, "not a run record (a JSON object)");
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return oom(&r);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	int rc;
	if (!root && jerr == json_tokener_continue)
		rc = bad(&r, "ends early (the record is cut short)");
	else if (!root)
		rc = bad(&r, "not valid JSON near byte %zu: %s", end, json_tokener_error_desc(jerr));
	else if (end < len)
		rc = bad(&r, "text after the record, at byte %zu", end);
	else
		rc = read_record(&r, root, out);
	json_object_put(root);
	if (rc)
		run_json_free(out);
	return rc;
}

int run_json_load(const char *dir, struct run_info *out, struct error *err)
{
	char path[PATH_MAX];
	memset(out, 0, sizeof(*out));
	if (snprintf(path, sizeof(path), "%s/run.json", dir) >= (int)sizeof(path))
		return error_fail_status(err, EXIT_USAGE, -ENAMETOOLONG, "%s: path too long", dir);
	struct stat st;
	if (stat(dir, &st) != 0)
		return error_fail_status(err, EXIT_USAGE, -errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_fail_status(err, EXIT_USAGE, -ENOTDIR, "%s is not a run directory", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_fail_status(err, EXIT_USAGE, -errno, "%s: %s (not a directory of lbvm bootstrap?)", path,
					 strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > RUN_JSON_MAX_BYTES) {
		close(fd);
		return error_fail_status(err, EXIT_USAGE, -EINVAL, "%s: not a run record (a regular file of at most "
					 "%u MiB)", path, RUN_JSON_MAX_BYTES >> 20);
	}
	size_t len = (size_t)st.st_size, got = 0;
	char *text = malloc(len ? len : 1);
	if (!text) {
		close(fd);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	while (got < len) {
		ssize_t n = read(fd, text + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	int e = errno;
	close(fd);
	int rc = got == len ? run_json_parse(text, len, path, out, err)
			    : error_fail_status(err, EXIT_USAGE, -EIO, "%s: %s", path, got < len ? strerror(e) : "");
	free(text);
	return rc;
}

static void free_items(struct run_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].key);
		free(items[i].value);
		free(items[i].sha256);
	}
	free(items);
}

void run_json_free(struct run_info *r)
{
	free(r->version);
	free(r->layout);
	free(r->tree);
	free(r->started);
	free_items(r->inputs, r->n_inputs);
	free_items(r->options, r->n_options);
	free_items(r->machine, r->n_machine);
	for (size_t i = 0; i < r->n_steps; i++) {
		free(r->steps[i].stage);
		free(r->steps[i].name);
		free(r->steps[i].package);
		free(r->steps[i].outcome);
	}
	free(r->steps);
	free(r->outcome);
	memset(r, 0, sizeof(*r));
}

const struct run_item *run_item_find(const struct run_item *items, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(items[i].key, key))
			return &items[i];
	return NULL;
}

bool run_json_is_chroot(const struct run_info *r)
{
	const struct run_item *m = run_item_find(r->options, r->n_options, "mode");
	return m && !strcmp(m->value, "chroot");
}
