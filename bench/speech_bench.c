/* speech_bench.c - measures the speech engines on the fixtures of tests/data/speech:
 * pocketsphinx WER and latency (with and without the 4-8 kHz noise floor), memory per
 * decoder, espeak time to first audio, and our VAD against speexdsp's preprocessor VAD.
 * Build and run with bench/speech_bench.sh; the figures go to docs/speech.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <speex/speex_preprocess.h>

#include "core/config.h"
#include "core/util.h"
#include "pipeline/dsp_wav.h"
#include "pipeline/vad.h"
#include "stt/stt.h"
#include "tts/tts.h"

static const char *data_dir;

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static int load(const char *name, struct dsp_pcm *p)
{
	char path[512];
	const char *why = NULL;

	snprintf(path, sizeof(path), "%s/speech/%s", data_dir, name);
	if (dsp_wav_read(path, p, &why)) {
		fprintf(stderr, "%s: %s\n", path, why ? why : "?");
		return -1;
	}
	return 0;
}

static unsigned word_errors(const char *ref, const char *hyp, unsigned *nref)
{
	char r[1024], h[1024], *rw[128], *hw[128], *save;
	unsigned nr = 0, nh = 0;
	static unsigned d[129][129];

	str_copy(r, sizeof(r), ref);
	str_copy(h, sizeof(h), hyp);
	for (char *w = strtok_r(r, " ", &save); w && nr < 128; w = strtok_r(NULL, " ", &save))
		rw[nr++] = w;
	for (char *w = strtok_r(h, " ", &save); w && nh < 128; w = strtok_r(NULL, " ", &save))
		hw[nh++] = w;
	for (unsigned i = 0; i <= nr; i++)
		d[i][0] = i;
	for (unsigned j = 0; j <= nh; j++)
		d[0][j] = j;
	for (unsigned i = 1; i <= nr; i++)
		for (unsigned j = 1; j <= nh; j++) {
			unsigned a = d[i - 1][j - 1] + (strcmp(rw[i - 1], hw[j - 1]) != 0);
			unsigned b = d[i - 1][j] + 1, c = d[i][j - 1] + 1;

			d[i][j] = a < b ? (a < c ? a : c) : (b < c ? b : c);
		}
	*nref = nr;
	return d[nr][nh];
}

/* Feeds like the pipeline (20 ms frames, real-time pacing skipped); returns the text. */
static char *recognise(struct stt_engine *e, const char *const *phr, const struct dsp_pcm *p,
		       unsigned *end_ms, double *feed_s)
{
	struct stt_stream *s;
	char *t = NULL;
	int64_t t0 = time_mono_ms();

	if (stt_stream_begin(e, phr, &s))
		return NULL;
	for (size_t i = 0; i < p->n; i += 160)
		stt_stream_feed(s, p->s + i, p->n - i < 160 ? p->n - i : 160);
	*feed_s = (double)(time_mono_ms() - t0) / 1000;
	if (stt_stream_end(s, &t, end_ms))
		return NULL;
	return t;
}

static void bench_stt(const char *floor_db)
{
	struct conf c;
	struct stt_engine *e;
	struct dsp_pcm p;
	char path[512], line[512], err[256];
	unsigned errs = 0, words = 0, end_max = 0, end_sum = 0, n = 0;
	double audio = 0, feed = 0;
	long rss0 = rss_kb();
	int64_t t0 = time_mono_ms();
	FILE *f;

	setenv("CALLBOT_PS_FLOOR_DBFS", floor_db, 1);
	memset(&c, 0, sizeof(c));
	c.stt_backend = STT_POCKETSPHINX;
	c.language = (char *)"en";
	c.max_calls = 4;
	if (stt_engine_alloc(&e, &c, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	printf("\n## pocketsphinx, noise floor %s dBFS\nmodel load %lld ms, +%ld MB RSS\n",
	       floor_db, (long long)(time_mono_ms() - t0), (rss_kb() - rss0) / 1024);
	snprintf(path, sizeof(path), "%s/speech/librivox.txt", data_dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *ref = strchr(line, ' '), name[600], *t;
		unsigned nw, ew, ms;
		double fs;

		if (!ref)
			continue;
		*ref++ = '\0';
		ref[strcspn(ref, "\n")] = '\0';
		snprintf(name, sizeof(name), "%s.wav", line);
		if (load(name, &p))
			continue;
		t = recognise(e, NULL, &p, &ms, &fs);
		ew = word_errors(ref, t ? t : "", &nw);
		printf("%s %.1f s: %u/%u errors, feed %.2f s, end %u ms: %s\n", line,
		       (double)p.n / 8000, ew, nw, fs, ms, t ? t : "(error)");
		errs += ew;
		words += nw;
		audio += (double)p.n / 8000;
		feed += fs;
		end_sum += ms;
		end_max = ms > end_max ? ms : end_max;
		n++;
		free(t);
		dsp_pcm_free(&p);
	}
	if (f)
		fclose(f);
	printf("WER %.1f %% (%u/%u); real-time factor while feeding %.3f; end of speech -> text "
	       "mean %u ms, max %u ms\n",
	       100.0 * errs / (words ? words : 1), errs, words, feed / audio, end_sum / (n ? n : 1),
	       end_max);
	{
		static const char *const phr[] = { "yes", "no", "go forward ten meters",
						   "go backward ten meters", "what time is it",
						   "talk to a human", "good bye",
						   "go somewhere and do something", NULL };
		const char *files[] = { "goforward.wav", "something.wav", "numbers.wav" };

		for (size_t i = 0; i < 3; i++) {
			unsigned ms;
			double fs;
			char *t, *g;

			if (load(files[i], &p))
				continue;
			t = recognise(e, NULL, &p, &ms, &fs);
			g = recognise(e, phr, &p, &ms, &fs);
			printf("%s: general \"%s\" | grammar of 8 \"%s\" (end %u ms)\n", files[i],
			       t ? t : "?", g ? g : "?", ms);
			free(t);
			free(g);
			dsp_pcm_free(&p);
		}
	}
	{ /* memory of further decoders */
		struct stt_stream *s[3];
		long r0 = rss_kb();

		for (int i = 0; i < 3; i++)
			stt_stream_begin(e, NULL, &s[i]);
		printf("3 more concurrent streams (decoders 2-4, incl. 1 reused): +%ld MB RSS\n",
		       (rss_kb() - r0) / 1024);
		for (int i = 0; i < 3; i++)
			stt_stream_abort(s[i]);
	}
	stt_engine_free(e);
}

struct first {
	int64_t t0, first;
	size_t n;
};

static int first_h(const int16_t *pcm, size_t n, void *arg)
{
	struct first *f = arg;

	(void)pcm;
	if (!f->n)
		f->first = time_mono_ms() - f->t0;
	f->n += n;
	return 0;
}

static void bench_tts(void)
{
	static const struct {
		const char *lang, *text;
	} v[] = {
		{ "en", "Hello, this is callbot. How can I help you today? I can tell you our opening "
			"hours, or put you through to a colleague." },
		{ "de", "Guten Tag, hier ist callbot. Wie kann ich Ihnen heute helfen? Ich nenne "
			"Ihnen gern unsere Öffnungszeiten." },
		{ "es", "Hola, habla callbot. ¿En qué puedo ayudarle hoy? Puedo decirle nuestro "
			"horario de apertura." },
	};

	printf("\n## espeak-ng\n");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct conf c;
		struct tts_engine *e;
		struct first f = { 0 };
		char err[256];
		int64_t total;

		memset(&c, 0, sizeof(c));
		c.tts_backend = TTS_ESPEAK;
		c.language = (char *)v[i].lang;
		c.tts_voice = (char *)"";
		c.tts_rate = 175;
		f.t0 = time_mono_ms();
		if (tts_engine_alloc(&e, &c, err, sizeof(err))) {
			printf("%s: %s\n", v[i].lang, err);
			continue;
		}
		printf("%s: engine ready in %lld ms; ", v[i].lang,
		       (long long)(time_mono_ms() - f.t0));
		f.t0 = time_mono_ms();
		tts_synth(e, v[i].text, first_h, &f, NULL);
		total = time_mono_ms() - f.t0;
		printf("%.2f s of speech, first audio after %lld ms, all after %lld ms (%.0fx real "
		       "time)\n",
		       (double)f.n / 8000, (long long)f.first, (long long)total,
		       (double)f.n / 8 / (double)(total ? total : 1));
		tts_engine_free(e);
	}
}

/* ---- VAD comparison ---- */

static uint64_t rng = 88172645463325252ull;

static double grand(void)
{
	double u, w;

	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	u = (double)(rng >> 11) / 9007199254740992.0;
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	w = (double)(rng >> 11) / 9007199254740992.0;
	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * w);
}

static void add_noise(int16_t *s, size_t n, double dbfs, int pink)
{
	double *b = malloc(n * sizeof(*b)), e = 0, g, b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0,
	       b5 = 0, b6 = 0;

	for (size_t i = 0; i < n; i++) {
		double w = grand();

		if (pink) {
			b0 = 0.99886 * b0 + w * 0.0555179;
			b1 = 0.99332 * b1 + w * 0.0750759;
			b2 = 0.96900 * b2 + w * 0.1538520;
			b3 = 0.86650 * b3 + w * 0.3104856;
			b4 = 0.55000 * b4 + w * 0.5329522;
			b5 = -0.7616 * b5 - w * 0.0168980;
			w = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
			b6 = w * 0.115926;
		}
		b[i] = w;
		e += w * w;
	}
	g = 32768.0 * pow(10, dbfs / 20) / sqrt(e / (double)n);
	for (size_t i = 0; i < n; i++) {
		double x = s[i] + b[i] * g;

		s[i] = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
	}
	free(b);
}

/* Utterances found by our endpointer and by speexdsp's VAD with the same endpointing
 * (3 voiced frames start, 500 ms of unvoiced frames end). */
static void count_utts(const int16_t *s, size_t n, int *ours, int *speex)
{
	struct vad *v;
	SpeexPreprocessState *st = speex_preprocess_state_init(160, 8000);
	int on = 1, run = 0, sil = 0, in = 0;
	int16_t fr[160];

	vad_alloc(&v, NULL);
	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_VAD, &on);
	*ours = *speex = 0;
	for (size_t f = 0; (f + 1) * 160 <= n; f++) {
		int voiced;

		if (vad_feed(v, s + f * 160, 160) == VAD_SPEECH_START)
			(*ours)++;
		memcpy(fr, s + f * 160, sizeof(fr));
		voiced = speex_preprocess_run(st, fr);
		if (!in) {
			run = voiced ? run + 1 : 0;
			if (run >= 3) {
				in = 1;
				sil = 0;
				(*speex)++;
			}
		} else {
			sil = voiced ? 0 : sil + 1;
			if (sil >= 25) {
				in = 0;
				run = 0;
			}
		}
	}
	vad_free(v);
	speex_preprocess_state_destroy(st);
}

static void bench_vad(void)
{
	const size_t n = 8000 * 10;
	int16_t *s = calloc(n, sizeof(*s));
	struct dsp_pcm p, q;
	int a, b;

	printf("\n## VAD: utterances found (ours / speexdsp preprocess VAD)\n");
	for (int pink = 0; pink <= 1; pink++)
		for (int db = -50; db <= -40; db += 10) {
			memset(s, 0, n * sizeof(*s));
			add_noise(s, n, db, pink);
			count_utts(s, n, &a, &b);
			printf("10 s %s noise %d dBFS (expect 0): %d / %d\n",
			       pink ? "pink" : "white", db, a, b);
		}
	memset(s, 0, n * sizeof(*s));
	add_noise(s, n, -60, 0);
	for (size_t i = 4000; i + 200 < n; i += 2000)
		s[i] = 30000, s[i + 1] = -20000;
	count_utts(s, n, &a, &b);
	printf("clicks every 250 ms (expect 0): %d / %d\n", a, b);
	if (load("goforward.wav", &p) || load("something.wav", &q))
		return;
	for (int db = -200; db <= -40; db += 80) {
		/* the recordings' own leading/trailing quiet trimmed, as in test_vad.c */
		size_t a0 = 2400, a1 = p.n - 2000, b0 = 2400;
		size_t m = 8000 + (a1 - a0) + 2400 + (q.n - b0) + 8000;
		int16_t *t = calloc(m, sizeof(*t));

		memcpy(t + 8000, p.s + a0, (a1 - a0) * 2);
		memcpy(t + 8000 + (a1 - a0) + 2400, q.s + b0, (q.n - b0) * 2);
		if (db > -100)
			add_noise(t, m, db, 1);
		count_utts(t, m, &a, &b);
		printf("two phrases 0.3 s apart%s (expect 1): %d / %d\n",
		       db > -100 ? ", pink noise -40 dBFS" : "", a, b);
		free(t);
	}
	dsp_pcm_free(&p);
	dsp_pcm_free(&q);
	free(s);
}

int main(int argc, char **argv)
{
	data_dir = argc > 1 ? argv[1] : "tests/data";
	bench_vad();
	bench_tts();
	bench_stt("-200");
	bench_stt("-60");
	bench_stt("-50");
	return 0;
}
