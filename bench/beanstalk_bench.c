/*
 * beanstalk_bench.c: the peer for claim_complete. W workers against one
 * beanstalkd (run with -b DIR -f 0: binlog fsynced on every write): first
 * N jobs are put, then the workers reserve + delete them all; prints the
 * items/s of the reserve+delete phase and of put+reserve+delete overall.
 *
 * usage: beanstalk_bench PORT WORKERS N
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, workers;
static long total;
static long next_put;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int
dial(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Read one reply line (and, for RESERVED, its body) into buf. */
static int
reply(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return -1;
		n++;
		if (n >= 2 && buf[n - 2] == '\r' && buf[n - 1] == '\n')
			break;
	}
	buf[n] = '\0';
	if (strncmp(buf, "RESERVED", 8) == 0) {
		long id, bytes;
		char body[256];
		sscanf(buf, "RESERVED %ld %ld", &id, &bytes);
		if (read(fd, body, (size_t)bytes + 2) < 0)
			return -1;
	}
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
putter(void *arg)
{
	int fd = dial();
	char buf[256];
	const char *body = "{\"key\":\"item\"}";

	(void)arg;
	for (;;) {
		long k;
		pthread_mutex_lock(&mu);
		k = next_put < total ? next_put++ : -1;
		pthread_mutex_unlock(&mu);
		if (k < 0)
			break;
		int n = snprintf(buf, sizeof buf, "put 0 0 60 %zu\r\n%s\r\n", strlen(body), body);
		if (write(fd, buf, (size_t)n) != n || reply(fd, buf, sizeof buf) == -1)
			exit(1);
	}
	close(fd);
	return NULL;
}

static void *
worker(void *arg)
{
	int fd = dial();
	char buf[512];
	long *done = arg;

	for (;;) {
		long id;
		if (write(fd, "reserve-with-timeout 0\r\n", 24) != 24 || reply(fd, buf, sizeof buf) == -1)
			exit(1);
		if (strncmp(buf, "RESERVED", 8) != 0)
			break;	/* TIMED_OUT: queue empty */
		sscanf(buf, "RESERVED %ld", &id);
		int n = snprintf(buf, sizeof buf, "delete %ld\r\n", id);
		if (write(fd, buf, (size_t)n) != n || reply(fd, buf, sizeof buf) == -1)
			exit(1);
		(*done)++;
	}
	close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[256];
	long done[256] = { 0 }, sum = 0;
	double t0, t1, t2;

	if (argc != 4)
		return 64;
	port = atoi(argv[1]);
	workers = atoi(argv[2]);
	total = atol(argv[3]);
	t0 = now();
	for (int i = 0; i < workers; i++)
		pthread_create(&t[i], NULL, putter, NULL);
	for (int i = 0; i < workers; i++)
		pthread_join(t[i], NULL);
	t1 = now();
	for (int i = 0; i < workers; i++)
		pthread_create(&t[i], NULL, worker, &done[i]);
	for (int i = 0; i < workers; i++)
		pthread_join(t[i], NULL);
	t2 = now();
	for (int i = 0; i < workers; i++)
		sum += done[i];
	printf("{\"items\":%ld,\"reserve_delete_per_s\":%.1f,\"put_reserve_delete_per_s\":%.1f}\n",
	    sum, sum / (t2 - t1), sum / (t2 - t0));
	return sum == total ? 0 : 1;
}
