/* store.h - persistent data (calls, turns, users, API tokens, settings, audit log) behind one API. */
#ifndef CALLBOT_STORE_STORE_H
#define CALLBOT_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Conventions
 * - Every function returns 0 or an errno value: EINVAL (bad argument or a
 *   value the schema refuses), ENOENT (no such row, or a referenced row is
 *   missing), EEXIST (unique key taken), ENOMEM, EBUSY (database locked
 *   longer than the busy timeout), ENOTCONN (PostgreSQL unreachable: the pool
 *   is waiting for the server), ENOSPC, EIO (anything else; logged with
 *   the database's own message). Expected outcomes (EINVAL, ENOENT, EEXIST)
 *   are not logged: the caller knows what the user asked for and says so.
 * - Timestamps are milliseconds since the epoch, UTC; 0 means unset (NULL).
 * - Text fields of fixed size: an empty string means unset (stored as NULL).
 * - A store may be shared by threads; each call is atomic.
 * - List functions call the handler after the database work is done, without
 *   holding any lock, so a handler may call back into the same store. A
 *   non-zero return from the handler stops the listing and is returned.
 *   Rows are valid only during the handler; a row's heap field (turn text,
 *   audit details, setting value) may be kept by taking the pointer and
 *   setting the field to NULL.
 * - id_out and total parameters may be NULL.
 */

struct store;

/* url: sqlite:///relative/path.db (resolved against base_dir, or the cwd
 * when base_dir is NULL), sqlite:////absolute/path.db, or postgresql://...
 * (ENOTSUP until a PostgreSQL backend is built in). Unknown schemes: EINVAL.
 * A new SQLite file is created with mode 0600. Does not migrate. */
int store_open(struct store **stp, const char *url, const char *base_dir);
void store_close(struct store *st);
/* For the calling thread: store operations do not wait for a lost database server to come
 * back; they fail at once with ENOTCONN (web request threads: an operator gets 503 in
 * milliseconds). Other threads (the call-row writer, the CLI) wait up to the backend's
 * reconnect bound, so a server restart costs them nothing. */
void store_thread_impatient(bool on);
bool store_thread_is_impatient(void);
/* Applies pending numbered migrations, each in its own transaction. Safe to
 * run again, and from several processes at once. ENOTSUP if the database
 * was migrated by a newer callbot. */
int store_migrate(struct store *st);
/* Highest applied migration; 0 for a fresh database. */
int store_schema_version(struct store *st, int *version);
/* The latest migration this build knows. */
int store_schema_latest(void);
const char *store_backend_name(const struct store *st);
/* The database file (sqlite), else NULL. */
const char *store_path(const struct store *st);

/*
 * Nodes (docs/scaling.md, docs/reliability.md). Several callbot nodes may
 * share one PostgreSQL database; each call row records the node that
 * handled it (NODE_ID), so a node restarting after a crash closes only its
 * own calls. node_id NULL or "" means none. EINVAL if longer than 63 bytes.
 */
int store_set_node(struct store *st, const char *node_id);
/* The id set above ("" if none). */
const char *store_node(const struct store *st);
/*
 * Crash recovery, run by serve at start before it takes calls: every call
 * of node_id (NULL: the store's node) still open (no ended_at) was cut by a
 * crash of this node. Each gets ended_at = the last time it was known
 * alive (its last turn's start, else answered_at, else started_at, else
 * now), status 'completed' if it was answered else 'failed' (as a call cut
 * short by the network), end_reason 'crash'. Turns are untouched. Calls of
 * other nodes stay open; rows written before nodes were recorded (no node)
 * are closed by every node. *closed (may be NULL) = calls closed; when it
 * is not 0 one line is logged:
 *   "store: closed N call(s) left open by a crash (node ID)".
 */
int store_close_crashed_calls(struct store *st, const char *node_id,
			      int64_t *closed);

/* Users */
struct store_user {
	int64_t id;
	char username[64];
	char password_hash[160];
	char role[16];		/* "admin" or "viewer" */
	int64_t created_at;
	bool disabled;
	int64_t last_login_at;
};

typedef int (store_user_h)(const struct store_user *u, void *arg);

bool store_user_role_valid(const char *role);
/* EINVAL for an empty or too long (>63 bytes) name, an empty or too long
 * hash, or a role other than admin/viewer; EEXIST if the name is taken. */
int store_user_add(struct store *st, const char *username,
		   const char *password_hash, const char *role, int64_t *id_out);
int store_user_get(struct store *st, const char *username,
		   struct store_user *out);
int store_user_get_by_id(struct store *st, int64_t id, struct store_user *out);
int store_user_set_password(struct store *st, const char *username,
			    const char *password_hash);
int store_user_set_disabled(struct store *st, const char *username,
			    bool disabled);
int store_user_set_role(struct store *st, const char *username,
			const char *role);
int store_user_touch_login(struct store *st, int64_t id, int64_t when_ms);
/* Also deletes the user's API tokens; audit rows keep the id. */
int store_user_del(struct store *st, const char *username);
/* Ordered by username. */
int store_user_list(struct store *st, store_user_h *h, void *arg);
int store_user_count(struct store *st, int64_t *n);

/* API tokens (only a hash of the token is stored) */
struct store_token {
	int64_t id;
	int64_t user_id;
	char username[64];
	char name[64];
	int64_t created_at;
	int64_t last_used_at;
};

typedef int (store_token_h)(const struct store_token *t, void *arg);

/* name may be NULL. ENOENT if the user does not exist, EEXIST if the hash
 * is already stored. */
int store_token_add(struct store *st, int64_t user_id, const char *token_hash,
		    const char *name, int64_t *id_out);
/* Looks a token up by hash and records its use (last_used_at = now). The
 * caller still has to check that the user is not disabled. */
int store_token_find(struct store *st, const char *token_hash,
		     struct store_token *out);
int store_token_revoke(struct store *st, int64_t id);
/* Ordered by id. */
int store_token_list(struct store *st, store_token_h *h, void *arg);

/* Settings (changed from the dashboard) */
struct store_setting {
	char key[64];
	char *value;
	int64_t updated_at;
	char updated_by[64];
};

typedef int (store_setting_h)(struct store_setting *s, void *arg);

/* *value_out is malloc'd; the caller frees it. */
int store_setting_get(struct store *st, const char *key, char **value_out);
/* Inserts or replaces. updated_by (a username) may be NULL. */
int store_setting_set(struct store *st, const char *key, const char *value,
		      const char *updated_by);
/* Ordered by key. */
int store_setting_list(struct store *st, store_setting_h *h, void *arg);

/* Audit log */
struct store_audit_row {
	int64_t id;
	int64_t timestamp;
	int64_t user_id;	/* 0 = none */
	char username[64];	/* empty if none or since deleted */
	char action[64];
	char *details;		/* may be NULL */
	char ip_address[64];
};

typedef int (store_audit_h)(struct store_audit_row *r, void *arg);

/* timestamp = now. details and ip may be NULL. */
int store_audit(struct store *st, int64_t user_id, const char *action,
		const char *details, const char *ip);
/* Newest first; limit <= 0 means no limit. *total = rows in the log. */
int store_audit_list(struct store *st, int64_t offset, int limit,
		     store_audit_h *h, void *arg, int64_t *total);

/* Calls */
struct store_call {
	int64_t id;
	char sip_call_id[256];
	char caller[128];
	char callee[128];
	int64_t started_at;
	int64_t answered_at;
	int64_t ended_at;
	char status[24];
	char end_reason[48];
	char consent[16];
	char recording_path[512];
};

/* Unset members (NULL, "", 0) do not filter. */
struct store_call_filter {
	const char *q;		/* substring of caller, callee or a turn's text;
				   case-insensitive for ASCII, % and _ literal */
	const char *caller;	/* exact match (export/erase must not over-match) */
	int64_t from_ms;	/* started_at >= from_ms */
	int64_t to_ms;		/* started_at <  to_ms */
	const char *status;	/* exact match */
	int64_t offset;
	int limit;		/* <= 0: no limit */
};

typedef int (store_call_h)(const struct store_call *c, void *arg);

/* c->id is ignored. */
int store_call_insert(struct store *st, const struct store_call *c,
		      int64_t *id_out);
/* Replaces every column of the row c->id. */
int store_call_update(struct store *st, const struct store_call *c);
int store_call_get(struct store *st, int64_t id, struct store_call *out);
/* Deletes the call and its turns; the recording file is the caller's. */
int store_call_delete(struct store *st, int64_t id);
/* Newest first (started_at, then id). f may be NULL. *total = all matching
 * rows, regardless of offset and limit. */
int store_call_list(struct store *st, const struct store_call_filter *f,
		    store_call_h *h, void *arg, int64_t *total);

/* Dashboard totals. */
struct store_call_stats {
	int64_t calls;		/* calls started at/after from_ms */
	int64_t answered;	/* of those, answered (answered_at set) */
	int64_t turns;		/* turns of those calls */
	int avg_response_ms;	/* mean response_ms of those turns; -1 if none */
	int64_t active;		/* status ringing, in_progress (what the call
				   service writes) or active, and no ended_at,
				   whatever from_ms */
};

/* from_ms 0 counts every call. */
int store_call_stats(struct store *st, int64_t from_ms,
		     struct store_call_stats *out);

/* Turns */
struct store_turn {
	int64_t id;
	int64_t call_id;
	int seq;
	char role[8];		/* "caller", "bot" or "tool" */
	char *text;		/* may be NULL; malloc'd when read */
	int64_t started_at;
	int stt_ms, llm_ms, tts_ms, response_ms;	/* -1 = unset */
};

typedef int (store_turn_h)(struct store_turn *t, void *arg);

/* ENOENT if the call does not exist, EEXIST if (call_id, seq) is taken. */
int store_turn_insert(struct store *st, const struct store_turn *t,
		      int64_t *id_out);
/* Ordered by seq. */
int store_turn_list(struct store *st, int64_t call_id, store_turn_h *h,
		    void *arg);
/* Frees t->text (for a turn the caller kept or filled itself). */
void store_turn_clear(struct store_turn *t);

/*
 * Encryption at rest (docs/security.md). With a key set, store_turn_insert
 * stores text as a Fernet token made with the newest key, and every read
 * (store_turn_list, store_turn_scan) returns it decrypted with whichever key
 * of the ring made it; plain text written before encryption was switched on
 * is returned as is. A token no key opens is returned as stored (and logged
 * once per listing). store_call_list's q then decrypts and filters in this
 * layer: it reads every call matching the other filters (cost grows with
 * their number; narrow by date for big databases).
 */
/* keys_csv: ENCRYPTION_KEY ("KEY[,OLDKEY...]"); NULL or "" switches
 * encryption off. EINVAL for an invalid key (never logged). */
int store_set_encryption_key(struct store *st, const char *keys_csv);
/* The ring set above, or NULL. Valid until the next set or store_close. */
const struct fernet_keyring *store_keyring(const struct store *st);

/* Every turn with id > after_id, by id, at most limit (<= 0: all), with
 * text decrypted unless raw. For re-encryption and exports. */
int store_turn_scan(struct store *st, int64_t after_id, int limit, bool raw,
		    store_turn_h *h, void *arg);
/* Replaces a turn's text as given (no encryption here: the caller passes
 * the token). ENOENT if no such turn. */
int store_turn_set_text_raw(struct store *st, int64_t turn_id, const char *text);

/* Calls whose caller or callee is exactly number (oldest first). */
int store_call_list_by_number(struct store *st, const char *number,
			      store_call_h *h, void *arg);
/* Calls started before before_ms that still hold personal data: a caller,
 * a SIP Call-ID, a recording or turn text (oldest first, at most limit). */
int store_call_list_purgeable(struct store *st, int64_t before_ms, int limit,
			      store_call_h *h, void *arg);
/* Keeps only non-personal metadata of a call: clears caller, sip_call_id,
 * recording_path and every turn's text (timings stay for statistics).
 * *turns_cleared may be NULL. */
int store_call_anonymize(struct store *st, int64_t id, int64_t *turns_cleared);
/* Replaces every occurrence of text in audit_log.details by replacement
 * (GDPR erase: the trail keeps the event, not the number). */
int store_audit_redact(struct store *st, const char *text,
		       const char *replacement, int64_t *rows);
/* Makes deleted data unrecoverable from the database files where the
 * backend can (SQLite: checkpoint and truncate the WAL; secure_delete
 * already zeroes freed pages). */
int store_scrub(struct store *st);
/* A consistent online copy of the database into path (SQLite backup API;
 * mode 0600; path must not exist). ENOTSUP for backends that need their
 * own tools (PostgreSQL: pg_dump). */
int store_backup(struct store *st, const char *path);

#endif
