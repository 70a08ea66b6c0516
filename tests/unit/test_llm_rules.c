/* test_llm_rules.c - the rule-based dialogue: parsing, matching, slots, actions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "llm/rules.h"

static struct rules *builtin(void)
{
	struct rules *r = NULL;
	char err[256];
	assert_int_equal(rules_load(&r, "", "en", err, sizeof(err)), 0);
	return r;
}

static char *answer(const struct rules *r, const char *said, enum llm_action *act)
{
	/* 2026-12-04 15:05 UTC; TZ is forced to UTC in main(). */
	struct llm_ctx ctx = { .caller = "+49 301234", .now_ms = 1796396700000LL };
	char *reply = NULL;
	assert_int_equal(rules_answer(r, said, &ctx, &reply, act), 0);
	return reply;
}

static void test_builtin_rules(void **state)
{
	struct rules *r = builtin();
	enum llm_action act;
	char *s;

	(void)state;
	s = answer(r, "Hi, what time is it?", &act);
	assert_string_equal(s, "It is 3:05 PM.");
	assert_int_equal(act, LLM_ACT_NONE);
	free(s);
	s = answer(r, "WHAT'S THE DATE today", &act);
	assert_string_equal(s, "Today is Friday, December 4.");
	free(s);
	s = answer(r, "which number am I calling from", &act);
	assert_string_equal(s, "You are calling from plus 4 9 3 0 1 2 3 4.");
	free(s);
	s = answer(r, "okay goodbye", &act);
	assert_int_equal(act, LLM_ACT_HANGUP);
	free(s);
	s = answer(r, "can I talk to a real person please", &act);
	assert_int_equal(act, LLM_ACT_TRANSFER);
	free(s);
	/* Whole words only: "this" must not match "hi". */
	s = answer(r, "this is a weird sentence", &act);
	assert_non_null(strstr(s, "rule-based assistant"));
	assert_int_equal(act, LLM_ACT_NONE);
	free(s);
	s = answer(r, "", &act);
	assert_non_null(strstr(s, "rule-based"));
	free(s);
	rules_free(r);
}

static void count_phrase(const char *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
}

static void test_phrases_for_grammar(void **state)
{
	struct rules *r = builtin();
	int n = 0;

	(void)state;
	rules_phrases(r, count_phrase, &n);
	assert_true(n > 20);
	rules_free(r);
}

static void expect_parse_error(const char *text, const char *needle)
{
	struct rules *r = NULL;
	char err[256] = "";

	assert_int_equal(rules_parse(&r, text, strlen(text), err, sizeof(err)), EINVAL);
	assert_null(r);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("match: hi\n", "line 1: field before the first [rule]");
	expect_parse_error("[a]\nmatch: hi\n", "line 1: rule has no reply:");
	expect_parse_error("[a]\nreply: x\n[fallback]\nreply: y\n", "line 1: rule has no match:");
	expect_parse_error("[a]\nmatch: hi\nreply: x\n", "no [fallback] rule");
	expect_parse_error("[a]\nmatch: hi\nreply: x\naction: explode\n", "line 4: action:");
	expect_parse_error("[a]\nmatch: hi\nreply: x\nwhen: now\n", "line 4: unknown field");
	expect_parse_error("[a\n", "line 1: expected [rule name]");
	expect_parse_error("[a]\nmatch: hi | |\nreply: x\n", "line 2: empty phrase");
	expect_parse_error("[a]\nmatch: hi\nreply: x\n[a]\nmatch: yo\nreply: y\n", "line 4: rule name used twice");
	expect_parse_error("[fallback]\nmatch: x\nreply: y\n", "[fallback] takes no match");
	expect_parse_error("[fallback]\nreply: \xff\n", "UTF-8");
	expect_parse_error("[a]\nmatch: hi\nreply: x\ntool: bad!name\n", "line 4: tool: names use");
	expect_parse_error("[a]\nmatch: hi\nreply: x\ntool: t [1]\n", "line 4: tool: arguments must be a JSON object");
	expect_parse_error("[a]\nmatch: hi\nreply: x\ntool: t\ntool: u\n", "line 5: a rule has one tool:");
}

struct tool_list {
	const char **names;
	size_t *n;
};

static void collect_tool(const char *tool, void *arg)
{
	struct tool_list *l = arg;
	l->names[(*l->n)++] = tool;
}

/* A rule with tool: asks for the tool first, then answers with its result in {result}. */
static void test_tool_rules(void **state)
{
	const char *text = "[order]\nmatch: my order\ntool: lookup_order {\"id\": \"42\"}\n"
			   "reply: It is {result.status}, {result.n} item, paid {result.paid}; {result.none}!\n"
			   "[key]\nmatch: dtmf 1\ntool: send_dtmf {\"digits\":\"9\"}\nreply: Raw: {result}\n"
			   "[fallback]\nreply: What?\n";
	struct llm_ctx ctx = { .now_ms = 1796396700000LL };
	struct rules_answer a;
	struct rules *r = NULL;
	char err[256];
	const char *names[4] = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(rules_parse(&r, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(rules_respond(r, "where is my order", &ctx, NULL, &a), 0);
	assert_null(a.reply);
	assert_string_equal(a.tool, "lookup_order");
	assert_string_equal(a.tool_args, "{\"id\":\"42\"}");
	assert_int_equal(rules_respond(r, "where is my order", &ctx,
				       "{\"status\":\"shipped\",\"n\":1,\"paid\":true}", &a), 0);
	assert_null(a.tool);
	assert_string_equal(a.reply, "It is shipped, 1 item, paid yes; !");
	free(a.reply);
	assert_int_equal(rules_respond(r, "dtmf 1", &ctx, "ok: sent", &a), 0);
	assert_string_equal(a.reply, "Raw: ok: sent");
	free(a.reply);
	/* A rule that is not about a tool answers at once. */
	assert_int_equal(rules_respond(r, "hm", &ctx, NULL, &a), 0);
	assert_null(a.tool);
	assert_string_equal(a.reply, "What?");
	free(a.reply);
	rules_tools(r, collect_tool, &(struct tool_list){ names, &n });
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "lookup_order");
	assert_string_equal(names[1], "send_dtmf");
	rules_free(r);
}

/* LANGUAGE picks the built-in rules; unknown languages get English. */
static void test_builtin_languages(void **state)
{
	struct llm_ctx ctx = { .now_ms = 1796396700000LL };
	struct rules *r = NULL;
	enum llm_action act;
	char err[256], *s;
	bool known;

	(void)state;
	assert_ptr_equal(rules_builtin("de", &known), rules_builtin_de);
	assert_true(known);
	assert_ptr_equal(rules_builtin("de-AT", &known), rules_builtin_de);
	assert_ptr_equal(rules_builtin("es-MX", &known), rules_builtin_es);
	assert_ptr_equal(rules_builtin("EN-gb", &known), rules_builtin_en);
	assert_true(known);
	assert_ptr_equal(rules_builtin("fr", &known), rules_builtin_en);
	assert_false(known);
	assert_ptr_equal(rules_builtin("", &known), rules_builtin_en);

	assert_int_equal(rules_load(&r, "", "de-DE", err, sizeof(err)), 0);
	assert_int_equal(rules_answer(r, "Hallo!", &ctx, &s, &act), 0);
	assert_non_null(strstr(s, "Hallo!"));
	free(s);
	assert_int_equal(rules_answer(r, "Wie spät ist es?", &ctx, &s, &act), 0);
	assert_string_equal(s, "Es ist 15:05 Uhr.");
	free(s);
	assert_int_equal(rules_answer(r, "Ich möchte einen Mitarbeiter sprechen", &ctx, &s, &act), 0);
	assert_int_equal(act, LLM_ACT_TRANSFER);
	free(s);
	assert_int_equal(rules_answer(r, "ÖFFNUNGSZEITEN bitte", &ctx, &s, &act), 0);
	assert_non_null(strstr(s, "Öffnungszeiten"));
	free(s);
	assert_int_equal(rules_answer(r, "Danke, tschüss.", &ctx, &s, &act), 0);
	assert_int_equal(act, LLM_ACT_NONE); /* "danke" comes first in the file */
	free(s);
	assert_int_equal(rules_answer(r, "Auf Wiederhören", &ctx, &s, &act), 0);
	assert_int_equal(act, LLM_ACT_HANGUP);
	free(s);
	rules_free(r);

	assert_int_equal(rules_load(&r, "", "es", err, sizeof(err)), 0);
	assert_int_equal(rules_answer(r, "¿Qué hora es?", &ctx, &s, &act), 0);
	assert_string_equal(s, "Son las 15:05.");
	free(s);
	assert_int_equal(rules_answer(r, "¿A qué hora abren?", &ctx, &s, &act), 0);
	assert_non_null(strstr(s, "horario"));
	free(s);
	assert_int_equal(rules_answer(r, "Quiero hablar con un operador", &ctx, &s, &act), 0);
	assert_int_equal(act, LLM_ACT_TRANSFER);
	free(s);
	assert_int_equal(rules_answer(r, "dtmf 0", &ctx, &s, &act), 0);
	assert_int_equal(act, LLM_ACT_TRANSFER);
	free(s);
	assert_int_equal(rules_answer(r, "Adiós", &ctx, &s, &act), 0);
	assert_int_equal(act, LLM_ACT_HANGUP);
	assert_string_equal(s, "Adiós, y gracias por llamar.");
	free(s);
	assert_int_equal(rules_answer(r, "Buenos días", &ctx, &s, &act), 0);
	assert_string_equal(s, "¡Hola! Puede preguntarme la hora, pedir un operador o despedirse.");
	free(s);
	rules_free(r);

	/* Every built-in set has a transfer and a hangup rule and parses. */
	assert_int_equal(rules_load(&r, "", "fr", err, sizeof(err)), 0);
	assert_int_equal(rules_answer(r, "operator", &ctx, &s, &act), 0);
	assert_int_equal(act, LLM_ACT_TRANSFER);
	free(s);
	assert_int_equal(rules_answer(r, "what are your opening hours", &ctx, &s, &act), 0);
	assert_non_null(strstr(s, "opening hours"));
	free(s);
	rules_free(r);
}

static void test_custom_rules_and_order(void **state)
{
	const char *text = "# mine\n[open]\nmatch: opening hours | open\nreply: We open at nine.\n"
			   "[closed]\nmatch: open on sunday\nreply: Closed on Sundays.\n"
			   "[fallback]\nreply: Sorry {caller}?\n";
	struct rules *r = NULL;
	enum llm_action act;
	char err[256], *s;

	(void)state;
	assert_int_equal(rules_parse(&r, text, strlen(text), err, sizeof(err)), 0);
	/* The first matching rule in file order wins. */
	s = answer(r, "are you open on sunday", &act);
	assert_string_equal(s, "We open at nine.");
	free(s);
	s = answer(r, "xyz", &act);
	assert_string_equal(s, "Sorry plus 4 9 3 0 1 2 3 4?");
	free(s);
	rules_free(r);
}

/* [fallback] before other rules: it must survive the rule array growing. */
static void test_fallback_first(void **state)
{
	const char *text = "[fallback]\nreply: Fallback here.\n[a]\nmatch: alpha\nreply: A.\n"
			   "[b]\nmatch: beta\nreply: B.\n[c]\nmatch: gamma\nreply: C.\n"
			   "[d]\nmatch: delta\nreply: D.\n[e]\nmatch: eps\nreply: E.\n";
	struct rules *r = NULL;
	enum llm_action act;
	char err[256], *s;

	(void)state;
	assert_int_equal(rules_parse(&r, text, strlen(text), err, sizeof(err)), 0);
	s = answer(r, "nothing matches", &act);
	assert_string_equal(s, "Fallback here.");
	free(s);
	rules_free(r);
}

static void test_missing_file(void **state)
{
	struct rules *r = NULL;
	char err[256];

	(void)state;
	assert_int_equal(rules_load(&r, "/nonexistent.rules", "en", err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, "/nonexistent.rules"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_rules),
		cmocka_unit_test(test_phrases_for_grammar),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_custom_rules_and_order),
		cmocka_unit_test(test_fallback_first),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_tool_rules),
		cmocka_unit_test(test_builtin_languages),
	};
	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
