/* callgrind_media.c - fixed workloads on the real media code, for instruction counts
 * under `valgrind --tool=callgrind --toggle-collect=<function>` (bench/callgrind.sh):
 *
 *   rtp ITER  two rtpstreams on 127.0.0.1 send to each other, ticked from a libre timer:
 *             per iteration each stream ticks once: it reads what the other sent (socket
 *             read, RTP header decode, jitter buffer put), plays a frame (jitter buffer
 *             read, G.711 decode) and sends one (G.711 encode, RTP header, send). Counted
 *             in run_rtp(), libre's loop included: divide by 2 * ITER for one packet
 *             received + one sent.
 *   vad ITER  ITER 20 ms frames of a synthetic talk-spurt signal (voiced 1 s, 1 s of
 *             quiet noise) through vad_feed(). Counted in run_vad(): divide by ITER.
 *
 * Prints what it did, so the counts can be checked against the work. */
#include "media/g711.h"
#include "media/rtpstream.h"
#include "pipeline/vad.h"

#include <re.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rtp_run {
	struct rtpstream *a, *b;
	struct tmr tmr;
	unsigned left;
};

static void rtp_step(void *arg)
{
	struct rtp_run *r = arg;

	if (!r->left) {
		re_cancel();
		return;
	}
	r->left--;
	rtpstream_tick(r->a);
	rtpstream_tick(r->b);
	/* 1 ms, not 0: libre runs a timer re-armed with 0 ms again without returning to its
	 * poll, so the loop would never be part of the count. */
	tmr_start(&r->tmr, 1, rtp_step, r);
}

/* Kept out of line: callgrind counts from its entry (--toggle-collect=run_rtp). */
__attribute__((noinline)) int run_rtp(struct rtp_run *r);
__attribute__((noinline)) int run_rtp(struct rtp_run *r)
{
	tmr_start(&r->tmr, 0, rtp_step, r);
	return re_main(NULL);
}

static int bench_rtp(unsigned iter)
{
	struct rtp_run r = { .left = iter };
	struct rtpstream_stats sa, sb;
	struct sa ip, ra, rb;
	uint16_t cursor = 0;
	int err;

	sa_set_str(&ip, "127.0.0.1", 0);
	err = rtpstream_alloc(&r.a, &ip, 40000, 60000, &cursor);
	if (!err)
		err = rtpstream_alloc(&r.b, &ip, 40000, 60000, &cursor);
	if (err) {
		fprintf(stderr, "rtpstream_alloc: %s\n", strerror(err));
		goto out;
	}
	sa_set_str(&ra, "127.0.0.1", rtpstream_lport(r.a));
	sa_set_str(&rb, "127.0.0.1", rtpstream_lport(r.b));
	rtpstream_set_remote(r.a, &rb, 0, 101);
	rtpstream_set_remote(r.b, &ra, 0, 101);
	tmr_init(&r.tmr);
	{
		/* G.711 builds its tables on first use: once per process, not per packet. */
		int16_t pcm[160] = { 0 };
		uint8_t enc[160];

		g711_encode(0, pcm, enc, 160);
	}
	err = run_rtp(&r);
	tmr_cancel(&r.tmr);
	rtpstream_stats(r.a, &sa);
	rtpstream_stats(r.b, &sb);
	printf("rtp: %u iterations, sent %llu + %llu, received %llu + %llu, lost %llu, late %llu\n",
	       iter, (unsigned long long)sa.tx_packets, (unsigned long long)sb.tx_packets,
	       (unsigned long long)sa.rx_packets, (unsigned long long)sb.rx_packets,
	       (unsigned long long)(sa.lost + sb.lost), (unsigned long long)(sa.late + sb.late));
	/* The loop must have carried every packet, else the per-packet count is wrong. */
	if (!err && (sa.rx_packets + 2 < iter || sb.rx_packets + 2 < iter))
		err = EPROTO;
out:
	mem_deref(r.a);
	mem_deref(r.b);
	return err;
}

/* A talk spurt: a 140 Hz voice-like harmonic series, 1 s on, 1 s of quiet noise. */
static void make_frame(int16_t *pcm, unsigned frame, uint32_t *rng)
{
	bool voiced = (frame / 50) % 2 == 0;

	for (int i = 0; i < VAD_FRAME; i++) {
		double t = (double)(frame * VAD_FRAME + (unsigned)i) / VAD_RATE, v = 0;

		*rng = *rng * 1664525u + 1013904223u;
		if (voiced)
			for (int h = 1; h <= 8; h++)
				v += 3000.0 / h * sin(2 * M_PI * 140.0 * h * t);
		v += (double)((int32_t)(*rng >> 16) - 32768) / 300.0;
		pcm[i] = (int16_t)v;
	}
}

__attribute__((noinline)) unsigned run_vad(struct vad *v, const int16_t *frames, unsigned n);
__attribute__((noinline)) unsigned run_vad(struct vad *v, const int16_t *frames, unsigned n)
{
	unsigned events = 0;

	for (unsigned i = 0; i < n; i++)
		events += vad_feed(v, frames + (size_t)i * VAD_FRAME, VAD_FRAME) != VAD_NONE;
	return events;
}

static int bench_vad(unsigned iter)
{
	int16_t *frames = malloc((size_t)iter * VAD_FRAME * sizeof(*frames));
	struct vad *v = NULL;
	uint32_t rng = 1;
	unsigned events;
	int err;

	if (!frames)
		return ENOMEM;
	for (unsigned i = 0; i < iter; i++)
		make_frame(frames + (size_t)i * VAD_FRAME, i, &rng);
	err = vad_alloc(&v, NULL);
	if (!err) {
		events = run_vad(v, frames, iter);
		/* Each voiced second is one utterance: a start and an end event. */
		printf("vad: %u frames, %u events (%u talk spurts: a start and an end each)\n", iter, events,
		       (iter / 50 + 1) / 2);
		if (events < (iter / 50 + 1) / 2)
			err = EPROTO;
	}
	vad_free(v);
	free(frames);
	return err;
}

int main(int argc, char **argv)
{
	unsigned iter = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 10000;
	int err;

	if (argc < 2 || (strcmp(argv[1], "rtp") && strcmp(argv[1], "vad")) || !iter) {
		fprintf(stderr, "usage: callgrind_media rtp|vad [ITERATIONS]\n");
		return 2;
	}
	err = libre_init();
	if (err)
		return 1;
	err = strcmp(argv[1], "rtp") ? bench_vad(iter) : bench_rtp(iter);
	libre_close();
	if (err)
		fprintf(stderr, "callgrind_media %s: %s\n", argv[1], strerror(err));
	return err ? 1 : 0;
}
