/* sqlite.c - the SQLite store backend: one shared WAL connection, cached prepared statements. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/store_impl.h"
#include "store/time_iso.h"

#define BUSY_TIMEOUT_MS 5000
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define USER_COLS "id, username, password_hash, role, created_at, disabled," \
	" last_login_at"
#define TOKEN_COLS "t.id, t.user_id, u.username, t.name, t.created_at," \
	" t.last_used_at"
#define CALL_COLS "id, sip_call_id, caller, callee, started_at, answered_at," \
	" ended_at, status, end_reason, consent, recording_path"
#define TURN_COLS "id, call_id, seq, role, text, started_at, stt_ms, llm_ms," \
	" tts_ms, response_ms"
#define AUDIT_COLS "a.id, a.timestamp, a.user_id, u.username, a.action," \
	" a.details, a.ip_address"

/*
 * Every statement the backend runs. Values are always bound, never spliced
 * into the text; each statement is prepared once per connection, on first
 * use (so a store that is not migrated yet can still be opened).
 */
#define QUERIES(X) \
	X(BEGIN, "BEGIN") \
	X(BEGIN_IMMEDIATE, "BEGIN IMMEDIATE") \
	X(COMMIT, "COMMIT") \
	X(ROLLBACK, "ROLLBACK") \
	X(HAS_MIGRATIONS, "SELECT count(*) FROM sqlite_master" \
	  " WHERE type = 'table' AND name = 'schema_migrations'") \
	X(VERSION, "SELECT coalesce(max(version), 0) FROM schema_migrations") \
	X(MIGRATION_APPLIED, "SELECT 1 FROM schema_migrations WHERE version = ?1") \
	X(MIGRATION_RECORD, "INSERT INTO schema_migrations(version, applied_at)" \
	  " VALUES (?1, ?2)") \
	X(USER_ADD, "INSERT INTO users(username, password_hash, role," \
	  " created_at) VALUES (?1, ?2, ?3, ?4)") \
	X(USER_GET, "SELECT " USER_COLS " FROM users WHERE username = ?1") \
	X(USER_GET_BY_ID, "SELECT " USER_COLS " FROM users WHERE id = ?1") \
	X(USER_SET_PASSWORD, "UPDATE users SET password_hash = ?2" \
	  " WHERE username = ?1") \
	X(USER_SET_DISABLED, "UPDATE users SET disabled = ?2 WHERE username = ?1") \
	X(USER_SET_ROLE, "UPDATE users SET role = ?2 WHERE username = ?1") \
	X(USER_TOUCH_LOGIN, "UPDATE users SET last_login_at = ?2 WHERE id = ?1") \
	X(USER_DEL, "DELETE FROM users WHERE username = ?1") \
	X(USER_LIST, "SELECT " USER_COLS " FROM users ORDER BY username") \
	X(USER_COUNT, "SELECT count(*) FROM users") \
	X(TOKEN_ADD, "INSERT INTO api_tokens(user_id, token_hash, name," \
	  " created_at) VALUES (?1, ?2, ?3, ?4)") \
	X(TOKEN_TOUCH, "UPDATE api_tokens SET last_used_at = ?2" \
	  " WHERE token_hash = ?1") \
	X(TOKEN_FIND, "SELECT " TOKEN_COLS " FROM api_tokens t" \
	  " JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1") \
	X(TOKEN_REVOKE, "DELETE FROM api_tokens WHERE id = ?1") \
	X(TOKEN_LIST, "SELECT " TOKEN_COLS " FROM api_tokens t" \
	  " JOIN users u ON u.id = t.user_id ORDER BY t.id") \
	X(SETTING_GET, "SELECT value FROM settings WHERE key = ?1") \
	X(SETTING_SET, "INSERT INTO settings(key, value, updated_at, updated_by)" \
	  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET" \
	  " value = excluded.value, updated_at = excluded.updated_at," \
	  " updated_by = excluded.updated_by") \
	X(SETTING_LIST, "SELECT key, value, updated_at, updated_by FROM settings" \
	  " ORDER BY key") \
	X(AUDIT_ADD, "INSERT INTO audit_log(timestamp, user_id, action, details," \
	  " ip_address) VALUES (?1, ?2, ?3, ?4, ?5)") \
	X(AUDIT_COUNT, "SELECT count(*) FROM audit_log") \
	X(AUDIT_LIST, "SELECT " AUDIT_COLS " FROM audit_log a" \
	  " LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id DESC" \
	  " LIMIT ?1 OFFSET ?2") \
	X(CALL_INSERT, "INSERT INTO calls(sip_call_id, caller, callee," \
	  " started_at, answered_at, ended_at, status, end_reason, consent," \
	  " recording_path, node_id)" \
	  " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)") \
	X(CALL_UPDATE, "UPDATE calls SET sip_call_id = ?2, caller = ?3," \
	  " callee = ?4, started_at = ?5, answered_at = ?6, ended_at = ?7," \
	  " status = ?8, end_reason = ?9, consent = ?10, recording_path = ?11" \
	  " WHERE id = ?1") \
	X(CALL_GET, "SELECT " CALL_COLS " FROM calls WHERE id = ?1") \
	X(CALL_DELETE, "DELETE FROM calls WHERE id = ?1") \
	X(CALL_STATS, "SELECT" \
	  " (SELECT count(*) FROM calls WHERE ?1 IS NULL OR started_at >= ?1)," \
	  " (SELECT count(*) FROM calls WHERE (?1 IS NULL OR started_at >= ?1)" \
	  "  AND answered_at IS NOT NULL)," \
	  " (SELECT count(*) FROM turns t JOIN calls c ON c.id = t.call_id" \
	  "  WHERE ?1 IS NULL OR c.started_at >= ?1)," \
	  " (SELECT avg(t.response_ms) FROM turns t JOIN calls c" \
	  "  ON c.id = t.call_id WHERE (?1 IS NULL OR c.started_at >= ?1)" \
	  "  AND t.response_ms IS NOT NULL)," \
	  " (SELECT count(*) FROM calls" \
	  "  WHERE status IN ('active', 'ringing', 'in_progress')" \
	  "  AND ended_at IS NULL)") \
	X(TURN_INSERT, "INSERT INTO turns(call_id, seq, role, text, started_at," \
	  " stt_ms, llm_ms, tts_ms, response_ms)" \
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)") \
	X(TURN_LIST, "SELECT " TURN_COLS " FROM turns WHERE call_id = ?1" \
	  " ORDER BY seq") \
	X(TURN_SCAN, "SELECT " TURN_COLS " FROM turns WHERE id > ?1" \
	  " ORDER BY id LIMIT ?2") \
	X(TURN_SET_TEXT, "UPDATE turns SET text = ?2 WHERE id = ?1") \
	X(CALLS_BY_NUMBER, "SELECT " CALL_COLS " FROM calls" \
	  " WHERE caller = ?1 OR callee = ?1 ORDER BY started_at, id") \
	X(CALLS_PURGEABLE, "SELECT " CALL_COLS " FROM calls c" \
	  " WHERE started_at < ?1 AND (caller IS NOT NULL" \
	  " OR sip_call_id IS NOT NULL OR recording_path IS NOT NULL" \
	  " OR EXISTS (SELECT 1 FROM turns t WHERE t.call_id = c.id" \
	  " AND t.text IS NOT NULL)) ORDER BY started_at, id LIMIT ?2") \
	X(CALL_ANONYMIZE, "UPDATE calls SET caller = NULL, sip_call_id = NULL," \
	  " recording_path = NULL WHERE id = ?1") \
	X(TURNS_CLEAR, "UPDATE turns SET text = NULL WHERE call_id = ?1" \
	  " AND text IS NOT NULL") \
	X(CLOSE_CRASHED, "UPDATE calls SET" \
	  " ended_at = coalesce((SELECT max(t.started_at) FROM turns t" \
	  "  WHERE t.call_id = calls.id), answered_at, started_at, ?2)," \
	  " status = CASE WHEN answered_at IS NULL THEN 'failed'" \
	  "  ELSE 'completed' END, end_reason = 'crash'" \
	  " WHERE ended_at IS NULL AND (node_id = ?1 OR node_id IS NULL)") \
	X(AUDIT_REDACT, "UPDATE audit_log SET details = replace(details, ?1, ?2)" \
	  " WHERE instr(details, ?1) > 0")

#define Q_ENUM(name, text) Q_##name,
#define Q_TEXT(name, text) text,
#define Q_NAME(name, text) #name,

enum query { QUERIES(Q_ENUM) Q_COUNT };
static const char *const q_text[] = { QUERIES(Q_TEXT) };
static const char *const q_name[] = { QUERIES(Q_NAME) };

/*
 * store_call_list's WHERE clause is assembled from these fixed fragments,
 * one statement per combination of filters (so each can use its index);
 * user input is only ever bound to the named parameters.
 */
enum {
	CF_Q = 1 << 0,
	CF_CALLER = 1 << 1,
	CF_FROM = 1 << 2,
	CF_TO = 1 << 3,
	CF_STATUS = 1 << 4,
	CF_COMBOS = 1 << 5,
};

static const char *const call_filter_sql[] = {
	"(caller LIKE :q ESCAPE '\\' OR callee LIKE :q ESCAPE '\\'"
	" OR EXISTS (SELECT 1 FROM turns t"
	" WHERE t.call_id = c.id AND t.text LIKE :q ESCAPE '\\'))",
	"caller = :caller",
	"started_at >= :from",
	"started_at < :to",
	"status = :status",
};

struct sqlite_store {
	struct store base;
	pthread_mutex_t lock;	/* one operation at a time: they share statements */
	sqlite3 *db;
	char *path;
	bool memory;
	sqlite3_stmt *stmt[Q_COUNT];
	sqlite3_stmt *call_list[2][CF_COMBOS];	/* [0] rows, [1] count */
};

static struct sqlite_store *sq(struct store *st)
{
	return (struct sqlite_store *)st;
}

/* Errors */

static int sq_errno(sqlite3 *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		switch (rc) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return EEXIST;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return ENOENT;
		default:
			return EINVAL;
		}
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_READONLY:
		return EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return EACCES;
	case SQLITE_TOOBIG:
		return EMSGSIZE;
	case SQLITE_CANTOPEN:
		return db && sqlite3_system_errno(db) ? sqlite3_system_errno(db) :
						      EIO;
	default:
		return EIO;
	}
}

/* Maps rc to an errno value. Constraint failures are answers for the
 * caller (name taken, no such call); anything else is explained here. */
static int sq_fail(struct sqlite_store *s, const char *what, int rc)
{
	int err = sq_errno(s->db, rc);

	if (!err || (rc & 0xff) == SQLITE_CONSTRAINT)
		return err;
	/* Locked past busy_timeout: another process holds the file. Callers retry (the
	 * call-row writer) or answer 503 (the web): a warning, not an error of its own. */
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		log_warn("store: %s: %s: %s (another process holds the database)",
			 s->memory ? ":memory:" : s->path, what, sqlite3_errmsg(s->db));
	else
		log_error("store: %s: %s: %s", s->memory ? ":memory:" : s->path, what,
			  sqlite3_errmsg(s->db));
	return err;
}

/* Statements */

static int sq_prepare(struct sqlite_store *s, enum query id, sqlite3_stmt **qp)
{
	int rc;

	if (!s->stmt[id]) {
		rc = sqlite3_prepare_v3(s->db, q_text[id], -1,
					SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
					NULL);
		if (rc != SQLITE_OK)
			return sq_fail(s, q_name[id], rc);
	}
	*qp = s->stmt[id];
	return 0;
}

/* Returns a statement to the cache: resets it (releasing its read lock)
 * and drops the bindings, which may point at the caller's memory. */
static void sq_done(sqlite3_stmt *q)
{
	if (q) {
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
	}
}

/* rc is the OR of the sqlite3_bind_* results. */
static int sq_bound(struct sqlite_store *s, const char *what, int rc)
{
	if (rc == SQLITE_OK)
		return 0;
	rc = sqlite3_errcode(s->db);
	return sq_fail(s, what, rc != SQLITE_OK ? rc : SQLITE_ERROR);
}

/* A statement that returns no rows. */
static int sq_run(struct sqlite_store *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);

	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_fail(s, what, rc);
}

/* A statement that returns one row or none: 0 with the row ready, ENOENT. */
static int sq_row(struct sqlite_store *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return ENOENT;
	return sq_fail(s, what, rc);
}

/* Runs a cached statement without parameters or rows (BEGIN, COMMIT...). */
static int sq_simple(struct sqlite_store *s, enum query id)
{
	sqlite3_stmt *q = NULL;
	int err = sq_prepare(s, id, &q);

	if (!err)
		err = sq_run(s, q, q_name[id]);
	sq_done(q);
	return err;
}

/* Ends the transaction: commits if err is 0, else (or if that fails)
 * rolls back. Returns the first error. */
static int sq_end(struct sqlite_store *s, int err)
{
	if (!err)
		err = sq_simple(s, Q_COMMIT);
	if (err && sqlite3_get_autocommit(s->db) == 0)
		(void)sq_simple(s, Q_ROLLBACK);
	return err;
}

static int sq_count(struct sqlite_store *s, enum query id, int64_t *n)
{
	sqlite3_stmt *q = NULL;
	int err = sq_prepare(s, id, &q);

	if (!err)
		err = sq_row(s, q, q_name[id]);
	if (!err)
		*n = sqlite3_column_int64(q, 0);
	if (err == ENOENT)
		err = EIO;	/* count(*) always has a row */
	sq_done(q);
	return err;
}

/* Binding: "" and 0 are stored as NULL. */

static int bind_str(sqlite3_stmt *q, int i, const char *v)
{
	if (!v || !v[0])
		return sqlite3_bind_null(q, i);
	/* static: the value outlives the step, and sq_done drops the binding */
	return sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static int bind_time(sqlite3_stmt *q, int i, int64_t ms)
{
	char iso[32];

	if (!ms)
		return sqlite3_bind_null(q, i);
	store_time_iso(ms, iso);
	return sqlite3_bind_text(q, i, iso, -1, SQLITE_TRANSIENT);
}

static int bind_ms(sqlite3_stmt *q, int i, int v)
{
	return v < 0 ? sqlite3_bind_null(q, i) : sqlite3_bind_int(q, i, v);
}

static int bind_id(sqlite3_stmt *q, int i, int64_t id)
{
	return id ? sqlite3_bind_int64(q, i, id) : sqlite3_bind_null(q, i);
}

static int bind_named(sqlite3_stmt *q, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(q, name);

	return i ? sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT) : SQLITE_OK;
}

static int bind_named_int64(sqlite3_stmt *q, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(q, name);

	return i ? sqlite3_bind_int64(q, i, v) : SQLITE_OK;
}

/* Reading columns */

/* Copies a text column into a record field, NULL as "", cutting an
 * oversized value (written by another tool) at a UTF-8 boundary. */
static void col_str(sqlite3_stmt *q, int i, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(q, i);
	size_t n;

	if (!v) {
		dst[0] = '\0';
		return;
	}
	n = (size_t)sqlite3_column_bytes(q, i);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && (v[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* A malloc'd copy of a text column; NULL stays NULL unless empty_for_null. */
static int col_dup(sqlite3_stmt *q, int i, char **out, bool empty_for_null)
{
	const unsigned char *v = sqlite3_column_text(q, i);
	size_t n = v ? (size_t)sqlite3_column_bytes(q, i) : 0;

	*out = NULL;
	if (!v && !empty_for_null)
		return sqlite3_column_type(q, i) == SQLITE_NULL ? 0 : ENOMEM;
	*out = malloc(n + 1);
	if (!*out)
		return ENOMEM;
	if (n)
		memcpy(*out, v, n);
	(*out)[n] = '\0';
	return 0;
}

static int64_t col_time(sqlite3_stmt *q, int i)
{
	const char *v = (const char *)sqlite3_column_text(q, i);
	int64_t ms = 0;

	if (v && store_time_parse(v, &ms) != 0)
		ms = 0;
	return ms;
}

static int col_ms(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ?
		       -1 : sqlite3_column_int(q, i);
}

static void read_user(sqlite3_stmt *q, struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(q, 0);
	col_str(q, 1, u->username, sizeof(u->username));
	col_str(q, 2, u->password_hash, sizeof(u->password_hash));
	col_str(q, 3, u->role, sizeof(u->role));
	u->created_at = col_time(q, 4);
	u->disabled = sqlite3_column_int(q, 5) != 0;
	u->last_login_at = col_time(q, 6);
}

static void read_token(sqlite3_stmt *q, struct store_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(q, 0);
	t->user_id = sqlite3_column_int64(q, 1);
	col_str(q, 2, t->username, sizeof(t->username));
	col_str(q, 3, t->name, sizeof(t->name));
	t->created_at = col_time(q, 4);
	t->last_used_at = col_time(q, 5);
}

static void read_call(sqlite3_stmt *q, struct store_call *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(q, 0);
	col_str(q, 1, c->sip_call_id, sizeof(c->sip_call_id));
	col_str(q, 2, c->caller, sizeof(c->caller));
	col_str(q, 3, c->callee, sizeof(c->callee));
	c->started_at = col_time(q, 4);
	c->answered_at = col_time(q, 5);
	c->ended_at = col_time(q, 6);
	col_str(q, 7, c->status, sizeof(c->status));
	col_str(q, 8, c->end_reason, sizeof(c->end_reason));
	col_str(q, 9, c->consent, sizeof(c->consent));
	col_str(q, 10, c->recording_path, sizeof(c->recording_path));
}

static int read_turn(sqlite3_stmt *q, struct store_turn *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(q, 0);
	t->call_id = sqlite3_column_int64(q, 1);
	t->seq = sqlite3_column_int(q, 2);
	col_str(q, 3, t->role, sizeof(t->role));
	t->started_at = col_time(q, 5);
	t->stt_ms = col_ms(q, 6);
	t->llm_ms = col_ms(q, 7);
	t->tts_ms = col_ms(q, 8);
	t->response_ms = col_ms(q, 9);
	return col_dup(q, 4, &t->text, false);
}

static int read_audit(sqlite3_stmt *q, struct store_audit_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(q, 0);
	r->timestamp = col_time(q, 1);
	r->user_id = sqlite3_column_int64(q, 2);
	col_str(q, 3, r->username, sizeof(r->username));
	col_str(q, 4, r->action, sizeof(r->action));
	col_str(q, 6, r->ip_address, sizeof(r->ip_address));
	return col_dup(q, 5, &r->details, false);
}

static int read_setting(sqlite3_stmt *q, struct store_setting *set)
{
	memset(set, 0, sizeof(*set));
	col_str(q, 0, set->key, sizeof(set->key));
	set->updated_at = col_time(q, 2);
	col_str(q, 3, set->updated_by, sizeof(set->updated_by));
	return col_dup(q, 1, &set->value, true);
}

/* Opening */

/* Creates a missing database file with mode 0600 before SQLite sees it, so
 * it never exists with wider permissions; SQLite gives the -wal and -shm
 * files the same mode as the database file. */
static int create_file(const char *path, bool *created)
{
	struct stat sb;
	int fd, err;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		*created = true;
		return 0;
	}
	err = errno;
	if (err != EEXIST) {
		log_error("store: cannot create %s: %s", path, strerror(err));
		return err;
	}
	if (stat(path, &sb) != 0) {
		err = errno;
		log_error("store: %s: %s", path, strerror(err));
		return err;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_error("store: %s is not a regular file", path);
		return EINVAL;
	}
	if (sb.st_mode & 077)
		log_warn("store: %s is accessible by group or others (mode %03o);"
			 " chmod 600 it", path, (unsigned)(sb.st_mode & 0777));
	return 0;
}

static int configure(struct sqlite_store *s)
{
	sqlite3_stmt *q = NULL;
	const char *mode;
	int rc;

	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* no writable_schema tricks, even from a crafted database file */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);

	/*
	 * secure_delete: erased calls and transcripts (GDPR erase, retention)
	 * are overwritten, not left in free pages.
	 * trusted_schema: the schema may not call functions with side effects.
	 */
	rc = sqlite3_exec(s->db,
			  "PRAGMA foreign_keys = ON;"
			  "PRAGMA trusted_schema = OFF;"
			  "PRAGMA secure_delete = ON;",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(s, "configure", rc);

	/* WAL: readers (dashboard, CLI) never block the writer (calls). */
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(q);
		return sq_fail(s, "journal_mode", rc);
	}
	mode = (const char *)sqlite3_column_text(q, 0);
	if (!s->memory && (!mode || strcmp(mode, "wal") != 0))
		log_warn("store: %s: WAL not available (journal_mode %s)", s->path,
			 mode ? mode : "?");
	sqlite3_finalize(q);

	/*
	 * NORMAL is safe in WAL mode: a committed transaction survives a crash
	 * of the process; only a power loss or OS crash may lose the last
	 * transactions before a checkpoint, and the database never corrupts.
	 * FULL would add an fsync per commit on the calls' hot path.
	 */
	rc = sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(s, "synchronous", rc);
	return 0;
}

static void sq_destroy(struct sqlite_store *s, bool remove_file)
{
	int rc;

	for (size_t i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < CF_COMBOS; j++)
			sqlite3_finalize(s->call_list[i][j]);
	}
	if (s->db) {
		/* cheap, and keeps the query planner's statistics fresh */
		if (!remove_file)
			sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL);
		rc = sqlite3_close(s->db);
		if (rc != SQLITE_OK)
			log_error("store: closing %s: %s", s->path,
				  sqlite3_errstr(rc));
	}
	if (remove_file)
		unlink(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

static int sq_open(struct store **stp, const char *url, const char *base_dir)
{
	struct sqlite_store *s;
	const char *p = strstr(url, "://") + 3;
	bool created = false;
	int err, rc = SQLITE_DONE;

	/* As SQLAlchemy: sqlite:///relative.db, sqlite:////absolute.db. The
	 * host part must be empty; the path is what follows its '/'. */
	if (p[0] != '/' || p[1] == '\0') {
		log_error("store: DATABASE_URL: use sqlite:///relative/path.db"
			  " or sqlite:////absolute/path.db");
		return EINVAL;
	}
	p++;

	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->base.be = &store_sqlite_backend;
	err = pthread_mutex_init(&s->lock, NULL);
	if (err) {
		free(s);
		return err;
	}

	/* :memory: is for tests: one private database per store. */
	s->memory = strcmp(p, ":memory:") == 0;
	if (s->memory || p[0] == '/' || !base_dir || !base_dir[0])
		s->path = strdup(p);
	else if (asprintf(&s->path, "%s%s%s", base_dir,
			  base_dir[strlen(base_dir) - 1] == '/' ? "" : "/",
			  p) < 0)
		s->path = NULL;
	if (!s->path) {
		err = ENOMEM;
		goto out;
	}

	if (!s->memory) {
		err = create_file(s->path, &created);
		if (err)
			goto out;
	}

	/* FULLMUTEX as a second line of defence: every operation also holds
	 * s->lock, because they share the cached statements. */
	rc = sqlite3_open_v2(s->path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		if (!s->db) {
			err = ENOMEM;
			goto out;
		}
		err = sq_fail(s, "open", rc);
		goto out;
	}
	err = configure(s);
 out:
	if (err)
		sq_destroy(s, created);
	else
		*stp = &s->base;
	return err;
}

static void sq_close(struct store *st)
{
	sq_destroy(sq(st), false);
}

static const char *sq_path(const struct store *st)
{
	const struct sqlite_store *s = (const struct sqlite_store *)st;

	return s->memory ? NULL : s->path;
}

/* Migrations */

static int schema_version(struct sqlite_store *s, int *version)
{
	int64_t n = 0;
	int err = sq_count(s, Q_HAS_MIGRATIONS, &n);

	*version = 0;
	if (!err && n > 0) {
		err = sq_count(s, Q_VERSION, &n);
		if (!err)
			*version = (int)n;
	}
	return err;
}

static int apply(struct sqlite_store *s, const struct store_migration *m)
{
	sqlite3_stmt *q = NULL;
	bool applied = false;
	int err, rc = SQLITE_DONE;

	/* IMMEDIATE: another process migrating at the same time waits here,
	 * then sees the migration applied. */
	err = sq_simple(s, Q_BEGIN_IMMEDIATE);
	if (err)
		return err;

	err = sq_prepare(s, Q_MIGRATION_APPLIED, &q);
	if (!err)
		err = sq_bound(s, "migrate", sqlite3_bind_int(q, 1, m->version));
	if (!err) {
		err = sq_row(s, q, "migrate");
		applied = err == 0;
		if (err == ENOENT)
			err = 0;
	}
	sq_done(q);

	if (!err && !applied) {
		rc = sqlite3_exec(s->db, m->sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			log_error("store: %s: migration %d (%s) failed: %s",
				  s->memory ? ":memory:" : s->path, m->version,
				  m->name, sqlite3_errmsg(s->db));
			err = sq_errno(s->db, rc);
			if (!err)
				err = EIO;
		}
	}
	if (!err && !applied) {
		q = NULL;
		err = sq_prepare(s, Q_MIGRATION_RECORD, &q);
		if (!err)
			err = sq_bound(s, "migrate",
				       sqlite3_bind_int(q, 1, m->version) |
				       bind_time(q, 2, store_time_now()));
		if (!err)
			err = sq_run(s, q, "migrate");
		sq_done(q);
	}
	err = sq_end(s, err);
	if (!err && !applied)
		log_info("store: applied migration %d (%s)", m->version, m->name);
	return err;
}

static int sq_migrate(struct store *st)
{
	struct sqlite_store *s = sq(st);
	const struct store_migrations *m = &store_migrations_sqlite;
	int err, version = 0, rc;

	pthread_mutex_lock(&s->lock);
	rc = sqlite3_exec(s->db, store_migrations_table_sql, NULL, NULL, NULL);
	err = rc == SQLITE_OK ? 0 : sq_fail(s, "migrate", rc);
	if (!err)
		err = schema_version(s, &version);
	if (!err && version > (int)m->n) {
		log_error("store: %s has schema version %d but this callbot knows"
			  " only up to %zu; upgrade callbot",
			  s->memory ? ":memory:" : s->path, version, m->n);
		err = ENOTSUP;
	}
	for (size_t i = 0; !err && i < m->n; i++)
		err = apply(s, &m->v[i]);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_schema_version(struct store *st, int *version)
{
	struct sqlite_store *s = sq(st);
	int err;

	pthread_mutex_lock(&s->lock);
	err = schema_version(s, version);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/*
 * Operations share this shape: lock, take the cached statement, bind,
 * step, read, return the statement, unlock. The helpers below cover the
 * common kinds.
 */

/* An UPDATE/DELETE on one key (text or id): ENOENT if no row matched. */
static int change(struct sqlite_store *s, enum query id, const char *key,
		  int64_t key_id, int (*bind2)(sqlite3_stmt *, const void *),
		  const void *arg2)
{
	sqlite3_stmt *q = NULL;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, id, &q);
	if (!err) {
		rc = key ? sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC) :
			   sqlite3_bind_int64(q, 1, key_id);
		if (bind2)
			rc |= bind2(q, arg2);
		err = sq_bound(s, q_name[id], rc);
	}
	if (!err)
		err = sq_run(s, q, q_name[id]);
	if (!err && sqlite3_changes(s->db) == 0)
		err = ENOENT;
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int bind2_str(sqlite3_stmt *q, const void *v)
{
	return bind_str(q, 2, v);
}

static int bind2_bool(sqlite3_stmt *q, const void *v)
{
	return sqlite3_bind_int(q, 2, *(const bool *)v ? 1 : 0);
}

static int bind2_time(sqlite3_stmt *q, const void *v)
{
	return bind_time(q, 2, *(const int64_t *)v);
}

/* Runs a statement whose binding results are rc; *id_out = the new row's id. */
static int exec_bound(struct sqlite_store *s, sqlite3_stmt *q, enum query id,
		       int rc, int64_t *id_out)
{
	int err = sq_bound(s, q_name[id], rc);

	if (!err)
		err = sq_run(s, q, q_name[id]);
	if (!err && id_out)
		*id_out = sqlite3_last_insert_rowid(s->db);
	return err;
}

/* Users */

static int sq_user_add(struct store *st, const char *username,
		       const char *password_hash, const char *role,
		       int64_t *id_out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_USER_ADD, &q);
	if (!err)
		err = exec_bound(s, q, Q_USER_ADD,
				  bind_str(q, 1, username) |
				  bind_str(q, 2, password_hash) |
				  bind_str(q, 3, role) |
				  bind_time(q, 4, store_time_now()),
				  id_out);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int user_get(struct sqlite_store *s, enum query id, const char *name,
		    int64_t uid, struct store_user *out)
{
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, id, &q);
	if (!err)
		err = sq_bound(s, q_name[id],
			       name ? bind_str(q, 1, name) :
				      sqlite3_bind_int64(q, 1, uid));
	if (!err)
		err = sq_row(s, q, q_name[id]);
	if (!err)
		read_user(q, out);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_user_get(struct store *st, const char *username,
		       struct store_user *out)
{
	return user_get(sq(st), Q_USER_GET, username, 0, out);
}

static int sq_user_get_by_id(struct store *st, int64_t id,
			     struct store_user *out)
{
	return user_get(sq(st), Q_USER_GET_BY_ID, NULL, id, out);
}

static int sq_user_set_password(struct store *st, const char *username,
				const char *password_hash)
{
	return change(sq(st), Q_USER_SET_PASSWORD, username, 0, bind2_str,
		      password_hash);
}

static int sq_user_set_disabled(struct store *st, const char *username,
				bool disabled)
{
	return change(sq(st), Q_USER_SET_DISABLED, username, 0, bind2_bool,
		      &disabled);
}

static int sq_user_set_role(struct store *st, const char *username,
			    const char *role)
{
	return change(sq(st), Q_USER_SET_ROLE, username, 0, bind2_str, role);
}

static int sq_user_touch_login(struct store *st, int64_t id, int64_t when_ms)
{
	return change(sq(st), Q_USER_TOUCH_LOGIN, NULL, id, bind2_time,
		      &when_ms);
}

static int sq_user_del(struct store *st, const char *username)
{
	return change(sq(st), Q_USER_DEL, username, 0, NULL, NULL);
}

static int sq_user_list(struct store *st, store_user_h *h, void *arg)
{
	struct sqlite_store *s = sq(st);
	struct store_user u;
	sqlite3_stmt *q = NULL;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_USER_LIST, &q);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		read_user(q, &u);
		err = h(&u, arg);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, q_name[Q_USER_LIST], rc);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_user_count(struct store *st, int64_t *n)
{
	struct sqlite_store *s = sq(st);
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_count(s, Q_USER_COUNT, n);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* API tokens */

static int sq_token_add(struct store *st, int64_t user_id,
			const char *token_hash, const char *name,
			int64_t *id_out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_TOKEN_ADD, &q);
	if (!err)
		err = exec_bound(s, q, Q_TOKEN_ADD,
				  sqlite3_bind_int64(q, 1, user_id) |
				  bind_str(q, 2, token_hash) |
				  bind_str(q, 3, name) |
				  bind_time(q, 4, store_time_now()),
				  id_out);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_token_find(struct store *st, const char *token_hash,
			 struct store_token *out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	/* record the use first: a miss costs one indexed lookup either way */
	err = sq_prepare(s, Q_TOKEN_TOUCH, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_TOKEN_TOUCH],
			       bind_str(q, 1, token_hash) |
			       bind_time(q, 2, store_time_now()));
	if (!err)
		err = sq_run(s, q, q_name[Q_TOKEN_TOUCH]);
	if (!err && sqlite3_changes(s->db) == 0)
		err = ENOENT;
	sq_done(q);
	q = NULL;

	if (!err)
		err = sq_prepare(s, Q_TOKEN_FIND, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_TOKEN_FIND], bind_str(q, 1, token_hash));
	if (!err)
		err = sq_row(s, q, q_name[Q_TOKEN_FIND]);
	if (!err)
		read_token(q, out);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_token_revoke(struct store *st, int64_t id)
{
	return change(sq(st), Q_TOKEN_REVOKE, NULL, id, NULL, NULL);
}

static int sq_token_list(struct store *st, store_token_h *h, void *arg)
{
	struct sqlite_store *s = sq(st);
	struct store_token t;
	sqlite3_stmt *q = NULL;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_TOKEN_LIST, &q);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		read_token(q, &t);
		err = h(&t, arg);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, q_name[Q_TOKEN_LIST], rc);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Settings */

static int sq_setting_get(struct store *st, const char *key, char **value_out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_SETTING_GET, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_SETTING_GET], bind_str(q, 1, key));
	if (!err)
		err = sq_row(s, q, q_name[Q_SETTING_GET]);
	if (!err)
		err = col_dup(q, 0, value_out, true);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_setting_set(struct store *st, const char *key,
			  const char *value, const char *updated_by)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_SETTING_SET, &q);
	if (!err)
		/* "" is a value here, not NULL */
		err = exec_bound(s, q, Q_SETTING_SET,
				  bind_str(q, 1, key) |
				  sqlite3_bind_text(q, 2, value, -1,
						    SQLITE_STATIC) |
				  bind_time(q, 3, store_time_now()) |
				  bind_str(q, 4, updated_by),
				  NULL);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_setting_list(struct store *st, store_setting_h *h, void *arg)
{
	struct sqlite_store *s = sq(st);
	struct store_setting set;
	sqlite3_stmt *q = NULL;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_SETTING_LIST, &q);
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = read_setting(q, &set);
		if (!err)
			err = h(&set, arg);
		free(set.value);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, q_name[Q_SETTING_LIST], rc);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Audit log */

static int sq_audit(struct store *st, int64_t user_id, const char *action,
		    const char *details, const char *ip)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_AUDIT_ADD, &q);
	if (!err)
		err = exec_bound(s, q, Q_AUDIT_ADD,
				  bind_time(q, 1, store_time_now()) |
				  bind_id(q, 2, user_id) |
				  bind_str(q, 3, action) |
				  bind_str(q, 4, details) |
				  bind_str(q, 5, ip),
				  NULL);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_audit_list(struct store *st, int64_t offset, int limit,
			 store_audit_h *h, void *arg, int64_t *total)
{
	struct sqlite_store *s = sq(st);
	struct store_audit_row r;
	sqlite3_stmt *q = NULL;
	int64_t n = 0;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	/* one read transaction: the total matches the page */
	err = sq_simple(s, Q_BEGIN);
	if (err)
		goto out;
	err = sq_count(s, Q_AUDIT_COUNT, &n);
	if (!err)
		err = sq_prepare(s, Q_AUDIT_LIST, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_AUDIT_LIST],
			       sqlite3_bind_int(q, 1, limit > 0 ? limit : -1) |
			       sqlite3_bind_int64(q, 2, offset));
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = read_audit(q, &r);
		if (!err)
			err = h(&r, arg);
		free(r.details);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, q_name[Q_AUDIT_LIST], rc);
	sq_done(q);
	err = sq_end(s, err);
	if (!err && total)
		*total = n;
 out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Calls */

static int bind_call(sqlite3_stmt *q, const struct store_call *c)
{
	return sqlite3_bind_int64(q, 1, c->id) |
	       bind_str(q, 2, c->sip_call_id) |
	       bind_str(q, 3, c->caller) |
	       bind_str(q, 4, c->callee) |
	       bind_time(q, 5, c->started_at) |
	       bind_time(q, 6, c->answered_at) |
	       bind_time(q, 7, c->ended_at) |
	       bind_str(q, 8, c->status) |
	       bind_str(q, 9, c->end_reason) |
	       bind_str(q, 10, c->consent) |
	       bind_str(q, 11, c->recording_path);
}

static int sq_call_insert(struct store *st, const struct store_call *c,
			  int64_t *id_out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_CALL_INSERT, &q);
	if (!err)
		err = exec_bound(s, q, Q_CALL_INSERT,
				 bind_call(q, c) | bind_str(q, 12, st->node),
				 id_out);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_call_update(struct store *st, const struct store_call *c)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_CALL_UPDATE, &q);
	if (!err)
		err = exec_bound(s, q, Q_CALL_UPDATE, bind_call(q, c), NULL);
	if (!err && sqlite3_changes(s->db) == 0)
		err = ENOENT;
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_call_get(struct store *st, int64_t id, struct store_call *out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_CALL_GET, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_CALL_GET], sqlite3_bind_int64(q, 1, id));
	if (!err)
		err = sq_row(s, q, q_name[Q_CALL_GET]);
	if (!err)
		read_call(q, out);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_call_delete(struct store *st, int64_t id)
{
	return change(sq(st), Q_CALL_DELETE, NULL, id, NULL, NULL);
}

static int call_list_prepare(struct sqlite_store *s, unsigned mask, int count,
			     sqlite3_stmt **qp)
{
	sqlite3_stmt **slot = &s->call_list[count][mask];
	char text[1024];
	size_t len = 0;
	int rc;

	if (*slot) {
		*qp = *slot;
		return 0;
	}
	/* fixed fragments only; the buffer fits them all. The unfiltered total is kept by
	 * triggers (migration 4): no count(*) over every call for each page. */
	len += (size_t)snprintf(text, sizeof(text), "%s",
				count && !mask ? "SELECT n FROM calls_total" :
				count ? "SELECT count(*) FROM calls c" :
					"SELECT " CALL_COLS " FROM calls c");
	for (unsigned i = 0; i < ARRAY_SIZE(call_filter_sql); i++) {
		if (!(mask & (1u << i)) || len >= sizeof(text))
			continue;
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
					(mask & ((1u << i) - 1)) ? " AND " : " WHERE ",
					call_filter_sql[i]);
	}
	if (!count && len < sizeof(text))
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s",
					" ORDER BY started_at DESC, id DESC"
					" LIMIT :limit OFFSET :offset");
	if (len >= sizeof(text)) {
		log_error("store: call list query does not fit its buffer");
		return EIO;
	}
	rc = sqlite3_prepare_v3(s->db, text, -1, SQLITE_PREPARE_PERSISTENT,
				slot, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(s, "call list", rc);
	*qp = *slot;
	return 0;
}

static int bind_call_filter(sqlite3_stmt *q, const struct store_call_filter *f,
			    const char *pattern)
{
	char from[32], to[32];

	store_time_iso(f->from_ms, from);
	store_time_iso(f->to_ms, to);
	/* a parameter missing from this combination is skipped */
	return bind_named(q, ":q", pattern) |
	       bind_named(q, ":caller", f->caller) |
	       bind_named(q, ":from", from) |
	       bind_named(q, ":to", to) |
	       bind_named(q, ":status", f->status) |
	       bind_named_int64(q, ":limit", f->limit > 0 ? f->limit : -1) |
	       bind_named_int64(q, ":offset", f->offset);
}

/* "%" + text with %, _ and \ escaped by \ + "%": a literal substring. */
static char *like_pattern(const char *text)
{
	char *pat = malloc(strlen(text) * 2 + 3), *p = pat;

	if (!pat)
		return NULL;
	*p++ = '%';
	for (; *text; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			*p++ = '\\';
		*p++ = *text;
	}
	*p++ = '%';
	*p = '\0';
	return pat;
}

static int sq_call_list(struct store *st, const struct store_call_filter *f,
			store_call_h *h, void *arg, int64_t *total)
{
	struct sqlite_store *s = sq(st);
	struct store_call c;
	sqlite3_stmt *q = NULL;
	char *pattern = NULL;
	unsigned mask = 0;
	int64_t n = 0;
	int err, rc = SQLITE_DONE;

	if (f->q && f->q[0]) {
		mask |= CF_Q;
		pattern = like_pattern(f->q);
		if (!pattern)
			return ENOMEM;
	}
	if (f->caller && f->caller[0])
		mask |= CF_CALLER;
	if (f->from_ms)
		mask |= CF_FROM;
	if (f->to_ms)
		mask |= CF_TO;
	if (f->status && f->status[0])
		mask |= CF_STATUS;

	pthread_mutex_lock(&s->lock);
	err = sq_simple(s, Q_BEGIN);
	if (err)
		goto out;

	err = call_list_prepare(s, mask, 1, &q);
	if (!err)
		err = sq_bound(s, "call count", bind_call_filter(q, f, pattern));
	if (!err)
		err = sq_row(s, q, "call count");
	if (!err)
		n = sqlite3_column_int64(q, 0);
	sq_done(q);
	q = NULL;

	if (!err)
		err = call_list_prepare(s, mask, 0, &q);
	if (!err)
		err = sq_bound(s, "call list", bind_call_filter(q, f, pattern));
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		read_call(q, &c);
		err = h(&c, arg);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, "call list", rc);
	sq_done(q);
	err = sq_end(s, err);
	if (!err && total)
		*total = n;
 out:
	pthread_mutex_unlock(&s->lock);
	free(pattern);
	return err;
}

static int sq_call_stats(struct store *st, int64_t from_ms,
			 struct store_call_stats *out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_CALL_STATS, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_CALL_STATS], bind_time(q, 1, from_ms));
	if (!err)
		err = sq_row(s, q, q_name[Q_CALL_STATS]);
	if (err == ENOENT)
		err = EIO;
	if (!err) {
		out->calls = sqlite3_column_int64(q, 0);
		out->answered = sqlite3_column_int64(q, 1);
		out->turns = sqlite3_column_int64(q, 2);
		out->avg_response_ms =
			sqlite3_column_type(q, 3) == SQLITE_NULL ?
				-1 : (int)(sqlite3_column_double(q, 3) + 0.5);
		out->active = sqlite3_column_int64(q, 4);
	}
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Turns */

static int sq_turn_insert(struct store *st, const struct store_turn *t,
			  int64_t *id_out)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_TURN_INSERT, &q);
	if (!err)
		err = exec_bound(s, q, Q_TURN_INSERT,
				  sqlite3_bind_int64(q, 1, t->call_id) |
				  sqlite3_bind_int(q, 2, t->seq) |
				  bind_str(q, 3, t->role) |
				  (t->text ? sqlite3_bind_text(q, 4, t->text, -1,
							       SQLITE_STATIC) :
					     sqlite3_bind_null(q, 4)) |
				  bind_time(q, 5, t->started_at) |
				  bind_ms(q, 6, t->stt_ms) |
				  bind_ms(q, 7, t->llm_ms) |
				  bind_ms(q, 8, t->tts_ms) |
				  bind_ms(q, 9, t->response_ms),
				  id_out);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_turn_list(struct store *st, int64_t call_id, store_turn_h *h,
			void *arg)
{
	struct sqlite_store *s = sq(st);
	struct store_turn t;
	sqlite3_stmt *q = NULL;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_TURN_LIST, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_TURN_LIST],
			       sqlite3_bind_int64(q, 1, call_id));
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = read_turn(q, &t);
		if (!err)
			err = h(&t, arg);
		store_turn_clear(&t);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, q_name[Q_TURN_LIST], rc);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_turn_scan(struct store *st, int64_t after_id, int limit,
			store_turn_h *h, void *arg)
{
	struct sqlite_store *s = sq(st);
	struct store_turn t;
	sqlite3_stmt *q = NULL;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_TURN_SCAN, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_TURN_SCAN],
			       sqlite3_bind_int64(q, 1, after_id) |
			       sqlite3_bind_int(q, 2, limit > 0 ? limit : -1));
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		err = read_turn(q, &t);
		if (!err)
			err = h(&t, arg);
		store_turn_clear(&t);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, q_name[Q_TURN_SCAN], rc);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int bind2_text_or_null(sqlite3_stmt *q, const void *v)
{
	return v ? sqlite3_bind_text(q, 2, v, -1, SQLITE_STATIC) :
		   sqlite3_bind_null(q, 2);
}

static int sq_turn_set_text(struct store *st, int64_t id, const char *text)
{
	return change(sq(st), Q_TURN_SET_TEXT, NULL, id, bind2_text_or_null,
		      text);
}

/* Runs a call-row query whose parameters are bound by bind. */
static int calls_query(struct sqlite_store *s, enum query id,
		       int (*bind)(sqlite3_stmt *, const void *), const void *a,
		       store_call_h *h, void *arg)
{
	struct store_call c;
	sqlite3_stmt *q = NULL;
	int err, rc = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, id, &q);
	if (!err)
		err = sq_bound(s, q_name[id], bind(q, a));
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		read_call(q, &c);
		err = h(&c, arg);
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(s, q_name[id], rc);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int bind_number(sqlite3_stmt *q, const void *a)
{
	return sqlite3_bind_text(q, 1, a, -1, SQLITE_STATIC);
}

static int sq_call_list_by_number(struct store *st, const char *number,
				  store_call_h *h, void *arg)
{
	return calls_query(sq(st), Q_CALLS_BY_NUMBER, bind_number, number, h,
			   arg);
}

struct purge_args {
	int64_t before_ms;
	int limit;
};

static int bind_purge(sqlite3_stmt *q, const void *a)
{
	const struct purge_args *p = a;

	return bind_time(q, 1, p->before_ms) |
	       sqlite3_bind_int(q, 2, p->limit > 0 ? p->limit : -1);
}

static int sq_call_list_purgeable(struct store *st, int64_t before_ms,
				  int limit, store_call_h *h, void *arg)
{
	struct purge_args p = { before_ms, limit };

	return calls_query(sq(st), Q_CALLS_PURGEABLE, bind_purge, &p, h, arg);
}

static int run_id(struct sqlite_store *s, enum query id, int64_t key,
		  int64_t *changes)
{
	sqlite3_stmt *q = NULL;
	int err = sq_prepare(s, id, &q);

	if (!err)
		err = sq_bound(s, q_name[id], sqlite3_bind_int64(q, 1, key));
	if (!err)
		err = sq_run(s, q, q_name[id]);
	if (!err && changes)
		*changes = sqlite3_changes64(s->db);
	sq_done(q);
	return err;
}

static int sq_call_anonymize(struct store *st, int64_t id,
			     int64_t *turns_cleared)
{
	struct sqlite_store *s = sq(st);
	int64_t rows = 0;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_simple(s, Q_BEGIN_IMMEDIATE);
	if (err)
		goto out;
	err = run_id(s, Q_CALL_ANONYMIZE, id, &rows);
	if (!err && rows == 0)
		err = ENOENT;
	if (!err)
		err = run_id(s, Q_TURNS_CLEAR, id, turns_cleared);
	err = sq_end(s, err);
 out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_audit_redact(struct store *st, const char *text,
			   const char *replacement, int64_t *rows)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_AUDIT_REDACT, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_AUDIT_REDACT],
			       sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC) |
			       sqlite3_bind_text(q, 2, replacement, -1,
						 SQLITE_STATIC));
	if (!err)
		err = sq_run(s, q, q_name[Q_AUDIT_REDACT]);
	if (!err)
		*rows = sqlite3_changes64(s->db);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_scrub(struct store *st)
{
	struct sqlite_store *s = sq(st);
	int rc;

	if (s->memory)
		return 0;
	pthread_mutex_lock(&s->lock);
	/* copies the WAL into the database and truncates it, so erased rows
	 * do not linger in old WAL frames (secure_delete zeroes the pages) */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
				       NULL, NULL);
	pthread_mutex_unlock(&s->lock);
	if (rc == SQLITE_BUSY)
		return EBUSY;	/* another connection is reading; retry later */
	return rc == SQLITE_OK ? 0 : sq_fail(s, "checkpoint", rc);
}

static int sq_close_crashed(struct store *st, const char *node,
			    int64_t now_ms, int64_t *closed)
{
	struct sqlite_store *s = sq(st);
	sqlite3_stmt *q = NULL;
	int err;

	pthread_mutex_lock(&s->lock);
	err = sq_prepare(s, Q_CLOSE_CRASHED, &q);
	if (!err)
		err = sq_bound(s, q_name[Q_CLOSE_CRASHED],
			       bind_str(q, 1, node) | bind_time(q, 2, now_ms));
	if (!err)
		err = sq_run(s, q, q_name[Q_CLOSE_CRASHED]);
	if (!err)
		*closed = sqlite3_changes64(s->db);
	sq_done(q);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int sq_backup(struct store *st, const char *path)
{
	struct sqlite_store *s = sq(st);
	sqlite3_backup *bk;
	sqlite3 *dst = NULL;
	bool created = false;
	int err, rc;

	err = create_file(path, &created);
	if (err)
		return err;
	if (!created)
		return EEXIST;
	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		err = EIO;
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	/* one step over all pages under our lock: a consistent snapshot (other
	 * processes may still write; the backup restarts for them) */
	bk = sqlite3_backup_init(dst, "main", s->db, "main");
	if (!bk) {
		log_error("store: backup to %s: %s", path, sqlite3_errmsg(dst));
		err = EIO;
	} else {
		while ((rc = sqlite3_backup_step(bk, -1)) == SQLITE_OK ||
		       rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
		if (rc != SQLITE_DONE) {
			log_error("store: backup to %s: %s", path,
				  sqlite3_errstr(rc));
			err = sq_errno(dst, rc);
			if (!err)
				err = EIO;
		}
		sqlite3_backup_finish(bk);
	}
	pthread_mutex_unlock(&s->lock);
	/* a self-contained file: no WAL needed next to it */
	if (!err)
		rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL,
				  NULL, NULL);
 out:
	sqlite3_close(dst);
	if (err)
		unlink(path);
	return err;
}

const struct store_backend store_sqlite_backend = {
	.scheme = "sqlite",
	.alias = NULL,
	.open = sq_open,
	.close = sq_close,
	.path = sq_path,
	.migrate = sq_migrate,
	.schema_version = sq_schema_version,
	.user_add = sq_user_add,
	.user_get = sq_user_get,
	.user_get_by_id = sq_user_get_by_id,
	.user_set_password = sq_user_set_password,
	.user_set_disabled = sq_user_set_disabled,
	.user_set_role = sq_user_set_role,
	.user_touch_login = sq_user_touch_login,
	.user_del = sq_user_del,
	.user_list = sq_user_list,
	.user_count = sq_user_count,
	.token_add = sq_token_add,
	.token_find = sq_token_find,
	.token_revoke = sq_token_revoke,
	.token_list = sq_token_list,
	.setting_get = sq_setting_get,
	.setting_set = sq_setting_set,
	.setting_list = sq_setting_list,
	.audit = sq_audit,
	.audit_list = sq_audit_list,
	.call_insert = sq_call_insert,
	.call_update = sq_call_update,
	.call_get = sq_call_get,
	.call_delete = sq_call_delete,
	.call_list = sq_call_list,
	.call_stats = sq_call_stats,
	.turn_insert = sq_turn_insert,
	.turn_list = sq_turn_list,
	.turn_scan = sq_turn_scan,
	.turn_set_text = sq_turn_set_text,
	.call_list_by_number = sq_call_list_by_number,
	.call_list_purgeable = sq_call_list_purgeable,
	.call_anonymize = sq_call_anonymize,
	.audit_redact = sq_audit_redact,
	.scrub = sq_scrub,
	.close_crashed = sq_close_crashed,
	.backup = sq_backup,
};
