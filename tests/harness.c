/* harness.c: CUnit runner, the private test database, and nginx + fcgi for e2e suites. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <mysql.h>
#include <openssl/sha.h>

#include "buf.h"
#include "claim.h"
#include "create.h"
#include "harness.h"
#include "job.h"
#include "json.h"
#include "migrate.h"
#include "token.h"

static struct bj_conf test_conf;
static int have_conf;
static struct bj_db *test_db;
static int server_reports;	/* sanitizer reports found in server logs */

int
bj_test_run(void)
{
	unsigned failed, suites_failed, run;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	suites_failed = CU_get_number_of_suites_failed();
	run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (test_db != NULL)
		bj_db_free(test_db);
	if (have_conf)
		bj_conf_free(&test_conf);
	mysql_library_end();
	if (run == 0) {
		fprintf(stderr, "no test ran: failing\n");
		return 1;
	}
	if (server_reports) {
		fprintf(stderr, "a server process reported memory errors or leaks: failing\n");
		return 1;
	}
	return failed || suites_failed ? 1 : 0;
}

int
bj_test_sanitized_skip(const char *suite, const char *why)
{
	const char *san = getenv("BJ_SANITIZED");

	if (san == NULL || *san == '\0')
		return 0;
	fprintf(stderr, "%s: skipped in the sanitizer build (%s)\n", suite, why);
	return 1;
}

CU_pSuite
bj_test_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean)
{
	CU_pSuite s;

	if (CU_get_registry() == NULL && CU_initialize_registry() != CUE_SUCCESS)
		abort();
	if ((s = CU_add_suite(name, init, clean)) == NULL)
		abort();
	return s;
}

const char *
bj_test_path(const char *leaf)
{
	static char buf[1024];
	const char *dir = getenv("BJ_TEST_DIR");

	snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests/tmp", leaf);
	return buf;
}

/* The socket of the running test server, from DIR/socket. */
static char *
test_socket(void)
{
	FILE *f = fopen(bj_test_path("socket"), "r");
	char line[512];

	if (f == NULL || fgets(line, sizeof line, f) == NULL) {
		fprintf(stderr, "harness: the test MariaDB is not running (%s missing); "
		    "run the suite with make check\n", bj_test_path("socket"));
		exit(1);
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return bj_xstrdup(line);
}

struct bj_conf *
bj_test_conf(const char *name)
{
	struct bj_db *admin;
	char dbname[64], sql[160], *cause = NULL, *sock;

	if (have_conf)
		return &test_conf;
	mysql_library_init(0, NULL, NULL);
	bj_conf_defaults(&test_conf);
	sock = test_socket();
	free(test_conf.db_socket);
	test_conf.db_socket = sock;
	free(test_conf.db_user);
	test_conf.db_user = bj_xstrdup("root");
	snprintf(dbname, sizeof dbname, "bjt_%s_%d", name, (int)getpid());
	free(test_conf.db_name);
	test_conf.db_name = bj_xstrdup(dbname);

	admin = bj_db_new(&test_conf);
	bj_db_set_name(admin, "");
	if (bj_db_connect(admin) == -1) {
		fprintf(stderr, "harness: cannot reach the test MariaDB: %s\n", bj_db_error(admin));
		exit(1);
	}
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", dbname);
	bj_db_exec_text(admin, sql);
	snprintf(sql, sizeof sql, "CREATE DATABASE `%s` CHARACTER SET utf8mb4", dbname);
	if (bj_db_exec_text(admin, sql) == -1) {
		fprintf(stderr, "harness: %s\n", bj_db_error(admin));
		exit(1);
	}
	bj_db_free(admin);
	admin = bj_db_new(&test_conf);
	if (bj_db_connect(admin) == -1 || bj_migrate(admin, dbname, &cause) < 0) {
		fprintf(stderr, "harness: migrating %s: %s\n", dbname, cause ? cause : bj_db_error(admin));
		exit(1);
	}
	bj_db_free(admin);
	have_conf = 1;
	return &test_conf;
}

struct bj_db *
bj_test_db(const char *name)
{
	if (test_db != NULL)
		return test_db;
	test_db = bj_db_new(bj_test_conf(name));
	if (bj_db_connect(test_db) == -1) {
		fprintf(stderr, "harness: %s\n", bj_db_error(test_db));
		exit(1);
	}
	return test_db;
}

void
bj_test_sql(struct bj_db *db, const char *sql)
{
	int rc = bj_db_exec_text(db, sql);

	if (rc != 0)
		fprintf(stderr, "harness: %s: %s\n", sql, bj_db_error(db));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
}

long long
bj_test_scalar(struct bj_db *db, const char *sql)
{
	MYSQL *my = bj_db_mysql(db);
	MYSQL_RES *res;
	MYSQL_ROW row;
	long long v = -1;

	if (mysql_query(my, sql) != 0) {
		fprintf(stderr, "harness: %s: %s\n", sql, mysql_error(my));
		CU_FAIL_FATAL("query failed");
		return -1;
	}
	res = mysql_store_result(my);
	if (res != NULL && (row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
		v = strtoll(row[0], NULL, 10);
	mysql_free_result(res);
	return v;
}

void
bj_test_sqlf(struct bj_db *db, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	bj_test_sql(db, sql);
}

int
bj_test_promtool(const char *text)
{
	char in[1024], out[1024], *cmd, *said;
	FILE *f;
	int rc;

	snprintf(in, sizeof in, "%s", bj_test_path("promtool.in"));
	snprintf(out, sizeof out, "%s", bj_test_path("promtool.out"));
	if ((f = fopen(in, "w")) == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	cmd = bj_xasprintf("promtool check metrics < '%s' > '%s' 2>&1", in, out);
	rc = system(cmd);
	free(cmd);
	said = bj_test_slurp(out, NULL);
	/* promtool exits 0 on lint problems too; it prints nothing only when clean */
	if (rc != 0 || (said != NULL && *said != '\0')) {
		fprintf(stderr, "promtool check metrics (exit %d): %s\n", rc,
		    said ? said : "no output");
		rc = rc ? rc : 1;
	}
	free(said);
	return rc;
}

char *
bj_test_slurp(const char *path, size_t *len)
{
	struct bj_buf b = { 0 };
	char chunk[16384];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		bj_buf_add(&b, chunk, n);
	fclose(f);
	if (len != NULL)
		*len = b.len;
	return bj_buf_steal(&b);
}

void
bj_test_job_spec(struct bj_job_spec *s, const char *kind, struct bj_item_spec *items,
    char (*keys)[16], size_t n, int stages)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->owner = "alice";
	s->max_attempts = 3;
	s->lease_seconds = 60;
	s->deadline_seconds = 3600;
	s->retention_seconds = 3600;
	for (size_t i = 0; i < n; i++) {
		snprintf(keys[i], sizeof keys[i], "k%u", (unsigned)i);
		items[i].key = keys[i];
		items[i].stage = (long long)(i % (size_t)stages);
		items[i].payload = NULL;
	}
	s->items = items;
	s->nitems = n;
}

long long
bj_test_make_job(struct bj_db *db, const struct bj_test_job *j)
{
	struct bj_item_spec *items = bj_xcalloc(j->n, sizeof *items);
	char (*keys)[16] = bj_xcalloc(j->n, sizeof *keys);
	const char *hooks[] = { j->webhook }, *mails[] = { j->email };
	struct bj_job_spec s;
	long long id = 0;
	int existed;
	char why[200];

	bj_test_job_spec(&s, j->kind, items, keys, j->n, j->stages > 0 ? j->stages : 1);
	if (j->owner != NULL)
		s.owner = j->owner;
	s.title = j->title;
	for (size_t i = 0; i < j->n; i++)
		items[i].payload = j->payload;
	if (j->webhook != NULL) {
		s.webhooks = hooks;
		s.nwebhooks = 1;
	}
	if (j->email != NULL) {
		s.emails = mails;
		s.nemails = 1;
	}
	if (j->max_attempts > 0)
		s.max_attempts = j->max_attempts;
	s.on_item_failure = j->on_item_failure;
	s.priority = j->priority;
	s.max_concurrency = j->max_concurrency;
	CU_ASSERT_EQUAL(bj_job_spec_check(&s, 1000000, why, sizeof why), BJ_OK);
	CU_ASSERT_EQUAL(bj_job_create(db, &s, &id, &existed), BJ_OK);
	free(items);
	free(keys);
	return id;
}

int
bj_test_claim(struct bj_db *db, const char *kind, int limit, struct bj_claimed **c)
{
	const char *kinds[] = { kind };
	struct bj_claim_req r = { "w", kinds, 1, limit, 0, 0, NULL, NULL };
	int n = 0;

	CU_ASSERT_EQUAL(bj_claim(db, &r, c, &n), BJ_OK);
	return n;
}

/* --- HTTP client ---------------------------------------------------- */

static int http_quiet;	/* set while polling for a server to come up */

/*
 * With BJ_API_LOG set, every reply of the API (a path under /v1/, /healthz
 * or /metrics) is appended to that file as one JSON line: method, URL,
 * status, Content-Type, the header block and the body. tests/check_contract.py validates them all
 * against docs/openapi.yaml at the end of the run. One write() per line on
 * an O_APPEND descriptor, so that threads and processes do not interleave.
 */
static void
log_reply(const char *method, const char *url, const struct bj_http_reply *r)
{
	const char *path = getenv("BJ_API_LOG");
	struct json_object *o;
	const char *text;
	char *ct;
	size_t len;
	int fd;

	if (path == NULL || *path == '\0' || r->status == 0 ||
	    (strstr(url, "/v1/") == NULL && strstr(url, "/healthz") == NULL &&
	    strstr(url, "/metrics") == NULL))
		return;
	ct = bj_http_header(r, "Content-Type");
	o = json_object_new_object();
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "status", json_object_new_int64(r->status));
	json_object_object_add(o, "content_type", ct ? json_object_new_string(ct) : NULL);
	json_object_object_add(o, "headers", json_object_new_string(r->headers ? r->headers : ""));
	json_object_object_add(o, "body", json_object_new_string_len(r->body ? r->body : "",
	    (int)r->len));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) != -1) {
		char *line = bj_xasprintf("%s\n", text);
		if (write(fd, line, len + 1) != (ssize_t)(len + 1))
			fprintf(stderr, "harness: cannot append to %s\n", path);
		free(line);
		close(fd);
	}
	json_object_put(o);
	free(ct);
}

static size_t
collect(char *p, size_t sz, size_t n, void *ud)
{
	bj_buf_add(ud, p, sz * n);
	return sz * n;
}

int
bj_http(const char *method, const char *url, const char *const *headers,
    const char *body, size_t body_len, struct bj_http_reply *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct bj_buf b = { 0 }, hb = { 0 };
	CURLcode rc;

	memset(out, 0, sizeof *out);
	if (c == NULL)
		return -1;
	for (int i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	else if (!http_quiet)
		fprintf(stderr, "harness: %s %s: %s\n", method, url, curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	out->len = b.len;
	out->body = bj_buf_steal(&b);
	out->headers = bj_buf_steal(&hb);
	if (rc == CURLE_OK && !http_quiet)
		log_reply(method, url, out);
	return rc == CURLE_OK ? 0 : -1;
}

void
bj_http_reply_free(struct bj_http_reply *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof *r);
}

char *
bj_http_header(const struct bj_http_reply *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = r->headers;

	while (p != NULL && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			return bj_xstrndup(v, len - (size_t)(v - p));
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

/* --- nginx + bulkjobs-fcgi ------------------------------------------ */

/* A loopback TCP port nobody listens on right now; -1 if none. */
int
bj_test_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		close(fd);
		return -1;
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* 1 once something accepts connections on the loopback port. */
int
bj_test_port_open(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

void
bj_test_subst(char **s, const char *from, const char *to)
{
	struct bj_buf o = { 0 };
	const char *p = *s, *hit;

	while ((hit = strstr(p, from)) != NULL) {
		bj_buf_add(&o, p, (size_t)(hit - p));
		bj_buf_adds(&o, to);
		p = hit + strlen(from);
	}
	bj_buf_adds(&o, p);
	free(*s);
	*s = bj_buf_steal(&o);
}

/* Copy src to dst replacing each occurrence of the pairs in subst. */
static int
copy_subst(const char *src, const char *dst, const char *const *subst)
{
	char *text = bj_test_slurp(src, NULL);
	FILE *out;
	int rc;

	if (text == NULL)
		return -1;
	for (int i = 0; subst[i] != NULL; i += 2)
		bj_test_subst(&text, subst[i], subst[i + 1]);
	if ((out = fopen(dst, "w")) == NULL) {
		free(text);
		return -1;
	}
	fputs(text, out);
	rc = fclose(out) == 0 ? 0 : -1;
	free(text);
	return rc;
}

pid_t
bj_test_spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static struct bj_e2e *running;

static void
stop_at_exit(void)
{
	if (running != NULL)
		bj_e2e_stop(running);
}

/* Run argv with a unix socket listening at path as its standard input. */
static int
spawn_on_socket(char *const argv[], const char *path, const char *log)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 || listen(fd, 64) == -1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	chmod(path, 0666);
	pid = fork();
	if (pid == 0) {
		int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 0);
		if (lfd >= 0) {
			dup2(lfd, 1);
			dup2(lfd, 2);
		}
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd);
	return (int)pid;
}

#define WRAPPER_WORDS 32

/*
 * $BJ_TEST_FCGI_WRAPPER (e.g. "valgrind --leak-check=full ...") split at
 * white space into argv, at most max words; how many. The words stay valid
 * until the next call. Its first word may be a bare name: bj_test_spawn() looks
 * it up in $PATH.
 */
static size_t
wrapper_argv(char **argv, size_t max)
{
	static char *copy;
	const char *w = getenv("BJ_TEST_FCGI_WRAPPER");
	size_t n = 0;

	if (w == NULL || *w == '\0')
		return 0;
	free(copy);
	copy = bj_xstrdup(w);
	for (char *p = copy, *tok; n < max && (tok = strsep(&p, " \t\n")) != NULL; )
		if (*tok != '\0')
			argv[n++] = tok;
	return n;
}

/* 1 when bulkjobs-fcgi runs under a wrapper (valgrind): slower to start and stop. */
static int
wrapped(void)
{
	const char *w = getenv("BJ_TEST_FCGI_WRAPPER");

	return w != NULL && *w != '\0';
}

int bj_e2e_shipped_rate_limit;

int
bj_e2e_start(struct bj_e2e *e, const char *name, const char *extra_conf)
{
	return bj_e2e_start_mode(e, name, extra_conf, BJ_E2E_PREFORK);
}

int
bj_e2e_start_mode(struct bj_e2e *e, const char *name, const char *extra_conf,
    enum bj_e2e_mode mode)
{
	struct bj_conf *c = bj_test_conf(name);
	const char *src = getenv("BJ_SRCDIR"), *bld = getenv("BJ_BUILDDIR");
	const char *nginx = getenv("NGINX");
	char path[700], sockdir[] = "/tmp/bje2e.XXXXXX", sock[64], arts[600];
	char fcgi[600], port_s[16];
	FILE *f;

	memset(e, 0, sizeof *e);
	if (src == NULL || bld == NULL) {
		fprintf(stderr, "harness: BJ_SRCDIR/BJ_BUILDDIR unset; run with make check\n");
		return -1;
	}
	if (nginx == NULL || *nginx == '\0')
		nginx = "/usr/sbin/nginx";
	if (snprintf(e->root, sizeof e->root, "%s", bj_test_path(name)) >= (int)sizeof e->root)
		return -1;
	mkdir(e->root, 0755);
	if (mkdtemp(sockdir) == NULL)
		return -1;
	chmod(sockdir, 0755);
	snprintf(sock, sizeof sock, "%s/fcgi.sock", sockdir);
	snprintf(e->sock, sizeof e->sock, "%s", sock);
	snprintf(arts, sizeof arts, "%s/artifacts", e->root);
	mkdir(arts, 0755);
	e->port = bj_test_free_port();
	snprintf(e->url, sizeof e->url, "http://127.0.0.1:%d/bulkjobs", e->port);

	snprintf(e->conf_path, sizeof e->conf_path, "%s/bulkjobs.conf", e->root);
	if ((f = fopen(e->conf_path, "w")) == NULL)
		return -1;
	fchmod(fileno(f), 0600);	/* extra_conf may hold secrets */
	fprintf(f, "# written by the e2e harness\n[database]\nsocket = %s\nuser = root\n"
	    "name = %s\n[http]\nbase_path = /bulkjobs\npublic_url = %s\n"
	    "[artifacts]\nroot = %s\n%s\n",
	    c->db_socket, c->db_name, e->url, arts, extra_conf ? extra_conf : "");
	fclose(f);

	/* nginx: our location block, included by a minimal server */
	snprintf(path, sizeof path, "%s/conf/nginx.conf", src);
	{
		char inc[700], arts_slash[620];
		snprintf(inc, sizeof inc, "%s/bulkjobs.nginx", e->root);
		snprintf(arts_slash, sizeof arts_slash, "%s/", arts);
		char htpasswd[620];
		snprintf(htpasswd, sizeof htpasswd, "%s/htpasswd", e->root);
		const char *subst[] = { "unix:/run/bulkjobs/fcgi.sock", NULL,
		    "/var/lib/bulkjobs/artifacts/", arts_slash,
		    "/etc/bulkjobs/htpasswd", htpasswd, NULL };
		char target[80];
		snprintf(target, sizeof target, "unix:%s", sock);
		subst[1] = target;
		if (copy_subst(path, inc, subst) == -1) {
			fprintf(stderr, "harness: cannot read %s\n", path);
			return -1;
		}
		/* the http-level part: the rate limit's zone */
		{
			char zsrc[700], zdst[700];
			const char *zsubst[] = { "rate=100r/s", "rate=100000r/s", NULL };
			snprintf(zsrc, sizeof zsrc, "%s/conf/nginx-http.conf", src);
			snprintf(zdst, sizeof zdst, "%s/bulkjobs-http.nginx", e->root);
			if (copy_subst(zsrc, zdst, bj_e2e_shipped_rate_limit ? zsubst + 2 : zsubst) == -1) {
				fprintf(stderr, "harness: cannot read %s\n", zsrc);
				return -1;
			}
		}
		snprintf(path, sizeof path, "%s/nginx-main.conf", e->root);
		if ((f = fopen(path, "w")) == NULL)
			return -1;
		fprintf(f, "daemon off;\nmaster_process on;\nworker_processes 2;\n%s"
		    "pid %s/nginx.pid;\nerror_log %s/nginx-error.log;\n"
		    "events { worker_connections 512; }\n"
		    "http {\n  access_log %s/nginx-access.log;\n"
		    "  client_body_temp_path %s/nx-body;\n  fastcgi_temp_path %s/nx-fcgi;\n"
		    "  proxy_temp_path %s/nx-proxy;\n  uwsgi_temp_path %s/nx-uwsgi;\n"
		    "  scgi_temp_path %s/nx-scgi;\n  include %s/bulkjobs-http.nginx;\n"
		    "  server {\n    listen 127.0.0.1:%d;\n    include %s;\n  }\n}\n",
		    geteuid() == 0 ? "user root root;\n" : "",
		    e->root, e->root, e->root, e->root, e->root, e->root, e->root, e->root,
		    e->root, e->port, inc);
		fclose(f);
	}
	snprintf(fcgi, sizeof fcgi, "%s/fcgi/bulkjobs-fcgi", bld);
	{
		char *args[] = { fcgi, "-c", e->conf_path, "--listen", sock, "--processes", "4",
		    "--socket-mode", "0666", NULL };
		char *argv[WRAPPER_WORDS + 10], log[1300];
		size_t n = wrapper_argv(argv, WRAPPER_WORDS);
		if (mode == BJ_E2E_STDIN_SOCKET)
			args[3] = NULL;
		for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
			argv[n + i] = args[i];
		snprintf(log, sizeof log, "%s/fcgi.log", e->root);
		if (mode == BJ_E2E_STDIN_SOCKET)
			e->fcgi_pid = spawn_on_socket(argv, sock, log);
		else
			e->fcgi_pid = bj_test_spawn(argv, log);
		if (e->fcgi_pid <= 0)
			return -1;
	}
	{
		char nx[600], log[700];
		snprintf(nx, sizeof nx, "%s", nginx);
		snprintf(port_s, sizeof port_s, "%d", e->port);
		char *argv[] = { nx, "-p", e->root, "-c", path, NULL };
		snprintf(log, sizeof log, "%s/nginx.out", e->root);
		e->nginx_pid = bj_test_spawn(argv, log);
	}
	running = e;
	atexit(stop_at_exit);
	/* wait until /healthz answers through nginx */
	http_quiet = 1;
	for (int i = 0; i < (wrapped() ? 1200 : 200); i++) {
		struct bj_http_reply r;
		char url[300];
		if (waitpid(e->fcgi_pid, NULL, WNOHANG) == e->fcgi_pid) {
			e->fcgi_pid = 0;	/* it is gone: a bad option, config or wrapper */
			break;
		}
		snprintf(url, sizeof url, "%s/healthz", e->url);
		if (bj_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200) {
			bj_http_reply_free(&r);
			http_quiet = 0;
			return 0;
		}
		bj_http_reply_free(&r);
		usleep(50000);
	}
	http_quiet = 0;
	fprintf(stderr, "harness: nginx + bulkjobs-fcgi did not come up; see %s\n", e->root);
	return -1;
}

/* Fail the run if a server's log holds an ASan, LSan or UBSan report. */
static void
check_server_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int found = 0;

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, "AddressSanitizer") || strstr(line, "LeakSanitizer") ||
		    strstr(line, "runtime error:"))
			found = 1;
		if (found)
			fputs(line, stderr);
	}
	fclose(f);
	if (found) {
		fprintf(stderr, "harness: sanitizer report in %s\n", path);
		server_reports++;
	}
}

void
bj_e2e_stop(struct bj_e2e *e)
{
	char log[1300];

	int pids[2] = { e->nginx_pid, e->fcgi_pid };

	for (int i = 0; i < 2; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGTERM);
		/* under valgrind, each process writes its leak report as it ends */
		for (int k = 0; k < (wrapped() ? 1200 : 100); k++) {
			if (waitpid(pids[i], NULL, WNOHANG) != 0)
				break;
			usleep(50000);
		}
		kill(-pids[i], SIGKILL);
		waitpid(pids[i], NULL, WNOHANG);
	}
	if (e->root[0] != '\0') {
		snprintf(log, sizeof log, "%s/fcgi.log", e->root);
		check_server_log(log);
	}
	e->nginx_pid = e->fcgi_pid = 0;
	if (running == e)
		running = NULL;
}

char *
bj_e2e_ctl(struct bj_e2e *e, const char *args, int *exit_status)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char *cmd = bj_xasprintf("%s/ctl/bulkjobsctl -c '%s' %s", bld ? bld : ".", e->conf_path, args);
	FILE *p = popen(cmd, "r");
	char line[1024], last[1024] = "";
	int st;

	free(cmd);
	if (p == NULL)
		return NULL;
	while (fgets(line, sizeof line, p) != NULL)
		snprintf(last, sizeof last, "%s", line);
	st = pclose(p);
	if (exit_status)
		*exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	last[strcspn(last, "\n")] = '\0';
	return bj_xstrdup(last);
}

int
bj_e2e_htpasswd(struct bj_e2e *e, const char *user)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char path[700], *pw = bj_xasprintf("%s-pw", user), *b64;
	FILE *f;

	SHA1((const unsigned char *)pw, strlen(pw), md);
	free(pw);
	snprintf(path, sizeof path, "%s/htpasswd", e->root);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	b64 = bj_base64(md, sizeof md, 0);
	fprintf(f, "%s:{SHA}%s\n", user, b64);
	free(b64);
	return fclose(f) == 0 ? 0 : -1;
}

/* --- programs the e2e tests run ----------------------------------------- */

pid_t
bj_e2e_worker(struct bj_e2e *e, const char *token, const char *logname,
    const char *const *args)
{
	const char *bld = getenv("BJ_BUILDDIR");
	char bin[600], log[800];
	const char *argv[40];
	int n = 0;
	pid_t pid;

	snprintf(bin, sizeof bin, "%s/worker/bulkjobs-worker", bld ? bld : ".");
	snprintf(log, sizeof log, "%s/%s.log", e->root, logname);
	argv[n++] = bin;
	argv[n++] = "--url";
	argv[n++] = e->url;
	argv[n++] = "-v";
	for (int i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		setenv("BULKJOBS_TOKEN", token, 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int
bj_test_child_wait(pid_t pid, int limit)
{
	int st;

	for (int i = 0; i < limit * 20; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

long long
bj_test_scalarf(struct bj_db *db, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	return bj_test_scalar(db, sql);
}

int
bj_test_wait_scalarf(struct bj_db *db, long long want, int limit, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	for (int i = 0; i < limit * 20; i++) {
		if (bj_test_scalar(db, sql) == want)
			return 0;
		usleep(50000);
	}
	fprintf(stderr, "timed out waiting for %lld from: %s\n", want, sql);
	return -1;
}

long
bj_e2e_call(struct bj_e2e *e, const char *method, const char *path, const char *token,
    const char *extra_header, const char *body, size_t len, struct json_object **obj)
{
	char *url = bj_xasprintf("%s%s", e->url, path), auth[300];
	const char *h[4];
	struct bj_http_reply r;
	long status = -1;
	int n = 0;

	if (obj != NULL)
		*obj = NULL;
	if (token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		h[n++] = auth;
	}
	if (body != NULL)
		h[n++] = "Content-Type: application/json";
	if (extra_header != NULL)
		h[n++] = extra_header;
	h[n] = NULL;
	if (bj_http(method, url, h, body, len, &r) == 0) {
		status = r.status;
		if (obj != NULL)
			*obj = json_tokener_parse(r.body);
	}
	bj_http_reply_free(&r);
	free(url);
	return status;
}

long
bj_e2e_api(struct bj_e2e *e, const char *token, const char *method, const char *path,
    const char *body, struct json_object **obj)
{
	return bj_e2e_call(e, method, path, token, NULL, body, body ? strlen(body) : 0, obj);
}

char *
bj_e2e_token(struct bj_e2e *e, const char *name, const char *scope, const char *owner)
{
	char *args = bj_xasprintf("token create --name %s --scope %s%s%s", name, scope,
	    owner ? " --owner " : "", owner ? owner : "");
	int st = -1;
	char *t = bj_e2e_ctl(e, args, &st);

	if (t == NULL || st != 0) {
		fprintf(stderr, "harness: bulkjobsctl %s: exit status %d\n", args, st);
		free(t);
		t = NULL;
	}
	free(args);
	return t;
}

long long
bj_e2e_submit(struct bj_e2e *e, const char *token, const char *body)
{
	struct json_object *obj = NULL;
	long long id = -1;
	long st = bj_e2e_api(e, token, "POST", "/v1/jobs", body, &obj);

	if (st != 201 || obj == NULL || bj_json_int(obj, "id", &id) != 1) {
		id = -1;
		fprintf(stderr, "harness: POST /v1/jobs: HTTP %ld for %s\n", st, body);
	}
	json_object_put(obj);
	return id;
}

struct json_object *
bj_e2e_job(struct bj_e2e *e, const char *token, long long id)
{
	char path[64];
	struct json_object *obj = NULL;

	snprintf(path, sizeof path, "/v1/jobs/%lld", id);
	if (bj_e2e_api(e, token, "GET", path, NULL, &obj) != 200) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

int
bj_e2e_wait_state(struct bj_e2e *e, const char *token, long long id, const char *state,
    int limit)
{
	char last[64] = "nothing";

	for (int i = 0; i < limit * 10; i++) {
		struct json_object *j = bj_e2e_job(e, token, id);
		const char *now = j != NULL ? bj_json_str(j, "state") : NULL;
		int hit = 0;

		if (now != NULL) {
			snprintf(last, sizeof last, "%s", now);
			hit = strcmp(now, state) == 0;
		}
		json_object_put(j);
		if (hit)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "harness: job %lld is %s after %d s, not %s\n", id, last, limit, state);
	return -1;
}

struct json_object *
bj_test_json_get(struct json_object *o, const char *path)
{
	char buf[128], *p, *save = NULL;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, p, &o))
			return NULL;
	return o;
}

const char *
bj_test_error_code(struct json_object *o)
{
	struct json_object *c = bj_test_json_get(o, "error.code");

	return c != NULL ? json_object_get_string(c) : "";
}

void
bj_test_assert_counts(struct bj_db *db, long long job)
{
	static const char *const st[] = { "pending", "claimed", "succeeded", "failed", "cancelled" };
	struct bj_job *j;
	long long have[5];

	CU_ASSERT_EQUAL_FATAL(bj_job_get(db, job, &j), BJ_OK);
	have[0] = j->n_pending;
	have[1] = j->n_claimed;
	have[2] = j->n_succeeded;
	have[3] = j->n_failed;
	have[4] = j->n_cancelled;
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(have[i], bj_test_scalarf(db, "SELECT COUNT(*) FROM items"
		    " WHERE job_id = %lld AND state = '%s'", job, st[i]));
	bj_job_free(j);
}
