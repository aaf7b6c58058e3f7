#include "net/mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "common/sandbox.h"
#include "net/http_request.h"
#include "sources/sha256.h"

#define MAX_CONNS       16
#define CHUNK           (64 * 1024)
#define OUT_MAX         1024          /* response head, or a whole small response */
#define SOCKET_NAME     "mirror.sock"
#define LISTEN_BACKLOG  32
#define POLL_MS         1000
#define LINGER_BYTES    (64 * 1024)   /* request bytes read and dropped after the answer */

static const char probe_page[] =
	"<!doctype html>\n<title>lbvm mirror</title>\n"
	"<p>lbvm's distfile mirror: GET /NAME serves a verified distfile of the run's manifests.</p>\n";

enum conn_state { CONN_READING, CONN_SENDING, CONN_FILE, CONN_LINGER, CONN_DONE };

struct conn {
	struct mirror *m;
	int fd;
	enum conn_state state;
	char in[HTTP_HEAD_MAX];
	size_t in_len;
	char out[OUT_MAX];
	size_t out_len, out_off;
	bool record;              /* a request that ends in a record (everything but "/") */
	struct mirror_record rec;
	/* CONN_FILE: the file, the second hash, the chunk being sent */
	int file;
	uint64_t left;            /* bytes not yet read from the file */
	EVP_MD_CTX *hash;
	uint8_t want[SHA256_BYTES];
	uint8_t *chunk;
	size_t chunk_len, chunk_off;
	size_t lingered;          /* CONN_LINGER: bytes the guest sent after its request, read and dropped */
};

struct mirror {
	int dir_fd;               /* the cache directory */
	const struct manifest *manifest;
	void (*on_record)(void *ctx, const struct mirror_record *rec);
	void *ctx;
	char sock_dir[64];
	char sock_path[96];
	int listen_fd, wake_fd;
	pthread_t thread;
	_Atomic bool stop;
	struct conn *conns[MAX_CONNS];
	pthread_mutex_t lock;     /* the records */
	struct mirror_record *recs;
	size_t nrecs, cap;
	_Atomic uint64_t probes;
	pthread_mutex_t start_lock;   /* the thread's word on its sandbox: */
	pthread_cond_t started_cond;
	int start_rc;                 /* 1 not yet, 0 confined, -errno could not be */
	struct error start_err;
};

const char *mirror_verdict_name(enum mirror_verdict v)
{
	switch (v) {
	case MIRROR_SERVED: return "served";
	case MIRROR_NOT_IN_MANIFEST: return "not-in-manifest";
	case MIRROR_NOT_IN_CACHE: return "not-in-cache";
	case MIRROR_HASH_MISMATCH: return "hash-mismatch";
	case MIRROR_CHANGED: return "changed-while-serving";
	case MIRROR_CLIENT_GONE: return "client-gone";
	case MIRROR_READ_ERROR: return "read-error";
	case MIRROR_BAD_REQUEST: return "bad-request";
	}
	return "unknown";
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* ---- records ----------------------------------------------------------------------------------- */

static void add_record(struct mirror *m, struct conn *c)
{
	if (!c->record)
		return;
	c->record = false;
	if (m->on_record)
		m->on_record(m->ctx, &c->rec);
	pthread_mutex_lock(&m->lock);
	if (m->nrecs == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct mirror_record *n = realloc(m->recs, cap * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&m->lock);
			return; /* the record is lost; the transfer itself went on */
		}
		m->recs = n;
		m->cap = cap;
	}
	m->recs[m->nrecs] = c->rec;
	m->recs[m->nrecs].name = strdup(c->rec.name ? c->rec.name : "");
	if (m->recs[m->nrecs].name)
		m->nrecs++;
	pthread_mutex_unlock(&m->lock);
}

size_t mirror_records(struct mirror *m, struct mirror_record **out)
{
	pthread_mutex_lock(&m->lock);
	size_t n = m->nrecs;
	struct mirror_record *copy = n ? calloc(n, sizeof(*copy)) : NULL;
	if (n && !copy)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		copy[i] = m->recs[i];
		copy[i].name = strdup(m->recs[i].name);
		if (!copy[i].name) {
			mirror_records_free(copy, i);
			copy = NULL;
			n = 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	*out = copy;
	return n;
}

void mirror_records_free(struct mirror_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(recs[i].name);
	free(recs);
}

uint64_t mirror_probes(struct mirror *m)
{
	return atomic_load(&m->probes);
}

/* ---- responses --------------------------------------------------------------------------------- */

/* A complete small response: status line, headers, and body (none for HEAD). */
static void respond(struct conn *c, int status, const char *type, const char *body, bool head)
{
	size_t blen = strlen(body);
	int n = snprintf(c->out, sizeof(c->out),
			 "HTTP/1.1 %d %s\r\nServer: lbvm\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			 "Connection: close\r\n\r\n%s",
			 status, reason(status), type, blen, status == 405 ? "Allow: GET, HEAD\r\n" : "", head ? "" : body);
	c->out_len = n > 0 && (size_t)n < sizeof(c->out) ? (size_t)n : 0;
	c->out_off = 0;
	c->state = CONN_SENDING;
	c->rec.status = status;
}

static void refuse(struct conn *c, int status, enum mirror_verdict verdict, const char *why)
{
	char body[320];
	snprintf(body, sizeof(body), "%.200s: %s\n", c->rec.name && *c->rec.name ? c->rec.name : "request", why);
	c->rec.verdict = verdict;
	respond(c, status, "text/plain", body, c->rec.head);
}

/* First pass over the file: its SHA-256 must be the manifest's before anything is promised. 0 match,
 * 1 mismatch, -errno on a read error, -ECANCELED when the mirror is stopping. */
static int verify(struct mirror *m, int fd, uint64_t size, const uint8_t *want, uint8_t *buf)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	uint64_t done = 0;
	int rc = 0;
	while (done < size) {
		if (atomic_load(&m->stop)) {
			rc = -ECANCELED;
			break;
		}
		size_t want_n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		ssize_t n = pread(fd, buf, want_n, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 1; /* shorter than fstat said: not the verified bytes */
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		done += (uint64_t)n;
	}
	uint8_t got[SHA256_BYTES];
	unsigned len = 0;
	if (rc == 0 && (EVP_DigestFinal_ex(ctx, got, &len) != 1 || len != SHA256_BYTES))
		rc = -EIO;
	if (rc == 0 && memcmp(got, want, SHA256_BYTES))
		rc = 1;
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void serve_file(struct mirror *m, struct conn *c, const char *name)
{
	const struct distfile *d = manifest_find(m->manifest, name);
	if (!d) {
		refuse(c, 404, MIRROR_NOT_IN_MANIFEST, "not in the manifest");
		return;
	}
	int fd = openat(m->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		refuse(c, 404, MIRROR_NOT_IN_CACHE, "not in the cache");
		return;
	}
	c->rec.size = (uint64_t)st.st_size;
	int rc = verify(m, fd, (uint64_t)st.st_size, d->sha256, c->chunk);
	if (rc != 0) {
		close(fd);
		if (rc == 1)
			refuse(c, 403, MIRROR_HASH_MISMATCH, "its bytes in the cache are not the verified ones");
		else
			refuse(c, 500, MIRROR_READ_ERROR, "cannot be read");
		return;
	}
	int n = snprintf(c->out, sizeof(c->out),
			 "HTTP/1.1 200 OK\r\nServer: lbvm\r\nContent-Type: application/octet-stream\r\n"
			 "Content-Length: %llu\r\nConnection: close\r\n\r\n",
			 (unsigned long long)st.st_size);
	c->out_len = (size_t)n;
	c->out_off = 0;
	c->rec.status = 200;
	c->rec.verdict = MIRROR_SERVED;
	if (c->rec.head) {
		close(fd);
		c->state = CONN_SENDING;
		return;
	}
	c->hash = EVP_MD_CTX_new();
	if (!c->hash || EVP_DigestInit_ex(c->hash, EVP_sha256(), NULL) != 1) {
		close(fd);
		refuse(c, 500, MIRROR_READ_ERROR, "out of memory");
		return;
	}
	memcpy(c->want, d->sha256, SHA256_BYTES);
	c->file = fd;
	c->left = (uint64_t)st.st_size;
	c->chunk_len = c->chunk_off = 0;
	c->state = CONN_FILE;
}

static void handle_request(struct mirror *m, struct conn *c)
{
	struct http_request req;
	int rc = http_parse_request(c->in, c->in_len, &req);
	if (rc == 0)
		return;
	c->record = true;
	if (rc < 0) {
		c->rec.name = strdup("");
		refuse(c, req.status, MIRROR_BAD_REQUEST, "malformed request");
		return;
	}
	c->rec.head = req.method == HTTP_HEAD;
	c->rec.name = strdup(req.path + 1);
	if (!c->rec.name) {
		c->record = false;
		c->state = CONN_DONE;
		return;
	}
	if (req.method == HTTP_OTHER) {
		refuse(c, 405, MIRROR_BAD_REQUEST, "only GET and HEAD are served");
		return;
	}
	if (!strcmp(req.path, "/")) {
		c->record = false;
		atomic_fetch_add(&m->probes, 1);
		respond(c, 200, "text/html", probe_page, c->rec.head);
		return;
	}
	if (!distfile_name_valid(req.path + 1)) {
		refuse(c, 404, MIRROR_NOT_IN_MANIFEST, "not a distfile name");
		return;
	}
	serve_file(m, c, req.path + 1);
}

/* ---- connections ------------------------------------------------------------------------------- */

static void conn_close(struct mirror *m, struct conn *c, enum mirror_verdict unfinished)
{
	if (c->state == CONN_FILE || (c->state == CONN_SENDING && c->out_off < c->out_len)) {
		if (c->rec.verdict == MIRROR_SERVED)
			c->rec.verdict = unfinished;
	}
	add_record(m, c);
	if (c->file >= 0)
		close(c->file);
	EVP_MD_CTX_free(c->hash);
	close(c->fd);
	free(c->rec.name);
	free(c->chunk);
	free(c);
}

/* Send what is pending; false when the connection is finished (closed or failed). */
static bool send_pending(struct conn *c, const void *buf, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t n = send(c->fd, (const char *)buf + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		*off += (size_t)n;
	}
	return true;
}

/* Next chunk of the file, hashed; the last one only once the whole file's hash matched. 1 a chunk is
 * ready, 0 the file is done, -1 the file changed or failed (the transfer must end short). */
static int next_chunk(struct conn *c)
{
	if (c->left == 0)
		return 0;
	size_t want = c->left < CHUNK ? (size_t)c->left : CHUNK;
	ssize_t n;
	do
		n = read(c->file, c->chunk, want);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1; /* shorter than when it was verified */
	EVP_DigestUpdate(c->hash, c->chunk, (size_t)n);
	c->left -= (uint64_t)n;
	c->chunk_len = (size_t)n;
	c->chunk_off = 0;
	if (c->left == 0) {
		uint8_t got[SHA256_BYTES];
		unsigned len = 0;
		if (EVP_DigestFinal_ex(c->hash, got, &len) != 1 || memcmp(got, c->want, SHA256_BYTES))
			return -1;
	}
	return 1;
}

/* Make progress on a writable connection; false when it is finished. */
static bool conn_write(struct conn *c)
{
	if (!send_pending(c, c->out, c->out_len, &c->out_off))
		return false;
	if (c->out_off < c->out_len)
		return true;
	if (c->state == CONN_SENDING) {
		/* All sent. Whatever the guest still sends (a body, an overlong head) is read and dropped
		 * before the close, so the guest sees the answer and a clean end, not a reset. */
		add_record(c->m, c);
		shutdown(c->fd, SHUT_WR);
		c->state = CONN_LINGER;
		return true;
	}
	for (;;) {
		size_t before = c->chunk_off;
		if (!send_pending(c, c->chunk, c->chunk_len, &c->chunk_off)) {
			c->rec.verdict = MIRROR_CLIENT_GONE;
			return false;
		}
		c->rec.bytes += c->chunk_off - before;
		if (c->chunk_off < c->chunk_len)
			return true;
		int rc = next_chunk(c);
		if (rc == 0) {
			c->state = CONN_DONE;
			return false;
		}
		if (rc < 0) {
			c->rec.verdict = MIRROR_CHANGED;
			c->state = CONN_DONE;
			return false;
		}
	}
}

/* Read and drop what the guest sends after its answer; false at its end (or after enough of it). */
static bool conn_linger(struct conn *c)
{
	char sink[4096];
	ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	c->lingered += (size_t)n;
	return c->lingered < LINGER_BYTES;
}

/* Read request bytes; false when the connection is finished. */
static bool conn_read(struct mirror *m, struct conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	c->in_len += (size_t)n;
	handle_request(m, c);
	if (c->state == CONN_READING && c->in_len == sizeof(c->in)) {
		c->record = true;
		c->rec.name = strdup("");
		refuse(c, 431, MIRROR_BAD_REQUEST, "request head too long");
	}
	return c->state != CONN_DONE;
}

static void accept_conn(struct mirror *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	int slot = -1;
	for (int i = 0; i < MAX_CONNS && slot < 0; i++)
		if (!m->conns[i])
			slot = i;
	struct conn *c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
	uint8_t *chunk = c ? malloc(CHUNK) : NULL;
	if (!chunk) {
		free(c);
		close(fd); /* too many at once: the guest sees the connection close */
		return;
	}
	c->m = m;
	c->fd = fd;
	c->file = -1;
	c->chunk = chunk;
	c->state = CONN_READING;
	m->conns[slot] = c;
}

static void *mirror_main(void *opaque)
{
	struct mirror *m = opaque;
	struct sandbox_fds fds = { .vcpu_fd = -1, .vm_fd = -1, .dir_fd = m->dir_fd, .listen_fd = m->listen_fd };
	struct error err = { 0 };
	int rc = sandbox_enter(SANDBOX_MIRROR, &fds, &err);
	pthread_mutex_lock(&m->start_lock);
	m->start_rc = rc;
	if (rc < 0)
		m->start_err = err;
	pthread_cond_signal(&m->started_cond);
	pthread_mutex_unlock(&m->start_lock);
	if (rc < 0)
		return NULL;
	while (!atomic_load(&m->stop)) {
		struct pollfd pfd[2 + MAX_CONNS];
		struct conn *who[2 + MAX_CONNS];
		nfds_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = m->wake_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = m->conns[i];
			if (!c)
				continue;
			who[n] = c;
			bool reading = c->state == CONN_READING || c->state == CONN_LINGER;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = reading ? POLLIN : POLLOUT };
		}
		if (poll(pfd, n, POLL_MS) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			accept_conn(m);
		for (nfds_t i = 2; i < n; i++) {
			struct conn *c = who[i];
			if (!pfd[i].revents)
				continue;
			bool alive;
			if (c->state == CONN_READING) {
				alive = conn_read(m, c);
				if (alive && c->state != CONN_READING)
					alive = conn_write(c); /* answer at once, most fit in the socket buffer */
			} else if (c->state == CONN_LINGER) {
				alive = conn_linger(c);
			} else {
				alive = (pfd[i].revents & POLLOUT) ? conn_write(c) : false;
			}
			if (!alive) {
				for (int k = 0; k < MAX_CONNS; k++)
					if (m->conns[k] == c)
						m->conns[k] = NULL;
				conn_close(m, c, MIRROR_CLIENT_GONE);
			}
		}
	}
	for (int k = 0; k < MAX_CONNS; k++) {
		if (m->conns[k])
			conn_close(m, m->conns[k], MIRROR_CLIENT_GONE);
		m->conns[k] = NULL;
	}
	return NULL;
}

/* ---- life cycle -------------------------------------------------------------------------------- */

int mirror_start(const struct mirror_config *cfg, struct mirror **out, struct error *err)
{
	struct mirror *m = calloc(1, sizeof(*m));
	if (!m)
		return error_fail(err, -ENOMEM, "the mirror: out of memory");
	m->manifest = cfg->manifest;
	m->on_record = cfg->on_record;
	m->ctx = cfg->ctx;
	m->listen_fd = m->wake_fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->start_lock, NULL);
	pthread_cond_init(&m->started_cond, NULL);
	m->start_rc = 1;
	int rc;
	/* OpenSSL sets itself up on first use (its configuration file, its providers): here, not inside the
	 * thread's sandbox, which opens nothing but the cache's files. */
	uint8_t digest[SHA256_BYTES];
	unsigned digest_len = 0;
	if (EVP_Digest("", 0, digest, &digest_len, EVP_sha256(), NULL) != 1) {
		rc = error_fail_status(err, EXIT_INTERNAL, -EIO, "the mirror: OpenSSL has no SHA-256");
		goto out_free;
	}
	m->dir_fd = open(cfg->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->dir_fd < 0) {
		rc = -errno;
		error_fail(err, rc, "the mirror's cache '%s': %s", cfg->cache_dir, strerror(-rc));
		goto out_free;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(m->sock_dir, sizeof(m->sock_dir), "%s/lbvm-net-XXXXXX",
		 tmp && *tmp && strlen(tmp) < sizeof(m->sock_dir) - 20 ? tmp : "/tmp");
	if (!mkdtemp(m->sock_dir)) {
		rc = -errno;
		error_fail_status(err, EXIT_INTERNAL, rc, "cannot create a private directory for the mirror's socket (%s): %s",
				  m->sock_dir, strerror(-rc));
		goto out_dir;
	}
	snprintf(m->sock_path, sizeof(m->sock_path), "%s/%s", m->sock_dir, SOCKET_NAME);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", m->sock_path);
	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(m->listen_fd, LISTEN_BACKLOG) < 0) {
		rc = -errno;
		error_fail_status(err, EXIT_INTERNAL, rc, "cannot listen on the mirror's socket %s: %s", m->sock_path,
				  strerror(-rc));
		goto out_sock;
	}
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->wake_fd < 0) {
		rc = -errno;
		error_fail_status(err, EXIT_INTERNAL, rc, "the mirror's wake-up descriptor: %s", strerror(-rc));
		goto out_sock;
	}
	if ((rc = -pthread_create(&m->thread, NULL, mirror_main, m)) < 0) {
		error_fail_status(err, EXIT_INTERNAL, rc, "cannot start the mirror's thread: %s", strerror(-rc));
		goto out_sock;
	}
	pthread_mutex_lock(&m->start_lock);
	while (m->start_rc == 1)
		pthread_cond_wait(&m->started_cond, &m->start_lock);
	rc = m->start_rc;
	pthread_mutex_unlock(&m->start_lock);
	if (rc < 0) {
		pthread_join(m->thread, NULL);
		*err = m->start_err;
		goto out_sock;
	}
	*out = m;
	return 0;
out_sock:
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	unlink(m->sock_path);
	rmdir(m->sock_dir);
out_dir:
	close(m->dir_fd);
out_free:
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->start_lock);
	pthread_cond_destroy(&m->started_cond);
	free(m);
	return rc;
}

const char *mirror_socket_path(const struct mirror *m)
{
	return m->sock_path;
}

void mirror_stop(struct mirror *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	uint64_t one = 1;
	if (write(m->wake_fd, &one, sizeof(one)) < 0) {
		/* the thread still sees the flag within POLL_MS */
	}
	pthread_join(m->thread, NULL);
	close(m->wake_fd);
	close(m->listen_fd);
	unlink(m->sock_path);
	rmdir(m->sock_dir);
	close(m->dir_fd);
	mirror_records_free(m->recs, m->nrecs);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->start_lock);
	pthread_cond_destroy(&m->started_cond);
	free(m);
}
