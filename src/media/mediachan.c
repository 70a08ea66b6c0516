/* mediachan.c - per-call queues between the RTP loop and the pipeline, and the
 * media worker thread that calls the pipeline's handlers off the loop. */
#include "media/mediachan.h"

#include "core/log.h"
#include "media/aec.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RXQ_LEN 64 /* 1.28 s of audio frames/events waiting for the worker */

enum item_kind { ITEM_START, ITEM_AUDIO, ITEM_EVENT };

struct item {
	enum item_kind kind;
	struct media_event ev;
	char reason[48];
	int16_t pcm[MEDIA_FRAME];
};

struct mediachan {
	atomic_int refs;
	pthread_mutex_t lock;
	struct mediaworker *w;
	/* loop -> worker */
	struct item rxq[RXQ_LEN];
	unsigned rx_head, rx_n;
	uint64_t rx_overflow;
	int16_t (*rx_ref)[MEDIA_FRAME]; /* AEC: per rxq slot, what was sent before that frame */
	/* AEC: the frames the loop pulled last and the one before. The clock pulls a period's
	 * frame before it pushes the period's received one; the reference of a received frame
	 * is the frame sent the period before, as the canceller was tuned (docs/media.md). */
	int16_t last_tx[MEDIA_FRAME], prev_tx[MEDIA_FRAME];
	bool pending;          /* on the worker's list */
	struct mediachan *next; /* worker list link */
	/* any thread -> loop */
	int16_t *play;
	size_t play_cap, play_head, play_n;
	bool was_playing;
	bool closed;           /* HANGUP queued: no more play, no more items */
	/* worker only */
	struct media_handler h; /* captured at start: a call keeps its handler */
	void *carg;
	bool started, ended;
	struct aec *aec;
	/* call identity (immutable) */
	struct media_call_info ci;
	char caller[128], callee[128], sip_call_id[256];
	mediachan_ctl_h *ctlh;
	void *ctlarg;
};

struct mediaworker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mediachan *head, *tail;
	bool stop;
	bool held;     /* mediaworker_hold(): queue without waking */
	struct media_handler h;
};

struct mediachan *mediachan_ref(struct mediachan *mc)
{
	if (mc)
		atomic_fetch_add(&mc->refs, 1);
	return mc;
}

void mediachan_unref(struct mediachan *mc)
{
	if (!mc || atomic_fetch_sub(&mc->refs, 1) != 1)
		return;
	if (mc->ci.record_release)
		mc->ci.record_release(mc->ci.record, mc->ci.record_arg);
	pthread_mutex_destroy(&mc->lock);
	aec_free(mc->aec);
	free(mc->rx_ref);
	free(mc->play);
	free(mc);
}

/* Worker: handle every queued item of one channel. */
/* Worker, at the start of a call: the canceller is built here, off the loop. */
static void start_aec(struct mediachan *mc)
{
	int err;

	if (!mc->rx_ref)
		return;
	err = aec_alloc(&mc->aec, MEDIA_RATE, MEDIA_FRAME, AEC_TAIL_MS);
	if (err) {
		log_warn("call %llu: no echo cancellation: %s", (unsigned long long)mc->ci.call_id,
			 strerror(err));
		return;
	}
	log_debug("call %llu: echo cancellation on (tail %u ms)",
		  (unsigned long long)mc->ci.call_id, AEC_TAIL_MS);
}

/* Worker: hands one received frame to the pipeline, without the bot's echo if asked. */
static void deliver_audio(struct mediachan *mc, const int16_t *pcm, const int16_t *ref)
{
	int16_t clean[MEDIA_FRAME];

	if (!mc->carg || !mc->h.audio)
		return;
	if (mc->aec && ref) {
		aec_process(mc->aec, pcm, ref, clean);
		pcm = clean;
	}
	mc->h.audio(mc->carg, pcm, MEDIA_FRAME);
}

static void drain(struct mediaworker *w, struct mediachan *mc)
{
	struct item it;
	int16_t ref[MEDIA_FRAME];
	bool have_ref;

	for (;;) {
		pthread_mutex_lock(&mc->lock);
		if (!mc->rx_n) {
			mc->pending = false;
			pthread_mutex_unlock(&mc->lock);
			return;
		}
		it = mc->rxq[mc->rx_head];
		have_ref = mc->rx_ref && it.kind == ITEM_AUDIO;
		if (have_ref)
			memcpy(ref, mc->rx_ref[mc->rx_head], sizeof(ref));
		mc->rx_head = (mc->rx_head + 1) % RXQ_LEN;
		mc->rx_n--;
		pthread_mutex_unlock(&mc->lock);

		if (mc->ended)
			continue;
		switch (it.kind) {
		case ITEM_START:
			pthread_mutex_lock(&w->lock);
			mc->h = w->h;
			pthread_mutex_unlock(&w->lock);
			mc->carg = mc->h.start ? mc->h.start(mc->h.harg, mc, &mc->ci) : NULL;
			mc->started = true;
			if (mc->carg)
				start_aec(mc);
			if (!mc->carg)
				mediachan_hangup(mc);
			break;
		case ITEM_AUDIO:
			deliver_audio(mc, it.pcm, have_ref ? ref : NULL);
			break;
		case ITEM_EVENT:
			it.ev.reason = it.reason;
			if (it.ev.type == MEDIA_EV_HANGUP)
				mc->ended = true;
			if (mc->carg && mc->h.event)
				mc->h.event(mc->carg, &it.ev);
			break;
		}
	}
}

static void *worker_main(void *arg)
{
	struct mediaworker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct mediachan *mc = w->head;

		if (!mc) {
			if (w->stop)
				break;
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		w->head = mc->next;
		if (!w->head)
			w->tail = NULL;
		mc->next = NULL;
		pthread_mutex_unlock(&w->lock);
		drain(w, mc);
		mediachan_unref(mc); /* the list's reference */
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int mediaworker_start(struct mediaworker **out, const struct media_handler *h)
{
	struct mediaworker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return ENOMEM;
	w->h = *h;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
		return err;
	}
	pthread_setname_np(w->thread, "media-worker");
	*out = w;
	return 0;
}

void mediaworker_set_handler(struct mediaworker *w, const struct media_handler *h)
{
	pthread_mutex_lock(&w->lock);
	w->h = *h;
	pthread_mutex_unlock(&w->lock);
}

void mediaworker_stop(struct mediaworker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Queues an item (mc->lock held by caller); returns true if the worker must be woken. */
static bool enqueue_locked(struct mediachan *mc, const struct item *it)
{
	if (mc->rx_n == RXQ_LEN) {
		/* The consumer is behind by more than a second: drop the oldest. */
		mc->rx_head = (mc->rx_head + 1) % RXQ_LEN;
		mc->rx_n--;
		mc->rx_overflow++;
	}
	mc->rxq[(mc->rx_head + mc->rx_n) % RXQ_LEN] = *it;
	mc->rx_n++;
	if (mc->pending)
		return false;
	mc->pending = true;
	return true;
}

static void wake(struct mediachan *mc)
{
	struct mediaworker *w = mc->w;

	mediachan_ref(mc);
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = mc;
	else
		w->head = mc;
	w->tail = mc;
	if (!w->held)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void mediaworker_hold(struct mediaworker *w)
{
	pthread_mutex_lock(&w->lock);
	w->held = true;
	pthread_mutex_unlock(&w->lock);
}

void mediaworker_release(struct mediaworker *w)
{
	pthread_mutex_lock(&w->lock);
	w->held = false;
	if (w->head)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void push(struct mediachan *mc, const struct item *it)
{
	bool need;

	pthread_mutex_lock(&mc->lock);
	need = enqueue_locked(mc, it);
	pthread_mutex_unlock(&mc->lock);
	if (need)
		wake(mc);
}

int mediachan_alloc(struct mediachan **out, struct mediaworker *w,
		    const struct media_call_info *ci, mediachan_ctl_h *ctlh, void *harg)
{
	struct mediachan *mc = calloc(1, sizeof(*mc));
	struct item *it;

	if (!mc)
		return ENOMEM;
	it = calloc(1, sizeof(*it));
	if (!it) {
		free(mc);
		return ENOMEM;
	}
	/* 20 kB per call, and only for calls that cancel echo. */
	if (ci->aec) {
		mc->rx_ref = calloc(RXQ_LEN, sizeof(*mc->rx_ref));
		if (!mc->rx_ref) {
			free(it);
			free(mc);
			return ENOMEM;
		}
	}
	atomic_init(&mc->refs, 1);
	pthread_mutex_init(&mc->lock, NULL);
	mc->w = w;
	copy_str(mc->caller, sizeof(mc->caller), ci->caller);
	copy_str(mc->callee, sizeof(mc->callee), ci->callee);
	copy_str(mc->sip_call_id, sizeof(mc->sip_call_id), ci->sip_call_id);
	mc->ci.call_id = ci->call_id;
	mc->ci.caller = mc->caller;
	mc->ci.callee = mc->callee;
	mc->ci.sip_call_id = mc->sip_call_id;
	mc->ci.record = ci->record;
	mc->ci.record_release = ci->record_release;
	mc->ci.record_arg = ci->record_arg;
	mc->ci.aec = ci->aec;
	mc->ctlh = ctlh;
	mc->ctlarg = harg;
	it->kind = ITEM_START;
	push(mc, it);
	free(it);
	*out = mc;
	return 0;
}

void mediachan_push_audio(struct mediachan *mc, const int16_t pcm[MEDIA_FRAME])
{
	bool need = false;

	pthread_mutex_lock(&mc->lock);
	if (!mc->closed) {
		struct item *slot;
		unsigned idx;

		/* Fill the ring slot in place: no 300-byte copies on the loop. */
		if (mc->rx_n == RXQ_LEN) {
			mc->rx_head = (mc->rx_head + 1) % RXQ_LEN;
			mc->rx_n--;
			mc->rx_overflow++;
		}
		idx = (mc->rx_head + mc->rx_n) % RXQ_LEN;
		slot = &mc->rxq[idx];
		slot->kind = ITEM_AUDIO;
		memcpy(slot->pcm, pcm, sizeof(slot->pcm));
		/* The echo reference travels with the frame: the worker may run late, the pair
		 * stays aligned. The cancelling itself is the worker's job. */
		if (mc->rx_ref)
			memcpy(mc->rx_ref[idx], mc->prev_tx, sizeof(mc->prev_tx));
		mc->rx_n++;
		if (!mc->pending) {
			mc->pending = true;
			need = true;
		}
	}
	pthread_mutex_unlock(&mc->lock);
	if (need)
		wake(mc);
}

static void push_event_locked_wake(struct mediachan *mc, const struct media_event *ev,
				   const char *reason, bool closing)
{
	bool need = false;

	pthread_mutex_lock(&mc->lock);
	if (!mc->closed) {
		struct item *slot;

		if (mc->rx_n == RXQ_LEN) {
			mc->rx_head = (mc->rx_head + 1) % RXQ_LEN;
			mc->rx_n--;
			mc->rx_overflow++;
		}
		slot = &mc->rxq[(mc->rx_head + mc->rx_n) % RXQ_LEN];
		slot->kind = ITEM_EVENT;
		slot->ev = *ev;
		slot->ev.reason = NULL;
		copy_str(slot->reason, sizeof(slot->reason), reason);
		mc->rx_n++;
		if (!mc->pending) {
			mc->pending = true;
			need = true;
		}
		if (closing)
			mc->closed = true;
	}
	pthread_mutex_unlock(&mc->lock);
	if (need)
		wake(mc);
}

void mediachan_push_event(struct mediachan *mc, const struct media_event *ev)
{
	push_event_locked_wake(mc, ev, ev->reason, false);
}

void mediachan_close(struct mediachan *mc, const char *reason)
{
	struct media_event ev = { .type = MEDIA_EV_HANGUP };

	if (!mc)
		return;
	push_event_locked_wake(mc, &ev, reason, true);
	mediachan_unref(mc);
}

int mediachan_play(struct mediachan *mc, const int16_t *pcm, size_t n)
{
	int err = 0;

	if (!mc || (!pcm && n))
		return EINVAL;
	pthread_mutex_lock(&mc->lock);
	if (mc->closed) {
		err = ENOTCONN;
		goto out;
	}
	if (mc->play_n + n > (size_t)MEDIA_PLAY_MAX_S * MEDIA_RATE) {
		err = ENOSPC;
		goto out;
	}
	if (mc->play_n + n > mc->play_cap) {
		size_t cap = mc->play_cap ? mc->play_cap : 4096;
		int16_t *np;

		while (cap < mc->play_n + n)
			cap *= 2;
		np = malloc(cap * sizeof(*np));
		if (!np) {
			err = ENOMEM;
			goto out;
		}
		/* Unwrap the ring into the new buffer. */
		for (size_t i = 0; i < mc->play_n; i++)
			np[i] = mc->play[(mc->play_head + i) % mc->play_cap];
		free(mc->play);
		mc->play = np;
		mc->play_cap = cap;
		mc->play_head = 0;
	}
	for (size_t i = 0; i < n; i++)
		mc->play[(mc->play_head + mc->play_n + i) % mc->play_cap] = pcm[i];
	mc->play_n += n;
out:
	pthread_mutex_unlock(&mc->lock);
	return err;
}

void mediachan_flush(struct mediachan *mc)
{
	if (!mc)
		return;
	pthread_mutex_lock(&mc->lock);
	mc->play_n = 0;
	mc->play_head = 0;
	mc->was_playing = false;
	pthread_mutex_unlock(&mc->lock);
}

size_t mediachan_queued(struct mediachan *mc)
{
	size_t n;

	pthread_mutex_lock(&mc->lock);
	n = mc->play_n;
	pthread_mutex_unlock(&mc->lock);
	return n;
}

size_t mediachan_pull(struct mediachan *mc, int16_t pcm[MEDIA_FRAME])
{
	size_t n;
	bool done = false;

	pthread_mutex_lock(&mc->lock);
	n = mc->play_n < MEDIA_FRAME ? mc->play_n : MEDIA_FRAME;
	for (size_t i = 0; i < n; i++)
		pcm[i] = mc->play[(mc->play_head + i) % mc->play_cap];
	if (n) {
		mc->play_head = (mc->play_head + n) % mc->play_cap;
		mc->play_n -= n;
		mc->was_playing = true;
	}
	if (!mc->play_n && mc->was_playing) {
		mc->was_playing = false;
		done = true;
	}
	if (n < MEDIA_FRAME)
		memset(pcm + n, 0, (MEDIA_FRAME - n) * sizeof(*pcm));
	if (mc->rx_ref) {
		memcpy(mc->prev_tx, mc->last_tx, sizeof(mc->last_tx));
		memcpy(mc->last_tx, pcm, sizeof(mc->last_tx));
	}
	pthread_mutex_unlock(&mc->lock);
	if (done) {
		struct media_event ev = { .type = MEDIA_EV_PLAYBACK_DONE };

		mediachan_push_event(mc, &ev);
	}
	return n;
}

/* After the HANGUP event the call service may be gone: nothing to ask then. */
static void control(struct mediachan *mc, enum media_ctl ctl, const char *arg)
{
	bool closed;

	if (!mc || !mc->ctlh)
		return;
	pthread_mutex_lock(&mc->lock);
	closed = mc->closed;
	pthread_mutex_unlock(&mc->lock);
	if (!closed)
		mc->ctlh(mc->ci.call_id, ctl, arg, mc->ctlarg);
}

void mediachan_hangup(struct mediachan *mc)
{
	control(mc, MEDIA_CTL_HANGUP, NULL);
}

void mediachan_transfer(struct mediachan *mc, const char *target)
{
	control(mc, MEDIA_CTL_TRANSFER, target ? target : "");
}

void mediachan_send_dtmf(struct mediachan *mc, const char *digits)
{
	if (digits && *digits)
		control(mc, MEDIA_CTL_DTMF, digits);
}
