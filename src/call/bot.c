/* bot.c - echo and prompt bots: the smallest clients of the media API. */
#include "call/bot.h"

#include "core/config.h"
#include "core/log.h"
#include "tts/tts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- echo --- */

static void *echo_start(void *harg, struct mediachan *mc, const struct media_call_info *ci)
{
	(void)harg;
	(void)ci;
	return mc;
}

static void echo_audio(void *carg, const int16_t *pcm, size_t n)
{
	(void)mediachan_play(carg, pcm, n);
}

static void echo_event(void *carg, const struct media_event *ev)
{
	(void)carg;
	if (ev->type == MEDIA_EV_DTMF)
		log_info("echo bot: DTMF %c (%u ms)", ev->digit, ev->duration_ms);
}

void bot_echo_handler(struct media_handler *h)
{
	memset(h, 0, sizeof(*h));
	h->start = echo_start;
	h->audio = echo_audio;
	h->event = echo_event;
}

/* --- prompt --- */

struct prompt_call {
	struct mediachan *mc;
	const struct bot_prompt *p;
};

static void prompt_play(struct prompt_call *pc)
{
	static const int16_t silence[MEDIA_RATE] = { 0 };

	(void)mediachan_play(pc->mc, pc->p->pcm, pc->p->n);
	(void)mediachan_play(pc->mc, silence, MEDIA_RATE);
}

static void *prompt_start(void *harg, struct mediachan *mc, const struct media_call_info *ci)
{
	struct prompt_call *pc = calloc(1, sizeof(*pc));

	(void)ci;
	if (!pc)
		return NULL;
	pc->mc = mc;
	pc->p = harg;
	prompt_play(pc);
	return pc;
}

static void prompt_audio(void *carg, const int16_t *pcm, size_t n)
{
	(void)carg;
	(void)pcm;
	(void)n;
}

static void prompt_event(void *carg, const struct media_event *ev)
{
	struct prompt_call *pc = carg;

	switch (ev->type) {
	case MEDIA_EV_PLAYBACK_DONE:
		prompt_play(pc);
		break;
	case MEDIA_EV_DTMF:
		log_info("prompt bot: DTMF %c", ev->digit);
		break;
	case MEDIA_EV_HANGUP:
		free(pc);
		break;
	default:
		break;
	}
}

void bot_prompt_handler(struct media_handler *h, const struct bot_prompt *p)
{
	memset(h, 0, sizeof(*h));
	h->start = prompt_start;
	h->audio = prompt_audio;
	h->event = prompt_event;
	h->harg = (void *)p;
}

/* --- greeting audio --- */

static int make_chime(struct bot_prompt *p)
{
	const size_t tone = MEDIA_RATE * 2 / 5; /* 0.4 s each */
	const double two_pi = 6.283185307179586;

	p->n = 2 * tone;
	p->pcm = malloc(p->n * sizeof(*p->pcm));
	if (!p->pcm)
		return ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		double f = i < tone ? 660.0 : 440.0;
		double env = 1.0;
		size_t k = i % tone;

		/* 10 ms fades avoid clicks. */
		if (k < 80)
			env = (double)k / 80.0;
		else if (tone - k < 80)
			env = (double)(tone - k) / 80.0;
		p->pcm[i] = (int16_t)(8000.0 * env * sin(two_pi * f * (double)i / MEDIA_RATE));
	}
	return 0;
}

struct collect {
	struct bot_prompt *p;
	size_t cap;
};

static int collect_pcm(const int16_t *pcm, size_t n, void *arg)
{
	struct collect *c = arg;

	if (c->p->n + n > (size_t)MEDIA_RATE * 60)
		return 1; /* a greeting longer than a minute is a mistake: stop */
	if (c->p->n + n > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : MEDIA_RATE * 4;
		int16_t *np;

		while (cap < c->p->n + n)
			cap *= 2;
		np = realloc(c->p->pcm, cap * sizeof(*np));
		if (!np)
			return 1;
		c->p->pcm = np;
		c->cap = cap;
	}
	memcpy(c->p->pcm + c->p->n, pcm, n * sizeof(*pcm));
	c->p->n += n;
	return 0;
}

int bot_prompt_make(struct bot_prompt *p, const struct conf *c)
{
	struct tts_engine *e = NULL;
	struct collect col = { .p = p };
	char why[256] = "";
	int err;

	memset(p, 0, sizeof(*p));
	/* Only embedded engines here: this runs once at start-up, before calls,
	 * and must not wait on a network backend. */
	if (c->greeting && *c->greeting &&
	    (c->tts_backend == TTS_ESPEAK || c->tts_backend == TTS_FLITE)) {
		err = tts_engine_alloc(&e, c, why, sizeof(why));
		if (!err) {
			err = tts_synth(e, c->greeting, collect_pcm, &col, NULL);
			tts_engine_free(e);
		}
		if (!err && p->n > MEDIA_RATE / 10) {
			log_info("prompt bot: greeting synthesised (%.1f s)", (double)p->n / MEDIA_RATE);
			return 0;
		}
		log_warn("prompt bot: cannot synthesise GREETING (%s); using a chime",
			 why[0] ? why : strerror(err ? err : EIO));
		bot_prompt_free(p);
	}
	return make_chime(p);
}

void bot_prompt_free(struct bot_prompt *p)
{
	free(p->pcm);
	p->pcm = NULL;
	p->n = 0;
}
