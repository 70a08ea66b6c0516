/* dataops.c - retention purge, GDPR export/erase and key rotation over the store and AUDIO_DIR. */
#include "store/data.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "core/log.h"
#include "core/util.h"
#include "crypto/fernet.h"
#include "crypto/recfile.h"
#include "store/targz.h"
#include "store/time_iso.h"

#define BATCH 500
/* A recording bigger than this is not loaded (an hour of stereo 8 kHz
 * 16-bit audio is 115 MB). */
#define RECORDING_MAX ((size_t)1 << 30)

static const char *actor_ip(const struct data_ctx *dc)
{
	return dc->ip ? dc->ip : "local";
}

char *data_recording_path(const struct data_ctx *dc, const char *rec)
{
	char *p;

	if (!rec || !rec[0])
		return NULL;
	if (rec[0] == '/')
		return strdup(rec);
	p = path_join(dc->base_dir, rec);
	if (p && access(p, F_OK) != 0 && dc->audio_dir) {
		char *q = path_join(dc->audio_dir, rec);

		if (q && access(q, F_OK) == 0) {
			free(p);
			return q;
		}
		free(q);
	}
	return p;
}

int data_recording_read(const struct data_ctx *dc, const char *path, uint8_t **out,
			size_t *len)
{
	const struct fernet_keyring *kr = store_keyring(dc->st);
	char *buf = NULL;
	int err;

	if (recfile_is(path)) {
		if (!kr)
			return ENOKEY;
		return recfile_read_all(path, kr, true, out, len, NULL);
	}
	err = file_read_all(path, RECORDING_MAX, &buf, len);
	if (!err)
		*out = (uint8_t *)buf;
	return err;
}

/* Hashes */

void data_number_hash(const char *number, const char *key, char out[80])
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1];

	if (key && key[0]) {
		crypto_auth_hmacsha256_state s;

		crypto_auth_hmacsha256_init(&s, (const uint8_t *)key, strlen(key));
		crypto_auth_hmacsha256_update(&s, (const uint8_t *)number, strlen(number));
		crypto_auth_hmacsha256_final(&s, mac);
		sodium_bin2hex(hex, sizeof(hex), mac, 16);
		snprintf(out, 80, "hmac-sha256:%s", hex);
	} else {
		crypto_hash_sha256(mac, (const uint8_t *)number, strlen(number));
		sodium_bin2hex(hex, sizeof(hex), mac, 16);
		snprintf(out, 80, "sha256:%s", hex);
	}
}

/* Row collection (the store calls handlers after its own work) */

struct calls {
	struct store_call *v;
	size_t n, cap;
};

static int calls_push(const struct store_call *c, void *arg)
{
	struct calls *cs = arg;

	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 32;
		struct store_call *v = realloc(cs->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		cs->v = v;
		cs->cap = cap;
	}
	cs->v[cs->n++] = *c;
	return 0;
}

static int count_turn(struct store_turn *t, void *arg)
{
	(void)t;
	(*(int64_t *)arg)++;
	return 0;
}

/* Removes a recording (and a stray re-encryption temp file). 1 if a file
 * was removed, 0 if there was none, -errno on failure. */
static int remove_recording(const struct data_ctx *dc, const char *rec)
{
	char *path = data_recording_path(dc, rec), *tmp = NULL;
	int r = 0;

	if (!path)
		return rec && rec[0] ? -ENOMEM : 0;
	if (unlink(path) == 0)
		r = 1;
	else if (errno != ENOENT)
		r = -errno;
	if (asprintf(&tmp, "%s.rekey", path) >= 0) {
		unlink(tmp);
		free(tmp);
	}
	if (r < 0)
		log_error("data: cannot remove a recording: %s", strerror(-r));
	free(path);
	return r;
}

/* Sweeping AUDIO_DIR. nftw has no user argument: one sweep at a time. */

static pthread_mutex_t sweep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	time_t before;		/* purge: files older than this */
	int64_t removed;
	const struct fernet_keyring *kr;	/* rekey */
	time_t recent;		/* rekey: skip files newer than this */
	struct data_rekey_counts *rk;
} sweep;

/* Only files callbot writes: encrypted recordings and WAVs. */
static bool is_recording(const char *path)
{
	uint8_t head[12];
	ssize_t n;
	int fd;

	if (recfile_is(path))
		return true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head));
	close(fd);
	return n == 12 && !memcmp(head, "RIFF", 4) && !memcmp(head + 8, "WAVE", 4);
}

static int sweep_purge(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_F && S_ISREG(sb->st_mode) && sb->st_mtime < sweep.before &&
	    is_recording(path) && unlink(path) == 0)
		sweep.removed++;
	return 0;
}

static int sweep_rekey(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	bool changed = false;
	size_t len = strlen(path);

	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode) ||
	    (len > 6 && !strcmp(path + len - 6, ".rekey")) || !is_recording(path))
		return 0;
	if (sweep.recent != (time_t)INT64_MAX && sb->st_mtime >= sweep.recent) {
		sweep.rk->files_skipped++;
		return 0;
	}
	if (recfile_rekey(path, sweep.kr, &changed) != 0)
		sweep.rk->files_failed++;
	else if (changed)
		sweep.rk->files++;
	return 0;
}

/* Purge */

int data_purge(const struct data_ctx *dc, int days, int64_t now_ms,
	       struct data_purge_counts *out)
{
	struct data_purge_counts n = { 0 };
	int64_t cutoff;
	char iso[32], details[256];
	int err = 0, r;

	if (!dc || !dc->st)
		return EINVAL;
	if (out)
		*out = n;
	if (days <= 0)
		return 0;
	cutoff = now_ms - (int64_t)days * 86400000LL;

	for (;;) {
		struct calls cs = { 0 };

		err = store_call_list_purgeable(dc->st, cutoff, BATCH, calls_push, &cs);
		for (size_t i = 0; !err && i < cs.n; i++) {
			int64_t turns = 0;

			/* the file first: a crash in between leaves a row
			 * pointing at nothing, never an unlisted file */
			r = remove_recording(dc, cs.v[i].recording_path);
			if (r < 0) {
				err = -r;
				break;
			}
			n.recordings += r;
			err = store_call_anonymize(dc->st, cs.v[i].id, &turns);
			if (err == ENOENT)	/* deleted meanwhile */
				err = 0;
			else if (!err) {
				n.calls++;
				n.turns += turns;
			}
		}
		free(cs.v);
		if (err || cs.n < BATCH)
			break;
	}

	if (!err && dc->audio_dir && access(dc->audio_dir, F_OK) == 0) {
		pthread_mutex_lock(&sweep_lock);
		sweep.before = (time_t)(cutoff / 1000);
		sweep.removed = 0;
		if (nftw(dc->audio_dir, sweep_purge, 16, FTW_PHYS) != 0)
			err = errno ? errno : EIO;
		n.files = sweep.removed;
		pthread_mutex_unlock(&sweep_lock);
	}
	r = store_scrub(dc->st);
	if (r && r != EBUSY && !err)
		err = r;

	store_time_iso(cutoff, iso);
	snprintf(details, sizeof(details),
		 "retention %d days (before %s): calls=%" PRId64 " turns=%" PRId64
		 " recordings=%" PRId64 " files=%" PRId64 "%s%s",
		 days, iso, n.calls, n.turns, n.recordings, n.files, err ? " error=" : "",
		 err ? strerror(err) : "");
	store_audit(dc->st, dc->user_id, "purge", details, actor_ip(dc));
	if (out)
		*out = n;
	return err;
}

/* Erase */

int data_erase(const struct data_ctx *dc, const char *number, struct data_erase_counts *out)
{
	struct data_erase_counts n = { 0 };
	struct calls cs = { 0 };
	char hash[80], details[256];
	int err, r;

	if (!dc || !dc->st || !number || !number[0])
		return EINVAL;
	data_number_hash(number, dc->hash_key, hash);
	err = store_call_list_by_number(dc->st, number, calls_push, &cs);
	for (size_t i = 0; !err && i < cs.n; i++) {
		int64_t turns = 0;

		store_turn_list(dc->st, cs.v[i].id, count_turn, &turns);
		r = remove_recording(dc, cs.v[i].recording_path);
		if (r < 0) {
			err = -r;
			break;
		}
		n.recordings += r;
		err = store_call_delete(dc->st, cs.v[i].id);
		if (err == ENOENT)
			err = 0;
		else if (!err) {
			n.calls++;
			n.turns += turns;
		}
	}
	free(cs.v);
	/* earlier audit rows (exports, downloads) may quote the number */
	if (!err)
		err = store_audit_redact(dc->st, number, "[erased]", &n.audit_rows);
	r = store_scrub(dc->st);
	if (r && r != EBUSY && !err)
		err = r;
	snprintf(details, sizeof(details),
		 "number %s: calls=%" PRId64 " turns=%" PRId64 " recordings=%" PRId64
		 " audit_rows_redacted=%" PRId64 "%s%s",
		 hash, n.calls, n.turns, n.recordings, n.audit_rows, err ? " error=" : "",
		 err ? strerror(err) : "");
	store_audit(dc->st, dc->user_id, "erase", details, actor_ip(dc));
	if (out)
		*out = n;
	return err;
}

/* Export */

static json_t *json_time(int64_t ms)
{
	char iso[32];

	if (!ms)
		return json_null();
	store_time_iso(ms, iso);
	return json_string(iso);
}

static json_t *json_str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *json_ms(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static int add_turn_json(struct store_turn *t, void *arg)
{
	json_t *o = json_object(), *text;

	if (!o)
		return ENOMEM;
	json_object_set_new(o, "seq", json_integer(t->seq));
	json_object_set_new(o, "role", json_string(t->role));
	text = t->text ? json_string(t->text) : json_null();
	if (!text)	/* invalid UTF-8 (not written by callbot): keep the bytes */
		text = json_stringn_nocheck(t->text, strlen(t->text));
	json_object_set_new(o, "text", text);
	json_object_set_new(o, "started_at", json_time(t->started_at));
	json_object_set_new(o, "stt_ms", json_ms(t->stt_ms));
	json_object_set_new(o, "llm_ms", json_ms(t->llm_ms));
	json_object_set_new(o, "tts_ms", json_ms(t->tts_ms));
	json_object_set_new(o, "response_ms", json_ms(t->response_ms));
	return json_array_append_new(arg, o) ? ENOMEM : 0;
}

int data_export(const struct data_ctx *dc, const char *number, int fd,
		struct data_export_counts *out)
{
	struct data_export_counts n = { 0 };
	struct calls cs = { 0 };
	struct targz *tz = NULL;
	json_t *root = NULL, *calls = NULL;
	char hash[80], details[256], name[128], *manifest = NULL;
	int err;

	if (!dc || !dc->st || !number || !number[0] || fd < 0)
		return EINVAL;
	data_number_hash(number, dc->hash_key, hash);
	err = targz_open(&tz, fd);
	if (err)
		goto out;
	root = json_object();
	calls = json_array();
	if (!root || !calls) {
		err = ENOMEM;
		goto out;
	}
	err = store_call_list_by_number(dc->st, number, calls_push, &cs);
	for (size_t i = 0; !err && i < cs.n; i++) {
		const struct store_call *c = &cs.v[i];
		json_t *o = json_object(), *turns = json_array();
		char *path = data_recording_path(dc, c->recording_path);

		if (!o || !turns) {
			json_decref(o);
			json_decref(turns);
			free(path);
			err = ENOMEM;
			break;
		}
		json_object_set_new(o, "id", json_integer(c->id));
		json_object_set_new(o, "sip_call_id", json_str_or_null(c->sip_call_id));
		json_object_set_new(o, "caller", json_str_or_null(c->caller));
		json_object_set_new(o, "callee", json_str_or_null(c->callee));
		json_object_set_new(o, "started_at", json_time(c->started_at));
		json_object_set_new(o, "answered_at", json_time(c->answered_at));
		json_object_set_new(o, "ended_at", json_time(c->ended_at));
		json_object_set_new(o, "status", json_str_or_null(c->status));
		json_object_set_new(o, "end_reason", json_str_or_null(c->end_reason));
		json_object_set_new(o, "consent", json_str_or_null(c->consent));
		err = store_turn_list(dc->st, c->id, add_turn_json, turns);
		n.turns += (int64_t)json_array_size(turns);
		json_object_set_new(o, "turns", turns);
		if (!err && path) {
			uint8_t *wav = NULL;
			size_t len = 0;
			int rerr = data_recording_read(dc, path, &wav, &len);

			if (!rerr) {
				snprintf(name, sizeof(name), "callbot-export/recordings/%" PRId64
					 ".wav", c->id);
				err = targz_add(tz, name, wav, len);
				json_object_set_new(o, "recording",
						    json_string(name + strlen("callbot-export/")));
				n.recordings++;
				sodium_memzero(wav, len);
			} else {
				json_object_set_new(o, "recording", json_null());
				json_object_set_new(o, "recording_error",
						    json_string(rerr == ENOENT ? "missing" :
								rerr == ENOKEY ? "no key" :
										 "unreadable"));
				n.missing++;
			}
			free(wav);
		} else {
			json_object_set_new(o, "recording", json_null());
		}
		free(path);
		json_array_append_new(calls, o);
		n.calls++;
	}
	if (err)
		goto out;
	json_object_set_new(root, "format", json_string("callbot-export/1"));
	json_object_set_new(root, "generated_at", json_time(store_time_now()));
	json_object_set_new(root, "number", json_string(number));
	json_object_set_new(root, "encrypted_at_rest", json_boolean(store_keyring(dc->st)));
	json_object_set_new(root, "calls", calls);
	calls = NULL;
	manifest = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (!manifest) {
		err = ENOMEM;
		goto out;
	}
	err = targz_add(tz, "callbot-export/manifest.json", manifest, strlen(manifest));
out:
	if (tz) {
		int e = targz_close(tz);

		if (!err)
			err = e;
	}
	free(manifest);
	json_decref(calls);
	json_decref(root);
	free(cs.v);
	snprintf(details, sizeof(details),
		 "number %s: calls=%" PRId64 " turns=%" PRId64 " recordings=%" PRId64 "%s%s",
		 hash, n.calls, n.turns, n.recordings, err ? " error=" : "",
		 err ? strerror(err) : "");
	store_audit(dc->st, dc->user_id, "export", details, actor_ip(dc));
	if (out)
		*out = n;
	return err;
}

/* Key rotation */

struct turnbuf {
	int64_t id[BATCH];
	char *text[BATCH];
	int n;
	int64_t last;
};

static int keep_turn(struct store_turn *t, void *arg)
{
	struct turnbuf *b = arg;

	b->last = t->id;
	if (!t->text)
		return 0;
	b->id[b->n] = t->id;
	b->text[b->n++] = t->text;
	t->text = NULL;
	return 0;
}

static int rekey_text(struct store *st, const struct fernet_keyring *kr, int64_t id,
		      const char *text, struct data_rekey_counts *n)
{
	uint8_t *plain = NULL;
	size_t idx = 0, len = 0;
	char *tok = NULL;
	int err;

	if (fernet_token_is(text, strlen(text))) {
		err = fernet_key_index(kr, text, strlen(text), &idx);
		if (err) {
			n->turns_failed++;	/* no key opens it: leave it */
			return 0;
		}
		if (idx == 0)
			return 0;
		err = fernet_decrypt(kr, text, strlen(text), 0, &plain, &len);
		if (err) {
			n->turns_failed++;
			return 0;
		}
		err = fernet_encrypt(kr, plain, len, &tok);
		sodium_memzero(plain, len);
		free(plain);
	} else {
		err = fernet_encrypt(kr, text, strlen(text), &tok);
	}
	if (!err)
		err = store_turn_set_text_raw(st, id, tok);
	if (!err)
		n->turns++;
	free(tok);
	return err == ENOENT ? 0 : err;	/* erased meanwhile */
}

int data_rekey(const struct data_ctx *dc, int recent_s, struct data_rekey_counts *out)
{
	const struct fernet_keyring *kr;
	struct data_rekey_counts n = { 0 };
	struct turnbuf *b;
	char details[256];
	int64_t after = 0;
	int err = 0;

	if (!dc || !dc->st)
		return EINVAL;
	kr = store_keyring(dc->st);
	if (!kr)
		return ENOKEY;
	b = calloc(1, sizeof(*b));
	if (!b)
		return ENOMEM;
	do {
		b->n = 0;
		b->last = after;
		err = store_turn_scan(dc->st, after, BATCH, true, keep_turn, b);
		for (int i = 0; i < b->n; i++) {
			if (!err)
				err = rekey_text(dc->st, kr, b->id[i], b->text[i], &n);
			free(b->text[i]);
		}
		if (b->last == after)
			break;
		after = b->last;
	} while (!err);
	free(b);

	if (!err && dc->audio_dir && access(dc->audio_dir, F_OK) == 0) {
		pthread_mutex_lock(&sweep_lock);
		sweep.kr = kr;
		sweep.recent = recent_s > 0 ? time(NULL) - recent_s : (time_t)INT64_MAX;
		sweep.rk = &n;
		if (nftw(dc->audio_dir, sweep_rekey, 16, FTW_PHYS) != 0)
			err = errno ? errno : EIO;
		sweep.kr = NULL;
		sweep.rk = NULL;
		pthread_mutex_unlock(&sweep_lock);
	}
	snprintf(details, sizeof(details),
		 "keys=%zu turns=%" PRId64 " turns_unreadable=%" PRId64 " files=%" PRId64
		 " files_skipped_recent=%" PRId64 " files_failed=%" PRId64 "%s%s",
		 fernet_keyring_count(kr), n.turns, n.turns_failed, n.files, n.files_skipped,
		 n.files_failed, err ? " error=" : "", err ? strerror(err) : "");
	store_audit(dc->st, dc->user_id, "rekey", details, actor_ip(dc));
	if (out)
		*out = n;
	return err;
}
