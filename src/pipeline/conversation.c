/* conversation.c - one call's conversation: endpointing and barge-in on the media worker
 * thread, then STT -> LLM -> TTS on the call's own pipeline thread, so a slow backend
 * delays only this call and never the media of others. */
#include "pipeline/pipeline.h"
#include "core/alert.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/llm.h"
#include "llm/rules.h"
#include "pipeline/dialogue.h"
#include "pipeline/sentence.h"
#include "pipeline/vad.h"
#include "stt/stt.h"
#include "tts/tts.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HISTORY_MAX 24      /* messages kept for the LLM (12 exchanges) */
#define PHRASES_MAX 512
#define DRAIN_MAX_MS 30000  /* longest wait for the last words before hanging up */
#define BACKCHANNEL_MAX_MS 700 /* "uh-huh", "okay": longer speech interrupts anyway */
#define WORD_HOLD_MS 40         /* a partial result's real word must last this long */
#define TRANSFER_WAIT_MS 70000 /* the call layer reports within 60 s (transfer.c) */

/* Added to the STT grammar (with the rules' phrases) so that feedback is recognised as
 * such; see only_backchannel(). */
static const char *const backchannel_phrases[] = { "okay", "uh huh", "mm hmm", "yeah", "right",
						   "i see", "hmm", NULL };

static const char transfer_failed_text[] =
	"I'm sorry, I could not connect you right now. Is there anything else I can do for you?";

struct pipeline {
	struct pipeline_deps d;
	const char **phrases; /* NULL-terminated grammar for STT, or NULL */
	char **phrase_store;
	size_t nphrases;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int live; /* conversations whose thread still runs */
};

struct conv {
	struct pipeline *p;
	struct mediachan *mc;
	uint64_t call_id;
	void *record;
	char caller[128];

	/* media worker side */
	struct vad *vad;
	struct stt_stream *utt;
	int64_t utt_start_ms;
	bool utt_overlap;       /* the bot was speaking when this utterance began */
	unsigned word_since_ms; /* speech time when the partial result first had a real word */
	bool barged;
	bool held;              /* on hold: the far end's audio (music) is not listened to */

	/* hand-over to the conversation thread */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stt_stream *pending;
	struct stt_stream *standby; /* begun ahead on this call's thread, for the next utterance */
	char pending_keys[12];  /* or a DTMF key to answer, as "dtmf 1", "dtmf star" */
	int64_t pending_start_ms, pending_end_ms;
	bool pending_overlap;   /* the utterance lay within the bot's speech and did not stop it */
	bool stop;
	atomic_uint gen;        /* bumped by barge-in: the turn in progress is dropped */
	volatile bool cancel;   /* the same, for TTS polling */
	atomic_bool busy;       /* a turn is being answered */
	int refs;
	/* transfer outcome (media worker -> conversation thread) */
	bool xfer_waiting, xfer_done, xfer_ok;
	char xfer_what[64];

	/* conversation thread only */
	char *greeting, *system_prompt, *consent_notice; /* this call's texts */
	bool store_ok;  /* false until the caller agrees, with CONSENT_MODE=require */
	bool refused;
	struct llm_msg history[HISTORY_MAX];
	size_t nhistory;
	int seq;
};

struct turn {
	struct conv *c;
	unsigned gen;
	struct sentencer sent;
	int64_t end_ms, llm_start_ms, first_text_ms, first_audio_ms;
	int tts_ms;      /* synthesis time of the turn's first audio */
	bool tts_timed;
	bool spoke;
};

static void conv_unref(struct conv *c)
{
	struct pipeline *p = c->p;
	bool last;

	pthread_mutex_lock(&c->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (!last)
		return;
	stt_stream_abort(c->utt);
	stt_stream_abort(c->pending);
	stt_stream_abort(c->standby);
	vad_free(c->vad);
	for (size_t i = 0; i < c->nhistory; i++)
		free((char *)c->history[i].text);
	free(c->greeting);
	free(c->system_prompt);
	free(c->consent_notice);
	mediachan_unref(c->mc);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
	pthread_mutex_lock(&p->lock);
	p->live--;
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

static bool turn_current(const struct turn *t)
{
	return atomic_load(&t->c->gen) == t->gen;
}

static int play_pcm(const int16_t *pcm, size_t n, void *arg)
{
	struct turn *t = arg;

	if (!turn_current(t))
		return ECANCELED;
	if (!t->first_audio_ms)
		t->first_audio_ms = time_mono_ms();
	t->spoke = true;
	return mediachan_play(t->c->mc, pcm, n) == 0 ? 0 : ECANCELED;
}

/* Alerts when a backend starts failing and when it works again (core/alert.h). */
static void backend_health(const char *kind, const char *name, int rc, const char *why)
{
	char down[32], up[32], details[256];

	snprintf(down, sizeof(down), "%s_backend_down", kind);
	snprintf(up, sizeof(up), "%s_backend_restored", kind);
	json_t *d = json_pack("{s:s,s:s}", "backend", name, "error", rc ? why : "");
	char *dj = d ? json_dumps(d, JSON_COMPACT) : NULL;
	snprintf(details, sizeof(details), "%s", dj ? dj : "{}");
	alert_state(down, up, rc == 0, details);
	free(dj);
	json_decref(d);
}

static void say(struct turn *t, const char *text, size_t len)
{
	char *s = strndup(text, len);
	int64_t t0 = time_mono_ms();
	int rc;

	if (!s)
		return;
	rc = tts_synth(t->c->p->d.tts, s, play_pcm, t, &t->c->cancel);
	if (rc != ECANCELED)
		backend_health("tts", tts_engine_name(t->c->p->d.tts), rc, strerror(rc));
	if (rc && rc != ECANCELED)
		log_warn("call %llu: speech synthesis failed: %s", (unsigned long long)t->c->call_id,
			 strerror(rc));
	if (!t->tts_timed && t->first_audio_ms >= t0) {
		t->tts_ms = (int)(t->first_audio_ms - t0);
		t->tts_timed = true;
	}
	free(s);
}

static void on_sentence(const char *s, size_t len, void *arg)
{
	struct turn *t = arg;

	if (turn_current(t))
		say(t, s, len);
}

static bool on_llm_text(const char *text, size_t len, void *arg)
{
	struct turn *t = arg;

	if (!turn_current(t))
		return false;
	if (!t->first_text_ms)
		t->first_text_ms = time_mono_ms();
	sentencer_feed(&t->sent, text, len);
	return turn_current(t);
}

static void save_turn(struct conv *c, const char *role, const char *text, int64_t started_ms,
		      int stt_ms, int llm_ms, int tts_ms, int response_ms)
{
	struct store_turn st = {
		.seq = c->seq++, .text = (char *)text, .started_at = started_ms,
		.stt_ms = stt_ms, .llm_ms = llm_ms, .tts_ms = tts_ms, .response_ms = response_ms,
	};

	str_copy(st.role, sizeof(st.role), role);
	if (c->store_ok && c->p->d.save_turn)
		c->p->d.save_turn(c->p->d.save_arg, c->record, &st);
}

static void remember(struct conv *c, enum llm_role role, const char *text)
{
	char *copy = strdup(text);

	if (!copy)
		return;
	if (c->nhistory == HISTORY_MAX) {
		free((char *)c->history[0].text);
		memmove(c->history, c->history + 1, (HISTORY_MAX - 1) * sizeof(c->history[0]));
		c->nhistory--;
	}
	c->history[c->nhistory].role = role;
	c->history[c->nhistory].text = copy;
	c->nhistory++;
}

static void turn_begin(struct conv *c, struct turn *t, int64_t end_ms)
{
	memset(t, 0, sizeof(*t));
	t->c = c;
	t->end_ms = end_ms;
	c->cancel = false;
	t->gen = atomic_load(&c->gen);
	sentencer_init(&t->sent, on_sentence, t);
}

/* A text the dashboard may override (settings table), else the configuration's. */
static char *call_text(struct conv *c, const char *key, const char *fallback)
{
	char *v = NULL;

	if (c->p->d.st && store_setting_get(c->p->d.st, key, &v) == 0 && v && *v)
		return v;
	free(v);
	return strdup(fallback);
}

static void wait_playback(struct conv *c)
{
	for (int64_t t0 = time_mono_ms(); mediachan_queued(c->mc) > 0;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		if (c->stop || time_mono_ms() - t0 > DRAIN_MAX_MS)
			break;
		nanosleep(&ts, NULL);
	}
}

static void wait_playback_then_hangup(struct conv *c)
{
	wait_playback(c);
	mediachan_hangup(c->mc);
}

static void set_consent(struct conv *c, const char *state)
{
	if (c->p->d.save_consent)
		c->p->d.save_consent(c->p->d.save_arg, c->record, state);
}

/* Speaks text as a turn of its own (not an answer to the caller). */
static void speak(struct conv *c, const char *text)
{
	struct turn t;

	turn_begin(c, &t, time_mono_ms());
	atomic_store(&c->busy, true);
	say(&t, text, strlen(text));
	atomic_store(&c->busy, false);
}

/* The caller's next words or key press, within timeout_ms; NULL on silence or hang-up. */
static char *next_answer(struct conv *c, int timeout_ms)
{
	struct stt_stream *utt = NULL;
	char keys[sizeof(c->pending_keys)] = "", *text = NULL;
	struct timespec deadline = time_deadline_ms(timeout_ms);

	pthread_mutex_lock(&c->lock);
	while (!c->pending && !c->pending_keys[0] && !c->stop) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) == ETIMEDOUT)
			break;
	}
	utt = c->pending;
	memcpy(keys, c->pending_keys, sizeof(keys));
	c->pending = NULL;
	c->pending_keys[0] = '\0';
	pthread_mutex_unlock(&c->lock);
	if (keys[0])
		text = strdup(keys);
	if (utt && !keys[0])
		stt_stream_end(utt, &text, NULL);
	else
		stt_stream_abort(utt);
	return text;
}

static bool said_one_of(const char *text, const char *const *words)
{
	char *norm = rules_normalize(text), *padded = NULL;
	bool hit = false;

	if (norm && asprintf(&padded, " %s ", norm) >= 0) {
		for (size_t i = 0; words[i] && !hit; i++) {
			char w[32];
			snprintf(w, sizeof(w), " %s ", words[i]);
			hit = strstr(padded, w) != NULL;
		}
	}
	free(norm);
	free(padded);
	return hit;
}

/* Listener feedback while someone speaks ("uh-huh", "okay", "right"): not an interruption. */
static bool only_backchannel(const char *partial)
{
	static const char *const words[] = { "uh", "huh", "um", "mm", "mhm", "hmm", "ah", "oh",
					     "ok", "okay", "yeah", "yes", "yep", "right", "sure",
					     "alright", "i", "see", "hm", NULL };
	char *norm = rules_normalize(partial), *save = NULL;
	bool only = true;

	if (!norm)
		return true;
	for (char *w = strtok_r(norm, " ", &save); w && only; w = strtok_r(NULL, " ", &save)) {
		bool known = false;

		for (size_t i = 0; words[i] && !known; i++)
			known = !strcmp(w, words[i]);
		only = known;
	}
	free(norm);
	return only;
}

/* CONSENT_MODE=require: nothing of the call is stored unless the caller agrees (by voice or
 * by pressing 1); without it the call ends politely and the call row keeps no personal data. */
static bool ask_consent(struct conv *c)
{
	static const char *const yes[] = { "yes", "yeah", "yep", "sure", "ok", "okay", "agree",
					   "i do", "dtmf 1", NULL };
	static const char *const no[] = { "no", "nope", "don't", "do not", "dtmf 2", NULL };
	char *prompt = NULL;

	set_consent(c, "pending");
	for (int attempt = 0; attempt < 2 && !c->stop; attempt++) {
		char *heard;
		bool agreed, refused;

		if (asprintf(&prompt, "%s Please say yes, or press 1, to continue.",
			     attempt ? "Sorry, I did not get that." : c->consent_notice) < 0)
			break;
		speak(c, prompt);
		free(prompt);
		wait_playback(c);
		heard = next_answer(c, 6000);
		agreed = heard && said_one_of(heard, yes);
		refused = heard && said_one_of(heard, no);
		free(heard);
		if (agreed && !refused) {
			set_consent(c, "given");
			c->store_ok = true;
			return true;
		}
		if (refused)
			break;
	}
	if (!c->stop)
		speak(c, "Without your consent I cannot continue this call. Goodbye.");
	set_consent(c, "refused");
	log_info("call %llu: no consent; the call ends and nothing of it is kept",
		 (unsigned long long)c->call_id);
	c->refused = true;
	wait_playback_then_hangup(c);
	return false;
}

/* The greeting (and the consent notice) before the caller says anything. */
static void greet(struct conv *c)
{
	const struct conf *cf = c->p->d.conf;
	struct turn t;
	char *text = NULL;

	c->greeting = call_text(c, "GREETING", cf->greeting);
	c->system_prompt = call_text(c, "SYSTEM_PROMPT", cf->system_prompt);
	c->consent_notice = call_text(c, "CONSENT_NOTICE", cf->consent_notice);
	if (!c->greeting || !c->system_prompt || !c->consent_notice)
		return;
	if (cf->consent_mode == CONSENT_REQUIRE && !ask_consent(c))
		return;
	turn_begin(c, &t, time_mono_ms());
	atomic_store(&c->busy, true);
	if (cf->consent_mode == CONSENT_ANNOUNCE && c->consent_notice[0]) {
		set_consent(c, "announced");
		if (asprintf(&text, "%s %s", c->consent_notice, c->greeting) < 0)
			text = NULL;
	} else {
		if (cf->consent_mode == CONSENT_OFF)
			set_consent(c, "off");
		text = strdup(c->greeting);
	}
	if (text) {
		say(&t, text, strlen(text));
		save_turn(c, "bot", text, time_now_ms(), -1, -1, t.tts_ms, -1);
		remember(c, LLM_ASSISTANT, c->greeting);
		free(text);
	}
	atomic_store(&c->busy, false);
}

/* Hands the caller to a person (SIP REFER). If the PBX refuses or the target fails, the
 * bot says so and the conversation goes on. Either way a role='tool' turn records it. */
static void transfer(struct conv *c, const char *target)
{
	struct timespec deadline;
	char text[400];
	bool done, ok;

	if (!target || !*target)
		target = c->p->d.conf->transfer_target;
	wait_playback(c);
	if (c->stop)
		return;
	pthread_mutex_lock(&c->lock);
	c->xfer_waiting = true;
	c->xfer_done = false;
	pthread_mutex_unlock(&c->lock);
	log_info("call %llu: transferring to %s", (unsigned long long)c->call_id,
		 target && *target ? target : "(no TRANSFER_TARGET)");
	mediachan_transfer(c->mc, target);
	deadline = time_deadline_ms(TRANSFER_WAIT_MS);
	pthread_mutex_lock(&c->lock);
	while (!c->xfer_done && !c->stop)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) == ETIMEDOUT)
			break;
	done = c->xfer_done;
	ok = c->xfer_ok;
	c->xfer_waiting = false;
	snprintf(text, sizeof(text), "transfer to %s: %s", target && *target ? target : "nobody",
		 done ? c->xfer_what : c->stop ? "call ended" : "no answer from the call layer");
	pthread_mutex_unlock(&c->lock);
	save_turn(c, "tool", text, time_now_ms(), -1, -1, -1, -1);
	if (!ok && !c->stop) {
		speak(c, transfer_failed_text);
		save_turn(c, "bot", transfer_failed_text, time_now_ms(), -1, -1, -1, -1);
		remember(c, LLM_ASSISTANT, transfer_failed_text);
	}
}

static void hook_tool_turn(void *arg, const char *text)
{
	save_turn(arg, "tool", text, time_now_ms(), -1, -1, -1, -1);
}

static void hook_send_dtmf(void *arg, const char *digits)
{
	struct conv *c = arg;

	mediachan_send_dtmf(c->mc, digits);
}

/* Answers an utterance (utt) or a key press (keys, e.g. "dtmf 0": rules can match it). */
static void answer(struct conv *c, struct stt_stream *utt, const char *keys, int64_t start_ms,
		   int64_t end_ms, bool overlap)
{
	const struct conf *cf = c->p->d.conf;
	struct llm_msg msgs[HISTORY_MAX + 1];
	struct llm_ctx ctx = { .caller = c->caller, .cancel = &c->cancel };
	struct llm_reply reply;
	struct dialogue_hooks hooks = { hook_tool_turn, hook_send_dtmf, c };
	unsigned stt_ms = 0;
	char *heard = NULL;
	bool feedback;
	struct turn t;
	int rc;

	turn_begin(c, &t, end_ms);
	if (keys) {
		heard = strdup(keys);
		rc = heard ? 0 : ENOMEM;
	} else {
		rc = stt_stream_end(utt, &heard, &stt_ms);
		backend_health("stt", stt_engine_name(c->p->d.stt), rc, strerror(rc));
	}
	if (rc || !heard || !heard[0] || !turn_current(&t)) {
		free(heard);
		return; /* noise, a failed recognition (logged), or the caller went on talking */
	}
	feedback = overlap && only_backchannel(heard);
	if (feedback || (overlap && cf->barge_in)) {
		log_info("call %llu: \"%s\" while the bot spoke: %s, not answered",
			 (unsigned long long)c->call_id, heard,
			 feedback ? "feedback" : "it did not interrupt");
		free(heard);
		return;
	}
	log_info("call %llu: caller said \"%s\" (stt %u ms)", (unsigned long long)c->call_id, heard,
		 stt_ms);
	save_turn(c, "caller", heard, start_ms, keys ? -1 : (int)stt_ms, -1, -1, -1);
	remember(c, LLM_USER, heard);
	free(heard);

	msgs[0].role = LLM_SYSTEM;
	msgs[0].text = c->system_prompt ? c->system_prompt : cf->system_prompt;
	memcpy(msgs + 1, c->history, c->nhistory * sizeof(msgs[0]));
	t.llm_start_ms = time_mono_ms();
	rc = dialogue_chat(c->p->d.llm, c->p->d.tools, msgs, c->nhistory + 1, &ctx, on_llm_text,
			   &t, &reply, &hooks);
	if (rc != ECANCELED)
		backend_health("llm", llm_name(c->p->d.llm), rc, reply.why);
	if (turn_current(&t))
		sentencer_flush(&t.sent);
	if (rc && rc != ECANCELED && !t.spoke && turn_current(&t)) {
		say(&t, llm_apology(), strlen(llm_apology()));
		free(reply.text);
		reply.text = strdup(llm_apology());
	}
	if (reply.text && reply.text[0]) {
		int llm_ms = t.first_text_ms ? (int)(t.first_text_ms - t.llm_start_ms) : -1;
		int resp_ms = t.first_audio_ms ? (int)(t.first_audio_ms - t.end_ms) : -1;
		save_turn(c, "bot", reply.text, time_now_ms() - (time_mono_ms() - t.llm_start_ms),
			  -1, llm_ms, t.spoke ? t.tts_ms : -1, resp_ms);
		remember(c, LLM_ASSISTANT, reply.text);
		if (resp_ms >= 0 && c->p->d.observe_response)
			c->p->d.observe_response(c->p->d.observe_arg, resp_ms);
		log_info("call %llu: bot answered in %d ms (llm %d ms, tts %d ms)%s",
			 (unsigned long long)c->call_id, resp_ms, llm_ms, t.tts_ms,
			 turn_current(&t) ? "" : ", interrupted");
	}
	if (reply.action == LLM_ACT_HANGUP && turn_current(&t))
		wait_playback_then_hangup(c);
	else if (reply.action == LLM_ACT_TRANSFER && turn_current(&t))
		transfer(c, reply.target);
	llm_reply_clear(&reply);
}

/* Begins the next utterance's recognition ahead of time, on this call's thread: a
 * recogniser may take a second to load (a new pocketsphinx decoder), which must not
 * happen on the media worker that serves every call. */
static void prepare_standby(struct conv *c)
{
	struct stt_stream *s = NULL;
	bool have;

	pthread_mutex_lock(&c->lock);
	have = c->standby || c->stop;
	pthread_mutex_unlock(&c->lock);
	if (have || stt_stream_begin(c->p->d.stt, c->p->phrases, &s))
		return; /* none free now: begin_utterance() tries again itself */
	pthread_mutex_lock(&c->lock);
	if (!c->standby && !c->stop) {
		c->standby = s;
		s = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	stt_stream_abort(s);
}

static void *conv_thread(void *arg)
{
	struct conv *c = arg;

	prepare_standby(c);
	greet(c);
	for (;;) {
		struct stt_stream *utt;
		char keys[sizeof(c->pending_keys)];
		int64_t start_ms, end_ms;
		bool overlap;

		prepare_standby(c);
		pthread_mutex_lock(&c->lock);
		while (!c->pending && !c->pending_keys[0] && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->stop) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		utt = c->pending;
		memcpy(keys, c->pending_keys, sizeof(keys));
		start_ms = c->pending_start_ms;
		end_ms = c->pending_end_ms;
		overlap = c->pending_overlap;
		c->pending = NULL;
		c->pending_keys[0] = '\0';
		atomic_store(&c->busy, true);
		pthread_mutex_unlock(&c->lock);
		if (c->refused)
			stt_stream_abort(utt); /* the call is ending; nothing more is heard */
		else
			answer(c, keys[0] ? NULL : utt, keys[0] ? keys : NULL, start_ms, end_ms,
			       overlap && !keys[0]);
		atomic_store(&c->busy, false);
	}
	conv_unref(c);
	return NULL;
}

static void *on_start(void *harg, struct mediachan *mc, const struct media_call_info *ci)
{
	struct pipeline *p = harg;
	struct vad_params vp;
	struct conv *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t th;

	if (!c)
		return NULL;
	c->p = p;
	c->call_id = ci->call_id;
	c->record = ci->record;
	c->store_ok = p->d.conf->consent_mode != CONSENT_REQUIRE;
	str_copy(c->caller, sizeof(c->caller), ci->caller ? ci->caller : "");
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	vad_params_default(&vp);
	vp.silence_ms = (unsigned)p->d.conf->vad_silence_ms;
	if (vad_alloc(&c->vad, &vp)) {
		free(c);
		return NULL;
	}
	c->mc = mediachan_ref(mc);
	c->refs = 2; /* the media side until HANGUP, the thread until it ends */
	pthread_mutex_lock(&p->lock);
	p->live++;
	pthread_mutex_unlock(&p->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, conv_thread, c) != 0) {
		pthread_attr_destroy(&attr);
		c->refs = 1;
		conv_unref(c);
		return NULL;
	}
	pthread_attr_destroy(&attr);
	return c;
}

static void begin_utterance(struct conv *c)
{
	int16_t pre[8000];
	size_t n;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	c->utt = c->standby;
	c->standby = NULL;
	pthread_mutex_unlock(&c->lock);
	if (!c->utt)
		rc = stt_stream_begin(c->p->d.stt, c->p->phrases, &c->utt);
	if (rc) {
		log_warn("call %llu: cannot start recognition: %s", (unsigned long long)c->call_id,
			 strerror(rc));
		c->utt = NULL;
		return;
	}
	c->utt_start_ms = time_now_ms();
	c->utt_overlap = mediachan_queued(c->mc) > 0 || atomic_load(&c->busy);
	c->word_since_ms = 0;
	n = vad_preroll(c->vad, pre, sizeof(pre) / sizeof(pre[0]));
	if (n)
		stt_stream_feed(c->utt, pre, n);
}

/* Speech long enough to interrupt: with a recogniser that reports words as they come
 * (pocketsphinx), it must also contain a real word, unless it goes on for longer than a
 * backchannel does. */
static bool interrupts(struct conv *c, unsigned speech_ms)
{
	char partial[256];

	if (speech_ms >= (unsigned)c->p->d.conf->barge_in_min_ms + BACKCHANNEL_MAX_MS)
		return true;
	if (!c->utt || stt_stream_partial(c->utt, partial, sizeof(partial)) != 0)
		return true; /* no words before the end (http STT): duration alone decides */
	/* Early partial results flicker ("uh huh" -> "go" -> "okay"): a real word must hold
	 * while the caller goes on speaking for WORD_HOLD_MS. */
	if (only_backchannel(partial)) {
		c->word_since_ms = 0;
		return false;
	}
	if (!c->word_since_ms) {
		c->word_since_ms = speech_ms;
		return false;
	}
	if (speech_ms < c->word_since_ms + WORD_HOLD_MS)
		return false;
	log_debug("call %llu: interrupted by \"%s\"", (unsigned long long)c->call_id, partial);
	return true;
}

/* The caller talks while the bot speaks or thinks: stop the bot, take the new words. */
static void check_barge_in(struct conv *c)
{
	const struct conf *cf = c->p->d.conf;
	unsigned speech_ms;

	if (!cf->barge_in || c->barged || !vad_in_speech(c->vad))
		return;
	speech_ms = vad_speech_ms(c->vad);
	if (speech_ms < (unsigned)cf->barge_in_min_ms)
		return;
	if (!mediachan_queued(c->mc) && !atomic_load(&c->busy))
		return;
	if (!interrupts(c, speech_ms))
		return;
	c->barged = true;
	atomic_fetch_add(&c->gen, 1);
	c->cancel = true;
	mediachan_flush(c->mc);
	log_info("call %llu: barge-in after %u ms of caller speech", (unsigned long long)c->call_id,
		 vad_speech_ms(c->vad));
}

static void end_utterance(struct conv *c)
{
	int64_t end_ms = time_mono_ms() - c->p->d.conf->vad_silence_ms;

	pthread_mutex_lock(&c->lock);
	stt_stream_abort(c->pending); /* an unanswered older utterance is superseded */
	c->pending_keys[0] = '\0';
	c->pending = c->utt;
	c->pending_start_ms = c->utt_start_ms;
	/* Said entirely over the bot's speech without interrupting it (the bot still talks). */
	c->pending_overlap = c->utt_overlap && !c->barged && mediachan_queued(c->mc) > 0;
	c->pending_end_ms = end_ms;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	c->utt = NULL;
	c->barged = false;
}

static void on_audio(void *carg, const int16_t *pcm, size_t n)
{
	struct conv *c = carg;
	enum vad_event ev;

	if (c->held)
		return;
	ev = vad_feed(c->vad, pcm, n);
	if (ev == VAD_SPEECH_START)
		begin_utterance(c);
	else if (c->utt)
		stt_stream_feed(c->utt, pcm, n);
	check_barge_in(c);
	if (ev == VAD_SPEECH_END && c->utt)
		end_utterance(c);
}

/* A key press is an answer of its own ("press 0 for an operator"), and interrupts the bot. */
static void on_dtmf(struct conv *c, char digit)
{
	log_info("call %llu: DTMF %c", (unsigned long long)c->call_id, digit);
	if (mediachan_queued(c->mc) || atomic_load(&c->busy)) {
		atomic_fetch_add(&c->gen, 1);
		c->cancel = true;
		mediachan_flush(c->mc);
	}
	pthread_mutex_lock(&c->lock);
	stt_stream_abort(c->pending);
	c->pending = NULL;
	/* Words the rules can match: '*' and '#' would be dropped as punctuation. */
	snprintf(c->pending_keys, sizeof(c->pending_keys), "dtmf %s",
		 digit == '*' ? "star" : digit == '#' ? "hash" : (char[]){ digit, '\0' });
	c->pending_start_ms = time_now_ms();
	c->pending_end_ms = time_mono_ms();
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* On hold the caller cannot hear the bot and may send music: stop talking and listening
 * until the call is resumed. */
static void on_hold(struct conv *c, bool held)
{
	log_info("call %llu: %s", (unsigned long long)c->call_id,
		 held ? "on hold: the conversation pauses" : "resumed");
	c->held = held;
	atomic_fetch_add(&c->gen, 1);
	c->cancel = true;
	mediachan_flush(c->mc);
	stt_stream_abort(c->utt);
	c->utt = NULL;
	c->barged = false;
	vad_reset(c->vad);
}

static void on_transfer(struct conv *c, const struct media_event *ev)
{
	pthread_mutex_lock(&c->lock);
	if (c->xfer_waiting) {
		c->xfer_done = true;
		c->xfer_ok = ev->ok;
		if (ev->status)
			snprintf(c->xfer_what, sizeof(c->xfer_what), "%s (%u)",
				 ev->reason ? ev->reason : "", ev->status);
		else
			snprintf(c->xfer_what, sizeof(c->xfer_what), "%s", ev->reason ? ev->reason : "");
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
}

static void on_event(void *carg, const struct media_event *ev)
{
	struct conv *c = carg;

	switch (ev->type) {
	case MEDIA_EV_DTMF:
		if (!c->held)
			on_dtmf(c, ev->digit);
		return;
	case MEDIA_EV_HOLD:
	case MEDIA_EV_RESUME:
		on_hold(c, ev->type == MEDIA_EV_HOLD);
		return;
	case MEDIA_EV_TRANSFER:
		on_transfer(c, ev);
		return;
	default:
		break;
	}
	if (ev->type != MEDIA_EV_HANGUP)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	atomic_fetch_add(&c->gen, 1);
	c->cancel = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	conv_unref(c);
}

static void collect_phrase(const char *phrase, void *arg)
{
	struct pipeline *p = arg;
	char **ns;

	if (strncmp(phrase, "dtmf ", 5) == 0)
		return; /* key presses, not words */
	if (p->nphrases + 1 >= PHRASES_MAX)
		return;
	ns = realloc(p->phrase_store, (p->nphrases + 2) * sizeof(*ns));
	if (!ns)
		return;
	p->phrase_store = ns;
	ns[p->nphrases] = strdup(phrase);
	if (ns[p->nphrases])
		p->nphrases++;
	ns[p->nphrases] = NULL;
}

int pipeline_alloc(struct pipeline **out, const struct pipeline_deps *deps)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return ENOMEM;
	p->d = *deps;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	/* The rules dialogue knows what callers may say: a grammar makes recognition robust. */
	llm_phrases(p->d.llm, collect_phrase, p);
	if (p->nphrases) {
		collect_phrase("yes", p);
		collect_phrase("no", p);
		/* Backchannels in the grammar, so "uh-huh" is not forced onto a command. */
		for (size_t i = 0; backchannel_phrases[i]; i++)
			collect_phrase(backchannel_phrases[i], p);
		p->phrases = (const char **)p->phrase_store;
	}
	*out = p;
	return 0;
}

/* Every call got its HANGUP, so every thread is ending; backends are cancelled and polled
 * about every 100 ms, an STT/TTS request may still take its own time-out. */
static bool wait_idle(struct pipeline *p, int seconds)
{
	struct timespec deadline = time_deadline_ms((int64_t)seconds * 1000);
	bool idle = true;

	pthread_mutex_lock(&p->lock);
	while (p->live > 0) {
		if (pthread_cond_timedwait(&p->idle, &p->lock, &deadline) == ETIMEDOUT) {
			log_warn("pipeline: %d conversation(s) still busy at shutdown", p->live);
			idle = false;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return idle;
}

static void on_drain(void *harg)
{
	wait_idle(harg, 10);
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	if (!wait_idle(p, 1))
		return; /* leaking beats freeing what a thread still uses */
	for (size_t i = 0; i < p->nphrases; i++)
		free(p->phrase_store[i]);
	free(p->phrase_store);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	free(p);
}

void pipeline_handler(struct pipeline *p, struct media_handler *h)
{
	h->start = on_start;
	h->audio = on_audio;
	h->event = on_event;
	h->drain = on_drain;
	h->harg = p;
}
