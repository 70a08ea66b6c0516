/* test_sip_val.c - request screening (sip/sipval.c) on messages decoded by
 * libre: what libre 1.1.0 would accept but callbot must refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <re.h>

#include "sip/sipval.h"

#define VIA "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n"
#define FROM "From: <sip:alice@127.0.0.1>;tag=1\r\n"
#define TO "To: <sip:bot@127.0.0.1>\r\n"
#define CID "Call-ID: abc@127.0.0.1\r\n"
#define CSEQ "CSeq: 1 INVITE\r\n"
#define MF "Max-Forwards: 70\r\n"
#define SDP "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
	    "m=audio 6000 RTP/AVP 0\r\n"

/* Decodes text as a UDP datagram and screens it. Returns -1 if libre cannot
 * even decode it (such datagrams are dropped before we see them). */
static int screen(const char *text, struct sipval_result *r)
{
	struct mbuf *mb = mbuf_alloc(strlen(text) + 1);
	struct sip_msg *msg = NULL;
	int rc;

	assert_non_null(mb);
	mbuf_write_str(mb, text);
	mb->pos = 0;
	if (sip_msg_decode(&msg, mb)) {
		mem_deref(mb);
		return -1;
	}
	msg->tp = SIP_TRANSP_UDP;
	(void)sa_set_str(&msg->src, "127.0.0.1", 5070);
	sipval_request(msg, r);
	rc = r->scode;
	mem_deref(msg);
	mem_deref(mb);
	return rc;
}

static void test_valid_invite(void **state)
{
	struct sipval_result r;
	char buf[1024];

	(void)state;
	snprintf(buf, sizeof(buf),
		 "INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID CSEQ MF
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n" SDP,
		 strlen(SDP));
	assert_int_equal(screen(buf, &r), 0);
	assert_false(r.drop);
	assert_int_equal(r.body_len, strlen(SDP));
}

static void test_trailing_bytes_ignored(void **state)
{
	struct sipval_result r;

	(void)state;
	/* UDP: bytes after Content-Length are ignored (RFC 3261 §18.3). */
	assert_int_equal(screen("OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID
				"CSeq: 2 OPTIONS\r\n" MF "Content-Length: 0\r\n\r\nJUNK",
				&r),
			 0);
	assert_int_equal(r.body_len, 0);
}

static void expect(const char *text, int scode, const char *why)
{
	struct sipval_result r;
	int rc = screen(text, &r);

	if (rc != scode)
		fail_msg("%s: got %d, want %d", why, rc, scode);
}

static void test_missing_headers(void **state)
{
	(void)state;
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA TO CID CSEQ MF "Content-Length: 0\r\n\r\n",
	       400, "no From");
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM CID CSEQ MF "Content-Length: 0\r\n\r\n",
	       400, "no To");
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CSEQ MF "Content-Length: 0\r\n\r\n",
	       400, "no Call-ID");
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID MF "Content-Length: 0\r\n\r\n",
	       400, "no CSeq");
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID CID CSEQ MF
	       "Content-Length: 0\r\n\r\n",
	       400, "two Call-IDs");
}

static void test_no_via_is_dropped(void **state)
{
	struct sipval_result r;

	(void)state;
	screen("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" FROM TO CID CSEQ MF "Content-Length: 0\r\n\r\n",
	       &r);
	assert_true(r.drop);
}

static void test_cseq(void **state)
{
	(void)state;
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 BYE\r\n" MF
	       "Content-Length: 0\r\n\r\n",
	       400, "CSeq method mismatch");
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID "CSeq: 4294967296 INVITE\r\n" MF
	       "Content-Length: 0\r\n\r\n",
	       400, "CSeq too large");
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID "CSeq: abc INVITE\r\n" MF
	       "Content-Length: 0\r\n\r\n",
	       -1, "CSeq not a number (libre drops it)");
	/* ACK and CANCEL carry the INVITE's CSeq method... */
	expect("CANCEL sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 CANCEL\r\n" MF
	       "Content-Length: 0\r\n\r\n",
	       0, "CANCEL");
}

static void test_content_length(void **state)
{
	char buf[1024];

	(void)state;
	snprintf(buf, sizeof(buf),
		 "INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID CSEQ MF
		 "Content-Type: application/sdp\r\nContent-Length: 99999999\r\n\r\n" SDP);
	expect(buf, 400, "Content-Length larger than the datagram");
	snprintf(buf, sizeof(buf),
		 "INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID CSEQ MF
		 "Content-Type: application/sdp\r\nContent-Length: -5\r\n\r\n" SDP);
	expect(buf, 400, "negative Content-Length");
	snprintf(buf, sizeof(buf),
		 "INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID CSEQ MF
		 "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n" SDP,
		 strlen(SDP));
	expect(buf, 415, "body not SDP");
}

static void test_misc(void **state)
{
	(void)state;
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID CSEQ "Max-Forwards: 0\r\n"
	       "Content-Length: 0\r\n\r\n",
	       483, "Max-Forwards 0");
	expect("INVITE sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID CSEQ "Max-Forwards: many\r\n"
	       "Content-Length: 0\r\n\r\n",
	       400, "Max-Forwards not a number");
	expect("INVITE tel:+15551234 SIP/2.0\r\n" VIA FROM TO CID CSEQ MF "Content-Length: 0\r\n\r\n",
	       416, "tel: URI");
	expect("FOO sip:bot@127.0.0.1 SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 FOO\r\n" MF
	       "Content-Length: 0\r\n\r\n",
	       501, "unknown method");
}

static void test_undecodable(void **state)
{
	struct sipval_result r;

	(void)state;
	assert_int_equal(screen("\x01\x02garbage", &r), -1);
	assert_int_equal(screen("INVITE sip:bot@127.0.0.1 SIP/2.0\r\nVia: x\r\n", &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_invite),
		cmocka_unit_test(test_trailing_bytes_ignored),
		cmocka_unit_test(test_missing_headers),
		cmocka_unit_test(test_no_via_is_dropped),
		cmocka_unit_test(test_cseq),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_misc),
		cmocka_unit_test(test_undecodable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
