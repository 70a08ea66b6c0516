/* aec.c - speexdsp's MDF echo canceller, its preprocessor's residual echo suppressor, and a
 * level guard for what both miss. The linear filter removes most of the echo once it has
 * converged (about 1-2 s of the bot's speech); the suppressor takes out what remains of
 * G.711 noise and non-linear paths; the guard covers the learning time and the bursts of
 * residual echo a VAD would take for a caller's voice. Measurements: docs/media.md. */
#include "media/aec.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

/* Stationary-noise suppression: only a little, so the caller's voice and the line noise
 * the VAD and the recogniser expect stay as they were; the suppressor needs it enabled
 * to apply its echo gain at all. */
#define AEC_NOISE_SUPPRESS_DB (-3)
/* Residual echo attenuation: alone (-40) and while the caller talks too (-15, double
 * talk keeps more of the caller's voice). These are speexdsp's defaults, made explicit. */
#define AEC_ECHO_SUPPRESS_DB (-40)
#define AEC_ECHO_SUPPRESS_ACTIVE_DB (-15)

/*
 * The filter needs a second or two of the bot's speech to learn the echo path, and in the
 * first second the echo passes almost unchanged - enough for a false barge-in at the start
 * of the greeting. Until AEC_WARMUP_MS of reference speech were seen, a frame is attenuated
 * by AEC_GUARD_GAIN when it is no louder than the loudest reference frame of the tail minus
 * AEC_GUARD_ERL_DB (the echo return loss a phone line has at least; G.168 asks 6 dB of
 * hybrids): only a caller louder than that gets through then.
 */
#define AEC_WARMUP_MS 2500
#define AEC_GUARD_ERL_DB 6.0f
#define AEC_GUARD_RESIDUAL_DB 22.0f
#define AEC_GUARD_GAIN 0.03f  /* -30 dB */
#define AEC_REF_ACTIVE_DB (-50.0f)
/*
 * After the warm-up the guard stays only on calls that echo, at AEC_GUARD_RESIDUAL_DB below
 * the reference: the filter leaves bursts of residual echo on some words that a VAD takes
 * for speech. A call echoes when the received level envelope follows the sent one
 * (correlation >= AEC_ECHO_CORR over the last 2 s at the best delay): callers who merely talk
 * do not follow the bot's syllables, so their barge-in is not slowed down.
 */
#define AEC_ECHO_CORR 0.6f
#define AEC_CORR_FRAMES 100
#define AEC_CORR_MIN_FRAMES 50
#define AEC_CORR_EVERY 5
#define AEC_ENV_FLOOR_DB (-70.0f)
#define AEC_FRAME_MAX 480

struct aec {
	SpeexEchoState *echo;
	SpeexPreprocessState *pre;
	unsigned frame;
	/* level guard */
	float *ref_db;         /* levels of the last tail frames of reference, a ring */
	unsigned ref_n, ref_pos;
	unsigned warm_frames;  /* frames with reference speech in the tail so far */
	bool ref_active;       /* the bot spoke within the tail */
	unsigned warm_need;
	/* echo detector: level envelopes, AEC_CORR_FRAMES + tail */
	float *rec_hist, *ref_hist;
	unsigned hist_n, hist_pos, hist_fill, corr_tick;
	float echo_corr;
};

void aec_free(struct aec *a)
{
	if (!a)
		return;
	if (a->pre)
		speex_preprocess_state_destroy(a->pre);
	if (a->echo)
		speex_echo_state_destroy(a->echo);
	free(a->ref_db);
	free(a->rec_hist);
	free(a->ref_hist);
	free(a);
}

int aec_alloc(struct aec **out, unsigned rate, unsigned frame, unsigned tail_ms)
{
	struct aec *a;
	spx_int32_t v;
	int err = 0;

	if (!out || !rate || !frame || frame > AEC_FRAME_MAX || !tail_ms || tail_ms > 2000)
		return EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return ENOMEM;
	a->frame = frame;
	a->ref_n = (unsigned)((unsigned long)tail_ms * rate / 1000 / frame) + 1;
	a->warm_need = (unsigned)((unsigned long)AEC_WARMUP_MS * rate / 1000 / frame);
	a->hist_n = AEC_CORR_FRAMES + a->ref_n;
	a->rec_hist = calloc(a->hist_n, sizeof(*a->rec_hist));
	a->ref_hist = calloc(a->hist_n, sizeof(*a->ref_hist));
	a->ref_db = calloc(a->ref_n, sizeof(*a->ref_db));
	a->echo = speex_echo_state_init((int)frame, (int)(rate / 1000 * tail_ms));
	a->pre = speex_preprocess_state_init((int)frame, (int)rate);
	if (!a->ref_db || !a->rec_hist || !a->ref_hist || !a->echo || !a->pre) {
		err = ENOMEM;
		goto out;
	}
	v = (spx_int32_t)rate;
	speex_echo_ctl(a->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &v);
	speex_preprocess_ctl(a->pre, SPEEX_PREPROCESS_SET_ECHO_STATE, a->echo);
	v = 1;
	speex_preprocess_ctl(a->pre, SPEEX_PREPROCESS_SET_DENOISE, &v);
	v = AEC_NOISE_SUPPRESS_DB;
	speex_preprocess_ctl(a->pre, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &v);
	v = AEC_ECHO_SUPPRESS_DB;
	speex_preprocess_ctl(a->pre, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, &v);
	v = AEC_ECHO_SUPPRESS_ACTIVE_DB;
	speex_preprocess_ctl(a->pre, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, &v);
	/* The pipeline has its own VAD and levels: no AGC, no dereverberation (the
	 * preprocessor's VAD is off by default; setting it only prints a warning). */
	v = 0;
	speex_preprocess_ctl(a->pre, SPEEX_PREPROCESS_SET_AGC, &v);
	speex_preprocess_ctl(a->pre, SPEEX_PREPROCESS_SET_DEREVERB, &v);
	aec_reset(a);
out:
	if (err) {
		aec_free(a);
		return err;
	}
	*out = a;
	return 0;
}

/* Frame level in dBFS (a full-scale square wave is 0). */
static float level_db(const int16_t *x, unsigned n)
{
	double e = 0;

	for (unsigned i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return (float)(10.0 * log10(e / n / (32768.0 * 32768.0) + 1e-12));
}

/* Correlation of the received and reference level envelopes at the best delay in the tail,
 * over the last AEC_CORR_FRAMES (or all there are): near 1 when what comes back follows
 * what we sent. */
static float envelope_correlation(const struct aec *a)
{
	unsigned n = a->hist_fill - a->ref_n, h = a->hist_n;
	float best = 0;

	for (unsigned lag = 0; lag < a->ref_n; lag++) {
		double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, cov, vx, vy;

		for (unsigned i = 0; i < n; i++) {
			unsigned k = (a->hist_pos + h - 1 - i) % h;
			unsigned kr = (a->hist_pos + h - 1 - i - lag) % h;
			double x = a->rec_hist[k], y = a->ref_hist[kr];

			sx += x;
			sy += y;
			sxx += x * x;
			syy += y * y;
			sxy += x * y;
		}
		cov = sxy - sx * sy / n;
		vx = sxx - sx * sx / n;
		vy = syy - sy * sy / n;
		if (vx > 1e-3 && vy > 1e-3 && cov / sqrt(vx * vy) > best)
			best = (float)(cov / sqrt(vx * vy));
	}
	return best;
}

/* Keeps the level history and, every few frames, decides whether there is echo at all. */
static void track_echo(struct aec *a, float rec_db, float ref_db)
{
	a->rec_hist[a->hist_pos] = fmaxf(rec_db, AEC_ENV_FLOOR_DB);
	a->ref_hist[a->hist_pos] = fmaxf(ref_db, AEC_ENV_FLOOR_DB);
	a->hist_pos = (a->hist_pos + 1) % a->hist_n;
	if (a->hist_fill < a->hist_n)
		a->hist_fill++;
	if (++a->corr_tick < AEC_CORR_EVERY || a->hist_fill < a->ref_n + AEC_CORR_MIN_FRAMES)
		return;
	a->corr_tick = 0;
	a->echo_corr = envelope_correlation(a);
}

/* Returns the level below which a frame is taken for echo, or -inf when the guard is off. */
static float guard_threshold(struct aec *a, float ref_db)
{
	float max = -INFINITY;

	a->ref_db[a->ref_pos] = ref_db;
	a->ref_pos = (a->ref_pos + 1) % a->ref_n;
	for (unsigned i = 0; i < a->ref_n; i++)
		if (a->ref_db[i] > max)
			max = a->ref_db[i];
	a->ref_active = max >= AEC_REF_ACTIVE_DB;
	if (!a->ref_active)
		return -INFINITY;
	if (a->warm_frames < a->warm_need) {
		a->warm_frames++;
		return max - AEC_GUARD_ERL_DB;
	}
	if (a->echo_corr >= AEC_ECHO_CORR)
		return max - AEC_GUARD_RESIDUAL_DB;
	return -INFINITY;
}


void aec_process(struct aec *a, const int16_t *rec, const int16_t *ref, int16_t *out)
{
	float ref_db = level_db(ref, a->frame), rec_db = level_db(rec, a->frame), thr;
	int16_t linear[AEC_FRAME_MAX];

	track_echo(a, rec_db, ref_db);
	thr = guard_threshold(a, ref_db);
	speex_echo_cancellation(a->echo, rec, ref, out);
	/* The suppressor runs on every frame to keep its estimates, but it also takes a few dB
	 * off a caller's voice when the filter mis-adapts to it, and shortens the quiet ends of
	 * words: its result is kept only where the guard is on (the bot spoke within the tail,
	 * and the filter is learning or the line echoes). */
	memcpy(linear, out, a->frame * sizeof(*out));
	speex_preprocess_run(a->pre, out);
	/* Nothing was sent within the tail, so there is no echo to remove: the caller's audio
	 * stays exactly as received (the filter's DC notch alone would take the quiet, low ends
	 * of words the VAD counts as speech, and move its end of utterance earlier). */
	if (!a->ref_active) {
		memcpy(out, rec, a->frame * sizeof(*out));
		return;
	}
	if (thr == -INFINITY)
		memcpy(out, linear, a->frame * sizeof(*out));
	/* Cancelling cannot make a frame louder. When the echo stops at once (the caller
	 * takes the phone off speaker, the far end mutes) the filter goes on subtracting the
	 * echo it expects, which comes out as the bot's voice under a silent line. */
	if (level_db(out, a->frame) > rec_db)
		memcpy(out, rec, a->frame * sizeof(*out));
	if (thr > -INFINITY && level_db(out, a->frame) <= thr)
		for (unsigned i = 0; i < a->frame; i++)
			out[i] = (int16_t)lrintf(out[i] * AEC_GUARD_GAIN);
}

void aec_reset(struct aec *a)
{
	speex_echo_state_reset(a->echo);
	for (unsigned i = 0; i < a->ref_n; i++)
		a->ref_db[i] = -120.0f;
	a->ref_pos = 0;
	a->ref_active = false;
	a->warm_frames = 0;
	a->hist_pos = 0;
	a->hist_fill = 0;
	a->corr_tick = 0;
	a->echo_corr = 0;
}
