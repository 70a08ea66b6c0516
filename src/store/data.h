/* data.h - data protection over the store: retention purge, GDPR export and erase, key rotation. */
#ifndef CALLBOT_STORE_DATA_H
#define CALLBOT_STORE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * Where recordings live. calls.recording_path is absolute, or relative to
 * base_dir (the .env file's folder), or relative to audio_dir; the first
 * that exists wins. who/ip name the actor in the audit rows (NULL: "local"
 * for the CLI). Every operation below writes one audit row with its counts,
 * also when it fails half-way (with the error).
 */
struct data_ctx {
	struct store *st;
	const char *base_dir;	/* may be NULL */
	const char *audio_dir;	/* may be NULL: no file sweeps */
	const char *hash_key;	/* SECRET_KEY: keys the hash of erased numbers */
	int64_t user_id;	/* audit actor, 0 = none */
	const char *ip;		/* audit address, NULL = "local" */
};

/* Resolved recording path (malloc'd), or NULL if rec is empty / ENOMEM. */
char *data_recording_path(const struct data_ctx *dc, const char *rec);

/* Reads a recording, decrypting an encrypted one with the store's keys
 * (a call cut short is returned as far as it was written). */
int data_recording_read(const struct data_ctx *dc, const char *path, uint8_t **out,
			size_t *len);

struct data_purge_counts {
	int64_t calls, turns, recordings, files;
};

/* Retention: calls started more than days ago lose their recording, turn
 * text, caller and SIP Call-ID (the row keeps timings, status, consent for
 * statistics); old recording files left in audio_dir are removed too.
 * days <= 0: nothing to do (returns 0, no audit). */
int data_purge(const struct data_ctx *dc, int days, int64_t now_ms,
	       struct data_purge_counts *out);

struct data_erase_counts {
	int64_t calls, turns, recordings, audit_rows;
};

/* GDPR erase: every call where number is the caller or the callee, its turns
 * and recording, the number in audit details; the audit row names only
 * data_number_hash(number). */
int data_erase(const struct data_ctx *dc, const char *number, struct data_erase_counts *out);

/* The audit-safe form of a phone number: "hmac-sha256:" + 32 hex digits,
 * keyed by key (SECRET_KEY; plain SHA-256 when empty). out >= 80 bytes. */
void data_number_hash(const char *number, const char *key, char out[80]);

struct data_export_counts {
	int64_t calls, turns, recordings, missing;
};

/* GDPR export: writes a .tar.gz to fd: callbot-export/manifest.json (calls,
 * consent, turns decrypted) and callbot-export/recordings/<call id>.wav
 * (decrypted). Audited as "export" with the number hashed. */
int data_export(const struct data_ctx *dc, const char *number, int fd,
		struct data_export_counts *out);

struct data_rekey_counts {
	int64_t turns, turns_failed, files, files_skipped, files_failed;
};

/* Re-encrypts every turn and recording not yet under the newest key of the
 * store's ring (plain ones get encrypted). Idempotent, so an interrupted run
 * is resumed by running it again. Recordings modified in the last
 * recent_s seconds (a call may be writing them) are skipped and counted. */
int data_rekey(const struct data_ctx *dc, int recent_s, struct data_rekey_counts *out);

/* Automatic retention while serving: a thread runs data_purge a minute
 * after start and then every hour (a failure is logged and retried next
 * hour). The store must outlive it; settings are copied. */
struct retention;
struct conf;
int retention_start(struct retention **out, const struct conf *c, struct store *st);
/* Stops and joins the thread (waits for a purge in progress); NULL-safe. */
void retention_stop(struct retention *r);

#endif
