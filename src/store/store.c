/* store.c - the store API: picks a backend by URL, checks arguments, runs list handlers unlocked. */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "crypto/fernet.h"
#include "store/store_impl.h"
#include "store/time_iso.h"

/* A new backend is one file and one line here. */
static const struct store_backend *const backends[] = {
	&store_sqlite_backend,
	&store_pg_backend,
};

static bool scheme_is(const char *scheme, size_t len, const char *name)
{
	return name && strlen(name) == len && strncasecmp(scheme, name, len) == 0;
}

static _Thread_local bool impatient;

void store_thread_impatient(bool on)
{
	impatient = on;
}

bool store_thread_is_impatient(void)
{
	return impatient;
}

int store_open(struct store **stp, const char *url, const char *base_dir)
{
	const char *sep;
	size_t len;

	if (!stp)
		return EINVAL;
	*stp = NULL;
	if (!url || !(sep = strstr(url, "://")) || sep == url) {
		log_error("store: DATABASE_URL must look like sqlite:///callbot.db"
			  " or postgresql://user@host/db");
		return EINVAL;
	}

	/* SQLAlchemy URLs name a driver after '+' (postgresql+psycopg2://);
	 * the Python CallBot's .env must keep working. Only the scheme is ever
	 * logged: the rest may hold a password. */
	len = (size_t)(sep - url);
	for (size_t i = 0; i < len; i++) {
		if (url[i] == '+') {
			len = i;
			break;
		}
	}

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (scheme_is(url, len, backends[i]->scheme) ||
		    scheme_is(url, len, backends[i]->alias))
			return backends[i]->open(stp, url, base_dir);
	}
	log_error("store: DATABASE_URL: unknown scheme '%.*s'"
		  " (expected sqlite or postgresql)",
		  len > 32 ? 32 : (int)len, url);
	return EINVAL;
}

void store_close(struct store *st)
{
	if (st) {
		fernet_keyring_free(st->kr);
		st->kr = NULL;
		st->be->close(st);
	}
}

int store_migrate(struct store *st)
{
	return st ? st->be->migrate(st) : EINVAL;
}

int store_schema_version(struct store *st, int *version)
{
	return st && version ? st->be->schema_version(st, version) : EINVAL;
}

const char *store_backend_name(const struct store *st)
{
	return st ? st->be->scheme : NULL;
}

const char *store_path(const struct store *st)
{
	return st && st->be->path ? st->be->path(st) : NULL;
}

/* Argument checks, so every backend gets the same answers. */

/* Non-empty and fits a char[size] record field. */
static bool str_ok(const char *s, size_t size)
{
	return s && s[0] && strnlen(s, size) < size;
}

/* NULL, or fits a char[size] record field. */
static bool opt_ok(const char *s, size_t size)
{
	return !s || strnlen(s, size) < size;
}

/* A fixed-size record field that is NUL-terminated. */
#define FIELD_OK(f) (memchr((f), '\0', sizeof(f)) != NULL)

#define USERNAME_MAX sizeof(((struct store_user *)0)->username)
#define HASH_MAX sizeof(((struct store_user *)0)->password_hash)
#define ROLE_MAX sizeof(((struct store_user *)0)->role)
#define TOKEN_NAME_MAX sizeof(((struct store_token *)0)->name)
#define SETTING_KEY_MAX sizeof(((struct store_setting *)0)->key)
#define ACTION_MAX sizeof(((struct store_audit_row *)0)->action)
#define IP_MAX sizeof(((struct store_audit_row *)0)->ip_address)
/* Token hashes are hex or base64 digests; bound them all the same. */
#define TOKEN_HASH_MAX 256

bool store_user_role_valid(const char *role)
{
	return role && (!strcmp(role, "admin") || !strcmp(role, "viewer"));
}

static bool turn_role_valid(const char *role)
{
	return !strcmp(role, "caller") || !strcmp(role, "bot") ||
	       !strcmp(role, "tool");
}

static bool call_ok(const struct store_call *c)
{
	return c && FIELD_OK(c->sip_call_id) && FIELD_OK(c->caller) &&
	       FIELD_OK(c->callee) && FIELD_OK(c->status) &&
	       FIELD_OK(c->end_reason) && FIELD_OK(c->consent) &&
	       FIELD_OK(c->recording_path);
}

/*
 * Buffered listing: the backend hands rows to a collector under its lock;
 * the user's handler sees them afterwards, so it may call the store again
 * (an export lists a caller's calls, then each call's turns) and a slow
 * handler never holds up the call threads' writes.
 */
struct rowbuf {
	char *rows;
	size_t n, cap, size;
};

static int rowbuf_push(struct rowbuf *b, const void *row)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		char *rows = realloc(b->rows, cap * b->size);

		if (!rows)
			return ENOMEM;
		b->rows = rows;
		b->cap = cap;
	}
	memcpy(b->rows + b->n * b->size, row, b->size);
	b->n++;
	return 0;
}

static void *rowbuf_at(const struct rowbuf *b, size_t i)
{
	return b->rows + i * b->size;
}

static int collect_user(const struct store_user *u, void *arg)
{
	return rowbuf_push(arg, u);
}

static int collect_token(const struct store_token *t, void *arg)
{
	return rowbuf_push(arg, t);
}

static int collect_call(const struct store_call *c, void *arg)
{
	return rowbuf_push(arg, c);
}

/* The three below take the row's heap field over. */
static int collect_setting(struct store_setting *s, void *arg)
{
	int err = rowbuf_push(arg, s);

	if (!err)
		s->value = NULL;
	return err;
}

static int collect_audit(struct store_audit_row *r, void *arg)
{
	int err = rowbuf_push(arg, r);

	if (!err)
		r->details = NULL;
	return err;
}

static int collect_turn(struct store_turn *t, void *arg)
{
	int err = rowbuf_push(arg, t);

	if (!err)
		t->text = NULL;
	return err;
}

/* Users */

int store_user_add(struct store *st, const char *username,
		   const char *password_hash, const char *role, int64_t *id_out)
{
	if (!st || !str_ok(username, USERNAME_MAX) ||
	    !str_ok(password_hash, HASH_MAX) || !store_user_role_valid(role))
		return EINVAL;
	return st->be->user_add(st, username, password_hash, role, id_out);
}

int store_user_get(struct store *st, const char *username,
		   struct store_user *out)
{
	if (!st || !out || !username)
		return EINVAL;
	if (!str_ok(username, USERNAME_MAX))
		return ENOENT;	/* could never have been added */
	return st->be->user_get(st, username, out);
}

int store_user_get_by_id(struct store *st, int64_t id, struct store_user *out)
{
	if (!st || !out)
		return EINVAL;
	return st->be->user_get_by_id(st, id, out);
}

int store_user_set_password(struct store *st, const char *username,
			    const char *password_hash)
{
	if (!st || !username || !str_ok(password_hash, HASH_MAX))
		return EINVAL;
	return st->be->user_set_password(st, username, password_hash);
}

int store_user_set_disabled(struct store *st, const char *username,
			    bool disabled)
{
	if (!st || !username)
		return EINVAL;
	return st->be->user_set_disabled(st, username, disabled);
}

int store_user_set_role(struct store *st, const char *username,
			const char *role)
{
	if (!st || !username || !store_user_role_valid(role))
		return EINVAL;
	return st->be->user_set_role(st, username, role);
}

int store_user_touch_login(struct store *st, int64_t id, int64_t when_ms)
{
	if (!st)
		return EINVAL;
	return st->be->user_touch_login(st, id, when_ms);
}

int store_user_del(struct store *st, const char *username)
{
	if (!st || !username)
		return EINVAL;
	return st->be->user_del(st, username);
}

int store_user_list(struct store *st, store_user_h *h, void *arg)
{
	struct rowbuf b = { .size = sizeof(struct store_user) };
	int err;

	if (!st || !h)
		return EINVAL;
	err = st->be->user_list(st, collect_user, &b);
	for (size_t i = 0; !err && i < b.n; i++)
		err = h(rowbuf_at(&b, i), arg);
	free(b.rows);
	return err;
}

int store_user_count(struct store *st, int64_t *n)
{
	if (!st || !n)
		return EINVAL;
	return st->be->user_count(st, n);
}

/* API tokens */

int store_token_add(struct store *st, int64_t user_id, const char *token_hash,
		    const char *name, int64_t *id_out)
{
	if (!st || !str_ok(token_hash, TOKEN_HASH_MAX) ||
	    !opt_ok(name, TOKEN_NAME_MAX))
		return EINVAL;
	return st->be->token_add(st, user_id, token_hash, name, id_out);
}

int store_token_find(struct store *st, const char *token_hash,
		     struct store_token *out)
{
	if (!st || !token_hash || !out)
		return EINVAL;
	if (!str_ok(token_hash, TOKEN_HASH_MAX))
		return ENOENT;
	return st->be->token_find(st, token_hash, out);
}

int store_token_revoke(struct store *st, int64_t id)
{
	if (!st)
		return EINVAL;
	return st->be->token_revoke(st, id);
}

int store_token_list(struct store *st, store_token_h *h, void *arg)
{
	struct rowbuf b = { .size = sizeof(struct store_token) };
	int err;

	if (!st || !h)
		return EINVAL;
	err = st->be->token_list(st, collect_token, &b);
	for (size_t i = 0; !err && i < b.n; i++)
		err = h(rowbuf_at(&b, i), arg);
	free(b.rows);
	return err;
}

/* Settings */

int store_setting_get(struct store *st, const char *key, char **value_out)
{
	if (!st || !key || !value_out)
		return EINVAL;
	*value_out = NULL;
	return st->be->setting_get(st, key, value_out);
}

int store_setting_set(struct store *st, const char *key, const char *value,
		      const char *updated_by)
{
	if (!st || !str_ok(key, SETTING_KEY_MAX) || !value ||
	    !opt_ok(updated_by, USERNAME_MAX))
		return EINVAL;
	return st->be->setting_set(st, key, value, updated_by);
}

int store_setting_list(struct store *st, store_setting_h *h, void *arg)
{
	struct rowbuf b = { .size = sizeof(struct store_setting) };
	int err;

	if (!st || !h)
		return EINVAL;
	err = st->be->setting_list(st, collect_setting, &b);
	for (size_t i = 0; !err && i < b.n; i++)
		err = h(rowbuf_at(&b, i), arg);
	for (size_t i = 0; i < b.n; i++)
		free(((struct store_setting *)rowbuf_at(&b, i))->value);
	free(b.rows);
	return err;
}

/* Audit log */

int store_audit(struct store *st, int64_t user_id, const char *action,
		const char *details, const char *ip)
{
	if (!st || !str_ok(action, ACTION_MAX) || !opt_ok(ip, IP_MAX))
		return EINVAL;
	return st->be->audit(st, user_id, action, details, ip);
}

int store_audit_list(struct store *st, int64_t offset, int limit,
		     store_audit_h *h, void *arg, int64_t *total)
{
	struct rowbuf b = { .size = sizeof(struct store_audit_row) };
	int err;

	if (!st || !h || offset < 0)
		return EINVAL;
	err = st->be->audit_list(st, offset, limit, collect_audit, &b, total);
	for (size_t i = 0; !err && i < b.n; i++)
		err = h(rowbuf_at(&b, i), arg);
	for (size_t i = 0; i < b.n; i++)
		free(((struct store_audit_row *)rowbuf_at(&b, i))->details);
	free(b.rows);
	return err;
}

/* Nodes */

int store_set_node(struct store *st, const char *node_id)
{
	size_t n = node_id ? strlen(node_id) : 0;

	if (!st || n >= sizeof(st->node))
		return EINVAL;
	memcpy(st->node, n ? node_id : "", n + 1);
	return 0;
}

const char *store_node(const struct store *st)
{
	return st ? st->node : "";
}

int store_close_crashed_calls(struct store *st, const char *node_id,
			      int64_t *closed)
{
	int64_t n = 0;
	int err;

	if (closed)
		*closed = 0;
	if (!st)
		return EINVAL;
	if (!node_id)
		node_id = st->node;
	if (strlen(node_id) >= sizeof(st->node))
		return EINVAL;
	err = st->be->close_crashed(st, node_id, store_time_now(), &n);
	if (err)
		return err;
	if (n)
		log_warn("store: closed %lld call(s) left open by a crash"
			 " (node %s)", (long long)n,
			 node_id[0] ? node_id : "(none)");
	if (closed)
		*closed = n;
	return 0;
}

/* Calls */

int store_call_insert(struct store *st, const struct store_call *c,
		      int64_t *id_out)
{
	if (!st || !call_ok(c))
		return EINVAL;
	return st->be->call_insert(st, c, id_out);
}

int store_call_update(struct store *st, const struct store_call *c)
{
	if (!st || !call_ok(c))
		return EINVAL;
	return st->be->call_update(st, c);
}

int store_call_get(struct store *st, int64_t id, struct store_call *out)
{
	if (!st || !out)
		return EINVAL;
	return st->be->call_get(st, id, out);
}

int store_call_delete(struct store *st, int64_t id)
{
	if (!st)
		return EINVAL;
	return st->be->call_delete(st, id);
}

/* ASCII case-insensitive substring search, like the backends' LIKE. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!hay)
		return false;
	for (; *hay; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return !n;
}

struct text_match {
	const char *q;
	bool found;
};

static int match_turn(struct store_turn *t, void *arg)
{
	struct text_match *m = arg;

	if (contains_ci(t->text, m->q)) {
		m->found = true;
		return -1;	/* stop: one match is enough */
	}
	return 0;
}

/* q over encrypted turns: the database cannot look inside the tokens, so
 * list every call matching the other filters and test it here. */
static int call_list_decrypting(struct store *st,
				const struct store_call_filter *f,
				struct rowbuf *out, int64_t *total)
{
	struct store_call_filter g = *f;
	struct rowbuf all = { .size = sizeof(struct store_call) };
	int64_t matched = 0;
	int err;

	g.q = NULL;
	g.offset = 0;
	g.limit = 0;
	err = st->be->call_list(st, &g, collect_call, &all, NULL);
	for (size_t i = 0; !err && i < all.n; i++) {
		const struct store_call *c = rowbuf_at(&all, i);
		struct text_match m = { f->q, false };

		m.found = contains_ci(c->caller, f->q) ||
			  contains_ci(c->callee, f->q);
		if (!m.found) {
			err = store_turn_list(st, c->id, match_turn, &m);
			if (err == -1)
				err = 0;
		}
		if (err || !m.found)
			continue;
		if (matched >= f->offset &&
		    (f->limit <= 0 || matched < f->offset + f->limit))
			err = rowbuf_push(out, c);
		matched++;
	}
	free(all.rows);
	if (!err && total)
		*total = matched;
	return err;
}

int store_call_list(struct store *st, const struct store_call_filter *f,
		    store_call_h *h, void *arg, int64_t *total)
{
	static const struct store_call_filter all;
	struct rowbuf b = { .size = sizeof(struct store_call) };
	int err;

	if (!f)
		f = &all;
	if (!st || !h || f->offset < 0)
		return EINVAL;
	if (st->kr && f->q && f->q[0])
		err = call_list_decrypting(st, f, &b, total);
	else
		err = st->be->call_list(st, f, collect_call, &b, total);
	for (size_t i = 0; !err && i < b.n; i++)
		err = h(rowbuf_at(&b, i), arg);
	free(b.rows);
	return err;
}

int store_call_stats(struct store *st, int64_t from_ms,
		     struct store_call_stats *out)
{
	if (!st || !out || from_ms < 0)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	out->avg_response_ms = -1;
	return st->be->call_stats(st, from_ms, out);
}

/* Turns */

int store_turn_insert(struct store *st, const struct store_turn *t,
		      int64_t *id_out)
{
	struct store_turn enc;
	char *token = NULL;
	int err;

	if (!st || !t || t->seq < 0 || !FIELD_OK(t->role) ||
	    !turn_role_valid(t->role))
		return EINVAL;
	if (!st->kr || !t->text)
		return st->be->turn_insert(st, t, id_out);
	err = fernet_encrypt(st->kr, t->text, strlen(t->text), &token);
	if (err) {
		log_error("store: cannot encrypt a turn: %s", strerror(err));
		return err;
	}
	enc = *t;
	enc.text = token;
	err = st->be->turn_insert(st, &enc, id_out);
	free(token);
	return err;
}

/* Replaces each token by its plain text; see store.h for what fails. */
static void decrypt_turns(struct store *st, struct rowbuf *b)
{
	size_t failed = 0;

	for (size_t i = 0; st->kr && i < b->n; i++) {
		struct store_turn *t = rowbuf_at(b, i);
		uint8_t *plain = NULL;
		size_t len = 0;

		if (!t->text || !fernet_token_is(t->text, strlen(t->text)))
			continue;
		if (fernet_decrypt(st->kr, t->text, strlen(t->text), 0, &plain,
				   &len) != 0) {
			failed++;
			continue;
		}
		free(t->text);
		t->text = (char *)plain;
	}
	if (failed)
		log_warn("store: %zu turn(s) are encrypted with a key that is not"
			 " in ENCRYPTION_KEY; shown as stored", failed);
}

static int turn_rows_deliver(struct store *st, struct rowbuf *b, bool raw,
			     int err, store_turn_h *h, void *arg)
{
	if (!err && !raw)
		decrypt_turns(st, b);
	for (size_t i = 0; !err && i < b->n; i++)
		err = h(rowbuf_at(b, i), arg);
	for (size_t i = 0; i < b->n; i++)
		store_turn_clear(rowbuf_at(b, i));
	free(b->rows);
	return err;
}

int store_turn_scan(struct store *st, int64_t after_id, int limit, bool raw,
		    store_turn_h *h, void *arg)
{
	struct rowbuf b = { .size = sizeof(struct store_turn) };
	int err;

	if (!st || !h)
		return EINVAL;
	err = st->be->turn_scan(st, after_id, limit, collect_turn, &b);
	return turn_rows_deliver(st, &b, raw, err, h, arg);
}

int store_turn_set_text_raw(struct store *st, int64_t turn_id, const char *text)
{
	if (!st)
		return EINVAL;
	return st->be->turn_set_text(st, turn_id, text);
}

int store_set_encryption_key(struct store *st, const char *keys_csv)
{
	struct fernet_keyring *kr = NULL;
	int err;

	if (!st)
		return EINVAL;
	if (keys_csv && keys_csv[0]) {
		err = fernet_keyring_parse(&kr, keys_csv);
		if (err)
			return err;
	}
	fernet_keyring_free(st->kr);
	st->kr = kr;
	return 0;
}

const struct fernet_keyring *store_keyring(const struct store *st)
{
	return st ? st->kr : NULL;
}

static int call_rows_deliver(struct rowbuf *b, int err, store_call_h *h,
			     void *arg)
{
	for (size_t i = 0; !err && i < b->n; i++)
		err = h(rowbuf_at(b, i), arg);
	free(b->rows);
	return err;
}

int store_call_list_by_number(struct store *st, const char *number,
			      store_call_h *h, void *arg)
{
	struct rowbuf b = { .size = sizeof(struct store_call) };

	if (!st || !h || !number || !number[0])
		return EINVAL;
	return call_rows_deliver(&b, st->be->call_list_by_number(
					     st, number, collect_call, &b),
				 h, arg);
}

int store_call_list_purgeable(struct store *st, int64_t before_ms, int limit,
			      store_call_h *h, void *arg)
{
	struct rowbuf b = { .size = sizeof(struct store_call) };

	if (!st || !h || before_ms <= 0)
		return EINVAL;
	return call_rows_deliver(&b, st->be->call_list_purgeable(
					     st, before_ms, limit, collect_call,
					     &b),
				 h, arg);
}

int store_call_anonymize(struct store *st, int64_t id, int64_t *turns_cleared)
{
	int64_t n = 0;
	int err;

	if (!st)
		return EINVAL;
	err = st->be->call_anonymize(st, id, &n);
	if (!err && turns_cleared)
		*turns_cleared = n;
	return err;
}

int store_audit_redact(struct store *st, const char *text,
		       const char *replacement, int64_t *rows)
{
	int64_t n = 0;
	int err;

	if (!st || !text || !text[0] || !replacement)
		return EINVAL;
	err = st->be->audit_redact(st, text, replacement, &n);
	if (!err && rows)
		*rows = n;
	return err;
}

int store_scrub(struct store *st)
{
	return st ? st->be->scrub(st) : EINVAL;
}

int store_backup(struct store *st, const char *path)
{
	if (!st || !path || !path[0])
		return EINVAL;
	if (!st->be->backup)
		return ENOTSUP;
	return st->be->backup(st, path);
}

int store_turn_list(struct store *st, int64_t call_id, store_turn_h *h,
		    void *arg)
{
	struct rowbuf b = { .size = sizeof(struct store_turn) };
	int err;

	if (!st || !h)
		return EINVAL;
	err = st->be->turn_list(st, call_id, collect_turn, &b);
	return turn_rows_deliver(st, &b, false, err, h, arg);
}

void store_turn_clear(struct store_turn *t)
{
	if (!t)
		return;
	free(t->text);
	t->text = NULL;
}
