/* test_alert.c - src/core/alert.c against a fake webhook (tests/data/ops/fake_webhook.py) on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alert.h"
#include "core/config.h"
#include "core/util.h"

struct hook {
	pid_t pid;
	char dir[64], portfile[96], logfile[96];
	int port;
};

static struct hook H;

static int hook_up(void **state)
{
	char script[1024];
	char *buf = NULL;
	size_t len;

	(void)state;
	snprintf(H.dir, sizeof(H.dir), "/tmp/callbot-alert-XXXXXX");
	if (!mkdtemp(H.dir))
		return -1;
	snprintf(H.portfile, sizeof(H.portfile), "%s/port", H.dir);
	snprintf(H.logfile, sizeof(H.logfile), "%s/posts", H.dir);
	snprintf(script, sizeof(script), "%s/ops/fake_webhook.py", getenv("CALLBOT_TEST_DATA"));
	H.pid = fork();
	if (H.pid == 0) {
		execl("/usr/bin/python3", "python3", script, H.portfile, H.logfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !buf; i++) {
		if (file_read_all(H.portfile, 64, &buf, &len) != 0)
			usleep(50000);
	}
	if (!buf)
		return -1;
	H.port = atoi(buf);
	free(buf);
	return 0;
}

static int hook_down(void **state)
{
	char cmd[128];

	(void)state;
	kill(H.pid, SIGTERM);
	waitpid(H.pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", H.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void conf_for(struct conf *c, char *url, size_t size, const char *path, char *node)
{
	memset(c, 0, sizeof(*c));
	if (path)
		snprintf(url, size, "http://127.0.0.1:%d%s", H.port, path);
	else
		url[0] = '\0';
	c->alert_webhook = url;
	c->node_id = node;
}

/* The POSTs received so far (a JSON array, caller frees). */
static json_t *posts(void)
{
	json_t *arr = json_array();
	char *buf = NULL, *line, *save = NULL;
	size_t len;

	if (file_read_all(H.logfile, 1 << 20, &buf, &len) != 0)
		return arr;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);

		if (j)
			json_array_append_new(arr, j);
	}
	free(buf);
	return arr;
}

static json_t *wait_posts(size_t n, int timeout_ms)
{
	json_t *p = posts();

	for (int t = 0; json_array_size(p) < n && t < timeout_ms; t += 50) {
		json_decref(p);
		usleep(50000);
		p = posts();
	}
	return p;
}

static void reset_log(void)
{
	unlink(H.logfile);
}

static const char *body_str(json_t *post, const char *key)
{
	return json_string_value(json_object_get(json_object_get(post, "body"), key));
}

static void test_delivers_event(void **state)
{
	struct alert_opts o = { 0 };
	struct alert_stats st;
	struct conf c;
	char url[128], node[] = "node-a";
	json_t *p, *b;
	const char *ts;

	(void)state;
	reset_log();
	conf_for(&c, url, sizeof(url), "/hook", node);
	assert_int_equal(alert_start_opts(&c, &o), 0);
	assert_int_equal(alert_start_opts(&c, &o), EALREADY);
	alert_emit("sip_registration_lost", "{\"server\":\"pbx.example.com\",\"code\":408}");
	p = wait_posts(1, 5000);
	assert_int_equal(json_array_size(p), 1);
	b = json_object_get(json_array_get(p, 0), "body");
	assert_string_equal(body_str(json_array_get(p, 0), "event"), "sip_registration_lost");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "details"), "server")),
			    "pbx.example.com");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "details"), "code")), 408);
	assert_string_equal(body_str(json_array_get(p, 0), "node"), "node-a");
	ts = body_str(json_array_get(p, 0), "timestamp");
	assert_non_null(ts);
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[23], 'Z');
	assert_null(json_object_get(b, "suppressed"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "content_type")),
			    "application/json");
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "path")), "/hook");
	json_decref(p);
	alert_stop();
	alert_get_stats(&st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 0);
}

static void test_rate_limit_per_event(void **state)
{
	struct alert_opts o = { .rate_ms = 600 };
	struct alert_stats st;
	struct conf c;
	char url[128], node[] = "n";
	json_t *p;

	(void)state;
	reset_log();
	conf_for(&c, url, sizeof(url), "/hook", node);
	assert_int_equal(alert_start_opts(&c, &o), 0);
	for (int i = 0; i < 5; i++)
		alert_emit("login_failure_storm", "{\"failures\":20}");
	alert_emit("llm_backend_down", NULL); /* another type is not held back */
	p = wait_posts(2, 5000);
	assert_int_equal(json_array_size(p), 2);
	json_decref(p);
	usleep(700000);
	alert_emit("login_failure_storm", "{\"failures\":50}");
	p = wait_posts(3, 5000);
	assert_int_equal(json_array_size(p), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *b = json_object_get(json_array_get(p, i), "body");

		if (strcmp(json_string_value(json_object_get(b, "event")), "llm_backend_down") == 0) {
			assert_true(json_is_object(json_object_get(b, "details")));
			assert_int_equal(json_object_size(json_object_get(b, "details")), 0);
		} else if (json_integer_value(json_object_get(json_object_get(b, "details"),
							      "failures")) == 50) {
			/* the four held back are counted in the next one */
			assert_int_equal(json_integer_value(json_object_get(b, "suppressed")), 4);
		}
	}
	json_decref(p);
	alert_stop();
	alert_get_stats(&st);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.suppressed, 4);
}

static void test_never_blocks(void **state)
{
	struct alert_opts o = { .queue_max = 4, .timeout_ms = 400, .stop_ms = 300 };
	struct alert_stats st;
	struct conf c;
	char url[128], node[] = "n", ev[32];
	int64_t t0, emit_ms, stop_ms;

	(void)state;
	reset_log();
	conf_for(&c, url, sizeof(url), "/hang", node); /* answers after 3 s */
	assert_int_equal(alert_start_opts(&c, &o), 0);
	t0 = time_mono_ms();
	for (int i = 0; i < 50; i++) {
		snprintf(ev, sizeof(ev), "event_%d", i);
		alert_emit(ev, "{}");
	}
	emit_ms = time_mono_ms() - t0;
	assert_true(emit_ms < 500); /* 50 emits while the webhook hangs: no waiting */
	t0 = time_mono_ms();
	alert_stop();
	stop_ms = time_mono_ms() - t0;
	assert_true(stop_ms < 2500); /* one POST timeout + the flush bound, not 50 x 3 s */
	alert_get_stats(&st);
	assert_true(st.dropped_full >= 40);
	assert_true(st.failed >= 1);
	assert_int_equal(st.sent, 0);
}

static void test_bad_input(void **state)
{
	struct alert_opts o = { 0 };
	struct alert_stats st;
	struct conf c;
	char url[128], node[] = "n", longname[80];
	json_t *p;
	int seen = 0;

	(void)state;
	reset_log();
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	conf_for(&c, url, sizeof(url), "/hook", node);
	assert_int_equal(alert_start_opts(&c, &o), 0);
	alert_emit(NULL, "{}");
	alert_emit("", "{}");
	alert_emit("Bad Name", "{}");
	alert_emit("bad\nname", "{}");
	alert_emit(longname, "{}");
	alert_emit("plain_text", "backup failed: disk full");
	alert_emit_msg("with_message", "quote \" backslash \\ newline \n done");
	p = wait_posts(2, 5000);
	assert_int_equal(json_array_size(p), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *b = json_object_get(json_array_get(p, i), "body");
		const char *ev = json_string_value(json_object_get(b, "event"));

		if (strcmp(ev, "plain_text") == 0) {
			assert_string_equal(json_string_value(json_object_get(b, "details")),
					    "backup failed: disk full");
			seen++;
		} else {
			assert_string_equal(ev, "with_message");
			assert_string_equal(json_string_value(json_object_get(
				json_object_get(b, "details"), "message")),
				"quote \" backslash \\ newline \n done");
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	json_decref(p);
	alert_stop();
	alert_get_stats(&st);
	assert_int_equal(st.invalid, 5);
}

static void test_webhook_error_counted(void **state)
{
	struct alert_opts o = { 0 };
	struct alert_stats st;
	struct conf c;
	char url[128], node[] = "n";
	json_t *p;

	(void)state;
	reset_log();
	conf_for(&c, url, sizeof(url), "/fail", node);
	assert_int_equal(alert_start_opts(&c, &o), 0);
	alert_emit("backup_failed", "{\"error\":\"No space left on device\"}");
	p = wait_posts(1, 5000);
	assert_int_equal(json_array_size(p), 1);
	json_decref(p);
	alert_stop();
	alert_get_stats(&st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.sent, 0);
}

static void test_disabled_and_unstarted(void **state)
{
	struct alert_opts o = { 0 };
	struct alert_stats st;
	struct conf c;
	char url[128], node[] = "";

	(void)state;
	reset_log();
	alert_emit("before_start", "{}"); /* never started: logged only */
	alert_stop();                     /* no-op */
	conf_for(&c, url, sizeof(url), NULL, node);
	assert_int_equal(alert_start_opts(&c, &o), 0);
	alert_emit("no_webhook", "{}");
	alert_stop();
	alert_get_stats(&st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.sent, 0);
	usleep(200000);
	json_t *p = posts();
	assert_int_equal(json_array_size(p), 0);
	json_decref(p);
}

static void test_disk_low(void **state)
{
	/* nothing has 100 % free: the watched file system is "low" at once */
	struct alert_opts o = { .disk_min_pct = 100 };
	struct alert_stats st;
	struct conf c;
	char url[128], node[] = "n";
	json_t *p, *d;

	(void)state;
	reset_log();
	conf_for(&c, url, sizeof(url), "/hook", node);
	assert_int_equal(alert_start_opts(&c, &o), 0);
	assert_int_equal(alert_watch_disk(H.dir), 0);
	assert_int_equal(alert_watch_disk(H.dir), 0); /* same file system: once */
	assert_int_equal(alert_watch_disk("/nonexistent/alert/dir"), ENOENT);
	p = wait_posts(1, 5000);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(body_str(json_array_get(p, 0), "event"), "disk_low");
	d = json_object_get(json_object_get(json_array_get(p, 0), "body"), "details");
	assert_string_equal(json_string_value(json_object_get(d, "path")), H.dir);
	assert_true(json_is_number(json_object_get(d, "free_pct")));
	assert_int_equal(json_integer_value(json_object_get(d, "threshold_pct")), 100);
	json_decref(p);
	alert_stop();
	alert_get_stats(&st);
	assert_int_equal(st.sent, 1);
}

static void test_count_and_state(void **state)
{
	struct alert_opts o = { .rate_ms = 60000 };
	struct conf c;
	char url[128], node[] = "n";
	json_t *p;
	int storms = 0, lost = 0, restored = 0;

	(void)state;
	reset_log();
	conf_for(&c, url, sizeof(url), "/hook", node);
	assert_int_equal(alert_start_opts(&c, &o), 0);
	/* 9 failed logins: no storm yet; the 10th in the window is one */
	for (int i = 0; i < 10; i++) {
		alert_count("login_failure_storm", 10, 60000, "{\"last_client\":\"192.0.2.7\"}");
		if (i == 8) {
			usleep(300000);
			p = posts();
			assert_int_equal(json_array_size(p), 0);
			json_decref(p);
		}
	}
	/* registration: ok at first (nothing), lost, lost again (nothing), restored,
	 * lost and restored again within the rate interval: transitions always go */
	alert_state("sip_registration_lost", "sip_registration_restored", true, NULL);
	alert_state("sip_registration_lost", "sip_registration_restored", false, "{\"state\":\"failed\"}");
	alert_state("sip_registration_lost", "sip_registration_restored", false, NULL);
	alert_state("sip_registration_lost", "sip_registration_restored", true, NULL);
	alert_state("sip_registration_lost", "sip_registration_restored", false, NULL);
	alert_state("sip_registration_lost", "sip_registration_restored", true, NULL);
	p = wait_posts(5, 5000);
	assert_int_equal(json_array_size(p), 5);
	for (size_t i = 0; i < json_array_size(p); i++) {
		json_t *b = json_object_get(json_array_get(p, i), "body");
		const char *ev = json_string_value(json_object_get(b, "event"));

		if (strcmp(ev, "login_failure_storm") == 0) {
			json_t *d = json_object_get(b, "details");

			assert_int_equal(json_integer_value(json_object_get(d, "count")), 10);
			assert_int_equal(json_integer_value(json_object_get(d, "window_s")), 60);
			assert_string_equal(json_string_value(json_object_get(d, "last_client")),
					    "192.0.2.7");
			storms++;
		} else if (strcmp(ev, "sip_registration_lost") == 0) {
			lost++;
		} else if (strcmp(ev, "sip_registration_restored") == 0) {
			restored++;
		}
	}
	assert_int_equal(storms, 1);
	assert_int_equal(lost, 2);
	assert_int_equal(restored, 2);
	/* the last one received tells the current state */
	assert_string_equal(body_str(json_array_get(p, 4), "event"), "sip_registration_restored");
	json_decref(p);
	alert_stop();
}

static void test_send_once(void **state)
{
	struct conf c;
	char url[128], node[] = "backup-host";
	json_t *p;

	(void)state;
	reset_log();
	conf_for(&c, url, sizeof(url), "/hook", node);
	/* no sender thread: a one-shot command */
	assert_int_equal(alert_send_once(&c, "backup_failed", "{\"error\":\"ENOSPC\"}"), 0);
	p = posts();
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(body_str(json_array_get(p, 0), "event"), "backup_failed");
	assert_string_equal(body_str(json_array_get(p, 0), "node"), "backup-host");
	json_decref(p);
	assert_int_equal(alert_send_once(&c, "Bad Name", NULL), EINVAL);
	conf_for(&c, url, sizeof(url), "/fail", node);
	assert_int_equal(alert_send_once(&c, "backup_failed", NULL), EPROTO);
	conf_for(&c, url, sizeof(url), NULL, node);
	assert_int_equal(alert_send_once(&c, "backup_failed", NULL), 0); /* log only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivers_event),
		cmocka_unit_test(test_rate_limit_per_event),
		cmocka_unit_test(test_never_blocks),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_webhook_error_counted),
		cmocka_unit_test(test_disabled_and_unstarted),
		cmocka_unit_test(test_disk_low),
		cmocka_unit_test(test_count_and_state),
		cmocka_unit_test(test_send_once),
	};
	return cmocka_run_group_tests(tests, hook_up, hook_down);
}
