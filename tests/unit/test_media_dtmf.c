/* test_media_dtmf.c - DTMF sent by the bot: in-band tones (media/dtmftone.c) carry the
 * right frequency pair, and RFC 4733 events (media/rtpstream.c) have the packet layout,
 * durations, end bits and timing receivers expect. */
#include <re.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "media/dtmftone.h"
#include "media/rtpstream.h"

/* Goertzel power of one frequency in n samples at 8 kHz. */
static double power(const int16_t *x, size_t n, double hz)
{
	double k = 2 * cos(2 * M_PI * hz / 8000.0), s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + k * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - k * s1 * s2;
}

static void test_tones(void **state)
{
	static const double rows[] = { 697, 770, 852, 941 }, cols[] = { 1209, 1336, 1477, 1633 };
	static const struct { char d; int r, c; } want[] = { { '1', 0, 0 }, { '#', 3, 2 },
							     { 'd', 3, 3 } };
	int16_t pcm[DTMFTONE_SAMPLES(4)];
	size_t seg = DTMFTONE_SAMPLES(1), tone = DTMFTONE_TONE_MS * 8;

	(void)state;
	/* 'x' is skipped; three digits remain */
	assert_int_equal(dtmftone_render("1x#d", pcm, sizeof(pcm) / sizeof(pcm[0])), 3 * seg);
	for (size_t i = 0; i < 3; i++) {
		const int16_t *t = pcm + i * seg;
		double pr = power(t, tone, rows[want[i].r]), pc = power(t, tone, cols[want[i].c]);

		for (int r = 0; r < 4; r++)
			if (r != want[i].r)
				assert_true(power(t, tone, rows[r]) * 100 < pr);
		for (int c = 0; c < 4; c++)
			if (c != want[i].c)
				assert_true(power(t, tone, cols[c]) * 100 < pc);
		for (size_t j = tone; j < seg; j++)
			assert_int_equal(t[j], 0); /* the gap is silent */
	}
	/* too small a buffer: nothing half-written */
	assert_int_equal(dtmftone_render("1", pcm, 10), 0);
}

struct pkt {
	uint8_t pt, m, ev, end;
	uint16_t seq, dur;
	uint32_t ts;
};

static void test_rfc4733(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct rtpstream *rs = NULL;
	struct sa ip, peer;
	uint16_t cursor = 0;
	struct pkt p[64];
	int fd, n = 0;

	(void)state;
	assert_int_equal(libre_init(), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	sa_set_str(&ip, "127.0.0.1", 0);
	sa_set_str(&peer, "127.0.0.1", ntohs(sin.sin_port));
	assert_int_equal(rtpstream_alloc(&rs, &ip, 40000, 40998, &cursor), 0);

	rtpstream_set_remote(rs, &peer, 0, -1);
	assert_false(rtpstream_can_send_events(rs));
	assert_int_equal(rtpstream_send_dtmf(rs, "1"), ENOTSUP);

	rtpstream_set_remote(rs, &peer, 0, 101);
	rtpstream_set_send(rs, true);
	assert_int_equal(rtpstream_send_dtmf(rs, "1?#"), 0);
	for (int i = 0; i < 20; i++) /* 400 ms: two digits of 180 ms, then audio */
		rtpstream_tick(rs);
	for (;;) {
		uint8_t b[512];
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (r < 0)
			break;
		assert_true(r >= 12 && n < 64);
		p[n].m = b[1] >> 7;
		p[n].pt = b[1] & 0x7f;
		p[n].seq = (uint16_t)(b[2] << 8 | b[3]);
		p[n].ts = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
		if (p[n].pt == 101) {
			assert_int_equal(r, 16);
			p[n].ev = b[12];
			p[n].end = b[13] >> 7;
			p[n].dur = (uint16_t)(b[14] << 8 | b[15]);
		}
		n++;
	}
	/* per digit: 5 growing packets + 3 end packets, then 3 audio frames (the gap) */
	assert_int_equal(n, 2 * (8 + 3) + (20 - 2 * 9));
	for (int d = 0; d < 2; d++) {
		const struct pkt *q = p + d * 11;

		for (int i = 0; i < 8; i++) {
			assert_int_equal(q[i].pt, 101);
			assert_int_equal(q[i].ev, d == 0 ? 1 : 11); /* '1', '#' */
			assert_int_equal(q[i].ts, q[0].ts);         /* one timestamp per event */
			assert_int_equal(q[i].m, i == 0);
			assert_int_equal(q[i].end, i >= 5);
			assert_int_equal(q[i].dur, i < 5 ? 160 * (i + 1) : 800);
		}
		for (int i = 8; i < 11; i++)
			assert_int_equal(q[i].pt, 0);
	}
	assert_int_equal(p[11].ts - p[0].ts, 9 * 160); /* the next digit starts 180 ms later */
	for (int i = 1; i < n; i++)
		assert_int_equal((uint16_t)(p[i].seq - p[i - 1].seq), 1);
	mem_deref(rs);
	close(fd);
	libre_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tones),
		cmocka_unit_test(test_rfc4733),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
