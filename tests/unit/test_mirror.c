/* lbvm's mirror with a real cache directory, a manifest in live-bootstrap's `sources` format and real
 * connections on its Unix socket (what slirp opens for each guest connection): the probe page, files
 * served byte for byte, HEAD, refusals (not in the manifest, not in the cache, bytes changed on disk, a
 * symlink, other paths and methods, malformed requests), a file changed while it is being sent, many
 * connections at once, and the records the run keeps. */
#include "check_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/mirror.h"
#include "sources/manifest.h"
#include "sources/sha256.h"

#define BIG_SIZE (4u << 20)

static char dir[] = "/tmp/lbvm-mirror-XXXXXX";
static struct manifest man;
static struct mirror *mir;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned seen;

/* On the mirror's thread, inside its sandbox: no ck_assert here (a passing one writes to check's pipe). */
static void on_record(void *ctx, const struct mirror_record *rec)
{
	(void)ctx;
	if (!rec->name)
		abort();
	pthread_mutex_lock(&seen_lock);
	seen++;
	pthread_mutex_unlock(&seen_lock);
}

static uint8_t pattern(const char *name, size_t i)
{
	return (uint8_t)(i * 131 + name[0] + i / 4096);
}

static void write_file(const char *name, size_t size)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc(pattern(name, i), f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A manifest line for a file as it is now (so it is "verified"). */
static void add_to_manifest(FILE *m, const char *name)
{
	char path[256], hex[SHA256_HEX_LEN + 1];
	uint8_t d[SHA256_BYTES];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(sha256_file(path, d), 0);
	sha256_to_hex(d, hex);
	fprintf(m, "f http://upstream.invalid/dist/%s %s %s\n", name, hex, name);
}

static void setup(void)
{
	strcpy(dir, "/tmp/lbvm-mirror-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("small.tar.gz", 1000);
	write_file("empty.txt", 0);
	write_file("big.tar.xz", BIG_SIZE);
	write_file("tampered.tar.bz2", 5000);
	write_file("real-target", 100);
	write_file("a+b.tar", 300);
	char mpath[256];
	snprintf(mpath, sizeof(mpath), "%s/.manifest", dir);
	FILE *m = fopen(mpath, "w");
	ck_assert_ptr_nonnull(m);
	add_to_manifest(m, "small.tar.gz");
	add_to_manifest(m, "empty.txt");
	add_to_manifest(m, "big.tar.xz");
	add_to_manifest(m, "tampered.tar.bz2");
	add_to_manifest(m, "real-target");
	add_to_manifest(m, "a+b.tar");
	fprintf(m, "f http://upstream.invalid/absent.tar 0000000000000000000000000000000000000000000000000000000000000000 absent.tar\n");
	fprintf(m, "f http://upstream.invalid/link.tar 0000000000000000000000000000000000000000000000000000000000000000 link.tar\n");
	ck_assert_int_eq(fclose(m), 0);
	/* Changed after it was verified: one byte differs now. */
	char tpath[256];
	snprintf(tpath, sizeof(tpath), "%s/tampered.tar.bz2", dir);
	int fd = open(tpath, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "X", 1, 2500), 1);
	close(fd);
	/* A symlink in the cache is not a cached file. */
	char lpath[256];
	snprintf(lpath, sizeof(lpath), "%s/link.tar", dir);
	ck_assert_int_eq(symlink("real-target", lpath), 0);

	manifest_init(&man);
	struct error merr = { 0 };
	ck_assert_int_eq(manifest_load(&man, mpath, &merr), 0);
	seen = 0;
	struct mirror_config cfg = { .cache_dir = dir, .manifest = &man, .on_record = on_record };
	struct error err = { 0 };
	ck_assert_int_eq(mirror_start(&cfg, &mir, &err), 0);
}

static void teardown(void)
{
	char sock_dir[256];
	snprintf(sock_dir, sizeof(sock_dir), "%s", mirror_socket_path(mir));
	mirror_stop(mir);
	ck_assert_int_ne(access(sock_dir, F_OK), 0); /* socket and its directory are gone */
	manifest_free(&man);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int connect_mirror(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", mirror_socket_path(mir));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		ck_assert_int_gt(n, 0);
		s += n;
		len -= (size_t)n;
	}
}

struct response {
	int status;
	long long content_length;
	char head[2048];
	uint8_t *body;
	size_t body_len;
};

/* Read until the mirror closes the connection. */
static void read_response(int fd, struct response *r)
{
	size_t cap = BIG_SIZE + 4096, len = 0;
	uint8_t *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (;;) {
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		len += (size_t)n;
		ck_assert_uint_lt(len, cap);
	}
	close(fd);
	memset(r, 0, sizeof(*r));
	uint8_t *end = memmem(buf, len, "\r\n\r\n", 4);
	ck_assert_ptr_nonnull(end);
	size_t hlen = (size_t)(end - buf) + 4;
	ck_assert_uint_lt(hlen, sizeof(r->head));
	memcpy(r->head, buf, hlen);
	ck_assert_int_eq(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1);
	const char *cl = strstr(r->head, "Content-Length: ");
	r->content_length = cl ? atoll(cl + 16) : -1;
	r->body_len = len - hlen;
	r->body = malloc(r->body_len + 1);
	memcpy(r->body, buf + hlen, r->body_len);
	free(buf);
}

static void request(const char *req, struct response *r)
{
	int fd = connect_mirror();
	send_all(fd, req, strlen(req));
	read_response(fd, r);
}

static void get(const char *path, struct response *r)
{
	char req[2048];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 10.0.2.4\r\nUser-Agent: curl/8.12.1\r\nAccept: */*\r\n\r\n", path);
	request(req, r);
}

static void check_file(const struct response *r, const char *name, size_t size)
{
	ck_assert_int_eq(r->status, 200);
	ck_assert_int_eq(r->content_length, (long long)size);
	ck_assert_uint_eq(r->body_len, size);
	for (size_t i = 0; i < size; i++)
		if (r->body[i] != pattern(name, i))
			ck_abort_msg("%s: byte %zu differs", name, i);
}

static const struct mirror_record *find_record(struct mirror_record *recs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(recs[i].name, name))
			return &recs[i];
	return NULL;
}

START_TEST(probe_page_for_any_host)
{
	struct response r;
	request("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.12.1\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, (long long)r.body_len);
	ck_assert_ptr_nonnull(strstr((char *)r.body, "lbvm"));
	free(r.body);
	request("GET http://example.com/ HTTP/1.0\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	free(r.body);
	request("HEAD / HTTP/1.1\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	free(r.body);
	ck_assert_uint_eq(mirror_probes(mir), 3);
	struct mirror_record *recs;
	ck_assert_uint_eq(mirror_records(mir, &recs), 0); /* the probe is not a fetch */
}
END_TEST

START_TEST(verified_files_byte_for_byte)
{
	struct response r;
	get("/small.tar.gz", &r);
	check_file(&r, "small.tar.gz", 1000);
	ck_assert_ptr_nonnull(strstr(r.head, "Connection: close"));
	free(r.body);
	get("/big.tar.xz", &r);
	check_file(&r, "big.tar.xz", BIG_SIZE);
	free(r.body);
	get("/empty.txt", &r);
	check_file(&r, "empty.txt", 0);
	free(r.body);
	get("/a%2Bb.tar", &r); /* escaped name */
	check_file(&r, "a+b.tar", 300);
	free(r.body);
	request("HEAD /big.tar.xz HTTP/1.1\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, BIG_SIZE);
	ck_assert_uint_eq(r.body_len, 0);
	free(r.body);

	struct mirror_record *recs;
	size_t n = mirror_records(mir, &recs);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(recs[0].name, "small.tar.gz");
	ck_assert_int_eq(recs[0].verdict, MIRROR_SERVED);
	ck_assert_uint_eq(recs[0].bytes, 1000);
	ck_assert_int_eq(recs[0].status, 200);
	ck_assert_uint_eq(recs[1].bytes, BIG_SIZE);
	ck_assert_str_eq(recs[3].name, "a+b.tar");
	ck_assert(recs[4].head);
	ck_assert_uint_eq(recs[4].bytes, 0);
	ck_assert_str_eq(mirror_verdict_name(recs[0].verdict), "served");
	mirror_records_free(recs, n);
	ck_assert_uint_eq(seen, 5);
}
END_TEST

START_TEST(refusals)
{
	struct {
		const char *req;
		int status;
		const char *name;
		enum mirror_verdict verdict;
	} cases[] = {
		{ "GET /unknown.tar.gz HTTP/1.1\r\n\r\n", 404, "unknown.tar.gz", MIRROR_NOT_IN_MANIFEST },
		{ "GET /absent.tar HTTP/1.1\r\n\r\n", 404, "absent.tar", MIRROR_NOT_IN_CACHE },
		{ "GET /tampered.tar.bz2 HTTP/1.1\r\n\r\n", 403, "tampered.tar.bz2", MIRROR_HASH_MISMATCH },
		{ "HEAD /tampered.tar.bz2 HTTP/1.1\r\n\r\n", 403, "tampered.tar.bz2", MIRROR_HASH_MISMATCH },
		{ "GET /link.tar HTTP/1.1\r\n\r\n", 404, "link.tar", MIRROR_NOT_IN_CACHE },
		{ "GET /dist/small.tar.gz HTTP/1.1\r\n\r\n", 404, "dist/small.tar.gz", MIRROR_NOT_IN_MANIFEST },
		{ "GET /.manifest HTTP/1.1\r\n\r\n", 404, ".manifest", MIRROR_NOT_IN_MANIFEST },
		{ "GET /../etc/passwd HTTP/1.1\r\n\r\n", 404, "../etc/passwd", MIRROR_NOT_IN_MANIFEST },
		{ "POST /small.tar.gz HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405, "small.tar.gz", MIRROR_BAD_REQUEST },
		{ "GET /a%zz HTTP/1.1\r\n\r\n", 400, "", MIRROR_BAD_REQUEST },
		{ "GET / HTTP/3\r\n\r\n", 505, "", MIRROR_BAD_REQUEST },
	};
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	for (size_t i = 0; i < ncases; i++) {
		struct response r;
		request(cases[i].req, &r);
		ck_assert_msg(r.status == cases[i].status, "%s: status %d", cases[i].req, r.status);
		if (cases[i].status == 403 && cases[i].req[0] == 'G')
			ck_assert_ptr_nonnull(strstr((char *)r.body, "not the verified"));
		free(r.body);
	}
	struct mirror_record *recs;
	size_t n = mirror_records(mir, &recs);
	ck_assert_uint_eq(n, ncases);
	for (size_t i = 0; i < ncases; i++) {
		ck_assert_str_eq(recs[i].name, cases[i].name);
		ck_assert_int_eq(recs[i].verdict, cases[i].verdict);
		ck_assert_int_eq(recs[i].status, cases[i].status);
		ck_assert_uint_eq(recs[i].bytes, 0);
	}
	ck_assert_uint_eq(find_record(recs, n, "tampered.tar.bz2")->size, 5000);
	mirror_records_free(recs, n);
}
END_TEST

START_TEST(head_too_long_and_client_gone)
{
	/* A head that never ends: 431 once the buffer is full. */
	int fd = connect_mirror();
	static char junk[9000];
	memset(junk, 'a', sizeof(junk));
	memcpy(junk, "GET /", 5);
	send_all(fd, junk, sizeof(junk));
	struct response r;
	read_response(fd, &r);
	ck_assert_int_eq(r.status, 431);
	free(r.body);
	/* A client that leaves half-way through a big file. */
	fd = connect_mirror();
	const char *req = "GET /big.tar.xz HTTP/1.1\r\n\r\n";
	send_all(fd, req, strlen(req));
	char buf[4096];
	ck_assert_int_gt(recv(fd, buf, sizeof(buf), MSG_WAITALL), 0);
	close(fd);
	/* A connection that sends nothing and closes. */
	close(connect_mirror());
	for (int i = 0; i < 500; i++) {
		struct mirror_record *recs;
		size_t n = mirror_records(mir, &recs);
		const struct mirror_record *big = find_record(recs, n, "big.tar.xz");
		if (big) {
			ck_assert_int_eq(big->verdict, MIRROR_CLIENT_GONE);
			ck_assert_uint_lt(big->bytes, BIG_SIZE);
			mirror_records_free(recs, n);
			return;
		}
		mirror_records_free(recs, n);
		usleep(10000);
	}
	ck_abort_msg("no record for the abandoned transfer");
}
END_TEST

/* Bytes that change while the file is being sent: the transfer ends short of Content-Length, and the
 * guest never gets the final bytes of a file whose hash no longer matches. */
START_TEST(changed_while_serving)
{
	int fd = connect_mirror();
	const char *req = "GET /big.tar.xz HTTP/1.1\r\n\r\n";
	send_all(fd, req, strlen(req));
	char first[256];
	ck_assert_int_gt(recv(fd, first, sizeof(first), 0), 0); /* the mirror has verified and started */
	char path[256];
	snprintf(path, sizeof(path), "%s/big.tar.xz", dir);
	int w = open(path, O_WRONLY);
	ck_assert_int_ge(w, 0);
	ck_assert_int_eq(pwrite(w, "changed", 7, BIG_SIZE / 2), 7);
	close(w);
	struct response r;
	/* read the rest (the head was in `first`; count the body bytes only) */
	size_t body = 0;
	char buf[65536];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		body += (size_t)n;
	close(fd);
	(void)r;
	ck_assert_uint_lt(body, BIG_SIZE);
	struct mirror_record *recs;
	size_t nrec = mirror_records(mir, &recs);
	ck_assert_uint_eq(nrec, 1);
	ck_assert_int_eq(recs[0].verdict, MIRROR_CHANGED);
	ck_assert_uint_lt(recs[0].bytes, BIG_SIZE);
	ck_assert_str_eq(mirror_verdict_name(recs[0].verdict), "changed-while-serving");
	mirror_records_free(recs, nrec);
}
END_TEST

struct getter {
	const char *path, *name;
	size_t size;
	int ok;
};

static void *parallel_get(void *opaque)
{
	struct getter *g = opaque;
	struct response r;
	get(g->path, &r);
	g->ok = r.status == 200 && r.body_len == g->size;
	for (size_t i = 0; g->ok && i < g->size; i++)
		g->ok = r.body[i] == pattern(g->name, i);
	free(r.body);
	return NULL;
}

START_TEST(many_connections_at_once)
{
	struct getter g[8];
	pthread_t th[8];
	for (int i = 0; i < 8; i++) {
		g[i] = (struct getter){ .path = i % 2 ? "/big.tar.xz" : "/small.tar.gz",
					.name = i % 2 ? "big.tar.xz" : "small.tar.gz", .size = i % 2 ? BIG_SIZE : 1000 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, parallel_get, &g[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(g[i].ok, "transfer %d", i);
	}
}
END_TEST

START_TEST(bad_cache_directory)
{
	struct mirror *m = NULL;
	struct mirror_config cfg = { .cache_dir = "/nonexistent/cache", .manifest = &man };
	struct error err = { 0 };
	ck_assert_int_eq(mirror_start(&cfg, &m, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/cache"));
	ck_assert_int_eq(error_exit_status(&err), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, probe_page_for_any_host);
	tcase_add_test(tc, verified_files_byte_for_byte);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, head_too_long_and_client_gone);
	tcase_add_test(tc, changed_while_serving);
	tcase_add_test(tc, many_connections_at_once);
	tcase_add_test(tc, bad_cache_directory);
	suite_add_tcase(s, tc);
	return check_run(s);
}
