/* test_tools.c - TOOLS_FILE validation, the webhook guards (allowlist, IP literals,
 * redirects, size cap, timeout, cancel), argument encoding, and dialogue_chat() running
 * tools between LLM requests (fake OpenAI/Ollama server and fake webhook, both local). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "llm/llm.h"
#include "pipeline/dialogue.h"
#include "tools/tools.h"
#include "tools/webhook.h"

#include "mock_server.h"


static char dir[] = "/tmp/callbot-tools-XXXXXX";
static struct mock_server hook, llm_srv;


static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	if (mock_server_start(&hook, dir, "fake_webhook.py", "hook"))
		return -1;
	return mock_server_start(&llm_srv, dir, "fake_tool_llm.py", "llm");
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	mock_server_stop(&hook);
	mock_server_stop(&llm_srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
	char *buf = NULL;

	if (file_read_all(path, 4 << 20, &buf, NULL))
		return strdup("");
	return buf;
}

static void truncate_file(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
}

/* --- TOOLS_FILE validation --- */

static void expect_error(const char *json, const char *needle)
{
	struct tools *t = NULL;
	char err[400] = "";

	assert_int_equal(tools_parse(&t, json, strlen(json), "tools.json", err, sizeof(err)),
			 EINVAL);
	assert_null(t);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

#define TOOL(extra) \
	"{\"allowed_hosts\":[\"127.0.0.1\"],\"tools\":[{\"name\":\"lookup\",\"description\":\"d\"," \
	"\"parameters\":{\"type\":\"object\"},\"url\":\"http://127.0.0.1:1/x\"" extra "}]}"

static void test_file_errors(void **state)
{
	(void)state;
	expect_error("{", "tools.json: line 1: not valid JSON");
	expect_error("42", "tools.json: top level:");
	expect_error("{\"tool\":[]}", "tools.json: tool: unknown field");
	expect_error("{\"tools\":{}}", "tools.json: tools: missing");
	expect_error(TOOL(",\"method\":\"PUT\""), "tool \"lookup\": method: must be \"GET\" or \"POST\"");
	expect_error(TOOL(",\"timeout_ms\":0"), "tool \"lookup\": timeout_ms: must be a whole number");
	expect_error(TOOL(",\"colour\":1"), "tool \"lookup\": colour: unknown field");
	expect_error(TOOL(",\"allowed_hosts\":[\"a b\"]"), "allowed_hosts: \"a b\" is not a host");
	expect_error(TOOL(",\"allowed_hosts\":[\"127.1\"]"), "is not a host name or IP address");
	expect_error(TOOL(",\"headers\":{\"X-A\":\"1\\r\\nHost: evil\"}"), "tool \"lookup\": headers:");
	expect_error("{\"allowed_hosts\":[\"h\"],\"tools\":[{\"name\":\"transfer\"}]}",
		     "name: \"transfer\" is a built-in tool");
	expect_error("{\"allowed_hosts\":[\"h\"],\"tools\":[{\"name\":\"a\",\"description\":\"d\","
		     "\"parameters\":{\"type\":\"string\"},\"url\":\"http://h/\"}]}",
		     "tool \"a\": parameters: must be a JSON schema");
	expect_error("{\"allowed_hosts\":[\"h\"],\"tools\":[{\"name\":\"a\",\"description\":\"d\","
		     "\"parameters\":{\"type\":\"object\"},\"url\":\"file:///etc/passwd\"}]}",
		     "tool \"a\": url: must start with http:// or https://");
	expect_error("{\"tools\":[{\"name\":\"a\",\"description\":\"d\","
		     "\"parameters\":{\"type\":\"object\"},\"url\":\"http://h/\"}]}",
		     "tool \"a\": allowed_hosts: none here and none at file level");
	expect_error("{\"allowed_hosts\":[\"h\"],\"tools\":[{\"name\":\"a\",\"description\":\"d\","
		     "\"parameters\":{\"type\":\"object\"},\"url\":\"http://h/\"},{\"name\":\"a\","
		     "\"description\":\"d\",\"parameters\":{\"type\":\"object\"},\"url\":\"http://h/\"}]}",
		     "tool \"a\": name: used by two tools");
	expect_error("[{\"name\":\"a\",\"description\":\"\"}]", "tool \"a\": description:");
}

static void test_file_ok_and_definitions(void **state)
{
	struct tools *t = NULL;
	char err[300] = "";
	const char *js = TOOL(",\"method\":\"GET\",\"timeout_ms\":800");

	(void)state;
	assert_int_equal(tools_parse(&t, js, strlen(js), "tools.json", err, sizeof(err)), 0);
	assert_int_equal(tools_count(t), 1);
	assert_true(tools_has(t, "lookup"));
	assert_true(tools_has(t, "transfer"));
	assert_false(tools_has(t, "other"));
	assert_non_null(strstr(tools_json(t), "\"name\":\"lookup\""));
	assert_non_null(strstr(tools_json(t), "\"name\":\"send_dtmf\""));
	/* Without a file: the built-ins only, for every backend. */
	assert_non_null(strstr(tools_json(NULL), "\"name\":\"hangup\""));
	assert_null(strstr(tools_json(NULL), "lookup"));
	tools_free(t);
	assert_int_equal(tools_load(&t, "", err, sizeof(err)), 0);
	assert_int_equal(tools_count(t), 0);
	tools_free(t);
	assert_int_equal(tools_load(&t, "/nonexistent/tools.json", err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, "/nonexistent/tools.json"));
}

/* --- the guards --- */

static int check(const char *url, const char *const *allowed, size_t n, char *why)
{
	struct webhook_target t;

	return webhook_check(url, allowed, n, &t, why, 200);
}

static void test_allowlist(void **state)
{
	const char *const allowed[] = { "127.0.0.1", "localhost", "*.example.test", "::1" };
	struct webhook_target t;
	char why[200];

	(void)state;
	assert_int_equal(webhook_check("http://127.0.0.1:8080/x", allowed, 4, &t, why, 200), 0);
	assert_string_equal(t.addr, "127.0.0.1");
	assert_int_equal(t.port, 8080);
	assert_int_equal(webhook_check("https://LOCALHOST./x", allowed, 4, &t, why, 200), 0);
	assert_int_equal(t.port, 443);
	assert_true(!strcmp(t.addr, "127.0.0.1") || !strcmp(t.addr, "::1"));
	assert_int_equal(check("http://[::1]:9/x", allowed, 4, why), 0);
	/* Not listed, other schemes, and IPv4 spelt in ways inet_pton refuses. */
	assert_int_equal(check("http://127.0.0.2/x", allowed, 4, why), EACCES);
	assert_non_null(strstr(why, "127.0.0.2 is not in allowed_hosts"));
	assert_int_equal(check("http://evil.test/x", allowed, 4, why), EACCES);
	assert_non_null(strstr(why, "evil.test is not in allowed_hosts"));
	assert_int_equal(check("ftp://127.0.0.1/x", allowed, 4, why), EACCES);
	assert_int_equal(check("file:///etc/passwd", allowed, 4, why), EACCES);
	/* Other spellings of an address are checked as the address curl will connect to. */
	assert_int_equal(webhook_check("http://2130706433/x", allowed, 4, &t, why, 200), 0);
	assert_string_equal(t.addr, "127.0.0.1");
	assert_int_equal(check("http://0x7f000002/x", allowed, 4, why), EACCES);
	assert_non_null(strstr(why, "127.0.0.2 is not in allowed_hosts"));
	assert_int_equal(check("http://127.2/x", allowed, 4, why), EACCES);
	assert_int_equal(check("http://169.254.169.254/latest/meta-data", allowed, 4, why), EACCES);
	assert_int_equal(check("http://[::ffff:127.0.0.1]/x", allowed, 4, why), EACCES);
	/* userinfo does not change the host that is checked */
	assert_int_equal(check("http://127.0.0.1@evil.test/x", allowed, 4, why), EACCES);
	/* wildcards: subdomains only */
	assert_int_equal(check("http://example.test/x", allowed, 4, why), EACCES);
	assert_int_equal(check("http://badexample.test/x", allowed, 4, why), EACCES);
	assert_int_equal(check("http://a.example.test/x", allowed, 4, why), EHOSTUNREACH);
}

static void test_query_encoding(void **state)
{
	char *u;

	(void)state;
	u = webhook_query_url("http://h/p", "{\"id\":\"4 2&x=1\",\"n\":7,\"ok\":true,\"l\":[1,2]}");
	assert_string_equal(u, "http://h/p?id=4%202%26x%3D1&n=7&ok=true&l=%5B1%2C2%5D");
	free(u);
	u = webhook_query_url("http://h/p?k=v#frag", "{\"a\":\"\\u00e9\"}");
	assert_string_equal(u, "http://h/p?k=v&a=%C3%A9");
	free(u);
	assert_null(webhook_query_url("http://h/p", "[1]"));
}

/* --- calling webhooks --- */

static struct tools *hook_tools(const char *extra_tool)
{
	struct tools *t = NULL;
	char js[3000], err[300];

	snprintf(js, sizeof(js),
		 "{\"allowed_hosts\":[\"127.0.0.1\"],\"transfer_targets\":[\"sip:sales@pbx.test\"],"
		 "\"tools\":["
		 "{\"name\":\"lookup_order\",\"description\":\"Find an order\",\"parameters\":"
		 "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"}},"
		 "\"required\":[\"id\"]},\"url\":\"http://127.0.0.1:%d/order\","
		 "\"headers\":{\"X-Api-Key\":\"k1\"}},"
		 "{\"name\":\"get_order\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
		 "\"method\":\"GET\",\"url\":\"http://127.0.0.1:%d/order\"},"
		 "{\"name\":\"hop\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
		 "\"url\":\"http://127.0.0.1:%d/redirect\"},"
		 "{\"name\":\"big\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
		 "\"url\":\"http://127.0.0.1:%d/big\",\"max_response_bytes\":1000},"
		 "{\"name\":\"slow\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
		 "\"url\":\"http://127.0.0.1:%d/slow\",\"timeout_ms\":400},"
		 "{\"name\":\"fail\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
		 "\"url\":\"http://127.0.0.1:%d/fail\"},"
		 "{\"name\":\"binary\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
		 "\"url\":\"http://127.0.0.1:%d/binary\"},"
		 "{\"name\":\"evil_lookup\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
		 "\"url\":\"http://localhost:%d/order\"}%s]}",
		 hook.port, hook.port, hook.port, hook.port, hook.port, hook.port, hook.port,
		 hook.port, extra_tool);
	assert_int_equal(tools_parse(&t, js, strlen(js), "tools.json", err, sizeof(err)), 0);
	return t;
}

static void test_webhook_calls(void **state)
{
	struct tools *t = hook_tools("");
	volatile bool cancel = false;
	char *res, *log;
	int64_t t0;

	(void)state;
	truncate_file(hook.log);
	assert_int_equal(tools_call(t, "lookup_order", "{\"id\":\"42\"}", NULL, &res), 0);
	assert_string_equal(res, "{\"status\": \"shipped\", \"id\": \"42\"}");
	free(res);
	assert_int_equal(tools_call(t, "get_order", "{\"id\":\"7 & 8\"}", NULL, &res), 0);
	assert_non_null(strstr(res, "\"7 & 8\""));
	free(res);
	log = slurp(hook.log);
	assert_non_null(strstr(log, "\"method\": \"POST\", \"path\": \"/order\", \"query\": {}, "
				    "\"body\": {\"id\": \"42\"}"));
	assert_non_null(strstr(log, "\"X-Api-Key\": \"k1\""));
	assert_non_null(strstr(log, "\"method\": \"GET\", \"path\": \"/order\", \"query\": "
				    "{\"id\": \"7 & 8\"}, \"body\": null"));
	free(log);

	/* Refused before any request: host not listed (localhost is not 127.0.0.1 here). */
	truncate_file(hook.log);
	assert_int_equal(tools_call(t, "evil_lookup", "{}", NULL, &res), EACCES);
	assert_string_equal(res, "error: refused: host localhost is not in allowed_hosts");
	free(res);
	/* Bad arguments: not sent either. */
	assert_int_equal(tools_call(t, "lookup_order", "{}", NULL, &res), EINVAL);
	assert_string_equal(res, "error: argument \"id\" is required");
	free(res);
	assert_int_equal(tools_call(t, "lookup_order", "{\"id\":42}", NULL, &res), EINVAL);
	free(res);
	assert_int_equal(tools_call(t, "lookup_order", "not json", NULL, &res), EINVAL);
	free(res);
	assert_int_equal(tools_call(t, "nope", "{}", NULL, &res), ENOENT);
	free(res);
	log = slurp(hook.log);
	assert_string_equal(log, "");
	free(log);

	/* A redirect is not followed: /order is never asked for. */
	assert_int_equal(tools_call(t, "hop", "{}", NULL, &res), EPROTO);
	assert_non_null(strstr(res, "302 redirect not followed"));
	free(res);
	log = slurp(hook.log);
	assert_non_null(strstr(log, "/redirect"));
	assert_null(strstr(log, "/order"));
	free(log);
	assert_int_equal(tools_call(t, "big", "{}", NULL, &res), EPROTO);
	assert_non_null(strstr(res, "larger than 1000 bytes"));
	free(res);
	assert_int_equal(tools_call(t, "fail", "{}", NULL, &res), EPROTO);
	assert_string_equal(res, "error: HTTP 500");
	free(res);
	assert_int_equal(tools_call(t, "binary", "{}", NULL, &res), EPROTO);
	free(res);
	t0 = time_mono_ms();
	assert_int_equal(tools_call(t, "slow", "{}", NULL, &res), ETIMEDOUT);
	free(res);
	assert_true(time_mono_ms() - t0 < 8000);
	/* Barge-in ends a tool wait too. */
	cancel = true;
	assert_int_equal(tools_call(t, "slow", "{}", &cancel, &res), ECANCELED);
	assert_string_equal(res, "error: cancelled");
	free(res);
	tools_free(t);
}

/* --- dialogue_chat: LLM -> tools -> LLM --- */

struct heard {
	char text[2000];
	char turns[4000];
	char dtmf[40];
};

static bool on_text(const char *text, size_t len, void *arg)
{
	struct heard *h = arg;
	strncat(h->text, text, len < sizeof(h->text) - strlen(h->text) - 1 ?
		len : sizeof(h->text) - strlen(h->text) - 1);
	return true;
}

static void on_turn(void *arg, const char *text)
{
	struct heard *h = arg;
	strncat(h->turns, text, sizeof(h->turns) - strlen(h->turns) - 2);
	strcat(h->turns, "\n");
}

static void on_dtmf(void *arg, const char *digits)
{
	struct heard *h = arg;
	snprintf(h->dtmf, sizeof(h->dtmf), "%s", digits);
}

static struct llm *make_llm(enum llm_backend be)
{
	static char url[128];
	struct llm *llm = NULL;
	struct conf c;
	char err[256];

	memset(&c, 0, sizeof(c));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", llm_srv.port, be == LLM_OPENAI ? "/v1" : "");
	c.llm_backend = be;
	c.ollama_url = url;
	c.ollama_model = "tiny";
	c.openai_base_url = url;
	c.openai_model = "gpt-test";
	c.openai_api_key = "";
	c.rules_file = "";
	c.language = "en";
	c.llm_timeout_ms = 5000;
	assert_int_equal(llm_alloc(&llm, &c, err, sizeof(err)), 0);
	return llm;
}

static int talk(struct llm *llm, struct tools *t, const char *calls, struct heard *h,
		struct llm_reply *r)
{
	char sys[1000];
	struct llm_msg msgs[] = { { LLM_SYSTEM, sys }, { LLM_USER, "where is my order" } };
	struct llm_ctx ctx = { .caller = "100" };
	struct dialogue_hooks hooks = { on_turn, on_dtmf, h };

	memset(h, 0, sizeof(*h));
	snprintf(sys, sizeof(sys), "FAKE_TOOL_CALLS=%s", calls);
	return dialogue_chat(llm, t, msgs, 2, &ctx, on_text, h, r, &hooks);
}

static void dialogue_with(enum llm_backend be)
{
	struct tools *t = hook_tools("");
	struct llm *llm = make_llm(be);
	struct llm_reply r;
	struct heard h;
	char *log;

	truncate_file(llm_srv.log);
	truncate_file(hook.log);
	/* Two calls in one round: one runs, one is refused; both results go back. */
	assert_int_equal(talk(llm, t, "[{\"name\":\"lookup_order\",\"arguments\":{\"id\":\"42\"}},"
				      "{\"name\":\"evil_lookup\",\"arguments\":{\"id\":\"7\"}}]", &h, &r), 0);
	assert_string_equal(r.text, "Tool lookup_order says status shipped, id 42. Tool evil_lookup "
				    "says error: refused: host localhost is not in allowed_hosts.");
	assert_string_equal(h.text, r.text);
	assert_int_equal(r.action, LLM_ACT_NONE);
	/* The arguments as the model wrote them (OpenAI: a string; Ollama: an object). */
	assert_string_equal(h.turns, be == LLM_OPENAI ?
			    "lookup_order({\"id\": \"42\"}) -> {\"status\": \"shipped\", \"id\": \"42\"}\n"
			    "evil_lookup({\"id\": \"7\"}) -> error: refused: host localhost is not in "
			    "allowed_hosts\n" :
			    "lookup_order({\"id\":\"42\"}) -> {\"status\": \"shipped\", \"id\": \"42\"}\n"
			    "evil_lookup({\"id\":\"7\"}) -> error: refused: host localhost is not in "
			    "allowed_hosts\n");
	llm_reply_clear(&r);
	log = slurp(llm_srv.log);
	/* First request offers the tools; the second carries the calls and their results. */
	assert_non_null(strstr(log, "\"name\": \"lookup_order\", \"description\": \"Find an order\""));
	if (be == LLM_OPENAI) {
		assert_non_null(strstr(log, "\"tool_choice\": \"auto\""));
		assert_non_null(strstr(log, "{\"role\": \"tool\", \"content\": \"{\\\"status\\\": "
					    "\\\"shipped\\\", \\\"id\\\": \\\"42\\\"}\", \"tool_call_id\": "
					    "\"call_1\"}"));
		assert_non_null(strstr(log, "\"arguments\": \"{\\\"id\\\": \\\"42\\\"}\""));
	} else {
		assert_non_null(strstr(log, "\"tool_name\": \"lookup_order\""));
		assert_non_null(strstr(log, "\"arguments\": {\"id\": \"42\"}"));
	}
	free(log);
	log = slurp(hook.log);
	assert_non_null(strstr(log, "\"body\": {\"id\": \"42\"}"));
	assert_null(strstr(log, "\"id\": \"7\""));
	free(log);

	/* Built-ins: transfer to a listed target, send_dtmf, hangup. */
	assert_int_equal(talk(llm, t, "[{\"name\":\"transfer\",\"arguments\":{\"target\":"
				      "\"sip:sales@pbx.test\"}}]", &h, &r), 0);
	assert_int_equal(r.action, LLM_ACT_TRANSFER);
	assert_string_equal(r.target, "sip:sales@pbx.test");
	llm_reply_clear(&r);
	assert_int_equal(talk(llm, t, "[{\"name\":\"transfer\",\"arguments\":{\"target\":"
				      "\"+19005551234\"}}]", &h, &r), 0);
	assert_int_equal(r.action, LLM_ACT_NONE);
	assert_non_null(strstr(h.turns, "+19005551234\"}) -> error: refused"));
	llm_reply_clear(&r);
	assert_int_equal(talk(llm, t, "[{\"name\":\"send_dtmf\",\"arguments\":{\"digits\":\"12#\"}},"
				      "{\"name\":\"hangup\",\"arguments\":{}}]", &h, &r), 0);
	assert_string_equal(h.dtmf, "12#");
	assert_int_equal(r.action, LLM_ACT_HANGUP);
	assert_non_null(strstr(h.turns, "\"12#\"}) -> ok: sent\n"));
	llm_reply_clear(&r);
	assert_int_equal(talk(llm, t, "[{\"name\":\"send_dtmf\",\"arguments\":{\"digits\":\"1;rm\"}}]",
			      &h, &r), 0);
	assert_string_equal(h.dtmf, "");
	llm_reply_clear(&r);
	llm_free(llm);
	tools_free(t);
}

static void test_dialogue_openai(void **state) { (void)state; dialogue_with(LLM_OPENAI); }
static void test_dialogue_ollama(void **state) { (void)state; dialogue_with(LLM_OLLAMA); }

/* A rule's tool: runs the webhook, and the reply reads its result. */
static void test_dialogue_rules_tool(void **state)
{
	struct tools *t = hook_tools("");
	struct llm *llm;
	struct llm_reply r;
	struct heard h;
	struct conf c;
	char err[256], path[400];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/t.rules", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[order]\nmatch: my order\ntool: lookup_order {\"id\": \"42\"}\n"
	      "reply: Your order is {result.status}.\n[fallback]\nreply: What?\n", f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	c.llm_backend = LLM_RULES;
	c.rules_file = path;
	c.language = "en";
	assert_int_equal(llm_alloc(&llm, &c, err, sizeof(err)), 0);
	assert_int_equal(talk(llm, t, "[]", &h, &r), 0);
	assert_string_equal(r.text, "Your order is shipped.");
	assert_string_equal(h.turns,
			    "lookup_order({\"id\":\"42\"}) -> {\"status\": \"shipped\", \"id\": \"42\"}\n");
	llm_reply_clear(&r);
	llm_free(llm);
	tools_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_ok_and_definitions),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_query_encoding),
		cmocka_unit_test(test_webhook_calls),
		cmocka_unit_test(test_dialogue_openai),
		cmocka_unit_test(test_dialogue_ollama),
		cmocka_unit_test(test_dialogue_rules_tool),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
