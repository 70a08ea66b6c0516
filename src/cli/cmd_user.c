/* cmd_user.c - user and token subcommands: accounts for the dashboard and API. */
#include "cli/cli.h"
#include "core/util.h"
#include "crypto/password.h"
#include "crypto/token.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASSWORD_MIN 12

static bool username_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("._@-", *s))
			return false;
	}
	return true;
}

static int ask_new_password(char *hash, size_t hashsize)
{
	char pw[256];
	int rc;

	rc = cli_read_password("New password: ", true, pw, sizeof(pw));
	if (rc == EINVAL) {
		fprintf(stderr, "callbot: the passwords do not match\n");
		return EXIT_FAIL;
	}
	if (rc) {
		fprintf(stderr, "callbot: no password given on the terminal or stdin\n");
		return EXIT_FAIL;
	}
	if (strlen(pw) < PASSWORD_MIN) {
		fprintf(stderr, "callbot: a password needs at least %d characters\n", PASSWORD_MIN);
		memset(pw, 0, sizeof(pw));
		return EXIT_FAIL;
	}
	(void)hashsize;
	rc = password_hash(pw, hash);
	memset(pw, 0, sizeof(pw));
	return rc ? EXIT_FAIL : EXIT_OK;
}

static void fmt_time(int64_t ms, char *buf, size_t size)
{
	if (!ms) {
		snprintf(buf, size, "-");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

static int print_user(const struct store_user *u, void *arg)
{
	char created[32], login[32];

	(void)arg;
	fmt_time(u->created_at, created, sizeof(created));
	fmt_time(u->last_login_at, login, sizeof(login));
	printf("%-5lld %-20s %-7s %-17s %-17s %s\n", (long long)u->id, u->username, u->role,
	       created, login, u->disabled ? "disabled" : "");
	return 0;
}

static int count_admins(const struct store_user *u, void *arg)
{
	if (strcmp(u->role, "admin") == 0 && !u->disabled)
		(*(int *)arg)++;
	return 0;
}

static int user_add(struct store *st, int argc, char **argv)
{
	char hash[PASSWORD_HASH_MAX], details[128];
	const char *role = "viewer";
	int64_t id;
	int rc;

	if (argc < 3) {
		cli_usage_error("user add", "needs a NAME");
		return EXIT_USAGE;
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else {
			cli_usage_error("user add", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (strcmp(role, "admin") != 0 && strcmp(role, "viewer") != 0) {
		cli_usage_error("user add", "--role must be admin or viewer");
		return EXIT_USAGE;
	}
	if (!username_valid(argv[2])) {
		cli_usage_error("user add", "NAME may hold letters, digits and . _ @ - (1-63)");
		return EXIT_USAGE;
	}
	rc = ask_new_password(hash, sizeof(hash));
	if (rc)
		return rc;
	rc = store_user_add(st, argv[2], hash, role, &id);
	if (rc == EEXIST) {
		fprintf(stderr, "callbot: user '%s' already exists\n", argv[2]);
		return EXIT_FAIL;
	}
	if (rc)
		return EXIT_FAIL;
	snprintf(details, sizeof(details), "user add %s role=%s (cli)", argv[2], role);
	store_audit(st, 0, "user_add", details, "local");
	printf("user '%s' added with role %s\n", argv[2], role);
	return EXIT_OK;
}

static int user_passwd(struct store *st, int argc, char **argv)
{
	char hash[PASSWORD_HASH_MAX], details[128];
	struct store_user u;
	int rc;

	if (argc != 3) {
		cli_usage_error("user passwd", "needs exactly one NAME");
		return EXIT_USAGE;
	}
	if (store_user_get(st, argv[2], &u) == ENOENT) {
		fprintf(stderr, "callbot: no user '%s'\n", argv[2]);
		return EXIT_FAIL;
	}
	rc = ask_new_password(hash, sizeof(hash));
	if (rc)
		return rc;
	if (store_user_set_password(st, argv[2], hash))
		return EXIT_FAIL;
	snprintf(details, sizeof(details), "user passwd %s (cli)", argv[2]);
	store_audit(st, 0, "user_passwd", details, "local");
	printf("password of '%s' changed\n", argv[2]);
	return EXIT_OK;
}

static int user_del(struct store *st, int argc, char **argv)
{
	struct store_user u;
	char details[128];
	int admins = 0;

	if (argc != 3) {
		cli_usage_error("user del", "needs exactly one NAME");
		return EXIT_USAGE;
	}
	if (store_user_get(st, argv[2], &u) == ENOENT) {
		fprintf(stderr, "callbot: no user '%s'\n", argv[2]);
		return EXIT_FAIL;
	}
	store_user_list(st, count_admins, &admins);
	if (strcmp(u.role, "admin") == 0 && admins <= 1) {
		fprintf(stderr, "callbot: '%s' is the last admin; add another admin first\n", argv[2]);
		return EXIT_FAIL;
	}
	if (store_user_del(st, argv[2]))
		return EXIT_FAIL;
	snprintf(details, sizeof(details), "user del %s (cli)", argv[2]);
	store_audit(st, 0, "user_del", details, "local");
	printf("user '%s' deleted\n", argv[2]);
	return EXIT_OK;
}

static int user_list(struct store *st, int argc, char **argv)
{
	(void)argv;
	if (argc != 2) {
		cli_usage_error("user list", "takes no arguments");
		return EXIT_USAGE;
	}
	printf("%-5s %-20s %-7s %-17s %-17s %s\n", "ID", "NAME", "ROLE", "CREATED (UTC)",
	       "LAST LOGIN", "");
	return store_user_list(st, print_user, NULL) ? EXIT_FAIL : EXIT_OK;
}

struct subcmd {
	const char *name;
	int (*fn)(struct store *st, int argc, char **argv);
};

static int dispatch(struct cli *cli, const char *group, int argc, char **argv,
		    const struct subcmd *subs, size_t nsubs)
{
	struct store *st = NULL;
	int rc;

	if (argc < 2) {
		cli_usage_error(group, "needs a subcommand");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < nsubs; i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		rc = cli_open_store(cli, &st);
		if (rc)
			return rc;
		rc = subs[i].fn(st, argc, argv);
		store_close(st);
		return rc;
	}
	cli_usage_error(group, "unknown subcommand '%s'", argv[1]);
	return EXIT_USAGE;
}

int cmd_user(struct cli *cli, int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "add", user_add }, { "passwd", user_passwd }, { "del", user_del }, { "list", user_list },
	};
	return dispatch(cli, "user", argc, argv, subs, ARRAY_SIZE(subs));
}

static int token_add(struct store *st, int argc, char **argv)
{
	char raw[64], tok[80], hash[65], details[160];
	const char *label = "";
	struct store_user u;
	int64_t id;

	if (argc < 3) {
		cli_usage_error("token add", "needs a USER");
		return EXIT_USAGE;
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			label = argv[++i];
		else {
			cli_usage_error("token add", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (strlen(label) > 63) {
		cli_usage_error("token add", "--name is limited to 63 characters");
		return EXIT_USAGE;
	}
	if (store_user_get(st, argv[2], &u) == ENOENT) {
		fprintf(stderr, "callbot: no user '%s'\n", argv[2]);
		return EXIT_FAIL;
	}
	if (token_random_urlsafe(32, raw, sizeof(raw)))
		return EXIT_FAIL;
	/* A prefix lets secret scanners recognise leaked callbot tokens. */
	snprintf(tok, sizeof(tok), "cbt_%s", raw);
	token_sha256_hex(tok, hash);
	if (store_token_add(st, u.id, hash, label, &id))
		return EXIT_FAIL;
	snprintf(details, sizeof(details), "token add id=%lld user=%s name=%s (cli)", (long long)id,
		 u.username, label);
	store_audit(st, u.id, "token_add", details, "local");
	printf("token %lld for '%s' created; it is shown only now:\n%s\n", (long long)id, u.username,
	       tok);
	memset(tok, 0, sizeof(tok));
	memset(raw, 0, sizeof(raw));
	return EXIT_OK;
}

static int print_token(const struct store_token *t, void *arg)
{
	char created[32], used[32];

	(void)arg;
	fmt_time(t->created_at, created, sizeof(created));
	fmt_time(t->last_used_at, used, sizeof(used));
	printf("%-5lld %-20s %-20s %-17s %s\n", (long long)t->id, t->username, t->name, created, used);
	return 0;
}

static int token_list(struct store *st, int argc, char **argv)
{
	(void)argv;
	if (argc != 2) {
		cli_usage_error("token list", "takes no arguments");
		return EXIT_USAGE;
	}
	printf("%-5s %-20s %-20s %-17s %s\n", "ID", "USER", "NAME", "CREATED (UTC)", "LAST USED");
	return store_token_list(st, print_token, NULL) ? EXIT_FAIL : EXIT_OK;
}

static int token_revoke(struct store *st, int argc, char **argv)
{
	char *end, details[64];
	long long id;
	int rc;

	if (argc != 3) {
		cli_usage_error("token revoke", "needs exactly one ID");
		return EXIT_USAGE;
	}
	id = strtoll(argv[2], &end, 10);
	if (*end || id <= 0) {
		cli_usage_error("token revoke", "ID must be a positive number");
		return EXIT_USAGE;
	}
	rc = store_token_revoke(st, id);
	if (rc == ENOENT) {
		fprintf(stderr, "callbot: no token %lld\n", id);
		return EXIT_FAIL;
	}
	if (rc)
		return EXIT_FAIL;
	snprintf(details, sizeof(details), "token revoke id=%lld (cli)", id);
	store_audit(st, 0, "token_revoke", details, "local");
	printf("token %lld revoked\n", id);
	return EXIT_OK;
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "add", token_add }, { "list", token_list }, { "revoke", token_revoke },
	};
	return dispatch(cli, "token", argc, argv, subs, ARRAY_SIZE(subs));
}
