/* test_store.c - tests src/store (API, SQLite backend, migrations) on a temporary directory. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <libpq-fe.h>

#include "core/log.h"
#include "core/config.h"
#include "crypto/fernet.h"
#include "store/data.h"
#include "store/store.h"
#include "store/time_iso.h"

struct fixture {
	char dir[64];
	char db[128];
	char url[160];
	struct store *st;
};

static void rm_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int setup_dir(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/callbot-store-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->db, sizeof(fx->db), "%s/callbot.db", fx->dir);
	snprintf(fx->url, sizeof(fx->url), "sqlite:///%s", fx->db);
	*state = fx;
	return 0;
}

/* CALLBOT_TEST_PG_URL runs the backend-neutral tests on PostgreSQL
 * (tests/integration/pg_store.sh starts a throwaway server for it). */
static const char *pg_url;

/* Empties every table of the PostgreSQL test database. */
static int pg_wipe(void)
{
	PGconn *c = PQconnectdb(pg_url);
	PGresult *r;
	int ok;

	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return -1;
	}
	r = PQexec(c, "TRUNCATE calls, turns, users, api_tokens, settings,"
		   " audit_log RESTART IDENTITY CASCADE");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* A migrated, empty store (in a fresh directory, or the PG test database). */
static int setup(void **state)
{
	struct fixture *fx;

	if (setup_dir(state))
		return -1;
	fx = *state;
	if (store_open(&fx->st, pg_url ? pg_url : fx->url, NULL) ||
	    store_migrate(fx->st) || (pg_url && pg_wipe())) {
		/* cmocka skips the teardown of a failed setup */
		store_close(fx->st);
		rm_tree(fx->dir);
		free(fx);
		return -1;
	}
	return 0;
}

/* count(*) through a second connection of the backend under test. */
static int64_t db_count(const struct fixture *fx, const char *sql)
{
	int64_t n = -1;

	if (pg_url) {
		PGconn *c = PQconnectdb(pg_url);
		PGresult *r = PQexec(c, sql);

		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *q;

		assert_int_equal(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READWRITE,
						 NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		n = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
	return n;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	rm_tree(fx->dir);
	free(fx);
	return 0;
}

/* A second, plain SQLite connection to look at the file from outside. */
static sqlite3 *raw_open(const struct fixture *fx)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READWRITE, NULL),
			 SQLITE_OK);
	return db;
}

static int64_t raw_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static unsigned file_mode(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (unsigned)(sb.st_mode & 0777);
}

/* Opening */

static void test_open_creates_private_file(void **state)
{
	struct fixture *fx = *state;
	char wal[160], shm[160];
	mode_t old = umask(0);	/* the mode must not depend on the umask */

	assert_int_equal(store_open(&fx->st, fx->url, NULL), 0);
	umask(old);
	assert_string_equal(store_backend_name(fx->st), "sqlite");
	assert_string_equal(store_path(fx->st), fx->db);
	assert_int_equal(file_mode(fx->db), 0600);

	umask(0);
	assert_int_equal(store_migrate(fx->st), 0);
	assert_int_equal(store_audit(fx->st, 0, "test", "wal please", NULL), 0);
	umask(old);

	snprintf(wal, sizeof(wal), "%s-wal", fx->db);
	snprintf(shm, sizeof(shm), "%s-shm", fx->db);
	assert_int_equal(access(wal, F_OK), 0);
	assert_int_equal(file_mode(wal) & 077, 0);
	assert_int_equal(access(shm, F_OK), 0);
	assert_int_equal(file_mode(shm) & 077, 0);

	/* reopening an existing file keeps it as it is */
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(store_open(&fx->st, fx->url, NULL), 0);
	assert_int_equal(file_mode(fx->db), 0600);
}

static void test_open_relative(void **state)
{
	struct fixture *fx = *state;
	char want[200];
	struct store *st = NULL;

	assert_int_equal(store_open(&st, "sqlite:///rel.db", fx->dir), 0);
	snprintf(want, sizeof(want), "%s/rel.db", fx->dir);
	assert_string_equal(store_path(st), want);
	assert_int_equal(file_mode(want), 0600);
	store_close(st);

	/* SQLAlchemy driver names and any case in the scheme */
	assert_int_equal(store_open(&st, "sqlite+pysqlite:///drv.db", fx->dir), 0);
	store_close(st);
	snprintf(want, sizeof(want), "%s/drv.db", fx->dir);
	assert_int_equal(access(want, F_OK), 0);
	assert_int_equal(store_open(&st, "SQLite:///case.db", fx->dir), 0);
	store_close(st);

	/* in memory, for tests elsewhere */
	assert_int_equal(store_open(&st, "sqlite:///:memory:", NULL), 0);
	assert_null(store_path(st));
	assert_int_equal(store_migrate(st), 0);
	assert_int_equal(store_user_add(st, "m", "h", "viewer", NULL), 0);
	store_close(st);
}

static void test_open_errors(void **state)
{
	struct fixture *fx = *state;
	struct store *st = (struct store *)&st;	/* must be reset to NULL */
	char url[200];

	assert_int_equal(store_open(&st, "mysql://u:p@h/db", NULL), EINVAL);
	assert_null(st);
	/* nothing listens on port 1: refused at once, named without secrets */
	assert_int_equal(store_open(&st, "postgresql://u:secret@127.0.0.1:1/db",
				    NULL), ECONNREFUSED);
	assert_null(st);
	assert_int_equal(store_open(&st, "postgres://u@127.0.0.1:1/db", NULL),
			 ECONNREFUSED);
	assert_int_equal(store_open(&st, "postgresql+psycopg2://u@127.0.0.1:1/db",
				    NULL), ECONNREFUSED);
	assert_int_equal(store_open(&st, "callbot.db", NULL), EINVAL);
	assert_int_equal(store_open(&st, "://x", NULL), EINVAL);
	assert_int_equal(store_open(&st, "", NULL), EINVAL);
	assert_int_equal(store_open(&st, NULL, NULL), EINVAL);
	assert_int_equal(store_open(NULL, fx->url, NULL), EINVAL);
	assert_int_equal(store_open(&st, "sqlite://", NULL), EINVAL);
	assert_int_equal(store_open(&st, "sqlite:///", NULL), EINVAL);
	assert_int_equal(store_open(&st, "sqlite://host/x.db", NULL), EINVAL);
	assert_null(st);

	snprintf(url, sizeof(url), "sqlite:///%s/missing/x.db", fx->dir);
	assert_int_equal(store_open(&st, url, NULL), ENOENT);
	assert_null(st);

	/* a file that is not a database: refused, and left alone */
	snprintf(url, sizeof(url), "%s/not.db", fx->dir);
	FILE *f = fopen(url, "w");
	assert_non_null(f);
	fputs("this is not an SQLite database, just some text long enough\n"
	      "to fill a header page................................\n", f);
	fclose(f);
	snprintf(url, sizeof(url), "sqlite:///%s/not.db", fx->dir);
	assert_int_not_equal(store_open(&st, url, NULL), 0);
	assert_null(st);
	snprintf(url, sizeof(url), "%s/not.db", fx->dir);
	assert_int_equal(access(url, F_OK), 0);

	store_close(NULL);
}

/* Migrations */

static const char *const expected_columns[][13] = {
	{ "calls", "id", "sip_call_id", "caller", "callee", "started_at",
	  "answered_at", "ended_at", "status", "end_reason", "consent",
	  "recording_path", "node_id" },
	{ "turns", "id", "call_id", "seq", "role", "text", "started_at",
	  "stt_ms", "llm_ms", "tts_ms", "response_ms" },
	{ "users", "id", "username", "password_hash", "role", "created_at",
	  "disabled", "last_login_at" },
	{ "api_tokens", "id", "user_id", "name", "token_hash", "created_at",
	  "last_used_at" },
	{ "settings", "key", "value", "updated_at", "updated_by" },
	{ "audit_log", "id", "timestamp", "user_id", "action", "details",
	  "ip_address" },
	{ "schema_migrations", "version", "applied_at" },
};

static void check_columns(sqlite3 *db, const char *const *want)
{
	sqlite3_stmt *q;
	int i = 1;

	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT name FROM pragma_table_info(?1) ORDER BY cid", -1, &q,
		NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, want[0], -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		assert_non_null(want[i]);
		assert_string_equal((const char *)sqlite3_column_text(q, 0),
				    want[i]);
		i++;
	}
	sqlite3_finalize(q);
	if (i < 13 && want[i])
		fail_msg("%s: column %s missing", want[0], want[i]);
	assert_true(i > 1);
}

static void test_migrate(void **state)
{
	struct fixture *fx = *state;
	int version = -1;
	sqlite3 *db;

	assert_int_equal(store_open(&fx->st, fx->url, NULL), 0);
	assert_int_equal(store_schema_version(fx->st, &version), 0);
	assert_int_equal(version, 0);

	assert_int_equal(store_migrate(fx->st), 0);
	assert_int_equal(store_schema_version(fx->st, &version), 0);
	assert_true(store_schema_latest() >= 1);
	assert_int_equal(version, store_schema_latest());

	db = raw_open(fx);
	for (size_t i = 0; i < sizeof(expected_columns) / sizeof(expected_columns[0]); i++)
		check_columns(db, expected_columns[i]);
	assert_int_equal(raw_count(db, "SELECT count(*) FROM schema_migrations"),
			 store_schema_latest());

	/* again: nothing to do, nothing recorded twice */
	assert_int_equal(store_migrate(fx->st), 0);
	assert_int_equal(store_schema_version(fx->st, &version), 0);
	assert_int_equal(version, store_schema_latest());
	assert_int_equal(raw_count(db, "SELECT count(*) FROM schema_migrations"),
			 store_schema_latest());

	/* a second process migrating the same file */
	struct store *other = NULL;
	assert_int_equal(store_open(&other, fx->url, NULL), 0);
	assert_int_equal(store_migrate(other), 0);
	store_close(other);

	/* migration 4 starts the calls counter from the calls already stored */
	assert_int_equal(sqlite3_exec(db,
		"DROP TRIGGER calls_total_insert; DROP TRIGGER calls_total_delete;"
		" DROP TABLE calls_total; DELETE FROM schema_migrations WHERE version = 4;"
		" INSERT INTO calls(caller) VALUES ('a'), ('b');", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_migrate(fx->st), 0);
	assert_int_equal(raw_count(db, "SELECT n FROM calls_total"), 2);

	/* a database from a newer callbot is refused, not touched */
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO schema_migrations VALUES (999, 'x')", NULL, NULL,
		NULL), SQLITE_OK);
	assert_int_equal(store_migrate(fx->st), ENOTSUP);
	sqlite3_close(db);
}

static void test_journal_mode(void **state)
{
	struct fixture *fx = *state;
	sqlite3 *db = raw_open(fx);
	sqlite3_stmt *q;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* Users */

struct names {
	char v[8][64];
	int n;
	int stop_after;
};

static int user_name_h(const struct store_user *u, void *arg)
{
	struct names *nm = arg;

	strcpy(nm->v[nm->n++], u->username);
	return nm->stop_after && nm->n >= nm->stop_after ? 42 : 0;
}

static void test_users(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct store_user u;
	struct names nm = { 0 };
	char long_name[80];
	int64_t id = 0, bob = 0, n = -1, before = store_time_now();

	assert_int_equal(store_user_count(st, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_user_add(st, "zoe", "$argon2id$hash-z", "admin",
					&id), 0);
	assert_true(id > 0);
	assert_int_equal(store_user_add(st, "bob", "$argon2id$hash-b", "viewer",
					&bob), 0);
	assert_int_not_equal(bob, id);

	assert_int_equal(store_user_add(st, "zoe", "h", "admin", NULL), EEXIST);
	assert_int_equal(store_user_add(st, "eve", "h", "root", NULL), EINVAL);
	assert_int_equal(store_user_add(st, "eve", "h", NULL, NULL), EINVAL);
	assert_int_equal(store_user_add(st, "", "h", "admin", NULL), EINVAL);
	assert_int_equal(store_user_add(st, NULL, "h", "admin", NULL), EINVAL);
	assert_int_equal(store_user_add(st, "eve", "", "admin", NULL), EINVAL);
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_int_equal(store_user_add(st, long_name, "h", "admin", NULL),
			 EINVAL);
	long_name[63] = '\0';
	assert_int_equal(store_user_add(st, long_name, "h", "viewer", NULL), 0);

	assert_int_equal(store_user_get(st, "zoe", &u), 0);
	assert_int_equal(u.id, id);
	assert_string_equal(u.username, "zoe");
	assert_string_equal(u.password_hash, "$argon2id$hash-z");
	assert_string_equal(u.role, "admin");
	assert_false(u.disabled);
	assert_int_equal(u.last_login_at, 0);
	assert_true(u.created_at >= before - 1 &&
		    u.created_at <= store_time_now() + 1);
	assert_int_equal(store_user_get(st, "nobody", &u), ENOENT);
	assert_int_equal(store_user_get(st, "", &u), ENOENT);
	assert_int_equal(store_user_get_by_id(st, bob, &u), 0);
	assert_string_equal(u.username, "bob");
	assert_int_equal(store_user_get_by_id(st, 9999, &u), ENOENT);

	assert_int_equal(store_user_set_password(st, "bob", "$argon2id$new"), 0);
	assert_int_equal(store_user_set_disabled(st, "bob", true), 0);
	assert_int_equal(store_user_set_role(st, "bob", "admin"), 0);
	assert_int_equal(store_user_set_role(st, "bob", "superuser"), EINVAL);
	assert_int_equal(store_user_touch_login(st, bob, 1733331600123LL), 0);
	assert_int_equal(store_user_get(st, "bob", &u), 0);
	assert_string_equal(u.password_hash, "$argon2id$new");
	assert_true(u.disabled);
	assert_string_equal(u.role, "admin");
	assert_int_equal(u.last_login_at, 1733331600123LL);
	assert_int_equal(store_user_set_disabled(st, "bob", false), 0);
	assert_int_equal(store_user_get(st, "bob", &u), 0);
	assert_false(u.disabled);

	assert_int_equal(store_user_set_password(st, "nobody", "h"), ENOENT);
	assert_int_equal(store_user_set_disabled(st, "nobody", true), ENOENT);
	assert_int_equal(store_user_set_role(st, "nobody", "admin"), ENOENT);
	assert_int_equal(store_user_touch_login(st, 9999, 1), ENOENT);

	assert_int_equal(store_user_list(st, user_name_h, &nm), 0);
	assert_int_equal(nm.n, 3);
	assert_string_equal(nm.v[0], long_name);
	assert_string_equal(nm.v[1], "bob");
	assert_string_equal(nm.v[2], "zoe");
	memset(&nm, 0, sizeof(nm));
	nm.stop_after = 1;
	assert_int_equal(store_user_list(st, user_name_h, &nm), 42);
	assert_int_equal(nm.n, 1);

	assert_int_equal(store_user_count(st, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_user_del(st, "bob"), 0);
	assert_int_equal(store_user_del(st, "bob"), ENOENT);
	assert_int_equal(store_user_get(st, "bob", &u), ENOENT);
	assert_int_equal(store_user_count(st, &n), 0);
	assert_int_equal(n, 2);

	/* ids are never reused: audit rows keep pointing at the old user */
	assert_int_equal(store_user_add(st, "carl", "h", "viewer", &id), 0);
	assert_true(id > bob);
}

/* API tokens */

struct tokens {
	struct store_token v[4];
	int n;
};

static int token_h(const struct store_token *t, void *arg)
{
	struct tokens *tk = arg;

	tk->v[tk->n++] = *t;
	return 0;
}

static void test_tokens(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct store_token t;
	struct tokens tk = { 0 };
	int64_t uid, tid = 0, tid2 = 0;

	assert_int_equal(store_user_add(st, "alice", "h", "admin", &uid), 0);
	assert_int_equal(store_token_add(st, uid, "sha256:aaaa", "ci", &tid), 0);
	assert_true(tid > 0);
	assert_int_equal(store_token_add(st, uid, "sha256:bbbb", NULL, &tid2), 0);
	assert_int_equal(store_token_add(st, uid, "sha256:aaaa", "dup", NULL),
			 EEXIST);
	assert_int_equal(store_token_add(st, 9999, "sha256:cccc", "x", NULL),
			 ENOENT);
	assert_int_equal(store_token_add(st, uid, "", "x", NULL), EINVAL);

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_token_find(st, "sha256:aaaa", &t), 0);
	assert_int_equal(t.id, tid);
	assert_int_equal(t.user_id, uid);
	assert_string_equal(t.username, "alice");
	assert_string_equal(t.name, "ci");
	assert_true(t.created_at > 0);
	assert_true(t.last_used_at >= t.created_at);
	assert_int_equal(store_token_find(st, "sha256:zzzz", &t), ENOENT);
	assert_int_equal(store_token_find(st, "", &t), ENOENT);

	assert_int_equal(store_token_list(st, token_h, &tk), 0);
	assert_int_equal(tk.n, 2);
	assert_int_equal(tk.v[0].id, tid);
	assert_int_not_equal(tk.v[0].last_used_at, 0);
	assert_int_equal(tk.v[1].id, tid2);
	assert_string_equal(tk.v[1].name, "");
	assert_int_equal(tk.v[1].last_used_at, 0);

	assert_int_equal(store_token_revoke(st, tid), 0);
	assert_int_equal(store_token_revoke(st, tid), ENOENT);
	assert_int_equal(store_token_find(st, "sha256:aaaa", &t), ENOENT);

	/* deleting the user takes its tokens */
	assert_int_equal(store_user_del(st, "alice"), 0);
	assert_int_equal(store_token_find(st, "sha256:bbbb", &t), ENOENT);
	tk.n = 0;
	assert_int_equal(store_token_list(st, token_h, &tk), 0);
	assert_int_equal(tk.n, 0);
}

/* Settings */

struct settings_seen {
	char keys[4][64];
	char *kept;
	int n;
};

static int setting_h(struct store_setting *s, void *arg)
{
	struct settings_seen *ss = arg;

	strcpy(ss->keys[ss->n++], s->key);
	assert_non_null(s->value);
	if (!strcmp(s->key, "GREETING")) {
		/* take the value over */
		ss->kept = s->value;
		s->value = NULL;
		assert_string_equal(s->updated_by, "admin");
		assert_true(s->updated_at > 0);
	}
	return 0;
}

static void test_settings(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct settings_seen ss = { 0 };
	char *v = NULL;

	assert_int_equal(store_setting_get(st, "GREETING", &v), ENOENT);
	assert_null(v);
	assert_int_equal(store_setting_set(st, "GREETING", "Hello", "admin"), 0);
	assert_int_equal(store_setting_get(st, "GREETING", &v), 0);
	assert_string_equal(v, "Hello");
	free(v);
	assert_int_equal(store_setting_set(st, "GREETING", "Hi 'there'; --",
					   "admin"), 0);
	assert_int_equal(store_setting_get(st, "GREETING", &v), 0);
	assert_string_equal(v, "Hi 'there'; --");
	free(v);
	assert_int_equal(store_setting_set(st, "BARGE_IN", "", NULL), 0);
	assert_int_equal(store_setting_get(st, "BARGE_IN", &v), 0);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(store_setting_set(st, "", "x", NULL), EINVAL);
	assert_int_equal(store_setting_set(st, "K", NULL, NULL), EINVAL);

	assert_int_equal(store_setting_list(st, setting_h, &ss), 0);
	assert_int_equal(ss.n, 2);
	assert_string_equal(ss.keys[0], "BARGE_IN");
	assert_string_equal(ss.keys[1], "GREETING");
	assert_string_equal(ss.kept, "Hi 'there'; --");
	free(ss.kept);
}

/* Audit log */

struct audit_seen {
	int64_t ids[32];
	int n;
};

static int audit_h(struct store_audit_row *r, void *arg)
{
	struct audit_seen *as = arg;

	as->ids[as->n++] = r->id;
	assert_true(r->timestamp > 0);
	return 0;
}

static int audit_first_h(struct store_audit_row *r, void *arg)
{
	struct store_audit_row *out = arg;

	if (out->id == 0) {
		*out = *r;
		r->details = NULL;	/* kept */
	}
	return 0;
}

static void test_audit(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct audit_seen as = { 0 };
	struct store_audit_row first = { 0 };
	char details[32];
	int64_t uid, total = -1;

	assert_int_equal(store_user_add(st, "admin", "h", "admin", &uid), 0);
	for (int i = 0; i < 25; i++) {
		snprintf(details, sizeof(details), "n=%d", i);
		assert_int_equal(store_audit(st, i % 2 ? uid : 0, "login_ok",
					     details, "192.0.2.1"), 0);
	}
	assert_int_equal(store_audit(st, 0, "", NULL, NULL), EINVAL);
	assert_int_equal(store_audit(st, 0, NULL, NULL, NULL), EINVAL);

	assert_int_equal(store_audit_list(st, 0, 10, audit_h, &as, &total), 0);
	assert_int_equal(total, 25);
	assert_int_equal(as.n, 10);
	for (int i = 1; i < as.n; i++)
		assert_true(as.ids[i - 1] > as.ids[i]);	/* newest first */

	memset(&as, 0, sizeof(as));
	assert_int_equal(store_audit_list(st, 20, 10, audit_h, &as, &total), 0);
	assert_int_equal(as.n, 5);
	assert_int_equal(total, 25);
	memset(&as, 0, sizeof(as));
	assert_int_equal(store_audit_list(st, 0, 0, audit_h, &as, NULL), 0);
	assert_int_equal(as.n, 25);
	assert_int_equal(store_audit_list(st, -1, 10, audit_h, &as, NULL), EINVAL);

	/* the newest: n=24, by nobody */
	assert_int_equal(store_audit_list(st, 0, 1, audit_first_h, &first,
					  NULL), 0);
	assert_string_equal(first.details, "n=24");
	assert_string_equal(first.action, "login_ok");
	assert_string_equal(first.ip_address, "192.0.2.1");
	assert_int_equal(first.user_id, 0);
	assert_string_equal(first.username, "");
	free(first.details);

	/* the trail outlives the user */
	assert_int_equal(store_audit(st, uid, "user_del", NULL, NULL), 0);
	assert_int_equal(store_user_del(st, "admin"), 0);
	memset(&first, 0, sizeof(first));
	assert_int_equal(store_audit_list(st, 0, 1, audit_first_h, &first,
					  &total), 0);
	assert_int_equal(total, 26);
	assert_int_equal(first.user_id, uid);
	assert_string_equal(first.username, "");
	assert_null(first.details);
}

/* Calls */

static struct store_call make_call(const char *caller, const char *status,
				   int64_t started_at)
{
	struct store_call c;

	memset(&c, 0, sizeof(c));
	snprintf(c.sip_call_id, sizeof(c.sip_call_id), "%s-%lld@pbx", caller,
		 (long long)started_at);
	snprintf(c.caller, sizeof(c.caller), "%s", caller);
	snprintf(c.callee, sizeof(c.callee), "%s", "bot");
	c.started_at = started_at;
	snprintf(c.status, sizeof(c.status), "%s", status);
	return c;
}

static void test_calls_crud(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct store_call c, got;
	const char *evil = "1'; DROP TABLE calls;--";
	int64_t id = 0;

	c = make_call(evil, "ringing", 1733331600123LL);
	snprintf(c.callee, sizeof(c.callee), "%s", "\"bot\" OR 1=1");
	assert_int_equal(store_call_insert(st, &c, &id), 0);
	assert_true(id > 0);
	assert_int_equal(store_call_get(st, id, &got), 0);
	assert_int_equal(got.id, id);
	assert_string_equal(got.caller, evil);
	assert_string_equal(got.callee, "\"bot\" OR 1=1");
	assert_string_equal(got.sip_call_id, c.sip_call_id);
	assert_int_equal(got.started_at, 1733331600123LL);
	assert_int_equal(got.answered_at, 0);
	assert_string_equal(got.recording_path, "");

	got.answered_at = got.started_at + 1500;
	got.ended_at = got.started_at + 60000;
	snprintf(got.status, sizeof(got.status), "%s", "completed");
	snprintf(got.end_reason, sizeof(got.end_reason), "%s", "caller_hangup");
	snprintf(got.consent, sizeof(got.consent), "%s", "announced");
	snprintf(got.recording_path, sizeof(got.recording_path), "%s",
		 "audio_output/2024/12/04/1.wav");
	assert_int_equal(store_call_update(st, &got), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_call_get(st, id, &c), 0);
	assert_memory_equal(&c, &got, sizeof(c));

	got.id = 9999;
	assert_int_equal(store_call_update(st, &got), ENOENT);
	assert_int_equal(store_call_get(st, 9999, &c), ENOENT);
	assert_int_equal(store_call_delete(st, 9999), ENOENT);

	/* an unterminated field is refused */
	memset(c.caller, 'x', sizeof(c.caller));
	assert_int_equal(store_call_insert(st, &c, NULL), EINVAL);

	/* the table survived the "injection" */
	assert_int_equal(db_count(fx, "SELECT count(*) FROM calls"), 1);

	assert_int_equal(store_call_delete(st, id), 0);
	assert_int_equal(store_call_get(st, id, &got), ENOENT);
}

struct calls_seen {
	int64_t ids[32];
	int n;
};

static int call_h(const struct store_call *c, void *arg)
{
	struct calls_seen *cs = arg;

	cs->ids[cs->n++] = c->id;
	return 0;
}

static int add_turn(struct store *st, int64_t call_id, int seq,
		    const char *role, const char *text)
{
	struct store_turn t;

	memset(&t, 0, sizeof(t));
	t.call_id = call_id;
	t.seq = seq;
	snprintf(t.role, sizeof(t.role), "%s", role);
	t.text = (char *)text;
	t.stt_ms = t.llm_ms = t.tts_ms = t.response_ms = -1;
	return store_turn_insert(st, &t, NULL);
}

/* Lists with filter f, returns total, the ids in cs. */
static int64_t list(struct store *st, const struct store_call_filter *f,
		    struct calls_seen *cs)
{
	int64_t total = -1;

	memset(cs, 0, sizeof(*cs));
	assert_int_equal(store_call_list(st, f, call_h, cs, &total), 0);
	return total;
}

static void test_calls_list(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	const int64_t day = 86400000LL, t0 = 1733011200000LL; /* 2024-12-01 */
	struct calls_seen cs;
	struct store_call_filter f;
	struct store_call c;
	int64_t id[8];

	/* id[i] started on day i; all "completed" but 2 and 5 */
	static const char *const callers[] = {
		"+4930111", "+4930222", "+4930111", "100%_off", "+4930333",
		"+4930111", "a\\b", "+4930444",
	};
	for (int i = 0; i < 8; i++) {
		c = make_call(callers[i], i == 2 || i == 5 ? "failed" : "completed",
			      t0 + i * day);
		assert_int_equal(store_call_insert(st, &c, &id[i]), 0);
	}
	assert_int_equal(add_turn(st, id[1], 0, "caller",
				  "I need to RESCHEDULE my appointment"), 0);
	assert_int_equal(add_turn(st, id[1], 1, "bot", "Sure."), 0);
	assert_int_equal(add_turn(st, id[4], 0, "caller", "50% discount?"), 0);
	assert_int_equal(add_turn(st, id[7], 0, "caller", "file_name here"), 0);

	/* everything, newest first */
	assert_int_equal(list(st, NULL, &cs), 8);
	assert_int_equal(cs.n, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(cs.ids[i], id[7 - i]);

	memset(&f, 0, sizeof(f));
	f.caller = "+4930111";
	assert_int_equal(list(st, &f, &cs), 3);
	assert_int_equal(cs.ids[0], id[5]);
	assert_int_equal(cs.ids[1], id[2]);
	assert_int_equal(cs.ids[2], id[0]);
	f.caller = "+4930";	/* exact, not a prefix */
	assert_int_equal(list(st, &f, &cs), 0);

	memset(&f, 0, sizeof(f));
	f.status = "failed";
	assert_int_equal(list(st, &f, &cs), 2);
	f.caller = "+4930111";
	assert_int_equal(list(st, &f, &cs), 2);

	/* [from, to) */
	memset(&f, 0, sizeof(f));
	f.from_ms = t0 + 2 * day;
	f.to_ms = t0 + 5 * day;
	assert_int_equal(list(st, &f, &cs), 3);
	assert_int_equal(cs.ids[0], id[4]);
	assert_int_equal(cs.ids[2], id[2]);
	f.to_ms = 0;
	assert_int_equal(list(st, &f, &cs), 6);
	f.from_ms = 0;
	f.to_ms = t0 + day;
	assert_int_equal(list(st, &f, &cs), 1);
	assert_int_equal(cs.ids[0], id[0]);

	/* q: turn text (any case), caller, callee */
	memset(&f, 0, sizeof(f));
	f.q = "reschedule";
	assert_int_equal(list(st, &f, &cs), 1);
	assert_int_equal(cs.ids[0], id[1]);
	f.q = "4930111";
	assert_int_equal(list(st, &f, &cs), 3);
	f.q = "bot";
	assert_int_equal(list(st, &f, &cs), 8);
	f.q = "no such words";
	assert_int_equal(list(st, &f, &cs), 0);

	/* LIKE metacharacters are literal */
	f.q = "%";
	assert_int_equal(list(st, &f, &cs), 2);	/* "100%_off", "50% discount?" */
	assert_int_equal(cs.ids[0], id[4]);
	assert_int_equal(cs.ids[1], id[3]);
	f.q = "_";
	assert_int_equal(list(st, &f, &cs), 2);	/* "100%_off", "file_name" */
	assert_int_equal(cs.ids[0], id[7]);
	assert_int_equal(cs.ids[1], id[3]);
	f.q = "%_";
	assert_int_equal(list(st, &f, &cs), 1);
	assert_int_equal(cs.ids[0], id[3]);
	f.q = "\\";
	assert_int_equal(list(st, &f, &cs), 1);
	assert_int_equal(cs.ids[0], id[6]);
	f.q = "0%o";	/* would match "100%_off" if % were a wildcard... */
	assert_int_equal(list(st, &f, &cs), 0);
	f.q = "'; DROP TABLE calls;--";
	assert_int_equal(list(st, &f, &cs), 0);

	/* q with the other filters */
	f.q = "4930111";
	f.status = "completed";
	assert_int_equal(list(st, &f, &cs), 1);
	assert_int_equal(cs.ids[0], id[0]);

	/* pagination: the total is all matches, pages do not overlap */
	memset(&f, 0, sizeof(f));
	f.limit = 3;
	int64_t seen[8];
	int n = 0;
	for (f.offset = 0; f.offset < 10; f.offset += 3) {
		assert_int_equal(list(st, &f, &cs), 8);
		assert_true(cs.n <= 3);
		for (int i = 0; i < cs.n; i++)
			seen[n++] = cs.ids[i];
	}
	assert_int_equal(n, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(seen[i], id[7 - i]);
	f.offset = 100;
	assert_int_equal(list(st, &f, &cs), 8);
	assert_int_equal(cs.n, 0);
	f.offset = -1;
	assert_int_equal(store_call_list(st, &f, call_h, &cs, NULL), EINVAL);

	f.offset = 1;
	f.limit = 2;
	f.caller = "+4930111";
	assert_int_equal(list(st, &f, &cs), 3);
	assert_int_equal(cs.n, 2);
	assert_int_equal(cs.ids[0], id[2]);
	assert_int_equal(cs.ids[1], id[0]);
}

/* The history's unfiltered total comes from the counter the triggers keep (migration 4):
 * it follows every insert and delete, ours or another connection's. */
static void test_calls_total(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct store_call_filter f;
	struct calls_seen cs;
	struct store_call c;
	int64_t id[3];

	memset(&f, 0, sizeof(f));
	assert_int_equal(list(st, &f, &cs), 0);
	for (int i = 0; i < 3; i++) {
		c = make_call(i ? "+4930222" : "+4930111", "completed", 1733011200000LL + i);
		assert_int_equal(store_call_insert(st, &c, &id[i]), 0);
	}
	assert_int_equal(list(st, &f, &cs), 3);
	assert_int_equal(store_call_delete(st, id[0]), 0);
	assert_int_equal(list(st, &f, &cs), 2);
	/* by hand, through another connection */
	assert_int_equal(db_count(fx, "DELETE FROM calls WHERE caller = '+4930222'"
				      " RETURNING 1"), 1);
	assert_int_equal(list(st, &f, &cs), 0);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM calls"), 0);
	/* a filtered total is still counted over the matches */
	c = make_call("+4930333", "completed", 1733011200000LL);
	assert_int_equal(store_call_insert(st, &c, &id[0]), 0);
	c = make_call("+4930444", "failed", 1733011200001LL);
	assert_int_equal(store_call_insert(st, &c, &id[1]), 0);
	f.status = "failed";
	assert_int_equal(list(st, &f, &cs), 1);
	f.status = NULL;
	assert_int_equal(list(st, &f, &cs), 2);
}

/* Turns */

struct turns_seen {
	int seqs[8];
	char roles[8][8];
	char *texts[8];
	int stt[8];
	int n;
};

static int turn_h(struct store_turn *t, void *arg)
{
	struct turns_seen *ts = arg;

	ts->seqs[ts->n] = t->seq;
	strcpy(ts->roles[ts->n], t->role);
	ts->stt[ts->n] = t->stt_ms;
	ts->texts[ts->n++] = t->text;
	t->text = NULL;	/* kept */
	return 0;
}

static void turns_free(struct turns_seen *ts)
{
	for (int i = 0; i < ts->n; i++)
		free(ts->texts[i]);
	memset(ts, 0, sizeof(*ts));
}

static void test_turns(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct turns_seen ts = { 0 };
	struct store_call c = make_call("+4930555", "completed", 1733331600000LL);
	struct store_turn t;
	int64_t call, other, tid = 0;

	assert_int_equal(store_call_insert(st, &c, &call), 0);
	assert_int_equal(store_call_insert(st, &c, &other), 0);

	memset(&t, 0, sizeof(t));
	t.call_id = call;
	t.seq = 2;
	strcpy(t.role, "bot");
	t.text = "gAAAAABfernet-token==";
	t.started_at = 1733331605000LL;
	t.stt_ms = 120;
	t.llm_ms = 340;
	t.tts_ms = 80;
	t.response_ms = 560;
	assert_int_equal(store_turn_insert(st, &t, &tid), 0);
	assert_true(tid > 0);
	assert_int_equal(add_turn(st, call, 0, "caller", "hello"), 0);
	assert_int_equal(add_turn(st, call, 1, "tool", NULL), 0);
	assert_int_equal(add_turn(st, other, 0, "caller", "other call"), 0);

	assert_int_equal(add_turn(st, call, 1, "bot", "again"), EEXIST);
	assert_int_equal(add_turn(st, 9999, 0, "bot", "orphan"), ENOENT);
	assert_int_equal(add_turn(st, call, 3, "system", "x"), EINVAL);
	assert_int_equal(add_turn(st, call, -1, "bot", "x"), EINVAL);

	assert_int_equal(store_turn_list(st, call, turn_h, &ts), 0);
	assert_int_equal(ts.n, 3);
	assert_int_equal(ts.seqs[0], 0);
	assert_int_equal(ts.seqs[1], 1);
	assert_int_equal(ts.seqs[2], 2);
	assert_string_equal(ts.roles[0], "caller");
	assert_string_equal(ts.texts[0], "hello");
	assert_null(ts.texts[1]);
	assert_string_equal(ts.roles[1], "tool");
	assert_string_equal(ts.texts[2], "gAAAAABfernet-token==");
	assert_int_equal(ts.stt[0], -1);
	assert_int_equal(ts.stt[2], 120);
	turns_free(&ts);

	/* deleting a call deletes its turns, and only its */
	assert_int_equal(store_call_delete(st, call), 0);
	assert_int_equal(store_turn_list(st, call, turn_h, &ts), 0);
	assert_int_equal(ts.n, 0);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM turns"), 1);
}

static int add_timed_turn(struct store *st, int64_t call_id, int seq,
			  int response_ms)
{
	struct store_turn t;

	memset(&t, 0, sizeof(t));
	t.call_id = call_id;
	t.seq = seq;
	strcpy(t.role, seq % 2 ? "bot" : "caller");
	t.stt_ms = t.llm_ms = t.tts_ms = -1;
	t.response_ms = response_ms;
	return store_turn_insert(st, &t, NULL);
}

static void test_call_stats(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	const int64_t t0 = 1733011200000LL, day = 86400000LL;
	struct store_call_stats s;
	struct store_call c;
	int64_t old, a, b, live;

	/* empty database */
	assert_int_equal(store_call_stats(st, 0, &s), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(s.turns, 0);
	assert_int_equal(s.avg_response_ms, -1);
	assert_int_equal(s.active, 0);
	assert_int_equal(store_call_stats(NULL, 0, &s), EINVAL);
	assert_int_equal(store_call_stats(st, 0, NULL), EINVAL);

	c = make_call("+1", "completed", t0 - day);
	c.answered_at = c.started_at + 1000;
	c.ended_at = c.started_at + 5000;
	assert_int_equal(store_call_insert(st, &c, &old), 0);
	assert_int_equal(add_timed_turn(st, old, 1, 5000), 0);

	c = make_call("+2", "completed", t0);
	c.answered_at = t0 + 1000;
	c.ended_at = t0 + 9000;
	assert_int_equal(store_call_insert(st, &c, &a), 0);
	assert_int_equal(add_timed_turn(st, a, 0, -1), 0);
	assert_int_equal(add_timed_turn(st, a, 1, 400), 0);
	assert_int_equal(add_timed_turn(st, a, 3, 601), 0);

	c = make_call("+3", "failed", t0 + 10);	/* never answered */
	c.ended_at = t0 + 20;
	assert_int_equal(store_call_insert(st, &c, &b), 0);

	c = make_call("+4", "in_progress", t0 + day);	/* what calls write */
	c.answered_at = t0 + day + 500;
	assert_int_equal(store_call_insert(st, &c, &live), 0);
	assert_int_equal(add_timed_turn(st, live, 0, -1), 0);
	c = make_call("+5", "ringing", t0 - 2 * day);	/* old but live */
	assert_int_equal(store_call_insert(st, &c, NULL), 0);
	c = make_call("+6", "active", t0 + 5);	/* stale: has ended_at */
	c.ended_at = t0 + 6;
	assert_int_equal(store_call_insert(st, &c, NULL), 0);

	assert_int_equal(store_call_stats(st, t0, &s), 0);
	assert_int_equal(s.calls, 4);
	assert_int_equal(s.answered, 2);
	assert_int_equal(s.turns, 4);
	assert_int_equal(s.avg_response_ms, 501);	/* (400 + 601) / 2 rounded */
	assert_int_equal(s.active, 2);

	assert_int_equal(store_call_stats(st, 0, &s), 0);
	assert_int_equal(s.calls, 6);
	assert_int_equal(s.answered, 3);
	assert_int_equal(s.turns, 5);
	assert_int_equal(s.avg_response_ms, 2000);	/* (5000+400+601)/3 */
	assert_int_equal(s.active, 2);

	assert_int_equal(store_call_stats(st, t0 + 2 * day, &s), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(s.avg_response_ms, -1);
	assert_int_equal(s.active, 2);
}

static int full_turn_h(struct store_turn *t, void *arg)
{
	struct store_turn *out = arg;

	*out = *t;
	t->text = NULL;
	return 0;
}

static void test_turn_fields(void **state)
{
	struct fixture *fx = *state;
	struct store_call c = make_call("+1", "completed", 1733331600000LL);
	struct store_turn t, got;
	int64_t call;

	assert_int_equal(store_call_insert(fx->st, &c, &call), 0);
	memset(&t, 0, sizeof(t));
	t.call_id = call;
	t.seq = 7;
	strcpy(t.role, "bot");
	t.text = "";
	t.started_at = 1733331605123LL;
	t.stt_ms = 0;
	t.llm_ms = 1;
	t.tts_ms = -1;
	t.response_ms = 999999;
	assert_int_equal(store_turn_insert(fx->st, &t, &t.id), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_turn_list(fx->st, call, full_turn_h, &got), 0);
	assert_int_equal(got.id, t.id);
	assert_int_equal(got.call_id, call);
	assert_int_equal(got.seq, 7);
	assert_string_equal(got.role, "bot");
	assert_non_null(got.text);
	assert_string_equal(got.text, "");	/* "" stays "", not NULL */
	assert_int_equal(got.started_at, 1733331605123LL);
	assert_int_equal(got.stt_ms, 0);
	assert_int_equal(got.llm_ms, 1);
	assert_int_equal(got.tts_ms, -1);
	assert_int_equal(got.response_ms, 999999);
	store_turn_clear(&got);
	assert_null(got.text);
	store_turn_clear(NULL);
}

/* A handler may call the store again (export: calls, then their turns). */

struct export_ctx {
	struct store *st;
	int calls, turns;
};

static int export_turn_h(struct store_turn *t, void *arg)
{
	struct export_ctx *ex = arg;

	(void)t;
	ex->turns++;
	return 0;
}

static int export_call_h(const struct store_call *c, void *arg)
{
	struct export_ctx *ex = arg;
	struct store_call again;

	ex->calls++;
	assert_int_equal(store_call_get(ex->st, c->id, &again), 0);
	assert_int_equal(store_audit(ex->st, 0, "export", again.caller, NULL), 0);
	return store_turn_list(ex->st, c->id, export_turn_h, ex);
}

static void test_reentrant_handlers(void **state)
{
	struct fixture *fx = *state;
	struct export_ctx ex = { fx->st, 0, 0 };
	struct store_call_filter f = { .caller = "+4930999" };
	struct store_call c = make_call("+4930999", "completed", 1733331600000LL);
	int64_t total = 0;

	for (int i = 0; i < 3; i++) {
		int64_t id;

		c.started_at += 1000;
		assert_int_equal(store_call_insert(fx->st, &c, &id), 0);
		assert_int_equal(add_turn(fx->st, id, 0, "caller", "hi"), 0);
		assert_int_equal(add_turn(fx->st, id, 1, "bot", "hello"), 0);
	}
	assert_int_equal(store_call_list(fx->st, &f, export_call_h, &ex, &total),
			 0);
	assert_int_equal(total, 3);
	assert_int_equal(ex.calls, 3);
	assert_int_equal(ex.turns, 6);
}

/* Threads share one store. */

static void *audit_writer(void *arg)
{
	struct store *st = arg;

	for (int i = 0; i < 100; i++) {
		if (store_audit(st, 0, "thread", "x", NULL) != 0)
			return (void *)1;
	}
	return NULL;
}

static int count_h(const struct store_call *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static void test_threads(void **state)
{
	struct fixture *fx = *state;
	pthread_t th[4];
	struct store_call c = make_call("+1", "completed", 1733331600000LL);
	int64_t total = 0;
	int n = 0;

	assert_int_equal(store_call_insert(fx->st, &c, NULL), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, audit_writer,
						fx->st), 0);
	for (int i = 0; i < 50; i++)
		assert_int_equal(store_call_list(fx->st, NULL, count_h, &n, NULL),
				 0);
	for (int i = 0; i < 4; i++) {
		void *ret;

		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(n, 50);
	struct audit_seen as = { 0 };
	assert_int_equal(store_audit_list(fx->st, 0, 1, audit_h, &as, &total), 0);
	assert_int_equal(total, 400);
}

static int first_text_h(struct store_turn *t, void *arg)
{
	char **out = arg;

	if (!*out) {
		*out = t->text;
		t->text = NULL;
	}
	return 0;
}

static void test_encryption(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct store_call c = make_call("+4930111", "completed", 1733331600000LL);
	struct store_call_filter f;
	struct calls_seen cs;
	char k1[FERNET_KEY_LEN + 1], k2[FERNET_KEY_LEN + 1], ring[100];
	char *text = NULL;
	int64_t call, other;

	assert_int_equal(fernet_key_generate(k1), 0);
	assert_int_equal(fernet_key_generate(k2), 0);
	assert_int_equal(store_set_encryption_key(st, "not-a-key"), EINVAL);
	assert_int_equal(store_set_encryption_key(st, k1), 0);
	assert_non_null(store_keyring(st));

	assert_int_equal(store_call_insert(st, &c, &call), 0);
	c = make_call("+4930222", "completed", 1733331700000LL);
	assert_int_equal(store_call_insert(st, &c, &other), 0);
	assert_int_equal(add_turn(st, call, 0, "caller", "my Secret Diagnosis"), 0);
	assert_int_equal(add_turn(st, other, 0, "caller", "nothing here"), 0);

	/* stored as tokens, never the words */
	assert_int_equal(db_count(fx, "SELECT count(*) FROM turns WHERE text LIKE 'gAAAAA%'"), 2);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM turns WHERE text LIKE '%Secret%'"), 0);
	assert_int_equal(store_turn_list(st, call, first_text_h, &text), 0);
	assert_string_equal(text, "my Secret Diagnosis");
	free(text);
	text = NULL;

	/* search sees through the encryption, case-insensitively, with paging */
	memset(&f, 0, sizeof(f));
	f.q = "secret diag";
	assert_int_equal(list(st, &f, &cs), 1);
	assert_int_equal(cs.ids[0], call);
	f.q = "+4930";
	assert_int_equal(list(st, &f, &cs), 2);
	f.limit = 1;
	f.offset = 1;
	assert_int_equal(list(st, &f, &cs), 2);
	assert_int_equal(cs.n, 1);
	assert_int_equal(cs.ids[0], call);	/* newest first */

	/* rotation: the new key first keeps old tokens readable */
	snprintf(ring, sizeof(ring), "%s,%s", k2, k1);
	assert_int_equal(store_set_encryption_key(st, ring), 0);
	assert_int_equal(store_turn_list(st, call, first_text_h, &text), 0);
	assert_string_equal(text, "my Secret Diagnosis");
	free(text);
	text = NULL;

	/* without the key, the token is shown as stored */
	assert_int_equal(store_set_encryption_key(st, k2), 0);
	assert_int_equal(store_turn_list(st, call, first_text_h, &text), 0);
	assert_true(fernet_token_is(text, strlen(text)));
	free(text);
	text = NULL;
	assert_int_equal(store_set_encryption_key(st, NULL), 0);
	assert_null(store_keyring(st));
}

static void test_purge_erase(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	const int64_t now = 1733331600000LL, day = 86400000LL;
	struct data_ctx dc = { .st = st, .hash_key = "k" };
	struct data_purge_counts pc;
	struct data_erase_counts ec;
	struct store_call c, got;
	int64_t old, recent, again;
	char hash[80];

	c = make_call("+4940111", "completed", now - 40 * day);
	snprintf(c.consent, sizeof(c.consent), "%s", "announced");
	assert_int_equal(store_call_insert(st, &c, &old), 0);
	c = make_call("+4940111", "completed", now - day);
	assert_int_equal(store_call_insert(st, &c, &recent), 0);
	assert_int_equal(add_turn(st, old, 0, "caller", "old words"), 0);
	assert_int_equal(add_turn(st, recent, 0, "caller", "new words"), 0);
	assert_int_equal(store_audit(st, 0, "export", "number +4940111", NULL), 0);

	assert_int_equal(data_purge(&dc, 30, now, &pc), 0);
	assert_int_equal(pc.calls, 1);
	assert_int_equal(pc.turns, 1);
	assert_int_equal(store_call_get(st, old, &got), 0);
	assert_string_equal(got.caller, "");
	assert_string_equal(got.sip_call_id, "");
	assert_string_equal(got.status, "completed");
	assert_string_equal(got.consent, "announced");
	assert_int_equal(db_count(fx, "SELECT count(*) FROM turns WHERE text IS NULL"), 1);
	/* a second run finds nothing more */
	assert_int_equal(data_purge(&dc, 30, now, &pc), 0);
	assert_int_equal(pc.calls, 0);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM audit_log WHERE action = 'purge'"), 2);

	c = make_call("+4940999", "completed", now);
	snprintf(c.callee, sizeof(c.callee), "%s", "+4940111");	/* outbound */
	assert_int_equal(store_call_insert(st, &c, &again), 0);
	assert_int_equal(data_erase(&dc, "+4940111", &ec), 0);
	assert_int_equal(ec.calls, 2);
	assert_int_equal(ec.turns, 1);
	assert_int_equal(ec.audit_rows, 1);
	assert_int_equal(store_call_get(st, recent, &got), ENOENT);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM calls"), 1);	/* the anonymised */
	assert_int_equal(db_count(fx, "SELECT count(*) FROM audit_log WHERE details LIKE '%4940111%'"), 0);
	data_number_hash("+4940111", "k", hash);
	assert_int_equal(strncmp(hash, "hmac-sha256:", 12), 0);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM audit_log WHERE action = 'erase'"), 1);
}

/* The serve-side thread starts, idles and stops promptly (no purge yet). */
static void test_retention_thread(void **state)
{
	struct fixture *fx = *state;
	struct retention *r = NULL;
	struct conf c;
	int64_t t0;

	memset(&c, 0, sizeof(c));
	c.retention_days = 0;
	assert_int_equal(retention_start(&r, &c, fx->st), 0);
	assert_null(r);	/* RETENTION_DAYS=0: no thread */
	c.retention_days = 30;
	c.audio_dir = fx->dir;
	assert_int_equal(retention_start(&r, &c, fx->st), 0);
	assert_non_null(r);
	t0 = store_time_now();
	retention_stop(r);
	assert_true(store_time_now() - t0 < 1000);
	retention_stop(NULL);
}

struct restarter {
	const char *cmd;
	int rc;
};

static void *restart_server(void *arg)
{
	struct restarter *r = arg;

	usleep(200 * 1000);
	r->rc = system(r->cmd);
	return NULL;
}

/* CALLBOT_TEST_PG_RESTART: a command restarting the PostgreSQL server.
 * Turns are written while it restarts: every acknowledged one must be there. */
static int add_turn_at(struct store *st, int64_t call_id, int seq,
		       const char *role, const char *text, int64_t at)
{
	struct store_turn t;

	memset(&t, 0, sizeof(t));
	t.call_id = call_id;
	t.seq = seq;
	snprintf(t.role, sizeof(t.role), "%s", role);
	t.text = (char *)text;
	t.started_at = at;
	t.stt_ms = t.llm_ms = t.tts_ms = t.response_ms = -1;
	return store_turn_insert(st, &t, NULL);
}

/* Crash recovery: a node restarting after a crash ends its own open calls
 * (and rows without a node), keeps their turns, leaves other nodes' calls. */
static void test_close_crashed(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	struct turns_seen ts = { 0 };
	struct store_call c, got;
	int64_t mine, mine_ringing, mine_done, legacy, other, closed = -1;
	char sql[160];

	assert_int_equal(store_set_node(st, "node-a"), 0);
	assert_string_equal(store_node(st), "node-a");
	c = make_call("+4930100", "active", 1733331600000LL);
	c.answered_at = 1733331601000LL;
	assert_int_equal(store_call_insert(st, &c, &mine), 0);
	assert_int_equal(add_turn_at(st, mine, 0, "caller", "hello",
				     1733331603000LL), 0);
	assert_int_equal(add_turn_at(st, mine, 1, "bot", "hi there",
				     1733331606000LL), 0);
	c = make_call("+4930101", "ringing", 1733331700000LL);
	assert_int_equal(store_call_insert(st, &c, &mine_ringing), 0);
	c = make_call("+4930102", "completed", 1733331500000LL);
	c.answered_at = 1733331500500LL;
	c.ended_at = 1733331510000LL;
	strcpy(c.end_reason, "caller_bye");
	assert_int_equal(store_call_insert(st, &c, &mine_done), 0);

	/* a row written without a node (before migration 2) */
	assert_int_equal(store_set_node(st, NULL), 0);
	c = make_call("+4930103", "active", 1733331600000LL);
	assert_int_equal(store_call_insert(st, &c, &legacy), 0);

	assert_int_equal(store_set_node(st, "node-b"), 0);
	c = make_call("+4930104", "active", 1733331600000LL);
	c.answered_at = 1733331600100LL;
	assert_int_equal(store_call_insert(st, &c, &other), 0);

	assert_int_equal(store_set_node(st, "node-a"), 0);
	assert_int_equal(store_close_crashed_calls(st, NULL, &closed), 0);
	assert_int_equal(closed, 3);

	/* answered: completed, ended at its last turn's time */
	assert_int_equal(store_call_get(st, mine, &got), 0);
	assert_string_equal(got.status, "completed");
	assert_string_equal(got.end_reason, "crash");
	assert_int_equal(got.ended_at, 1733331606000LL);
	assert_int_equal(store_turn_list(st, mine, turn_h, &ts), 0);
	assert_int_equal(ts.n, 2);
	assert_string_equal(ts.texts[0], "hello");
	assert_string_equal(ts.texts[1], "hi there");
	turns_free(&ts);

	/* never answered: failed, ended when it started */
	assert_int_equal(store_call_get(st, mine_ringing, &got), 0);
	assert_string_equal(got.status, "failed");
	assert_string_equal(got.end_reason, "crash");
	assert_int_equal(got.ended_at, 1733331700000LL);

	/* an ended call is untouched */
	assert_int_equal(store_call_get(st, mine_done, &got), 0);
	assert_string_equal(got.status, "completed");
	assert_string_equal(got.end_reason, "caller_bye");
	assert_int_equal(got.ended_at, 1733331510000LL);

	assert_int_equal(store_call_get(st, legacy, &got), 0);
	assert_string_equal(got.end_reason, "crash");

	/* another node's open call stays open */
	assert_int_equal(store_call_get(st, other, &got), 0);
	assert_string_equal(got.status, "active");
	assert_string_equal(got.end_reason, "");
	assert_int_equal(got.ended_at, 0);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM calls WHERE node_id = 'node-b' AND id = %lld",
		 (long long)other);
	assert_int_equal(db_count(fx, sql), 1);

	/* idempotent; then node-b recovers its own */
	assert_int_equal(store_close_crashed_calls(st, NULL, &closed), 0);
	assert_int_equal(closed, 0);
	assert_int_equal(store_close_crashed_calls(st, "node-b", &closed), 0);
	assert_int_equal(closed, 1);
	assert_int_equal(store_call_get(st, other, &got), 0);
	assert_string_equal(got.status, "completed");
	assert_int_equal(got.ended_at, 1733331600100LL);

	/* bad arguments */
	{
		char big[80];

		memset(big, 'n', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(store_set_node(st, big), EINVAL);
		assert_int_equal(store_close_crashed_calls(st, big, NULL), EINVAL);
		assert_int_equal(store_close_crashed_calls(NULL, NULL, NULL), EINVAL);
		assert_string_equal(store_node(st), "node-a");
	}
}

static void test_pg_restart(void **state)
{
	struct fixture *fx = *state;
	struct store_call c = make_call("+4950000", "active", 1733331600000LL);
	struct restarter r = { getenv("CALLBOT_TEST_PG_RESTART"), -1 };
	pthread_t th;
	int64_t call, acked = 0, failed = 0, t0;
	char sql[128];

	if (!pg_url || !r.cmd || !r.cmd[0])
		skip();
	assert_int_equal(store_call_insert(fx->st, &c, &call), 0);
	assert_int_equal(pthread_create(&th, NULL, restart_server, &r), 0);
	t0 = store_time_now();
	for (int seq = 0; store_time_now() - t0 < 4000 && seq < 100000; seq++) {
		if (add_turn(fx->st, call, seq, seq % 2 ? "bot" : "caller", "words") == 0)
			acked++;
		else
			failed++;
		usleep(2000);
	}
	pthread_join(th, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(failed, 0);	/* writes waited for the server */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM turns WHERE call_id = %lld",
		 (long long)call);
	assert_int_equal(db_count(fx, sql), acked);
	assert_true(acked > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_private_file,
						setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_open_relative, setup_dir,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup_dir,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate, setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_journal_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentrant_handlers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encryption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_crashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_restart, setup, teardown),
	};
	/* the first SQLITE_ONLY tests look at SQLite files and pragmas */
	const size_t sqlite_only = 5;

	/* the store's expected error lines would drown the results */
	log_set_level(LOGL_ERROR);
	pg_url = getenv("CALLBOT_TEST_PG_URL");
	if (pg_url && pg_url[0])
		return _cmocka_run_group_tests("store_postgresql", tests + sqlite_only,
					       sizeof(tests) / sizeof(tests[0]) - sqlite_only,
					       NULL, NULL);
	pg_url = NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
