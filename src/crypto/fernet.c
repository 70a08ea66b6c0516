/* fernet.c - Fernet token encryption and verification with key rotation. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/fernet.h"

#define FERNET_VERSION 0x80
#define FERNET_HALF_KEY 16
#define FERNET_BLOCK 16
#define FERNET_MAC_LEN 32
#define FERNET_HDR_LEN (1 + 8 + FERNET_IV_LEN)
/* Version, timestamp, IV, at least one cipher block, HMAC. */
#define FERNET_MIN_LEN (FERNET_HDR_LEN + FERNET_BLOCK + FERNET_MAC_LEN)
/* Base64 length of FERNET_MIN_LEN bytes without padding. */
#define FERNET_MIN_TOKEN_LEN ((FERNET_MIN_LEN * 4 + 2) / 3)
/* EVP takes int lengths; feed it big payloads piecewise. */
#define FERNET_CHUNK (1 << 20)

struct fernet_key {
	uint8_t sign[FERNET_HALF_KEY];
	uint8_t enc[FERNET_HALF_KEY];
};

struct fernet_keyring {
	size_t n;
	struct fernet_key key[];
};

static void fernet_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t fernet_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int fernet_key_decode(struct fernet_key *key, const char *s, size_t len)
{
	/* Python's urlsafe_b64decode also takes '+' and '/', so a key made
	 * with plain base64 works there; accept it here too. */
	static const int variants[] = {
		sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_ORIGINAL,
	};
	uint8_t raw[2 * FERNET_HALF_KEY];
	size_t raw_len = 0;
	int err = EINVAL;

	if (len != FERNET_KEY_LEN)
		return EINVAL;

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (sodium_base642bin(raw, sizeof(raw), s, len, NULL, &raw_len,
				      NULL, variants[i]) == 0 &&
		    raw_len == sizeof(raw)) {
			err = 0;
			break;
		}
	}
	if (!err && key) {
		memcpy(key->sign, raw, FERNET_HALF_KEY);
		memcpy(key->enc, raw + FERNET_HALF_KEY, FERNET_HALF_KEY);
	}
	sodium_memzero(raw, sizeof(raw));
	return err;
}

bool fernet_key_valid(const char *key)
{
	if (!key || crypto_init())
		return false;
	return fernet_key_decode(NULL, key, strlen(key)) == 0;
}

int fernet_key_generate(char out[FERNET_KEY_LEN + 1])
{
	uint8_t raw[2 * FERNET_HALF_KEY];
	int err;

	if (!out)
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, FERNET_KEY_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

void fernet_keyring_free(struct fernet_keyring *kr)
{
	if (!kr)
		return;
	sodium_memzero(kr->key, kr->n * sizeof(kr->key[0]));
	free(kr);
}

size_t fernet_keyring_count(const struct fernet_keyring *kr)
{
	return kr ? kr->n : 0;
}

int fernet_keyring_parse(struct fernet_keyring **out, const char *keys_csv)
{
	struct fernet_keyring *kr = NULL;
	const char *p;
	size_t n = 1;
	int err;

	if (!out || !keys_csv)
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;

	for (p = keys_csv; *p; p++)
		if (*p == ',')
			n++;

	kr = calloc(1, sizeof(*kr) + n * sizeof(kr->key[0]));
	if (!kr) {
		err = ENOMEM;
		goto out;
	}
	kr->n = n;

	p = keys_csv;
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, ',');
		const char *next;

		if (!end)
			end = p + strlen(p);
		next = *end ? end + 1 : end;

		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;

		err = fernet_key_decode(&kr->key[i], p, (size_t)(end - p));
		if (err)
			goto out;
		p = next;
	}

out:
	if (err)
		fernet_keyring_free(kr);
	else
		*out = kr;
	return err;
}

/* HMAC-SHA256 with the signing key over everything before the MAC. */
static int fernet_mac(const struct fernet_key *key, const uint8_t *data, size_t len,
		      uint8_t mac[FERNET_MAC_LEN])
{
	unsigned int mac_len = 0;

	if (!HMAC(EVP_sha256(), key->sign, FERNET_HALF_KEY, data, len, mac, &mac_len) ||
	    mac_len != FERNET_MAC_LEN)
		return EIO;
	return 0;
}

/* AES-128-CBC with PKCS7 padding; out must hold len + FERNET_BLOCK bytes. */
static int fernet_cipher(const struct fernet_key *key, const uint8_t *iv, int enc,
			 const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	EVP_CIPHER_CTX *ctx;
	size_t done = 0, pos = 0;
	int n, err = 0;

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return ENOMEM;

	if (EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key->enc, iv, enc) != 1) {
		err = EIO;
		goto out;
	}

	while (done < len) {
		size_t chunk = len - done < FERNET_CHUNK ? len - done : FERNET_CHUNK;

		if (EVP_CipherUpdate(ctx, out + pos, &n, in + done, (int)chunk) != 1) {
			err = enc ? EIO : EBADMSG;
			goto out;
		}
		done += chunk;
		pos += (size_t)n;
	}

	/* On decryption a failure here is a padding error. */
	if (EVP_CipherFinal_ex(ctx, out + pos, &n) != 1) {
		err = enc ? EIO : EBADMSG;
		goto out;
	}
	pos += (size_t)n;
	*out_len = pos;

out:
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int fernet_encrypt_at(const struct fernet_keyring *kr, const void *plain, size_t len,
		      int64_t now, const uint8_t iv[FERNET_IV_LEN], char **token_out)
{
	const struct fernet_key *key;
	uint8_t *bin = NULL;
	char *tok = NULL;
	size_t ct_len = 0, bin_len, tok_size;
	int err;

	if (!kr || !kr->n || (!plain && len) || now < 0 || !iv || !token_out)
		return EINVAL;
	/* Leave room for padding, header, MAC and the base64 expansion. */
	if (len > (SIZE_MAX / 4) - FERNET_MIN_LEN * 2)
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;

	key = &kr->key[0];
	bin = malloc(FERNET_HDR_LEN + len + FERNET_BLOCK + FERNET_MAC_LEN);
	if (!bin) {
		err = ENOMEM;
		goto out;
	}

	bin[0] = FERNET_VERSION;
	fernet_put_be64(bin + 1, (uint64_t)now);
	memcpy(bin + 9, iv, FERNET_IV_LEN);

	err = fernet_cipher(key, iv, 1, plain ? plain : (const void *)"", len,
			    bin + FERNET_HDR_LEN, &ct_len);
	if (err)
		goto out;

	bin_len = FERNET_HDR_LEN + ct_len;
	err = fernet_mac(key, bin, bin_len, bin + bin_len);
	if (err)
		goto out;
	bin_len += FERNET_MAC_LEN;

	tok_size = sodium_base64_ENCODED_LEN(bin_len, sodium_base64_VARIANT_URLSAFE);
	tok = malloc(tok_size);
	if (!tok) {
		err = ENOMEM;
		goto out;
	}
	sodium_bin2base64(tok, tok_size, bin, bin_len, sodium_base64_VARIANT_URLSAFE);

out:
	free(bin);
	if (err)
		free(tok);
	else
		*token_out = tok;
	return err;
}

int fernet_encrypt(const struct fernet_keyring *kr, const void *plain, size_t len,
		   char **token_out)
{
	uint8_t iv[FERNET_IV_LEN];
	int err;

	err = crypto_init();
	if (err)
		return err;
	randombytes_buf(iv, sizeof(iv));
	return fernet_encrypt_at(kr, plain, len, (int64_t)time(NULL), iv, token_out);
}

/* URL-safe base64, '=' padding optional (Python always pads; others don't). */
static int fernet_token_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	size_t n = len, pad = 0, max;
	uint8_t *bin;

	while (n > 0 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad > 2 || (pad && len % 4) || n % 4 == 1 || n < FERNET_MIN_TOKEN_LEN)
		return EBADMSG;

	max = n / 4 * 3 + 2;
	bin = malloc(max);
	if (!bin)
		return ENOMEM;

	if (sodium_base642bin(bin, max, s, n, NULL, out_len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(bin);
		return EBADMSG;
	}
	*out = bin;
	return 0;
}

static int fernet_check_time(uint64_t ts, int64_t ttl, int64_t now)
{
	if (ttl <= 0)
		return 0;
	if (ts > (uint64_t)now + FERNET_MAX_CLOCK_SKEW)
		return ETIME;
	if (ts < (uint64_t)now && (uint64_t)now - ts > (uint64_t)ttl)
		return ETIME;
	return 0;
}

int fernet_decrypt_at(const struct fernet_keyring *kr, const char *token, size_t token_len,
		      int64_t ttl_seconds, int64_t now, uint8_t **plain_out, size_t *len_out)
{
	const struct fernet_key *key = NULL;
	uint8_t mac[FERNET_MAC_LEN];
	uint8_t *bin = NULL, *plain = NULL;
	size_t bin_len = 0, signed_len, ct_len = 0, plain_len = 0;
	int err;

	if (!kr || !token || !plain_out || !len_out || ttl_seconds < 0 ||
	    (ttl_seconds > 0 && now < 0))
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;

	err = fernet_token_decode(token, token_len, &bin, &bin_len);
	if (err)
		goto out;

	if (bin_len < FERNET_MIN_LEN || bin[0] != FERNET_VERSION ||
	    (bin_len - FERNET_HDR_LEN - FERNET_MAC_LEN) % FERNET_BLOCK) {
		err = EBADMSG;
		goto out;
	}
	signed_len = bin_len - FERNET_MAC_LEN;

	/* Authenticate first: nothing unauthenticated reaches the cipher,
	 * so padding errors cannot become an oracle. */
	for (size_t i = 0; i < kr->n && !key; i++) {
		err = fernet_mac(&kr->key[i], bin, signed_len, mac);
		if (err)
			goto out;
		if (CRYPTO_memcmp(mac, bin + signed_len, FERNET_MAC_LEN) == 0)
			key = &kr->key[i];
	}
	if (!key) {
		err = EBADMSG;
		goto out;
	}

	err = fernet_check_time(fernet_get_be64(bin + 1), ttl_seconds, now);
	if (err)
		goto out;

	ct_len = signed_len - FERNET_HDR_LEN;
	plain = malloc(ct_len + FERNET_BLOCK + 1);
	if (!plain) {
		err = ENOMEM;
		goto out;
	}
	err = fernet_cipher(key, bin + 9, 0, bin + FERNET_HDR_LEN, ct_len, plain,
			    &plain_len);
	if (err)
		goto out;
	plain[plain_len] = '\0';

out:
	free(bin);
	if (err) {
		if (plain)
			sodium_memzero(plain, ct_len + FERNET_BLOCK + 1);
		free(plain);
	} else {
		*plain_out = plain;
		*len_out = plain_len;
	}
	return err;
}

int fernet_decrypt(const struct fernet_keyring *kr, const char *token, size_t token_len,
		   int64_t ttl_seconds, uint8_t **plain_out, size_t *len_out)
{
	return fernet_decrypt_at(kr, token, token_len, ttl_seconds, (int64_t)time(NULL),
				 plain_out, len_out);
}

int fernet_key_index(const struct fernet_keyring *kr, const char *token, size_t token_len,
		     size_t *index)
{
	uint8_t mac[FERNET_MAC_LEN];
	uint8_t *bin = NULL;
	size_t bin_len = 0, signed_len;
	int err;

	if (!kr || !token || !index)
		return EINVAL;
	err = crypto_init();
	if (!err)
		err = fernet_token_decode(token, token_len, &bin, &bin_len);
	if (err)
		return err;
	err = EBADMSG;
	if (bin_len >= FERNET_MIN_LEN && bin[0] == FERNET_VERSION) {
		signed_len = bin_len - FERNET_MAC_LEN;
		for (size_t i = 0; i < kr->n; i++) {
			if (fernet_mac(&kr->key[i], bin, signed_len, mac) != 0)
				break;
			if (CRYPTO_memcmp(mac, bin + signed_len, FERNET_MAC_LEN) == 0) {
				*index = i;
				err = 0;
				break;
			}
		}
	}
	free(bin);
	return err;
}

/* ASCII only, whatever the locale says. */
static bool fernet_b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool fernet_token_is(const char *s, size_t len)
{
	size_t n = len;

	if (!s || len < FERNET_MIN_TOKEN_LEN || strncmp(s, "gAAAAA", 6) != 0)
		return false;
	while (n > 0 && len - n < 2 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++)
		if (!fernet_b64url_char((unsigned char)s[i]))
			return false;
	return true;
}
