/* http.c: reading FastCGI requests and writing replies, in one place. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "token.h"

const char *
bj_req_param(struct bj_req *req, const char *name)
{
	return FCGX_GetParam(name, req->fcgx->envp);
}

enum bj_err
bj_req_read_body(struct bj_req *req, long long max)
{
	const char *cl = bj_req_param(req, "CONTENT_LENGTH");
	long long want = -1;
	struct bj_buf b = { 0 };
	char chunk[65536];
	int n;

	if (cl != NULL && *cl != '\0') {
		char *end;
		want = strtoll(cl, &end, 10);
		if (*end != '\0' || want < 0)
			return BJ_ERR_BAD_REQUEST;
		if (want > max)
			return BJ_ERR_TOO_LARGE;
		b.data = bj_xmalloc((size_t)want + 1);
		b.cap = (size_t)want + 1;
		b.data[0] = '\0';
	}
	while ((n = FCGX_GetStr(chunk, sizeof chunk, req->fcgx->in)) > 0) {
		if ((long long)(b.len + (size_t)n) > max) {
			bj_buf_free(&b);
			return BJ_ERR_TOO_LARGE;
		}
		bj_buf_add(&b, chunk, (size_t)n);
	}
	if (want >= 0 && (long long)b.len != want) {
		bj_buf_free(&b);
		return BJ_ERR_BAD_REQUEST;
	}
	free(req->body);
	req->body_len = b.len;
	req->body = b.data ? b.data : bj_xstrdup("");
	return BJ_OK;
}

int
bj_reply_header(struct bj_req *req, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	bj_buf_printf(&req->headers, "%s: %s\r\n", name, value);
	return 0;
}

const char *
bj_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

/*
 * 1 when the If-None-Match list names etag, or is "*". The comparison is
 * the weak one RFC 9110 asks for here: a proxy that compresses the reply
 * (nginx's gzip) sends our tag back as W/"…".
 */
static int
etag_listed(const char *list, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = list;

	while (*(p += strspn(p, " \t,")) != '\0') {
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && strchr(" \t,", p[n]) != NULL)
			return 1;	/* strchr finds the NUL too */
		if (*p == '"' && (p = strchr(p + 1, '"')) == NULL)
			return 0;
		p += strcspn(p, ",");
	}
	return 0;
}

int
bj_req_etag(struct bj_req *req, const void *key, size_t n, int poll_interval)
{
	char hex[BJ_SHA256_HEX];
	const char *inm = bj_req_header(req, "HTTP_IF_NONE_MATCH");

	bj_sha256_hex(key, n, hex);
	snprintf(req->etag, sizeof req->etag, "\"%.32s\"", hex);
	req->poll_interval = poll_interval;
	if (inm == NULL || !etag_listed(inm, req->etag))
		return 0;
	bj_reply_cache_headers(req, 304);
	bj_reply(req, 304, NULL, NULL, 0);
	return 1;
}

void
bj_reply_cache_headers(struct bj_req *req, int status)
{
	char v[16];

	if (req->etag[0] == '\0' || (status != 200 && status != 304)) {
		bj_reply_header(req, "Cache-Control", "no-store");
		return;
	}
	/* the reader's own copy, asked after each time: polls stay current */
	bj_reply_header(req, "Cache-Control", "private, no-cache");
	bj_reply_header(req, "ETag", req->etag);
	if (req->poll_interval != 0) {
		snprintf(v, sizeof v, "%d", req->poll_interval);
		bj_reply_header(req, "Poll-Interval", v);
	}
}

void
bj_reply(struct bj_req *req, int status, const char *content_type,
    const char *body, size_t len)
{
	FCGX_Stream *out = req->fcgx->out;

	if (req->status != 0)
		return;		/* replied already */
	req->status = status;
	FCGX_FPrintF(out, "Status: %d %s\r\n", status, bj_http_reason(status));
	if (content_type != NULL)
		FCGX_FPrintF(out, "Content-Type: %s\r\n", content_type);
	if (status != 304) {
		/* libfcgi's own printf knows no %zu: format the number here */
		char cl[48];
		snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", len);
		FCGX_PutS(cl, out);
	}
	if (req->headers.len > 0)
		FCGX_PutStr(req->headers.data, (int)req->headers.len, out);
	FCGX_PutStr("\r\n", 2, out);
	if (len > 0 && strcmp(req->method ? req->method : "", "HEAD") != 0)
		FCGX_PutStr(body, (int)len, out);
}

void
bj_reply_json(struct bj_req *req, int status, struct json_object *obj)
{
	size_t len;
	const char *text = bj_json_text(obj, &len);

	bj_reply_cache_headers(req, status);
	bj_reply(req, status, "application/json", text, len);
}

void
bj_reply_error(struct bj_req *req, enum bj_err err, const char *fmt, ...)
{
	struct json_object *root = json_object_new_object();
	struct json_object *e = json_object_new_object();
	char msg[512];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof msg, "%s", bj_strerror(err));
	}
	json_object_object_add(e, "code", json_object_new_string(bj_err_code(err)));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(root, "error", e);
	if (err == BJ_ERR_DB_UNAVAILABLE)
		bj_reply_header(req, "Retry-After", "5");
	else if (err == BJ_ERR_CONTENDED)
		bj_reply_header(req, "Retry-After", "1");	/* the conflict passes quickly */
	if (err == BJ_ERR_UNAUTHORIZED)
		bj_reply_header(req, "WWW-Authenticate", "Bearer realm=\"bulkjobs\"");
	bj_reply_json(req, bj_err_http_status(err), root);
	json_object_put(root);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
bj_query_add(struct bj_buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	bj_buf_printf(b, "%c%s=", b->len == 0 ? '?' : '&', name);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) != NULL) {
			bj_buf_addc(b, (char)*p);
		} else {
			bj_buf_addc(b, '%');
			bj_buf_addc(b, hex[*p >> 4]);
			bj_buf_addc(b, hex[*p & 15]);
		}
	}
}

char *
bj_url_decode(const char *s, size_t n, int plus)
{
	char *out = bj_xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (plus && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

char *
bj_form_get(const char *qs, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = qs;

	while (p != NULL && *p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (eq != NULL && (size_t)(eq - p) == nlen && !memcmp(p, name, nlen))
			return bj_url_decode(eq + 1, len - nlen - 1, 1);
		if (eq == NULL && len == nlen && !memcmp(p, name, nlen))
			return bj_xstrdup("");
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

void
bj_req_end(struct bj_req *req)
{
	free(req->path);
	for (int i = 0; i < BJ_MAX_ARGS; i++)
		free(req->args[i]);
	free(req->body);
	free(req->token_name);
	free(req->token_owner);
	bj_buf_free(&req->headers);
	memset(req, 0, sizeof *req);
}
