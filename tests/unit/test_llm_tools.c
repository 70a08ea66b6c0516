/* test_llm_tools.c - tool calls in the streamed answers of the OpenAI-compatible (SSE,
 * arguments split over several events) and Ollama (NDJSON, arguments as an object)
 * backends, against tests/mock/fake_tool_llm.py. */
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
#include "mock_server.h"
#include "llm/llm.h"

static struct mock_server srv;

static char dir[] = "/tmp/callbot-llmtools-XXXXXX";
static int port;
static char logpath[300];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir) || mock_server_start(&srv, dir, "fake_tool_llm.py", "llm"))
		return -1;
	port = srv.port;
	snprintf(logpath, sizeof(logpath), "%s", srv.log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mock_server_stop(&srv);
	rmdir(dir);
	return 0;
}

static bool on_text(const char *text, size_t len, void *arg)
{
	strncat(arg, text, len);
	return true;
}

static struct llm *make(enum llm_backend be)
{
	static char url[128];
	struct llm *llm = NULL;
	struct conf c;
	char err[256];

	memset(&c, 0, sizeof(c));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, be == LLM_OPENAI ? "/v1" : "");
	c.llm_backend = be;
	c.ollama_url = url;
	c.ollama_model = "tiny";
	c.openai_base_url = url;
	c.openai_model = "gpt-test";
	c.openai_api_key = "";
	c.llm_timeout_ms = 5000;
	assert_int_equal(llm_alloc(&llm, &c, err, sizeof(err)), 0);
	return llm;
}

#define TOOLS "[{\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"parameters\":" \
	      "{\"type\":\"object\"}}}]"
#define CALLS "FAKE_TOOL_CALLS=[{\"name\":\"lookup\",\"arguments\":{\"id\":\"42\",\"note\":" \
	      "\"a longer text, split over many events\"}},{\"name\":\"hangup\"}]"

static void calls_parsed(enum llm_backend be)
{
	struct llm_msg msgs[] = { { LLM_SYSTEM, CALLS }, { LLM_USER, "hi" } };
	struct llm_ctx ctx = { .tools_json = TOOLS };
	struct llm *llm = make(be);
	struct llm_reply r;
	char heard[400] = "";

	assert_int_equal(llm_chat(llm, msgs, 2, &ctx, on_text, heard, &r), 0);
	assert_int_equal(r.ncalls, 2);
	assert_string_equal(r.calls[0].name, "lookup");
	assert_string_equal(r.calls[1].name, "hangup");
	if (be == LLM_OPENAI) {
		/* Reassembled from 3-character pieces, ids as the server gave them. */
		assert_string_equal(r.calls[0].args, "{\"id\": \"42\", \"note\": \"a longer text, "
						     "split over many events\"}");
		assert_string_equal(r.calls[0].id, "call_1");
		assert_string_equal(r.calls[1].args, "{}");
	} else {
		assert_string_equal(r.calls[0].args, "{\"id\":\"42\",\"note\":\"a longer text, "
						     "split over many events\"}");
		/* Ollama has no ids: made up, distinct. */
		assert_string_equal(r.calls[0].id, "call_1");
		assert_string_equal(r.calls[1].id, "call_2");
	}
	assert_string_equal(heard, "");
	llm_reply_clear(&r);

	/* Without tools on offer the request has none, and the answer is words. */
	ctx.tools_json = NULL;
	assert_int_equal(llm_chat(llm, msgs, 2, &ctx, on_text, heard, &r), 0);
	assert_int_equal(r.ncalls, 0);
	assert_string_equal(heard, "No tools today.");
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_openai_tool_calls(void **state) { (void)state; calls_parsed(LLM_OPENAI); }
static void test_ollama_tool_calls(void **state) { (void)state; calls_parsed(LLM_OLLAMA); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openai_tool_calls),
		cmocka_unit_test(test_ollama_tool_calls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
