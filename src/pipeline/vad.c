/* vad.c - energy endpointer with an adaptive noise floor, a tonality gate and a
 * stationarity check.
 *
 * Per 20 ms frame: a DC blocker, the frame level in dBFS and the LPC prediction gain
 * ("tonality": voiced speech is very predictable, white/pink noise, clicks and comfort
 * noise are not). A frame starts voice when it is start_db above the noise floor, above
 * min_level_db and tonal; min_speech_ms of such frames in a row make SPEECH_START, which
 * rejects clicks and pops. Inside an utterance a frame stays voice when it is stay_db above
 * the floor, whatever its tonality (fricatives, breathy endings), and silence_ms without
 * voice make SPEECH_END, so pauses between words do not split an utterance.
 *
 * The floor follows the minimum of the frame levels (falls at once, rises slowly), rises
 * fast on noise-like frames, and is reset to the current level when the last second was
 * stationary (range under 3 dB: hum, a dial tone, line noise switching on) - speech is
 * never that steady. The measurements behind the defaults are in docs/speech.md.
 */
#include "pipeline/vad.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LPC_ORDER 8
#define STAT_FRAMES 50   /* 1 s of levels for the stationarity check */
#define STAT_RANGE_DB 3.0f
#define LEVEL_MIN_DB -100.0f

enum vad_state { ST_SILENT, ST_CANDIDATE, ST_SPEECH };

struct vad {
	struct vad_params p;
	unsigned min_frames, silence_frames;
	enum vad_state st;
	float hp_x1, hp_y1;
	bool floor_init;
	float floor_db, level_db, tonal_db;
	unsigned run;          /* ST_CANDIDATE: consecutive start frames */
	unsigned voiced;       /* voiced frames of the current utterance */
	unsigned silence;      /* ST_SPEECH: consecutive non-voice frames */
	float stat[STAT_FRAMES];
	unsigned stat_n, stat_pos;
	int16_t *ring;         /* last ring_cap samples */
	size_t ring_cap, ring_pos, ring_fill;
	size_t preroll_n;      /* samples of the ring that vad_preroll() returns */
};

void vad_params_default(struct vad_params *p)
{
	p->silence_ms = 500;
	p->min_speech_ms = 60;
	p->preroll_ms = 300;
	p->start_db = 9.0f;
	p->stay_db = 5.0f;
	p->min_level_db = -50.0f;
	p->min_tonality_db = 4.0f;
}

int vad_alloc(struct vad **out, const struct vad_params *p)
{
	struct vad *v;

	if (!out)
		return EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return ENOMEM;
	if (p)
		v->p = *p;
	else
		vad_params_default(&v->p);
	if (v->p.silence_ms < VAD_FRAME_MS || v->p.silence_ms > 60000 ||
	    v->p.min_speech_ms > 2000 || v->p.preroll_ms > 5000 || v->p.stay_db > v->p.start_db) {
		free(v);
		return EINVAL;
	}
	v->min_frames = (v->p.min_speech_ms + VAD_FRAME_MS - 1) / VAD_FRAME_MS;
	if (!v->min_frames)
		v->min_frames = 1;
	v->silence_frames = (v->p.silence_ms + VAD_FRAME_MS - 1) / VAD_FRAME_MS;
	v->ring_cap = (size_t)(v->p.preroll_ms / VAD_FRAME_MS + v->min_frames + 1) * VAD_FRAME;
	v->ring = calloc(v->ring_cap, sizeof(*v->ring));
	if (!v->ring) {
		free(v);
		return ENOMEM;
	}
	*out = v;
	return 0;
}

void vad_free(struct vad *v)
{
	if (!v)
		return;
	free(v->ring);
	free(v);
}

void vad_reset(struct vad *v)
{
	v->st = ST_SILENT;
	v->run = v->voiced = v->silence = 0;
	v->preroll_n = 0;
}

typedef double v2d __attribute__((vector_size(16)));

/* LPC prediction gain in dB (Levinson-Durbin): 0 for white noise or an impulse,
 * 10-25 dB for voiced speech. */
static float tonality_db(const double *x, size_t n)
{
	double r[LPC_ORDER + 1], a[LPC_ORDER + 1], tmp[LPC_ORDER + 1], err;

	for (int k = 0; k <= LPC_ORDER; k++) {
		/* Two lanes of two: pairs of products added as vectors (a single double sum
		 * must be added in order, one at a time); the rounding difference is ~1e-16. */
		v2d s0 = { 0, 0 }, s1 = { 0, 0 };
		size_t i = (size_t)k;

		for (; i + 4 <= n; i += 4) {
			v2d a0, b0, a1, b1;

			memcpy(&a0, x + i, sizeof(a0));
			memcpy(&b0, x + i - (size_t)k, sizeof(b0));
			memcpy(&a1, x + i + 2, sizeof(a1));
			memcpy(&b1, x + i + 2 - (size_t)k, sizeof(b1));
			s0 += a0 * b0;
			s1 += a1 * b1;
		}
		s0 += s1;
		r[k] = s0[0] + s0[1];
		for (; i < n; i++)
			r[k] += x[i] * x[i - (size_t)k];
	}
	if (r[0] < 1e-3)
		return 0;
	r[0] *= 1.0001; /* white-noise correction keeps the recursion well conditioned */
	err = r[0];
	memset(a, 0, sizeof(a));
	for (int i = 1; i <= LPC_ORDER; i++) {
		double acc = r[i], k;

		for (int j = 1; j < i; j++)
			acc -= a[j] * r[i - j];
		k = acc / err;
		memcpy(tmp, a, sizeof(a));
		a[i] = k;
		for (int j = 1; j < i; j++)
			a[j] = tmp[j] - k * tmp[i - j];
		err *= 1 - k * k;
		if (err <= r[0] * 1e-6)
			break;
	}
	return (float)(10 * log10(r[0] / (err > r[0] * 1e-6 ? err : r[0] * 1e-6)));
}

static void ring_put(struct vad *v, const int16_t *pcm)
{
	/* Two copies at most (no division per sample: this runs for every call, every frame). */
	size_t first = v->ring_cap - v->ring_pos < VAD_FRAME ? v->ring_cap - v->ring_pos : VAD_FRAME;

	memcpy(v->ring + v->ring_pos, pcm, first * sizeof(*pcm));
	memcpy(v->ring, pcm + first, (VAD_FRAME - first) * sizeof(*pcm));
	v->ring_pos = first < VAD_FRAME ? VAD_FRAME - first : v->ring_pos + VAD_FRAME;
	if (v->ring_pos == v->ring_cap)
		v->ring_pos = 0;
	v->ring_fill = v->ring_fill + VAD_FRAME > v->ring_cap ? v->ring_cap
							      : v->ring_fill + VAD_FRAME;
}

static bool stationary(struct vad *v)
{
	float lo = v->stat[0], hi = v->stat[0];

	if (v->stat_n < STAT_FRAMES)
		return false;
	for (unsigned i = 1; i < STAT_FRAMES; i++) {
		lo = v->stat[i] < lo ? v->stat[i] : lo; /* levels are never NaN: no fminf() call */
		hi = v->stat[i] > hi ? v->stat[i] : hi;
	}
	return hi - lo < STAT_RANGE_DB && lo > v->floor_db + v->p.stay_db;
}

static void floor_update(struct vad *v, bool noise_like)
{
	float d = v->level_db - v->floor_db;

	if (!v->floor_init) {
		v->floor_db = v->level_db;
		v->floor_init = true;
	} else if (d < 0) {
		v->floor_db += 0.4f * d;
	} else if (stationary(v)) {
		v->floor_db = v->level_db - 1.0f;
	} else if (noise_like) {
		v->floor_db += (v->st == ST_SPEECH ? 0.02f : 0.05f) * d;
	} else {
		v->floor_db += 0.002f * d;
	}
}

enum vad_event vad_feed(struct vad *v, const int16_t *pcm, size_t n)
{
	double x[VAD_FRAME]; /* the filtered frame, widened once for the correlations */
	double e = 0;
	bool start_voice, stay_voice;
	enum vad_event ev = VAD_NONE;

	if (!v || !pcm || n != VAD_FRAME)
		return VAD_NONE;
	ring_put(v, pcm);
	for (size_t i = 0; i < VAD_FRAME; i++) {
		float in = pcm[i], y = in - v->hp_x1 + 0.98f * v->hp_y1;

		v->hp_x1 = in;
		v->hp_y1 = y;
		x[i] = y;
		e += x[i] * x[i];
	}
	e /= VAD_FRAME * 32768.0 * 32768.0;
	v->level_db = e > 1e-10 ? (float)(10 * log10(e)) : LEVEL_MIN_DB;
	v->tonal_db = tonality_db(x, VAD_FRAME);
	v->stat[v->stat_pos] = v->level_db;
	v->stat_pos = (v->stat_pos + 1) % STAT_FRAMES;
	if (v->stat_n < STAT_FRAMES)
		v->stat_n++;
	floor_update(v, v->tonal_db < v->p.min_tonality_db);

	start_voice = v->level_db > v->floor_db + v->p.start_db &&
		      v->level_db > v->p.min_level_db && v->tonal_db >= v->p.min_tonality_db;
	stay_voice = v->level_db > v->floor_db + v->p.stay_db &&
		     v->level_db > v->p.min_level_db - 6.0f;

	switch (v->st) {
	case ST_SILENT:
	case ST_CANDIDATE:
		if (!start_voice) {
			v->st = ST_SILENT;
			v->run = v->voiced = 0;
			break;
		}
		v->st = ST_CANDIDATE;
		v->run++;
		v->voiced++;
		if (v->run >= v->min_frames) {
			size_t want = (size_t)v->run * VAD_FRAME +
				      (size_t)v->p.preroll_ms * (VAD_RATE / 1000);

			v->preroll_n = want < v->ring_fill ? want : v->ring_fill;
			v->st = ST_SPEECH;
			v->silence = 0;
			ev = VAD_SPEECH_START;
		}
		break;
	case ST_SPEECH:
		if (stay_voice) {
			v->voiced++;
			v->silence = 0;
		} else if (++v->silence >= v->silence_frames) {
			v->st = ST_SILENT;
			v->run = v->voiced = v->silence = 0;
			ev = VAD_SPEECH_END;
		}
		break;
	}
	return ev;
}

bool vad_in_speech(const struct vad *v)
{
	return v->st == ST_SPEECH;
}

unsigned vad_speech_ms(const struct vad *v)
{
	return v->st == ST_SILENT ? 0 : v->voiced * VAD_FRAME_MS;
}

size_t vad_preroll(const struct vad *v, int16_t *out, size_t max)
{
	size_t n = v->preroll_n < max ? v->preroll_n : max;
	size_t start = (v->ring_pos + v->ring_cap - v->preroll_n) % v->ring_cap;

	for (size_t i = 0; i < n; i++)
		out[i] = v->ring[(start + i) % v->ring_cap];
	return n;
}

float vad_noise_db(const struct vad *v)
{
	return v->floor_db;
}

float vad_level_db(const struct vad *v)
{
	return v->level_db;
}
