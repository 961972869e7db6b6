/* test_conf.c: the config parser, without a database. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "harness.h"

/* Parse text; returns the error message (caller frees) or NULL. */
static char *
parse(struct bj_conf *c, const char *text)
{
	char *cause = NULL;

	bj_conf_defaults(c);
	if (bj_conf_parse(c, "/etc/bulkjobs/bulkjobs.conf", text, &cause) == 0)
		return NULL;
	return cause;
}

static void
test_defaults(void)
{
	struct bj_conf c;

	bj_conf_defaults(&c);
	CU_ASSERT_STRING_EQUAL(c.base_path, "/bulkjobs");
	CU_ASSERT_STRING_EQUAL(c.db_name, "bulkjobs");
	CU_ASSERT_EQUAL(c.lease_seconds, 300);
	CU_ASSERT_EQUAL(c.max_body, 64LL * 1024 * 1024);
	CU_ASSERT_EQUAL(c.download, BJ_DL_ACCEL);
	CU_ASSERT_STRING_EQUAL(c.lock_name, "bulkjobs.reaper");
	bj_conf_free(&c);
}

static void
test_full_file(void)
{
	struct bj_conf c;
	char *err = parse(&c,
	    "# a comment\n"
	    "[database]\n"
	    "socket = /tmp/x.sock   # trailing comment\n"
	    "user = app\n"
	    "name = jobs_db\n"
	    "\n"
	    "[http]\n"
	    "base_path = /exports/\n"
	    "max_body = 8M\n"
	    "public_links = no\n"
	    "[artifacts]\n"
	    "download = x-sendfile\n"
	    "[webhook]\n"
	    "secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
	    "[jobs]\n"
	    "lease_seconds = 60\n"
	    "on_item_failure = continue\n"
	    "[http]\n"
	    "default_language = ja\n"
	    "time_zone = Asia/Tokyo\n");

	CU_ASSERT_PTR_NULL(err);
	free(err);
	CU_ASSERT_STRING_EQUAL(c.db_socket, "/tmp/x.sock");
	CU_ASSERT_STRING_EQUAL(c.db_user, "app");
	CU_ASSERT_STRING_EQUAL(c.base_path, "/exports");	/* trailing slash dropped */
	CU_ASSERT_EQUAL(c.max_body, 8LL * 1024 * 1024);
	CU_ASSERT_EQUAL(c.public_links, 0);
	CU_ASSERT_EQUAL(c.download, BJ_DL_SENDFILE);
	CU_ASSERT_EQUAL(c.lease_seconds, 60);
	CU_ASSERT_EQUAL(c.on_item_failure, BJ_ON_FAIL_CONTINUE);
	CU_ASSERT_STRING_EQUAL(c.default_language, "ja");
	CU_ASSERT_STRING_EQUAL(c.time_zone, "Asia/Tokyo");
	CU_ASSERT_STRING_EQUAL(c.webhook_secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	bj_conf_free(&c);
}

static void
test_unknown_key_names_file_and_line(void)
{
	struct bj_conf c;
	char *err = parse(&c, "[database]\nuser = a\n\n[http]\nbase_pth = /x\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/etc/bulkjobs/bulkjobs.conf:5:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "base_pth"));
	free(err);
	bj_conf_free(&c);
	/* a misspelt section is an error too, even before any key under it */
	err = parse(&c, "[database]\nuser = a\n[databse]\n# password = x\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/etc/bulkjobs/bulkjobs.conf:3:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown section [databse]"));
	free(err);
	bj_conf_free(&c);
}

static void
test_bad_values(void)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{ "[jobs]\nlease_seconds = soon\n", ":2: [jobs] lease_seconds must be a whole number" },
		{ "[jobs]\nlease_seconds = 0\n", ":2: [jobs] lease_seconds is out of range" },
		{ "[jobs]\nmax_attempts = 99999999999999999999\n", ":2:" },
		{ "[http]\ndefault_language = fr\n", ":2: [http] default_language is not a language" },
		{ "[http]\ntime_zone = Mars/Olympus\n", ":2: [http] time_zone is not a time zone" },
		{ "[http]\ntime_zone = ../../etc/passwd\n", ":2: [http] time_zone is not a time zone" },
		/* found by fuzzing: a suffix that overflows */
		{ "[http]\nmax_body = 999999999999999999K\n", ":2: [http] max_body must be a whole number" },
		{ "[http]\npublic_links = maybe\n", "must be yes or no" },
		{ "[artifacts]\ndownload = ftp\n", "not one of the allowed values" },
		{ "[artifacts]\nroot = relative/path\n", "must be an absolute path" },
		{ "[http]\nbase_path = bulkjobs\n", "must be empty or start with '/'" },
		{ "user = x\n", ":1: key 'user' outside any [section]" },
		{ "[database\nuser = x\n", ":1: malformed section header" },
		{ "[database]\njust words\n", ":2: expected 'key = value'" },
		{ "[nosuch]\nkey = 1\n", ":1: unknown section [nosuch]" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bj_conf c;
		char *err = parse(&c, cases[i].text);

		CU_ASSERT_PTR_NOT_NULL(err);
		if (err != NULL && strstr(err, cases[i].expect) == NULL) {
			fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, cases[i].expect);
			CU_FAIL("wrong message");
		}
		free(err);
		bj_conf_free(&c);
	}
}

/* [claims]: the per-owner limit, and the per-kind list looked up by kind, "*" for the rest. */
static void
test_claim_limits(void)
{
	struct bj_conf c;
	char *err = parse(&c, "[claims]\nmax_per_owner = 8\nmax_per_kind = export=4, import=2 *=20\n");

	CU_ASSERT_PTR_NULL_FATAL(err);
	CU_ASSERT_EQUAL(c.max_per_owner, 8);
	CU_ASSERT_EQUAL(bj_conf_kind_limit(c.max_per_kind, "export"), 4);
	CU_ASSERT_EQUAL(bj_conf_kind_limit(c.max_per_kind, "import"), 2);
	CU_ASSERT_EQUAL(bj_conf_kind_limit(c.max_per_kind, "report"), 20);
	CU_ASSERT_EQUAL(bj_conf_kind_limit(c.max_per_kind, "expor"), 20);
	CU_ASSERT_EQUAL(bj_conf_kind_limit("", "export"), 0);
	CU_ASSERT_EQUAL(bj_conf_kind_limit(NULL, "export"), 0);
	bj_conf_free(&c);
	{
		static const char *const bad[] = { "export", "export=", "export=0", "=4",
		    "export=4x", "export=1000001", "a=1,,b", NULL };	/* "b" has no limit */

		for (int i = 0; bad[i] != NULL; i++) {
			char text[128];

			snprintf(text, sizeof text, "[claims]\nmax_per_kind = %s\n", bad[i]);
			err = parse(&c, text);
			CU_ASSERT_PTR_NOT_NULL(err);
			if (err != NULL)
				CU_ASSERT_PTR_NOT_NULL(strstr(err, "max_per_kind"));
			free(err);
			bj_conf_free(&c);
		}
	}
	err = parse(&c, "[claims]\nmax_per_owner = -1\n");
	CU_ASSERT_PTR_NOT_NULL(err);
	free(err);
	bj_conf_free(&c);
}

static void
test_password_file(void)
{
	char dir[] = "/tmp/bjconfXXXXXX", path[64], text[200], *err;
	struct bj_conf c;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/pw", dir);
	f = fopen(path, "w");
	fputs("s3cret\n", f);
	fclose(f);
	snprintf(text, sizeof text, "[database]\n\npassword_file = %s\n", path);

	chmod(path, 0644);	/* world-readable: refused, naming the line */
	err = parse(&c, text);
	CU_ASSERT_PTR_NOT_NULL(err);
	if (err)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, ":3: [database] password_file"));
	if (err)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "world-readable"));
	free(err);
	bj_conf_free(&c);

	chmod(path, 0600);
	err = parse(&c, text);
	CU_ASSERT_PTR_NULL(err);
	free(err);
	CU_ASSERT_STRING_EQUAL(c.db_password, "s3cret");
	bj_conf_free(&c);
	unlink(path);
	rmdir(dir);
}

static void
test_load_missing_file(void)
{
	struct bj_conf c;
	char *err = NULL;

	bj_conf_defaults(&c);
	CU_ASSERT_EQUAL(bj_conf_load(&c, "/nonexistent/bulkjobs.conf", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err);
	if (err)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/bulkjobs.conf"));
	free(err);
	bj_conf_free(&c);
}

static void
test_locate_order(void)
{
	setenv("BULKJOBS_CONF", "/from/env.conf", 1);
	CU_ASSERT_STRING_EQUAL(bj_conf_locate("/explicit.conf"), "/explicit.conf");
	CU_ASSERT_STRING_EQUAL(bj_conf_locate(NULL), "/from/env.conf");
	unsetenv("BULKJOBS_CONF");
	CU_ASSERT_STRING_EQUAL(bj_conf_locate(NULL), SYSCONFDIR "/bulkjobs/bulkjobs.conf");
}

/*
 * A config file holding a secret is refused when everyone may read it,
 * naming the file and the key, unless [security] allow_world_readable.
 */
static void
test_world_readable_with_secrets(void)
{
	static const struct {
		const char	*text;
		int		 mode;
		const char	*refused;	/* the key named, or NULL: loads */
	} rows[] = {
		{ "[webhook]\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 0644, "[webhook] secret" },
		{ "[webhook]\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 0604, "[webhook] secret" },
		{ "[webhook]\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 0640, NULL },
		{ "[webhook]\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 0600, NULL },
		{ "[database]\npassword = hunter2\n", 0644, "[database] password" },
		{ "[http]\nsecret = 0123456789abcdef\n", 0644, "[http] secret" },
		{ "[database]\npassword =\n[http]\nsecret =\n[webhook]\nsecret =\n", 0644, NULL },
		{ "[webhook]\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
		    "[security]\nallow_world_readable = yes\n", 0644, NULL },
	};
	char dir[] = "/tmp/bjconfXXXXXX", path[64], *err;
	struct bj_conf c;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bulkjobs.conf", dir);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		f = fopen(path, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs(rows[i].text, f);
		fclose(f);
		chmod(path, (mode_t)rows[i].mode);
		bj_conf_defaults(&c);
		err = NULL;
		if (rows[i].refused == NULL) {
			CU_ASSERT_EQUAL(bj_conf_load(&c, path, &err), 0);
		} else {
			CU_ASSERT_EQUAL(bj_conf_load(&c, path, &err), -1);
			CU_ASSERT_PTR_NOT_NULL(err);
			if (err != NULL) {
				CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
				CU_ASSERT_PTR_NOT_NULL(strstr(err, rows[i].refused));
				CU_ASSERT_PTR_NOT_NULL(strstr(err, "world-readable"));
			}
		}
		free(err);
		bj_conf_free(&c);
	}
	unlink(path);
	rmdir(dir);
}

/* The shipped sample config must load as it is. */
/* [http] admins: a list of user names, checked as the file is read. */
static void
test_admins(void)
{
	static const char *const bad[] = { "alice,", ",alice", "alice,,bob", "alice bob",
	    "alice\tbob", NULL };
	struct bj_conf c;
	char *err = parse(&c, "[http]\nadmins = alice, bob.smith@example.org,carol\n");

	CU_ASSERT_PTR_NULL_FATAL(err);
	CU_ASSERT(bj_conf_admin(&c, "alice"));
	CU_ASSERT(bj_conf_admin(&c, "bob.smith@example.org"));
	CU_ASSERT(bj_conf_admin(&c, "carol"));
	CU_ASSERT(!bj_conf_admin(&c, "bob"));
	CU_ASSERT(!bj_conf_admin(&c, "alic"));
	CU_ASSERT(!bj_conf_admin(&c, "alice, bob"));
	CU_ASSERT(!bj_conf_admin(&c, ""));
	CU_ASSERT(!bj_conf_admin(&c, NULL));
	bj_conf_free(&c);
	/* the default: nobody */
	bj_conf_defaults(&c);
	CU_ASSERT(!bj_conf_admin(&c, "alice"));
	bj_conf_free(&c);
	for (int i = 0; bad[i] != NULL; i++) {
		char text[128];

		snprintf(text, sizeof text, "[http]\nadmins = %s\n", bad[i]);
		err = parse(&c, text);
		CU_ASSERT_PTR_NOT_NULL(err);
		if (err != NULL)
			CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: [http] admins "));
		free(err);
		bj_conf_free(&c);
	}
}

static void
test_sample_config_loads(void)
{
	const char *src = getenv("BJ_SRCDIR");
	char path[1024], *err = NULL;
	struct bj_conf c;

	snprintf(path, sizeof path, "%s/conf/bulkjobs.conf.sample", src ? src : ".");
	bj_conf_defaults(&c);
	CU_ASSERT_EQUAL(bj_conf_load(&c, path, &err), 0);
	if (err)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT(bj_conf_admin(&c, "oncall"));
	free(err);
	bj_conf_free(&c);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("conf", NULL, NULL);

	CU_add_test(s, "defaults", test_defaults);
	CU_add_test(s, "a full file", test_full_file);
	CU_add_test(s, "unknown key names file and line", test_unknown_key_names_file_and_line);
	CU_add_test(s, "bad values name the key", test_bad_values);
	CU_add_test(s, "[claims] limits", test_claim_limits);
	CU_add_test(s, "[http] admins", test_admins);
	CU_add_test(s, "password_file must not be world-readable", test_password_file);
	CU_add_test(s, "a world-readable file with secrets is refused", test_world_readable_with_secrets);
	CU_add_test(s, "missing file", test_load_missing_file);
	CU_add_test(s, "-c, then $BULKJOBS_CONF, then sysconfdir", test_locate_order);
	CU_add_test(s, "conf/bulkjobs.conf.sample loads", test_sample_config_loads);
	return bj_test_run();
}
