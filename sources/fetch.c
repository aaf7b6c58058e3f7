/* The fetcher: one job per distfile, run on a libcurl multi handle, verified with OpenSSL before the
 * rename that makes it visible under its final name. */
#include "sources/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sources/sha256.h"

#define MAX_REDIRECTS 10
#define POLL_MS 100
#define PROGRESS_EVERY_MS 250
/* Rejected copies of one name kept side by side before the oldest number is reused. */
#define MAX_REJECTED_COPIES 1000
#define ALLOWED_PROTOCOLS "http,https,ftp"
#define USER_AGENT "lbvm-fetch/1"
#define MSG_LEN 512

struct fetcher;

struct job {
	struct fetcher *f;
	const struct distfile *d;
	char **urls; /* --mirror locations first, then the manifest's own, in order */
	size_t n_urls, url_at;
	unsigned attempt;      /* failed attempts on urls[url_at] */
	int64_t not_before_ms; /* backoff: do not start before this time */
	bool saw_mismatch;      /* some location delivered wrong bytes: the outcome is BAD, not MISSING */
	bool mismatch_reported; /* ... and the last one was already reported as a SHA-256 mismatch */
	bool active;
	enum fetch_state state;
	char *final_path, *part_path;
	/* the transfer in progress */
	CURL *easy;
	int fd;
	uint64_t offset;   /* bytes already in the partial file when it started */
	uint64_t received; /* bytes of this transfer */
	bool too_big;
	bool stalled;
	bool too_slow;
	int64_t last_data_ms; /* when the last byte arrived (or the transfer began) */
	int64_t window_ms;       /* the speed check's window began here ... */
	uint64_t window_received; /* ... with this much received */
	int write_errno;
	char curl_err[CURL_ERROR_SIZE];
};

struct fetcher {
	const struct fetch_options *o;
	CURLM *multi;
	struct job *jobs;
	size_t n_jobs, finished, active;
	uint64_t received_total;
	char *partial_dir, *rejected_dir;
	struct fetch_summary *sum;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *path_join(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	if (p)
		sprintf(p, "%s/%s", dir, name);
	return p;
}

static void emit(struct fetcher *f, struct fetch_event *ev)
{
	if (f->o->on_event)
		f->o->on_event(f->o->ctx, ev);
}

static void emit_simple(struct fetcher *f, enum fetch_event_kind kind, struct job *j, const char *url,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void emit_simple(struct fetcher *f, enum fetch_event_kind kind, struct job *j, const char *url,
			const char *fmt, ...)
{
	char msg[MSG_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct fetch_event ev = { .kind = kind, .file = j->d, .url = url, .message = msg };
	emit(f, &ev);
}

/* 0 when path holds d's bytes, 1 when it holds others (actual set), -errno when it cannot be read. */
static int verify(const char *path, const struct distfile *d, char actual[SHA256_HEX_LEN + 1])
{
	uint8_t digest[SHA256_BYTES];
	int rc = sha256_file(path, digest);
	if (rc)
		return rc;
	sha256_to_hex(digest, actual);
	return memcmp(digest, d->sha256, SHA256_BYTES) ? 1 : 0;
}

/* Move bytes that failed verification out of the way: CACHE/.rejected/NAME.N. When even that fails they
 * are deleted, so that bad bytes never stay where a later run would trust them. */
static char *move_aside(struct fetcher *f, const char *path, const char *name)
{
	char *dest = malloc(strlen(f->rejected_dir) + strlen(name) + 32);
	if (dest) {
		for (unsigned n = 1; n <= MAX_REJECTED_COPIES; n++) {
			sprintf(dest, "%s/%s.%u", f->rejected_dir, name, n);
			struct stat st;
			if (lstat(dest, &st) != 0 || n == MAX_REJECTED_COPIES)
				break;
		}
		if (rename(path, dest) == 0)
			return dest;
		free(dest);
	}
	unlink(path);
	return NULL;
}

static void report_mismatch(struct fetcher *f, struct job *j, const char *url, const char *actual,
			    const char *moved_to)
{
	char expected[SHA256_HEX_LEN + 1];
	sha256_to_hex(j->d->sha256, expected);
	struct fetch_event ev = { .kind = FETCH_EV_MISMATCH, .file = j->d, .url = url, .expected = expected,
				  .actual = actual, .moved_to = moved_to };
	emit(f, &ev);
}

static void job_finish(struct fetcher *f, struct job *j, enum fetch_state state)
{
	j->state = state;
	f->finished++;
	switch (state) {
	case FETCH_CACHED: f->sum->cached++; break;
	case FETCH_DOWNLOADED: f->sum->downloaded++; break;
	case FETCH_BAD: f->sum->bad++; break;
	default: f->sum->missing++; break;
	}
}

/* The partial file is complete and verified: give it its final name. */
static void job_succeed(struct fetcher *f, struct job *j, const char *url)
{
	struct stat st;
	int fd = open(j->part_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0 || fstat(fd, &st) != 0 || rename(j->part_path, j->final_path) != 0) {
		emit_simple(f, FETCH_EV_FAILED, j, url, "cannot move the verified file to %s: %s", j->final_path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	close(fd);
	struct fetch_event ev = { .kind = FETCH_EV_DONE, .file = j->d, .url = url, .bytes = (uint64_t)st.st_size };
	emit(f, &ev);
	job_finish(f, j, FETCH_DOWNLOADED);
}

/* This location cannot provide the file: try the next one, or give up. */
static void next_url(struct fetcher *f, struct job *j, const char *why)
{
	const char *url = j->url_at < j->n_urls ? j->urls[j->url_at] : NULL;
	bool reported = j->mismatch_reported;
	j->mismatch_reported = false;
	j->url_at++;
	j->attempt = 0;
	j->not_before_ms = 0;
	if (j->url_at < j->n_urls) {
		emit_simple(f, FETCH_EV_NEXT_URL, j, url, "%s", why);
		return;
	}
	struct stat st;
	if (stat(j->part_path, &st) == 0 && st.st_size == 0)
		unlink(j->part_path);
	/* With a single location, a mismatch report already said everything. */
	if (j->n_urls == 0)
		emit_simple(f, FETCH_EV_FAILED, j, NULL, "no location to fetch it from (give --mirror)");
	else if (j->n_urls == 1 && !reported)
		emit_simple(f, FETCH_EV_FAILED, j, url, "%s", why);
	else if (j->n_urls > 1)
		emit_simple(f, FETCH_EV_FAILED, j, url, "all %zu locations failed; the last: %s", j->n_urls, why);
	job_finish(f, j, j->saw_mismatch ? FETCH_BAD : FETCH_MISSING);
}

static void retry_later(struct fetcher *f, struct job *j, const char *why)
{
	const char *url = j->urls[j->url_at];
	j->attempt++;
	if (j->attempt > f->o->retries) {
		next_url(f, j, why);
		return;
	}
	long delay = f->o->backoff_ms;
	for (unsigned i = 1; i < j->attempt && delay < 60000; i++)
		delay *= 2;
	j->not_before_ms = now_ms() + delay;
	struct fetch_event ev = { .kind = FETCH_EV_RETRY, .file = j->d, .url = url, .message = why,
				  .delay_ms = delay };
	emit(f, &ev);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct job *j = userdata;
	size_t n = size * nmemb;
	if (j->d->size != MANIFEST_SIZE_UNKNOWN && j->offset + j->received + n > (uint64_t)j->d->size) {
		j->too_big = true;
		return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = write(j->fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			j->write_errno = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	j->received += n;
	j->f->received_total += n;
	j->last_data_ms = now_ms();
	return n;
}

/*
 * libcurl calls this about once a second even when nothing arrives: the stall checks live here. A server
 * that sends nothing for the stall timeout, or that trickles less than FETCH_MIN_RATE bytes a second over
 * a whole stall-timeout window, would otherwise hold a transfer (and a CI job) forever.
 */
static int on_progress_tick(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			    curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct job *j = userdata;
	int64_t now = now_ms(), window_ms = (int64_t)j->f->o->stall_timeout_s * 1000;
	if (now - j->last_data_ms >= window_ms) {
		j->stalled = true;
		return 1; /* ends the transfer with CURLE_ABORTED_BY_CALLBACK */
	}
	if (now - j->window_ms >= window_ms) {
		if (j->received - j->window_received < (uint64_t)FETCH_MIN_RATE * (uint64_t)j->f->o->stall_timeout_s) {
			j->too_slow = true;
			return 1;
		}
		j->window_ms = now;
		j->window_received = j->received;
	}
	return 0;
}

static bool truncate_part(struct job *j)
{
	return truncate(j->part_path, 0) == 0;
}

/* Every option matters (an ignored protocol restriction would let a redirect reach file://), so the
 * first one libcurl refuses stops the transfer. */
#define SET(opt, val)                                              \
	do {                                                       \
		CURLcode set_rc_ = curl_easy_setopt(e, opt, val); \
		if (set_rc_ != CURLE_OK)                           \
			return set_rc_;                            \
	} while (0)

static CURLcode set_options(struct fetcher *f, struct job *j, CURL *e, const char *url)
{
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, j);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, j);
	SET(CURLOPT_ERRORBUFFER, j->curl_err);
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	SET(CURLOPT_PROTOCOLS_STR, ALLOWED_PROTOCOLS);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, ALLOWED_PROTOCOLS);
	SET(CURLOPT_FAILONERROR, 1L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_CONNECTTIMEOUT, f->o->connect_timeout_s);
	/* A stalled or trickling server ends the transfer: see on_progress_tick. */
	SET(CURLOPT_XFERINFOFUNCTION, on_progress_tick);
	SET(CURLOPT_XFERINFODATA, j);
	SET(CURLOPT_NOPROGRESS, 0L);
	if (j->offset > 0)
		SET(CURLOPT_RESUME_FROM_LARGE, (curl_off_t)j->offset);
	return CURLE_OK;
}

#undef SET

/* Begin (or resume) a transfer of j from urls[url_at]; may finish the job at once. */
static void job_start(struct fetcher *f, struct job *j)
{
	const char *url = j->urls[j->url_at];
	j->fd = open(j->part_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	struct stat st;
	if (j->fd < 0 || fstat(j->fd, &st) != 0) {
		emit_simple(f, FETCH_EV_FAILED, j, url, "cannot write %s: %s", j->part_path, strerror(errno));
		if (j->fd >= 0)
			close(j->fd);
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	/* Two lbvm runs sharing a cache must not append to the same partial file. */
	if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(j->fd);
		emit_simple(f, FETCH_EV_FAILED, j, url, "%s is locked: %s", j->part_path,
			    e == EWOULDBLOCK ? "another lbvm is downloading it" : strerror(e));
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	j->offset = (uint64_t)st.st_size;
	int64_t want = j->d->size;
	if (want != MANIFEST_SIZE_UNKNOWN && j->offset >= (uint64_t)want && j->offset > 0) {
		/* A previous run got everything (or too much): check it rather than ask for more. */
		char actual[SHA256_HEX_LEN + 1];
		if (j->offset == (uint64_t)want && verify(j->part_path, j->d, actual) == 0) {
			job_succeed(f, j, url);
			close(j->fd);
			return;
		}
		if (ftruncate(j->fd, 0) != 0) {
			emit_simple(f, FETCH_EV_FAILED, j, url, "cannot reset %s: %s", j->part_path, strerror(errno));
			close(j->fd);
			job_finish(f, j, FETCH_MISSING);
			return;
		}
		j->offset = 0;
	}
	j->received = 0;
	j->too_big = false;
	j->stalled = false;
	j->too_slow = false;
	j->last_data_ms = now_ms();
	j->window_ms = j->last_data_ms;
	j->window_received = 0;
	j->write_errno = 0;
	j->curl_err[0] = '\0';
	CURL *e = curl_easy_init();
	if (!e) {
		close(j->fd);
		emit_simple(f, FETCH_EV_FAILED, j, url, "libcurl could not create a transfer");
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	CURLcode rc = set_options(f, j, e, url);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(e);
		close(j->fd);
		emit_simple(f, FETCH_EV_FAILED, j, url, "libcurl: %s", curl_easy_strerror(rc));
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		close(j->fd);
		emit_simple(f, FETCH_EV_FAILED, j, url, "libcurl refused the transfer");
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	j->easy = e;
	j->active = true;
	f->active++;
	struct fetch_event ev = { .kind = FETCH_EV_START, .file = j->d, .url = url, .offset = j->offset };
	emit(f, &ev);
}

/* HTTP statuses worth asking again for: the server may answer differently in a moment. */
static bool http_transient(long code)
{
	return code == 408 || code == 429 || code >= 500;
}

/* Errors that say this URL will not work however often it is tried. */
static bool curl_permanent(CURLcode rc)
{
	return rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT || rc == CURLE_TOO_MANY_REDIRECTS ||
	       rc == CURLE_REMOTE_FILE_NOT_FOUND || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_REMOTE_ACCESS_DENIED || rc == CURLE_LOGIN_DENIED;
}

/* A transfer ended: decide what comes next. The partial file stays open (and locked) throughout. */
static void transfer_ended(struct fetcher *f, struct job *j, CURLcode rc)
{
	const char *url = j->urls[j->url_at];
	long http = 0;
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &http);
	curl_multi_remove_handle(f->multi, j->easy);
	curl_easy_cleanup(j->easy);
	j->easy = NULL;
	j->active = false;
	f->active--;
	int sync_err = fsync(j->fd) != 0 ? errno : 0;

	char why[MSG_LEN];
	if (j->stalled)
		snprintf(why, sizeof(why), "nothing received for %ld s (stalled)", f->o->stall_timeout_s);
	else if (j->too_slow)
		snprintf(why, sizeof(why), "less than %d bytes a second for %ld s (too slow)", FETCH_MIN_RATE,
			 f->o->stall_timeout_s);
	else if (http >= 400)
		snprintf(why, sizeof(why), "HTTP status %ld", http);
	else
		snprintf(why, sizeof(why), "%s", j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc));

	if (j->write_errno || (rc == CURLE_OK && sync_err && sync_err != EINVAL)) {
		emit_simple(f, FETCH_EV_FAILED, j, url, "cannot write %s: %s", j->part_path,
			    strerror(j->write_errno ? j->write_errno : sync_err));
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	if (j->too_big) {
		char *moved = move_aside(f, j->part_path, j->d->name);
		snprintf(why, sizeof(why), "more than the %lld bytes the manifest gives (bytes moved to %s)",
			 (long long)j->d->size, moved ? moved : "nowhere: deleted");
		free(moved);
		j->saw_mismatch = true;
		next_url(f, j, why);
		return;
	}
	if (rc == CURLE_RANGE_ERROR || (rc == CURLE_HTTP_RETURNED_ERROR && http == 416 && j->offset > 0)) {
		/* The server cannot continue where we stopped. If what we have is already complete, use it;
		 * otherwise start this location again from byte 0. */
		char actual[SHA256_HEX_LEN + 1];
		if (http == 416 && verify(j->part_path, j->d, actual) == 0) {
			job_succeed(f, j, url);
			return;
		}
		if (!truncate_part(j)) {
			emit_simple(f, FETCH_EV_FAILED, j, url, "cannot reset %s: %s", j->part_path, strerror(errno));
			job_finish(f, j, FETCH_MISSING);
			return;
		}
		if (j->offset > 0) {
			struct fetch_event ev = { .kind = FETCH_EV_RETRY, .file = j->d, .url = url,
						  .message = "cannot resume here; starting again from byte 0" };
			emit(f, &ev);
			return; /* not counted as a failed attempt: the next one starts clean */
		}
		retry_later(f, j, why);
		return;
	}
	if (rc != CURLE_OK) {
		if ((http >= 400 && !http_transient(http)) || curl_permanent(rc))
			next_url(f, j, why);
		else
			retry_later(f, j, why);
		return;
	}
	char actual[SHA256_HEX_LEN + 1];
	int v = verify(j->part_path, j->d, actual);
	if (v < 0) {
		emit_simple(f, FETCH_EV_FAILED, j, url, "cannot read back %s: %s", j->part_path, strerror(-v));
		job_finish(f, j, FETCH_MISSING);
		return;
	}
	if (v == 0) {
		job_succeed(f, j, url);
		return;
	}
	if (j->offset > 0) {
		/* The bytes from an earlier transfer may be the wrong ones: one clean try before blaming the server. */
		if (truncate_part(j)) {
			struct fetch_event ev = { .kind = FETCH_EV_RETRY, .file = j->d, .url = url,
						  .message = "SHA-256 mismatch after resuming; starting again from byte 0" };
			emit(f, &ev);
			return;
		}
	}
	char *moved = move_aside(f, j->part_path, j->d->name);
	report_mismatch(f, j, url, actual, moved);
	free(moved);
	j->saw_mismatch = true;
	j->mismatch_reported = true;
	next_url(f, j, "SHA-256 mismatch");
}

static void job_done(struct fetcher *f, struct job *j, CURLcode rc)
{
	int fd = j->fd;
	transfer_ended(f, j, rc);
	close(fd);
}

static void progress(struct fetcher *f)
{
	if (!f->o->on_progress)
		return;
	struct fetch_progress p = { .files_done = f->finished, .files_total = f->n_jobs, .active = f->active,
				    .bytes_received = f->received_total };
	for (size_t i = 0; i < f->n_jobs; i++) {
		struct job *j = &f->jobs[i];
		uint64_t have = 0, expect = j->d->size == MANIFEST_SIZE_UNKNOWN ? 0 : (uint64_t)j->d->size;
		if (j->state == FETCH_CACHED)
			continue;
		if (j->active) {
			have = j->offset + j->received;
			curl_off_t cl = -1;
			if (!expect && curl_easy_getinfo(j->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
			    cl > 0)
				expect = j->offset + (uint64_t)cl;
		} else if (j->state == FETCH_DOWNLOADED) {
			struct stat st;
			have = stat(j->final_path, &st) == 0 ? (uint64_t)st.st_size : expect;
			expect = have;
		}
		p.bytes_have += have;
		p.bytes_expected += expect > have ? expect : have;
	}
	f->o->on_progress(f->o->ctx, &p);
}

static int mkdir_p(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int rc = 0;
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(copy);
	if (rc)
		return rc;
	struct stat st;
	if (stat(path, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Create CACHE, CACHE/.partial and CACHE/.rejected and prove that files can be created there. */
static int prepare_cache(struct fetcher *f, struct error *err)
{
	const char *dir = f->o->cache_dir;
	int rc = mkdir_p(dir);
	if (!rc)
		rc = mkdir_p(f->partial_dir);
	if (!rc)
		rc = mkdir_p(f->rejected_dir);
	if (!rc) {
		char *probe = path_join(f->partial_dir, ".probe-XXXXXX");
		if (!probe)
			return -ENOMEM;
		int fd = mkostemp(probe, O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
		} else {
			close(fd);
			unlink(probe);
		}
		free(probe);
	}
	if (rc)
		error_fail(err, rc, "cache directory '%s' is not usable: %s", dir, strerror(-rc));
	return rc;
}

static void free_jobs(struct fetcher *f)
{
	for (size_t i = 0; i < f->n_jobs; i++) {
		struct job *j = &f->jobs[i];
		for (size_t u = 0; u < j->n_urls; u++)
			free(j->urls[u]);
		free(j->urls);
		free(j->final_path);
		free(j->part_path);
	}
	free(f->jobs);
}

static int make_jobs(struct fetcher *f, const struct manifest *m)
{
	f->jobs = calloc(m->n_files ? m->n_files : 1, sizeof(*f->jobs));
	if (!f->jobs)
		return -ENOMEM;
	f->n_jobs = m->n_files;
	for (size_t i = 0; i < m->n_files; i++) {
		struct job *j = &f->jobs[i];
		const struct distfile *d = &m->files[i];
		j->f = f;
		j->d = d;
		j->fd = -1;
		j->final_path = path_join(f->o->cache_dir, d->name);
		j->part_path = path_join(f->partial_dir, d->name);
		j->urls = calloc(f->o->n_mirrors + d->n_urls + 1, sizeof(*j->urls));
		if (!j->final_path || !j->part_path || !j->urls)
			return -ENOMEM;
		for (size_t k = 0; k < f->o->n_mirrors; k++) {
			const char *base = f->o->mirrors[k];
			size_t len = strlen(base);
			while (len > 0 && base[len - 1] == '/')
				len--;
			char *u = malloc(len + strlen(d->name) + 2);
			if (!u)
				return -ENOMEM;
			sprintf(u, "%.*s/%s", (int)len, base, d->name);
			j->urls[j->n_urls++] = u;
		}
		for (size_t k = 0; k < d->n_urls; k++)
			if (!(j->urls[j->n_urls++] = strdup(d->urls[k])))
				return -ENOMEM;
	}
	return 0;
}

/*
 * Before any transfer: keep what is verified. Offline, anything else is final (missing, bad or unreadable);
 * online, a file with the wrong hash is moved aside and the job stays pending for a download.
 */
static void check_cache(struct fetcher *f, bool offline)
{
	for (size_t i = 0; i < f->n_jobs; i++) {
		struct job *j = &f->jobs[i];
		char actual[SHA256_HEX_LEN + 1];
		int v = verify(j->final_path, j->d, actual);
		if (v == 0) {
			struct fetch_event ev = { .kind = FETCH_EV_CACHED, .file = j->d };
			emit(f, &ev);
			job_finish(f, j, FETCH_CACHED);
		} else if (v == 1) {
			char *moved = offline ? NULL : move_aside(f, j->final_path, j->d->name);
			report_mismatch(f, j, NULL, actual, moved);
			free(moved);
			if (offline)
				job_finish(f, j, FETCH_BAD);
		} else if (offline && v == -ENOENT) {
			struct fetch_event ev = { .kind = FETCH_EV_MISSING, .file = j->d };
			emit(f, &ev);
			job_finish(f, j, FETCH_MISSING);
		} else if (offline) {
			emit_simple(f, FETCH_EV_FAILED, j, NULL, "cannot read %s: %s", j->final_path, strerror(-v));
			job_finish(f, j, FETCH_MISSING);
		}
		if (!offline && j->state == FETCH_PENDING && j->n_urls == 0)
			next_url(f, j, "no location");
	}
}

static int run_transfers(struct fetcher *f, struct error *err)
{
	int64_t last_progress = 0;
	while (f->finished < f->n_jobs) {
		if (f->o->cancelled && f->o->cancelled(f->o->ctx)) {
			error_fail(err, -ECANCELED, "stopped");
			return -ECANCELED;
		}
		int64_t now = now_ms(), wake = now + POLL_MS;
		for (size_t i = 0; i < f->n_jobs && f->active < f->o->jobs; i++) {
			struct job *j = &f->jobs[i];
			if (j->state != FETCH_PENDING || j->active)
				continue;
			if (j->not_before_ms <= now)
				job_start(f, j);
			else if (j->not_before_ms < wake)
				wake = j->not_before_ms;
		}
		int running = 0;
		CURLMcode mc = curl_multi_perform(f->multi, &running);
		if (mc != CURLM_OK) {
			error_fail(err, -EIO, "libcurl: %s", curl_multi_strerror(mc));
			return -EIO;
		}
		CURLMsg *msg;
		int left;
		bool freed_slot = false;
		while ((msg = curl_multi_info_read(f->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct job *j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			job_done(f, j, msg->data.result);
			freed_slot = true;
		}
		now = now_ms();
		if (now - last_progress >= PROGRESS_EVERY_MS) {
			progress(f);
			last_progress = now;
		}
		if (f->finished == f->n_jobs)
			break;
		if (freed_slot)
			continue; /* start the next transfer now rather than after a poll timeout */
		int timeout = (int)(wake > now ? wake - now : 0);
		if (timeout > POLL_MS)
			timeout = POLL_MS;
		mc = curl_multi_poll(f->multi, NULL, 0, timeout, NULL);
		if (mc != CURLM_OK) {
			error_fail(err, -EIO, "libcurl: %s", curl_multi_strerror(mc));
			return -EIO;
		}
	}
	progress(f);
	return 0;
}

int fetch_all(const struct manifest *m, const struct fetch_options *o, enum fetch_state *states,
	      struct fetch_summary *sum, struct error *err)
{
	struct fetcher f = { .o = o, .sum = sum };
	memset(sum, 0, sizeof(*sum));
	*err = (struct error){ 0 };
	f.partial_dir = path_join(o->cache_dir, FETCH_PARTIAL_DIR);
	f.rejected_dir = path_join(o->cache_dir, FETCH_REJECTED_DIR);
	int rc = (!f.partial_dir || !f.rejected_dir) ? -ENOMEM : make_jobs(&f, m);
	if (rc)
		goto out;
	if (o->offline) {
		check_cache(&f, true);
		goto out;
	}
	rc = prepare_cache(&f, err);
	if (rc)
		goto out;
	check_cache(&f, false);
	if (f.finished == f.n_jobs)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(f.multi = curl_multi_init())) {
		error_fail(err, -EIO, "libcurl could not be initialised");
		rc = -EIO;
		goto out;
	}
	rc = run_transfers(&f, err);
	for (size_t i = 0; i < f.n_jobs; i++) {
		struct job *j = &f.jobs[i];
		if (j->easy) { /* only after an internal fault */
			curl_multi_remove_handle(f.multi, j->easy);
			curl_easy_cleanup(j->easy);
			close(j->fd);
		}
	}
	curl_multi_cleanup(f.multi);
	curl_global_cleanup();
out:
	if (rc == -ENOMEM && !err->code)
		error_fail(err, -ENOMEM, "out of memory");
	if (states && f.jobs)
		for (size_t i = 0; i < f.n_jobs; i++)
			states[i] = f.jobs[i].state;
	free_jobs(&f);
	free(f.partial_dir);
	free(f.rejected_dir);
	return rc;
}
