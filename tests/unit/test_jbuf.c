/* test_jbuf.c - the jitter buffer (media/jitbuf.c): ordering, loss, late and
 * duplicate packets, depth limit, sequence wrap and resynchronisation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "media/jitbuf.h"

static void put(struct jitbuf *jb, uint16_t seq, int expect)
{
	uint8_t p[160];

	memset(p, (uint8_t)seq, sizeof(p));
	assert_int_equal(jitbuf_put(jb, seq, 0, p, sizeof(p)), expect);
}

/* Next frame's sequence number, or -1 lost, -2 buffering. */
static int get(struct jitbuf *jb)
{
	const struct jitbuf_slot *s;
	int err = jitbuf_get(jb, &s);

	if (err == ENOENT)
		return -1;
	if (err == EAGAIN)
		return -2;
	assert_int_equal(err, 0);
	assert_int_equal(s->data[0], (uint8_t)s->seq);
	return s->seq;
}

static void test_prefill_and_order(void **state)
{
	struct jitbuf jb;

	(void)state;
	jitbuf_init(&jb, 2, 6);
	assert_int_equal(get(&jb), -2);
	put(&jb, 101, 0); /* arrives first, out of order */
	assert_int_equal(get(&jb), -2);
	put(&jb, 100, 0);
	assert_int_equal(get(&jb), 100);
	assert_int_equal(get(&jb), 101);
	put(&jb, 102, 0);
	assert_int_equal(get(&jb), 102);
	assert_int_equal(jb.st.played, 3);
}

static void test_loss_late_dup(void **state)
{
	struct jitbuf jb;

	(void)state;
	jitbuf_init(&jb, 2, 6);
	put(&jb, 10, 0);
	put(&jb, 11, 0);
	put(&jb, 11, EALREADY);
	put(&jb, 13, 0); /* 12 is missing */
	assert_int_equal(get(&jb), 10);
	assert_int_equal(get(&jb), 11);
	assert_int_equal(get(&jb), -1); /* 12 lost: conceal */
	put(&jb, 12, ETIMEDOUT);       /* too late now */
	assert_int_equal(get(&jb), 13);
	assert_int_equal(jb.st.lost, 1);
	assert_int_equal(jb.st.late, 1);
	assert_int_equal(jb.st.dup, 1);
}

static void test_depth_limit(void **state)
{
	struct jitbuf jb;

	(void)state;
	jitbuf_init(&jb, 2, 4);
	for (uint16_t s = 0; s < 10; s++)
		put(&jb, s, 0);
	/* A burst of 10 frames: the oldest are dropped to keep 4 queued. */
	assert_int_equal(get(&jb), 6);
	assert_int_equal(jb.st.dropped, 6);
	assert_int_equal(get(&jb), 7);
}

static void test_wrap(void **state)
{
	struct jitbuf jb;

	(void)state;
	jitbuf_init(&jb, 2, 6);
	put(&jb, 65534, 0);
	put(&jb, 65535, 0);
	assert_int_equal(get(&jb), 65534);
	put(&jb, 0, 0);
	assert_int_equal(get(&jb), 65535);
	put(&jb, 1, 0);
	assert_int_equal(get(&jb), 0);
	assert_int_equal(get(&jb), 1);
	assert_int_equal(jb.st.lost, 0);
}

static void test_resync_and_refill(void **state)
{
	struct jitbuf jb;
	int lost = 0;

	(void)state;
	jitbuf_init(&jb, 2, 6);
	put(&jb, 500, 0);
	put(&jb, 501, 0);
	assert_int_equal(get(&jb), 500);
	/* The sender jumps far ahead (new stream): start over, no flood of losses. */
	put(&jb, 9000, 0);
	put(&jb, 9001, 0);
	assert_int_equal(get(&jb), 9000);
	assert_int_equal(get(&jb), 9001);
	assert_int_equal(jb.st.resync, 1);
	/* The sender goes quiet: a few underruns, then buffering again. */
	for (int i = 0; i < 20; i++)
		lost += get(&jb) == -1;
	assert_true(lost > 0 && lost < 20);
	assert_int_equal(get(&jb), -2);
	put(&jb, 9100, 0);
	assert_int_equal(get(&jb), -2);
	put(&jb, 9101, 0);
	assert_int_equal(get(&jb), 9100);
}

static void test_too_big(void **state)
{
	struct jitbuf jb;
	uint8_t big[JITBUF_MAXPAYLOAD + 1] = { 0 };

	(void)state;
	jitbuf_init(&jb, 1, 4);
	assert_int_equal(jitbuf_put(&jb, 1, 0, big, sizeof(big)), EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefill_and_order),
		cmocka_unit_test(test_loss_late_dup),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_resync_and_refill),
		cmocka_unit_test(test_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
