/*
 * baseline_fcgi.c: the physical limit for a status read through nginx: a
 * minimal libfcgi program that answers GET ?id=N with one indexed
 * primary-key SELECT on jobs and a fixed-shape JSON. bench/run serves it
 * behind the same nginx as bulkjobs-fcgi and divides the two rates.
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

static void
serve(int fd, const char *dbsock, const char *dbname)
{
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
	FCGX_InitRequest(&r, fd, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		const char *qs = FCGX_GetParam("QUERY_STRING", r.envp);
		const char *p = qs ? strstr(qs, "id=") : NULL;
		int found = 0;

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
