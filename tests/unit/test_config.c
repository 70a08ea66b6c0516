/* test_config.c - configuration loading: defaults, validation, environment, aliases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

static char dir[] = "/tmp/callbot-test-config-XXXXXX";
static char envpath[256];

static void clear_environment(void)
{
	size_t n;
	const struct conf_key *k = conf_keys(&n);
	for (size_t i = 0; i < n; i++)
		unsetenv(k[i].name);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(envpath, sizeof(envpath), "%s/.env", dir);
	clear_environment();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(envpath);
	rmdir(dir);
	return 0;
}

static void write_env(const char *text)
{
	FILE *f = fopen(envpath, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(struct conf *c, const char *text, char *err)
{
	write_env(text);
	return conf_load(c, envpath, err, 512);
}

static void expect_error(const char *text, const char *needle1, const char *needle2)
{
	struct conf c;
	char err[512] = "";

	assert_int_equal(load(&c, text, err), EINVAL);
	if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2)))
		fail_msg("error '%s' lacks '%s' / '%s'", err, needle1, needle2 ? needle2 : "");
}

static void test_defaults(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	assert_int_equal(load(&c, "", err), 0);
	assert_string_equal(c.sip_server, "");
	assert_int_equal(c.sip_transport, SIP_TP_UDP);
	assert_string_equal(c.sip_listen, "0.0.0.0:5060");
	assert_int_equal(c.sip_listen_hp.port, 5060);
	assert_int_equal(c.srtp, SRTP_OPTIONAL);
	assert_int_equal(c.rtp_port_min, 10000);
	assert_int_equal(c.rtp_port_max, 20000);
	assert_int_equal(c.max_calls, 16);
	assert_int_equal(c.max_call_seconds, 600);
	assert_int_equal(c.bot_mode, BOT_AI);
	assert_string_equal(c.greeting, "Hello, this is callbot. How can I help you?");
	assert_int_equal(c.vad_silence_ms, 500);
	assert_true(c.barge_in);
	assert_int_equal(c.barge_in_min_ms, 250);
	assert_int_equal(c.llm_backend, LLM_RULES);
	assert_int_equal(c.llm_timeout_ms, 8000);
	assert_string_equal(c.ollama_url, "http://localhost:11434");
	assert_string_equal(c.database_url, "sqlite:///callbot.db");
	assert_int_equal(c.retention_days, 30);
	assert_int_equal(c.consent_mode, CONSENT_ANNOUNCE);
	assert_string_equal(c.web_listen, "127.0.0.1:5000");
	assert_int_equal(c.proxies_n, 2);
	assert_true(c.force_https);
	assert_int_equal(c.rates_n, 2);
	assert_int_equal(c.rates[0].count, 200);
	assert_int_equal(c.rates[0].seconds, 86400);
	assert_int_equal(c.rates[1].count, 50);
	assert_int_equal(c.rates[1].seconds, 3600);
	assert_int_equal(c.log_level, CFG_LOG_INFO);
	/* Relative paths resolve against the .env's folder. */
	char want[300];
	snprintf(want, sizeof(want), "%s/audio_output", dir);
	assert_string_equal(c.audio_dir, want);
	assert_string_equal(c.base_dir, dir);
	conf_free(&c);
}

static void test_bad_int_names_key(void **state)
{
	(void)state;
	expect_error("# x\nMAX_CALLS=abc\n", "MAX_CALLS: 'abc' is not a whole number", ".env line 2");
	expect_error("MAX_CALLS=0\n", "MAX_CALLS: '0' is out of range (1 to 100000)", NULL);
	expect_error("MAX_CALLS=99999999999999999999\n", "MAX_CALLS", "not a whole number");
	expect_error("VAD_SILENCE_MS=12ms\n", "VAD_SILENCE_MS", NULL);
}

static void test_bad_enum_and_bool(void **state)
{
	(void)state;
	expect_error("SRTP=maybe\n", "SRTP: 'maybe' is not one of off, optional, required", NULL);
	expect_error("BARGE_IN=sometimes\n", "BARGE_IN", "expected on or off");
	expect_error("SIP_TRANSPORT=sctp\n", "SIP_TRANSPORT", "udp, tcp, tls");
}

static void test_bad_strings(void **state)
{
	(void)state;
	expect_error("SIP_ALLOW_FROM=10.0.0.0/33\n", "SIP_ALLOW_FROM", "CIDR");
	expect_error("RTP_PORTS=20000-10000\n", "RTP_PORTS", "LOW-HIGH");
	expect_error("WEB_LISTEN=localhost\n", "WEB_LISTEN", "address:port");
	expect_error("SIP_SERVER=pbx.example.com:99999\n", "SIP_SERVER", "host:port");
	expect_error("OLLAMA_URL=ftp://x\n", "OLLAMA_URL", "http:// or https://");
	expect_error("DATABASE_URL=mysql://x\n", "DATABASE_URL", "sqlite:///");
	expect_error("RATE_LIMITS=lots per day\n", "RATE_LIMITS", "200 per day");
	expect_error("LANGUAGE=english\n", "LANGUAGE", "language code");
}

static void test_secret_never_echoed(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	assert_int_equal(load(&c, "ENCRYPTION_KEY=hunter2-not-a-key\n", err), EINVAL);
	assert_non_null(strstr(err, "ENCRYPTION_KEY"));
	assert_null(strstr(err, "hunter2"));
}

static void test_fernet_key_list(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	assert_int_equal(load(&c, "ENCRYPTION_KEY=cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=, "
				  "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\n", err), 0);
	conf_free(&c);
	expect_error("ENCRYPTION_KEY=cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4\n", "ENCRYPTION_KEY",
		     "Fernet");
}

static void test_unknown_key_suggests(void **state)
{
	(void)state;
	expect_error("SIP_SERVR=pbx\n", "SIP_SERVR: unknown key (.env line 1); did you mean SIP_SERVER?",
		     NULL);
	expect_error("TOTALLY_UNRELATED=1\n", "TOTALLY_UNRELATED: unknown key", NULL);
}

static void test_environment_overrides(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	setenv("MAX_CALLS", "7", 1);
	assert_int_equal(load(&c, "MAX_CALLS=5\nBOT_MODE=echo\n", err), 0);
	assert_int_equal(c.max_calls, 7);
	assert_int_equal(c.bot_mode, BOT_ECHO);
	conf_free(&c);

	setenv("MAX_CALLS", "many", 1);
	assert_int_equal(load(&c, "", err), EINVAL);
	assert_non_null(strstr(err, "MAX_CALLS"));
	assert_non_null(strstr(err, "environment"));
	unsetenv("MAX_CALLS");

	/* gettext's LANGUAGE list must not break start-up. */
	setenv("LANGUAGE", "en_US:en", 1);
	assert_int_equal(load(&c, "", err), 0);
	assert_string_equal(c.language, "en-US");
	conf_free(&c);
	unsetenv("LANGUAGE");

	/* Environment is read for table keys only. */
	setenv("SIP_PORT", "7777", 1);
	assert_int_equal(load(&c, "", err), 0);
	assert_string_equal(c.sip_server, "");
	conf_free(&c);
	unsetenv("SIP_PORT");
}

static void test_cross_key_rules(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	expect_error("STT_BACKEND=http\n", "STT_URL: required when STT_BACKEND=http", NULL);
	expect_error("TTS_BACKEND=http\n", "TTS_URL: required", NULL);
	expect_error("WEB_TLS_CERT=cert.pem\n", "WEB_TLS_KEY: required when WEB_TLS_CERT is set", NULL);
	expect_error("SIP_PASSWORD=abc\n", "SIP_USERNAME", NULL);
	assert_int_equal(load(&c, "SIP_TRANSPORT=tls\n", err), 0);
	assert_string_equal(c.sip_listen, "0.0.0.0:5061");
	conf_free(&c);
	assert_int_equal(load(&c, "SIP_TRANSPORT=TLS\nSIP_LISTEN=127.0.0.1:5070\n", err), 0);
	assert_string_equal(c.sip_listen, "127.0.0.1:5070");
	conf_free(&c);
	assert_int_equal(load(&c, "SIP_SERVER=pbx.example.com:5080\nSIP_USERNAME=1001\n", err), 0);
	assert_string_equal(c.sip_domain, "pbx.example.com");
	assert_string_equal(c.sip_auth_user, "1001");
	assert_int_equal(c.sip_server_hp.port, 5080);
	conf_free(&c);
}

static void test_masking(void **state)
{
	struct conf c;
	char err[512], buf[64];

	(void)state;
	assert_int_equal(load(&c, "SIP_USERNAME=u\nSIP_PASSWORD=topsecret\n", err), 0);
	conf_display(&c, conf_key_find("SIP_PASSWORD"), buf, sizeof(buf));
	assert_string_equal(buf, "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
	conf_display(&c, conf_key_find("OPENAI_API_KEY"), buf, sizeof(buf));
	assert_string_equal(buf, "");
	conf_display(&c, conf_key_find("BARGE_IN"), buf, sizeof(buf));
	assert_string_equal(buf, "on");
	conf_display(&c, conf_key_find("SRTP"), buf, sizeof(buf));
	assert_string_equal(buf, "optional");
	conf_free(&c);
}

static void test_python_callbot_env(void **state)
{
	char path[512], err[512];
	struct conf c;
	int legacy = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/python-callbot.env", getenv("CALLBOT_TEST_DATA"));
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.sip_server, "pbx.example.com:5060");
	assert_string_equal(c.sip_domain, "pbx.example.com");
	assert_string_equal(c.sip_username, "1001");
	assert_string_equal(c.web_listen, "0.0.0.0:5000");
	assert_int_equal(c.tts_backend, TTS_ESPEAK);
	assert_int_equal(c.log_level, CFG_LOG_INFO);
	assert_string_equal(c.ollama_model, "llama2");
	assert_non_null(strstr(c.audio_dir, "/audio_output"));
	assert_non_null(strstr(c.log_dir, "/logs"));
	for (size_t i = 0; i < c.warnings_n; i++) {
		if (strstr(c.warnings[i], "Python CallBot setting"))
			legacy++;
	}
	/* FLASK_ENV, 3 x WHISPER_*, AUDIO_SAMPLE_RATE, AUDIO_CHUNK_DURATION, REDIS_URL, DEBUG, TESTING */
	assert_int_equal(legacy, 9);
	assert_int_equal(c.warnings_n, 10); /* + TTS_ENGINE=coqui */
	conf_free(&c);
}

static void test_missing_config_file(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	assert_int_equal(conf_load(&c, "/nonexistent/callbot.env", err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, "/nonexistent/callbot.env"));
}

static void test_bool_spellings(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	assert_int_equal(load(&c, "BARGE_IN=False\nAEC=no\nRECORD_CALLS=0\nFORCE_HTTPS=TRUE\n", err), 0);
	assert_false(c.barge_in);
	assert_false(c.aec);
	assert_false(c.record_calls);
	assert_true(c.force_https);
	conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_int_names_key),
		cmocka_unit_test(test_bad_enum_and_bool),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_secret_never_echoed),
		cmocka_unit_test(test_fernet_key_list),
		cmocka_unit_test(test_unknown_key_suggests),
		cmocka_unit_test(test_environment_overrides),
		cmocka_unit_test(test_cross_key_rules),
		cmocka_unit_test(test_masking),
		cmocka_unit_test(test_python_callbot_env),
		cmocka_unit_test(test_missing_config_file),
		cmocka_unit_test(test_bool_spellings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
