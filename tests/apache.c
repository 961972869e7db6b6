/* apache.c: Debian's apache2 started on loopback for the e2e suites (see apache.h). */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apache.h"
#include "buf.h"

#define MODDIR "/usr/lib/apache2/modules"

/* A whole file as a string, or NULL. */
static char *
slurp(const char *path)
{
	struct bj_buf b = { 0 };
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		bj_buf_add(&b, chunk, n);
	fclose(f);
	return bj_buf_steal(&b);
}

/* Replace every from with to in *s. */
static void
subst(char **s, const char *from, const char *to)
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

/* The FastCGI socket the harness gave nginx (from its generated include). */
static int
fcgi_socket(const struct bj_e2e *e, char *out, size_t n)
{
	char path[700], *text, *p;
	size_t len;

	snprintf(path, sizeof path, "%s/bulkjobs.nginx", e->root);
	if ((text = slurp(path)) == NULL)
		return -1;
	p = strstr(text, "fastcgi_pass unix:");
	if (p == NULL) {
		free(text);
		return -1;
	}
	p += strlen("fastcgi_pass unix:");
	len = strcspn(p, ";");
	snprintf(out, n, "%.*s", (int)len, p);
	free(text);
	return 0;
}

/* Debian's module directory holds mod_xsendfile. */
int
bj_apache_has_xsendfile(void)
{
	return access(MODDIR "/mod_xsendfile.so", R_OK) == 0;
}

/* Write httpd.conf around conf/apache.conf and wait for /healthz through it. */
int
bj_apache_start(struct bj_apache *a, const struct bj_e2e *e, int xsendfile)
{
	const char *src = getenv("BJ_SRCDIR");
	char path[900], sock[256], arts[700], htpasswd[700], log[900], *text;
	FILE *f;
	pid_t pid;

	memset(a, 0, sizeof *a);
	if (src == NULL || fcgi_socket(e, sock, sizeof sock) == -1)
		return -1;
	snprintf(a->root, sizeof a->root, "%s/apache%s", e->root, xsendfile ? "-xs" : "");
	mkdir(a->root, 0755);
	a->port = bj_test_free_port();
	snprintf(a->url, sizeof a->url, "http://127.0.0.1:%d/bulkjobs", a->port);

	/* conf/apache.conf as shipped, with the test's paths */
	snprintf(path, sizeof path, "%s/conf/apache.conf", src);
	if ((text = slurp(path)) == NULL)
		return -1;
	snprintf(arts, sizeof arts, "%s/artifacts", e->root);
	snprintf(htpasswd, sizeof htpasswd, "%s/htpasswd", e->root);
	subst(&text, "/run/bulkjobs/fcgi.sock", sock);
	subst(&text, "/var/lib/bulkjobs/artifacts", arts);
	subst(&text, "/etc/bulkjobs/htpasswd", htpasswd);
	snprintf(path, sizeof path, "%s/bulkjobs.apache", a->root);
	if ((f = fopen(path, "w")) == NULL) {
		free(text);
		return -1;
	}
	fputs(text, f);
	fclose(f);
	free(text);

	snprintf(path, sizeof path, "%s/httpd.conf", a->root);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "ServerRoot %s\nServerName 127.0.0.1\nListen 127.0.0.1:%d\n"
	    "PidFile %s/apache.pid\nErrorLog %s/apache-error.log\nLogLevel warn\n"
	    "DefaultRuntimeDir %s\nMutex file:%s default\n"
	    "LoadModule mpm_event_module " MODDIR "/mod_mpm_event.so\n"
	    "LoadModule authz_core_module " MODDIR "/mod_authz_core.so\n"
	    "LoadModule authz_user_module " MODDIR "/mod_authz_user.so\n"
	    "LoadModule authn_core_module " MODDIR "/mod_authn_core.so\n"
	    "LoadModule authn_file_module " MODDIR "/mod_authn_file.so\n"
	    "LoadModule auth_basic_module " MODDIR "/mod_auth_basic.so\n"
	    "LoadModule alias_module " MODDIR "/mod_alias.so\n"
	    "LoadModule proxy_module " MODDIR "/mod_proxy.so\n"
	    "LoadModule proxy_fcgi_module " MODDIR "/mod_proxy_fcgi.so\n"
	    "%s"
	    "StartServers 1\nServerLimit 1\nThreadsPerChild 8\nMaxRequestWorkers 8\n"
	    "%s"
	    "<VirtualHost 127.0.0.1:%d>\n  Include %s/bulkjobs.apache\n</VirtualHost>\n",
	    a->root, a->port, a->root, a->root, a->root, a->root,
	    xsendfile ? "LoadModule xsendfile_module " MODDIR "/mod_xsendfile.so\n" : "",
	    geteuid() == 0 ? "User www-data\nGroup www-data\n" : "",
	    a->port, a->root);
	fclose(f);

	snprintf(log, sizeof log, "%s/apache.out", a->root);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		char *argv[] = { "/usr/sbin/apache2", "-f", path, "-DFOREGROUND", NULL };
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	a->pid = (int)pid;
	for (int i = 0; i < 200; i++) {
		struct bj_http_reply r;
		char url[300];
		snprintf(url, sizeof url, "%s/healthz", a->url);
		if (bj_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200) {
			bj_http_reply_free(&r);
			return 0;
		}
		bj_http_reply_free(&r);
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			a->pid = 0;
			break;
		}
		usleep(50000);
	}
	fprintf(stderr, "apache: did not come up; see %s\n", a->root);
	bj_apache_stop(a);
	return -1;
}

/* Stop apache2 and all its children. */
void
bj_apache_stop(struct bj_apache *a)
{
	if (a->pid <= 0)
		return;
	kill(a->pid, SIGTERM);
	for (int k = 0; k < 100; k++) {
		if (waitpid(a->pid, NULL, WNOHANG) != 0)
			break;
		usleep(50000);
	}
	kill(-a->pid, SIGKILL);
	waitpid(a->pid, NULL, WNOHANG);
	a->pid = 0;
}
