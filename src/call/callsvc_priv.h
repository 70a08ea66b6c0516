/* callsvc_priv.h - the call service's internals shared by callsvc.c (service,
 * thread, SIP listeners) and call.c (one call's lifecycle). Loop thread only,
 * except where marked. */
#ifndef CALLBOT_CALL_CALLSVC_PRIV_H
#define CALLBOT_CALL_CALLSVC_PRIV_H

#include <re.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "call/bot.h"
#include "call/callstore.h"
#include "call/callsvc.h"
#include "core/util.h"
#include "media/mclock.h"
#include "media/recorder.h"
#include "media/rtpstream.h"
#include "sip/reg.h"
#include "sip/sdpchk.h"

#define CALL_RING_MS 500        /* ringing before answering (CANCEL window) */
#define CALL_MIN_SE 90          /* RFC 4028 minimum Session-Expires */
#define CALLSVC_STOP_MS 2500    /* bound of the final loop run at stop */
#define SIP_ALLOW_HDR "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n"

#define MEDIA_SLOTS 10          /* of 2 ms each in the 20 ms media period */
#define MEDIA_TICK_MS (20 / MEDIA_SLOTS)
_Static_assert(20 % MEDIA_SLOTS == 0, "media slots must divide the 20 ms period");
#define CALL_DIAL_RING_S 60     /* default: unanswered outbound calls are cancelled */

enum cmd_type { CMD_HANGUP, CMD_STOP, CMD_DIAL, CMD_TRANSFER, CMD_DTMF };

struct dial_req; /* outgoing.c: a copy of callsvc_dial()'s parameters */

struct cmd {
	struct cmd *next;
	enum cmd_type type;
	uint64_t call_id;
	struct dial_req *dial; /* CMD_DIAL */
	char *arg;             /* CMD_TRANSFER: target, CMD_DTMF: digits */
};

struct callsvc {
	const struct conf *conf;
	struct store *st;
	pthread_t thread;
	bool thread_started;

	/* start-up handshake with callsvc_start() */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready;
	int start_err;

	/* any thread */
	atomic_int sip_state; /* enum reg_state */
	char sip_answer[96];  /* the registrar's latest answer (reg_state_h), under snap_lock */
	pthread_mutex_t cmd_lock;
	struct cmd *cmd_head, *cmd_tail;
	bool cmd_wake_failed;   /* under cmd_lock: the last wake-up could not be queued */
	atomic_bool cmd_pending;
	struct mqueue *mq;
	pthread_mutex_t snap_lock;
	struct callsvc_call *snap;
	size_t snap_n;

	/* the handler's shutdown hook (media_handler.drain) */
	void (*drain)(void *harg);
	void *drain_arg;

	/* workers */
	struct mediaworker *mw;
	struct recorder *recorder;
	struct callstore *rows;
	struct media_handler bot;
	struct bot_prompt prompt;

	/* loop thread */
	struct sip *sip;
	struct tls *tls;     /* SIP_TRANSPORT=tls: client context, server verified */
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr;
	struct mclock *clk;
	struct reg *reg;
	struct list calls;   /* active calls */
	/* Media slots: the 20 ms period is cut into MEDIA_SLOTS slots and each call's packet
	 * goes out in its own slot, so no call waits behind all the others. */
	struct list slots[MEDIA_SLOTS];
	unsigned slot_n[MEDIA_SLOTS];
	unsigned slot_next;
	bool clk_paused;     /* no call: the clock does not wake the loop */
	struct list dead;    /* ended calls waiting to be freed off the stack */
	unsigned ncalls;
	atomic_uint pending_dials; /* posted, not yet placed (any thread) */
	_Atomic uint64_t next_id; /* any thread (callsvc_dial numbers its call) */
	uint16_t rtp_cursor;
	struct sa laddr;     /* SIP_LISTEN as bound (the first address if a wildcard) */
	bool wildcard;       /* SIP_LISTEN 0.0.0.0/::: every local address is bound */
	bool stopping;
	bool ephemeral;      /* SIP on port 0 (callbot dial / call) */
	bool no_registration;
	struct tmr tmr_stop;
};

struct call {
	struct le le;
	struct le le_slot;      /* in cs->slots[slot] */
	unsigned slot;
	struct callsvc *cs;
	uint64_t id;
	struct sipsess *sess;
	struct sdp_session *sdp;
	struct sdp_media *sdpm;
	struct rtpstream *rtp;
	struct mediachan *mc;
	struct recording *rec;
	struct callrow *row;
	struct store_call rowdata;
	struct mbuf *answer;    /* SDP sent with the 200 */
	struct tmr tmr_answer, tmr_max, tmr_se, tmr_free;
	char contact[160];
	char state[16];
	bool answered, ended, srtp, srtp_rx_set, late_offer;
	uint8_t key_tx[30], key_rx[30];
	uint32_t session_expires;
	bool se_active;
	int64_t started_ms;
	bool held;              /* re-INVITE sendonly/inactive */
	uint64_t rtp_rx_last;   /* RTP_TIMEOUT bookkeeping */
	int64_t rtp_seen_ms, rtp_checked_ms;

	/* transfer (transfer.c) */
	struct sip_request *refer_req;
	struct tmr tmr_refer;
	char refer_to[256];
	char peer[128];         /* host[:port] the call came from (transfer.c) */
	bool transferring;

	/* outgoing calls (outgoing.c) */
	bool outbound;
	struct tmr tmr_ring;
	uint16_t final_scode;   /* final response to our INVITE */
	callsvc_done_h *done;   /* loop thread, once, when the call ends */
	void *done_arg;
};

/* call.c */
void call_incoming(struct callsvc *cs, const struct sip_msg *msg);
/* Ends a call: BYE if answered, else a final error response. */
void call_hangup(struct call *call, const char *status, const char *reason);
struct call *call_find(struct callsvc *cs, uint64_t id);
/* One media period in two halves (see rtpstream_tick_send): the clock runs the send
 * half of every call before the receive half of any. */
void call_tick_send(struct call *call);
void call_tick_recv(struct call *call);
/* Lists a new call as active and gives it the least used media slot. */
void call_enlist(struct callsvc *cs, struct call *call);
/* Shared with outgoing.c. */
struct negotiation {
	uint16_t scode;
	const char *reason;
};
void call_destructor(void *arg);
int call_sdp_setup(struct call *call, const struct sa *media_addr);
int call_set_crypto_attr(struct call *call, unsigned tag);
int call_negotiate(struct call *call, const struct sip_msg *msg, const char *body, size_t len,
		   bool offer, struct negotiation *neg);
const char *call_body_of(const struct sip_msg *msg, size_t *len);
void call_end(struct call *call, const char *status, const char *reason);
void call_start_media(struct call *call);
void call_set_state(struct call *call, const char *state);
int call_offer_handler(struct mbuf **descp, const struct sip_msg *msg, void *arg);
void call_info_handler(struct sip *sip, const struct sip_msg *msg, void *arg);
void call_max_duration(void *arg);
int call_answer_handler(const struct sip_msg *msg, void *arg);
void call_close_handler(int err, const struct sip_msg *msg, void *arg);

/* outgoing.c */
void call_outgoing(struct callsvc *cs, struct dial_req *rq); /* takes rq */
void dial_req_free(struct dial_req *rq);
void callsvc_post_dial(struct callsvc *cs, struct dial_req *rq);

/* "addr:port" of sa into buf, for log lines (log_* take printf formats). */
const char *sa_text(const struct sa *sa, char *buf, size_t size);
#define SA_TEXT(sa) sa_text((sa), (char[64]){ 0 }, 64)

/* transfer.c: blind transfer with REFER (RFC 3515); target NULL/"" = TRANSFER_TARGET. */
void call_transfer(struct call *call, const char *target);
void call_transfer_notify(struct call *call, const struct sip_msg *msg);
void call_transfer_cancel(struct call *call);
/* dtmf.c */
void call_send_dtmf(struct call *call, const char *digits);

/* callsvc.c */
mediachan_ctl_h *callsvc_media_control_handler(void);
void callsvc_snapshot(struct callsvc *cs);
int callsvc_local_ip(const struct callsvc *cs, const struct sa *peer, struct sa *out);

#endif
