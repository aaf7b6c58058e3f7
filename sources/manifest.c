/* Manifest parsing: lbvm's key=value lines and live-bootstrap's `sources` lines into one list of distfiles. */
#include "sources/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A line longer than this is not a manifest line (URLs of real distfiles stay well below 1 KiB). */
#define MAX_LINE 8192
#define MAX_TOKENS 64
/* Longest cache file name: what ext4 and every other common file system accept. */
#define MAX_NAME 255

static const char *const url_schemes[] = { "http://", "https://", "ftp://" };

static int fail(struct error *err, const char *origin, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct error *err, const char *origin, size_t line, const char *fmt, ...)
{
	char what[ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_fail(err, -EINVAL, "%s:%zu: %s", origin, line, what);
}

void manifest_init(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
}

static void distfile_free(struct distfile *d)
{
	free(d->name);
	free(d->package);
	free(d->git);
	free(d->origin);
	for (size_t i = 0; i < d->n_urls; i++)
		free(d->urls[i]);
	free(d->urls);
	memset(d, 0, sizeof(*d));
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n_files; i++)
		distfile_free(&m->files[i]);
	free(m->files);
	manifest_init(m);
}

bool distfile_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > MAX_NAME || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == '\\')
			return false;
	}
	return true;
}

static bool url_valid(const char *url)
{
	/* Printable ASCII only: URLs end up in messages on the user's terminal. */
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	for (size_t i = 0; i < sizeof(url_schemes) / sizeof(url_schemes[0]); i++) {
		size_t n = strlen(url_schemes[i]);
		if (!strncasecmp(url, url_schemes[i], n) && url[n] != '\0' && url[n] != '/')
			return true;
	}
	return false;
}

/* The last path component of a URL, without query or fragment: what a browser would save it as. */
static char *name_from_url(const char *url)
{
	const char *path = strstr(url, "://");
	path = path ? path + 3 : url;
	size_t end = strcspn(path, "?#");
	const char *slash = NULL;
	for (size_t i = 0; i < end; i++)
		if (path[i] == '/')
			slash = path + i;
	if (!slash)
		return NULL; /* only a host name */
	size_t len = (size_t)(path + end - (slash + 1));
	return len ? strndup(slash + 1, len) : NULL;
}

const struct distfile *manifest_find(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (!strcmp(m->files[i].name, name))
			return &m->files[i];
	return NULL;
}

static int add_url(struct distfile *d, const char *url)
{
	for (size_t i = 0; i < d->n_urls; i++)
		if (!strcmp(d->urls[i], url))
			return 0;
	char **grown = realloc(d->urls, (d->n_urls + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	d->urls = grown;
	if (!(d->urls[d->n_urls] = strdup(url)))
		return -ENOMEM;
	d->n_urls++;
	return 0;
}

/* One parsed line before it joins the manifest; strings point into the line buffer. */
struct entry {
	const char *name;
	const char *package;
	const char *git;
	const char *sha_hex;
	const char *urls[MAX_TOKENS];
	size_t n_urls;
	int64_t size;
};

static int merge(struct manifest *m, const struct entry *e, const char *origin, size_t line,
		 struct error *err)
{
	uint8_t digest[SHA256_BYTES];
	if (sha256_from_hex(e->sha_hex, digest) != 0)
		return fail(err, origin, line, "'%s' is not a SHA-256 (64 hex digits)", e->sha_hex);
	struct distfile *d = (struct distfile *)manifest_find(m, e->name);
	if (d) {
		if (memcmp(d->sha256, digest, SHA256_BYTES) != 0)
			return fail(err, origin, line, "'%s' was already listed with another SHA-256 at %s",
				    e->name, d->origin);
		if (e->size != MANIFEST_SIZE_UNKNOWN && d->size != MANIFEST_SIZE_UNKNOWN && e->size != d->size)
			return fail(err, origin, line, "'%s' was already listed with another size at %s",
				    e->name, d->origin);
		if (d->size == MANIFEST_SIZE_UNKNOWN)
			d->size = e->size;
	} else {
		if (m->n_files == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;
			struct distfile *grown = realloc(m->files, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			m->files = grown;
			m->cap = cap;
		}
		d = &m->files[m->n_files];
		memset(d, 0, sizeof(*d));
		memcpy(d->sha256, digest, SHA256_BYTES);
		d->size = e->size;
		char where[64];
		snprintf(where, sizeof(where), ":%zu", line);
		d->name = strdup(e->name);
		d->origin = malloc(strlen(origin) + strlen(where) + 1);
		if (d->origin)
			strcat(strcpy(d->origin, origin), where);
		d->package = e->package ? strdup(e->package) : NULL;
		d->git = e->git ? strdup(e->git) : NULL;
		if (!d->name || !d->origin || (e->package && !d->package) || (e->git && !d->git)) {
			distfile_free(d);
			return -ENOMEM;
		}
		m->n_files++;
	}
	for (size_t i = 0; i < e->n_urls; i++) {
		int rc = add_url(d, e->urls[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int manifest_add_copy(struct manifest *m, const struct distfile *src, struct error *err)
{
	if (manifest_find(m, src->name))
		return error_fail(err, -EEXIST, "'%s' is already in the manifest", src->name);
	if (m->n_files == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct distfile *grown = realloc(m->files, cap * sizeof(*grown));
		if (!grown)
			return error_fail(err, -ENOMEM, "out of memory");
		m->files = grown;
		m->cap = cap;
	}
	struct distfile *d = &m->files[m->n_files];
	memset(d, 0, sizeof(*d));
	memcpy(d->sha256, src->sha256, SHA256_BYTES);
	d->size = src->size;
	d->name = strdup(src->name);
	d->origin = src->origin ? strdup(src->origin) : NULL;
	d->package = src->package ? strdup(src->package) : NULL;
	d->git = src->git ? strdup(src->git) : NULL;
	bool ok = d->name && (!src->origin || d->origin) && (!src->package || d->package) && (!src->git || d->git);
	for (size_t i = 0; ok && i < src->n_urls; i++)
		ok = add_url(d, src->urls[i]) == 0;
	if (!ok) {
		distfile_free(d);
		return error_fail(err, -ENOMEM, "out of memory");
	}
	m->n_files++;
	return 0;
}

static int parse_size(const char *text, int64_t *out)
{
	if (!*text)
		return -EINVAL;
	int64_t v = 0;
	for (const char *p = text; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

/* FILE sha256=HEX url=URL [mirror=URL]... [size=BYTES] [package=NAME] */
static int parse_own(char **tok, size_t n, struct entry *e, const char *origin, size_t line,
		     struct error *err)
{
	e->name = tok[0];
	const char *primary = NULL;
	const char *mirrors[MAX_TOKENS];
	size_t n_mirrors = 0;
	for (size_t i = 1; i < n; i++) {
		char *eq = strchr(tok[i], '=');
		if (!eq || eq == tok[i])
			return fail(err, origin, line, "expected KEY=VALUE, found '%s'", tok[i]);
		*eq = '\0';
		const char *key = tok[i], *val = eq + 1;
		if (!*val)
			return fail(err, origin, line, "'%s=' has no value", key);
		bool repeated = false;
		if (!strcmp(key, "sha256")) {
			repeated = e->sha_hex != NULL;
			e->sha_hex = val;
		} else if (!strcmp(key, "url")) {
			repeated = primary != NULL;
			primary = val;
		} else if (!strcmp(key, "mirror")) {
			mirrors[n_mirrors++] = val;
		} else if (!strcmp(key, "size")) {
			repeated = e->size != MANIFEST_SIZE_UNKNOWN;
			if (parse_size(val, &e->size) != 0)
				return fail(err, origin, line, "size '%s' is not a number of bytes", val);
		} else if (!strcmp(key, "package")) {
			repeated = e->package != NULL;
			e->package = val;
		} else {
			return fail(err, origin, line,
				    "unknown key '%s' (known: sha256, url, mirror, size, package)", key);
		}
		if (repeated)
			return fail(err, origin, line, "'%s' given twice", key);
	}
	if (!e->sha_hex)
		return fail(err, origin, line, "'%s' has no sha256=", e->name);
	if (!primary)
		return fail(err, origin, line, "'%s' has no url=", e->name);
	e->urls[e->n_urls++] = primary;
	for (size_t i = 0; i < n_mirrors; i++)
		e->urls[e->n_urls++] = mirrors[i];
	return 0;
}

/* live-bootstrap: `f URL SHA256 [FILE]`, `g GIT-URL~REF URL SHA256 [FILE]`, or bare `URL SHA256 [FILE]`.
 * A `g` line may give `_` for URL when the tarball exists only as a git snapshot. */
static int parse_lb(char **tok, size_t n, struct entry *e, const char *origin, size_t line,
		    struct error *err)
{
	size_t at = 0;
	const char *what = "URL SHA256 [FILE]";
	if (!strcmp(tok[0], "f")) {
		at = 1;
		what = "f URL SHA256 [FILE]";
	} else if (!strcmp(tok[0], "g")) {
		at = 2;
		what = "g GIT-URL~REF URL SHA256 [FILE]";
		if (n < 2 || !strchr(tok[1], '~'))
			return fail(err, origin, line, "expected %s", what);
		e->git = tok[1];
	}
	if (n < at + 2 || n > at + 3)
		return fail(err, origin, line, "expected %s", what);
	const char *url = tok[at];
	bool no_url = e->git && !strcmp(url, "_");
	if (!no_url)
		e->urls[e->n_urls++] = url;
	e->sha_hex = tok[at + 1];
	if (n == at + 3)
		e->name = tok[at + 2];
	else if (no_url)
		return fail(err, origin, line, "a line without URL ('_') must name its file");
	return 0;
}

/* key=value, as opposed to a URL that merely has '=' in its query part. */
static bool is_key_value(const char *tok)
{
	const char *eq = strchr(tok, '='), *scheme = strstr(tok, "://");
	return eq && (!scheme || eq < scheme);
}

static size_t tokenize(char *s, char **tok)
{
	size_t n = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return n;
		if (n == MAX_TOKENS)
			return n + 1; /* too many: the caller refuses the line */
		tok[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static int parse_line(struct manifest *m, char *text, const char *origin, size_t line,
		      struct error *err)
{
	char *tok[MAX_TOKENS];
	size_t n = tokenize(text, tok);
	if (n == 0 || tok[0][0] == '#')
		return 0;
	if (n > MAX_TOKENS)
		return fail(err, origin, line, "too many fields");
	struct entry e = { .size = MANIFEST_SIZE_UNKNOWN };
	char *derived = NULL;
	bool lb = ((!strcmp(tok[0], "f") || !strcmp(tok[0], "g")) && n > 1 && !is_key_value(tok[1])) ||
		  strstr(tok[0], "://");
	int rc = lb ? parse_lb(tok, n, &e, origin, line, err) : parse_own(tok, n, &e, origin, line, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < e.n_urls; i++)
		if (!url_valid(e.urls[i]))
			return fail(err, origin, line, "'%s' is not an http://, https:// or ftp:// URL", e.urls[i]);
	if (!e.name) {
		derived = name_from_url(e.urls[0]);
		if (!derived)
			return fail(err, origin, line, "no file name in URL '%s'; give one", e.urls[0]);
		e.name = derived;
	}
	if (!distfile_name_valid(e.name))
		rc = fail(err, origin, line,
			  "'%s' is not a usable file name (no '/', no leading '.', printable, at most %d bytes)",
			  e.name, MAX_NAME);
	else
		rc = merge(m, &e, origin, line, err);
	free(derived);
	if (rc == -ENOMEM && err)
		fail(err, origin, line, "out of memory");
	return rc;
}

int manifest_parse_text(struct manifest *m, const char *origin, const char *text, size_t len,
			struct error *err)
{
	char buf[MAX_LINE + 1];
	size_t line = 0, pos = 0;
	while (pos < len) {
		line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - pos;
		if (memchr(text + pos, '\0', n))
			return fail(err, origin, line, "contains a NUL byte (not a text manifest)");
		if (n > 0 && text[end - 1] == '\r')
			n--;
		if (n > MAX_LINE)
			return fail(err, origin, line, "line longer than %d bytes", MAX_LINE);
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		int rc = parse_line(m, buf, origin, line, err);
		if (rc)
			return rc;
		pos = end + 1;
	}
	return 0;
}

int manifest_load(struct manifest *m, const char *path, struct error *err)
{
	struct error local = { 0 };
	if (!err)
		err = &local;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = 0;
	char *text = NULL;
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		error_fail(err, rc, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		error_fail(err, rc, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > MANIFEST_MAX_BYTES) {
		rc = -EFBIG;
		error_fail(err, rc, "%s: %lld bytes is too large for a manifest", path,
			 (long long)st.st_size);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		rc = -ENOMEM;
		error_fail(err, rc, "%s: out of memory", path);
		goto out;
	}
	size_t have = 0;
	while (have < (size_t)st.st_size) {
		ssize_t got = read(fd, text + have, (size_t)st.st_size - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			error_fail(err, rc, "%s: %s", path, strerror(-rc));
			goto out;
		}
		if (got == 0)
			break;
		have += (size_t)got;
	}
	rc = manifest_parse_text(m, path, text, have, err);
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return rc;
}
