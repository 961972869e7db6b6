/*
 * http.h: one FastCGI request and its reply.
 *
 * Strings taken from the FastCGI environment (method, query, headers) are
 * borrowed from libfcgi and valid until the request ends. Everything a
 * handler allocates through a req is freed by bj_req_end(). A reply is
 * written once; headers added before it go out with it. Header values are
 * refused when they contain CR or LF, so no value can start a header.
 */
#ifndef BJ_HTTP_H
#define BJ_HTTP_H

#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "err.h"

#define BJ_MAX_ARGS 4

struct bj_app {
	struct bj_conf	*conf;
	struct bj_db	*db;
};

struct bj_req {
	struct bj_app	*app;
	FCGX_Request	*fcgx;
	const char	*method;	/* borrowed */
	const char	*query;		/* borrowed, "" when none */
	char		*path;		/* route path below base_path, owned */
	const char	*route;		/* pattern that matched, for metrics */
	char		*args[BJ_MAX_ARGS];	/* {captures} of the route, owned */
	char		*body;		/* owned, NUL-terminated */
	size_t		 body_len;
	struct bj_buf	 headers;	/* extra reply headers */
	int		 status;	/* 0 until replied */
	char		 etag[40];	/* the ETag of a 200 reply, "" for none */
	int		 poll_interval;	/* its Poll-Interval in seconds, 0: none */
	/* authentication (auth.c) */
	long long	 token_id;
	char		*token_name;
	char		*token_owner;
	unsigned	 scopes;
};

/* A request parameter (CGI variable) or NULL; borrowed. */
const char *bj_req_param(struct bj_req *req, const char *name);
/* A request header by its CGI name, e.g. "HTTP_IDEMPOTENCY_KEY"; borrowed. */
#define bj_req_header(req, cgi) bj_req_param((req), (cgi))

/*
 * Read the body up to max bytes into req->body. Returns BJ_OK,
 * BJ_ERR_TOO_LARGE (Content-Length or the stream over max) or
 * BJ_ERR_BAD_REQUEST (short body).
 */
enum bj_err bj_req_read_body(struct bj_req *req, long long max);

/* Add a reply header; returns -1 (and adds nothing) if a value has CR/LF. */
int bj_reply_header(struct bj_req *req, const char *name, const char *value);
/*
 * Conditional GET. The representation about to be sent is made of the n
 * bytes at key (its version, the reader's language …): its strong ETag
 * is their hash. Returns 1 after replying 304 Not Modified when the
 * request's If-None-Match names it; else 0, and the 200 reply will carry
 * it. Call after the request's authorization, never before.
 * poll_interval: the Poll-Interval to send with either (0: none).
 */
int bj_req_etag(struct bj_req *req, const void *key, size_t n, int poll_interval);
/* Caching headers of a reply: revalidation under the ETag of a 200, else no-store. */
void bj_reply_cache_headers(struct bj_req *req, int status);
/* Write status, headers and body (a 304 goes without Content-Type and Content-Length). */
void bj_reply(struct bj_req *req, int status, const char *content_type,
    const char *body, size_t len);
/* Reply with a JSON document (not consumed). */
void bj_reply_json(struct bj_req *req, int status, struct json_object *obj);
/* Reply {"error":{"code","message"}} with the error's status. */
void bj_reply_error(struct bj_req *req, enum bj_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The reason phrase for a status. */
const char *bj_http_reason(int status);
/* Value of name in an application/x-www-form-urlencoded or query string; caller frees. */
char *bj_form_get(const char *qs, const char *name);
/* Percent-decode n bytes of s (with '+' as space when plus); caller frees; NULL on NUL/bad escape. */
char *bj_url_decode(const char *s, size_t n, int plus);

/* Append "&name=value" ("?" first when b is empty) to b, value percent-encoded. */
void bj_query_add(struct bj_buf *b, const char *name, const char *value);

/* Free everything the request owns. */
void bj_req_end(struct bj_req *req);

#endif
