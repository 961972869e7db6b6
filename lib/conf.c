/*
 * conf.c: reading bulkjobs.conf into struct bj_conf.
 *
 * The table below is the single list of keys: adding a key is adding a row.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "conf.h"
#include "i18n.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

enum conf_type { T_STR, T_INT, T_LLONG, T_BOOL, T_ENUM, T_PATH, T_BASEPATH, T_LANG, T_TZ,
    T_KINDLIMITS, T_USERS };

struct conf_key {
	const char	*section;
	const char	*key;
	enum conf_type	 type;
	size_t		 off;
	const char	*def;		/* default, as text */
	long long	 min, max;	/* for numbers */
	const char	*choices[4];	/* for T_ENUM, index = value */
};

#define O(f) offsetof(struct bj_conf, f)

static const struct conf_key keys[] = {
	{ "database", "socket", T_PATH, O(db_socket), "/run/mysqld/mysqld.sock", 0, 0, { 0 } },
	{ "database", "host", T_STR, O(db_host), "", 0, 0, { 0 } },
	{ "database", "port", T_INT, O(db_port), "3306", 1, 65535, { 0 } },
	{ "database", "user", T_STR, O(db_user), "bulkjobs", 0, 0, { 0 } },
	{ "database", "password", T_STR, O(db_password), "", 0, 0, { 0 } },
	{ "database", "password_file", T_PATH, O(db_password_file), "", 0, 0, { 0 } },
	{ "database", "name", T_STR, O(db_name), "bulkjobs", 0, 0, { 0 } },
	{ "database", "connect_timeout", T_INT, O(db_connect_timeout), "5", 1, 300, { 0 } },
	{ "database", "hosts", T_STR, O(db_hosts), "", 0, 0, { 0 } },
	{ "database", "sync_wait", T_INT, O(db_sync_wait), "1", 0, 15, { 0 } },

	{ "http", "base_path", T_BASEPATH, O(base_path), "/bulkjobs", 0, 0, { 0 } },
	{ "http", "public_url", T_STR, O(public_url), "http://127.0.0.1:8080/bulkjobs", 0, 0, { 0 } },
	{ "http", "public_links", T_BOOL, O(public_links), "yes", 0, 0, { 0 } },
	{ "http", "max_body", T_LLONG, O(max_body), "67108864", 1024, 1LL << 32, { 0 } },
	{ "http", "max_json_depth", T_INT, O(max_json_depth), "16", 2, 64, { 0 } },
	{ "http", "default_language", T_LANG, O(default_language), "en", 0, 0, { 0 } },
	{ "http", "time_zone", T_TZ, O(time_zone), "UTC", 0, 0, { 0 } },
	{ "http", "secret", T_STR, O(http_secret), "", 0, 0, { 0 } },
	{ "http", "token_cache", T_INT, O(token_cache), "5", 0, 300, { 0 } },
	{ "http", "admins", T_USERS, O(admins), "", 0, 0, { 0 } },

	{ "artifacts", "root", T_PATH, O(artifacts_root), "/var/lib/bulkjobs/artifacts", 0, 0, { 0 } },
	{ "artifacts", "download", T_ENUM, O(download), "x-accel-redirect", 0, 0,
	    { "x-accel-redirect", "x-sendfile", "stream", NULL } },
	{ "artifacts", "internal_prefix", T_STR, O(internal_prefix), "/bulkjobs-internal/", 0, 0, { 0 } },

	{ "mail", "transport", T_STR, O(mail_transport), "sendmail:/usr/sbin/sendmail", 0, 0, { 0 } },
	{ "mail", "from", T_STR, O(mail_from), "bulkjobs@localhost", 0, 0, { 0 } },

	{ "webhook", "secret", T_STR, O(webhook_secret), "", 0, 0, { 0 } },
	{ "webhook", "timeout", T_INT, O(webhook_timeout), "15", 1, 600, { 0 } },
	{ "webhook", "allow_hosts", T_STR, O(webhook_allow_hosts), "", 0, 0, { 0 } },
	{ "webhook", "deny_networks", T_STR, O(webhook_deny_networks), "", 0, 0, { 0 } },
	{ "webhook", "allow_networks", T_STR, O(webhook_allow_networks), "", 0, 0, { 0 } },
	{ "webhook", "proxy", T_STR, O(webhook_proxy), "", 0, 0, { 0 } },

	{ "notify", "backoff", T_STR, O(notify_backoff), "5,300,1800,7200,18000,36000", 0, 0, { 0 } },
	{ "notify", "max_attempts", T_INT, O(notify_max_attempts), "12", 1, 1000, { 0 } },
	{ "notify", "parallel", T_INT, O(notify_parallel), "8", 1, 256, { 0 } },

	{ "jobs", "lease_seconds", T_INT, O(lease_seconds), "300", 1, BJ_LEASE_MAX_SECONDS, { 0 } },
	{ "jobs", "max_attempts", T_INT, O(max_attempts), "3", 1, 1000, { 0 } },
	{ "jobs", "deadline_seconds", T_LLONG, O(deadline_seconds), "86400", 1,
	    BJ_DEADLINE_MAX_SECONDS, { 0 } },
	{ "jobs", "retention_seconds", T_LLONG, O(retention_seconds), "604800", 0,
	    BJ_RETENTION_MAX_SECONDS, { 0 } },
	{ "jobs", "purge_after_seconds", T_LLONG, O(purge_after_seconds), "2592000", 60,
	    BJ_RETENTION_MAX_SECONDS, { 0 } },
	{ "jobs", "max_items", T_INT, O(max_items), "1000000", 1, 1000000, { 0 } },
	{ "jobs", "on_item_failure", T_ENUM, O(on_item_failure), "fail_job", 0, 0,
	    { "fail_job", "continue", NULL } },

	{ "claims", "max_per_owner", T_INT, O(max_per_owner), "0", 0, BJ_CONF_MAX_CLAIMED, { 0 } },
	{ "claims", "max_per_kind", T_KINDLIMITS, O(max_per_kind), "", 0, 0, { 0 } },

	{ "reaper", "lock_name", T_STR, O(lock_name), "bulkjobs.reaper", 0, 0, { 0 } },
	{ "reaper", "lock", T_ENUM, O(reaper_lock), "get_lock", 0, 0, { "get_lock", "table", NULL } },
	{ "reaper", "lock_seconds", T_INT, O(reaper_lock_seconds), "60", 5, 86400, { 0 } },
	{ "reaper", "batch", T_INT, O(reaper_batch), "1000", 1, 100000, { 0 } },
	{ "reaper", "cancel_seconds", T_INT, O(cancel_seconds), "2", 1, 3600, { 0 } },
	{ "reaper", "notifier", T_STR, O(notifier), BINDIR "/bulkjobs-notify", 0, 0, { 0 } },
	{ "reaper", "notifier_timeout", T_INT, O(notifier_timeout), "50", 1, 3600, { 0 } },
	{ "reaper", "metrics_textfile", T_PATH, O(metrics_textfile), "", 0, 0, { 0 } },

	{ "security", "allow_world_readable", T_BOOL, O(allow_world_readable), "no", 0, 0, { 0 } },
};

/* The keys whose values are secrets: a file holding one must not be world-readable. */
static const size_t secret_keys[] = { O(db_password), O(http_secret), O(webhook_secret) };

#define NKEYS (sizeof keys / sizeof keys[0])

/* The default location, after -c and $BULKJOBS_CONF. */
const char *
bj_conf_locate(const char *explicit_path)
{
	const char *env;

	if (explicit_path != NULL && *explicit_path)
		return explicit_path;
	env = getenv("BULKJOBS_CONF");
	if (env != NULL && *env)
		return env;
	return SYSCONFDIR "/bulkjobs/bulkjobs.conf";
}

static char **
str_field(struct bj_conf *c, const struct conf_key *k)
{
	return (char **)((char *)c + k->off);
}

static int *
int_field(struct bj_conf *c, const struct conf_key *k)
{
	return (int *)((char *)c + k->off);
}

static long long *
llong_field(struct bj_conf *c, const struct conf_key *k)
{
	return (long long *)((char *)c + k->off);
}

/* Parse a decimal integer with an optional K/M/G suffix (binary), refusing overflow. */
static int
parse_number(const char *v, long long *out)
{
	char *end;
	long long n, mult = 1;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v)
		return -1;
	switch (*end) {
	case 'K': case 'k': mult = 1024; end++; break;
	case 'M': case 'm': mult = 1024 * 1024; end++; break;
	case 'G': case 'g': mult = 1024LL * 1024 * 1024; end++; break;
	}
	if (*end != '\0')
		return -1;
	if (n > LLONG_MAX / mult || n < LLONG_MIN / mult)
		return -1;
	*out = n * mult;
	return 0;
}

/* 1 when tz is UTC or names a zoneinfo file (no "..", no leading '/'). */
static int
zone_exists(const char *tz)
{
	char path[512];
	struct stat st;

	if (strcmp(tz, "UTC") == 0)
		return 1;
	if (*tz == '\0' || *tz == '/' || strstr(tz, "..") != NULL ||
	    strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") !=
	    strlen(tz))
		return 0;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Walk a [claims] max_per_kind list ("export=4, import=2, *=10"): the
 * limit for kind (its own entry, else "*", else 0) in *limit when kind
 * is not NULL. Returns NULL, or a static message for a malformed list.
 */
static const char *
kind_limits(const char *spec, const char *kind, long long *limit)
{
	long long star = 0, own = -1;

	while (spec != NULL && *spec != '\0') {
		size_t nlen;
		const char *name;
		char *end;
		long long n;

		spec += strspn(spec, ", \t");
		if (*spec == '\0')
			break;
		name = spec;
		nlen = strcspn(spec, "=, \t");
		if (nlen == 0 || nlen > 64 || name[nlen] != '=')
			return "must be a list of kind=N";
		errno = 0;
		n = strtoll(name + nlen + 1, &end, 10);
		if (errno || end == name + nlen + 1 || n < 1 || n > BJ_CONF_MAX_CLAIMED ||
		    (*end != '\0' && strchr(", \t", *end) == NULL))
			return "needs a limit from 1 to 1000000 after each kind=";
		if (nlen == 1 && *name == '*')
			star = n;
		else if (kind != NULL && strlen(kind) == nlen && strncmp(kind, name, nlen) == 0)
			own = n;
		spec = end;
	}
	if (limit != NULL)
		*limit = own >= 0 ? own : star;
	return NULL;
}

/*
 * Walk an [http] admins list ("alice, bob"): 1 in *found when user is
 * one of its names (user may be NULL). Returns NULL, or a static message
 * for a malformed list.
 */
static const char *
user_list(const char *spec, const char *user, int *found)
{
	size_t ulen = user != NULL ? strlen(user) : 0;

	if (found != NULL)
		*found = 0;
	while (*spec != '\0') {
		size_t n;

		spec += strspn(spec, " \t");
		n = strcspn(spec, ", \t");
		if (n == 0)
			return "must be a list of user names separated by commas";
		if (n > 255)
			return "has a user name longer than 255 bytes";
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f)
				return "has a control character in a user name";
		if (found != NULL && user != NULL && n == ulen && strncmp(spec, user, n) == 0)
			*found = 1;
		spec += n;
		spec += strspn(spec, " \t");
		if (*spec == ',' && *++spec == '\0')
			return "must not end with a comma";
		else if (*spec != '\0' && spec[-1] != ',')
			return "must be a list of user names separated by commas";
	}
	return NULL;
}

int
bj_conf_admin(const struct bj_conf *c, const char *user)
{
	int found = 0;

	if (user == NULL || *user == '\0' || c->admins == NULL)
		return 0;
	return user_list(c->admins, user, &found) == NULL && found;
}

long long
bj_conf_kind_limit(const char *spec, const char *kind)
{
	long long limit = 0;

	return kind_limits(spec, kind, &limit) == NULL ? limit : 0;
}

/* Store value v for key k; on error return a static message. */
static const char *
set_value(struct bj_conf *c, const struct conf_key *k, const char *v)
{
	long long n;
	int i;

	switch (k->type) {
	case T_STR:
		break;
	case T_PATH:
		if (*v != '\0' && *v != '/')
			return "must be an absolute path";
		break;
	case T_BASEPATH:
		if (*v != '\0' && *v != '/')
			return "must be empty or start with '/'";
		for (const char *p = v; *p; p++)
			if (*p <= ' ' || *p == '?' || *p == '#' || *p == '%' || *p == 0x7f)
				return "must be a plain URL path";
		break;
	case T_LANG:
		if (!bj_i18n_supported(v))
			return "is not a language with a catalog (en, ja)";
		break;
	case T_TZ:
		if (!zone_exists(v))
			return "is not a time zone (UTC, or a name under /usr/share/zoneinfo)";
		break;
	case T_KINDLIMITS:
		if (kind_limits(v, NULL, NULL) != NULL)
			return kind_limits(v, NULL, NULL);
		break;
	case T_USERS:
		if (user_list(v, NULL, NULL) != NULL)
			return user_list(v, NULL, NULL);
		break;
	case T_INT:
	case T_LLONG:
		if (parse_number(v, &n) == -1)
			return "must be a whole number";
		if (n < k->min || n > k->max)
			return "is out of range";
		if (k->type == T_INT)
			*int_field(c, k) = (int)n;
		else
			*llong_field(c, k) = n;
		return NULL;
	case T_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
			*int_field(c, k) = 1;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
			*int_field(c, k) = 0;
		else
			return "must be yes or no";
		return NULL;
	case T_ENUM:
		for (i = 0; k->choices[i] != NULL; i++)
			if (!strcmp(v, k->choices[i])) {
				*int_field(c, k) = i;
				return NULL;
			}
		return "is not one of the allowed values";
	}
	/* strings */
	{
		char **f = str_field(c, k);
		char *s = bj_xstrdup(v);

		if (k->type == T_BASEPATH) {
			size_t len = strlen(s);
			while (len > 0 && s[len - 1] == '/')
				s[--len] = '\0';
		}
		free(*f);
		*f = s;
	}
	return NULL;
}

void
bj_conf_defaults(struct bj_conf *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++)
		if (set_value(c, &keys[i], keys[i].def) != NULL)
			abort();	/* a default that fails its own check */
}

void
bj_conf_free(struct bj_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];
		if (k->type == T_STR || k->type == T_PATH || k->type == T_BASEPATH ||
		    k->type == T_LANG || k->type == T_TZ || k->type == T_KINDLIMITS ||
		    k->type == T_USERS) {
			free(*str_field(c, k));
			*str_field(c, k) = NULL;
		}
	}
	free(c->path);
	c->path = NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Read a password file, refusing one that others may read. */
static const char *
read_password_file(struct bj_conf *c, const char *path)
{
	struct stat st;
	FILE *f;
	char line[1024];

	if (stat(path, &st) == -1)
		return "cannot be read";
	if (st.st_mode & S_IROTH)
		return "is world-readable (chmod o-r it)";
	if ((f = fopen(path, "r")) == NULL)
		return "cannot be read";
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	free(c->db_password);
	c->db_password = bj_xstrdup(line);
	return NULL;
}

/* The key of section (NULL: any key of it, to tell a section exists), or NULL. */
static const struct conf_key *
find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    (key == NULL || strcmp(keys[i].key, key) == 0))
			return &keys[i];
	return NULL;
}

/* A "[section]" line into section (64 bytes); -1 with msg set when it is not one we know. */
static int
section_line(char *line, char *section, char *msg, size_t len)
{
	char *end = strchr(line, ']');

	if (end == NULL || *trim(end + 1) != '\0' || end - line - 1 >= 64 || end == line + 1) {
		snprintf(msg, len, "malformed section header");
		return -1;
	}
	*end = '\0';
	snprintf(section, 64, "%s", trim(line + 1));
	if (find_key(section, NULL) == NULL) {
		snprintf(msg, len, "unknown section [%s]", section);
		return -1;
	}
	return 0;
}

/*
 * One line of n bytes (raw, modified) under section (64 bytes, updated by
 * a header) into c, *set naming the key it set; 0, or -1 with msg saying
 * what is wrong.
 */
static int
conf_line(struct bj_conf *c, char *raw, size_t n, char *section,
    const struct conf_key **set, char *msg, size_t len)
{
	char *line = trim(raw), *eq, *key, *val, *hash;
	const struct conf_key *k;
	const char *err;

	*set = NULL;
	if (*line == '\0' || *line == '#' || *line == ';')
		return 0;
	if (strlen(raw) != n) {
		snprintf(msg, len, "NUL byte in line");
		return -1;
	}
	if (*line == '[')
		return section_line(line, section, msg, len);
	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(msg, len, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = eq + 1;
	/* a comment starts at a '#' that follows whitespace */
	for (hash = val; (hash = strchr(hash, '#')) != NULL; hash++)
		if (hash == val || isspace((unsigned char)hash[-1])) {
			*hash = '\0';
			break;
		}
	val = trim(val);
	if (section[0] == '\0') {
		snprintf(msg, len, "key '%s' outside any [section]", key);
		return -1;
	}
	if ((k = find_key(section, key)) == NULL) {
		snprintf(msg, len, "unknown key '%s' in [%s]", key, section);
		return -1;
	}
	if ((err = set_value(c, k, val)) != NULL) {
		snprintf(msg, len, "[%s] %s %s", section, key, err);
		return -1;
	}
	*set = k;
	return 0;
}

int
bj_conf_parse(struct bj_conf *c, const char *path, const char *text, char **cause)
{
	char section[64] = "", msg[600];
	const char *p = text;
	int lineno = 0, pw_line = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *raw = bj_xstrndup(p, n);
		const struct conf_key *k;
		int rc;

		p += n + (nl ? 1 : 0);
		lineno++;
		rc = conf_line(c, raw, n, section, &k, msg, sizeof msg);
		free(raw);
		if (rc == -1) {
			*cause = bj_xasprintf("%s:%d: %s", path, lineno, msg);
			return -1;
		}
		if (k != NULL && k->off == O(db_password_file))
			pw_line = lineno;
		for (size_t i = 0; k != NULL && i < sizeof secret_keys / sizeof secret_keys[0]; i++)
			if (k->off == secret_keys[i] && **str_field(c, k) != '\0' &&
			    c->secret_key == NULL)
				c->secret_key = k->off == O(db_password) ? "[database] password" :
				    k->off == O(http_secret) ? "[http] secret" : "[webhook] secret";
	}
	if (pw_line && c->db_password_file[0] != '\0') {
		const char *err = read_password_file(c, c->db_password_file);
		if (err != NULL) {
			*cause = bj_xasprintf("%s:%d: [database] password_file %s %s", path, pw_line,
			    c->db_password_file, err);
			return -1;
		}
	}
	return 0;
}

int
bj_conf_load(struct bj_conf *c, const char *path, char **cause)
{
	FILE *f;
	struct bj_buf b = { 0 };
	struct stat st;
	char chunk[4096];
	size_t n;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		*cause = bj_xasprintf("%s:0: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == -1) {
		*cause = bj_xasprintf("%s:0: cannot stat: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		bj_buf_add(&b, chunk, n);
		if (b.len > 1024 * 1024) {
			fclose(f);
			bj_buf_free(&b);
			*cause = bj_xasprintf("%s:0: file is larger than 1 MiB", path);
			return -1;
		}
	}
	if (ferror(f)) {
		*cause = bj_xasprintf("%s:0: read error: %s", path, strerror(errno));
		fclose(f);
		bj_buf_free(&b);
		return -1;
	}
	fclose(f);
	if (b.data != NULL && strlen(b.data) != b.len) {
		*cause = bj_xasprintf("%s:0: file contains a NUL byte", path);
		bj_buf_free(&b);
		return -1;
	}
	c->secret_key = NULL;
	rc = bj_conf_parse(c, path, b.data ? b.data : "", cause);
	bj_buf_free(&b);
	/* as password_file: secrets in a file that everyone may read are refused */
	if (rc == 0 && (st.st_mode & S_IROTH) && c->secret_key != NULL &&
	    !c->allow_world_readable) {
		*cause = bj_xasprintf("%s:0: the file holds %s and is world-readable: chmod o-r %s"
		    " (or set [security] allow_world_readable = yes)", path, c->secret_key, path);
		rc = -1;
	}
	if (rc == 0) {
		free(c->path);
		c->path = bj_xstrdup(path);
	}
	return rc;
}
