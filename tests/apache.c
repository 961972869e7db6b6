/* apache.c: Debian's apache2 started on loopback for the e2e suites (see apache.h). */
#include "config.h"

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
	char path[900], arts[700], htpasswd[700], log[900], *text;
	FILE *f;
	pid_t pid;

	memset(a, 0, sizeof *a);
	if (src == NULL)
		return -1;
	snprintf(a->root, sizeof a->root, "%s/apache%s", e->root, xsendfile ? "-xs" : "");
	mkdir(a->root, 0755);
	a->port = bj_test_free_port();
	snprintf(a->url, sizeof a->url, "http://127.0.0.1:%d/bulkjobs", a->port);

	/* conf/apache.conf as shipped, with the test's paths */
	snprintf(path, sizeof path, "%s/conf/apache.conf", src);
	if ((text = bj_test_slurp(path, NULL)) == NULL)
		return -1;
	snprintf(arts, sizeof arts, "%s/artifacts", e->root);
	snprintf(htpasswd, sizeof htpasswd, "%s/htpasswd", e->root);
	bj_test_subst(&text, "/run/bulkjobs/fcgi.sock", e->sock);
	bj_test_subst(&text, "/var/lib/bulkjobs/artifacts", arts);
	bj_test_subst(&text, "/etc/bulkjobs/htpasswd", htpasswd);
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
	{
		char *argv[] = { "/usr/sbin/apache2", "-f", path, "-DFOREGROUND", NULL };
		pid = bj_test_spawn(argv, log);
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
