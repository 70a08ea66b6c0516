/* outgoing.c - outgoing calls (UAC): OUTBOUND_ALLOW and MAX_CALLS checks in the
 * caller's thread, then on the loop an INVITE with our SDP offer (directly to a
 * sip: URI, or through SIP_SERVER with digest auth), 1xx progress, answer,
 * CANCEL when unanswered, and from then on the same media/pipeline path as an
 * incoming call. */
#include "call/callsvc_priv.h"

#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dial_req {
	uint64_t id;
	char to[264];
	char purpose[256];
	unsigned ring_s;
	callsvc_done_h *done;
	void *arg;
};

void dial_req_free(struct dial_req *rq)
{
	free(rq);
}

/* ---------- policy (any thread) ---------- */

bool callsvc_outbound_allowed(const char *patterns, const char *to)
{
	const char *p = patterns;

	if (!p || !to || !*to)
		return false;
	while (*p) {
		char pat[264];
		size_t n = strcspn(p, ", \t");

		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			/* FNM_CASEFOLD: SIP schemes and host names are case-insensitive. */
			if (fnmatch(pat, to, FNM_CASEFOLD) == 0)
				return true;
		}
		p += n;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
	}
	return false;
}

static bool is_number(const char *to)
{
	size_t n = strlen(to);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = to[i];

		if (!(isdigit((unsigned char)ch) || ch == '*' || ch == '#' ||
		      (ch == '+' && i == 0)))
			return false;
	}
	return true;
}

/* A sip: URI libre can decode, with an IP-literal host (no DNS client here). */
static bool uri_usable(const char *to, struct sa *peer)
{
	struct uri u;
	struct pl pl;
	char host[64];

	for (const char *s = to; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '<' || *s == '>' || *s == '"')
			return false;
	if (strncasecmp(to, "sip:", 4) != 0)
		return false;
	pl_set_str(&pl, to);
	if (uri_decode(&u, &pl) || !pl_isset(&u.host) || u.host.l >= sizeof(host))
		return false;
	pl_strcpy(&u.host, host, sizeof(host));
	return sa_set_str(peer, host, u.port ? u.port : 5060) == 0;
}

static bool via_server(const struct conf *c)
{
	return c->sip_server && *c->sip_server;
}

void callsvc_post_dial(struct callsvc *cs, struct dial_req *rq);

int callsvc_dial(struct callsvc *cs, const struct callsvc_dial_params *p, uint64_t *call_id)
{
	const struct conf *c;
	struct dial_req *rq;
	struct sa peer;

	if (!cs || !p || !p->to)
		return EINVAL;
	c = cs->conf;
	if (!callsvc_outbound_allowed(c->outbound_allow, p->to)) {
		log_security("outbound_refused", "call to %s is not allowed by OUTBOUND_ALLOW%s",
			     p->to,
			     c->outbound_allow && *c->outbound_allow ? "" : " (empty: none)");
		return EPERM;
	}
	if (is_number(p->to)) {
		if (!via_server(c)) {
			log_warn(
			    "call: cannot dial the number %s without SIP_SERVER (give a sip: URI)",
			    p->to);
			return EINVAL;
		}
	} else if (!uri_usable(p->to, &peer) || strlen(p->to) >= sizeof(rq->to)) {
		log_warn("call: cannot dial %s: not a number or a sip: URI with an IP address",
			 p->to);
		return EINVAL;
	}
	if (callsvc_calls(cs, NULL, 0) + atomic_load(&cs->pending_dials) >= (size_t)c->max_calls) {
		log_warn("call: MAX_CALLS=%d reached; not dialling %s", c->max_calls, p->to);
		return EBUSY;
	}
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return ENOMEM;
	rq->id = ++cs->next_id;
	str_copy(rq->to, sizeof(rq->to), p->to);
	str_copy(rq->purpose, sizeof(rq->purpose), p->purpose);
	rq->ring_s = p->ring_s ? p->ring_s : CALL_DIAL_RING_S;
	rq->done = p->done;
	rq->arg = p->arg;
	if (call_id)
		*call_id = rq->id;
	atomic_fetch_add(&cs->pending_dials, 1);
	callsvc_post_dial(cs, rq);
	return 0;
}

/* ---------- the loop ---------- */

static int auth_handler(char **user, char **pass, const char *realm, void *arg)
{
	struct call *call = arg;
	const struct conf *c = call->cs->conf;
	const char *u = c->sip_auth_user && *c->sip_auth_user ? c->sip_auth_user : c->sip_username;
	int err;

	if (!u || !*u || !c->sip_password) {
		log_warn("call %llu: challenged by %s but no SIP_USERNAME/SIP_PASSWORD",
			 (unsigned long long)call->id, realm);
		return EACCES;
	}
	err = str_dup(user, u);
	if (!err)
		err = str_dup(pass, c->sip_password);
	return err;
}

static void progress_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	size_t len;

	(void)call_body_of(msg, &len);
	log_info("call %llu: %u %.*s%s", (unsigned long long)call->id, msg->scode,
		 (int)msg->reason.l, msg->reason.p, len ? " (early media not played)" : "");
}

static void estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct callsvc *cs = call->cs;

	(void)msg;
	if (call->answered || call->ended)
		return;
	tmr_cancel(&call->tmr_ring);
	call->answered = true;
	call_set_state(call, "active");
	call->rowdata.answered_at = time_now_ms();
	str_copy(call->rowdata.status, sizeof(call->rowdata.status), "in_progress");
	callstore_update(cs->rows, call->row, &call->rowdata, false);
	log_info("call %llu: answered by %s", (unsigned long long)call->id, call->rowdata.callee);
	call_start_media(call);
	if (cs->conf->max_call_seconds > 0)
		tmr_start(&call->tmr_max, (uint64_t)cs->conf->max_call_seconds * 1000,
			  call_max_duration, call);
	callsvc_snapshot(cs);
}

static void ring_timeout(void *arg)
{
	struct call *call = arg;

	log_info("call %llu: no answer from %s; cancelling", (unsigned long long)call->id,
		 call->rowdata.callee);
	call->final_scode = 408;
	/* Releasing an unanswered client session makes libre send CANCEL. */
	call_hangup(call, "failed", "no_answer");
}

static void report(struct dial_req *rq, unsigned scode, const char *reason)
{
	if (rq->done)
		rq->done(rq->arg, rq->id, scode, "failed", reason);
}

static void user_part(const char *to, char *out, size_t size)
{
	const char *s = to, *at;

	if (!strncasecmp(s, "sip:", 4))
		s += 4;
	at = strchr(s, '@');
	if (at && (size_t)(at - s) < size) {
		memcpy(out, s, (size_t)(at - s));
		out[at - s] = '\0';
	} else {
		str_copy(out, size, s);
	}
	for (char *o = out; *o; o++)
		if ((unsigned char)*o < 0x20 || *o == 0x7f)
			*o = '?';
}

void call_outgoing(struct callsvc *cs, struct dial_req *rq)
{
	const struct conf *c = cs->conf;
	bool server = via_server(c);
	const char *domain =
	    c->sip_domain && *c->sip_domain ? c->sip_domain : c->sip_server_hp.host;
	const char *user = c->sip_username && *c->sip_username ? c->sip_username : "callbot";
	char to_uri[600], from_uri[600], route[320];
	const char *routev[1];
	struct sa peer, lip, media;
	struct mbuf *desc = NULL;
	struct call *call;
	int err;

	atomic_fetch_sub(&cs->pending_dials, 1);
	if (cs->stopping) {
		report(rq, 503, "shutdown");
		goto out;
	}
	if (cs->ncalls >= (unsigned)c->max_calls) {
		log_warn("call: MAX_CALLS=%d reached; not dialling %s", c->max_calls, rq->to);
		report(rq, 486, "busy");
		goto out;
	}
	if (is_number(rq->to))
		snprintf(to_uri, sizeof(to_uri), "sip:%s@%s", rq->to, domain);
	else
		str_copy(to_uri, sizeof(to_uri), rq->to);
	if (server) {
		const struct hostport *hp = &c->sip_server_hp;
		uint16_t port =
		    hp->port ? hp->port : (c->sip_transport == SIP_TP_TLS ? 5061 : 5060);

		/* "[v6]:port" or "host:port" */
		if (strchr(hp->host, ':'))
			snprintf(route, sizeof(route), "sip:[%s]:%u;lr", hp->host, port);
		else
			snprintf(route, sizeof(route), "sip:%s:%u;lr%s", hp->host, port,
				 c->sip_transport == SIP_TP_TCP	  ? ";transport=tcp"
				 : c->sip_transport == SIP_TP_TLS ? ";transport=tls"
								  : "");
		routev[0] = route;
		err = sa_set_str(&peer, hp->host, port);
		snprintf(from_uri, sizeof(from_uri), "sip:%s@%s", user, domain);
	} else {
		err = uri_usable(to_uri, &peer) ? 0 : EINVAL;
	}
	if (!err)
		err = callsvc_local_ip(cs, &peer, &lip);
	if (err) {
		log_warn("call: cannot dial %s: no route (%s)", rq->to, strerror(err));
		report(rq, 0, "no_route");
		goto out;
	}
	if (!server)
		re_snprintf(from_uri, sizeof(from_uri), "sip:callbot@%j", &lip);

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call) {
		report(rq, 0, "no_memory");
		goto out;
	}
	call->cs = cs;
	call->id = rq->id;
	call->outbound = true;
	call->started_ms = time_now_ms();
	call->done = rq->done;
	call->done_arg = rq->arg;
	call_set_state(call, "ringing");
	str_copy(call->rowdata.caller, sizeof(call->rowdata.caller), user);
	user_part(rq->to, call->rowdata.callee, sizeof(call->rowdata.callee));

	err = rtpstream_alloc(&call->rtp, &lip, (uint16_t)c->rtp_port_min,
			      (uint16_t)c->rtp_port_max, &cs->rtp_cursor);
	if (err) {
		log_error("call: no free RTP port in RTP_PORTS=%s: %s", c->rtp_ports,
			  strerror(err));
		goto fail;
	}
	media = lip;
	sa_set_port(&media, rtpstream_lport(call->rtp));
	call->srtp = c->srtp == SRTP_REQUIRED; /* optional: plain RTP offered (see docs/sip.md) */
	err = call_sdp_setup(call, &media);
	if (!err && call->srtp) {
		rand_bytes(call->key_tx, sizeof(call->key_tx));
		err = call_set_crypto_attr(call, 1);
	}
	if (!err)
		err = sdp_encode(&desc, call->sdp, true);
	if (err)
		goto fail;
	err = sipsess_connect(&call->sess, cs->sock, to_uri, NULL, from_uri, user,
			      server ? routev : NULL, server ? 1 : 0, "application/sdp", desc,
			      auth_handler, call, false, call_offer_handler, call_answer_handler,
			      progress_handler, estab_handler, call_info_handler, NULL,
			      call_close_handler, call, SIP_ALLOW_HDR);
	desc = mem_deref(desc);
	if (err) {
		log_error("call: cannot send INVITE to %s: %s", to_uri, strerror(err));
		goto fail;
	}
	{
		struct sip_dialog *dlg = sipsess_dialog(call->sess);

		if (dlg)
			str_copy(call->rowdata.sip_call_id, sizeof(call->rowdata.sip_call_id),
			      sip_dialog_callid(dlg));
	}
	call_enlist(cs, call);
	call->rowdata.started_at = call->started_ms;
	str_copy(call->rowdata.status, sizeof(call->rowdata.status), "ringing");
	call->row = callstore_insert(cs->rows, &call->rowdata);
	log_info("call %llu: outgoing INVITE to %s%s%s%s%s", (unsigned long long)call->id, to_uri,
		 server ? " via " : "", server ? c->sip_server : "",
		 rq->purpose[0] ? ", purpose: " : "", rq->purpose);
	tmr_start(&call->tmr_ring, (uint64_t)rq->ring_s * 1000, ring_timeout, call);
	callsvc_snapshot(cs);
	goto out;

fail:
	mem_deref(desc);
	call->done = NULL;
	mem_deref(call);
	report(rq, 0, "failed_to_start");
out:
	dial_req_free(rq);
}
