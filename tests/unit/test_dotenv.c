/* test_dotenv.c - the .env reader: syntax, quoting, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/dotenv.h"

static int parse(const char *text, size_t len, struct dotenv *env, char *err)
{
	return dotenv_parse(text, len, env, err, 256);
}

static void test_basic_syntax(void **state)
{
	const char *text = "# comment\n\nA=1\nexport B = two words \nC=\"quoted # not comment\"\n"
			   "D='single $x'\nE=value # trailing comment\nF=\nG=\"esc\\n\\\"q\\\"\"\r\n";
	struct dotenv env;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, strlen(text), &env, err), 0);
	assert_int_equal(env.n, 7);
	assert_string_equal(dotenv_find(&env, "A")->value, "1");
	assert_string_equal(dotenv_find(&env, "B")->value, "two words");
	assert_string_equal(dotenv_find(&env, "C")->value, "quoted # not comment");
	assert_string_equal(dotenv_find(&env, "D")->value, "single $x");
	assert_string_equal(dotenv_find(&env, "E")->value, "value");
	assert_string_equal(dotenv_find(&env, "F")->value, "");
	assert_string_equal(dotenv_find(&env, "G")->value, "esc\n\"q\"");
	assert_int_equal(dotenv_find(&env, "E")->line, 7);
	assert_null(dotenv_find(&env, "Z"));
	dotenv_free(&env);
}

static void expect_error(const char *text, size_t len, const char *needle)
{
	struct dotenv env;
	char err[256] = "";

	assert_int_equal(parse(text, len, &env, err), EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
	assert_null(env.v);
}

static void test_malformed_lines(void **state)
{
	(void)state;
	expect_error("A=1\nnot a pair\n", 16, "line 2: expected KEY=VALUE");
	expect_error("lower=1\n", 8, "line 1: invalid key name");
	expect_error("A=\"open\n", 8, "A: unterminated quoted value");
	expect_error("A=\"x\" y\n", 8, "A: unexpected text after the closing quote");
	expect_error("=1\n", 3, "line 1: invalid key name");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_error("A=1\nB=2\nA=3\n", 12, "line 3: A is set twice (first on line 1)");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "A=1\nB=x\0y\n";
	(void)state;
	expect_error(text, sizeof(text) - 1, "line 2: contains a NUL byte");
}

static void test_bad_utf8(void **state)
{
	(void)state;
	expect_error("A=caf\xc3\n", 7, "line 1: not valid UTF-8");
	expect_error("A=\xc0\xaf\n", 6, "not valid UTF-8"); /* overlong '/' */
	expect_error("A=\xed\xa0\x80\n", 7, "not valid UTF-8"); /* surrogate */
	expect_error("A=\xff\n", 4, "not valid UTF-8");
}

static void test_good_utf8(void **state)
{
	const char *text = "GREETING=Grüß Gott, 你好 👋\n";
	struct dotenv env;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, strlen(text), &env, err), 0);
	assert_string_equal(dotenv_find(&env, "GREETING")->value, "Grüß Gott, 你好 👋");
	dotenv_free(&env);
}

static void test_huge_line(void **state)
{
	size_t len = DOTENV_MAX_LINE + 10;
	char *text = malloc(len + 1);

	(void)state;
	memcpy(text, "A=", 2);
	memset(text + 2, 'x', len - 2);
	text[len] = '\0';
	expect_error(text, len, "line 1: line longer than 65536 bytes");
	/* Just under the limit is fine. */
	struct dotenv env;
	char err[256];
	text[DOTENV_MAX_LINE] = '\0';
	assert_int_equal(parse(text, DOTENV_MAX_LINE, &env, err), 0);
	assert_int_equal(strlen(dotenv_find(&env, "A")->value), DOTENV_MAX_LINE - 2);
	dotenv_free(&env);
	free(text);
}

static void test_bom_and_crlf(void **state)
{
	const char *text = "\xef\xbb\xbf" "A=1\r\nB=2\r\n";
	struct dotenv env;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, strlen(text), &env, err), 0);
	assert_string_equal(dotenv_find(&env, "A")->value, "1");
	assert_string_equal(dotenv_find(&env, "B")->value, "2");
	dotenv_free(&env);
}

static void test_missing_file(void **state)
{
	struct dotenv env;
	char err[256];

	(void)state;
	assert_int_equal(dotenv_load("/nonexistent/.env", &env, err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, "/nonexistent/.env"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_syntax),  cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_duplicate_key), cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_bad_utf8),      cmocka_unit_test(test_good_utf8),
		cmocka_unit_test(test_huge_line),     cmocka_unit_test(test_bom_and_crlf),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
