/*
 * conf.h: the bulkjobs.conf file.
 *
 * Format: "[section]" lines, "key = value" lines, "#" comments (whole-line,
 * or after whitespace). Every key is declared in the table in conf.c with
 * its type, bounds and default; an unknown key or a bad value is an error
 * naming the file and line. A struct bj_conf owns all its strings;
 * bj_conf_free() releases them.
 */
#ifndef BJ_CONF_H
#define BJ_CONF_H

#include <stddef.h>

enum bj_download { BJ_DL_ACCEL, BJ_DL_SENDFILE, BJ_DL_STREAM };
enum bj_on_fail { BJ_ON_FAIL_JOB, BJ_ON_FAIL_CONTINUE };
enum bj_reaper_lock { BJ_REAPER_LOCK_GET_LOCK, BJ_REAPER_LOCK_TABLE };

struct bj_conf {
	char	*path;			/* the file read, or NULL for defaults */

	/* [database] */
	char	*db_socket;
	char	*db_host;
	int	 db_port;
	char	*db_user;
	char	*db_password;		/* from password or password_file */
	char	*db_password_file;
	char	*db_name;
	int	 db_connect_timeout;
	char	*db_hosts;		/* "h1:p1, h2:p2": tried in order, "" : host or socket */
	int	 db_sync_wait;		/* wsrep_sync_wait of reads that must see every node's writes */

	/* [http] */
	char	*base_path;		/* "/bulkjobs", never a trailing slash */
	char	*public_url;		/* e.g. https://example.org/bulkjobs */
	int	 public_links;
	long long max_body;		/* bytes */
	int	 max_json_depth;
	char	*default_language;
	char	*time_zone;
	char	*http_secret;		/* CSRF key material */
	int	 token_cache;		/* seconds a process trusts a looked-up API token */
	char	*admins;		/* "alice, bob": who may open the operators' console */

	/* [artifacts] */
	char	*artifacts_root;
	int	 download;		/* enum bj_download */
	char	*internal_prefix;

	/* [mail] */
	char	*mail_transport;
	char	*mail_from;

	/* [webhook] */
	char	*webhook_secret;
	int	 webhook_timeout;
	char	*webhook_allow_hosts;
	char	*webhook_deny_networks;
	char	*webhook_allow_networks;	/* internal networks webhooks may reach */
	char	*webhook_proxy;		/* "" : none, whatever the environment says */

	/* [notify] */
	char	*notify_backoff;	/* comma-separated seconds */
	int	 notify_max_attempts;
	int	 notify_parallel;

	/* [jobs] */
	int	 lease_seconds;
	int	 max_attempts;
	long long deadline_seconds;
	long long retention_seconds;
	long long purge_after_seconds;
	int	 max_items;
	int	 on_item_failure;	/* enum bj_on_fail */

	/* [claims] */
	int	 max_per_owner;		/* items of one owner claimed at once, 0: no limit */
	char	*max_per_kind;		/* "kind=N, …, *=N" (bj_conf_kind_limit) */

	/* [reaper] */
	char	*lock_name;
	int	 reaper_lock;		/* enum bj_reaper_lock: one reaper per server or per cluster */
	int	 reaper_lock_seconds;	/* the lease row's life, renewed while sweeping */
	int	 reaper_batch;
	int	 cancel_seconds;	/* per run, for ended jobs' pending rows */
	char	*notifier;
	int	 notifier_timeout;
	char	*metrics_textfile;

	/* [security] */
	int	 allow_world_readable;	/* a config with secrets that everyone may read */

	const char *secret_key;		/* the first key with a secret in the file read, or NULL */
};

/*
 * Find the config file: explicit (from -c), else $BULKJOBS_CONF, else the
 * installed default. Returns a borrowed or static string.
 */
const char *bj_conf_locate(const char *explicit_path);

/* Fill conf with defaults only (no file). */
void bj_conf_defaults(struct bj_conf *conf);

/*
 * Read path over the defaults. Returns 0, or -1 with *cause set to an
 * allocated "FILE:LINE: message" (caller frees). A file that everyone may
 * read is refused when it holds a secret ([database] password, [http]
 * secret, [webhook] secret) unless [security] allow_world_readable says so.
 */
int bj_conf_load(struct bj_conf *conf, const char *path, char **cause);

/* Parse text as if it were the file named path (used by tests and fuzzing). */
int bj_conf_parse(struct bj_conf *conf, const char *path, const char *text,
    char **cause);

void bj_conf_free(struct bj_conf *conf);

#define BJ_CONF_MAX_CLAIMED 1000000	/* the largest per-owner or per-kind limit */

/* Limits shared by the config's defaults and every job's own values. */
#define BJ_LEASE_MAX_SECONDS	86400			/* a lease: a day */
#define BJ_DEADLINE_MAX_SECONDS	(366LL * 86400)		/* a job's deadline: a year */
#define BJ_RETENTION_MAX_SECONDS (3660LL * 86400)	/* keeping artifacts and rows: ten years */

/* 1 when user (REMOTE_USER, may be NULL) is one of [http] admins. */
int bj_conf_admin(const struct bj_conf *conf, const char *user);

/* The [claims] max_per_kind limit of kind in spec (its entry, else "*"), 0 for none. */
long long bj_conf_kind_limit(const char *spec, const char *kind);

#endif
