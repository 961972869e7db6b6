/*
 * runner.c: one command per claimed item, run through /bin/sh -c.
 *
 * The command gets the payload on stdin, its stdout is kept (bounded) for
 * the result, the last bytes of stderr for the error, and lines written
 * to fd 3 report progress. It leads its own process group so that
 * stopping it also stops whatever it started. Nothing here blocks: the
 * worker's loop polls the descriptors and calls bj_run_io().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "worker.h"

/* After the shell exits, how long to wait for its children to close our pipes. */
#define PIPE_GRACE	2.0
/* Longest fd 3 line worth parsing. */
#define PROG_LINE_MAX	256

/* Parse one fd 3 line: "progress DONE TOTAL", numbers non-negative, DONE <= TOTAL. */
int
bj_progress_parse(const char *line, long long *done, long long *total)
{
	const char *p = line;
	long long v[2];

	if (strncmp(p, "progress", 8) != 0)
		return -1;
	p += 8;
	for (int i = 0; i < 2; i++) {
		char *end;

		if (*p != ' ' && *p != '\t')
			return -1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v[i] = strtoll(p, &end, 10);
		if (errno != 0)
			return -1;
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '\0' || v[0] > v[1])
		return -1;
	*done = v[0];
	*total = v[1];
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return s[0] == 0 ? 0 : 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Copy s as valid UTF-8: the server refuses JSON that is not, so a stray byte must not lose a report. */
char *
bj_utf8_clean(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	struct bj_buf b = { 0 };
	size_t i = 0;

	while (i < n) {
		size_t len = utf8_seq(u + i, n - i);
		if (len == 0) {
			bj_buf_addc(&b, '?');
			i++;
		} else {
			bj_buf_add(&b, u + i, len);
			i += len;
		}
	}
	return bj_buf_steal(&b);
}

/* Move fd to a number of at least 10, close-on-exec, so dup2 onto 0..3 cannot collide. */
static int
high_fd(int fd)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	close(fd);
	return n;
}

/* 1 when the NAME=value entries a and b have the same name. */
static int
same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return a[n] == '=' && strncmp(a, b, n + 1) == 0;
}

/*
 * The command's environment, built before the fork: the worker's own
 * without BULKJOBS_TOKEN (its credential is not the command's business),
 * with env's NAME=value entries in place of any of the same name. The
 * array is the caller's to free, not the strings.
 */
static char **
child_env(char *const *env)
{
	extern char **environ;
	size_t n = 0, extra = 0, k = 0;
	char **out;

	while (environ[n] != NULL)
		n++;
	while (env != NULL && env[extra] != NULL)
		extra++;
	out = bj_xreallocarray(NULL, n + extra + 1, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		int keep = !same_name("BULKJOBS_TOKEN=", environ[i]);

		for (size_t j = 0; j < extra && keep; j++)
			keep = !same_name(env[j], environ[i]);
		if (keep)
			out[k++] = environ[i];
	}
	for (size_t j = 0; j < extra; j++)
		if (strchr(env[j], '=') != NULL)
			out[k++] = env[j];
	out[k] = NULL;
	return out;
}

/* Write "MSG (errno N)" to fd 2 with async-signal-safe calls only. */
static void
child_fail(const char *msg, int err)
{
	char num[16];
	size_t i = sizeof num;

	num[--i] = '\n';
	num[--i] = ')';
	do {
		num[--i] = (char)('0' + err % 10);
		err /= 10;
	} while (err > 0 && i > 0);
	(void)!write(2, msg, strlen(msg));
	(void)!write(2, " (errno ", 8);
	(void)!write(2, num + i, sizeof num - i);
	_exit(127);
}

/*
 * In the child: wire the pipes to 0..3, reset signals, exec with envp.
 * Between fork and exec only async-signal-safe calls: what needs memory
 * was made before the fork.
 */
static void
child(char *const *argv, char *const *envp, int in, int out, int err, int prog, int maxfd)
{
	sigset_t none;

	setpgid(0, 0);
	in = high_fd(in);
	out = high_fd(out);
	err = high_fd(err);
	prog = high_fd(prog);
	if (in < 0 || out < 0 || err < 0 || prog < 0 ||
	    dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1 ||
	    dup2(prog, 3) == -1)
		_exit(127);
	/* nothing else the worker inherited leaks into the command */
#ifdef HAVE_CLOSE_RANGE
	(void)maxfd;
	close_range(4, ~0U, 0);
#else
	for (int fd = 4; fd < maxfd; fd++)
		close(fd);
#endif
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", argv, envp);
	child_fail("bulkjobs-worker: cannot run /bin/sh", errno);
}

/* Start command with input on its stdin; 0, or -1 with errno. */
int
bj_run_start(struct bj_run *r, const char *command, char *const *env,
    const char *input, size_t input_len)
{
	char *argv[] = { "sh", "-c", (char *)(uintptr_t)command, NULL };
	char **envp;
	long open_max = sysconf(_SC_OPEN_MAX);
	int p[4][2], i, saved, maxfd = open_max > 0 ? (int)open_max : 1024;
	pid_t pid;

	memset(r, 0, sizeof *r);
	r->fd_in = r->fd_out = r->fd_err = r->fd_prog = -1;
	r->total = -1;
	for (i = 0; i < 4; i++)
		if (pipe2(p[i], O_CLOEXEC) == -1)
			goto fail;
	envp = child_env(env);
	if ((pid = fork()) == -1) {
		free(envp);
		goto fail;
	}
	if (pid == 0) {
		close(p[0][1]);
		close(p[1][0]);
		close(p[2][0]);
		close(p[3][0]);
		child(argv, envp, p[0][0], p[1][1], p[2][1], p[3][1], maxfd);
	}
	free(envp);
	setpgid(pid, pid);	/* also here, so a stop right away reaches the group */
	close(p[0][0]);
	close(p[1][1]);
	close(p[2][1]);
	close(p[3][1]);
	r->pid = pid;
	r->fd_in = p[0][1];
	r->fd_out = p[1][0];
	r->fd_err = p[2][0];
	r->fd_prog = p[3][0];
	fcntl(r->fd_in, F_SETFL, O_NONBLOCK);
	fcntl(r->fd_out, F_SETFL, O_NONBLOCK);
	fcntl(r->fd_err, F_SETFL, O_NONBLOCK);
	fcntl(r->fd_prog, F_SETFL, O_NONBLOCK);
	r->in = input;
	r->in_len = input_len;
	if (input_len == 0) {
		close(r->fd_in);
		r->fd_in = -1;
	}
	return 0;
fail:
	saved = errno;
	while (--i >= 0) {
		close(p[i][0]);
		close(p[i][1]);
	}
	errno = saved;
	return -1;
}

/* Add r's open descriptors to pfd (room for 4). */
int
bj_run_pollfds(const struct bj_run *r, struct pollfd *pfd)
{
	int n = 0;

	if (r->fd_in >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->fd_in, .events = POLLOUT };
	if (r->fd_out >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->fd_out, .events = POLLIN };
	if (r->fd_err >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->fd_err, .events = POLLIN };
	if (r->fd_prog >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->fd_prog, .events = POLLIN };
	return n;
}

/* Close fd if open and mark it closed. */
static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Keep the last bytes of stderr in a ring. */
static void
tail_add(struct bj_run *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		r->tail[r->tail_pos] = p[i];
		r->tail_pos = (r->tail_pos + 1) % sizeof r->tail;
		if (r->tail_len < sizeof r->tail)
			r->tail_len++;
	}
}

/* Take the complete fd 3 lines in n bytes; the last valid one wins. */
static void
prog_add(struct bj_run *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			/* an over-long line is garbage: keep its start, ignore the rest */
			if (r->prog_line.len < PROG_LINE_MAX)
				bj_buf_addc(&r->prog_line, p[i]);
			continue;
		}
		if (r->prog_line.data != NULL && r->prog_line.len < PROG_LINE_MAX) {
			long long d, t;
			if (bj_progress_parse(r->prog_line.data, &d, &t) == 0) {
				r->done = d;
				r->total = t;
			}
		}
		bj_buf_reset(&r->prog_line);
	}
}

/* Read what fd has; 1 while it stays open. */
static int
drain(struct bj_run *r, int fd)
{
	char chunk[8192];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0)
			return 0;
		if (fd == r->fd_out) {
			size_t room = BJ_RUN_STDOUT_MAX - r->out.len;
			if ((size_t)n > room) {
				r->out_truncated = 1;
				n = (ssize_t)room;
			}
			bj_buf_add(&r->out, chunk, (size_t)n);
		} else if (fd == r->fd_err)
			tail_add(r, chunk, (size_t)n);
		else
			prog_add(r, chunk, (size_t)n);
	}
}

/* Write more of the payload; close stdin when done or when the command stops reading. */
static void
feed(struct bj_run *r)
{
	while (r->in_off < r->in_len) {
		ssize_t n = write(r->fd_in, r->in + r->in_off, r->in_len - r->in_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;	/* EPIPE: the command does not want its stdin */
		r->in_off += (size_t)n;
	}
	close_fd(&r->fd_in);
}

/* Move data for whatever is ready, then reap the shell if it ended. */
void
bj_run_io(struct bj_run *r, const struct pollfd *pfd, int npfd, double now)
{
	for (int i = 0; i < npfd; i++) {
		int fd = pfd[i].fd;

		if (pfd[i].revents == 0)
			continue;
		if (fd == r->fd_in)
			feed(r);
		else if (fd == r->fd_out && !drain(r, fd))
			close_fd(&r->fd_out);
		else if (fd == r->fd_err && !drain(r, fd))
			close_fd(&r->fd_err);
		else if (fd == r->fd_prog && !drain(r, fd))
			close_fd(&r->fd_prog);
	}
	if (!r->exited && r->pid > 0 && waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
		r->exited = 1;
		r->exited_at = now;
		close_fd(&r->fd_in);
		/*
		 * Read what the pipes hold right away: unless something the
		 * command left behind keeps them open, this reaches their end
		 * and the run is finished now, so that its outcome is reported
		 * before anything else is done for it (a worker resumed after a
		 * SIGSTOP would otherwise heartbeat first and drop the outcome).
		 */
		if (r->fd_out >= 0 && !drain(r, r->fd_out))
			close_fd(&r->fd_out);
		if (r->fd_err >= 0 && !drain(r, r->fd_err))
			close_fd(&r->fd_err);
		if (r->fd_prog >= 0 && !drain(r, r->fd_prog))
			close_fd(&r->fd_prog);
	}
}

/* Ended and collected: the pipes are closed, or the shell's leftovers kept them open too long. */
int
bj_run_finished(struct bj_run *r, double now)
{
	if (!r->exited)
		return 0;
	if (r->fd_out < 0 && r->fd_err < 0 && r->fd_prog < 0)
		return 1;
	if (now - r->exited_at < PIPE_GRACE)
		return 0;
	/* something the command left behind holds the pipes: collect what is there, stop it */
	if (r->fd_out >= 0)
		drain(r, r->fd_out);
	if (r->fd_err >= 0)
		drain(r, r->fd_err);
	if (r->fd_prog >= 0)
		drain(r, r->fd_prog);
	kill(-r->pid, SIGKILL);
	close_fd(&r->fd_out);
	close_fd(&r->fd_err);
	close_fd(&r->fd_prog);
	return 1;
}

/* SIGTERM the whole process group now, SIGKILL after grace seconds. */
void
bj_run_stop(struct bj_run *r, double now, double grace)
{
	if (r->pid <= 0 || r->kill_at != 0)
		return;
	kill(-r->pid, SIGTERM);
	r->kill_at = now + grace;
}

/* The SIGKILL that follows an ignored SIGTERM. */
void
bj_run_tick(struct bj_run *r, double now)
{
	if (r->kill_at > 0 && now >= r->kill_at) {
		kill(-r->pid, SIGKILL);
		r->kill_at = -1;
	}
}

/* The stderr tail as clean text, without a UTF-8 sequence cut at its start or trailing newlines. */
static char *
tail_text(const struct bj_run *r)
{
	char buf[BJ_RUN_STDERR_TAIL];
	size_t start = (r->tail_pos + sizeof r->tail - r->tail_len) % sizeof r->tail;
	size_t n = r->tail_len, skip = 0;

	for (size_t i = 0; i < n; i++)
		buf[i] = r->tail[(start + i) % sizeof r->tail];
	if (r->tail_len == sizeof r->tail)
		while (skip < 3 && skip < n && ((unsigned char)buf[skip] & 0xc0) == 0x80)
			skip++;
	while (n > skip && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	return bj_utf8_clean(buf + skip, n - skip);
}

/*
 * How the run ended. A shell reports a child killed by signal N as exit
 * 128+N, so those count as deaths by signal too.
 */
enum bj_outcome
bj_run_outcome(const struct bj_run *r, char **error)
{
	enum bj_outcome o;
	char *tail = tail_text(r);
	int sig = 0, code = -1;

	if (WIFSIGNALED(r->status))
		sig = WTERMSIG(r->status);
	else if (WIFEXITED(r->status)) {
		code = WEXITSTATUS(r->status);
		if (code > 128 && code <= 128 + 64)
			sig = code - 128;
	}
	if (code == 0)
		o = BJ_OUT_COMPLETE;
	else if (code == 75 || sig != 0)
		o = BJ_OUT_RETRY;
	else
		o = BJ_OUT_FAIL;
	if (o == BJ_OUT_COMPLETE)
		*error = NULL;
	else if (*tail != '\0')
		*error = bj_xstrdup(tail);
	else if (sig != 0)
		*error = bj_xasprintf("command killed by signal %d (%s)", sig, strsignal(sig));
	else
		*error = bj_xasprintf("command exited with status %d", code);
	free(tail);
	return o;
}

/* Find a JSON object in text: all of it, or else its last non-empty line. */
static struct json_object *
find_object(const char *text, size_t len)
{
	struct json_object *obj;
	enum bj_err err;
	const char *why, *line;
	size_t n = len;

	obj = bj_json_parse(text, len, 64, &err, &why);
	if (obj != NULL && json_object_is_type(obj, json_type_object))
		return obj;
	json_object_put(obj);
	while (n > 0 && strchr(" \t\r\n", text[n - 1]) != NULL)
		n--;
	line = text + n;
	while (line > text && line[-1] != '\n')
		line--;
	if (line == text || n == 0)
		return NULL;
	obj = bj_json_parse(line, (size_t)(text + n - line), 64, &err, &why);
	if (obj != NULL && json_object_is_type(obj, json_type_object))
		return obj;
	json_object_put(obj);
	return NULL;
}

/* The result object from stdout as JSON text, and its "artifact" string member. */
void
bj_run_result(const struct bj_run *r, char **result, char **artifact)
{
	struct json_object *obj;
	const char *a;

	*result = *artifact = NULL;
	if (r->out.len == 0 || r->out_truncated)
		return;
	if ((obj = find_object(r->out.data, r->out.len)) == NULL)
		return;
	*result = bj_xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if ((a = bj_json_str(obj, "artifact")) != NULL)
		*artifact = bj_xstrdup(a);
	json_object_put(obj);
}

/* Release the pipes and buffers; the child must have been reaped or stopped. */
void
bj_run_free(struct bj_run *r)
{
	close_fd(&r->fd_in);
	close_fd(&r->fd_out);
	close_fd(&r->fd_err);
	close_fd(&r->fd_prog);
	bj_buf_free(&r->out);
	bj_buf_free(&r->prog_line);
	if (!r->exited && r->pid > 0) {
		/* reap it if it is gone already; otherwise it stays our zombie to reap later */
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			r->exited = 1;
	}
}
