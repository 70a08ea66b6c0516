/* test_password.c - Argon2id password hashing and generated passwords. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/password.h"

static void test_hash_verify(void **state)
{
	char hash[PASSWORD_HASH_MAX], again[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash("correct horse battery staple", hash), 0);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_true(strlen(hash) < PASSWORD_HASH_MAX);
	assert_true(password_verify(hash, "correct horse battery staple"));
	assert_false(password_verify(hash, "correct horse battery stapler"));
	assert_false(password_verify(hash, ""));
	assert_false(password_needs_rehash(hash));

	/* A fresh salt each time. */
	assert_int_equal(password_hash("correct horse battery staple", again), 0);
	assert_string_not_equal(hash, again);
	assert_true(password_verify(again, "correct horse battery staple"));
}

static void test_utf8_and_empty(void **state)
{
	char hash[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash("pässwörd ☎", hash), 0);
	assert_true(password_verify(hash, "pässwörd ☎"));
	assert_false(password_verify(hash, "passwörd ☎"));

	assert_int_equal(password_hash("", hash), 0);
	assert_true(password_verify(hash, ""));
	assert_false(password_verify(hash, " "));
}

static void test_bad_input(void **state)
{
	char hash[PASSWORD_HASH_MAX], junk[PASSWORD_HASH_MAX + 10];

	(void)state;
	assert_int_equal(password_hash(NULL, hash), EINVAL);
	assert_int_equal(password_hash("x", NULL), EINVAL);
	assert_false(password_verify(NULL, "x"));
	assert_false(password_verify("$argon2id$", NULL));
	assert_false(password_verify("", "x"));
	assert_false(password_verify("plaintext", "plaintext"));
	/* A werkzeug hash from the Python CallBot is not ours to verify. */
	assert_false(password_verify("pbkdf2:sha256:600000$abc$def", "x"));
	assert_true(password_needs_rehash("pbkdf2:sha256:600000$abc$def"));
	assert_true(password_needs_rehash(NULL));
	assert_true(password_needs_rehash(""));
	/* Not NUL-terminated within PASSWORD_HASH_MAX. */
	memset(junk, 'a', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	assert_false(password_verify(junk, "a"));
	assert_true(password_needs_rehash(junk));
}

static void test_needs_rehash(void **state)
{
	char weak[PASSWORD_HASH_MAX], argon2i[PASSWORD_HASH_MAX];

	(void)state;
	/* Argon2id below the current cost, and Argon2i: both still verify
	 * but want an upgrade at the next login. */
	assert_int_equal(crypto_pwhash_str_alg(weak, "pw", 2, 1, 8192 * 1024,
					       crypto_pwhash_ALG_ARGON2ID13), 0);
	assert_int_equal(crypto_pwhash_str_alg(argon2i, "pw", 2,
					       crypto_pwhash_argon2i_OPSLIMIT_INTERACTIVE,
					       crypto_pwhash_argon2i_MEMLIMIT_INTERACTIVE,
					       crypto_pwhash_ALG_ARGON2I13), 0);
	assert_true(password_verify(weak, "pw"));
	assert_true(password_verify(argon2i, "pw"));
	assert_true(password_needs_rehash(weak));
	assert_true(password_needs_rehash(argon2i));
}

static void test_generate(void **state)
{
	char a[PASSWORD_GEN_LEN + 1], b[PASSWORD_GEN_LEN + 1], small[PASSWORD_GEN_LEN];

	(void)state;
	for (int i = 0; i < 200; i++) {
		bool upper = false, lower = false, digit = false;

		assert_int_equal(password_generate(a, sizeof(a)), 0);
		assert_int_equal(strlen(a), PASSWORD_GEN_LEN);
		assert_int_equal(strspn(a, PASSWORD_GEN_ALPHABET), PASSWORD_GEN_LEN);
		assert_null(strpbrk(a, "0O1lIo"));
		for (const char *p = a; *p; p++) {
			upper |= *p >= 'A' && *p <= 'Z';
			lower |= *p >= 'a' && *p <= 'z';
			digit |= *p >= '0' && *p <= '9';
		}
		assert_true(upper && lower && digit);
	}
	assert_int_equal(password_generate(b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(password_generate(small, sizeof(small)), EINVAL);
	assert_int_equal(password_generate(NULL, 100), EINVAL);
}

static void test_generated_password_hashes(void **state)
{
	char pw[PASSWORD_GEN_LEN + 1], hash[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_generate(pw, sizeof(pw)), 0);
	assert_int_equal(password_hash(pw, hash), 0);
	assert_true(password_verify(hash, pw));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_utf8_and_empty),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_generated_password_hashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
