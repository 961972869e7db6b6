/*
 * apache.h: Apache httpd (Debian's apache2) in front of a running e2e
 * bulkjobs-fcgi, for the end-to-end suites, with conf/apache.conf
 * included as shipped (paths substituted as for nginx).
 */
#ifndef BJ_TEST_APACHE_H
#define BJ_TEST_APACHE_H

#include "harness.h"

struct bj_apache {
	char	 url[256];	/* http://127.0.0.1:PORT/bulkjobs */
	char	 root[600];
	int	 port;
	int	 pid;
};

/* 1 when mod_xsendfile is installed. */
int bj_apache_has_xsendfile(void);
/*
 * Start apache2 on a free loopback port, proxying to e's bulkjobs-fcgi,
 * serving artifacts from e's artifacts directory and reading e's
 * htpasswd; xsendfile loads mod_xsendfile. Returns 0 or -1.
 */
int bj_apache_start(struct bj_apache *a, const struct bj_e2e *e, int xsendfile);
void bj_apache_stop(struct bj_apache *a);

#endif
