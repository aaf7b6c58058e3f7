/* The head of an HTTP/1.x request as the mirror needs it: method, and the path with the query dropped and
 * percent-escapes decoded. Accepts origin-form ("/x") and absolute-form ("http://host/x") targets. Pure,
 * and careful: the bytes come from the guest. */
#ifndef LBVM_NET_HTTP_REQUEST_H
#define LBVM_NET_HTTP_REQUEST_H

#include <stddef.h>

#define HTTP_HEAD_MAX  8192 /* a request head longer than this is refused (431) */
#define HTTP_PATH_MAX  1024

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	char path[HTTP_PATH_MAX + 1]; /* decoded, printable ASCII, starts with '/' */
	int status;                   /* when refused: the HTTP status to answer with */
};

/* 1: a complete head was parsed (it ends with an empty line within len bytes); 0: more bytes are needed;
 * -1: refused, req->status says why (400 malformed, 414 path too long, 431 head too long, 505 not
 * HTTP/1.x). */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

#endif
