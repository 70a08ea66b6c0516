/* recfile.h - encrypted recording files: a stream of Fernet records, written as a call goes. */
#ifndef CALLBOT_CRYPTO_RECFILE_H
#define CALLBOT_CRYPTO_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/fernet.h"

/*
 * Format (docs/security.md has it with a Python reader):
 *
 *   file    = "CBREC1\n\0" record*
 *   record  = u32 big-endian N, then N bytes: one Fernet token, binary
 *             (the URL-safe base64 of a Python token, decoded)
 *   plain   = file_id[16] || u64 big-endian seq || u8 flags || data
 *
 * file_id is random and the same in every record of a file; seq counts
 * records from 0; flags bit 0 marks the last record. A reader refuses a
 * record from another file, out of order or missing (HMAC-protected, so
 * records cannot be spliced, reordered or dropped unnoticed) and a file
 * without its last record (truncated, or the writer died mid-call).
 */
#define RECFILE_MAGIC "CBREC1\n"	/* with its NUL: 8 bytes */
#define RECFILE_MAGIC_LEN 8
/* Plain bytes per record: ~4 s of 8 kHz stereo 16-bit audio. */
#define RECFILE_CHUNK 65536

struct recfile;

/* Creates path with mode 0600 (never overwrites: EEXIST); records are
 * encrypted with the ring's newest key. kr must outlive the writer.
 * Returns 0 or an errno value. */
int recfile_create(struct recfile **out, const char *path, const struct fernet_keyring *kr);
/* Buffers data and writes whole records as they fill. Not thread-safe:
 * one writer thread per file. */
int recfile_write(struct recfile *rf, const void *data, size_t len);
/* Writes the last record, fsyncs and closes; frees rf even on error.
 * Returns 0 or the first error of the file's life. */
int recfile_close(struct recfile *rf);

/* True when the file starts with RECFILE_MAGIC. */
bool recfile_is(const char *path);

/* Decrypts a whole file into memory (*out malloc'd, *len bytes, plus a NUL).
 * A WAV whose header sizes were left open (0 or 0xFFFFFFFF, as a streaming
 * writer cannot seek back) gets them completed. allow_partial accepts a file
 * without its last record (a call that never finished). Returns 0, ENOENT,
 * EBADMSG (not ours, tampered, wrong key), ENODATA (truncated), ENOMEM, EIO.
 * *key_index (may be NULL) is the ring index of the key that signed it. */
int recfile_read_all(const char *path, const struct fernet_keyring *kr, bool allow_partial,
		     uint8_t **out, size_t *len, size_t *key_index);

/* Encrypts a plain file into a new recfile (dst must not exist). */
int recfile_encrypt_file(const char *src, const char *dst, const struct fernet_keyring *kr);

/* Re-encrypts path in place with the ring's newest key: writes path.rekey,
 * fsyncs, renames over path (atomic; an interrupted run leaves the old file
 * intact and only a stray .rekey, removed by the next run). A plain file is
 * encrypted. *changed tells whether anything was rewritten. */
int recfile_rekey(const char *path, const struct fernet_keyring *kr, bool *changed);

/* A WAV file's header sizes fixed for its real length (no-op otherwise). */
void recfile_wav_fixup(uint8_t *buf, size_t len);

#endif
