/* test_dial_policy.c - outgoing calls: OUTBOUND_ALLOW matching and callsvc_dial()'s checks
 * (refused destinations, unusable URIs, MAX_CALLS) on a real call service bound to
 * 127.0.0.1, and the ring time-out of a call nobody answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "call/callsvc.h"
#include "core/config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void test_patterns(void **state)
{
	(void)state;
	assert_false(callsvc_outbound_allowed("", "+4930123"));
	assert_false(callsvc_outbound_allowed(NULL, "+4930123"));
	assert_false(callsvc_outbound_allowed("*", ""));
	assert_true(callsvc_outbound_allowed("*", "anything"));
	assert_true(callsvc_outbound_allowed("+4930*", "+4930123"));
	assert_false(callsvc_outbound_allowed("+4930*", "+4931123"));
	assert_false(callsvc_outbound_allowed("+4930*", "4930123"));
	assert_true(callsvc_outbound_allowed("1001, 1002,+4930*", "1002"));
	assert_true(callsvc_outbound_allowed("1001 1002", "1002"));
	assert_false(callsvc_outbound_allowed("1001,1002", "100"));
	assert_true(callsvc_outbound_allowed("sip:*@127.0.0.1:5070", "sip:bob@127.0.0.1:5070"));
	assert_true(callsvc_outbound_allowed("sip:*@127.0.0.1:5070", "SIP:bob@127.0.0.1:5070"));
	assert_false(callsvc_outbound_allowed("sip:*@127.0.0.1:5070", "sip:bob@127.0.0.1:5071"));
	assert_false(callsvc_outbound_allowed("sip:*@127.0.0.1:5070",
					      "sip:bob@127.0.0.1:5070;transport=tcp"));
	assert_false(callsvc_outbound_allowed("sip:bob@127.0.0.1", "sip:bob@127.0.0.10"));
	assert_true(callsvc_outbound_allowed("555[0-4]???", "5553123"));
	assert_false(callsvc_outbound_allowed("555[0-4]???", "5557123"));
}

struct done {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int n;
	unsigned scode;
	char status[32], reason[64];
};

static void on_done(void *arg, uint64_t id, unsigned scode, const char *status, const char *reason)
{
	struct done *d = arg;

	(void)id;
	pthread_mutex_lock(&d->lock);
	d->n++;
	d->scode = scode;
	snprintf(d->status, sizeof(d->status), "%s", status);
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static void test_dial_checks(void **state)
{
	char dir[] = "/tmp/test_dial.XXXXXX", env[64], err[512] = "";
	struct done d = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	struct callsvc_dial_params p = {.done = on_done, .arg = &d, .ring_s = 1};
	struct callsvc *cs = NULL;
	struct timespec dl;
	struct conf c;
	uint64_t id = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(env, sizeof(env), "%s/.env", dir);
	f = fopen(env, "w");
	assert_non_null(f);
	fprintf(f,
		"SIP_LISTEN=127.0.0.1:5060\nBOT_MODE=echo\nMAX_CALLS=1\nRECORD_CALLS=off\n"
		"RTP_PORTS=31000-31099\nLOG_DIR=%s\n"
		"OUTBOUND_ALLOW=sip:*@127.0.0.1:*, 5551*, sip:*@*.example\n",
		dir);
	fclose(f);
	assert_int_equal(conf_load(&c, env, err, sizeof(err)), 0);
	assert_int_equal(callsvc_start_opts(&cs, &c, NULL,
					    &(struct callsvc_opts){.ephemeral_port = true,
								   .no_registration = true}),
			 0);

	p.to = "sip:mallory@10.1.2.3:5060";
	assert_int_equal(callsvc_dial(cs, &p, &id), EPERM);
	p.to = "+15550000";
	assert_int_equal(callsvc_dial(cs, &p, &id), EPERM);
	p.to = "5551234"; /* allowed, but a number needs SIP_SERVER */
	assert_int_equal(callsvc_dial(cs, &p, &id), EINVAL);
	p.to = "sip:bob@pbx.example"; /* allowed, but no DNS here */
	assert_int_equal(callsvc_dial(cs, &p, &id), EINVAL);
	p.to = "sip:bob@127.0.0.1:9\r\nX: y"; /* matches the pattern, not a URI */
	assert_int_equal(callsvc_dial(cs, &p, &id), EINVAL);
	/* nobody answers on the discard port: cancelled after ring_s */
	p.to = "sip:bob@127.0.0.1:9";
	assert_int_equal(callsvc_dial(cs, &p, &id), 0);
	assert_true(id > 0);
	/* MAX_CALLS=1: a second call is refused while the first rings */
	assert_int_equal(callsvc_dial(cs, &p, NULL), EBUSY);

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&d.lock);
	while (d.n == 0)
		if (pthread_cond_timedwait(&d.cond, &d.lock, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&d.lock);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.status, "failed");
	assert_string_equal(d.reason, "no_answer");
	assert_int_equal(d.scode, 408);

	callsvc_stop(cs);
	conf_free(&c);
	unlink(env);
	{
		char log[96];

		snprintf(log, sizeof(log), "%s/callbot.log", dir);
		unlink(log);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_dial_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
