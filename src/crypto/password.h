/* password.h - Argon2id password hashes for dashboard users, and random initial passwords. */
#ifndef CALLBOT_CRYPTO_PASSWORD_H
#define CALLBOT_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* crypto_pwhash_STRBYTES: room for the encoded hash and its NUL. */
#define PASSWORD_HASH_MAX 128
/* Length of password_generate() output, without the NUL. */
#define PASSWORD_GEN_LEN 20
/* Letters and digits minus the look-alikes 0 O o 1 l I. */
#define PASSWORD_GEN_ALPHABET \
	"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

/* Writes "$argon2id$v=19$m=...". Interactive cost (~64 MiB, a fraction of a
 * second). Returns 0, EINVAL, or ENOMEM when the memory cost cannot be met. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);
/* Constant-time verification; false for a wrong password or a malformed or
 * foreign hash. */
bool password_verify(const char *hash, const char *pw);
/* True when hash is not Argon2id with the current cost: re-hash at the next
 * successful login. */
bool password_needs_rehash(const char *hash);
/* PASSWORD_GEN_LEN chars of PASSWORD_GEN_ALPHABET with at least one upper-
 * case letter, one lower-case letter and one digit, plus a NUL.
 * Returns 0, EINVAL (outsize too small), EIO. */
int password_generate(char *out, size_t outsize);

#endif
