/* password.c - Argon2id password hashing (libsodium) and random password generation. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/password.h"

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES,
	       "PASSWORD_HASH_MAX must match libsodium");

#define PASSWORD_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PASSWORD_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE
#define PASSWORD_PREFIX "$argon2id$"

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
	int err;

	if (!pw || !out)
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;

	/* libsodium fails only when it cannot allocate the memory cost. */
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), PASSWORD_OPSLIMIT,
				  PASSWORD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return ENOMEM;
	return 0;
}

/* libsodium reads the hash as a string of fewer than STRBYTES chars. */
static bool password_hash_sane(const char *hash)
{
	return hash && strnlen(hash, PASSWORD_HASH_MAX) < PASSWORD_HASH_MAX;
}

bool password_verify(const char *hash, const char *pw)
{
	if (!pw || !password_hash_sane(hash) || crypto_init())
		return false;
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool password_needs_rehash(const char *hash)
{
	if (!password_hash_sane(hash) || crypto_init())
		return true;
	/* An Argon2i hash with the right cost still deserves an upgrade. */
	if (strncmp(hash, PASSWORD_PREFIX, strlen(PASSWORD_PREFIX)) != 0)
		return true;
	return crypto_pwhash_str_needs_rehash(hash, PASSWORD_OPSLIMIT,
					      PASSWORD_MEMLIMIT) != 0;
}

static bool password_has_classes(const char *pw)
{
	bool upper = false, lower = false, digit = false;

	for (; *pw; pw++) {
		upper |= *pw >= 'A' && *pw <= 'Z';
		lower |= *pw >= 'a' && *pw <= 'z';
		digit |= *pw >= '0' && *pw <= '9';
	}
	return upper && lower && digit;
}

int password_generate(char *out, size_t outsize)
{
	static const char alphabet[] = PASSWORD_GEN_ALPHABET;
	int err;

	if (!out || outsize < PASSWORD_GEN_LEN + 1)
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;

	/* Redraw the rare password lacking a class (about 1 in 20) so that
	 * policies demanding mixed characters accept every generated one. */
	do {
		for (size_t i = 0; i < PASSWORD_GEN_LEN; i++)
			out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
		out[PASSWORD_GEN_LEN] = '\0';
	} while (!password_has_classes(out));
	return 0;
}
