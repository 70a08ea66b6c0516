/* selftest.c - `callbot selftest speech`, synthesis half: speak one sentence, check it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"
#include "tts/tts.h"

struct probe {
	size_t n;
	double energy;
	int64_t t0, first_ms;
};

static int probe_h(const int16_t *pcm, size_t n, void *arg)
{
	struct probe *p = arg;

	if (!p->n)
		p->first_ms = time_mono_ms() - p->t0;
	for (size_t i = 0; i < n; i++)
		p->energy += (double)pcm[i] * pcm[i];
	p->n += n;
	return 0;
}

int tts_selftest(const struct conf *c, char *msg, size_t size)
{
	struct tts_engine *e = NULL;
	struct probe p = { 0 };
	char err[256];
	double dbfs;
	int rc;

	rc = tts_engine_alloc(&e, c, err, sizeof(err));
	if (rc) {
		snprintf(msg, size, "%s", err);
		return rc;
	}
	p.t0 = time_mono_ms();
	rc = tts_synth(e, "This is a test of the speech output.", probe_h, &p, NULL);
	dbfs = p.n ? 10 * log10(p.energy / (double)p.n / (32768.0 * 32768.0) + 1e-12) : -120;
	if (rc) {
		snprintf(msg, size, "tts %s: synthesis failed: %s", tts_engine_name(e),
			 strerror(rc));
	} else if (p.n < TTS_RATE_HZ / 2 || dbfs < -45) {
		snprintf(msg, size, "tts %s: only %.2f s of audio at %.0f dBFS for a test sentence",
			 tts_engine_name(e), (double)p.n / TTS_RATE_HZ, dbfs);
		rc = EIO;
	} else {
		snprintf(msg, size, "tts %s: %.2f s of audio at %.0f dBFS, first after %lld ms, all "
			 "after %lld ms",
			 tts_engine_name(e), (double)p.n / TTS_RATE_HZ, dbfs, (long long)p.first_ms,
			 (long long)(time_mono_ms() - p.t0));
	}
	tts_engine_free(e);
	return rc;
}
