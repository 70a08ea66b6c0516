/* sipval.c - request sanity checks before libre's sipsess acts on a request. */
#include "sip/sipval.h"

#include <re.h>
#include <string.h>

static bool pl_digits(const struct pl *pl, size_t maxlen)
{
	if (!pl || !pl->p || pl->l == 0 || pl->l > maxlen)
		return false;
	for (size_t i = 0; i < pl->l; i++)
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	return true;
}

static bool pl_is_printable(const struct pl *pl)
{
	for (size_t i = 0; i < pl->l; i++) {
		unsigned char c = (unsigned char)pl->p[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static void fail(struct sipval_result *r, uint16_t scode, const char *reason)
{
	r->scode = scode;
	r->reason = reason;
}

static bool method_known(const struct pl *met)
{
	static const char *const known[] = { "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS",
					     "REGISTER", "INFO", "UPDATE", "PRACK", "REFER",
					     "NOTIFY", "SUBSCRIBE", "MESSAGE", "PUBLISH" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!pl_strcmp(met, known[i]))
			return true;
	return false;
}

void sipval_request(const struct sip_msg *msg, struct sipval_result *r)
{
	const struct sip_hdr *h;
	size_t left;
	bool is_ack;

	memset(r, 0, sizeof(*r));
	if (!msg || !msg->req) {
		r->drop = true;
		return;
	}
	is_ack = !pl_strcmp(&msg->met, "ACK");
	/* Without a usable Via there is nowhere to send a response. */
	if (sip_msg_hdr_count(msg, SIP_HDR_VIA) < 1 || !pl_isset(&msg->via.sentby) ||
	    !sa_isset(&msg->via.addr, SA_ADDR) || !pl_isset(&msg->via.branch)) {
		r->drop = true;
		fail(r, 400, "Bad Via");
		return;
	}
	if (pl_strcmp(&msg->ver, "SIP/2.0")) {
		fail(r, 505, "Version Not Supported");
		goto out;
	}
	if (!method_known(&msg->met) || msg->met.l > 32) {
		fail(r, 501, "Not Implemented");
		goto out;
	}
	if (pl_strcasecmp(&msg->uri.scheme, "sip") && pl_strcasecmp(&msg->uri.scheme, "sips")) {
		fail(r, 416, "Unsupported URI Scheme");
		goto out;
	}
	if (sip_msg_hdr_count(msg, SIP_HDR_FROM) != 1 || !pl_isset(&msg->from.auri)) {
		fail(r, 400, "Missing or bad From");
		goto out;
	}
	if (sip_msg_hdr_count(msg, SIP_HDR_TO) != 1 || !pl_isset(&msg->to.auri)) {
		fail(r, 400, "Missing or bad To");
		goto out;
	}
	if (sip_msg_hdr_count(msg, SIP_HDR_CALL_ID) != 1 || !pl_isset(&msg->callid) ||
	    msg->callid.l > SIPVAL_MAX_CALLID || !pl_is_printable(&msg->callid)) {
		fail(r, 400, "Missing or bad Call-ID");
		goto out;
	}
	h = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	if (sip_msg_hdr_count(msg, SIP_HDR_CSEQ) != 1 || !h || !pl_isset(&msg->cseq.met)) {
		fail(r, 400, "Missing or bad CSeq");
		goto out;
	}
	{
		/* "CSeq: <1*10 digits> <method>", number < 2^31 (RFC 3261 §8.1.1.5). */
		struct pl num, met;

		if (re_regex(h->val.p, h->val.l, "[0-9]+[ \t]+[^ \t]+", &num, NULL, &met) ||
		    num.p != h->val.p || !pl_digits(&num, 10) || pl_u64(&num) >= 0x80000000ull) {
			fail(r, 400, "Bad CSeq number");
			goto out;
		}
		if (pl_cmp(&msg->cseq.met, &msg->met) &&
		    !(!pl_strcmp(&msg->met, "ACK") && !pl_strcmp(&msg->cseq.met, "INVITE")) &&
		    !(!pl_strcmp(&msg->met, "CANCEL") && !pl_strcmp(&msg->cseq.met, "INVITE"))) {
			fail(r, 400, "CSeq method does not match");
			goto out;
		}
	}
	if (pl_isset(&msg->maxfwd)) {
		if (!pl_digits(&msg->maxfwd, 3) || pl_u32(&msg->maxfwd) > 255) {
			fail(r, 400, "Bad Max-Forwards");
			goto out;
		}
		if (pl_u32(&msg->maxfwd) == 0 && pl_strcmp(&msg->met, "OPTIONS")) {
			fail(r, 483, "Too Many Hops");
			goto out;
		}
	}
	left = mbuf_get_left(msg->mb);
	if (sip_msg_hdr_count(msg, SIP_HDR_CONTENT_LENGTH) > 1) {
		fail(r, 400, "Multiple Content-Length");
		goto out;
	}
	if (pl_isset(&msg->clen)) {
		uint64_t clen;

		if (!pl_digits(&msg->clen, 10)) {
			fail(r, 400, "Bad Content-Length");
			goto out;
		}
		clen = pl_u64(&msg->clen);
		if (clen > left) {
			fail(r, 400, "Content-Length exceeds body");
			goto out;
		}
		left = (size_t)clen; /* UDP: bytes after the body are ignored */
	} else if (msg->tp != SIP_TRANSP_UDP && left) {
		fail(r, 400, "Missing Content-Length");
		goto out;
	}
	if (left > SIPVAL_MAX_BODY) {
		fail(r, 413, "Request Entity Too Large");
		goto out;
	}
	r->body_len = left;
	if (left && (!pl_strcmp(&msg->met, "INVITE") || is_ack)) {
		if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
			fail(r, 415, "Unsupported Media Type");
			goto out;
		}
	}
out:
	if (is_ack && r->scode)
		r->drop = true; /* ACK is never answered */
}
