/* pg.c - the PostgreSQL store backend (libpq): parameterised statements, reconnect with retry. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/alert.h"
#include "core/log.h"
#include "store/store_impl.h"
#include "store/time_iso.h"

/* A server restart (or failover) is waited for this long before an
 * operation fails; a call's writes queue behind it on the store thread. */
#define RECONNECT_MS 30000
/* seconds, unless DATABASE_URL or PGCONNECT_TIMEOUT says otherwise */
#define PG_CONNECT_TIMEOUT "10"
#define MAX_PARAMS 12
/* Migrations of concurrent processes queue on this advisory lock. */
#define MIGRATION_LOCK "7301946"

#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"
#define USER_COLS "id, username, password_hash, role, " MS("created_at") ", disabled," \
	" " MS("last_login_at")
#define TOKEN_COLS "t.id, t.user_id, u.username, t.name, " MS("t.created_at") "," \
	" " MS("t.last_used_at")
#define CALL_COLS "id, sip_call_id, caller, callee, " MS("started_at") ", " \
	MS("answered_at") ", " MS("ended_at") ", status, end_reason, consent, recording_path"
#define TURN_COLS "id, call_id, seq, role, text, " MS("started_at") ", stt_ms, llm_ms," \
	" tts_ms, response_ms"
#define AUDIT_COLS "a.id, " MS("a.timestamp") ", a.user_id, u.username, a.action," \
	" a.details, a.ip_address"

/* A few connections, each used by one operation at a time: the call-row writer, dashboard
 * requests and the CLI do not queue behind one another. */
#define PG_POOL 4

/* Statements prepared on a connection, by their text: the server parses each once per
 * session instead of on every call, and plans it once where a generic plan is as good. */
#define PG_STMTS 96

struct pg_stmt {
	uint64_t hash;
	char *sql;
};

struct pg_conn {
	pthread_mutex_t lock;
	PGconn *conn;
	_Atomic(struct pg_conn *) *waiter;	/* the pool's (see reconnect) */
	struct pg_stmt stmts[PG_STMTS];
	unsigned nstmts;
	bool unprepared;	/* prepared statements do not persist (see exec_stmt) */
};

struct pg_store {
	struct store base;
	struct pg_conn pool[PG_POOL];
	atomic_uint next;	/* where the next search for a free connection starts */
	_Atomic(struct pg_conn *) waiter;	/* the one waiting for the server, or NULL */
	char *conninfo;
};

/* A free connection if there is one, else waits for one (round robin), never for the one
 * waiting for the server to come back (it may hold its lock for RECONNECT_MS). */
static struct pg_conn *conn_take(struct pg_store *s)
{
	unsigned start = atomic_fetch_add(&s->next, 1);
	struct pg_conn *c;

	for (unsigned i = 0; i < PG_POOL; i++) {
		c = &s->pool[(start + i) % PG_POOL];
		if (pthread_mutex_trylock(&c->lock) == 0)
			return c;
	}
	c = &s->pool[start % PG_POOL];
	if (c == atomic_load(&s->waiter))
		c = &s->pool[(start + 1) % PG_POOL];
	pthread_mutex_lock(&c->lock);
	return c;
}

static void conn_give(struct pg_conn *c)
{
	pthread_mutex_unlock(&c->lock);
}

static int conn_setup(struct pg_conn *c);

static struct pg_store *pg(struct store *st)
{
	return (struct pg_store *)st;
}

/* Parameters, all passed as text (the server casts them). */
struct params {
	const char *v[MAX_PARAMS];
	char buf[MAX_PARAMS][32];
	int n;
};

static void p_text(struct params *p, const char *v)	/* NULL stays NULL */
{
	p->v[p->n++] = v;
}

static void p_str(struct params *p, const char *v)	/* "" is NULL */
{
	p->v[p->n++] = v && v[0] ? v : NULL;
}

static void p_i64(struct params *p, int64_t v)
{
	snprintf(p->buf[p->n], sizeof(p->buf[0]), "%" PRId64, v);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}

static void p_id(struct params *p, int64_t v)	/* 0 is NULL */
{
	if (v)
		p_i64(p, v);
	else
		p->v[p->n++] = NULL;
}

static void p_time(struct params *p, int64_t ms)	/* 0 is NULL */
{
	if (!ms) {
		p->v[p->n++] = NULL;
		return;
	}
	store_time_iso(ms, p->buf[p->n]);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}

static void p_ms(struct params *p, int v)	/* -1 is NULL */
{
	if (v < 0)
		p->v[p->n++] = NULL;
	else
		p_i64(p, v);
}

static void stmts_forget(struct pg_conn *c)
{
	for (unsigned i = 0; i < c->nstmts; i++)
		free(c->stmts[i].sql);
	c->nstmts = 0;
}

static uint64_t sql_hash(const char *sql)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 1099511628211ULL;
	return h;
}

/* The name sql is prepared under ("cb_" and its hash), preparing it on this connection the
 * first time; false when it cannot be (cache full, or the server refused: the caller runs it
 * unprepared and reports the server's error). The name comes from the text, not from a slot:
 * behind a pooler several of our connections share server sessions, and a name must never
 * stand for two different statements there. */
static bool stmt_name(struct pg_conn *c, const char *sql, int nparams, char name[24])
{
	uint64_t h = sql_hash(sql);
	const char *state;
	PGresult *r;
	unsigned i;
	bool ok;

	snprintf(name, 24, "cb_%016" PRIx64, h);
	for (i = 0; i < c->nstmts; i++)
		if (c->stmts[i].hash == h)
			return !strcmp(c->stmts[i].sql, sql);
	if (i == PG_STMTS)
		return false;
	c->stmts[i].sql = strdup(sql);
	if (!c->stmts[i].sql)
		return false;
	r = PQprepare(c->conn, name, sql, nparams, NULL);
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	/* 42P05: this server session already has it (same name, same text) */
	ok = PQresultStatus(r) == PGRES_COMMAND_OK || (state && !strcmp(state, "42P05"));
	PQclear(r);
	if (!ok) {
		free(c->stmts[i].sql);
		return false;
	}
	c->stmts[i].hash = h;
	c->nstmts++;
	return true;
}

static PGresult *exec_stmt(struct pg_conn *c, const char *sql, const struct params *p)
{
	int n = p ? p->n : 0;
	const char *const *v = p ? p->v : NULL;
	char name[24];
	PGresult *r;

	if (!c->unprepared && stmt_name(c, sql, n, name)) {
		const char *state;

		r = PQexecPrepared(c->conn, name, n, v, NULL, NULL, 0);
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (!state || strcmp(state, "26000"))
			return r;
		/* "prepared statement does not exist": a pooler in transaction mode (PgBouncer
		 * before 1.21) moved us to another server session. Stop preparing here. */
		log_warn("store: PostgreSQL: prepared statements do not survive on this "
			 "connection (a transaction-mode pooler?); running statements unprepared");
		PQclear(r);
		stmts_forget(c);
		c->unprepared = true;
	}
	return PQexecParams(c->conn, sql, n, NULL, v, NULL, NULL, 0);
}

/* Errors */

static int pg_errno(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (!state)
		return EIO;
	if (!strcmp(state, "23505"))
		return EEXIST;
	if (!strcmp(state, "23503"))
		return ENOENT;
	if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2))
		return EINVAL;
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return EBUSY;
	if (!strcmp(state, "53100"))
		return ENOSPC;
	if (!strcmp(state, "53200"))
		return ENOMEM;
	if (!strcmp(state, "42501"))
		return EACCES;
	return EIO;
}

static bool expected(int err)
{
	return err == EEXIST || err == ENOENT || err == EINVAL;
}

static bool try_reset(struct pg_conn *c)
{
	PQreset(c->conn);
	return PQstatus(c->conn) == CONNECTION_OK && conn_setup(c) == 0;
}

/* Waits for the server to come back (restart, failover), up to RECONNECT_MS. A thread that
 * must not wait (store_thread_impatient: the web) makes one attempt, none at all while
 * another connection is already waiting, and fails with ENOTCONN: a dashboard request
 * answers "database unavailable" at once instead of hanging for the outage. */
static int reconnect(struct pg_conn *c)
{
	struct pg_conn *none = NULL;
	int waited = 0, delay = 100;

	if (store_thread_is_impatient()) {
		if (atomic_load(c->waiter) || !try_reset(c))
			return ENOTCONN;
		return 0;
	}
	/* the one conn_take() should not block on, if several wait */
	(void)atomic_compare_exchange_strong(c->waiter, &none, c);
	log_warn("store: PostgreSQL connection lost; reconnecting");
	while (waited < RECONNECT_MS) {
		if (try_reset(c)) {
			none = c;
			(void)atomic_compare_exchange_strong(c->waiter, &none, NULL);
			log_info("store: PostgreSQL connection restored");
			alert_state("database_down", "database_restored", true, NULL);
			return 0;
		}
		usleep((useconds_t)delay * 1000);
		waited += delay;
		if (delay < 250) /* a refused attempt is cheap: notice the server back soon */
			delay *= 2;
	}
	none = c;
	(void)atomic_compare_exchange_strong(c->waiter, &none, NULL);
	log_error("store: PostgreSQL: cannot reconnect: %s", PQerrorMessage(c->conn));
	alert_state("database_down", "database_restored", false,
		    "{\"error\":\"cannot reconnect to PostgreSQL\"}");
	return ENOTCONN;
}

/*
 * Runs one statement. Each statement is atomic on its own (autocommit, or
 * a single statement with CTEs), so when the connection broke before the
 * answer it is run again after reconnecting: a write that was acknowledged
 * is durable on the server; one that was not is either absent (redone) or
 * committed without our seeing the answer (redone: inserts then report
 * EEXIST on their unique key, which retried() turns into success).
 */
static int run(struct pg_conn *c, const char *what, const char *sql,
	       const struct params *p, PGresult **out, bool *retried)
{
	PGresult *r = NULL;
	int err = 0;

	if (retried)
		*retried = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		ExecStatusType st;

		if (PQstatus(c->conn) != CONNECTION_OK && (err = reconnect(c)) != 0)
			break;
		r = exec_stmt(c, sql, p);
		st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			err = 0;
			break;
		}
		if (PQstatus(c->conn) == CONNECTION_BAD && attempt == 0) {
			PQclear(r);
			r = NULL;
			if (retried)
				*retried = true;
			continue;
		}
		err = pg_errno(r);
		if (!expected(err))
			log_error("store: PostgreSQL: %s: %s", what,
				  r ? PQresultErrorMessage(r) : PQerrorMessage(c->conn));
		break;
	}
	if (err || !out) {
		PQclear(r);
		r = NULL;
	}
	if (out)
		*out = r;
	if (!err && !r && out)
		err = EIO;
	return err;
}

/* Reading columns */

static void col_str(const PGresult *r, int row, int i, char *dst, size_t size)
{
	const char *v = PQgetvalue(r, row, i);
	size_t n = (size_t)PQgetlength(r, row, i);

	if (PQgetisnull(r, row, i)) {
		dst[0] = '\0';
		return;
	}
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int64_t col_i64(const PGresult *r, int row, int i)
{
	return PQgetisnull(r, row, i) ? 0 : strtoll(PQgetvalue(r, row, i), NULL, 10);
}

static int col_ms(const PGresult *r, int row, int i)
{
	return PQgetisnull(r, row, i) ? -1 : (int)strtol(PQgetvalue(r, row, i), NULL, 10);
}

static int col_dup(const PGresult *r, int row, int i, char **out, bool empty_for_null)
{
	*out = NULL;
	if (PQgetisnull(r, row, i) && !empty_for_null)
		return 0;
	*out = strdup(PQgetisnull(r, row, i) ? "" : PQgetvalue(r, row, i));
	return *out ? 0 : ENOMEM;
}

static void read_user(const PGresult *r, int row, struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = col_i64(r, row, 0);
	col_str(r, row, 1, u->username, sizeof(u->username));
	col_str(r, row, 2, u->password_hash, sizeof(u->password_hash));
	col_str(r, row, 3, u->role, sizeof(u->role));
	u->created_at = col_i64(r, row, 4);
	u->disabled = PQgetvalue(r, row, 5)[0] == 't';
	u->last_login_at = col_i64(r, row, 6);
}

static void read_token(const PGresult *r, int row, struct store_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = col_i64(r, row, 0);
	t->user_id = col_i64(r, row, 1);
	col_str(r, row, 2, t->username, sizeof(t->username));
	col_str(r, row, 3, t->name, sizeof(t->name));
	t->created_at = col_i64(r, row, 4);
	t->last_used_at = col_i64(r, row, 5);
}

static void read_call(const PGresult *r, int row, struct store_call *c)
{
	memset(c, 0, sizeof(*c));
	c->id = col_i64(r, row, 0);
	col_str(r, row, 1, c->sip_call_id, sizeof(c->sip_call_id));
	col_str(r, row, 2, c->caller, sizeof(c->caller));
	col_str(r, row, 3, c->callee, sizeof(c->callee));
	c->started_at = col_i64(r, row, 4);
	c->answered_at = col_i64(r, row, 5);
	c->ended_at = col_i64(r, row, 6);
	col_str(r, row, 7, c->status, sizeof(c->status));
	col_str(r, row, 8, c->end_reason, sizeof(c->end_reason));
	col_str(r, row, 9, c->consent, sizeof(c->consent));
	col_str(r, row, 10, c->recording_path, sizeof(c->recording_path));
}

static int read_turn(const PGresult *r, int row, struct store_turn *t)
{
	memset(t, 0, sizeof(*t));
	t->id = col_i64(r, row, 0);
	t->call_id = col_i64(r, row, 1);
	t->seq = (int)col_i64(r, row, 2);
	col_str(r, row, 3, t->role, sizeof(t->role));
	t->started_at = col_i64(r, row, 5);
	t->stt_ms = col_ms(r, row, 6);
	t->llm_ms = col_ms(r, row, 7);
	t->tts_ms = col_ms(r, row, 8);
	t->response_ms = col_ms(r, row, 9);
	return col_dup(r, row, 4, &t->text, false);
}

/* Shapes of operations */

/* A statement without rows; *changed = affected rows. */
static int exec_change(struct pg_store *s, const char *what, const char *sql,
		       const struct params *p, int64_t *changed)
{
	struct pg_conn *c = conn_take(s);
	PGresult *r = NULL;
	int err;

	err = run(c, what, sql, p, &r, NULL);
	if (!err && changed)
		*changed = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	conn_give(c);
	return err;
}

/* UPDATE/DELETE of one key: ENOENT if nothing matched. */
static int change_one(struct pg_store *s, const char *what, const char *sql,
		      const struct params *p)
{
	int64_t n = 0;
	int err = exec_change(s, what, sql, p, &n);

	return !err && n == 0 ? ENOENT : err;
}

/* INSERT ... RETURNING id. */
static int insert_id(struct pg_store *s, const char *what, const char *sql,
		     const struct params *p, int64_t *id_out, bool idempotent)
{
	struct pg_conn *c = conn_take(s);
	PGresult *r = NULL;
	bool retried = false;
	int err;

	err = run(c, what, sql, p, &r, &retried);
	/* the first attempt was committed but its answer lost */
	if (err == EEXIST && retried && idempotent)
		err = 0;
	if (!err && id_out)
		*id_out = r && PQntuples(r) ? col_i64(r, 0, 0) : 0;
	PQclear(r);
	conn_give(c);
	return err;
}

typedef int (row_reader)(const PGresult *r, int row, void *h, void *arg);

static int query_rows(struct pg_store *s, const char *what, const char *sql,
		      const struct params *p, row_reader *rd, void *h, void *arg)
{
	struct pg_conn *c = conn_take(s);
	PGresult *r = NULL;
	int err;

	err = run(c, what, sql, p, &r, NULL);
	for (int i = 0; !err && i < PQntuples(r); i++)
		err = rd(r, i, h, arg);
	PQclear(r);
	conn_give(c);
	return err;
}

static int query_one(struct pg_store *s, const char *what, const char *sql,
		     const struct params *p, PGresult **out)
{
	struct pg_conn *c = conn_take(s);
	int err;

	err = run(c, what, sql, p, out, NULL);
	conn_give(c);
	if (!err && PQntuples(*out) == 0) {
		PQclear(*out);
		*out = NULL;
		err = ENOENT;
	}
	return err;
}

static int count_of(struct pg_store *s, const char *what, const char *sql,
		    const struct params *p, int64_t *n)
{
	PGresult *r = NULL;
	int err = query_one(s, what, sql, p, &r);

	if (!err)
		*n = col_i64(r, 0, 0);
	PQclear(r);
	return err == ENOENT ? EIO : err;
}

/* Opening */

/* Server notices ("already exists, skipping") are not errors. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void pg_destroy(struct pg_store *s)
{
	for (size_t i = 0; i < PG_POOL; i++) {
		if (s->pool[i].conn)
			PQfinish(s->pool[i].conn);
		stmts_forget(&s->pool[i]);
		pthread_mutex_destroy(&s->pool[i].lock);
	}
	if (s->conninfo) {
		memset(s->conninfo, 0, strlen(s->conninfo));	/* may hold a password */
		free(s->conninfo);
	}
	free(s);
}

/* Per session, again after every reconnect: notices quiet, timestamps in UTC. */
/* Session settings, on every new or reset connection (a reset also drops its prepared
 * statements). */
static int conn_setup(struct pg_conn *c)
{
	PGresult *r;
	int err = 0;

	stmts_forget(c);
	PQsetNoticeProcessor(c->conn, quiet_notice, NULL);
	r = PQexec(c->conn, "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_error("store: PostgreSQL: session setup: %s", PQerrorMessage(c->conn));
		err = EIO;
	}
	PQclear(r);
	return err;
}

static int conn_open(struct pg_store *s, struct pg_conn *c)
{
	c->conn = PQconnectdb(s->conninfo);
	if (!c->conn)
		return ENOMEM;
	if (PQstatus(c->conn) != CONNECTION_OK) {
		/* libpq's message names host and reason, never the password */
		log_error("store: PostgreSQL: %s", PQerrorMessage(c->conn));
		return ECONNREFUSED;
	}
	return conn_setup(c);
}

static int pg_open(struct store **stp, const char *url, const char *base_dir)
{
	struct pg_store *s;
	const char *sep = strstr(url, "://"), *timeout;
	int err = 0;

	(void)base_dir;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->base.be = &store_pg_backend;
	for (size_t i = 0; i < PG_POOL; i++) {
		pthread_mutex_init(&s->pool[i].lock, NULL);
		s->pool[i].waiter = &s->waiter;
	}
	/* libpq takes postgresql:// and postgres:// URIs; drop a SQLAlchemy
	 * driver (postgresql+psycopg2://). Without a connect_timeout, a server that does not
	 * answer at all (a dead host, a firewall) holds each attempt for minutes. */
	timeout = strstr(sep, "connect_timeout=") || getenv("PGCONNECT_TIMEOUT") ? "" :
		  strchr(sep, '?') ? "&connect_timeout=" PG_CONNECT_TIMEOUT :
				     "?connect_timeout=" PG_CONNECT_TIMEOUT;
	if (asprintf(&s->conninfo, "postgresql%s%s", sep, timeout) < 0) {
		s->conninfo = NULL;
		pg_destroy(s);
		return ENOMEM;
	}
	for (size_t i = 0; i < PG_POOL && !err; i++)
		err = conn_open(s, &s->pool[i]);
	if (err) {
		pg_destroy(s);
		return err;
	}
	*stp = &s->base;
	return 0;
}

static void pg_close(struct store *st)
{
	pg_destroy(pg(st));
}

/* Migrations */

static int schema_version(struct pg_store *s, int *version)
{
	int64_t n = 0;
	int err = count_of(s, "schema version",
			   "SELECT count(*) FROM (SELECT to_regclass('schema_migrations') AS t) x"
			   " WHERE t IS NOT NULL", NULL, &n);

	*version = 0;
	if (!err && n > 0) {
		err = count_of(s, "schema version",
			       "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, &n);
		if (!err)
			*version = (int)n;
	}
	return err;
}

static int tx(struct pg_conn *c, const char *sql)
{
	PGresult *r = PQexec(c->conn, sql);
	int err = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ?
			  0 : pg_errno(r);

	if (err)
		log_error("store: PostgreSQL: %s: %s", sql, PQerrorMessage(c->conn));
	PQclear(r);
	return err;
}

static int apply(struct pg_conn *c, const struct store_migration *m)
{
	struct params p = { .n = 0 };
	PGresult *r = NULL;
	bool applied;
	int err;

	if (PQstatus(c->conn) != CONNECTION_OK && (err = reconnect(c)) != 0)
		return err;
	err = tx(c, "BEGIN");
	if (err)
		return err;
	err = tx(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")");
	if (err)
		goto end;
	p_i64(&p, m->version);
	r = PQexecParams(c->conn, "SELECT 1 FROM schema_migrations WHERE version = $1", 1,
			 NULL, p.v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		err = pg_errno(r);
		PQclear(r);
		goto end;
	}
	applied = PQntuples(r) > 0;
	PQclear(r);
	if (applied)
		goto end;
	r = PQexec(c->conn, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_error("store: PostgreSQL: migration %d (%s) failed: %s", m->version, m->name,
			  PQerrorMessage(c->conn));
		err = pg_errno(r);
		PQclear(r);
		goto end;
	}
	PQclear(r);
	p_time(&p, store_time_now());
	r = PQexecParams(c->conn, "INSERT INTO schema_migrations(version, applied_at)"
			 " VALUES ($1, $2)", 2, NULL, p.v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		err = pg_errno(r);
	PQclear(r);
	if (!err)
		log_info("store: applied migration %d (%s)", m->version, m->name);
end:
	if (err)
		PQclear(PQexec(c->conn, "ROLLBACK"));
	else
		err = tx(c, "COMMIT");
	return err;
}

static int pg_migrate(struct store *st)
{
	struct pg_store *s = pg(st);
	const struct store_migrations *m = &store_migrations_pg;
	struct pg_conn *c;
	int err, version = 0;

	/* up to date: no DDL at all, so the least-privilege role of
	 * contrib/postgres/setup.sql (no CREATE) can run callbot */
	err = schema_version(s, &version);
	if (!err && version == (int)m->n)
		return 0;
	if (!err)
		err = exec_change(s, "migrate", store_migrations_table_sql, NULL, NULL);
	if (err == EACCES)
		log_error("store: PostgreSQL: this role may not create tables: run callbot once"
			  " with the schema owner's DATABASE_URL to migrate (docs/operations.md)");
	if (!err && version > (int)m->n) {
		log_error("store: the PostgreSQL database has schema version %d but this callbot"
			  " knows only up to %zu; upgrade callbot", version, m->n);
		return ENOTSUP;
	}
	c = conn_take(s);
	for (size_t i = 0; !err && i < m->n; i++)
		err = apply(c, &m->v[i]);
	conn_give(c);
	return err;
}

static int pg_schema_version(struct store *st, int *version)
{
	return schema_version(pg(st), version);
}

/* Users */

static int pg_user_add(struct store *st, const char *username, const char *password_hash,
		       const char *role, int64_t *id_out)
{
	struct params p = { .n = 0 };

	p_str(&p, username);
	p_str(&p, password_hash);
	p_str(&p, role);
	p_time(&p, store_time_now());
	return insert_id(pg(st), "user add",
			 "INSERT INTO users(username, password_hash, role, created_at)"
			 " VALUES ($1, $2, $3, $4) RETURNING id", &p, id_out, false);
}

static int user_row(const PGresult *r, int row, void *h, void *arg)
{
	struct store_user u;

	read_user(r, row, &u);
	return ((store_user_h *)h)(&u, arg);
}

static int copy_user(const struct store_user *u, void *arg)
{
	*(struct store_user *)arg = *u;
	return 0;
}

static int user_get(struct pg_store *s, const char *sql, struct params *p,
		    struct store_user *out)
{
	PGresult *r = NULL;
	int err = query_one(s, "user get", sql, p, &r);

	if (!err)
		err = user_row(r, 0, (void *)copy_user, out);
	PQclear(r);
	return err;
}

static int pg_user_get(struct store *st, const char *username, struct store_user *out)
{
	struct params p = { .n = 0 };

	p_text(&p, username);
	return user_get(pg(st), "SELECT " USER_COLS " FROM users WHERE username = $1", &p, out);
}

static int pg_user_get_by_id(struct store *st, int64_t id, struct store_user *out)
{
	struct params p = { .n = 0 };

	p_i64(&p, id);
	return user_get(pg(st), "SELECT " USER_COLS " FROM users WHERE id = $1", &p, out);
}

static int pg_user_set_password(struct store *st, const char *username, const char *hash)
{
	struct params p = { .n = 0 };

	p_text(&p, username);
	p_str(&p, hash);
	return change_one(pg(st), "user passwd",
			  "UPDATE users SET password_hash = $2 WHERE username = $1", &p);
}

static int pg_user_set_disabled(struct store *st, const char *username, bool disabled)
{
	struct params p = { .n = 0 };

	p_text(&p, username);
	p_text(&p, disabled ? "true" : "false");
	return change_one(pg(st), "user disable",
			  "UPDATE users SET disabled = $2 WHERE username = $1", &p);
}

static int pg_user_set_role(struct store *st, const char *username, const char *role)
{
	struct params p = { .n = 0 };

	p_text(&p, username);
	p_str(&p, role);
	return change_one(pg(st), "user role", "UPDATE users SET role = $2 WHERE username = $1",
			  &p);
}

static int pg_user_touch_login(struct store *st, int64_t id, int64_t when_ms)
{
	struct params p = { .n = 0 };

	p_i64(&p, id);
	p_time(&p, when_ms);
	return change_one(pg(st), "user login", "UPDATE users SET last_login_at = $2 WHERE id = $1",
			  &p);
}

static int pg_user_del(struct store *st, const char *username)
{
	struct params p = { .n = 0 };

	p_text(&p, username);
	return change_one(pg(st), "user del", "DELETE FROM users WHERE username = $1", &p);
}

static int pg_user_list(struct store *st, store_user_h *h, void *arg)
{
	return query_rows(pg(st), "user list", "SELECT " USER_COLS " FROM users ORDER BY username",
			  NULL, user_row, (void *)h, arg);
}

static int pg_user_count(struct store *st, int64_t *n)
{
	return count_of(pg(st), "user count", "SELECT count(*) FROM users", NULL, n);
}

/* Tokens */

static int pg_token_add(struct store *st, int64_t user_id, const char *token_hash,
			const char *name, int64_t *id_out)
{
	struct params p = { .n = 0 };

	p_i64(&p, user_id);
	p_str(&p, token_hash);
	p_str(&p, name);
	p_time(&p, store_time_now());
	return insert_id(pg(st), "token add",
			 "INSERT INTO api_tokens(user_id, token_hash, name, created_at)"
			 " VALUES ($1, $2, $3, $4) RETURNING id", &p, id_out, false);
}

static int token_row(const PGresult *r, int row, void *h, void *arg)
{
	struct store_token t;

	read_token(r, row, &t);
	return ((store_token_h *)h)(&t, arg);
}

static int pg_token_find(struct store *st, const char *token_hash, struct store_token *out)
{
	struct params p = { .n = 0 };
	PGresult *r = NULL;
	int err;

	p_text(&p, token_hash);
	p_time(&p, store_time_now());
	err = query_one(pg(st), "token find",
			"WITH t AS (UPDATE api_tokens SET last_used_at = $2"
			" WHERE token_hash = $1 RETURNING *)"
			" SELECT " TOKEN_COLS " FROM t JOIN users u ON u.id = t.user_id", &p, &r);
	if (!err)
		read_token(r, 0, out);
	PQclear(r);
	return err;
}

static int pg_token_revoke(struct store *st, int64_t id)
{
	struct params p = { .n = 0 };

	p_i64(&p, id);
	return change_one(pg(st), "token revoke", "DELETE FROM api_tokens WHERE id = $1", &p);
}

static int pg_token_list(struct store *st, store_token_h *h, void *arg)
{
	return query_rows(pg(st), "token list",
			  "SELECT " TOKEN_COLS " FROM api_tokens t JOIN users u ON u.id = t.user_id"
			  " ORDER BY t.id", NULL, token_row, (void *)h, arg);
}

/* Settings */

static int pg_setting_get(struct store *st, const char *key, char **value_out)
{
	struct params p = { .n = 0 };
	PGresult *r = NULL;
	int err;

	p_text(&p, key);
	err = query_one(pg(st), "setting get", "SELECT value FROM settings WHERE key = $1", &p,
			&r);
	if (!err)
		err = col_dup(r, 0, 0, value_out, true);
	PQclear(r);
	return err;
}

static int pg_setting_set(struct store *st, const char *key, const char *value,
			  const char *updated_by)
{
	struct params p = { .n = 0 };

	p_str(&p, key);
	p_text(&p, value);
	p_time(&p, store_time_now());
	p_str(&p, updated_by);
	return exec_change(pg(st), "setting set",
			   "INSERT INTO settings(key, value, updated_at, updated_by)"
			   " VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET"
			   " value = excluded.value, updated_at = excluded.updated_at,"
			   " updated_by = excluded.updated_by", &p, NULL);
}

static int setting_row(const PGresult *r, int row, void *h, void *arg)
{
	struct store_setting set;
	int err;

	memset(&set, 0, sizeof(set));
	col_str(r, row, 0, set.key, sizeof(set.key));
	set.updated_at = col_i64(r, row, 2);
	col_str(r, row, 3, set.updated_by, sizeof(set.updated_by));
	err = col_dup(r, row, 1, &set.value, true);
	if (!err)
		err = ((store_setting_h *)h)(&set, arg);
	free(set.value);
	return err;
}

static int pg_setting_list(struct store *st, store_setting_h *h, void *arg)
{
	return query_rows(pg(st), "setting list",
			  "SELECT key, value, " MS("updated_at") ", updated_by FROM settings"
			  " ORDER BY key", NULL, setting_row, (void *)h, arg);
}

/* Audit */

static int pg_audit(struct store *st, int64_t user_id, const char *action, const char *details,
		    const char *ip)
{
	struct params p = { .n = 0 };

	p_time(&p, store_time_now());
	p_id(&p, user_id);
	p_str(&p, action);
	p_str(&p, details);
	p_str(&p, ip);
	return exec_change(pg(st), "audit",
			   "INSERT INTO audit_log(timestamp, user_id, action, details, ip_address)"
			   " VALUES ($1, $2, $3, $4, $5)", &p, NULL);
}

static int audit_row(const PGresult *r, int row, void *h, void *arg)
{
	struct store_audit_row a;
	int err;

	memset(&a, 0, sizeof(a));
	a.id = col_i64(r, row, 0);
	a.timestamp = col_i64(r, row, 1);
	a.user_id = col_i64(r, row, 2);
	col_str(r, row, 3, a.username, sizeof(a.username));
	col_str(r, row, 4, a.action, sizeof(a.action));
	col_str(r, row, 6, a.ip_address, sizeof(a.ip_address));
	err = col_dup(r, row, 5, &a.details, false);
	if (!err)
		err = ((store_audit_h *)h)(&a, arg);
	free(a.details);
	return err;
}

static int pg_audit_list(struct store *st, int64_t offset, int limit, store_audit_h *h,
			 void *arg, int64_t *total)
{
	struct params p = { .n = 0 };
	int64_t n = 0;
	int err;

	if (limit > 0)
		p_i64(&p, limit);
	else
		p_text(&p, NULL);	/* LIMIT NULL: no limit */
	p_i64(&p, offset);
	err = count_of(pg(st), "audit count", "SELECT count(*) FROM audit_log", NULL, &n);
	if (!err)
		err = query_rows(pg(st), "audit list",
				 "SELECT " AUDIT_COLS " FROM audit_log a LEFT JOIN users u"
				 " ON u.id = a.user_id ORDER BY a.id DESC LIMIT $1 OFFSET $2",
				 &p, audit_row, (void *)h, arg);
	if (!err && total)
		*total = n;
	return err;
}

/* Calls */

static void p_call_fields(struct params *p, const struct store_call *c)
{
	p_str(p, c->sip_call_id);
	p_str(p, c->caller);
	p_str(p, c->callee);
	p_time(p, c->started_at);
	p_time(p, c->answered_at);
	p_time(p, c->ended_at);
	p_str(p, c->status);
	p_str(p, c->end_reason);
	p_str(p, c->consent);
	p_str(p, c->recording_path);
}

static void p_call(struct params *p, const struct store_call *c)
{
	p_i64(p, c->id);
	p_call_fields(p, c);
}

static int pg_call_insert(struct store *st, const struct store_call *c, int64_t *id_out)
{
	struct params p = { .n = 0 };

	p_call_fields(&p, c);
	p_str(&p, st->node);
	return insert_id(pg(st), "call insert",
			 "INSERT INTO calls(sip_call_id, caller, callee, started_at, answered_at,"
			 " ended_at, status, end_reason, consent, recording_path, node_id)"
			 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
			 &p, id_out, false);
}

static int pg_call_update(struct store *st, const struct store_call *c)
{
	struct params p = { .n = 0 };

	p_call(&p, c);
	return change_one(pg(st), "call update",
			  "UPDATE calls SET sip_call_id = $2, caller = $3, callee = $4,"
			  " started_at = $5, answered_at = $6, ended_at = $7, status = $8,"
			  " end_reason = $9, consent = $10, recording_path = $11 WHERE id = $1", &p);
}

static int call_row(const PGresult *r, int row, void *h, void *arg)
{
	struct store_call c;

	read_call(r, row, &c);
	return ((store_call_h *)h)(&c, arg);
}

static int copy_call(const struct store_call *c, void *arg)
{
	*(struct store_call *)arg = *c;
	return 0;
}

static int pg_call_get(struct store *st, int64_t id, struct store_call *out)
{
	struct params p = { .n = 0 };
	PGresult *r = NULL;
	int err;

	p_i64(&p, id);
	err = query_one(pg(st), "call get", "SELECT " CALL_COLS " FROM calls WHERE id = $1", &p,
			&r);
	if (!err)
		err = call_row(r, 0, (void *)copy_call, out);
	PQclear(r);
	return err;
}

static int pg_call_delete(struct store *st, int64_t id)
{
	struct params p = { .n = 0 };

	p_i64(&p, id);
	return change_one(pg(st), "call delete", "DELETE FROM calls WHERE id = $1", &p);
}

/* "%" + text with %, _ and \ escaped + "%". */
static char *like_pattern(const char *text)
{
	char *pat = malloc(strlen(text) * 2 + 3), *q = pat;

	if (!pat)
		return NULL;
	*q++ = '%';
	for (; *text; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			*q++ = '\\';
		*q++ = *text;
	}
	*q++ = '%';
	*q = '\0';
	return pat;
}

/* Each filter is "($n IS NULL OR ...)": one statement text, bound values
 * decide which filters apply. */
#define CALL_WHERE \
	" WHERE ($1::text IS NULL OR c.caller ILIKE $1 ESCAPE '\\' OR c.callee ILIKE $1" \
	" ESCAPE '\\' OR EXISTS (SELECT 1 FROM turns t WHERE t.call_id = c.id" \
	" AND t.text ILIKE $1 ESCAPE '\\'))" \
	" AND ($2::text IS NULL OR c.caller = $2)" \
	" AND ($3::timestamptz IS NULL OR c.started_at >= $3)" \
	" AND ($4::timestamptz IS NULL OR c.started_at < $4)" \
	" AND ($5::text IS NULL OR c.status = $5)"

static int pg_call_list(struct store *st, const struct store_call_filter *f, store_call_h *h,
			void *arg, int64_t *total)
{
	struct params p = { .n = 0 };
	char *pattern = NULL;
	int64_t n = 0;
	int err;

	if (f->q && f->q[0]) {
		pattern = like_pattern(f->q);
		if (!pattern)
			return ENOMEM;
	}
	p_text(&p, pattern);
	p_str(&p, f->caller);
	p_time(&p, f->from_ms);
	p_time(&p, f->to_ms);
	p_str(&p, f->status);
	/* The unfiltered total is kept by triggers (migration 4). */
	if (!pattern && !p.v[1] && !p.v[2] && !p.v[3] && !p.v[4]) /* all filters NULL */
		err = count_of(pg(st), "call count", "SELECT n FROM calls_total", NULL, &n);
	else
		err = count_of(pg(st), "call count", "SELECT count(*) FROM calls c" CALL_WHERE,
			       &p, &n);
	if (f->limit > 0)
		p_i64(&p, f->limit);
	else
		p_text(&p, NULL);
	p_i64(&p, f->offset);
	if (!err)
		err = query_rows(pg(st), "call list",
				 "SELECT " CALL_COLS " FROM calls c" CALL_WHERE
				 " ORDER BY c.started_at DESC NULLS LAST, c.id DESC LIMIT $6 OFFSET $7",
				 &p, call_row, (void *)h, arg);
	free(pattern);
	if (!err && total)
		*total = n;
	return err;
}

static int pg_call_stats(struct store *st, int64_t from_ms, struct store_call_stats *out)
{
	struct params p = { .n = 0 };
	PGresult *r = NULL;
	int err;

	p_time(&p, from_ms);
	err = query_one(pg(st), "call stats",
			"SELECT"
			" (SELECT count(*) FROM calls WHERE $1::timestamptz IS NULL"
			"  OR started_at >= $1),"
			" (SELECT count(*) FROM calls WHERE ($1::timestamptz IS NULL"
			"  OR started_at >= $1) AND answered_at IS NOT NULL),"
			" (SELECT count(*) FROM turns t JOIN calls c ON c.id = t.call_id"
			"  WHERE $1::timestamptz IS NULL OR c.started_at >= $1),"
			" (SELECT round(avg(t.response_ms)) FROM turns t JOIN calls c"
			"  ON c.id = t.call_id WHERE ($1::timestamptz IS NULL OR c.started_at >= $1)"
			"  AND t.response_ms IS NOT NULL),"
			" (SELECT count(*) FROM calls"
			" WHERE status IN ('active', 'ringing', 'in_progress')"
			"  AND ended_at IS NULL)", &p, &r);
	if (!err) {
		out->calls = col_i64(r, 0, 0);
		out->answered = col_i64(r, 0, 1);
		out->turns = col_i64(r, 0, 2);
		out->avg_response_ms = col_ms(r, 0, 3);
		out->active = col_i64(r, 0, 4);
	}
	PQclear(r);
	return err;
}

/* Turns */

static int pg_turn_insert(struct store *st, const struct store_turn *t, int64_t *id_out)
{
	struct params p = { .n = 0 };

	p_i64(&p, t->call_id);
	p_i64(&p, t->seq);
	p_str(&p, t->role);
	p_text(&p, t->text);
	p_time(&p, t->started_at);
	p_ms(&p, t->stt_ms);
	p_ms(&p, t->llm_ms);
	p_ms(&p, t->tts_ms);
	p_ms(&p, t->response_ms);
	/* (call_id, seq) is unique: a retried insert whose first attempt was
	 * committed reports EEXIST, which means it is stored */
	return insert_id(pg(st), "turn insert",
			 "INSERT INTO turns(call_id, seq, role, text, started_at, stt_ms, llm_ms,"
			 " tts_ms, response_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
			 " RETURNING id", &p, id_out, true);
}

static int turn_row(const PGresult *r, int row, void *h, void *arg)
{
	struct store_turn t;
	int err = read_turn(r, row, &t);

	if (!err)
		err = ((store_turn_h *)h)(&t, arg);
	store_turn_clear(&t);
	return err;
}

static int pg_turn_list(struct store *st, int64_t call_id, store_turn_h *h, void *arg)
{
	struct params p = { .n = 0 };

	p_i64(&p, call_id);
	return query_rows(pg(st), "turn list",
			  "SELECT " TURN_COLS " FROM turns WHERE call_id = $1 ORDER BY seq", &p,
			  turn_row, (void *)h, arg);
}

static int pg_turn_scan(struct store *st, int64_t after_id, int limit, store_turn_h *h,
			void *arg)
{
	struct params p = { .n = 0 };

	p_i64(&p, after_id);
	if (limit > 0)
		p_i64(&p, limit);
	else
		p_text(&p, NULL);
	return query_rows(pg(st), "turn scan",
			  "SELECT " TURN_COLS " FROM turns WHERE id > $1 ORDER BY id LIMIT $2", &p,
			  turn_row, (void *)h, arg);
}

static int pg_turn_set_text(struct store *st, int64_t id, const char *text)
{
	struct params p = { .n = 0 };

	p_i64(&p, id);
	p_text(&p, text);
	return change_one(pg(st), "turn set text", "UPDATE turns SET text = $2 WHERE id = $1", &p);
}

static int pg_call_list_by_number(struct store *st, const char *number, store_call_h *h,
				  void *arg)
{
	struct params p = { .n = 0 };

	p_text(&p, number);
	return query_rows(pg(st), "calls by number",
			  "SELECT " CALL_COLS " FROM calls WHERE caller = $1 OR callee = $1"
			  " ORDER BY started_at, id", &p, call_row, (void *)h, arg);
}

static int pg_call_list_purgeable(struct store *st, int64_t before_ms, int limit,
				  store_call_h *h, void *arg)
{
	struct params p = { .n = 0 };

	p_time(&p, before_ms);
	if (limit > 0)
		p_i64(&p, limit);
	else
		p_text(&p, NULL);
	return query_rows(pg(st), "calls purgeable",
			  "SELECT " CALL_COLS " FROM calls c WHERE started_at < $1 AND"
			  " (caller IS NOT NULL OR sip_call_id IS NOT NULL OR recording_path IS NOT NULL"
			  " OR EXISTS (SELECT 1 FROM turns t WHERE t.call_id = c.id"
			  " AND t.text IS NOT NULL)) ORDER BY started_at, id LIMIT $2", &p, call_row,
			  (void *)h, arg);
}

static int pg_call_anonymize(struct store *st, int64_t id, int64_t *turns_cleared)
{
	struct params p = { .n = 0 };
	PGresult *r = NULL;
	int err;

	p_i64(&p, id);
	/* one statement, so one transaction */
	err = query_one(pg(st), "call anonymize",
			"WITH t AS (UPDATE turns SET text = NULL WHERE call_id = $1"
			" AND text IS NOT NULL RETURNING 1),"
			" c AS (UPDATE calls SET caller = NULL, sip_call_id = NULL,"
			" recording_path = NULL WHERE id = $1 RETURNING 1)"
			" SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM t)", &p, &r);
	if (!err && col_i64(r, 0, 0) == 0)
		err = ENOENT;
	if (!err)
		*turns_cleared = col_i64(r, 0, 1);
	PQclear(r);
	return err;
}

static int pg_close_crashed(struct store *st, const char *node, int64_t now_ms,
			    int64_t *closed)
{
	struct params p = { .n = 0 };

	p_str(&p, node);
	p_time(&p, now_ms);
	/* one statement: a retry after a lost reply finds nothing left open */
	return exec_change(pg(st), "close crashed calls",
			   "UPDATE calls c SET ended_at = coalesce((SELECT max(t.started_at)"
			   " FROM turns t WHERE t.call_id = c.id), c.answered_at, c.started_at,"
			   " $2::timestamptz),"
			   " status = CASE WHEN c.answered_at IS NULL THEN 'failed'"
			   " ELSE 'completed' END, end_reason = 'crash'"
			   " WHERE c.ended_at IS NULL AND (c.node_id = $1 OR c.node_id IS NULL)",
			   &p, closed);
}

static int pg_audit_redact(struct store *st, const char *text, const char *replacement,
			   int64_t *rows)
{
	struct params p = { .n = 0 };

	p_text(&p, text);
	p_text(&p, replacement);
	return exec_change(pg(st), "audit redact",
			   "UPDATE audit_log SET details = replace(details, $1, $2)"
			   " WHERE strpos(details, $1) > 0", &p, rows);
}

static int pg_scrub(struct store *st)
{
	/* dead row versions stay in the heap until (auto)vacuum reuses them;
	 * VACUUM needs table ownership, which the least-privilege role lacks:
	 * docs/operations.md has the periodic VACUUM for the owner role */
	(void)st;
	return 0;
}

static const char *pg_path(const struct store *st)
{
	(void)st;
	return NULL;
}

const struct store_backend store_pg_backend = {
	.scheme = "postgresql",
	.alias = "postgres",
	.open = pg_open,
	.close = pg_close,
	.path = pg_path,
	.migrate = pg_migrate,
	.schema_version = pg_schema_version,
	.user_add = pg_user_add,
	.user_get = pg_user_get,
	.user_get_by_id = pg_user_get_by_id,
	.user_set_password = pg_user_set_password,
	.user_set_disabled = pg_user_set_disabled,
	.user_set_role = pg_user_set_role,
	.user_touch_login = pg_user_touch_login,
	.user_del = pg_user_del,
	.user_list = pg_user_list,
	.user_count = pg_user_count,
	.token_add = pg_token_add,
	.token_find = pg_token_find,
	.token_revoke = pg_token_revoke,
	.token_list = pg_token_list,
	.setting_get = pg_setting_get,
	.setting_set = pg_setting_set,
	.setting_list = pg_setting_list,
	.audit = pg_audit,
	.audit_list = pg_audit_list,
	.call_insert = pg_call_insert,
	.call_update = pg_call_update,
	.call_get = pg_call_get,
	.call_delete = pg_call_delete,
	.call_list = pg_call_list,
	.call_stats = pg_call_stats,
	.turn_insert = pg_turn_insert,
	.turn_list = pg_turn_list,
	.turn_scan = pg_turn_scan,
	.turn_set_text = pg_turn_set_text,
	.call_list_by_number = pg_call_list_by_number,
	.call_list_purgeable = pg_call_list_purgeable,
	.call_anonymize = pg_call_anonymize,
	.audit_redact = pg_audit_redact,
	.scrub = pg_scrub,
	.close_crashed = pg_close_crashed,
	.backup = NULL,
};
