/* sipval.h - sanity checks of incoming SIP requests (RFC 3261 §8.2, §16.3) that
 * libre 1.1.0 does not do: it answers 2xx to requests missing mandatory headers. */
#ifndef CALLBOT_SIP_SIPVAL_H
#define CALLBOT_SIP_SIPVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sip_msg;

struct sipval_result {
	uint16_t scode;     /* 0 = valid; else the response to send */
	const char *reason; /* reason phrase, e.g. "Missing Call-ID" */
	bool drop;          /* no reply possible or allowed (ACK, no Via) */
	size_t body_len;    /* the body to use (Content-Length honoured) */
};

/* Checks one request. On success r->scode is 0 and r->body_len is the size of
 * the body that starts at mbuf_buf(msg->mb). */
void sipval_request(const struct sip_msg *msg, struct sipval_result *r);

/* Limits on what we store or act on. */
#define SIPVAL_MAX_BODY 16384
#define SIPVAL_MAX_CALLID 255

#endif
