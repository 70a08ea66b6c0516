/* cmd_init.c - init: a ready-to-run .env with fresh secrets, database, folders, admin. */
#include "cli/cli.h"
#include "core/dotenv.h"
#include "core/util.h"
#include "crypto/fernet.h"
#include "crypto/password.h"
#include "crypto/token.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static const char env_template[] =
	"# callbot configuration. Every key is described in docs/configuration.md.\n"
	"# Keep this file private (mode 0600): it holds the keys below.\n"
	"\n"
	"# Register to a PBX or SIP trunk (empty: answer direct calls only).\n"
	"SIP_SERVER=\n"
	"SIP_USERNAME=\n"
	"SIP_PASSWORD=\n"
	"SIP_LISTEN=0.0.0.0:5060\n"
	"\n"
	"WEB_LISTEN=127.0.0.1:5000\n"
	"DATABASE_URL=sqlite:///callbot.db\n"
	"AUDIO_DIR=audio_output\n"
	"LOG_DIR=logs\n"
	"\n"
	"# Secrets made by 'callbot init'. Never share them; never replace ENCRYPTION_KEY\n"
	"# without keeping the old key (see docs/security.md), or stored data is lost.\n";

static int write_file_0600(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ssize_t w;
	int err = 0;

	if (fd < 0)
		return errno;
	w = write(fd, data, len);
	if (w < 0 || (size_t)w != len)
		err = w < 0 ? errno : EIO;
	if (!err && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && !err)
		err = errno;
	if (err)
		unlink(path);
	return err;
}

/* Returns 1 if key is set to a non-empty value, 0 if absent or empty. */
static int has_value(const struct dotenv *env, const char *key)
{
	const struct dotenv_entry *e = dotenv_find(env, key);
	return e && e->value[0];
}

static void line_set(char **text, const char *key, const char *value)
{
	/* Replace "KEY=" (empty) in place, otherwise append. */
	size_t klen = strlen(key);
	char *p = *text, *nt;

	while (p && *p) {
		char *eol = strchr(p, '\n');
		char *q = p;
		if (strncmp(q, "export ", 7) == 0)
			q += 7;
		if (strncmp(q, key, klen) == 0 && q[klen] == '=') {
			size_t head = (size_t)(p - *text), tail = eol ? strlen(eol) : 0;
			nt = malloc(head + klen + strlen(value) + tail + 16);
			if (!nt)
				return;
			sprintf(nt, "%.*s%s=%s%s", (int)head, *text, key, value, eol ? eol : "\n");
			free(*text);
			*text = nt;
			return;
		}
		p = eol ? eol + 1 : NULL;
	}
	size_t len = strlen(*text);
	nt = malloc(len + klen + strlen(value) + 4);
	if (!nt)
		return;
	sprintf(nt, "%s%s%s=%s\n", *text, (len && (*text)[len - 1] != '\n') ? "\n" : "", key, value);
	free(*text);
	*text = nt;
}

/* Creates the .env, or adds the secrets it lacks. Never replaces a set secret. */
static int ensure_env(const char *path, bool *created)
{
	char secret[64], key[FERNET_KEY_LEN + 1], err[256], *text = NULL, *tmp = NULL;
	struct dotenv env = { 0 };
	size_t len = 0;
	int rc;

	if (token_random_urlsafe(32, secret, sizeof(secret)) || fernet_key_generate(key))
		return EXIT_FAIL;
	*created = access(path, F_OK) != 0;
	if (*created) {
		text = malloc(sizeof(env_template) + 256);
		if (!text)
			return EXIT_FAIL;
		snprintf(text, sizeof(env_template) + 256, "%sSECRET_KEY=%s\nENCRYPTION_KEY=%s\n",
			 env_template, secret, key);
		rc = write_file_0600(path, text, strlen(text));
		free(text);
		if (rc) {
			fprintf(stderr, "callbot init: cannot create %s: %s\n", path, strerror(rc));
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}

	rc = file_read_all(path, DOTENV_MAX_FILE, &text, &len);
	if (!rc && dotenv_parse(text, len, &env, err, sizeof(err))) {
		fprintf(stderr, "callbot init: %s: %s\n", path, err);
		free(text);
		return EXIT_USAGE;
	}
	if (rc) {
		fprintf(stderr, "callbot init: cannot read %s: %s\n", path, strerror(rc));
		return EXIT_FAIL;
	}
	if (has_value(&env, "SECRET_KEY") && has_value(&env, "ENCRYPTION_KEY"))
		goto out; /* nothing to add */
	if (!has_value(&env, "SECRET_KEY"))
		line_set(&text, "SECRET_KEY", secret);
	if (!has_value(&env, "ENCRYPTION_KEY"))
		line_set(&text, "ENCRYPTION_KEY", key);
	if (asprintf(&tmp, "%s.init-tmp", path) < 0) {
		rc = ENOMEM;
		goto out;
	}
	unlink(tmp);
	rc = write_file_0600(tmp, text, strlen(text));
	if (!rc && rename(tmp, path) != 0)
		rc = errno;
	if (rc) {
		unlink(tmp);
		fprintf(stderr, "callbot init: cannot update %s: %s\n", path, strerror(rc));
	} else {
		printf("added the missing secrets to %s\n", path);
	}
out:
	free(tmp);
	free(text);
	dotenv_free(&env);
	sodium_memzero(secret, sizeof(secret));
	return rc ? EXIT_FAIL : EXIT_OK;
}

static int make_dir(const char *path, mode_t mode, const char *key)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		fprintf(stderr, "callbot init: cannot create %s (%s): %s\n", path, key, strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int ensure_admin(struct store *st)
{
	char pw[64], hash[PASSWORD_HASH_MAX];
	int64_t n = 0, id;
	int rc;

	if (store_user_count(st, &n))
		return EXIT_FAIL;
	if (n > 0) {
		printf("users exist already; no password changed\n");
		return EXIT_OK;
	}
	if (password_generate(pw, sizeof(pw)) || password_hash(pw, hash))
		return EXIT_FAIL;
	rc = store_user_add(st, "admin", hash, "admin", &id);
	if (rc) {
		fprintf(stderr, "callbot init: cannot create the admin user: %s\n", strerror(rc));
		return EXIT_FAIL;
	}
	store_audit(st, 0, "user_add", "user add admin role=admin (init)", "local");
	printf("\nDashboard login:  admin / %s\n"
	       "(shown only this once; change it with 'callbot user passwd admin')\n\n", pw);
	sodium_memzero(pw, sizeof(pw));
	return EXIT_OK;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	const char *dir = NULL;
	char *path = NULL;
	struct store *st = NULL;
	bool created = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else {
			cli_usage_error("init", "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (dir && make_dir(dir, 0750, "--dir"))
		return EXIT_FAIL;
	if (cli->config_path && !dir)
		path = strdup(cli->config_path);
	else if (cli->config_path)
		path = path_join(dir, cli->config_path);
	else
		path = path_join(dir ? dir : ".", ".env");
	if (!path)
		return EXIT_FAIL;

	rc = ensure_env(path, &created);
	if (rc)
		goto out;
	if (chmod(path, 0600) != 0) {
		fprintf(stderr, "callbot init: cannot chmod 600 %s: %s\n", path, strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	cli->config_path = cli->owned_path = path;
	rc = cli_load_conf(cli);
	if (rc)
		goto out;
	if ((rc = make_dir(cli->conf.audio_dir, 0750, "AUDIO_DIR")) ||
	    (rc = make_dir(cli->conf.log_dir, 0750, "LOG_DIR")))
		goto out;
	rc = cli_open_store(cli, &st);
	if (rc)
		goto out;
	rc = ensure_admin(st);
	if (rc)
		goto out;
	printf("%s %s\n", created ? "created" : "kept", path);
	printf("database:   %s\n", cli->conf.database_url);
	printf("recordings: %s\n", cli->conf.audio_dir);
	printf("logs:       %s\n", cli->conf.log_dir);
	printf("\nNext: callbot%s%s serve   then open http://%s/\n", cli->config_path ? " --config " : "",
	       cli->config_path ? path : "", cli->conf.web_listen);
out:
	store_close(st);
	if (path != cli->owned_path)
		free(path);
	return rc;
}
