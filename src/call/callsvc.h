/* callsvc.h - the call service: callbot's SIP endpoint (libre on its own "sip"
 * thread), its calls and their media, as the rest of the program sees it. */
#ifndef CALLBOT_CALL_CALLSVC_H
#define CALLBOT_CALL_CALLSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "media/mediachan.h"

struct callsvc;
struct store;

/*
 * Binds SIP_LISTEN (UDP and TCP), starts registration when SIP_SERVER is set,
 * and answers calls with BOT_MODE's behaviour (or the handler set below).
 * c and st must outlive the service. On failure logs one line naming the key
 * at fault (e.g. SIP_LISTEN) and returns an errno value.
 */
int callsvc_start(struct callsvc **out, const struct conf *c, struct store *st);
/* Options for programs that place calls rather than serve (callbot dial, call). */
struct callsvc_opts {
	bool ephemeral_port; /* bind SIP_LISTEN's address on a port the kernel picks */
	bool no_registration; /* ignore SIP_SERVER for REGISTER (calls may still route via it) */
};
int callsvc_start_opts(struct callsvc **out, const struct conf *c, struct store *st,
		       const struct callsvc_opts *o);
/* Graceful stop, at most ~3 s: new INVITEs get 503, active calls get BYE,
 * the registration is removed, rows and recordings are flushed. NULL is a no-op. */
void callsvc_stop(struct callsvc *cs);

/* "registered", "registering", "unregistered", "failed" or "disabled" (no
 * SIP_SERVER). Any thread; cs is a struct callsvc * (void * to fit web_status). */
const char *callsvc_sip_state(void *cs);
/* The registrar's latest answer to a REGISTER ("200 OK", "403 Forbidden", "no response"),
 * "" before the first. Any thread. */
void callsvc_sip_answer(struct callsvc *cs, char *out, size_t size);

/* The pipeline: replaces the built-in bot for calls answered from now on.
 * Must be set before calls arrive to be race-free (e.g. right after start). */
void callsvc_set_handler(struct callsvc *cs, const struct media_handler *h);

/* Stores a turn of a call: record is media_call_info.record, valid while the
 * call's media channel is referenced. Any thread; cs as void * for callbacks. */
struct store_turn;
void callsvc_turn(void *cs, void *record, const struct store_turn *t);
/* Records the caller's consent on the call's row (see callstore_row_consent). */
void callsvc_consent(void *cs, void *record, const char *state);

/*
 * Outgoing calls. The end of a call (answered or not) is reported once to done,
 * on the SIP loop thread (it must not block): scode is the final SIP status of
 * our INVITE (200 when answered, 0 when none came: timeout, transport error),
 * status/reason as stored on the call row ("completed"/"callee_bye",
 * "failed"/"sip_486", "failed"/"no_answer", ...).
 */
typedef void (callsvc_done_h)(void *arg, uint64_t call_id, unsigned scode, const char *status,
			      const char *reason);
struct callsvc_dial_params {
	const char *to;       /* a number (via SIP_SERVER) or a sip: URI with an IP literal */
	const char *purpose;  /* optional, logged */
	unsigned ring_s;      /* cancel (CANCEL) if not answered within; 0 = 60 s */
	callsvc_done_h *done; /* optional */
	void *arg;
};
/*
 * Places an outgoing call (any thread; the INVITE leaves from the loop). The
 * call runs like an incoming one once answered: media, pipeline, row, turns.
 * Checks first, in the calling thread: the destination must match
 * OUTBOUND_ALLOW (else EPERM and a SECURITY line; nothing is sent), be a
 * usable number or URI (EINVAL), and MAX_CALLS must not be reached (EBUSY).
 * *call_id (may be NULL) gets the new call's id.
 */
int callsvc_dial(struct callsvc *cs, const struct callsvc_dial_params *p, uint64_t *call_id);
/* OUTBOUND_ALLOW matching (comma/space-separated glob patterns, see docs/sip.md). */
bool callsvc_outbound_allowed(const char *patterns, const char *to);

/* A snapshot of active calls, for the dashboard (any thread). */
struct callsvc_call {
	uint64_t id;
	char caller[128];
	char callee[128];
	int64_t started_ms; /* epoch ms */
	char state[16];     /* "ringing", "active", "held", "ending" */
};
/* Fills at most max entries; returns the number of active calls (may be > max). */
size_t callsvc_calls(struct callsvc *cs, struct callsvc_call *out, size_t max);

#endif
