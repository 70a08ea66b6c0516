/* token.h - random URL-safe tokens, token hashing, constant-time compare, secret strength. */
#ifndef CALLBOT_CRYPTO_TOKEN_H
#define CALLBOT_CRYPTO_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* Characters of the unpadded URL-safe base64 of n bytes (32 -> 43). */
#define TOKEN_URLSAFE_LEN(n) (((n) * 4 + 2) / 3)
#define TOKEN_SHA256_HEX_LEN 64
/* SECRET_KEY must carry at least this many bytes. */
#define SECRET_MIN_BYTES 32

/* Writes nbytes random bytes as URL-safe base64 without padding, plus a NUL
 * (what `callbot gen-secret` prints and API tokens look like).
 * outsize must be >= TOKEN_URLSAFE_LEN(nbytes) + 1.
 * Returns 0, EINVAL (nbytes 0 or NULL out), ENOSPC, EIO. */
int token_random_urlsafe(size_t nbytes, char *out, size_t outsize);

/* Lower-case hex SHA-256 of the string, plus a NUL. API tokens are stored
 * only in this form; they are random enough not to need a salt. */
void token_sha256_hex(const char *token, char out[TOKEN_SHA256_HEX_LEN + 1]);

/* String equality whose time does not depend on where the strings differ.
 * The length is not hidden (it leaks through the comparison time), which is
 * fine for tokens of a fixed, public length. NULL equals nothing. */
bool ct_streq(const char *a, const char *b);

/* The SECRET_KEY rule: at least 32 random bytes; refuses missing, short,
 * known-default, single-character and low-variety values. Accepts base64url
 * (padded or not) or hex decoding to >= 32 bytes, or >= 32 chars with >= 12
 * distinct characters. When refused and why is set, *why gets a short
 * static reason such as "shorter than 32 bytes" (NULL when accepted). */
bool secret_is_strong(const char *s, const char **why);

#endif
