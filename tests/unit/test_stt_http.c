/* test_stt_http.c - the OpenAI-compatible transcription client against
 * tests/mock/fake_stt_server.py: multipart upload, errors, timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock_server.h"

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "stt/stt.h"

static struct mock_server srv;

static int setup(void **state)
{
	(void)state;
	return mock_server_start_stdout(&srv, "fake_stt_server.py");
}

static int teardown(void **state)
{
	(void)state;
	mock_server_stop(&srv);
	return 0;
}

static void conf_http(struct conf *c, char *url, size_t cap, const char *model, const char *key)
{
	memset(c, 0, sizeof(*c));
	snprintf(url, cap, "http://127.0.0.1:%d/", srv.port);
	c->stt_backend = STT_HTTP;
	c->stt_url = url;
	c->stt_model = (char *)model;
	c->stt_api_key = (char *)key;
	c->language = (char *)"en-GB";
}

/* One second of a 440 Hz tone in 20 ms frames; returns stt_stream_end()'s code. */
static int transcribe(struct stt_engine *e, size_t samples, char **text, unsigned *ms)
{
	struct stt_stream *s;
	int16_t frame[160];

	for (size_t i = 0; i < 160; i++)
		frame[i] = (int16_t)((i % 18) * 1000 - 9000);
	assert_int_equal(stt_stream_begin(e, NULL, &s), 0);
	for (size_t i = 0; i < samples; i += 160)
		assert_int_equal(stt_stream_feed(s, frame, 160), 0);
	return stt_stream_end(s, text, ms);
}

static void test_upload(void **state)
{
	struct conf c;
	struct stt_engine *e;
	char url[128], err[256], *t;
	unsigned ms;

	(void)state;
	conf_http(&c, url, sizeof(url), "echo", "sk-test");
	if (stt_engine_alloc(&e, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(stt_engine_name(e), "http");
	assert_int_equal(transcribe(e, 8000, &t, &ms), 0);
	print_message("\"%s\" in %u ms\n", t, ms);
	assert_string_equal(t, "got 8000 samples at 8000 Hz, model echo, lang en, auth Bearer "
			       "sk-test");
	free(t);
	assert_int_equal(transcribe(e, 0, &t, NULL), 0); /* nothing said: no request */
	assert_string_equal(t, "");
	free(t);
	stt_engine_free(e);

	/* no key: no Authorization header; STT_URL may name the endpoint itself */
	conf_http(&c, url, sizeof(url), "echo", "");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/audio/transcriptions", srv.port);
	assert_int_equal(stt_engine_alloc(&e, &c, NULL, 0), 0);
	assert_int_equal(transcribe(e, 1600, &t, NULL), 0);
	assert_string_equal(t, "got 1600 samples at 8000 Hz, model echo, lang en, auth none");
	free(t);
	stt_engine_free(e);
}

static void test_errors(void **state)
{
	static const struct {
		const char *model;
		int rc;
	} cases[] = { { "fail500", EIO }, { "garbage", EPROTO }, { "notext", EPROTO } };
	struct conf c;
	struct stt_engine *e;
	struct stt_stream *s;
	char url[128], err[256], *t = NULL;
	int16_t big[8000] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_http(&c, url, sizeof(url), cases[i].model, "");
		assert_int_equal(stt_engine_alloc(&e, &c, NULL, 0), 0);
		assert_int_equal(transcribe(e, 800, &t, NULL), cases[i].rc);
		assert_null(t);
		stt_engine_free(e);
	}
	/* too long an utterance */
	conf_http(&c, url, sizeof(url), "echo", "");
	assert_int_equal(stt_engine_alloc(&e, &c, NULL, 0), 0);
	assert_int_equal(stt_stream_begin(e, NULL, &s), 0);
	for (int i = 0; i < 120; i++)
		assert_int_equal(stt_stream_feed(s, big, 8000), 0);
	assert_int_equal(stt_stream_feed(s, big, 1), E2BIG);
	assert_int_equal(stt_stream_end(s, &t, NULL), E2BIG);
	stt_engine_free(e);
	/* configuration */
	conf_http(&c, url, sizeof(url), "echo", "");
	c.stt_url = (char *)"";
	assert_int_equal(stt_engine_alloc(&e, &c, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "STT_URL"));
	c.stt_url = (char *)"ftp://example.org";
	assert_int_equal(stt_engine_alloc(&e, &c, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "STT_URL"));
}

static void test_timeout(void **state)
{
	struct conf c;
	struct stt_engine *e;
	char url[128], *t = NULL;
	unsigned ms;

	(void)state;
	conf_http(&c, url, sizeof(url), "slow", "");
	assert_int_equal(stt_engine_alloc(&e, &c, NULL, 0), 0);
	stt_engine_set_timeout(e, 500);
	assert_int_equal(transcribe(e, 800, &t, &ms), ETIMEDOUT);
	assert_in_range(ms, 400, 2000);
	stt_engine_free(e);
}

static void test_refused(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct conf c;
	struct stt_engine *e;
	char url[128], *t = NULL;

	(void)state;
	/* a port that was just free: nobody listens there */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	conf_http(&c, url, sizeof(url), "echo", "");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	assert_int_equal(stt_engine_alloc(&e, &c, NULL, 0), 0);
	assert_int_equal(transcribe(e, 800, &t, NULL), ECONNREFUSED);
	stt_engine_free(e);
}

/* Credentials in STT_URL never reach the log. */
static void test_log_hides_credentials(void **state)
{
	struct conf c;
	struct stt_engine *e;
	char url[128], dir[] = "/tmp/test_stt_http_XXXXXX", path[160], *log = NULL, *t = NULL;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(log_open(dir), 0);
	log_set_stderr(false);
	conf_http(&c, url, sizeof(url), "fail500", "");
	snprintf(url, sizeof(url), "http://alice:s3cret@127.0.0.1:%d/", srv.port);
	assert_int_equal(stt_engine_alloc(&e, &c, NULL, 0), 0);
	assert_int_equal(transcribe(e, 800, &t, NULL), EIO);
	stt_engine_free(e);
	log_close();
	snprintf(path, sizeof(path), "%s/callbot.log", dir);
	assert_int_equal(file_read_all(path, 1 << 20, &log, &len), 0);
	assert_non_null(strstr(log, "http://127.0.0.1:"));
	assert_non_null(strstr(log, "HTTP 500"));
	assert_null(strstr(log, "s3cret"));
	assert_null(strstr(log, "alice"));
	free(log);
	unlink(path);
	rmdir(dir);
}

static void test_selftest(void **state)
{
	struct conf c;
	char url[128], msg[256];

	(void)state;
	conf_http(&c, url, sizeof(url), "echo", "");
	assert_int_equal(stt_selftest(&c, msg, sizeof(msg)), 0);
	print_message("%s\n", msg);
	assert_non_null(strstr(msg, "stt http: ready"));
	conf_http(&c, url, sizeof(url), "fail500", "");
	assert_int_equal(stt_selftest(&c, msg, sizeof(msg)), EIO);
	c.stt_url = (char *)"";
	assert_int_equal(stt_selftest(&c, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "STT_URL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_log_hides_credentials),
		cmocka_unit_test(test_selftest),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
