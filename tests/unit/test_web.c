/* test_web.c - src/web building blocks: HTML escaping and templates, form parsing, rate
 * limiter windows, sessions (MAC, expiry, rotation), settings validation, SSE framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "web/events.h"
#include "web/http.h"
#include "web/ratelimit.h"
#include "web/session.h"
#include "web/settings.h"

static void test_html_escape(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(html_escape(out, sizeof(out), "<script>alert('x')</script> & \"q\" `b`"), 0);
	assert_string_equal(out, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; &#96;b&#96;");
	assert_int_equal(html_escape(out, 5, "<<<<"), ENOSPC);
	assert_true(strlen(out) < 5);
	assert_int_equal(html_escape(out, sizeof(out), NULL), 0);
	assert_string_equal(out, "");
}

static void test_html_render(void **state)
{
	static const char *const names[] = { "user", "csrf" };
	const char *values[] = { "<b>eve</b>", "tok\"en" };
	char *s;

	(void)state;
	s = html_render("<p>{{user}}</p><i>{{user}}</i><input value=\"{{csrf}}\">{{unknown}}{{", names,
			values, 2);
	assert_non_null(s);
	assert_string_equal(s, "<p>&lt;b&gt;eve&lt;/b&gt;</p><i>&lt;b&gt;eve&lt;/b&gt;</i>"
			       "<input value=\"tok&quot;en\">{{");
	free(s);
}

static void test_form_get(void **state)
{
	char out[32];

	(void)state;
	assert_true(http_form_get("a=1&username=al%3Cice+x&b=", "username", out, sizeof(out)));
	assert_string_equal(out, "al<ice x");
	assert_true(http_form_get("a=1&b=", "b", out, sizeof(out)));
	assert_string_equal(out, "");
	assert_false(http_form_get("ab=1", "a", out, sizeof(out)));
	assert_false(http_form_get("a=%zz", "a", out, sizeof(out)));
	assert_false(http_form_get("a=%4", "a", out, sizeof(out)));
	assert_false(http_form_get("a=%00", "a", out, sizeof(out))); /* no NUL smuggling */
	assert_false(http_form_get("a=0123456789012345678901234567890123456789", "a", out, sizeof(out)));
	assert_false(http_form_get(NULL, "a", out, sizeof(out)));
}

static void test_parse_id(void **state)
{
	int64_t id;

	(void)state;
	assert_true(http_parse_id("42", &id));
	assert_int_equal(id, 42);
	assert_false(http_parse_id("0", &id));
	assert_false(http_parse_id("-1", &id));
	assert_false(http_parse_id("1/../2", &id));
	assert_false(http_parse_id("99999999999999999999", &id));
	assert_false(http_parse_id("", &id));
}

static void test_ratelimit_windows(void **state)
{
	struct rate_limit rules[] = { { 3, 60 }, { 5, 3600 } };
	struct ratelimit *rl;
	unsigned retry = 0;
	int64_t t = 1000000;

	(void)state;
	assert_int_equal(ratelimit_new(&rl, rules, 2, 16), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_hit(rl, "1.2.3.4", t + i, &retry), 0);
	assert_int_equal(ratelimit_hit(rl, "1.2.3.4", t + 10 * 1000, &retry), EAGAIN);
	assert_int_equal(retry, 50);
	assert_int_equal(ratelimit_hit(rl, "5.6.7.8", t, &retry), 0); /* other key unaffected */
	/* Minute window over: two more fit, then the hour rule bites. */
	assert_int_equal(ratelimit_hit(rl, "1.2.3.4", t + 61 * 1000, &retry), 0);
	assert_int_equal(ratelimit_hit(rl, "1.2.3.4", t + 62 * 1000, &retry), 0);
	assert_int_equal(ratelimit_hit(rl, "1.2.3.4", t + 63 * 1000, &retry), EAGAIN);
	assert_true(retry > 3000 && retry <= 3600);
	assert_true(ratelimit_over(rl, "1.2.3.4", t + 64 * 1000, NULL));
	ratelimit_reset(rl, "1.2.3.4");
	assert_false(ratelimit_over(rl, "1.2.3.4", t + 64 * 1000, NULL));
	ratelimit_free(rl);
}

static void test_ratelimit_full_table(void **state)
{
	struct rate_limit rule = { 1, 60 };
	struct ratelimit *rl;
	char key[16];

	(void)state;
	assert_int_equal(ratelimit_new(&rl, &rule, 1, 4), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(ratelimit_hit(rl, key, 0, NULL), 0);
	}
	/* Full: new keys pass untracked (fail open), old windows expire and free room. */
	assert_int_equal(ratelimit_hit(rl, "new", 1000, NULL), 0);
	assert_int_equal(ratelimit_hit(rl, "new", 1000, NULL), 0);
	assert_int_equal(ratelimit_hit(rl, "new", 61000, NULL), 0);
	assert_int_equal(ratelimit_hit(rl, "new", 61001, NULL), EAGAIN);
	ratelimit_free(rl);
}

static void test_sessions(void **state)
{
	struct sessions *s, *other;
	char cookie[SESSION_COOKIE_LEN], sid[64], csrf[64], csrf2[64], forged[SESSION_COOKIE_LEN];
	int64_t uid = 0, t = 1000000;

	(void)state;
	assert_int_equal(sessions_new(&s, "a-secret-key-of-sufficient-length-0123456789"), 0);
	assert_int_equal(sessions_new(&other, "another-secret-key-of-sufficient-length-98765"), 0);
	assert_int_equal(session_create(s, 7, t, cookie), 0);
	assert_int_equal(strlen(cookie), 87);
	assert_int_equal(session_lookup(s, cookie, t + 1000, &uid, sid, csrf), 0);
	assert_int_equal(uid, 7);
	assert_int_equal(strlen(csrf), 43);
	/* Same id, MAC from another key: refused before any lookup. */
	assert_int_equal(session_lookup(other, cookie, t, &uid, sid, csrf2), ENOENT);
	strcpy(forged, cookie);
	forged[50] = forged[50] == 'A' ? 'B' : 'A';
	assert_int_equal(session_lookup(s, forged, t, &uid, sid, csrf2), ENOENT);
	assert_int_equal(session_lookup(s, "junk", t, &uid, sid, csrf2), ENOENT);
	/* Idle expiry. */
	assert_int_equal(session_lookup(s, cookie, t + 1000 + SESSION_IDLE_MS + 1, &uid, sid, csrf2),
			 ENOENT);
	/* Absolute expiry even when active. */
	assert_int_equal(session_create(s, 8, t, cookie), 0);
	for (int64_t now = t; now < t + SESSION_ABSOLUTE_MS; now += SESSION_IDLE_MS / 2)
		assert_int_equal(session_lookup(s, cookie, now, &uid, sid, csrf2), 0);
	assert_int_equal(session_lookup(s, cookie, t + SESSION_ABSOLUTE_MS + 1, &uid, sid, csrf2),
			 ENOENT);
	/* destroy and destroy_user */
	assert_int_equal(session_create(s, 9, t, cookie), 0);
	assert_int_equal(session_lookup(s, cookie, t, &uid, sid, csrf2), 0);
	session_destroy(s, sid);
	assert_int_equal(session_lookup(s, cookie, t, &uid, sid, csrf2), ENOENT);
	assert_int_equal(session_create(s, 10, t, cookie), 0);
	session_destroy_user(s, 10);
	assert_int_equal(session_lookup(s, cookie, t, &uid, sid, csrf2), ENOENT);
	sessions_free(other);
	sessions_free(s);
}

static void test_settings_validation(void **state)
{
	char out[SETTING_VALUE_MAX + 1];
	const char *why;

	(void)state;
	assert_true(setting_editable("GREETING"));
	assert_false(setting_editable("SECRET_KEY"));
	assert_false(setting_editable("OUTBOUND_ALLOW"));
	assert_int_equal(setting_normalize(conf_key_find("VAD_SILENCE_MS"), "700", out, sizeof(out), &why), 0);
	assert_string_equal(out, "700");
	assert_int_equal(setting_normalize(conf_key_find("VAD_SILENCE_MS"), "7", out, sizeof(out), &why), EINVAL);
	assert_int_equal(setting_normalize(conf_key_find("VAD_SILENCE_MS"), "7x", out, sizeof(out), &why), EINVAL);
	assert_int_equal(setting_normalize(conf_key_find("BARGE_IN"), "TRUE", out, sizeof(out), &why), 0);
	assert_string_equal(out, "on");
	assert_int_equal(setting_normalize(conf_key_find("LLM_BACKEND"), "Ollama", out, sizeof(out), &why), 0);
	assert_string_equal(out, "ollama");
	assert_int_equal(setting_normalize(conf_key_find("LLM_BACKEND"), "x", out, sizeof(out), &why), EINVAL);
	assert_int_equal(setting_normalize(conf_key_find("OLLAMA_URL"), "not a url", out, sizeof(out), &why), EINVAL);
	assert_int_equal(setting_normalize(conf_key_find("GREETING"), "a\x01", out, sizeof(out), &why), EINVAL);
	assert_int_equal(setting_normalize(conf_key_find("SECRET_KEY"), "x", out, sizeof(out), &why), EINVAL);
}

static void test_sse_format(void **state)
{
	char *s;

	(void)state;
	s = events_format("call started!", "{\"a\":\n1}");
	assert_non_null(s);
	assert_string_equal(s, "event: call_started_\ndata: {\"a\": 1}\n\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_html_render),
		cmocka_unit_test(test_form_get),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_ratelimit_windows),
		cmocka_unit_test(test_ratelimit_full_table),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_settings_validation),
		cmocka_unit_test(test_sse_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
