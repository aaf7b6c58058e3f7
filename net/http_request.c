#include "net/http_request.h"
#include "common/hex.h"

#include <string.h>

#define STATUS_BAD_REQUEST     400
#define STATUS_URI_TOO_LONG    414
#define STATUS_HEAD_TOO_LARGE  431
#define STATUS_BAD_VERSION     505

static int refuse(struct http_request *req, int status)
{
	req->status = status;
	return -1;
}

/* Where the head ends (just past the empty line), or 0 when it has not ended within len. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Decode target[0..n) into req->path: the path part only, escapes resolved, printable ASCII. */
static int decode_path(const char *target, size_t n, struct http_request *req)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		char c = target[i];
		if (c == '?' || c == '#')
			break;
		if (c == '%') {
			int hi = i + 2 < n ? hex_digit_value(target[i + 1]) : -1, lo = i + 2 < n ? hex_digit_value(target[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return refuse(req, STATUS_BAD_REQUEST);
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if ((unsigned char)c <= ' ' || (unsigned char)c >= 0x7f)
			return refuse(req, STATUS_BAD_REQUEST);
		if (len == HTTP_PATH_MAX)
			return refuse(req, STATUS_URI_TOO_LONG);
		req->path[len++] = c;
	}
	req->path[len] = '\0';
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	size_t end = head_end(buf, len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX);
	if (end == 0)
		return len >= HTTP_HEAD_MAX ? refuse(req, STATUS_HEAD_TOO_LARGE) : 0;
	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	const char *line_end = memchr(buf, '\n', end);
	size_t line = (size_t)(line_end - buf);
	if (line && buf[line - 1] == '\r')
		line--;
	const char *sp1 = memchr(buf, ' ', line);
	if (!sp1)
		return refuse(req, STATUS_BAD_REQUEST);
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', line - (size_t)(target - buf));
	if (!sp2 || sp2 == target)
		return refuse(req, STATUS_BAD_REQUEST);
	size_t mlen = (size_t)(sp1 - buf), tlen = (size_t)(sp2 - target);
	const char *version = sp2 + 1;
	size_t vlen = line - (size_t)(version - buf);
	if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1'))
		return refuse(req, STATUS_BAD_VERSION);
	if (mlen == 3 && !memcmp(buf, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 4 && !memcmp(buf, "HEAD", 4))
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;
	/* absolute-form: drop scheme and authority */
	if (tlen >= 7 && !strncmp(target, "http://", 7)) {
		const char *slash = memchr(target + 7, '/', tlen - 7);
		if (!slash) {
			req->path[0] = '/';
			return 1;
		}
		tlen -= (size_t)(slash - target);
		target = slash;
	}
	if (target[0] != '/')
		return refuse(req, STATUS_BAD_REQUEST);
	if (decode_path(target, tlen, req) < 0)
		return -1;
	return 1;
}
