/* test_token.c - random tokens, token hashes, constant-time compare, SECRET_KEY strength. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/token.h"

#define URLSAFE "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static void test_random_urlsafe(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 16, 32, 47, 48, 49, 100, 1000 };
	char a[2000], b[2000];

	(void)state;
	assert_int_equal(TOKEN_URLSAFE_LEN(32), 43);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t want = TOKEN_URLSAFE_LEN(sizes[i]);

		memset(a, '#', sizeof(a));
		assert_int_equal(token_random_urlsafe(sizes[i], a, want + 1), 0);
		assert_int_equal(strlen(a), want);
		assert_int_equal(strspn(a, URLSAFE), want);
	}
	assert_int_equal(token_random_urlsafe(32, a, sizeof(a)), 0);
	assert_int_equal(token_random_urlsafe(32, b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_null(strchr(a, '='));

	assert_int_equal(token_random_urlsafe(32, a, 43), ENOSPC);
	assert_int_equal(token_random_urlsafe(0, a, sizeof(a)), EINVAL);
	assert_int_equal(token_random_urlsafe(32, NULL, 100), EINVAL);
}

static void test_sha256_hex(void **state)
{
	char out[TOKEN_SHA256_HEX_LEN + 1];

	(void)state;
	token_sha256_hex("abc", out);
	assert_string_equal(out,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	token_sha256_hex("", out);
	assert_string_equal(out,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_ct_streq(void **state)
{
	(void)state;
	assert_true(ct_streq("", ""));
	assert_true(ct_streq("token", "token"));
	assert_false(ct_streq("token", "tokeN"));
	assert_false(ct_streq("token", "token2"));
	assert_false(ct_streq("token2", "token"));
	assert_false(ct_streq("", "x"));
	assert_false(ct_streq(NULL, "x"));
	assert_false(ct_streq("x", NULL));
	assert_false(ct_streq(NULL, NULL));
}

static void assert_weak(const char *s, const char *reason)
{
	const char *why = NULL;

	if (secret_is_strong(s, &why))
		fail_msg("accepted weak secret \"%s\"", s ? s : "(null)");
	assert_non_null(why);
	if (reason && strcmp(why, reason) != 0)
		fail_msg("\"%s\": reason \"%s\", want \"%s\"", s ? s : "(null)", why, reason);
}

static void assert_strong(const char *s)
{
	const char *why = "unset";

	if (!secret_is_strong(s, &why))
		fail_msg("refused \"%s\": %s", s, why);
	assert_null(why);
}

static void test_secret_strength(void **state)
{
	char gen[64], hex[65];

	(void)state;
	/* What `callbot gen-secret` prints, many times over. */
	for (int i = 0; i < 200; i++) {
		assert_int_equal(token_random_urlsafe(32, gen, sizeof(gen)), 0);
		assert_strong(gen);
	}
	/* Python secrets.token_hex(32) and token_urlsafe(32), base64 with '='. */
	assert_strong("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	assert_strong("Drmhze6EPcv0fN_81Bj-nA3x5Qwk7P0kGOGgDkQ4e1M");
	assert_strong("Drmhze6EPcv0fN_81Bj-nA3x5Qwk7P0kGOGgDkQ4e1M=");
	/* A long passphrase with some variety. */
	assert_strong("Tr0ub4dor&3 horse battery staple!");
	assert_true(secret_is_strong("Drmhze6EPcv0fN_81Bj-nA3x5Qwk7P0kGOGgDkQ4e1M", NULL));

	assert_weak(NULL, "missing");
	assert_weak("", "missing");
	assert_weak("your-secret-key-change-in-production", "a known default value");
	assert_weak("your-super-secret-key-change-this-in-production", "a known default value");
	assert_weak("change-me", "a known default value");
	assert_weak("changeme", "a known default value");
	assert_weak("CHANGEME", "a known default value");
	assert_weak("secret", "a known default value");
	assert_weak("dev", "a known default value");
	assert_weak("development", "a known default value");
	assert_weak("supersecret", "a known default value");
	assert_weak("Xk3-please-CHANGE-THIS-before-going-live-9qZ", "a known default value");
	assert_weak("my-app-key-Change-In-Production-4f9a8b7c6d5e", "a known default value");
	assert_weak("djfh38ChangeMe2k4j5h6g7f8d9s0a1q2w3e4r5t6y7u", "a known default value");
	assert_weak("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    "one repeated character");
	assert_weak("x", "one repeated character");
	assert_weak("Drmhze6EPcv0fN_81Bj-nA3x5Qwk", "shorter than 32 bytes");
	assert_weak("0123456789abcdef0123456789abcde", "shorter than 32 bytes");
	/* Long but patterned. */
	assert_weak("abababababababababababababababababababababab", NULL);
	assert_weak("0101010101010101010101010101010101010101010101010101010101010101", NULL);
	assert_weak("passwordpasswordpasswordpassword", NULL);

	/* Hex of exactly 32 bytes passes, as it should. */
	for (int i = 0; i < 64; i++)
		hex[i] = "0123456789abcdef"[(i * 7 + i / 16) % 16];
	hex[64] = '\0';
	assert_strong(hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_urlsafe),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_ct_streq),
		cmocka_unit_test(test_secret_strength),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
