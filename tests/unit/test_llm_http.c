/* test_llm_http.c - Ollama and OpenAI-compatible streaming against a fake server:
 * incremental delivery, history, timeouts, retries, broken answers, cancel. */
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
#include "pipeline/sentence.h"

static struct mock_server srv;

static int port;
static char dir[] = "/tmp/callbot-llm-XXXXXX";
static char logpath[300];

static int start_server(void **state)
{
	(void)state;
	if (!mkdtemp(dir) || mock_server_start(&srv, dir, "fake_llm_server.py", "llm"))
		return -1;
	port = srv.port;
	snprintf(logpath, sizeof(logpath), "%s", srv.log);
	return 0;
}

static int stop_server(void **state)
{
	(void)state;
	mock_server_stop(&srv);
	rmdir(dir);
	return 0;
}

struct sink {
	int pieces;
	int64_t first_ms, last_ms, first_sentence_ms;
	int stop_after; /* cancel after this many pieces; 0 = never */
	struct sentencer sent;
	int sentences;
};

static void on_sentence(const char *s, size_t len, void *arg)
{
	struct sink *k = arg;
	(void)s;
	(void)len;
	if (!k->sentences++)
		k->first_sentence_ms = time_mono_ms();
}

static bool on_text(const char *text, size_t len, void *arg)
{
	struct sink *k = arg;

	k->last_ms = time_mono_ms();
	if (!k->pieces++)
		k->first_ms = k->last_ms;
	sentencer_feed(&k->sent, text, len);
	return !(k->stop_after && k->pieces >= k->stop_after);
}

static struct llm *make(enum llm_backend be, int timeout_ms, int use_port)
{
	static char url[128];
	struct conf c;
	struct llm *llm = NULL;
	char err[256];

	memset(&c, 0, sizeof(c));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", use_port, be == LLM_OPENAI ? "/v1" : "");
	c.llm_backend = be;
	c.ollama_url = url;
	c.ollama_model = "tiny";
	c.openai_base_url = url;
	c.openai_model = "gpt-test";
	c.openai_api_key = "sk-test-key";
	c.rules_file = "";
	c.llm_timeout_ms = timeout_ms;
	assert_int_equal(llm_alloc(&llm, &c, err, sizeof(err)), 0);
	return llm;
}

static int chat(struct llm *llm, const char *said, struct sink *k, struct llm_reply *r)
{
	struct llm_msg msgs[] = {
		{ LLM_SYSTEM, "You are a test." },
		{ LLM_USER, "first question" },
		{ LLM_ASSISTANT, "first answer" },
		{ LLM_USER, said },
	};
	sentencer_init(&k->sent, on_sentence, k);
	int rc = llm_chat(llm, msgs, 4, NULL, on_text, k, r);
	sentencer_flush(&k->sent);
	return rc;
}

static void test_streams_incrementally(enum llm_backend be)
{
	struct llm *llm = make(be, 2000, port);
	struct sink k = { 0 };
	struct llm_reply r;
	int64_t t0 = time_mono_ms();

	assert_int_equal(chat(llm, "mode:slow hello", &k, &r), 0);
	assert_string_equal(r.text, "You said: mode:slow hello. Second sentence here.");
	assert_true(k.pieces >= 6);
	/* Text arrived while the server was still writing: ~150 ms between words. */
	assert_true(k.last_ms - k.first_ms >= 500);
	assert_true(k.first_ms - t0 < 1000);
	/* The first sentence was ready well before the last word. */
	assert_int_equal(k.sentences, 2);
	assert_true(k.last_ms - k.first_sentence_ms >= 300);
	assert_int_equal(r.attempts, 1);
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_ollama_streaming(void **state) { (void)state; test_streams_incrementally(LLM_OLLAMA); }
static void test_openai_streaming(void **state) { (void)state; test_streams_incrementally(LLM_OPENAI); }

static void test_history_and_auth_sent(void **state)
{
	struct llm *llm = make(LLM_OPENAI, 2000, port);
	struct sink k = { 0 };
	struct llm_reply r;
	char *log;

	(void)state;
	assert_int_equal(chat(llm, "history check", &k, &r), 0);
	llm_reply_clear(&r);
	llm_free(llm);
	assert_int_equal(file_read_all(logpath, 1 << 20, &log, NULL), 0);
	char *last = strstr(log, "history check");
	assert_non_null(last);
	assert_non_null(strstr(log, "\"path\": \"/v1/chat/completions\""));
	assert_non_null(strstr(log, "\"auth\": \"Bearer sk-test-key\""));
	assert_non_null(strstr(log, "{\"role\": \"system\", \"content\": \"You are a test.\"}, "
				    "{\"role\": \"user\", \"content\": \"first question\"}, "
				    "{\"role\": \"assistant\", \"content\": \"first answer\"}"));
	assert_non_null(strstr(log, "\"stream\": true"));
	assert_non_null(strstr(log, "\"model\": \"gpt-test\""));
	free(log);
}

static void test_http_500_retried_then_fails(void **state)
{
	struct llm *llm = make(LLM_OLLAMA, 2000, port);
	struct sink k = { 0 };
	struct llm_reply r;

	(void)state;
	assert_int_equal(chat(llm, "mode:500", &k, &r), EPROTO);
	assert_int_equal(r.attempts, 2);
	assert_non_null(strstr(r.why, "HTTP 500"));
	assert_int_equal(k.pieces, 0);
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_flaky_recovers_on_retry(void **state)
{
	struct llm *llm = make(LLM_OLLAMA, 2000, port);
	struct sink k = { 0 };
	struct llm_reply r;

	(void)state;
	assert_int_equal(chat(llm, "mode:flaky one", &k, &r), 0);
	assert_int_equal(r.attempts, 2);
	assert_non_null(strstr(r.text, "Second sentence"));
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_garbage(void **state)
{
	for (int be = LLM_OLLAMA; be <= LLM_OPENAI; be++) {
		struct llm *llm = make(be, 2000, port);
		struct sink k = { 0 };
		struct llm_reply r;

		(void)state;
		assert_int_equal(chat(llm, "mode:garbage", &k, &r), be == LLM_OLLAMA ? EPROTO : EPROTO);
		/* OpenAI ignores non-"data:" lines, so it fails as an empty/unfinished answer. */
		assert_true(strstr(r.why, "not JSON") || strstr(r.why, "before it was complete"));
		llm_reply_clear(&r);
		llm_free(llm);
	}
}

static void test_timeout(void **state)
{
	struct llm *llm = make(LLM_OLLAMA, 300, port);
	struct sink k = { 0 };
	struct llm_reply r;
	int64_t t0 = time_mono_ms();

	(void)state;
	assert_int_equal(chat(llm, "mode:hang", &k, &r), ETIMEDOUT);
	int64_t took = time_mono_ms() - t0;
	assert_true(took >= 550);  /* two attempts of 300 ms */
	assert_true(took < 3000);
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_cut_stream_not_retried(void **state)
{
	struct llm *llm = make(LLM_OPENAI, 2000, port);
	struct sink k = { 0 };
	struct llm_reply r;

	(void)state;
	assert_int_equal(chat(llm, "mode:cut", &k, &r), EPROTO);
	assert_int_equal(r.attempts, 1); /* text was already out: no second copy */
	assert_non_null(strstr(r.why, "before it was complete"));
	assert_string_equal(r.text, "You said:");
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_connection_refused(void **state)
{
	struct llm *llm = make(LLM_OLLAMA, 1000, 1);
	struct sink k = { 0 };
	struct llm_reply r;

	(void)state;
	assert_int_equal(chat(llm, "hello", &k, &r), ECONNREFUSED);
	assert_int_equal(r.attempts, 2);
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_cancel(void **state)
{
	struct llm *llm = make(LLM_OLLAMA, 2000, port);
	struct sink k = { .stop_after = 2 };
	struct llm_reply r;
	int64_t t0 = time_mono_ms();

	(void)state;
	assert_int_equal(chat(llm, "mode:slow stop me early please now", &k, &r), ECANCELED);
	assert_int_equal(k.pieces, 2);
	assert_int_equal(r.attempts, 1);
	assert_true(time_mono_ms() - t0 < 1200);
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_rules_backend_streams_too(void **state)
{
	struct llm *llm = make(LLM_RULES, 1000, port);
	struct sink k = { 0 };
	struct llm_reply r;

	(void)state;
	assert_int_equal(chat(llm, "goodbye", &k, &r), 0);
	assert_int_equal(r.action, LLM_ACT_HANGUP);
	assert_int_equal(k.pieces, 1);
	assert_string_equal(llm_name(llm), "rules");
	llm_reply_clear(&r);
	llm_free(llm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ollama_streaming),
		cmocka_unit_test(test_openai_streaming),
		cmocka_unit_test(test_history_and_auth_sent),
		cmocka_unit_test(test_http_500_retried_then_fails),
		cmocka_unit_test(test_flaky_recovers_on_retry),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cut_stream_not_retried),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_rules_backend_streams_too),
	};
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
