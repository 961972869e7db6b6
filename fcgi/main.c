/*
 * main.c: bulkjobs-fcgi, the FastCGI program.
 *
 * Three ways to run: under spawn-fcgi / mod_fcgid / a systemd socket (the
 * listening socket is fd 0), or standalone with --listen and a prefork of
 * --processes children. Each process holds one database connection and
 * serves one request at a time. SIGTERM lets the request in hand finish.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <mysql.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "router.h"
#include "tally.h"

static volatile sig_atomic_t stopping;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bulkjobs-fcgi [-c FILE] [-v] [--listen PATH|HOST:PORT]\n"
	    "                     [--processes N] [--socket-mode OCTAL]\n"
	    "Without --listen, the listening socket must be on standard input\n"
	    "(spawn-fcgi, mod_fcgid, systemd socket activation).\n");
}

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

/* Install handler for sig without SA_RESTART, so accept() is interrupted. */
static void
catch_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * Whether all of the request's input has been read. A request without a
 * body (GET or HEAD, no length, not chunked) still has to have its empty
 * input read: the web server sends it with the parameters, so reading it
 * does not wait.
 */
static int
input_done(FCGX_Request *fr)
{
	const char *m = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	int no_body = m != NULL && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) &&
	    (cl == NULL || *cl == '\0' || strcmp(cl, "0") == 0) &&
	    FCGX_GetParam("HTTP_TRANSFER_ENCODING", fr->envp) == NULL;

	if (FCGX_HasSeenEOF(fr->in))
		return 1;
	return no_body && FCGX_GetChar(fr->in) == EOF && FCGX_GetError(fr->in) == 0;
}

/*
 * End a request. libfcgi closes a connection by shutting its side down
 * and waiting (up to 2 s) for the web server to close the other, so that
 * input still unread cannot make the close a reset that loses the reply:
 * one more sleep and wake-up of this process per request. Once the input
 * has been read to its end and nothing more is queued, there is nothing
 * such a reset could lose, and the connection is closed at once.
 */
static void
finish(FCGX_Request *fr)
{
	int queued = -1;

	if (input_done(fr) && ioctl(fr->ipcFd, FIONREAD, &queued) == 0 && queued == 0)
		FCGX_Detach(fr);
	FCGX_Finish_r(fr);
}

/* Serve requests on listen_fd until told to stop. */
static int
serve(struct bj_conf *conf, int listen_fd)
{
	struct bj_app app;
	FCGX_Request fr;
	struct bj_req req;

	catch_signal(SIGTERM, on_term);
	catch_signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	memset(&app, 0, sizeof app);
	bj_tally_set_sink(bj_metrics_tally);
	app.conf = conf;
	app.db = bj_db_new(conf);
	bj_db_set_failback(app.db, 1);
	if (bj_db_connect(app.db) == -1)
		bj_log_warn("database not reachable yet: %s", bj_db_error(app.db));
	if (FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
		bj_log_err("FCGX_InitRequest failed");
		return EX_OSERR;
	}
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		double t0 = bj_now();

		memset(&req, 0, sizeof req);
		req.app = &app;
		req.fcgx = &fr;
		bj_dispatch(&req);
		if (bj_db_in_tx(app.db))
			bj_db_rollback(app.db);
		bj_metrics_observe(req.route, req.status, bj_now() - t0);
		bj_req_end(&req);
		finish(&fr);
	}
	FCGX_Free(&fr, 1);
	bj_db_free(app.db);
	return 0;
}

/* SIGCHLD only has to end sigsuspend(). */
static void
on_child(int sig)
{
	(void)sig;
}

/* Start a child serving fd for each free slot of kids; signals stay blocked in the parent. */
static void
start_kids(struct bj_conf *conf, int fd, pid_t *kids, int n, const sigset_t *old)
{
	for (int i = 0; i < n && !stopping; i++) {
		pid_t pid;

		if (kids[i] != 0)
			continue;
		if ((pid = fork()) == 0) {
			catch_signal(SIGCHLD, SIG_DFL);
			sigprocmask(SIG_SETMASK, old, NULL);
			free(kids);
			_exit(serve(conf, fd));
		}
		if (pid == -1) {
			bj_log_err("fork: %s", strerror(errno));
			sleep(1);
			continue;
		}
		kids[i] = pid;
	}
}

/*
 * Run n children serving fd; restart any that die until SIGTERM. The
 * signals are blocked except inside sigsuspend(), so one that comes
 * while the loop looks at the children is held until it waits, not lost.
 */
static int
prefork(struct bj_conf *conf, int fd, int n)
{
	pid_t *kids = bj_xcalloc((size_t)n, sizeof *kids);
	sigset_t block, old;

	catch_signal(SIGTERM, on_term);
	catch_signal(SIGINT, on_term);
	catch_signal(SIGCHLD, on_child);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!stopping) {
		int status, ended = 0;
		pid_t pid;

		start_kids(conf, fd, kids, n, &old);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (int i = 0; i < n; i++)
				if (kids[i] == pid) {
					kids[i] = 0;
					ended = 1;
					bj_log_warn("worker process %d ended (status %d); restarting",
					    (int)pid, status);
				}
		if (ended)
			usleep(100000);		/* a child that dies at once is not restarted in a spin */
		else if (!stopping)
			sigsuspend(&old);
	}
	for (int i = 0; i < n; i++)
		if (kids[i] != 0)
			kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(kids);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "processes", required_argument, NULL, 'p' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *listen_addr = NULL;
	int processes = 4, ch, fd = 0, verbose = 0;
	long mode = 0660;
	struct bj_conf conf;
	char *cause = NULL;

	while ((ch = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'v': verbose = 1; break;
		case 'l': listen_addr = optarg; break;
		case 'p': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 1024) {
				fprintf(stderr, "bulkjobs-fcgi: --processes must be 1..1024\n");
				return EX_USAGE;
			}
			processes = (int)n;
			break;
		}
		case 'm': {
			char *end;
			mode = strtol(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || mode < 0 || mode > 07777) {
				fprintf(stderr, "bulkjobs-fcgi: --socket-mode must be an octal "
				    "mode such as 0660\n");
				return EX_USAGE;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': puts(PACKAGE_STRING); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	bj_log_open("bulkjobs-fcgi", 1, 1);
	bj_log_set_verbose(verbose);
	bj_conf_defaults(&conf);
	conf_path = bj_conf_locate(conf_path);
	if (bj_conf_load(&conf, conf_path, &cause) == -1) {
		bj_log_err("%s", cause);
		free(cause);
		bj_conf_free(&conf);
		return EX_CONFIG;
	}
	if (mysql_library_init(0, NULL, NULL) != 0)
		bj_fatal("cannot initialise the MariaDB client library");
	if (FCGX_Init() != 0)
		bj_fatal("cannot initialise libfcgi");
	bj_metrics_init();
	if (listen_addr != NULL) {
		if (listen_addr[0] == '/')
			unlink(listen_addr);
		fd = FCGX_OpenSocket(listen_addr, 128);
		if (fd < 0)
			bj_fatal("cannot listen on %s", listen_addr);
		if (listen_addr[0] == '/' && chmod(listen_addr, (mode_t)mode) == -1)
			bj_fatal("chmod %s: %s", listen_addr, strerror(errno));
		bj_log_info("listening on %s with %d processes", listen_addr, processes);
		ch = prefork(&conf, fd, processes);
		if (listen_addr[0] == '/')
			unlink(listen_addr);
	} else {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		if (getsockname(0, (struct sockaddr *)&ss, &len) == -1) {
			fprintf(stderr, "bulkjobs-fcgi: standard input is not a socket; "
			    "use --listen, or run under spawn-fcgi or mod_fcgid\n");
			bj_conf_free(&conf);
			return EX_USAGE;
		}
		ch = serve(&conf, 0);
	}
	bj_conf_free(&conf);
	mysql_library_end();
	return ch;
}
