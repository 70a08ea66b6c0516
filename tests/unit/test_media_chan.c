/* test_media_chan.c - the pipeline's media API (media/mediachan.c): ordered
 * delivery on the worker thread, play queue, PLAYBACK_DONE, flush, hang-up. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "media/mediachan.h"

struct rec {
	pthread_mutex_t lock;
	char log[4096];
	size_t len;
	int frames;
	int16_t last0;
	pthread_t worker;
	int hangups_requested;
	uint64_t hangup_id;
	char ctl[128]; /* transfer / DTMF requests, as "transfer:200 dtmf:12#" */
	double energy_late; /* AEC test: energy of frames delivered after the first 4 s */
};

static struct rec R;

static void note(const char *s)
{
	pthread_mutex_lock(&R.lock);
	size_t n = strlen(s);
	if (R.len + n + 1 < sizeof(R.log)) {
		memcpy(R.log + R.len, s, n);
		R.len += n;
		R.log[R.len++] = ' ';
		R.log[R.len] = '\0';
	}
	pthread_mutex_unlock(&R.lock);
}

static void *h_start(void *harg, struct mediachan *mc, const struct media_call_info *ci)
{
	(void)harg;
	assert_string_equal(ci->caller, "alice");
	R.worker = pthread_self();
	note("start");
	return mc;
}

static void h_audio(void *carg, const int16_t *pcm, size_t n)
{
	(void)carg;
	assert_int_equal(n, MEDIA_FRAME);
	assert_true(pthread_equal(R.worker, pthread_self()));
	R.frames++;
	R.last0 = pcm[0];
}

static void h_event(void *carg, const struct media_event *ev)
{
	char buf[64];

	(void)carg;
	switch (ev->type) {
	case MEDIA_EV_DTMF:
		snprintf(buf, sizeof(buf), "dtmf:%c", ev->digit);
		break;
	case MEDIA_EV_PLAYBACK_DONE:
		snprintf(buf, sizeof(buf), "done");
		break;
	case MEDIA_EV_HANGUP:
		snprintf(buf, sizeof(buf), "hangup:%s", ev->reason);
		break;
	case MEDIA_EV_TRANSFER:
		snprintf(buf, sizeof(buf), "transfer:%s:%d:%u", ev->reason, ev->ok, ev->status);
		break;
	case MEDIA_EV_HOLD:
	case MEDIA_EV_RESUME:
		snprintf(buf, sizeof(buf), ev->type == MEDIA_EV_HOLD ? "hold" : "resume");
		break;
	}
	note(buf);
}

static void on_hangup(uint64_t id, enum media_ctl ctl, const char *arg, void *harg)
{
	(void)harg;
	if (ctl != MEDIA_CTL_HANGUP) {
		size_t n = strlen(R.ctl);
		snprintf(R.ctl + n, sizeof(R.ctl) - n, "%s:%s ",
			 ctl == MEDIA_CTL_TRANSFER ? "transfer" : "dtmf", arg);
		return;
	}
	assert_null(arg);
	R.hangups_requested++;
	R.hangup_id = id;
}

static const struct media_call_info CI = { .call_id = 7, .caller = "alice", .callee = "bot",
					   .sip_call_id = "x@y" };

static void setup_rec(void)
{
	memset(&R, 0, sizeof(R));
	pthread_mutex_init(&R.lock, NULL);
}

static void test_order_and_hangup(void **state)
{
	struct media_handler h = { .start = h_start, .audio = h_audio, .event = h_event };
	struct mediaworker *w;
	struct mediachan *mc;
	int16_t pcm[MEDIA_FRAME];
	struct media_event ev = { .type = MEDIA_EV_DTMF, .digit = '5' };

	(void)state;
	setup_rec();
	assert_int_equal(mediaworker_start(&w, &h), 0);
	assert_int_equal(mediachan_alloc(&mc, w, &CI, on_hangup, NULL), 0);
	for (int i = 0; i < 10; i++) {
		pcm[0] = (int16_t)i;
		mediachan_push_audio(mc, pcm);
	}
	mediachan_push_event(mc, &ev);
	/* call-control requests reach the call layer with their argument */
	mediachan_transfer(mc, "200");
	mediachan_transfer(mc, NULL);
	mediachan_send_dtmf(mc, "12#");
	mediachan_send_dtmf(mc, "");
	assert_string_equal(R.ctl, "transfer:200 transfer: dtmf:12# ");
	/* ... and their outcome comes back as an event with its reason */
	mediachan_push_event(mc, &(struct media_event){ .type = MEDIA_EV_TRANSFER,
							.reason = "refused", .status = 405 });
	mediachan_push_event(mc, &(struct media_event){ .type = MEDIA_EV_HOLD });
	mediachan_hangup(mc);
	assert_int_equal(R.hangups_requested, 1);
	assert_int_equal(R.hangup_id, 7);
	mediachan_ref(mc); /* like a pipeline keeping it past HANGUP */
	mediachan_close(mc, "caller_bye");
	mediaworker_stop(w); /* delivers everything first */
	assert_string_equal(R.log,
			    "start dtmf:5 transfer:refused:0:405 hold hangup:caller_bye ");
	assert_int_equal(R.frames, 10);
	assert_int_equal(R.last0, 9);
	/* After close: play refused, hangup is a no-op. */
	assert_int_equal(mediachan_play(mc, pcm, 1), ENOTCONN);
	mediachan_hangup(mc);
	mediachan_transfer(mc, "300");
	assert_int_equal(R.hangups_requested, 1);
	assert_string_equal(R.ctl, "transfer:200 transfer: dtmf:12# ");
	mediachan_unref(mc);
}

/* The clock holds the worker over a slot: frames queue without a wake-up, and the
 * release delivers them all. */
static void test_hold_release(void **state)
{
	struct media_handler h = { .start = h_start, .audio = h_audio, .event = h_event };
	struct mediaworker *w;
	struct mediachan *mc;
	int16_t pcm[MEDIA_FRAME] = { 0 };

	(void)state;
	setup_rec();
	assert_int_equal(mediaworker_start(&w, &h), 0);
	assert_int_equal(mediachan_alloc(&mc, w, &CI, on_hangup, NULL), 0);
	/* one frame through, then a pause: the worker is idle in its wait afterwards */
	mediachan_push_audio(mc, pcm);
	for (int i = 0; i < 1000 && __atomic_load_n(&R.frames, __ATOMIC_SEQ_CST) < 1; i++)
		usleep(1000);
	usleep(20000);
	mediaworker_hold(w);
	for (int i = 0; i < 5; i++)
		mediachan_push_audio(mc, pcm);
	usleep(50000);
	assert_int_equal(__atomic_load_n(&R.frames, __ATOMIC_SEQ_CST), 1);
	mediaworker_release(w);
	for (int i = 0; i < 1000 && __atomic_load_n(&R.frames, __ATOMIC_SEQ_CST) < 6; i++)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&R.frames, __ATOMIC_SEQ_CST), 6);
	mediachan_close(mc, "caller_bye");
	mediaworker_stop(w);
}

static void test_play_pull_done_flush(void **state)
{
	struct media_handler h = { .start = h_start, .audio = h_audio, .event = h_event };
	struct mediaworker *w;
	struct mediachan *mc;
	int16_t in[400], out[MEDIA_FRAME];

	(void)state;
	setup_rec();
	assert_int_equal(mediaworker_start(&w, &h), 0);
	assert_int_equal(mediachan_alloc(&mc, w, &CI, on_hangup, NULL), 0);
	for (int i = 0; i < 400; i++)
		in[i] = (int16_t)(i + 1);
	assert_int_equal(mediachan_play(mc, in, 400), 0);
	assert_int_equal(mediachan_queued(mc), 400);
	assert_int_equal(mediachan_pull(mc, out), 160);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[159], 160);
	assert_int_equal(mediachan_pull(mc, out), 160);
	assert_int_equal(mediachan_pull(mc, out), 80); /* the rest, zero-padded */
	assert_int_equal(out[79], 400);
	assert_int_equal(out[80], 0);
	assert_int_equal(mediachan_pull(mc, out), 0); /* comfort silence */
	assert_int_equal(out[0], 0);
	/* Barge-in: a flush drops the queue and sends no PLAYBACK_DONE. */
	assert_int_equal(mediachan_play(mc, in, 400), 0);
	assert_int_equal(mediachan_pull(mc, out), 160);
	mediachan_flush(mc);
	assert_int_equal(mediachan_queued(mc), 0);
	assert_int_equal(mediachan_pull(mc, out), 0);
	/* Grows across the ring's wrap without losing order. */
	for (int k = 0; k < 50; k++)
		assert_int_equal(mediachan_play(mc, in, 400), 0);
	for (int k = 0; k < 125; k++) {
		assert_int_equal(mediachan_pull(mc, out), 160);
		assert_int_equal(out[0], (int16_t)((k * 160) % 400 + 1));
	}
	assert_int_equal(mediachan_play(mc, NULL, 5), EINVAL);
	mediachan_close(mc, "bot_hangup");
	mediaworker_stop(w);
	assert_string_equal(R.log, "start done done hangup:bot_hangup ");
}

/* AEC test: counts frames under the lock (the test thread paces itself on them). */
static void h_audio_energy(void *carg, const int16_t *pcm, size_t n)
{
	(void)carg;
	pthread_mutex_lock(&R.lock);
	if (R.frames >= 200)
		for (size_t i = 0; i < n; i++)
			R.energy_late += (double)pcm[i] * pcm[i];
	R.frames++;
	pthread_mutex_unlock(&R.lock);
}

static int frames_seen(void)
{
	int n;

	pthread_mutex_lock(&R.lock);
	n = R.frames;
	pthread_mutex_unlock(&R.lock);
	return n;
}

/* Like the media clock: each tick pulls what goes out, then pushes what came in (our own
 * output 100 ms ago, -10 dB). Returns the received energy after 4 s, before any cancelling. */
static double run_echo_call(bool aec)
{
	struct media_handler h = { .start = h_start, .audio = h_audio_energy, .event = h_event };
	struct media_call_info ci = CI;
	struct mediaworker *w;
	struct mediachan *mc;
	enum { TICKS = 400, DELAY = 5 };
	static int16_t sent[TICKS][MEDIA_FRAME];
	int16_t *voice = malloc(TICKS * MEDIA_FRAME * sizeof(*voice)), rx[MEDIA_FRAME];
	unsigned seed = 1;
	double lp = 0, pushed = 0;

	assert_non_null(voice);
	/* low-passed noise in 200 ms bursts: enough like a voice for an echo canceller */
	for (int i = 0; i < TICKS * MEDIA_FRAME; i++) {
		seed = seed * 1103515245u + 12345u;
		lp = 0.7 * lp + 0.3 * ((double)((seed >> 8) & 0xffff) - 32768);
		voice[i] = (int16_t)(((i / 1600) % 3 ? 0.5 : 0.05) * lp);
	}
	ci.aec = aec;
	setup_rec();
	assert_int_equal(mediaworker_start(&w, &h), 0);
	assert_int_equal(mediachan_alloc(&mc, w, &ci, on_hangup, NULL), 0);
	assert_int_equal(mediachan_play(mc, voice, TICKS * MEDIA_FRAME), 0);
	for (int k = 0; k < TICKS; k++) {
		assert_int_equal(mediachan_pull(mc, sent[k]), MEDIA_FRAME);
		for (int i = 0; i < MEDIA_FRAME; i++)
			rx[i] = k >= DELAY ? (int16_t)lrint(sent[k - DELAY][i] * 0.316) : 0;
		mediachan_push_audio(mc, rx);
		if (k >= 200)
			for (int i = 0; i < MEDIA_FRAME; i++)
				pushed += (double)rx[i] * rx[i];
		/* stay within the channel's queue: dropped frames would be another test */
		for (int spin = 0; k - frames_seen() > 32 && spin < 10000; spin++)
			usleep(1000);
	}
	mediachan_close(mc, "caller_bye");
	mediaworker_stop(w);
	assert_int_equal(R.frames, TICKS);
	free(voice);
	return pushed;
}

static void test_aec(void **state)
{
	double pushed, reduced;

	(void)state;
	pushed = run_echo_call(false);
	assert_true(fabs(R.energy_late - pushed) < 1e-6 * pushed); /* untouched without AEC */
	pushed = run_echo_call(true);
	reduced = 10 * log10(pushed / (R.energy_late + 1));
	printf("echo through the channel reduced by %.1f dB\n", reduced);
	assert_true(reduced > 20);
}

static void test_limit(void **state)
{
	struct media_handler h = { .start = h_start, .audio = h_audio, .event = h_event };
	struct mediaworker *w;
	struct mediachan *mc;
	static int16_t big[MEDIA_RATE * 10];

	(void)state;
	setup_rec();
	assert_int_equal(mediaworker_start(&w, &h), 0);
	assert_int_equal(mediachan_alloc(&mc, w, &CI, on_hangup, NULL), 0);
	for (int i = 0; i < MEDIA_PLAY_MAX_S / 10; i++)
		assert_int_equal(mediachan_play(mc, big, MEDIA_RATE * 10), 0);
	assert_int_equal(mediachan_play(mc, big, 1), ENOSPC);
	mediachan_close(mc, "shutdown");
	mediaworker_stop(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_hangup),
		cmocka_unit_test(test_play_pull_done_flush),
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_aec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
