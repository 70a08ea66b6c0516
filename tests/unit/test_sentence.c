/* test_sentence.c - streamed text cut into sentences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "pipeline/sentence.h"

struct got {
	char s[8][512];
	int n;
};

static void collect(const char *s, size_t len, void *arg)
{
	struct got *g = arg;
	assert_true(g->n < 8);
	memcpy(g->s[g->n], s, len);
	g->s[g->n][len] = '\0';
	g->n++;
}

static void feed_tokens(struct sentencer *s, const char *text)
{
	/* Three bytes at a time, like a streaming model. */
	for (size_t i = 0, n = strlen(text); i < n; i += 3)
		sentencer_feed(s, text + i, n - i < 3 ? n - i : 3);
}

static void test_sentences(void **state)
{
	struct sentencer s;
	struct got g = { .n = 0 };

	(void)state;
	sentencer_init(&s, collect, &g);
	feed_tokens(&s, "Hello there! Dr. Smith costs 3.50 euros. Is that ok? Fine");
	assert_int_equal(g.n, 3);
	assert_string_equal(g.s[0], "Hello there!");
	assert_string_equal(g.s[1], "Dr. Smith costs 3.50 euros.");
	assert_string_equal(g.s[2], "Is that ok?");
	sentencer_flush(&s);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.s[3], "Fine");
}

static void test_long_run_is_cut(void **state)
{
	struct sentencer s;
	struct got g = { .n = 0 };
	char text[900];

	(void)state;
	memset(text, 0, sizeof(text));
	for (int i = 0; i < 120; i++)
		strcat(text, i == 60 ? "word, " : "word ");
	sentencer_init(&s, collect, &g);
	feed_tokens(&s, text);
	assert_true(g.n >= 1);
	assert_true(strlen(g.s[0]) <= SENTENCE_MAX);
	sentencer_flush(&s);
	size_t total = 0;
	for (int i = 0; i < g.n; i++)
		total += strlen(g.s[i]) + 1;
	assert_true(total >= strlen(text) - 2);
}

static void test_whitespace_only(void **state)
{
	struct sentencer s;
	struct got g = { .n = 0 };

	(void)state;
	sentencer_init(&s, collect, &g);
	sentencer_feed(&s, "   \n  ", 6);
	sentencer_flush(&s);
	assert_int_equal(g.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sentences),
		cmocka_unit_test(test_long_run_is_cut),
		cmocka_unit_test(test_whitespace_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
