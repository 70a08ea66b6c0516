/* test_fernet.c - Fernet against the spec's vectors and Python's cryptography.fernet. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/fernet.h"

/* The Debian python that has python3-cryptography, not whatever is on PATH. */
#define PYTHON "/usr/bin/python3"

/* From github.com/fernet/spec generate.json / verify.json / invalid.json. */
#define SPEC_KEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define SPEC_TOKEN \
	"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
#define SPEC_TIME 499162800 /* 1985-10-26T01:20:00-07:00 */

static struct fernet_keyring *parse_ok(const char *csv)
{
	struct fernet_keyring *kr = NULL;

	assert_int_equal(fernet_keyring_parse(&kr, csv), 0);
	assert_non_null(kr);
	return kr;
}

static char *encrypt_ok(const struct fernet_keyring *kr, const void *p, size_t len)
{
	char *tok = NULL;

	assert_int_equal(fernet_encrypt(kr, p, len, &tok), 0);
	assert_non_null(tok);
	return tok;
}

static void assert_decrypts(const struct fernet_keyring *kr, const char *tok,
			    const void *want, size_t want_len)
{
	uint8_t *plain = NULL;
	size_t len = 0;

	assert_int_equal(fernet_decrypt(kr, tok, strlen(tok), 0, &plain, &len), 0);
	assert_int_equal(len, want_len);
	if (want_len)
		assert_memory_equal(plain, want, want_len);
	assert_int_equal(plain[len], '\0');
	free(plain);
}

static int decrypt_err(const struct fernet_keyring *kr, const char *tok, size_t len,
		       int64_t ttl, int64_t now)
{
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	int err;

	err = fernet_decrypt_at(kr, tok, len, ttl, now, &plain, &plain_len);
	if (!err)
		free(plain);
	else
		assert_null(plain);
	return err;
}

static void test_spec_generate(void **state)
{
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);
	uint8_t iv[FERNET_IV_LEN];
	char *tok = NULL;

	(void)state;
	for (int i = 0; i < FERNET_IV_LEN; i++)
		iv[i] = (uint8_t)i;
	assert_int_equal(fernet_encrypt_at(kr, "hello", 5, SPEC_TIME, iv, &tok), 0);
	assert_string_equal(tok, SPEC_TOKEN);
	free(tok);
	fernet_keyring_free(kr);
}

static void test_spec_verify(void **state)
{
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);
	uint8_t *plain = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(fernet_decrypt_at(kr, SPEC_TOKEN, strlen(SPEC_TOKEN), 60,
					   SPEC_TIME + 1, &plain, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal((char *)plain, "hello");
	free(plain);
	fernet_keyring_free(kr);
}

static void test_spec_invalid(void **state)
{
	static const struct {
		const char *desc, *token;
		int64_t now;
		int err;
	} cases[] = {
		{ "incorrect mac",
		  "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==",
		  SPEC_TIME + 1, EBADMSG },
		{ "too short",
		  "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==",
		  SPEC_TIME + 1, EBADMSG },
		{ "invalid base64",
		  "%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		  SPEC_TIME + 1, EBADMSG },
		{ "payload size not multiple of block size",
		  "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm",
		  SPEC_TIME + 1, EBADMSG },
		{ "payload padding error",
		  "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==",
		  SPEC_TIME + 1, EBADMSG },
		{ "far-future TS (unacceptable clock skew)",
		  "gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==",
		  SPEC_TIME + 1, ETIME },
		{ "expired TTL",
		  "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		  SPEC_TIME + 91, ETIME },
		{ "incorrect IV (causes padding error)",
		  "gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==",
		  SPEC_TIME + 1, EBADMSG },
	};
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = decrypt_err(kr, cases[i].token, strlen(cases[i].token), 60,
				      cases[i].now);

		if (err != cases[i].err)
			fail_msg("%s: got %d, want %d", cases[i].desc, err, cases[i].err);
	}
	fernet_keyring_free(kr);
}

static void test_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 31, 32, 1000, 70000 };
	char key[FERNET_KEY_LEN + 1];
	struct fernet_keyring *kr;
	uint8_t *buf = malloc(70000);

	(void)state;
	assert_non_null(buf);
	randombytes_buf(buf, 70000);
	assert_int_equal(fernet_key_generate(key), 0);
	kr = parse_ok(key);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *tok = encrypt_ok(kr, buf, sizes[i]);
		uint8_t *plain = NULL;
		size_t len = 0;

		assert_true(fernet_token_is(tok, strlen(tok)));
		assert_decrypts(kr, tok, buf, sizes[i]);
		/* A fresh token passes a TTL check against the real clock. */
		assert_int_equal(fernet_decrypt(kr, tok, strlen(tok), 60, &plain, &len), 0);
		free(plain);
		free(tok);
	}
	/* NULL with length 0 is an empty message. */
	{
		char *tok = encrypt_ok(kr, NULL, 0);

		assert_decrypts(kr, tok, "", 0);
		free(tok);
	}
	fernet_keyring_free(kr);
	free(buf);
}

static void test_unpadded_token(void **state)
{
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);
	char tok[sizeof(SPEC_TOKEN)];
	size_t len = strlen(SPEC_TOKEN);

	(void)state;
	memcpy(tok, SPEC_TOKEN, sizeof(tok));
	while (tok[len - 1] == '=')
		tok[--len] = '\0';
	assert_decrypts(kr, tok, "hello", 5);
	/* One '=' of two is not valid padding. */
	tok[len] = '=';
	assert_int_equal(decrypt_err(kr, tok, len + 1, 0, 0), EBADMSG);
	fernet_keyring_free(kr);
}

static void test_random_iv_and_time(void **state)
{
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);
	char *a = encrypt_ok(kr, "same", 4);
	char *b = encrypt_ok(kr, "same", 4);
	time_t now = time(NULL);
	uint8_t bin[128];
	size_t len = 0;
	uint64_t ts = 0;

	(void)state;
	assert_string_not_equal(a, b);
	assert_int_equal(sodium_base642bin(bin, sizeof(bin), a, strlen(a), NULL, &len, NULL,
					   sodium_base64_VARIANT_URLSAFE), 0);
	assert_int_equal(bin[0], 0x80);
	for (int i = 1; i <= 8; i++)
		ts = (ts << 8) | bin[i];
	assert_true(ts + 5 >= (uint64_t)now && ts <= (uint64_t)now + 5);
	free(a);
	free(b);
	fernet_keyring_free(kr);
}

static void test_multi_key(void **state)
{
	char old_key[FERNET_KEY_LEN + 1], new_key[FERNET_KEY_LEN + 1], csv[200];
	struct fernet_keyring *old_kr, *new_kr, *both;
	char *old_tok, *new_tok;

	(void)state;
	assert_int_equal(fernet_key_generate(old_key), 0);
	assert_int_equal(fernet_key_generate(new_key), 0);
	old_kr = parse_ok(old_key);
	new_kr = parse_ok(new_key);
	snprintf(csv, sizeof(csv), " %s ,\t%s\n", new_key, old_key);
	both = parse_ok(csv);
	assert_int_equal(fernet_keyring_count(both), 2);
	assert_int_equal(fernet_keyring_count(old_kr), 1);
	assert_int_equal(fernet_keyring_count(NULL), 0);

	old_tok = encrypt_ok(old_kr, "from the old key", 16);
	assert_decrypts(both, old_tok, "from the old key", 16);
	assert_int_equal(decrypt_err(new_kr, old_tok, strlen(old_tok), 0, 0), EBADMSG);

	/* The keyring encrypts with its first (newest) key only. */
	new_tok = encrypt_ok(both, "rotated", 7);
	assert_decrypts(new_kr, new_tok, "rotated", 7);
	assert_int_equal(decrypt_err(old_kr, new_tok, strlen(new_tok), 0, 0), EBADMSG);

	free(old_tok);
	free(new_tok);
	fernet_keyring_free(old_kr);
	fernet_keyring_free(new_kr);
	fernet_keyring_free(both);
}

static void test_tampering(void **state)
{
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);
	char *tok = encrypt_ok(kr, "a message worth protecting", 26);
	size_t tlen = strlen(tok), blen = 0;
	uint8_t bin[256];
	char forged[400];

	(void)state;
	/* Every byte of the decoded token, every bit. */
	assert_int_equal(sodium_base642bin(bin, sizeof(bin), tok, tlen, NULL, &blen, NULL,
					   sodium_base64_VARIANT_URLSAFE), 0);
	for (size_t i = 0; i < blen; i++) {
		for (int bit = 0; bit < 8; bit++) {
			bin[i] ^= (uint8_t)(1u << bit);
			sodium_bin2base64(forged, sizeof(forged), bin, blen,
					  sodium_base64_VARIANT_URLSAFE);
			if (decrypt_err(kr, forged, strlen(forged), 0, 0) != EBADMSG)
				fail_msg("flipping bit %d of byte %zu was not detected", bit, i);
			bin[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Every character of the text form. */
	for (size_t i = 0; i < tlen; i++) {
		memcpy(forged, tok, tlen + 1);
		forged[i] = forged[i] == 'A' ? 'B' : 'A';
		if (decrypt_err(kr, forged, tlen, 0, 0) != EBADMSG)
			fail_msg("changing char %zu was not detected", i);
	}
	/* Characters outside the alphabet, in the middle. */
	for (const char *c = "+/ .=\n"; *c; c++) {
		memcpy(forged, tok, tlen + 1);
		forged[tlen / 2] = *c;
		assert_int_equal(decrypt_err(kr, forged, tlen, 0, 0), EBADMSG);
	}
	free(tok);
	fernet_keyring_free(kr);
}

static void test_wrong_key(void **state)
{
	char key[FERNET_KEY_LEN + 1];
	struct fernet_keyring *spec = parse_ok(SPEC_KEY), *other;

	(void)state;
	assert_int_equal(fernet_key_generate(key), 0);
	other = parse_ok(key);
	assert_int_equal(decrypt_err(other, SPEC_TOKEN, strlen(SPEC_TOKEN), 0, 0), EBADMSG);
	fernet_keyring_free(other);
	fernet_keyring_free(spec);
}

static void test_garbage(void **state)
{
	static const char *const junk[] = {
		"", "=", "==", "gAAAAA", "hello world", "not a token at all",
		"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA===",
		"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==x",
		" gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==",
		"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF+5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==",
	};
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);
	uint8_t *plain = NULL;
	char *tok = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		if (decrypt_err(kr, junk[i], strlen(junk[i]), 0, 0) != EBADMSG)
			fail_msg("junk %zu accepted", i);

	/* Every truncation of a good token. */
	for (size_t n = 0; n < strlen(SPEC_TOKEN) - 2; n++)
		if (decrypt_err(kr, SPEC_TOKEN, n, 0, 0) != EBADMSG)
			fail_msg("truncated to %zu accepted", n);

	/* A token that is not NUL-terminated where the length says. */
	{
		char buf[sizeof(SPEC_TOKEN) + 8];

		memcpy(buf, SPEC_TOKEN, sizeof(SPEC_TOKEN) - 1);
		memcpy(buf + sizeof(SPEC_TOKEN) - 1, "garbage", 8);
		assert_int_equal(fernet_decrypt(kr, buf, strlen(SPEC_TOKEN), 0, &plain, &len), 0);
		assert_string_equal((char *)plain, "hello");
		free(plain);
	}

	assert_int_equal(fernet_decrypt(NULL, SPEC_TOKEN, 10, 0, &plain, &len), EINVAL);
	assert_int_equal(fernet_decrypt(kr, NULL, 10, 0, &plain, &len), EINVAL);
	assert_int_equal(fernet_decrypt(kr, SPEC_TOKEN, 10, -1, &plain, &len), EINVAL);
	assert_int_equal(fernet_encrypt(NULL, "x", 1, &tok), EINVAL);
	assert_int_equal(fernet_encrypt(kr, NULL, 1, &tok), EINVAL);
	assert_null(tok);
	fernet_keyring_free(kr);
}

static void test_bad_keys(void **state)
{
	static const char *const bad[] = {
		"", ",", " ", "short",
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4",    /* no padding */
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4==",  /* extra '=' */
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e=",    /* 31 bytes */
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=cw", /* trailing */
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e!=",   /* charset */
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e 4=",  /* inner space */
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,",
		",cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,,cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,nope",
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4= cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
	};
	struct fernet_keyring *kr = (struct fernet_keyring *)1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fernet_keyring_parse(&kr, bad[i]) != EINVAL)
			fail_msg("bad keyring %zu accepted", i);
		assert_ptr_equal(kr, (struct fernet_keyring *)1); /* untouched */
	}
	assert_int_equal(fernet_keyring_parse(&kr, NULL), EINVAL);
	assert_int_equal(fernet_keyring_parse(NULL, SPEC_KEY), EINVAL);
	fernet_keyring_free(NULL);

	assert_true(fernet_key_valid(SPEC_KEY));
	assert_false(fernet_key_valid(NULL));
	assert_false(fernet_key_valid(""));
	assert_false(fernet_key_valid(bad[4]));
	assert_false(fernet_key_valid(bad[8]));
	/* Python accepts the standard alphabet too. */
	assert_true(fernet_key_valid("cw/0x689RpI+jtRR7oE8h/eQsKImvJapLeSbXpwF4e4="));
}

static void test_key_generate(void **state)
{
	char a[FERNET_KEY_LEN + 1], b[FERNET_KEY_LEN + 1];

	(void)state;
	assert_int_equal(fernet_key_generate(a), 0);
	assert_int_equal(fernet_key_generate(b), 0);
	assert_int_equal(strlen(a), FERNET_KEY_LEN);
	assert_int_equal(a[FERNET_KEY_LEN - 1], '=');
	assert_true(fernet_key_valid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789-_="), FERNET_KEY_LEN);
	assert_int_equal(fernet_key_generate(NULL), EINVAL);
}

static void test_ttl(void **state)
{
	struct fernet_keyring *kr = parse_ok(SPEC_KEY);
	uint8_t iv[FERNET_IV_LEN] = { 0 };
	char *tok = NULL;
	size_t n;

	(void)state;
	assert_int_equal(fernet_encrypt_at(kr, "t", 1, 1000000, iv, &tok), 0);
	n = strlen(tok);
	assert_int_equal(decrypt_err(kr, tok, n, 60, 1000060), 0);
	assert_int_equal(decrypt_err(kr, tok, n, 60, 1000061), ETIME);
	assert_int_equal(decrypt_err(kr, tok, n, 3600, 1000061), 0);
	/* Up to 60 s of clock skew into the future, no more. */
	assert_int_equal(decrypt_err(kr, tok, n, 60, 1000000 - 60), 0);
	assert_int_equal(decrypt_err(kr, tok, n, 60, 1000000 - 61), ETIME);
	/* No TTL, no clock. */
	assert_int_equal(decrypt_err(kr, tok, n, 0, 5000000000LL), 0);
	assert_int_equal(decrypt_err(kr, tok, n, 0, 0), 0);
	/* An old token from a forger is a forgery, not an expiry. */
	tok[n / 2] = tok[n / 2] == 'A' ? 'B' : 'A';
	assert_int_equal(decrypt_err(kr, tok, n, 60, 2000000), EBADMSG);
	free(tok);

	assert_int_equal(fernet_encrypt_at(kr, "t", 1, -1, iv, &tok), EINVAL);
	fernet_keyring_free(kr);
}

static void test_token_is(void **state)
{
	char buf[sizeof(SPEC_TOKEN)];

	(void)state;
	assert_true(fernet_token_is(SPEC_TOKEN, strlen(SPEC_TOKEN)));
	assert_true(fernet_token_is(SPEC_TOKEN, strlen(SPEC_TOKEN) - 2)); /* unpadded */
	assert_false(fernet_token_is(SPEC_TOKEN, 40));
	assert_false(fernet_token_is("hello, I would like to book a table", 35));
	assert_false(fernet_token_is("gAAAAA is how it starts", 23));
	assert_false(fernet_token_is(NULL, 0));
	assert_false(fernet_token_is("", 0));
	memcpy(buf, SPEC_TOKEN, sizeof(buf));
	buf[50] = ' ';
	assert_false(fernet_token_is(buf, strlen(buf)));
	memcpy(buf, SPEC_TOKEN, sizeof(buf));
	buf[50] = '=';
	assert_false(fernet_token_is(buf, strlen(buf)));
	memcpy(buf, SPEC_TOKEN, sizeof(buf));
	buf[0] = 'h';
	assert_false(fernet_token_is(buf, strlen(buf)));
}

/* ---- Interop with Python's cryptography.fernet ------------------------- */

static const char *interop_script(void)
{
	static char path[4096];
	const char *dir = getenv("CALLBOT_TEST_DATA");

	if (dir && *dir) {
		snprintf(path, sizeof(path), "%s/fernet_interop.py", dir);
	} else {
		/* Run by hand: find tests/data next to this source file. */
		const char *slash = strrchr(__FILE__, '/');
		int dlen = slash ? (int)(slash - __FILE__) : 1;

		snprintf(path, sizeof(path), "%.*s/../data/fernet_interop.py", dlen,
			 slash ? __FILE__ : ".");
	}
	return path;
}

/* Runs the helper with `in` on stdin; returns its exit status and stdout. */
static int py_run(const char *op, const char *keys, const void *in, size_t in_len,
		  uint8_t **out, size_t *out_len)
{
	/* A clean environment: no pyenv PYTHONPATH, no sanitizer settings. */
	char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", NULL };
	char *argv[] = { PYTHON, (char *)interop_script(), (char *)op, (char *)keys, NULL };
	posix_spawn_file_actions_t fa;
	FILE *fin = tmpfile(), *fout = tmpfile();
	pid_t pid;
	int status = 0;
	long size;

	assert_non_null(fin);
	assert_non_null(fout);
	if (in_len)
		assert_int_equal(fwrite(in, 1, in_len, fin), in_len);
	fflush(fin);
	rewind(fin);

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_adddup2(&fa, fileno(fin), 0);
	posix_spawn_file_actions_adddup2(&fa, fileno(fout), 1);
	assert_int_equal(posix_spawn(&pid, PYTHON, &fa, NULL, argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	fseek(fout, 0, SEEK_END);
	size = ftell(fout);
	rewind(fout);
	*out = malloc((size_t)size + 1);
	assert_non_null(*out);
	assert_int_equal(fread(*out, 1, (size_t)size, fout), (size_t)size);
	(*out)[size] = '\0';
	*out_len = (size_t)size;
	fclose(fin);
	fclose(fout);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The interop tests are part of the contract (SPEC 4): fail, never skip. */
static void py_require(void)
{
	uint8_t *out = NULL;
	size_t len = 0;
	int rc;

	if (access(PYTHON, X_OK) != 0)
		fail_msg(PYTHON " not found: install python3 and python3-cryptography");
	if (access(interop_script(), R_OK) != 0)
		fail_msg("%s missing (set CALLBOT_TEST_DATA)", interop_script());
	rc = py_run("check", NULL, NULL, 0, &out, &len);
	free(out);
	if (rc != 0)
		fail_msg(PYTHON " cannot import cryptography.fernet (exit %d): "
			 "install python3-cryptography", rc);
}

static char *py_encrypt(const char *keys, const void *p, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;

	if (py_run("encrypt", keys, p, len, &out, &out_len) != 0)
		fail_msg("python failed to encrypt");
	return (char *)out;
}

static void py_assert_decrypts(const char *keys, const char *tok, const void *want,
			       size_t want_len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;

	if (py_run("decrypt", keys, tok, strlen(tok), &out, &out_len) != 0)
		fail_msg("python rejected a callbot token");
	assert_int_equal(out_len, want_len);
	if (want_len)
		assert_memory_equal(out, want, want_len);
	free(out);
}

struct payload {
	const void *data;
	size_t len;
};

#define BIG_LEN (100 * 1024)
static uint8_t big[BIG_LEN];
static const char utf8[] = "Grüße aus Köln — 日本語のテキスト ☎ 🤖 Привет";

static size_t payloads(struct payload *p)
{
	randombytes_buf(big, sizeof(big));
	big[0] = 0; /* and a NUL inside binary data */
	p[0] = (struct payload){ "hello", 5 };
	p[1] = (struct payload){ utf8, strlen(utf8) };
	p[2] = (struct payload){ "", 0 };
	p[3] = (struct payload){ big, sizeof(big) };
	return 4;
}

static void test_interop_c_to_python(void **state)
{
	char key[FERNET_KEY_LEN + 1];
	struct fernet_keyring *kr;
	struct payload p[4];
	size_t n = payloads(p);

	(void)state;
	py_require();
	assert_int_equal(fernet_key_generate(key), 0);
	kr = parse_ok(key);
	for (size_t i = 0; i < n; i++) {
		char *tok = encrypt_ok(kr, p[i].data, p[i].len);

		py_assert_decrypts(key, tok, p[i].data, p[i].len);
		free(tok);
	}
	/* And the spec vector, made by us at a fixed time. */
	py_assert_decrypts(SPEC_KEY, SPEC_TOKEN, "hello", 5);
	fernet_keyring_free(kr);
}

static void test_interop_python_to_c(void **state)
{
	char key[FERNET_KEY_LEN + 1];
	struct fernet_keyring *kr;
	struct payload p[4];
	size_t n = payloads(p);

	(void)state;
	py_require();
	assert_int_equal(fernet_key_generate(key), 0);
	kr = parse_ok(key);
	for (size_t i = 0; i < n; i++) {
		char *tok = py_encrypt(key, p[i].data, p[i].len);
		uint8_t *plain = NULL;
		size_t len = 0;

		assert_true(fernet_token_is(tok, strlen(tok)));
		assert_decrypts(kr, tok, p[i].data, p[i].len);
		/* Python stamps the current time: a TTL check passes. */
		assert_int_equal(fernet_decrypt(kr, tok, strlen(tok), 60, &plain, &len), 0);
		free(plain);
		free(tok);
	}
	fernet_keyring_free(kr);
}

static void test_interop_multifernet(void **state)
{
	char old_key[FERNET_KEY_LEN + 1], new_key[FERNET_KEY_LEN + 1];
	char new_old[100], old_new[100];
	struct fernet_keyring *kr, *reversed, *new_only;
	char *tok;

	(void)state;
	py_require();
	assert_int_equal(fernet_key_generate(old_key), 0);
	assert_int_equal(fernet_key_generate(new_key), 0);
	snprintf(new_old, sizeof(new_old), "%s,%s", new_key, old_key);
	snprintf(old_new, sizeof(old_new), "%s, %s", old_key, new_key);
	kr = parse_ok(new_old);
	reversed = parse_ok(old_new);
	new_only = parse_ok(new_key);

	/* MultiFernet encrypts with its first key; any order decrypts here. */
	tok = py_encrypt(new_old, utf8, strlen(utf8));
	assert_decrypts(kr, tok, utf8, strlen(utf8));
	assert_decrypts(reversed, tok, utf8, strlen(utf8));
	assert_decrypts(new_only, tok, utf8, strlen(utf8));
	free(tok);

	/* A token from before the rotation. */
	tok = py_encrypt(old_key, "before rotation", 15);
	assert_decrypts(kr, tok, "before rotation", 15);
	assert_int_equal(decrypt_err(new_only, tok, strlen(tok), 0, 0), EBADMSG);
	free(tok);

	/* Ours, read by MultiFernet in either order and by Fernet(new). */
	tok = encrypt_ok(kr, "after rotation", 14);
	py_assert_decrypts(old_new, tok, "after rotation", 14);
	py_assert_decrypts(new_old, tok, "after rotation", 14);
	py_assert_decrypts(new_key, tok, "after rotation", 14);
	free(tok);

	fernet_keyring_free(kr);
	fernet_keyring_free(reversed);
	fernet_keyring_free(new_only);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_generate),
		cmocka_unit_test(test_spec_verify),
		cmocka_unit_test(test_spec_invalid),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unpadded_token),
		cmocka_unit_test(test_random_iv_and_time),
		cmocka_unit_test(test_multi_key),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_key_generate),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_token_is),
		cmocka_unit_test(test_interop_c_to_python),
		cmocka_unit_test(test_interop_python_to_c),
		cmocka_unit_test(test_interop_multifernet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
