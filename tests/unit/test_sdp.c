/* test_sdp.c - SDP validation and summary (sip/sdpchk.c): good offers from
 * real phones, and malformed ones that must be refused before libre sees them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sdpchk.h"

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

static int parse(const char *sdp, struct sdpchk_info *info, const char **why)
{
	return sdpchk_parse(sdp, strlen(sdp), info, why);
}

static void test_sipp_offer(void **state)
{
	struct sdpchk_info in;
	const char *why;

	(void)state;
	assert_int_equal(parse(HEAD "m=audio 6000 RTP/AVP 0 8 101\r\n"
				    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
				    "a=fmtp:101 0-15\r\na=ptime:20\r\n",
			       &in, &why),
			 0);
	assert_true(in.has_audio);
	assert_int_equal(in.port, 6000);
	assert_string_equal(in.addr, "192.0.2.1");
	assert_true(in.pcmu && in.pcma);
	assert_int_equal(in.telev_pt, 101);
	assert_int_equal(in.ptime, 20);
	assert_int_equal(in.fmt_n, 3);
	assert_false(in.savp);
	assert_true(in.proto_rtp);
}

static void test_media_level_c_and_lf(void **state)
{
	struct sdpchk_info in;
	const char *why;

	(void)state;
	/* Bare LF line ends, c= only at media level, IPv6. */
	assert_int_equal(parse("v=0\no=alice 2890844526 2890844526 IN IP6 2001:db8::1\ns=call\n"
			       "t=0 0\nm=audio 49170 RTP/AVP 8\nc=IN IP6 2001:db8::2\n",
			       &in, &why),
			 0);
	assert_string_equal(in.addr, "2001:db8::2");
	assert_true(in.pcma);
	assert_false(in.pcmu);
	assert_int_equal(in.telev_pt, -1);
}

static void test_only_g729(void **state)
{
	struct sdpchk_info in;
	const char *why;

	(void)state;
	assert_int_equal(parse(HEAD "m=audio 6000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", &in,
			       &why),
			 0);
	assert_true(in.has_audio);
	assert_false(in.pcmu || in.pcma); /* the caller answers 488 */
}

static void test_dynamic_pcmu(void **state)
{
	struct sdpchk_info in;
	const char *why;

	(void)state;
	assert_int_equal(parse(HEAD "m=audio 6000 RTP/AVP 96\r\na=rtpmap:96 PCMU/8000\r\n", &in,
			       &why),
			 0);
	assert_true(in.pcmu);
	/* Wideband "PCMU/16000" is not G.711 at 8 kHz. */
	assert_int_equal(parse(HEAD "m=audio 6000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n", &in,
			       &why),
			 0);
	assert_false(in.pcmu);
}

static void test_crypto(void **state)
{
	struct sdpchk_info in;
	const char *why;

	(void)state;
	assert_int_equal(parse(HEAD "m=audio 6000 RTP/SAVP 0\r\n"
				    "a=crypto:1 AES_CM_128_HMAC_SHA1_32 "
				    "inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
				    "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
				    "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n",
			       &in, &why),
			 0);
	assert_true(in.savp);
	assert_true(in.has_crypto);
	assert_true(in.crypto.usable);
	assert_int_equal(in.crypto.tag, 2);
	assert_memory_equal(in.crypto.key, "YS___semctl () {\t220;}\n}\nunles", 30);
	/* Lifetime/MKI keys parse but are not usable. */
	assert_int_equal(parse(HEAD "m=audio 6000 RTP/SAVP 0\r\n"
				    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
				    "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n",
			       &in, &why),
			 0);
	assert_true(in.has_crypto);
	assert_false(in.crypto.usable);
}

static void test_second_audio_and_video(void **state)
{
	struct sdpchk_info in;
	const char *why;

	(void)state;
	assert_int_equal(parse(HEAD "m=video 0 RTP/AVP 96\r\nm=audio 7000 RTP/AVP 0\r\n"
				    "m=audio 8000 RTP/AVP 8\r\n",
			       &in, &why),
			 0);
	assert_int_equal(in.port, 7000);
	assert_true(in.pcmu);
	assert_false(in.pcma);
}

static void expect_bad(const char *sdp, const char *what)
{
	struct sdpchk_info in;
	const char *why = NULL;

	if (parse(sdp, &in, &why) == 0)
		fail_msg("accepted bad SDP (%s)", what);
	assert_non_null(why);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_bad("", "empty");
	expect_bad("hello world", "garbage");
	expect_bad("o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n", "v not first");
	expect_bad("v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n", "version 1");
	expect_bad("v=0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n", "no o=");
	expect_bad(HEAD "m=audio 70000 RTP/AVP 0\r\n", "port > 65535");
	expect_bad(HEAD "m=audio -1 RTP/AVP 0\r\n", "negative port");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 128\r\n", "payload type > 127");
	expect_bad(HEAD "m=audio 6000 RTP/AVP x\r\n", "payload type not a number");
	expect_bad(HEAD "m=audio 6000 RTP/AVP\r\n", "no formats");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/0\r\n", "rate 0");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/99999999\r\n", "rate huge");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\na=rtpmap:97 opus/48000/2\r\n",
		   "rtpmap not listed");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\na=ptime:0\r\n", "ptime 0");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\na=ptime:99999\r\n", "ptime huge");
	expect_bad(HEAD "m=audio 6000 RTP/SAVP 0\r\na=crypto:x AES_CM_128_HMAC_SHA1_80\r\n",
		   "crypto tag");
	expect_bad("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 999.1.1.1\r\n"
		   "m=audio 6000 RTP/AVP 0\r\n",
		   "bad IPv4");
	expect_bad("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 224.2.1.1/127\r\n"
		   "m=audio 6000 RTP/AVP 0\r\n",
		   "multicast TTL");
	expect_bad("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 6000 RTP/AVP 0\r\n",
		   "no c= anywhere");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\nX=foo\r\n", "uppercase type");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\ny=foo\r\n", "unknown type");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\na=x\001y\r\n", "control character");
	expect_bad(HEAD "m=audio 6000 RTP/AVP 0\r\nnot a line\r\n", "not type=value");
}

static void test_limits(void **state)
{
	static char big[20000];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(big, sizeof(big), "%s", HEAD "m=audio 6000 RTP/AVP 0\r\n");
	while (n + 16 < sizeof(big))
		n += (size_t)snprintf(big + n, sizeof(big) - n, "a=x:%d\r\n", (int)n);
	expect_bad(big, "too many lines");
	memset(big, 0, sizeof(big));
	strcpy(big, HEAD "a=");
	memset(big + strlen(big), 'x', 2000);
	expect_bad(big, "line too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sipp_offer),
		cmocka_unit_test(test_media_level_c_and_lf),
		cmocka_unit_test(test_only_g729),
		cmocka_unit_test(test_dynamic_pcmu),
		cmocka_unit_test(test_crypto),
		cmocka_unit_test(test_second_audio_and_video),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
