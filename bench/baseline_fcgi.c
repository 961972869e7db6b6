/*
 * baseline_fcgi.c: the physical limit for a status read through nginx: a
 * minimal libfcgi program that answers GET ?id=N with one indexed
 * primary-key SELECT on jobs and a fixed-shape JSON. bench/run serves it
 * behind the same nginx as bulkjobs-fcgi and divides the two rates.
 *
 * GET ?page=TOKEN is the status page's shape: the page's own statements
 * (the job row by its token, then its timeline, newest first) and the
 * HTML printed with printf, nothing else (no escaping, no language, no
 * security headers): status_html's baseline. &pad=N adds N bytes to the
 * page (a style sheet of spaces), so that it is as long as the page it
 * stands for: nginx and the client then carry the same bytes for both.
 *
 * usage: baseline_fcgi SOCKET_PATH DB_SOCKET DB_NAME PROCESSES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <mysql.h>

/* Prepare sql on my, or exit. */
static MYSQL_STMT *
prepare(MYSQL *my, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(my);

	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		fprintf(stderr, "baseline: %s\n", mysql_stmt_error(st));
		exit(1);
	}
	return st;
}

/* A string result column of st into buf. */
static void
bind_str(MYSQL_BIND *b, char *buf, size_t n, unsigned long *len, my_bool *null)
{
	memset(b, 0, sizeof *b);
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = buf;
	b->buffer_length = n - 1;
	b->length = len;
	b->is_null = null;
}

/* The page's shape: the job by token and its timeline, as HTML. */
static void
page(FCGX_Request *r, MYSQL_STMT *job, MYSQL_STMT *tl, const char *token, long pad)
{
	static char spaces[65536];
	MYSQL_BIND pb, rb[8];
	char c[8][256];
	unsigned long len[8];
	my_bool null[8];
	long long id = 0, total = 0, done = 0;
	int found = 0;

	memset(&pb, 0, sizeof pb);
	pb.buffer_type = MYSQL_TYPE_STRING;
	pb.buffer = (char *)token;
	pb.buffer_length = strlen(token);
	for (int i = 0; i < 8; i++)
		bind_str(&rb[i], c[i], sizeof c[i], &len[i], &null[i]);
	rb[0].buffer_type = MYSQL_TYPE_LONGLONG;
	rb[0].buffer = &id;
	rb[4].buffer_type = MYSQL_TYPE_LONGLONG;
	rb[4].buffer = &total;
	rb[5].buffer_type = MYSQL_TYPE_LONGLONG;
	rb[5].buffer = &done;
	mysql_stmt_bind_param(job, &pb);
	if (mysql_stmt_execute(job) == 0) {
		mysql_stmt_bind_result(job, rb);
		if (mysql_stmt_store_result(job) == 0 && mysql_stmt_fetch(job) == 0)
			found = 1;
		mysql_stmt_free_result(job);
	}
	if (!found) {
		FCGX_FPrintF(r->out, "Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\n");
		return;
	}
	for (int i = 1; i < 8; i++)
		c[i][null[i] ? 0 : len[i] < sizeof c[i] ? len[i] : sizeof c[i] - 1] = '\0';
	pad = pad < 0 ? 0 : pad < (long)sizeof spaces ? pad : (long)sizeof spaces - 1;
	memset(spaces, ' ', (size_t)pad);
	spaces[pad] = '\0';
	FCGX_FPrintF(r->out, "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
	    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>"
	    "<style>%s</style></head><body><h1>%s</h1><p>Kind: <code>%s</code></p><p>State: <strong>%s</strong>"
	    "</p><progress max=\"%lld\" value=\"%lld\"></progress><dl><dt>Created</dt><dd>%s"
	    "</dd><dt>Started</dt><dd>%s</dd></dl><h2>Timeline</h2><ol>",
	    c[1], spaces, c[1], c[2], c[3], total, done, c[6], c[7]);
	memset(&pb, 0, sizeof pb);
	pb.buffer_type = MYSQL_TYPE_LONGLONG;
	pb.buffer = &id;
	mysql_stmt_bind_param(tl, &pb);
	for (int i = 0; i < 3; i++)
		bind_str(&rb[i], c[i], sizeof c[i], &len[i], &null[i]);
	if (mysql_stmt_execute(tl) == 0) {
		mysql_stmt_bind_result(tl, rb);
		mysql_stmt_store_result(tl);
		while (mysql_stmt_fetch(tl) == 0) {
			for (int i = 0; i < 3; i++)
				c[i][null[i] ? 0 : len[i] < sizeof c[i] ? len[i] : sizeof c[i] - 1] = '\0';
			FCGX_FPrintF(r->out, "<li><time>%s</time> <strong>%s</strong> %s</li>",
			    c[0], c[1], c[2]);
		}
		mysql_stmt_free_result(tl);
	}
	FCGX_FPrintF(r->out, "</ol></body></html>");
}

static void
serve(int fd, const char *dbsock, const char *dbname)
{
	MYSQL_STMT *job, *tl;
	MYSQL *my = mysql_init(NULL);
	MYSQL_STMT *st;
	MYSQL_BIND pb, rb[3];
	FCGX_Request r;
	long long id, rid;
	char state[32], title[512];
	unsigned long lens[3];
	const char *sql = "SELECT id, state, title FROM jobs WHERE id = ?";

	if (mysql_real_connect(my, NULL, "root", "", dbname, 0, dbsock, 0) == NULL) {
		fprintf(stderr, "baseline: %s\n", mysql_error(my));
		exit(1);
	}
	st = mysql_stmt_init(my);
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		fprintf(stderr, "baseline: %s\n", mysql_stmt_error(st));
		exit(1);
	}
	job = prepare(my, "SELECT id, title, kind, state, n_total,"
	    " n_succeeded + n_failed + n_cancelled, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'),"
	    " DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%sZ') FROM jobs WHERE token = ?");
	tl = prepare(my, "SELECT DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%sZ'), type, detail"
	    " FROM job_events WHERE job_id = ? ORDER BY id DESC LIMIT 200");
	FCGX_InitRequest(&r, fd, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		const char *qs = FCGX_GetParam("QUERY_STRING", r.envp);
		const char *p = qs ? strstr(qs, "id=") : NULL;
		int found = 0;

		if (qs != NULL && strncmp(qs, "page=", 5) == 0) {
			char token[64];
			const char *pad = strstr(qs, "&pad=");

			snprintf(token, sizeof token, "%.*s", (int)strcspn(qs + 5, "&"), qs + 5);
			page(&r, job, tl, token, pad ? atol(pad + 5) : 0);
			FCGX_Finish_r(&r);
			continue;
		}

		id = p ? atoll(p + 3) : 0;
		memset(&pb, 0, sizeof pb);
		pb.buffer_type = MYSQL_TYPE_LONGLONG;
		pb.buffer = &id;
		memset(rb, 0, sizeof rb);
		rb[0].buffer_type = MYSQL_TYPE_LONGLONG;
		rb[0].buffer = &rid;
		rb[1].buffer_type = MYSQL_TYPE_STRING;
		rb[1].buffer = state;
		rb[1].buffer_length = sizeof state - 1;
		rb[1].length = &lens[1];
		rb[2].buffer_type = MYSQL_TYPE_STRING;
		rb[2].buffer = title;
		rb[2].buffer_length = sizeof title - 1;
		rb[2].length = &lens[2];
		mysql_stmt_bind_param(st, &pb);
		if (mysql_stmt_execute(st) == 0) {
			mysql_stmt_bind_result(st, rb);
			if (mysql_stmt_store_result(st) == 0 && mysql_stmt_fetch(st) == 0)
				found = 1;
			mysql_stmt_free_result(st);
		}
		if (found) {
			state[lens[1]] = '\0';
			title[lens[2] < sizeof title ? lens[2] : sizeof title - 1] = '\0';
			FCGX_FPrintF(r.out, "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
			    "{\"id\":%lld,\"state\":\"%s\",\"title\":\"%s\"}", rid, state, title);
		} else {
			FCGX_FPrintF(r.out, "Status: 404 Not Found\r\nContent-Type: application/json\r\n\r\n{}");
		}
		FCGX_Finish_r(&r);
	}
}

int
main(int argc, char **argv)
{
	int fd, n;

	if (argc != 5) {
		fprintf(stderr, "usage: baseline_fcgi SOCKET DB_SOCKET DB_NAME PROCESSES\n");
		return 64;
	}
	mysql_library_init(0, NULL, NULL);
	FCGX_Init();
	unlink(argv[1]);
	fd = FCGX_OpenSocket(argv[1], 128);
	chmod(argv[1], 0666);
	n = atoi(argv[4]);
	for (int i = 0; i < n; i++)
		if (fork() == 0) {
			serve(fd, argv[2], argv[3]);
			return 0;
		}
	while (wait(NULL) > 0)
		;
	return 0;
}
