/* mediachan.h - the media API of one call for the conversation pipeline:
 * received audio and events out, audio to play in. Thread-safe; see docs/media.md. */
#ifndef CALLBOT_MEDIA_MEDIACHAN_H
#define CALLBOT_MEDIA_MEDIACHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_RATE 8000
#define MEDIA_FRAME 160 /* samples per 20 ms frame */

struct mediachan;

enum media_event_type {
	MEDIA_EV_DTMF,          /* a DTMF digit (RFC 4733), reported at its end */
	MEDIA_EV_PLAYBACK_DONE, /* the play queue ran empty after playing something */
	MEDIA_EV_HOLD,          /* the caller put the call on hold (re-INVITE sendonly/inactive) */
	MEDIA_EV_RESUME,        /* ... and took it off hold */
	MEDIA_EV_TRANSFER,      /* outcome of mediachan_transfer(): ok, status, reason */
	MEDIA_EV_HANGUP,        /* the call ended; the last callback for this call */
};

struct media_event {
	enum media_event_type type;
	char digit;          /* DTMF: '0'-'9', '*', '#', 'A'-'D' */
	unsigned duration_ms; /* DTMF */
	const char *reason;  /* HANGUP: "caller_bye", "bot_hangup", "max_duration", ...;
			      * TRANSFER: what happened ("accepted", "refused", "timeout", ...) */
	bool ok;             /* TRANSFER: the far end took the call */
	unsigned status;     /* TRANSFER: the SIP status that decided it (0 if none) */
};

/* What the pipeline learns about a call when it starts. */
struct media_call_info {
	uint64_t call_id;    /* callbot's id of the call (not the SIP Call-ID) */
	const char *caller;  /* From user part (or URI) */
	const char *callee;  /* To / Request-URI user part */
	const char *sip_call_id;
	void *record;        /* the call layer's handle for storing turns (callsvc_turn) */
	/* Called when the channel is freed (after the handler's last reference). */
	void (*record_release)(void *record, void *arg);
	void *record_arg;
	/* Cancel the echo of what the call sends from what it receives before the handler
	 * sees it (AEC on an AI call; see docs/media.md "Echo cancellation"). */
	bool aec;
};

/*
 * The pipeline's side of every call. All three are called on the media
 * worker thread, never on the SIP/RTP loop, one call at a time per call and in
 * order: start, then audio frames and events interleaved in arrival order, and
 * HANGUP last. A handler may block briefly, but a slow handler delays only the
 * delivery of later frames (queued, then dropped oldest-first after ~1 s).
 */
struct media_handler {
	/* Returns the per-call state passed as carg below; NULL hangs the call up. */
	void *(*start)(void *harg, struct mediachan *mc, const struct media_call_info *ci);
	/* 20 ms of caller audio: n = 160 samples, 16-bit, 8 kHz, mono, after the
	 * jitter buffer and G.711 decoding (and echo cancellation when ci->aec); lost
	 * packets arrive concealed. */
	void (*audio)(void *carg, const int16_t *pcm, size_t n);
	/* After MEDIA_EV_HANGUP returns, mc must not be used unless referenced. */
	void (*event)(void *carg, const struct media_event *ev);
	/* Optional: at shutdown, after every HANGUP was delivered and before the call
	 * rows are flushed, waits (bounded) for work the handler still runs. */
	void (*drain)(void *harg);
	void *harg;
};

/* --- Calls the pipeline makes (any thread) --- */

/* Appends 8 kHz mono PCM of any length to the play queue (copied). ENOSPC
 * when more than MEDIA_PLAY_MAX_S seconds would be queued; ENOTCONN after hangup. */
#define MEDIA_PLAY_MAX_S 120
int mediachan_play(struct mediachan *mc, const int16_t *pcm, size_t n);
/* Drops everything queued (barge-in). No PLAYBACK_DONE follows a flush. */
void mediachan_flush(struct mediachan *mc);
/* Samples still queued. */
size_t mediachan_queued(struct mediachan *mc);
/* Asks the loop to end the call (BYE). A HANGUP event follows. */
void mediachan_hangup(struct mediachan *mc);
/* Asks the loop for a blind transfer (SIP REFER) to target, a SIP URI or an extension
 * (NULL or "" = TRANSFER_TARGET). A TRANSFER event reports the outcome; on success the
 * call then ends (HANGUP "transferred"). */
void mediachan_transfer(struct mediachan *mc, const char *target);
/* Sends DTMF digits (0-9 * # A-D) to the far end: RFC 4733 events when negotiated,
 * in-band tones otherwise. Other characters are ignored. */
void mediachan_send_dtmf(struct mediachan *mc, const char *digits);
/* Keep mc beyond the HANGUP event. */
struct mediachan *mediachan_ref(struct mediachan *mc);
void mediachan_unref(struct mediachan *mc);

/* --- Internal: used by the call service (loop and worker) --- */

/* Requests from the pipeline to the call layer (any thread; the call layer posts them
 * to its loop). arg is the target (TRANSFER), the digits (DTMF) or NULL (HANGUP). */
enum media_ctl { MEDIA_CTL_HANGUP, MEDIA_CTL_TRANSFER, MEDIA_CTL_DTMF };
typedef void (mediachan_ctl_h)(uint64_t call_id, enum media_ctl ctl, const char *arg,
			       void *harg);
struct mediaworker;

int mediaworker_start(struct mediaworker **out, const struct media_handler *h);
void mediaworker_stop(struct mediaworker *w); /* delivers pending items first */
/* While held, channels with new items queue up without waking the worker; release wakes
 * it once. The media clock holds it over each slot's calls: one wake-up per slot instead
 * of one per call, and the worker does not fight the clock for the channels' locks. */
void mediaworker_hold(struct mediaworker *w);
void mediaworker_release(struct mediaworker *w);
/* Calls starting from now on use h. */
void mediaworker_set_handler(struct mediaworker *w, const struct media_handler *h);

/* The loop owns the returned reference. */
int mediachan_alloc(struct mediachan **out, struct mediaworker *w,
		    const struct media_call_info *ci, mediachan_ctl_h *ctlh, void *harg);
/* Loop: one frame of received audio / an event for the worker side. */
void mediachan_push_audio(struct mediachan *mc, const int16_t pcm[MEDIA_FRAME]);
void mediachan_push_event(struct mediachan *mc, const struct media_event *ev);
/* Loop: takes up to one frame from the play queue into pcm (zero-filled);
 * returns the samples taken. Emits PLAYBACK_DONE when the queue runs dry. With AEC the
 * frame is also the echo reference of the next pushed frame: call push_audio and pull
 * once each per 20 ms tick. */
size_t mediachan_pull(struct mediachan *mc, int16_t pcm[MEDIA_FRAME]);
/* Loop: ends the channel with a HANGUP event and drops the loop's reference. */
void mediachan_close(struct mediachan *mc, const char *reason);

#endif
