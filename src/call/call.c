/* call.c - one incoming call: admission (allow-list, MAX_CALLS, SDP policy),
 * ringing, answer, SDP offer/answer with libre's sdp module, media start,
 * session timer, limits, hang-up in either direction, and its call row. */
#include "call/callsvc_priv.h"

#include "core/log.h"
#include "sip/sipval.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


void call_set_state(struct call *call, const char *state)
{
	str_copy(call->state, sizeof(call->state), state);
}

void call_destructor(void *arg)
{
	struct call *call = arg;

	tmr_cancel(&call->tmr_answer);
	tmr_cancel(&call->tmr_max);
	tmr_cancel(&call->tmr_se);
	tmr_cancel(&call->tmr_free);
	tmr_cancel(&call->tmr_ring);
	call_transfer_cancel(call);
	mem_deref(call->sess);
	mem_deref(call->sdp);
	mem_deref(call->rtp);
	mem_deref(call->answer);
	if (call->mc)
		mediachan_close(call->mc, "shutdown");
	recording_close(call->rec);
}

struct call *call_find(struct callsvc *cs, uint64_t id)
{
	for (struct le *le = cs->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (call->id == id)
			return call;
	}
	return NULL;
}

static void free_later(void *arg)
{
	struct call *call = arg;

	list_unlink(&call->le);
	mem_deref(call);
}

/* Bookkeeping common to every end of a call; sends nothing. */
void call_end(struct call *call, const char *status, const char *reason)
{
	struct callsvc *cs = call->cs;

	if (call->ended)
		return;
	call->ended = true;
	tmr_cancel(&call->tmr_answer);
	tmr_cancel(&call->tmr_max);
	tmr_cancel(&call->tmr_se);
	tmr_cancel(&call->tmr_ring);
	call_transfer_cancel(call);
	if (call->mc) {
		mediachan_close(call->mc, reason);
		call->mc = NULL;
	}
	if (call->rec) {
		recording_close(call->rec);
		call->rec = NULL;
	}
	if (call->rtp) {
		struct rtpstream_stats st;

		rtpstream_stats(call->rtp, &st);
		log_info("call %llu: ended (%s, %s); rtp rx %llu tx %llu lost %llu late %llu "
			 "srtp-fail %llu dtmf %llu",
			 (unsigned long long)call->id, status, reason,
			 (unsigned long long)st.rx_packets, (unsigned long long)st.tx_packets,
			 (unsigned long long)st.lost, (unsigned long long)st.late,
			 (unsigned long long)st.rx_srtp_fail, (unsigned long long)st.dtmf);
		call->rtp = mem_deref(call->rtp);
	}
	call_set_state(call, "ended");
	call->rowdata.ended_at = time_now_ms();
	str_copy(call->rowdata.status, sizeof(call->rowdata.status), status);
	str_copy(call->rowdata.end_reason, sizeof(call->rowdata.end_reason), reason);
	callstore_update(cs->rows, call->row, &call->rowdata, true);
	call->row = NULL;
	list_unlink(&call->le);
	list_append(&cs->dead, &call->le, call);
	cs->ncalls--;
	list_unlink(&call->le_slot);
	cs->slot_n[call->slot]--;
	/* The session may still be on libre's stack: free it next loop turn. */
	tmr_start(&call->tmr_free, 0, free_later, call);
	callsvc_snapshot(cs);
	if (call->done) {
		callsvc_done_h *done = call->done;

		call->done = NULL;
		done(call->done_arg, call->id, call->answered ? 200 : call->final_scode, status,
		     reason);
	}
}

void call_hangup(struct call *call, const char *status, const char *reason)
{
	if (call->ended)
		return;
	if (call->sess && !call->answered && !call->outbound)
		(void)sipsess_reject(call->sess, 480, "Temporarily Unavailable", NULL);
	/* Releasing an established session makes libre send BYE. */
	call->sess = mem_deref(call->sess);
	call_end(call, status, reason);
}

/* RTP_TIMEOUT: a caller that vanished without BYE (network gone, phone crashed) stops
 * sending RTP; end the call rather than keep a line and a pipeline busy. */
static void check_rtp_timeout(struct call *call)
{
	int64_t now = time_mono_ms(), limit = (int64_t)call->cs->conf->rtp_timeout * 1000;
	struct rtpstream_stats st;

	if (!limit || now - call->rtp_checked_ms < 1000)
		return;
	call->rtp_checked_ms = now;
	rtpstream_stats(call->rtp, &st);
	if (st.rx_packets != call->rtp_rx_last || call->held || !call->rtp_seen_ms) {
		call->rtp_rx_last = st.rx_packets;
		call->rtp_seen_ms = now;
		return;
	}
	if (now - call->rtp_seen_ms >= limit) {
		log_info("call %llu: no RTP from the caller for %d s (RTP_TIMEOUT): hanging up",
			 (unsigned long long)call->id, call->cs->conf->rtp_timeout);
		call_hangup(call, "completed", "rtp_timeout");
	}
}

void call_enlist(struct callsvc *cs, struct call *call)
{
	unsigned best = 0;

	for (unsigned i = 1; i < MEDIA_SLOTS; i++)
		if (cs->slot_n[i] < cs->slot_n[best])
			best = i;
	call->slot = best;
	cs->slot_n[best]++;
	list_append(&cs->slots[best], &call->le_slot, call);
	list_append(&cs->calls, &call->le, call);
	cs->ncalls++;
	if (cs->clk_paused && cs->clk) {
		int err = mclock_set(cs->clk, MEDIA_TICK_MS);

		if (err)
			log_error("call %llu: cannot restart the media clock: %s (tried again with "
				  "the next call)", (unsigned long long)call->id, strerror(err));
		else
			cs->clk_paused = false;
	}
}

static bool call_has_media(const struct call *call)
{
	return !call->ended && call->answered && call->rtp;
}

void call_tick_send(struct call *call)
{
	if (call_has_media(call))
		rtpstream_tick_send(call->rtp);
}

void call_tick_recv(struct call *call)
{
	if (!call_has_media(call))
		return;
	rtpstream_tick_recv(call->rtp);
	check_rtp_timeout(call);
}

/* ---------- SDP ---------- */

int call_sdp_setup(struct call *call, const struct sa *media_addr)
{
	struct sdp_media *m;
	int err;

	err = sdp_session_alloc(&call->sdp, media_addr);
	if (err)
		return err;
	err = sdp_media_add(&m, call->sdp, "audio", sa_port(media_addr),
			    call->srtp ? sdp_proto_rtpsavp : sdp_proto_rtpavp);
	if (err)
		return err;
	err = sdp_media_set_alt_protos(m, 2, sdp_proto_rtpavp, sdp_proto_rtpsavp);
	err |= sdp_format_add(NULL, m, false, "0", "PCMU", 8000, 1, NULL, NULL, NULL, false,
			      NULL);
	err |= sdp_format_add(NULL, m, false, "8", "PCMA", 8000, 1, NULL, NULL, NULL, false,
			      NULL);
	err |= sdp_format_add(NULL, m, false, "101", "telephone-event", 8000, 1, NULL, NULL,
			      NULL, false, "0-15");
	err |= sdp_media_set_lattr(m, false, "ptime", "20");
	call->sdpm = m;
	return err;
}

int call_set_crypto_attr(struct call *call, unsigned tag)
{
	char b64[48];
	size_t n = sizeof(b64) - 1;
	int err;

	err = base64_encode(call->key_tx, sizeof(call->key_tx), b64, &n);
	if (err)
		return err;
	b64[n] = '\0';
	return sdp_media_set_lattr(call->sdpm, true, "crypto", "%u AES_CM_128_HMAC_SHA1_80 inline:%s",
				   tag, b64);
}

static bool srtp_acceptable(struct callsvc *cs, const struct sdpchk_info *info,
			    const struct sip_msg *msg, struct negotiation *neg)
{
	switch (cs->conf->srtp) {
	case SRTP_OFF:
		if (info->savp) {
			neg->reason = "SRTP not enabled (SRTP=off)";
			return false;
		}
		return true;
	case SRTP_OPTIONAL:
		if (info->savp && !info->crypto.usable) {
			neg->reason = "No supported SRTP crypto suite";
			return false;
		}
		return true;
	default:
		if (info->savp && info->crypto.usable)
			return true;
		neg->reason = "SRTP required";
		log_security("srtp_refused", "%s offer from %s without usable SDES-SRTP "
			     "(SRTP=required)", info->savp ? "RTP/SAVP" : "plain RTP", SA_TEXT(&msg->src));
		return false;
	}
}

/* Validates body (an offer, or an answer to our offer), applies it with
 * libre's sdp module and reconfigures the RTP stream. */
/* A re-INVITE put the call on hold (sendonly/inactive) or took it off: the pipeline
 * pauses, and no RTP is expected meanwhile. */
static void set_hold(struct call *call, bool held)
{
	struct media_event ev = { .type = held ? MEDIA_EV_HOLD : MEDIA_EV_RESUME };

	if (call->held == held)
		return;
	call->held = held;
	if (!call->transferring)
		call_set_state(call, held ? "held" : "active");
	call->rtp_seen_ms = time_mono_ms();
	if (call->mc)
		mediachan_push_event(call->mc, &ev);
}

int call_negotiate(struct call *call, const struct sip_msg *msg, const char *body, size_t len,
		     bool offer, struct negotiation *neg)
{
	struct callsvc *cs = call->cs;
	struct sdpchk_info info;
	const char *why;
	struct mbuf *mb;
	const struct sdp_format *codec = NULL, *telev = NULL;
	const struct sa *raddr;
	enum sdp_dir dir;
	int err;

	neg->scode = 488;
	neg->reason = "Not Acceptable Here";
	if (sdpchk_parse(body, len, &info, &why)) {
		neg->scode = 400;
		neg->reason = why;
		return EBADMSG;
	}
	if (!info.has_audio || !info.proto_rtp) {
		neg->reason = "No audio stream";
		return EPROTO;
	}
	if (!info.pcmu && !info.pcma) {
		neg->reason = "No common codec (PCMU or PCMA)";
		return EPROTO;
	}
	if (!srtp_acceptable(cs, &info, msg, neg))
		return EPROTO;
	mb = mbuf_alloc(len);
	if (!mb)
		return ENOMEM;
	(void)mbuf_write_mem(mb, (const uint8_t *)body, len);
	mb->pos = 0;
	err = sdp_decode(call->sdp, mb, offer);
	mem_deref(mb);
	if (err) {
		neg->reason = "Unusable SDP";
		return err;
	}
	for (struct le *le = sdp_media_format_lst(call->sdpm, false)->head; le; le = le->next) {
		const struct sdp_format *f = le->data;

		if (!f->sup)
			continue;
		if (!codec && (!str_casecmp(f->name, "PCMU") || !str_casecmp(f->name, "PCMA")))
			codec = f;
		else if (!telev && !str_casecmp(f->name, "telephone-event"))
			telev = f;
	}
	if (!codec || (codec->pt != 0 && codec->pt != 8)) {
		neg->reason = "No common codec (PCMU or PCMA)";
		return EPROTO;
	}
	if (info.savp) {
		if (!call->srtp) {
			rand_bytes(call->key_tx, sizeof(call->key_tx));
			call->srtp = true;
		}
		if (offer) {
			err = call_set_crypto_attr(call, info.crypto.tag);
			if (err)
				return err;
		}
		if (!call->srtp_rx_set || memcmp(call->key_rx, info.crypto.key, 30)) {
			memcpy(call->key_rx, info.crypto.key, 30);
			err = rtpstream_set_srtp(call->rtp, call->key_tx, call->key_rx);
			if (err)
				return err;
			call->srtp_rx_set = true;
		}
	}
	raddr = sdp_media_raddr(call->sdpm);
	rtpstream_set_remote(call->rtp, raddr, codec->pt, telev ? telev->pt : -1);
	dir = sdp_media_dir(call->sdpm);
	rtpstream_set_send(call->rtp, (dir & SDP_SENDONLY) != 0);
	if (call->answered)
		set_hold(call, dir != SDP_SENDRECV);
	log_info("call %llu: media %s %s %s%s%s", (unsigned long long)call->id, SA_TEXT(raddr),
		 codec->name, info.savp ? "SRTP " : "", sdp_dir_name(dir),
		 telev ? " +telephone-event" : "");
	return 0;
}

const char *call_body_of(const struct sip_msg *msg, size_t *len)
{
	struct sipval_result r;

	if (!msg->req) { /* a response (outgoing calls): Content-Length, within the datagram */
		size_t left = mbuf_get_left(msg->mb);
		uint32_t clen = pl_isset(&msg->clen) ? pl_u32(&msg->clen) : (uint32_t)left;

		*len = clen < left ? clen : left;
		if (*len > 16384)
			*len = 0;
		return (const char *)mbuf_buf(msg->mb);
	}
	sipval_request(msg, &r);
	*len = r.scode ? 0 : r.body_len;
	return (const char *)mbuf_buf(msg->mb);
}

/* ---------- session timer (RFC 4028) ---------- */

static void se_expired(void *arg)
{
	struct call *call = arg;

	log_info("call %llu: session not refreshed within %u s", (unsigned long long)call->id,
		 call->session_expires);
	call_hangup(call, "failed", "session_expired");
}

static void se_restart(struct call *call)
{
	uint32_t se = call->session_expires, slack;

	if (!call->se_active)
		return;
	slack = se / 3 < 32 ? se / 3 : 32;
	tmr_start(&call->tmr_se, (uint64_t)(se - slack) * 1000, se_expired, call);
}

/* ---------- sipsess handlers ---------- */

int call_offer_handler(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct negotiation neg;
	const char *body;
	size_t len;
	int err;

	body = call_body_of(msg, &len);
	se_restart(call);
	if (!len) /* re-INVITE without SDP: we offer, the answer comes in the ACK */
		return sdp_encode(descp, call->sdp, true);
	err = call_negotiate(call, msg, body, len, true, &neg);
	if (err) {
		log_info("call %llu: re-INVITE refused: %s", (unsigned long long)call->id,
			 neg.reason);
		return err;
	}
	callsvc_snapshot(call->cs);
	return sdp_encode(descp, call->sdp, false);
}

int call_answer_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct negotiation neg;
	const char *body;
	size_t len;
	int err;

	body = call_body_of(msg, &len);
	if (!len) {
		log_info("call %llu: %s without the SDP answer", (unsigned long long)call->id,
			 msg->req ? "ACK" : "answer");
		return EPROTO;
	}
	err = call_negotiate(call, msg, body, len, false, &neg);
	if (err)
		log_info("call %llu: SDP answer refused: %s", (unsigned long long)call->id,
			 neg.reason);
	return err;
}

static void estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	(void)msg;
	log_debug("call %llu: ACK received", (unsigned long long)call->id);
}

/* SIP INFO DTMF (application/dtmf-relay "Signal=5" or application/dtmf "5"). */
void call_info_handler(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct media_event ev = { .type = MEDIA_EV_DTMF, .duration_ms = 100 };
	const char *body;
	size_t len;
	struct pl sig, dur;

	body = call_body_of(msg, &len);
	if (msg_ctype_cmp(&msg->ctyp, "application", "dtmf-relay") &&
	    !re_regex(body, len, "Signal=[ ]*[0-9*#A-Da-d]1", NULL, &sig)) {
		ev.digit = sig.p[0];
		if (!re_regex(body, len, "Duration=[ ]*[0-9]+", NULL, &dur))
			ev.duration_ms = pl_u32(&dur);
	} else if (msg_ctype_cmp(&msg->ctyp, "application", "dtmf") &&
		   !re_regex(body, len, "[0-9*#A-Da-d]1", &sig)) {
		ev.digit = sig.p[0];
	} else {
		(void)sip_reply(sip, msg, 415, "Unsupported Media Type");
		return;
	}
	if (ev.digit >= 'a' && ev.digit <= 'd')
		ev.digit = (char)(ev.digit - 'a' + 'A');
	(void)sip_reply(sip, msg, 200, "OK");
	if (call->mc)
		mediachan_push_event(call->mc, &ev);
}

void call_close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	char reason[48];

	if (err == ECONNRESET) {
		/* Caller's BYE or CANCEL: a normal end (msg is NULL then). */
		if (call->outbound)
			call_end(call, call->answered ? "completed" : "failed",
				 call->answered ? "callee_bye" : "remote_reset");
		else if (call->answered)
			call_end(call, "completed", "caller_bye");
		else
			call_end(call, "missed", "caller_cancel");
		return;
	}
	if (msg && msg->scode) {
		snprintf(reason, sizeof(reason), "sip_%u", msg->scode);
		if (!call->answered)
			call->final_scode = msg->scode;
		if (call->outbound && (msg->scode == 401 || msg->scode == 407))
			log_security("sip_auth_failed", "%s refused our credentials for an outgoing "
				     "call to %s (%u)", SA_TEXT(&msg->src), call->rowdata.callee,
				     msg->scode);
	}
	else
		snprintf(reason, sizeof(reason), "%s",
			 err == ETIMEDOUT ? (call->outbound ? "timeout" : "no_ack") : err ? strerror(err) : "closed");
	call_end(call, call->answered ? "completed" : "failed", reason);
}

/* ---------- answer ---------- */

void call_max_duration(void *arg)
{
	struct call *call = arg;

	log_info("call %llu: MAX_CALL_SECONDS=%d reached, hanging up",
		 (unsigned long long)call->id, call->cs->conf->max_call_seconds);
	call_hangup(call, "completed", "max_duration");
}

static void release_row(void *record, void *arg)
{
	callstore_row_release(arg, record);
}

void call_start_media(struct call *call)
{
	struct callsvc *cs = call->cs;
	const struct conf *c = cs->conf;
	struct media_call_info ci = {
		.call_id = call->id,
		.caller = call->rowdata.caller,
		.callee = call->rowdata.callee,
		.sip_call_id = call->rowdata.sip_call_id,
		.record = call->row,
		.record_release = release_row,
		.record_arg = cs->rows,
		.aec = cs->conf->aec && cs->conf->bot_mode == BOT_AI,
	};
	int err;

	/* The channel keeps the row alive for turns stored after the call ended. */
	callstore_row_hold(call->row);
	err = mediachan_alloc(&call->mc, cs->mw, &ci, callsvc_media_control_handler(), cs);
	if (err) {
		callstore_row_release(cs->rows, call->row);
		log_error("call %llu: no media channel: %s", (unsigned long long)call->id,
			  strerror(err));
	}
	if (c->record_calls && c->audio_dir && *c->audio_dir) {
		char path[512], stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		if (snprintf(path, sizeof(path), "%s/call-%s-%llu-%08x.wav", c->audio_dir, stamp,
			     (unsigned long long)call->id, rand_u32()) < (int)sizeof(path)) {
			call->rec = recording_open(cs->recorder, path);
			if (call->rec)
				str_copy(call->rowdata.recording_path,
					 sizeof(call->rowdata.recording_path), path);
		}
	}
	rtpstream_attach(call->rtp, call->mc, call->rec);
}

static void answer_now(void *arg)
{
	struct call *call = arg;
	char se_hdr[96] = "";
	int err;

	if (call->se_active)
		snprintf(se_hdr, sizeof(se_hdr), "Session-Expires: %u;refresher=uac\r\n"
			 "Require: timer\r\n", call->session_expires);
	err = sipsess_answer(call->sess, 200, "OK", call->answer,
			     SIP_ALLOW_HDR "Supported: timer\r\n%s", se_hdr);
	if (err) {
		log_error("call %llu: cannot answer: %s", (unsigned long long)call->id,
			  strerror(err));
		call_hangup(call, "failed", "answer_failed");
		return;
	}
	call->answer = mem_deref(call->answer);
	call->answered = true;
	call_set_state(call, "active");
	call->rowdata.answered_at = time_now_ms();
	str_copy(call->rowdata.status, sizeof(call->rowdata.status), "in_progress");
	callstore_update(call->cs->rows, call->row, &call->rowdata, false);
	call_start_media(call);
	if (call->cs->conf->max_call_seconds > 0)
		tmr_start(&call->tmr_max, (uint64_t)call->cs->conf->max_call_seconds * 1000,
			  call_max_duration, call);
	se_restart(call);
	callsvc_snapshot(call->cs);
}

/* ---------- admission ---------- */

static void user_of(const struct sip_taddr *a, char *out, size_t size)
{
	const struct pl *pl = pl_isset(&a->uri.user) ? &a->uri.user : &a->auri;
	size_t n = pl->l < size - 1 ? pl->l : size - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)pl->p[i];

		out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[n] = '\0';
}

static bool source_allowed(struct callsvc *cs, const struct sip_msg *msg)
{
	const struct conf *c = cs->conf;
	struct sa srv;

	if (!c->sip_allow_n)
		return true;
	if (cidr_list_match(c->sip_allow, c->sip_allow_n, &msg->src.u.sa))
		return true;
	/* Calls relayed by our own registrar are always welcome. */
	if (c->sip_server && *c->sip_server && !sa_set_str(&srv, c->sip_server_hp.host, 0) &&
	    sa_cmp(&srv, &msg->src, SA_ADDR))
		return true;
	return false;
}

/* Session-Expires handling; false when a 422 was sent. */
static bool session_timer(struct call *call, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	struct pl num;
	uint32_t se;

	if (!h || re_regex(h->val.p, h->val.l, "[0-9]+", &num) || num.p != h->val.p)
		return true;
	se = pl_u32(&num);
	if (se < CALL_MIN_SE) {
		(void)sip_treplyf(NULL, NULL, call->cs->sip, msg, false, 422,
				  "Session Interval Too Small", "Min-SE: %u\r\nContent-Length: 0\r\n\r\n",
				  CALL_MIN_SE);
		return false;
	}
	if (!sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED, "timer"))
		return true; /* the caller cannot refresh for us: no timer */
	call->session_expires = se > 86400 ? 86400 : se;
	call->se_active = true;
	return true;
}

static void reject(struct callsvc *cs, const struct sip_msg *msg, uint16_t scode,
		   const char *reason)
{
	(void)sip_treply(NULL, cs->sip, msg, scode, reason);
}

/* Where the call came from (the Contact's host[:port], else the packet's source): an
 * extension to transfer to is dialled there when there is no registrar. */
static void remember_peer(struct call *call, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;

	if (h && !sip_addr_decode(&addr, &h->val) && addr.uri.host.l)
		re_snprintf(call->peer, sizeof(call->peer), "%s%r%s", addr.uri.af == AF_INET6 ?
			    "[" : "", &addr.uri.host, addr.uri.af == AF_INET6 ? "]" : "");
	else
		sa_ntop(&msg->src, call->peer, sizeof(call->peer));
	if (h && addr.uri.port)
		re_snprintf(call->peer + strlen(call->peer), sizeof(call->peer) - strlen(call->peer),
			    ":%u", addr.uri.port);
}

void call_incoming(struct callsvc *cs, const struct sip_msg *msg)
{
	const struct conf *c = cs->conf;
	struct call *call = NULL;
	struct negotiation neg;
	struct sa lip, media, contact;
	const char *body;
	size_t len;
	int err;

	if (cs->stopping) {
		reject(cs, msg, 503, "Service Unavailable");
		return;
	}
	if (!source_allowed(cs, msg)) {
		log_security("sip_source_rejected", "INVITE from %s is not in SIP_ALLOW_FROM",
			     SA_TEXT(&msg->src));
		reject(cs, msg, 403, "Forbidden");
		return;
	}
	if (cs->ncalls >= (unsigned)c->max_calls) {
		log_warn("sip: MAX_CALLS=%d reached; INVITE from %s gets 486", c->max_calls,
			 SA_TEXT(&msg->src));
		reject(cs, msg, 486, "Busy Here");
		return;
	}
	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call) {
		reject(cs, msg, 500, "Server Internal Error");
		return;
	}
	call->cs = cs;
	call->id = ++cs->next_id;
	call->started_ms = time_now_ms();
	call_set_state(call, "ringing");
	remember_peer(call, msg);
	if (!session_timer(call, msg))
		goto fail_quiet;

	err = callsvc_local_ip(cs, &msg->src, &lip);
	if (err) {
		reject(cs, msg, 500, "Server Internal Error");
		goto fail_quiet;
	}
	/* RTP binds the local address the caller reaches us at. */
	err = rtpstream_alloc(&call->rtp, &lip, (uint16_t)c->rtp_port_min, (uint16_t)c->rtp_port_max,
			      &cs->rtp_cursor);
	if (err) {
		log_error("call: no free RTP port in RTP_PORTS=%s: %s", c->rtp_ports,
			  strerror(err));
		reject(cs, msg, 503, "Service Unavailable");
		goto fail_quiet;
	}
	media = lip;
	sa_set_port(&media, rtpstream_lport(call->rtp));
	contact = lip;
	sa_set_port(&contact, sa_port(&cs->laddr));
	re_snprintf(call->contact, sizeof(call->contact), "sip:callbot@%J%s", &contact,
		    sip_transp_param(msg->tp));

	body = call_body_of(msg, &len);
	if (!len && c->srtp == SRTP_REQUIRED)
		call->srtp = true; /* late offer: we offer SAVP */
	err = call_sdp_setup(call, &media);
	if (err) {
		reject(cs, msg, 500, "Server Internal Error");
		goto fail_quiet;
	}
	if (len) {
		err = call_negotiate(call, msg, body, len, true, &neg);
		if (err) {
			log_info("call: INVITE from %s refused: %u %s", SA_TEXT(&msg->src), neg.scode,
				 neg.reason);
			reject(cs, msg, neg.scode, neg.reason);
			goto fail_quiet;
		}
		err = sdp_encode(&call->answer, call->sdp, false);
	} else {
		call->late_offer = true;
		if (call->srtp) {
			rand_bytes(call->key_tx, sizeof(call->key_tx));
			err = call_set_crypto_attr(call, 1);
		}
		if (!err)
			err = sdp_encode(&call->answer, call->sdp, true);
	}
	if (err) {
		reject(cs, msg, 500, "Server Internal Error");
		goto fail_quiet;
	}

	user_of(&msg->from, call->rowdata.caller, sizeof(call->rowdata.caller));
	user_of(&msg->to, call->rowdata.callee, sizeof(call->rowdata.callee));
	pl_strcpy(&msg->callid, call->rowdata.sip_call_id, sizeof(call->rowdata.sip_call_id));

	err = sipsess_accept(&call->sess, cs->sock, msg, 180, "Ringing", call->contact,
			     "application/sdp", NULL, NULL, NULL, false, call_offer_handler,
			     call_answer_handler, estab_handler, call_info_handler, NULL, call_close_handler,
			     call, SIP_ALLOW_HDR "Supported: timer\r\n");
	if (err) {
		log_error("call: cannot accept INVITE from %s: %s", SA_TEXT(&msg->src), strerror(err));
		reject(cs, msg, 500, "Server Internal Error");
		goto fail_quiet;
	}
	call_enlist(cs, call);
	call->rowdata.started_at = call->started_ms;
	str_copy(call->rowdata.status, sizeof(call->rowdata.status), "ringing");
	call->row = callstore_insert(cs->rows, &call->rowdata);
	log_info("call %llu: INVITE from %s (%s) to %s, Call-ID %s", (unsigned long long)call->id,
		 call->rowdata.caller, SA_TEXT(&msg->src), call->rowdata.callee, call->rowdata.sip_call_id);
	tmr_start(&call->tmr_answer, CALL_RING_MS, answer_now, call);
	callsvc_snapshot(cs);
	return;

fail_quiet:
	mem_deref(call);
}
