/* fernet.h - Fernet tokens (github.com/fernet/spec), compatible with Python's cryptography.fernet. */
#ifndef CALLBOT_CRYPTO_FERNET_H
#define CALLBOT_CRYPTO_FERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key is 32 bytes (16 signing + 16 encryption) in URL-safe base64 with '='. */
#define FERNET_KEY_LEN 44
#define FERNET_IV_LEN 16
/* Accepted clock skew for timestamps in the future when a TTL is checked. */
#define FERNET_MAX_CLOCK_SKEW 60

/* One or more keys, newest first, like Python's MultiFernet. */
struct fernet_keyring;

/* Parses "KEY[,KEY...]" (whitespace around commas tolerated). The first key
 * encrypts; all of them decrypt. Returns 0, EINVAL for any invalid or empty
 * key (key material is never logged), ENOMEM. */
int fernet_keyring_parse(struct fernet_keyring **out, const char *keys_csv);
/* Wipes the keys; NULL-safe. */
void fernet_keyring_free(struct fernet_keyring *kr);
size_t fernet_keyring_count(const struct fernet_keyring *kr);

/* True when key is exactly FERNET_KEY_LEN chars of canonical URL-safe base64
 * decoding to 32 bytes. */
bool fernet_key_valid(const char *key);
/* Writes a fresh random key and a NUL. Returns 0 or EINVAL/EIO. */
int fernet_key_generate(char out[FERNET_KEY_LEN + 1]);

/* Encrypts with the newest key at the current time and a random IV.
 * *token_out is malloc'd and NUL-terminated. Returns 0, EINVAL, ENOMEM, EIO. */
int fernet_encrypt(const struct fernet_keyring *kr, const void *plain, size_t len,
		   char **token_out);
/* Same with an explicit timestamp (Unix seconds) and IV: for test vectors. */
int fernet_encrypt_at(const struct fernet_keyring *kr, const void *plain, size_t len,
		      int64_t now, const uint8_t iv[FERNET_IV_LEN], char **token_out);

/* Verifies (HMAC, in constant time, before anything is decrypted) and
 * decrypts with whichever key signed the token. Padding '=' is optional.
 * ttl_seconds 0 disables the age check; otherwise a token older than the TTL
 * or more than FERNET_MAX_CLOCK_SKEW seconds in the future gives ETIME.
 * *plain_out is malloc'd with one extra NUL byte after *len_out bytes.
 * Returns 0, EINVAL (bad arguments), EBADMSG (malformed, wrong key, forged,
 * bad padding), ETIME, ENOMEM, EIO. */
int fernet_decrypt(const struct fernet_keyring *kr, const char *token, size_t token_len,
		   int64_t ttl_seconds, uint8_t **plain_out, size_t *len_out);
/* Same, judging the TTL against an explicit current time. */
int fernet_decrypt_at(const struct fernet_keyring *kr, const char *token, size_t token_len,
		      int64_t ttl_seconds, int64_t now, uint8_t **plain_out, size_t *len_out);

/* Which key of the ring signed token: *index 0 is the newest. Verifies the
 * HMAC only (nothing is decrypted). Returns 0, EINVAL, EBADMSG (no key
 * signed it, or malformed), ENOMEM. Key rotation uses it to skip data
 * already under the newest key. */
int fernet_key_index(const struct fernet_keyring *kr, const char *token, size_t token_len,
		     size_t *index);

/* Cheap test whether s looks like a Fernet token (the "gAAAAA" prefix, long
 * enough, URL-safe base64 charset); tells encrypted from plain stored text.
 * Proves nothing about authenticity. */
bool fernet_token_is(const char *s, size_t len);

#endif
