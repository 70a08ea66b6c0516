/* transfer.c - blind transfer of a call with SIP REFER (RFC 3515).
 *
 * callbot sends REFER inside the call's dialog, then follows the implicit
 * subscription: NOTIFYs carry the target call's progress as a sipfrag
 * ("SIP/2.0 180 Ringing", "SIP/2.0 200 OK"). A 2xx NOTIFY ends our leg with BYE
 * (end_reason "transferred"); a refused REFER (405, 403, 501, ...) or a failed
 * target (NOTIFY 486, 404, ...) leaves the call with the bot, which says so.
 * Either way the pipeline hears the outcome as a MEDIA_EV_TRANSFER event. */
#include "call/callsvc_priv.h"

#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define REFER_WAIT_MS 60000 /* 202 given, no final NOTIFY: the PBX has taken the call */

static void report(struct call *call, bool ok, unsigned status, const char *what)
{
	struct media_event ev = { .type = MEDIA_EV_TRANSFER, .ok = ok, .status = status,
				  .reason = what };

	log_info("call %llu: transfer to %s %s (%u)", (unsigned long long)call->id,
		 call->refer_to, what, status);
	call->refer_req = mem_deref(call->refer_req);
	tmr_cancel(&call->tmr_refer);
	call->transferring = false;
	if (call->mc)
		mediachan_push_event(call->mc, &ev);
	if (ok) {
		call_hangup(call, "completed", "transferred");
	} else {
		call_set_state(call, "active");
		callsvc_snapshot(call->cs);
	}
}

static void refer_timeout(void *arg)
{
	struct call *call = arg;

	/* The REFER was accepted (202) but the target call never reported a final
	 * state: the PBX owns the transfer now, so our leg ends as transferred. */
	report(call, true, 202, "accepted, no final NOTIFY");
}

static void refer_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	if (err) {
		report(call, false, 0, err == ETIMEDOUT ? "timeout" : "failed");
		return;
	}
	if (msg->scode < 200)
		return;
	if (msg->scode < 300) {
		log_info("call %llu: REFER accepted (%u), waiting for the transfer's NOTIFY",
			 (unsigned long long)call->id, msg->scode);
		return;
	}
	report(call, false, msg->scode, "refused");
}

/* "1234", "sip:1234@pbx", "tel:+4930..." -> a URI for Refer-To. An extension goes to
 * SIP_DOMAIN (which the configuration defaults to SIP_SERVER's host) or, for a direct
 * call without a registrar, to the host the call came from. */
static int target_uri(struct call *call, const char *target, char *buf, size_t size)
{
	const char *domain = call->cs->conf->sip_domain;

	if (strpbrk(target, "<>\"\r\n \t"))
		return EINVAL;
	if (!strncmp(target, "sip:", 4) || !strncmp(target, "sips:", 5) ||
	    !strncmp(target, "tel:", 4))
		return re_snprintf(buf, size, "%s", target) < 0 ? ENAMETOOLONG : 0;
	if (!domain || !*domain)
		domain = call->peer;
	if (!*domain)
		return EINVAL;
	return re_snprintf(buf, size, "sip:%s@%s", target, domain) < 0 ? ENAMETOOLONG : 0;
}

void call_transfer(struct call *call, const char *target)
{
	struct callsvc *cs = call->cs;
	struct sip_dialog *dlg;
	int err;

	if (!target || !*target)
		target = cs->conf->transfer_target ? cs->conf->transfer_target : "";
	str_copy(call->refer_to, sizeof(call->refer_to), target);
	if (call->ended || !call->answered || !call->sess || call->transferring) {
		report(call, false, 0, call->transferring ? "already in progress" : "not possible now");
		return;
	}
	if (!*target) {
		report(call, false, 0, "not configured (TRANSFER_TARGET is empty)");
		return;
	}
	err = target_uri(call, target, call->refer_to, sizeof(call->refer_to));
	if (err) {
		report(call, false, 0, "invalid target");
		return;
	}
	dlg = sipsess_dialog(call->sess);
	err = sip_drequestf(&call->refer_req, cs->sip, true, "REFER", dlg, 0, NULL, NULL,
			    refer_resp, call,
			    "Refer-To: <%s>\r\n"
			    "Referred-By: <%s>\r\n"
			    "Contact: <%s>\r\n"
			    "Content-Length: 0\r\n\r\n",
			    call->refer_to, call->contact, call->contact);
	if (err) {
		report(call, false, 0, "could not send REFER");
		return;
	}
	call->transferring = true;
	call_set_state(call, "transferring");
	callsvc_snapshot(cs);
	tmr_start(&call->tmr_refer, REFER_WAIT_MS, refer_timeout, call);
	log_info("call %llu: REFER to %s sent", (unsigned long long)call->id, call->refer_to);
}

/* An in-dialog NOTIFY for the call's refer subscription; we answer it in all cases. */
void call_transfer_notify(struct call *call, const struct sip_msg *msg)
{
	const struct sip_hdr *ev = sip_msg_hdr(msg, SIP_HDR_EVENT);
	const char *body = (const char *)mbuf_buf(msg->mb);
	size_t len = mbuf_get_left(msg->mb);
	struct pl code, phrase;
	unsigned scode;
	char what[48];

	if (!ev || ev->val.l < 5 || strncasecmp(ev->val.p, "refer", 5)) {
		(void)sip_reply(call->cs->sip, msg, 489, "Bad Event");
		return;
	}
	(void)sip_reply(call->cs->sip, msg, 200, "OK");
	if (!call->transferring)
		return;
	if (re_regex(body, len, "SIP/2.0 [0-9]3 [^\r\n]*", &code, &phrase)) {
		log_info("call %llu: transfer NOTIFY without a status line",
			 (unsigned long long)call->id);
		return;
	}
	scode = pl_u32(&code);
	log_info("call %llu: transfer progress: %u %.*s", (unsigned long long)call->id, scode,
		 (int)phrase.l, phrase.p);
	if (scode < 200)
		return;
	snprintf(what, sizeof(what), scode < 300 ? "accepted" : "failed at the target: %.*s",
		 (int)(phrase.l < 24 ? phrase.l : 24), phrase.p);
	report(call, scode < 300, scode, what);
}

void call_transfer_cancel(struct call *call)
{
	call->refer_req = mem_deref(call->refer_req);
	tmr_cancel(&call->tmr_refer);
	call->transferring = false;
}
