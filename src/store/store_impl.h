/* store_impl.h - private to src/store/: the backend vtable and the migrations table. */
#ifndef CALLBOT_STORE_STORE_IMPL_H
#define CALLBOT_STORE_STORE_IMPL_H

#include <stddef.h>

#include "store/store.h"

/* A backend embeds this as the first member of its own struct. */
struct store {
	const struct store_backend *be;
	struct fernet_keyring *kr;	/* owned by store.c; NULL = no encryption */
	char node[64];			/* this node's id (store_set_node); "" = none */
};

/*
 * store.c has already checked the arguments (non-NULL, lengths that fit the
 * record structs, valid roles), so a backend only talks to its database.
 * Each operation must be atomic with respect to other threads. List
 * operations may call h while holding their lock: store.c passes a handler
 * that only copies the row (taking its heap fields, see store.h) and calls
 * the user's handler after the backend has returned.
 */
struct store_backend {
	const char *scheme;	/* URL scheme, matched without case */
	const char *alias;	/* another scheme for the same backend, or NULL */
	/* url is the whole URL as given (with the scheme). */
	int (*open)(struct store **stp, const char *url, const char *base_dir);
	void (*close)(struct store *st);
	const char *(*path)(const struct store *st);
	int (*migrate)(struct store *st);
	int (*schema_version)(struct store *st, int *version);

	int (*user_add)(struct store *st, const char *username,
			const char *password_hash, const char *role,
			int64_t *id_out);
	int (*user_get)(struct store *st, const char *username,
			struct store_user *out);
	int (*user_get_by_id)(struct store *st, int64_t id,
			      struct store_user *out);
	int (*user_set_password)(struct store *st, const char *username,
				 const char *password_hash);
	int (*user_set_disabled)(struct store *st, const char *username,
				 bool disabled);
	int (*user_set_role)(struct store *st, const char *username,
			     const char *role);
	int (*user_touch_login)(struct store *st, int64_t id, int64_t when_ms);
	int (*user_del)(struct store *st, const char *username);
	int (*user_list)(struct store *st, store_user_h *h, void *arg);
	int (*user_count)(struct store *st, int64_t *n);

	int (*token_add)(struct store *st, int64_t user_id,
			 const char *token_hash, const char *name,
			 int64_t *id_out);
	int (*token_find)(struct store *st, const char *token_hash,
			  struct store_token *out);
	int (*token_revoke)(struct store *st, int64_t id);
	int (*token_list)(struct store *st, store_token_h *h, void *arg);

	int (*setting_get)(struct store *st, const char *key, char **value_out);
	int (*setting_set)(struct store *st, const char *key,
			   const char *value, const char *updated_by);
	int (*setting_list)(struct store *st, store_setting_h *h, void *arg);

	int (*audit)(struct store *st, int64_t user_id, const char *action,
		     const char *details, const char *ip);
	int (*audit_list)(struct store *st, int64_t offset, int limit,
			  store_audit_h *h, void *arg, int64_t *total);

	int (*call_insert)(struct store *st, const struct store_call *c,
			   int64_t *id_out);
	int (*call_update)(struct store *st, const struct store_call *c);
	int (*call_get)(struct store *st, int64_t id, struct store_call *out);
	int (*call_delete)(struct store *st, int64_t id);
	/* f is never NULL here. */
	int (*call_list)(struct store *st, const struct store_call_filter *f,
			 store_call_h *h, void *arg, int64_t *total);

	int (*call_stats)(struct store *st, int64_t from_ms,
			  struct store_call_stats *out);

	int (*turn_insert)(struct store *st, const struct store_turn *t,
			   int64_t *id_out);
	int (*turn_list)(struct store *st, int64_t call_id, store_turn_h *h,
			 void *arg);
	int (*turn_scan)(struct store *st, int64_t after_id, int limit,
			 store_turn_h *h, void *arg);
	int (*turn_set_text)(struct store *st, int64_t id, const char *text);

	int (*call_list_by_number)(struct store *st, const char *number,
				   store_call_h *h, void *arg);
	int (*call_list_purgeable)(struct store *st, int64_t before_ms,
				   int limit, store_call_h *h, void *arg);
	int (*call_anonymize)(struct store *st, int64_t id,
			      int64_t *turns_cleared);
	int (*audit_redact)(struct store *st, const char *text,
			    const char *replacement, int64_t *rows);
	int (*scrub)(struct store *st);
	/* Ends the open calls (ended_at NULL) of node, or of no node when node
	 * is "" (see store_close_crashed_calls); *closed = calls ended. */
	int (*close_crashed)(struct store *st, const char *node, int64_t now_ms,
			     int64_t *closed);
	/* NULL when the backend has no built-in backup */
	int (*backup)(struct store *st, const char *path);
};

/* The backends; store.c's registry lists them. */
extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

/*
 * Migrations (migrations.c). Each dialect has its own array, numbered from 1
 * without gaps; migration N of every dialect must produce the same tables.
 * A backend applies each pending one in a transaction together with the row
 * recording it in schema_migrations, so a failed migration leaves nothing.
 */
struct store_migration {
	int version;
	const char *name;
	const char *sql;	/* one or more statements, no values */
};

struct store_migrations {
	const struct store_migration *v;
	size_t n;
};

extern const char store_migrations_table_sql[];
extern const struct store_migrations store_migrations_sqlite;
extern const struct store_migrations store_migrations_pg;

#endif
