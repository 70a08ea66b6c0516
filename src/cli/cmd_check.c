/* cmd_check.c - check: the pre-deployment security checklist (PASS/WARN/FAIL lines). */
#include "call/diag.h"
#include "cli/cli.h"
#include "core/util.h"
#include "crypto/fernet.h"
#include "crypto/password.h"
#include "crypto/recfile.h"
#include "crypto/token.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum verdict { PASS, WARN, FAIL };

struct checklist {
	int fails, warns;
};

static void report(struct checklist *cl, enum verdict v, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(struct checklist *cl, enum verdict v, const char *what, const char *fmt, ...)
{
	static const char *const names[] = { "PASS", "WARN", "FAIL" };
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%s  %-18s %s\n", names[v], what, msg);
	cl->fails += v == FAIL;
	cl->warns += v == WARN;
}

static void check_file_private(struct checklist *cl, const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		report(cl, WARN, what, "%s does not exist yet (run callbot init)", path);
		return;
	}
	if (st.st_mode & 077)
		report(cl, FAIL, what, "%s is %03o: readable by others; fix: chmod 600 %s", path,
		       st.st_mode & 0777, path);
	else
		report(cl, PASS, what, "%s is %03o", path, st.st_mode & 0777);
}

static void check_env_file(struct checklist *cl, const struct conf *c)
{
	if (!c->path) {
		report(cl, WARN, ".env file", "none; settings come from the environment only");
		return;
	}
	check_file_private(cl, ".env file", c->path);
}

static void check_secret_key(struct checklist *cl, const struct conf *c)
{
	const char *why = NULL;

	if (secret_is_strong(c->secret_key, &why))
		report(cl, PASS, "SECRET_KEY", "strong");
	else
		report(cl, FAIL, "SECRET_KEY", "%s; fix: SECRET_KEY=$(callbot gen-secret) in the .env",
		       why ? why : "weak");
}

/* The sqlite file named by DATABASE_URL, resolved like the store does; NULL otherwise. */
static char *sqlite_file(const struct conf *c)
{
	const char *rest;
	char *q, *path;

	if (strncmp(c->database_url, "sqlite:///", 10) != 0)
		return NULL;
	rest = c->database_url + 10;
	q = strndup(rest, strcspn(rest, "?"));
	if (!q)
		return NULL;
	path = path_join(c->base_dir, q);
	free(q);
	return path;
}

static void check_database(struct checklist *cl, const struct conf *c)
{
	char *file = sqlite_file(c);

	if (file) {
		check_file_private(cl, "database file", file);
		free(file);
		return;
	}
	if (strstr(c->database_url, "sslmode=verify-full"))
		report(cl, PASS, "database TLS", "sslmode=verify-full");
	else if (strstr(c->database_url, "sslmode=require") || strstr(c->database_url, "sslmode=verify-ca"))
		report(cl, WARN, "database TLS", "encrypted but the server name is not verified; "
		       "fix: sslmode=verify-full");
	else
		report(cl, FAIL, "database TLS", "PostgreSQL without sslmode; fix: add "
		       "?sslmode=verify-full to DATABASE_URL");
}

static void check_dir(struct checklist *cl, const char *what, const char *path, bool need_write)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		report(cl, WARN, what, "%s does not exist yet (run callbot init)", path);
		return;
	}
	if (st.st_mode & 007)
		report(cl, FAIL, what, "%s is %03o: open to every local user; fix: chmod 750 %s",
		       path, st.st_mode & 0777, path);
	else if (need_write && access(path, W_OK) != 0)
		report(cl, FAIL, what, "%s is not writable by this user", path);
	else
		report(cl, PASS, what, "%s is %03o", path, st.st_mode & 0777);
}

static const char *const weak_passwords[] = {
	"admin", "password", "callbot", "changeme", "change-me", "admin123", "123456",
	"12345678", "secret", "letmein", "1234", "password123", "default",
};

static bool is_weak(const char *pw)
{
	for (size_t i = 0; i < ARRAY_SIZE(weak_passwords); i++) {
		if (strcmp(pw, weak_passwords[i]) == 0)
			return true;
	}
	return false;
}

struct user_scan {
	struct checklist *cl;
	int admins, weak;
};

static int scan_user(const struct store_user *u, void *arg)
{
	struct user_scan *s = arg;
	bool weak = password_verify(u->password_hash, u->username);

	for (size_t i = 0; !weak && i < ARRAY_SIZE(weak_passwords); i++)
		weak = password_verify(u->password_hash, weak_passwords[i]);
	if (weak && !u->disabled) {
		report(s->cl, FAIL, "user password", "user '%s' has a default or trivial password; "
		       "fix: callbot user passwd %s", u->username, u->username);
		s->weak++;
	}
	if (strcmp(u->role, "admin") == 0 && !u->disabled)
		s->admins++;
	return 0;
}

static void check_users(struct checklist *cl, struct cli *cli)
{
	struct user_scan scan = { cl, 0, 0 };
	struct store *st = NULL;
	char *file = sqlite_file(&cli->conf);
	bool missing = file && access(file, F_OK) != 0;

	free(file);
	if (missing) /* check never creates a database */
		return;
	if (store_open(&st, cli->conf.database_url, cli->conf.base_dir) || store_migrate(st)) {
		report(cl, FAIL, "database", "cannot open DATABASE_URL");
		store_close(st);
		return;
	}
	store_user_list(st, scan_user, &scan);
	store_close(st);
	if (!scan.weak)
		report(cl, PASS, "user passwords", "no default or trivial passwords");
	if (!scan.admins)
		report(cl, WARN, "admin user", "no enabled admin; fix: callbot user add NAME --role admin");
}

static bool is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

/* The dashboard's first-run checklist (call/diag.c): the same facts, as check lines. A
 * dashboard on loopback passes HTTPS here (nothing is exposed) but stays on the checklist. */
static void check_first_run(struct checklist *cl, struct cli *cli)
{
	static const char *const names[DIAG_ITEMS] = { "admin password", "SIP account", "backends",
						       "HTTPS" };
	const struct conf *c = &cli->conf;
	struct diag_check items[DIAG_ITEMS];
	struct store *st = NULL;
	char *file = sqlite_file(c);
	bool db = !file || access(file, F_OK) == 0; /* check never creates a database */

	free(file);
	if (db && (store_open(&st, c->database_url, c->base_dir) || store_migrate(st))) {
		store_close(st);
		st = NULL;
	}
	diag_checklist(c, st, false, items);
	store_close(st);
	for (int i = 0; i < DIAG_ITEMS; i++) {
		bool pass = items[i].done ||
			    (i == DIAG_HTTPS && is_loopback(c->web_listen_hp.host));

		if (i == DIAG_ADMIN_PASSWORD && !st)
			continue; /* no database yet: check_users says so */
		report(cl, pass ? PASS : WARN, names[i], "%s", items[i].detail);
	}
}

static void check_sip(struct checklist *cl, const struct conf *c)
{
	if (c->sip_password[0] && (is_weak(c->sip_password) || strlen(c->sip_password) < 8))
		report(cl, FAIL, "SIP_PASSWORD", "a default or short password; fix: set a strong "
		       "password on the PBX and here");
	else if (c->sip_server[0] && !c->sip_password[0])
		report(cl, WARN, "SIP_PASSWORD", "empty while registering to %s", c->sip_server);
	if (c->sip_transport == SIP_TP_TLS)
		report(cl, PASS, "SIP transport", "tls");
	else
		report(cl, WARN, "SIP transport", "%s: signalling is not encrypted; fix: "
		       "SIP_TRANSPORT=tls", c->sip_transport == SIP_TP_TCP ? "tcp" : "udp");
	if (c->srtp == SRTP_REQUIRED)
		report(cl, PASS, "SRTP", "required");
	else
		report(cl, WARN, "SRTP", "%s: calls may run unencrypted; fix: SRTP=required",
		       c->srtp == SRTP_OFF ? "off" : "optional");
	if (c->sip_allow_n == 0 && !c->sip_server[0])
		report(cl, WARN, "SIP_ALLOW_FROM", "any address may call directly; fix: list your "
		       "PBX/proxy ranges");
}

/* nftw has no user argument: one scan at a time (check is single-threaded). */
static struct {
	long open_files, plain, total;
} audio_scan;

static int scan_audio(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	audio_scan.total++;
	if (sb->st_mode & 077)
		audio_scan.open_files++;
	if (!recfile_is(path))
		audio_scan.plain++;
	return 0;
}

static void check_data(struct checklist *cl, const struct conf *c)
{
	struct fernet_keyring *kr = NULL;

	if (!c->encryption_key[0])
		report(cl, FAIL, "encryption", "ENCRYPTION_KEY empty: transcripts and recordings "
		       "stored in clear; fix: ENCRYPTION_KEY=$(callbot gen-key) in the .env, then "
		       "callbot rekey");
	else if (fernet_keyring_parse(&kr, c->encryption_key) == 0 &&
		 fernet_keyring_count(kr) > 1)
		report(cl, WARN, "encryption", "%zu keys in ENCRYPTION_KEY (rotation in progress); "
		       "fix: callbot rekey, then keep only the first key", fernet_keyring_count(kr));
	else
		report(cl, PASS, "encryption", "transcripts and recordings encrypted at rest");
	fernet_keyring_free(kr);

	memset(&audio_scan, 0, sizeof(audio_scan));
	if (c->audio_dir[0] && access(c->audio_dir, F_OK) == 0)
		nftw(c->audio_dir, scan_audio, 16, FTW_PHYS);
	if (audio_scan.open_files)
		report(cl, FAIL, "recording files", "%ld recordings readable by group or others; "
		       "fix: chmod -R go-rwx %s", audio_scan.open_files, c->audio_dir);
	else if (audio_scan.plain && c->encryption_key[0])
		report(cl, WARN, "recording files", "%ld recordings stored in clear (made before "
		       "encryption was on); fix: callbot rekey", audio_scan.plain);
	else
		report(cl, PASS, "recording files", "%ld recordings, private%s", audio_scan.total,
		       c->encryption_key[0] ? " and encrypted" : "");

	if (c->retention_days > 0)
		report(cl, PASS, "retention", "%d days", c->retention_days);
	else
		report(cl, WARN, "retention", "RETENTION_DAYS=0 keeps personal data forever; fix: "
		       "RETENTION_DAYS=30 (or what your record of processing states)");
	if (c->consent_mode == CONSENT_OFF && c->record_calls)
		report(cl, WARN, "consent", "CONSENT_MODE=off while recording: callers are not told; "
		       "fix: CONSENT_MODE=announce or require");
	else
		report(cl, PASS, "consent", "%s", c->consent_mode == CONSENT_REQUIRE ? "require" :
		       c->consent_mode == CONSENT_ANNOUNCE ? "announce" : "off (not recording)");
}

static bool cidr_is_any(const char *list)
{
	return strstr(list, "0.0.0.0/0") || strstr(list, "::/0");
}

static void check_proxy(struct checklist *cl, const struct conf *c)
{
	if (cidr_is_any(c->trusted_proxies))
		report(cl, FAIL, "TRUSTED_PROXIES", "trusts every address: anyone can forge "
		       "X-Forwarded-For and dodge rate limits and bans; fix: list only your proxy, "
		       "e.g. TRUSTED_PROXIES=127.0.0.1/32");
	else
		report(cl, PASS, "TRUSTED_PROXIES", "%s", c->trusted_proxies[0] ? c->trusted_proxies :
		       "none");
	if (!c->force_https)
		report(cl, WARN, "FORCE_HTTPS", "off: proxied plain HTTP is served and no HSTS is "
		       "sent; fix: FORCE_HTTPS=on");
	if (c->web_tls_key[0])
		check_file_private(cl, "WEB_TLS_KEY", c->web_tls_key);
}

static void check_fail2ban(struct checklist *cl)
{
	static const char filter[] = "/etc/fail2ban/filter.d/callbot-web.conf";
	bool jail = access("/etc/fail2ban/jail.d/callbot.conf", F_OK) == 0 ||
		    access("/etc/fail2ban/jail.d/callbot-web.conf", F_OK) == 0 ||
		    access("/etc/fail2ban/jail.local", F_OK) == 0;

	if (access(filter, F_OK) == 0 && jail)
		report(cl, PASS, "fail2ban", "callbot-web filter installed");
	else
		report(cl, WARN, "fail2ban", "no callbot-web filter/jail; fix: cp contrib/fail2ban/"
		       "filter.d/callbot-web.conf /etc/fail2ban/filter.d/ and the jail to "
		       "/etc/fail2ban/jail.d/ (docs/security.md)");
}

static void check_user(struct checklist *cl)
{
	if (geteuid() == 0)
		report(cl, WARN, "service user", "running as root; fix: run callbot as its own "
		       "user (contrib/systemd/callbot.service, scripts/install.sh)");
	else
		report(cl, PASS, "service user", "not root");
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct checklist cl = { 0, 0 };
	int rc;

	(void)argv;
	if (argc > 1) {
		cli_usage_error("check", "takes no arguments");
		return EXIT_USAGE;
	}
	rc = cli_load_conf(cli);
	if (rc)
		return rc;
	check_env_file(&cl, &cli->conf);
	check_secret_key(&cl, &cli->conf);
	check_database(&cl, &cli->conf);
	check_dir(&cl, "AUDIO_DIR", cli->conf.audio_dir, true);
	check_dir(&cl, "LOG_DIR", cli->conf.log_dir, true);
	check_users(&cl, cli);
	check_first_run(&cl, cli);
	check_proxy(&cl, &cli->conf);
	check_sip(&cl, &cli->conf);
	check_data(&cl, &cli->conf);
	check_fail2ban(&cl);
	check_user(&cl);
	printf("\n%d failed, %d warnings\n", cl.fails, cl.warns);
	return cl.fails ? EXIT_FAIL : EXIT_OK;
}
