/* cmd_token.c: bulkjobsctl token create | list | revoke. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "buf.h"
#include "ctl.h"
#include "sql.h"
#include "token.h"

/* Check a comma-separated scope list against submit, work and admin. */
static int
scopes_valid(const char *s)
{
	char *copy = bj_xstrdup(s), *save = NULL, *tok;
	int ok = *s != '\0';

	for (tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, "submit") && strcmp(tok, "work") && strcmp(tok, "admin"))
			ok = 0;
	free(copy);
	return ok;
}

static int
token_create(struct bj_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "scope", required_argument, NULL, 's' },
		{ "owner", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *scope = NULL, *owner = NULL;
	char token[BJ_TOKEN_LEN + 1], hash[BJ_SHA256_HEX], full[BJ_TOKEN_LEN + 8];
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': name = optarg; break;
		case 's': scope = optarg; break;
		case 'o': owner = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (name == NULL || scope == NULL || optind != argc) {
		fprintf(stderr, "usage: bulkjobsctl token create --name NAME --scope "
		    "submit,work,admin [--owner OWNER]\n");
		return EX_USAGE;
	}
	if (strlen(name) > 100 || *name == '\0' || strpbrk(name, " \t\r\n") != NULL) {
		fprintf(stderr, "bulkjobsctl: --name must be 1 to 100 characters without spaces\n");
		return EX_USAGE;
	}
	if (!scopes_valid(scope)) {
		fprintf(stderr, "bulkjobsctl: --scope takes a comma-separated list of "
		    "submit, work and admin\n");
		return EX_USAGE;
	}
	if (bj_token_new(token) == -1) {
		fprintf(stderr, "bulkjobsctl: no randomness available\n");
		return EX_SOFTWARE;
	}
	snprintf(full, sizeof full, "bj_%s", token);
	bj_sha256_hex(full, strlen(full), hash);
	if (bj_db_execp(ctl->db, BJ_SQL_TOKEN_INSERT, NULL, BJ_PARAMS(BJ_P_STR(name),
	    BJ_P_STR(hash), BJ_P_STR(scope), BJ_P_STR(owner))) == -1) {
		if (bj_db_errno(ctl->db) == ER_DUP_ENTRY)
			fprintf(stderr, "bulkjobsctl: a token named '%s' exists already\n", name);
		else
			fprintf(stderr, "bulkjobsctl: %s\n", bj_db_error(ctl->db));
		return EX_DATAERR;
	}
	fprintf(stdout, "created token '%s' with scopes %s (shown once; store it now)\n",
	    name, scope);
	fprintf(stdout, "%s\n", full);
	return EX_OK;
}

static int
token_list(struct bj_ctl *ctl)
{
	struct bj_rows *r = bj_db_queryp(ctl->db, BJ_SQL_TOKEN_LIST, NULL, 0);

	if (r == NULL) {
		fprintf(stderr, "bulkjobsctl: %s\n", bj_db_error(ctl->db));
		return EX_UNAVAILABLE;
	}
	printf("%-24s %-20s %-20s %-21s %-21s %s\n", "NAME", "SCOPES", "OWNER", "CREATED",
	    "LAST USED", "REVOKED");
	for (int i = 0; i < r->nrows; i++) {
		const char *last = bj_rows_get(r, i, 4), *rev = bj_rows_get(r, i, 5);
		printf("%-24s %-20s %-20s %-21s %-21s %s\n", bj_rows_get(r, i, 0),
		    bj_rows_get(r, i, 1), bj_rows_get(r, i, 2), bj_rows_get(r, i, 3),
		    last ? last : "-", rev ? rev : "-");
	}
	bj_rows_free(r);
	return EX_OK;
}

static int
token_revoke(struct bj_ctl *ctl, const char *name)
{
	unsigned long long n = 0;

	if (bj_db_execp(ctl->db, BJ_SQL_TOKEN_REVOKE, &n, BJ_PARAMS(BJ_P_STR(name))) == -1) {
		fprintf(stderr, "bulkjobsctl: %s\n", bj_db_error(ctl->db));
		return EX_UNAVAILABLE;
	}
	if (n == 0) {
		fprintf(stderr, "bulkjobsctl: no active token named '%s'\n", name);
		return EX_DATAERR;
	}
	printf("revoked token '%s'\n", name);
	return EX_OK;
}

int
bj_ctl_token(struct bj_ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return token_create(ctl, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return token_list(ctl);
	if (argc == 3 && strcmp(argv[1], "revoke") == 0)
		return token_revoke(ctl, argv[2]);
	fprintf(stderr, "usage: bulkjobsctl token create --name N --scope S[,S] [--owner O]\n"
	    "       bulkjobsctl token list\n"
	    "       bulkjobsctl token revoke NAME\n");
	return EX_USAGE;
}
