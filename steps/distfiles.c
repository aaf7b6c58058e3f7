/* Which distfiles a package needs (steps/PKG/sources) and which the harness puts on the disk. */
#include "steps/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "steps/internal.h"

#define BUILD_PREFIX "build: "
#define IMPROVE_PREFIX "improve: "
#define NETWORK_WORD "network"

char *steps_path(const char *tree, const char *rel)
{
	size_t a = strlen(tree), b = strlen(rel);
	char *p = malloc(a + b + 2);
	if (!p)
		return NULL;
	memcpy(p, tree, a);
	p[a] = '/';
	memcpy(p + a + 1, rel, b + 1);
	return p;
}

int steps_read_text(const char *tree, const char *rel, char **text, size_t *len, struct error *err)
{
	char *path = steps_path(tree, rel);
	if (!path)
		return error_fail(err, -ENOMEM, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = 0;
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = error_fail(err, -errno, "cannot read %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = error_fail(err, -EINVAL, "%s is not a file", path);
	} else if (st.st_size > STEPS_MAX_TEXT) {
		rc = error_fail(err, -EFBIG, "%s is %lld bytes: too large to be one", path, (long long)st.st_size);
	} else {
		size_t n = (size_t)st.st_size, got = 0;
		char *buf = malloc(n + 1);
		if (!buf)
			rc = error_fail(err, -ENOMEM, "out of memory");
		while (!rc && got < n) {
			ssize_t r = read(fd, buf + got, n - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				rc = error_fail(err, r < 0 ? -errno : -EIO, "cannot read %s: %s", path,
						r < 0 ? strerror(errno) : "it shrank");
			else
				got += (size_t)r;
		}
		if (rc) {
			free(buf);
		} else {
			buf[n] = '\0';
			*text = buf;
			*len = n;
		}
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

bool steps_name_ok(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/');
}

int steps_package_sources(const char *tree, const char *pkg, struct manifest *m, struct error *err)
{
	char rel[256];
	if ((size_t)snprintf(rel, sizeof(rel), "steps/%s/sources", pkg) >= sizeof(rel))
		return error_fail(err, -EINVAL, "package name '%s' is too long", pkg);
	char *text;
	size_t len;
	struct error read_err = { 0 };
	int rc = steps_read_text(tree, rel, &text, &len, &read_err);
	if (rc == -ENOENT)
		return 0; /* a package without distfiles (its sources live in the tree) */
	if (rc) {
		*err = read_err;
		return rc;
	}
	rc = manifest_parse_text(m, rel, text, len, err);
	free(text);
	return rc;
}

/* generator.py's reading of a `build:` line: the second space-separated field, up to a '#', trimmed. */
static char *build_line_package(const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	if (!sp)
		return NULL;
	const char *start = sp + 1, *end = line + len;
	const char *next = memchr(start, ' ', (size_t)(end - start));
	if (next)
		end = next;
	const char *hash = memchr(start, '#', (size_t)(end - start));
	if (hash)
		end = hash;
	while (start < end && (*start == '\t' || *start == '\r' || *start == '\n'))
		start++;
	while (end > start && (end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return strndup(start, (size_t)(end - start));
}

int steps_disk_distfiles(const char *tree, bool external_sources, struct manifest *out, struct error *err)
{
	char *text;
	size_t len;
	int rc = steps_read_text(tree, STEPS_MANIFEST, &text, &len, err);
	if (rc)
		return rc;
	size_t pos = 0;
	while (!rc && pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		/* line.strip() */
		const char *s = line, *e = line + n;
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		size_t sn = (size_t)(e - s);
		if (!external_sources && sn >= strlen(IMPROVE_PREFIX) &&
		    !memcmp(s, IMPROVE_PREFIX, strlen(IMPROVE_PREFIX)) && memmem(line, n, NETWORK_WORD, strlen(NETWORK_WORD)))
			break;
		if (sn < strlen(BUILD_PREFIX) || memcmp(s, BUILD_PREFIX, strlen(BUILD_PREFIX)))
			continue;
		char *pkg = build_line_package(line, n);
		if (!pkg)
			rc = error_fail(err, -ENOMEM, "out of memory");
		else if (steps_name_ok(pkg))
			rc = steps_package_sources(tree, pkg, out, err);
		/* a name generator.py cannot find a sources file for contributes nothing, as there */
		free(pkg);
	}
	free(text);
	return rc;
}
