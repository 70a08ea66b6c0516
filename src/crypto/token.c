/* token.c - random URL-safe tokens, token hashing, constant-time compare, SECRET_KEY strength. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/token.h"

/* A multiple of 3, so chunks encode to base64 that simply concatenates. */
#define TOKEN_CHUNK 48

int token_random_urlsafe(size_t nbytes, char *out, size_t outsize)
{
	uint8_t buf[TOKEN_CHUNK];
	size_t done = 0, pos = 0;
	int err;

	if (!out || !nbytes || nbytes > SIZE_MAX / 4)
		return EINVAL;
	if (outsize < TOKEN_URLSAFE_LEN(nbytes) + 1)
		return ENOSPC;
	err = crypto_init();
	if (err)
		return err;

	while (done < nbytes) {
		size_t chunk = nbytes - done < TOKEN_CHUNK ? nbytes - done : TOKEN_CHUNK;

		randombytes_buf(buf, chunk);
		sodium_bin2base64(out + pos, outsize - pos, buf, chunk,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		done += chunk;
		pos += TOKEN_URLSAFE_LEN(chunk);
	}
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

void token_sha256_hex(const char *token, char out[TOKEN_SHA256_HEX_LEN + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	if (!token) {
		out[0] = '\0';
		return;
	}
	crypto_hash_sha256(h, (const uint8_t *)token, strlen(token));
	sodium_bin2hex(out, TOKEN_SHA256_HEX_LEN + 1, h, sizeof(h));
}

bool ct_streq(const char *a, const char *b)
{
	size_t la, lb;

	if (!a || !b)
		return false;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return false;
	return sodium_memcmp(a, b, la) == 0;
}

/* Values shipped in sample configs and tutorials; compared ignoring case. */
static const char *const secret_defaults[] = {
	"your-secret-key-change-in-production",
	"your-super-secret-key-change-this-in-production",
	"change-me", "changeme", "secret", "secret-key", "secret_key", "secretkey",
	"dev", "development", "supersecret", "password", "default", "test",
	"testing", "insecure",
};

/* Fragments that only a placeholder contains. Long enough (>= 8 chars) that
 * a random token will practically never contain one by chance. */
static const char *const secret_default_parts[] = {
	"change-this", "change_this", "changethis", "changeme", "change-me",
	"change_me", "change-in-production", "change_in_production",
	"your-secret-key", "your_secret_key", "insecure",
};

static bool secret_is_default(const char *s)
{
	for (size_t i = 0; i < sizeof(secret_defaults) / sizeof(secret_defaults[0]); i++)
		if (strcasecmp(s, secret_defaults[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof(secret_default_parts) / sizeof(secret_default_parts[0]); i++)
		if (strcasestr(s, secret_default_parts[i]))
			return true;
	return false;
}

/* Bytes encoded by s as URL-safe base64 (padding optional), or 0. */
static size_t secret_b64url_bytes(const char *s, size_t len)
{
	size_t n = len;

	while (n > 0 && len - n < 2 && s[n - 1] == '=')
		n--;
	if ((n < len && len % 4) || n % 4 == 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return n * 3 / 4;
}

/* Bytes encoded by s as hex, or 0. */
static size_t secret_hex_bytes(const char *s, size_t len)
{
	if (len % 2)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return 0;
	}
	return len / 2;
}

bool secret_is_strong(const char *s, const char **why)
{
	bool seen[256] = { false };
	size_t len, distinct = 0;
	const char *reason;

	if (why)
		*why = NULL;
	if (!s || !*s) {
		reason = "missing";
		goto weak;
	}
	if (secret_is_default(s)) {
		reason = "a known default value";
		goto weak;
	}

	len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!seen[c]) {
			seen[c] = true;
			distinct++;
		}
	}
	if (distinct == 1) {
		reason = "one repeated character";
		goto weak;
	}
	if (len < SECRET_MIN_BYTES) {
		reason = "shorter than 32 bytes";
		goto weak;
	}

	/* Encoded random bytes use a small alphabet (hex: 16), so they need
	 * less variety than free text; "abab..." still fails both tests. */
	if ((secret_b64url_bytes(s, len) >= SECRET_MIN_BYTES ||
	     secret_hex_bytes(s, len) >= SECRET_MIN_BYTES) && distinct >= 8)
		return true;
	if (distinct >= 12)
		return true;
	reason = "too few distinct characters to be random";

weak:
	if (why)
		*why = reason;
	return false;
}
