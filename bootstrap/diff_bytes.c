#include "bootstrap/diff_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/printable.h"

#define REL_MAX 1024
#define COPY_BUF (64 * 1024)
#define SIDES "AB"

int diff_bytes_dir(struct diff_bytes *b, const char *want, struct error *err)
{
	if (b->dir[0])
		return 0;
	if (want) {
		/* new, or empty (rmdir succeeds only then) */
		if (mkdir(want, 0755) != 0 && (errno != EEXIST || rmdir(want) != 0 || mkdir(want, 0755) != 0))
			return error_fail(err, -errno, "--out '%s': %s (it must be new or empty)", want, strerror(errno));
		if (snprintf(b->dir, sizeof(b->dir), "%s", want) >= (int)sizeof(b->dir))
			return error_fail(err, -ENAMETOOLONG, "--out '%s': name too long", want);
	} else {
		const char *tmp = getenv("TMPDIR");
		if (!tmp || !*tmp)
			tmp = "/tmp";
		snprintf(b->dir, sizeof(b->dir), "%s/lbvm-diff-XXXXXX", tmp);
		if (!mkdtemp(b->dir)) {
			int e = errno;
			b->dir[0] = '\0';
			return error_fail(err, -e, "a folder for the copies in %s: %s", tmp, strerror(e));
		}
	}
	for (int i = 0; i < 2; i++) {
		char sub[PATH_MAX + 4];
		snprintf(sub, sizeof(sub), "%s/%c", b->dir, SIDES[i]);
		if (mkdir(sub, 0755) != 0)
			return error_fail(err, -errno, "%s: %s", sub, strerror(errno));
	}
	return 0;
}

bool diff_bytes_safe_rel(const char *rel)
{
	rel += strspn(rel, "/");
	if (!*rel || strlen(rel) > REL_MAX)
		return false;
	for (const char *c = rel; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		c += *c == '/';
	}
	return true;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int copy_fd(int in, int out)
{
	char *buf = malloc(COPY_BUF);
	if (!buf)
		return -ENOMEM;
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, buf, COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		if ((rc = write_all(out, buf, (size_t)n)))
			break;
	}
	free(buf);
	return rc;
}

int diff_bytes_copy(struct diff_bytes *b, struct run_files *f, const char *side, const char *path, const char *rel,
		    char *dest, size_t len, struct error *err)
{
	if (!diff_bytes_safe_rel(rel))
		return error_fail(err, -EINVAL, "'%s' cannot name a copy", rel);
	rel += strspn(rel, "/");
	size_t base = strlen(b->dir) + 1 + strlen(side) + 1;
	if (snprintf(dest, len, "%s/%s/%s", b->dir, side, rel) >= (int)len)
		return error_fail(err, -ENAMETOOLONG, "%s: path too long", rel);
	/* the folders above it, inside our own folder */
	for (char *p = dest + base; (p = strchr(p, '/')); p++) {
		*p = '\0';
		int e = mkdir(dest, 0755) == 0 || errno == EEXIST ? 0 : errno;
		*p = '/';
		if (e)
			return error_fail(err, -e, "%s: %s", dest, strerror(e));
	}
	int in;
	int rc = run_files_open(f, path, &in, err);
	if (rc == -ENOENT)
		return error_fail(err, rc, "%s: %s is no longer there", run_files_where(f), path);
	if (rc)
		return rc;
	int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = -errno;
		close(in);
		return error_fail(err, rc, "%s: %s", dest, strerror(-rc));
	}
	rc = copy_fd(in, out);
	close(in);
	if (close(out) != 0 && !rc)
		rc = -errno;
	return rc ? error_fail(err, rc, "%s: %s", dest, strerror(-rc)) : 0;
}

void diff_bytes_shell_word(FILE *f, const char *word)
{
	char safe[PATH_MAX];
	printable(safe, sizeof(safe), word);
	if (safe[0] && strspn(safe, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+,:=@%-") ==
			       strlen(safe)) {
		fputs(safe, f);
		return;
	}
	fputc('\'', f);
	for (const char *c = safe; *c; c++) {
		if (*c == '\'')
			fputs("'\\''", f);
		else
			fputc(*c, f);
	}
	fputc('\'', f);
}

/* NAME in a folder of $PATH, into BUF. */
static bool find_program(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		if (n && snprintf(buf, len, "%.*s/%s", (int)n, p, name) < (int)len && access(buf, X_OK) == 0)
			return true;
		p += n;
		p += *p == ':';
	}
	return false;
}

void diff_bytes_diffoscope(FILE *out, const char *a, const char *b)
{
	char prog[PATH_MAX];
	if (!find_program("diffoscope", prog, sizeof(prog))) {
		fprintf(out, "diffoscope is not installed (Debian: diffoscope-minimal or diffoscope): run the command "
			"above once it is\n");
		return;
	}
	fprintf(out, "running diffoscope:\n");
	fflush(out);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = fileno(out);
		if (fd >= 0 && fd != STDOUT_FILENO)
			dup2(fd, STDOUT_FILENO);
		execl(prog, "diffoscope", "--", a, b, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		fprintf(out, "diffoscope could not be started: %s\n", strerror(errno));
		return;
	}
	/* diffoscope's 1 means "different", as expected here; anything else is its own trouble */
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		fprintf(out, "diffoscope ended with %s %d\n", WIFEXITED(status) ? "status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}
