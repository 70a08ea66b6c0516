/* jitbuf.h - a small fixed-frame RTP jitter buffer, read once per 20 ms clock tick. */
#ifndef CALLBOT_MEDIA_JITBUF_H
#define CALLBOT_MEDIA_JITBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JITBUF_SLOTS 32       /* power of two; frames held at most */
#define JITBUF_MAXPAYLOAD 320 /* bytes per frame (G.711 up to 40 ms) */

struct jitbuf_stats {
	uint64_t received, played, lost, underrun, late, dup, dropped, resync;
};

struct jitbuf_slot {
	bool used;
	uint16_t seq;
	uint8_t pt;
	uint16_t len;
	uint8_t data[JITBUF_MAXPAYLOAD];
};

/*
 * Playout starts once `prefill` frames are queued; from then on each
 * jitbuf_get() releases the next sequence number. A gap is reported as a lost
 * frame (the caller conceals it); a packet arriving after its turn is late and
 * dropped. When more than `maxdepth` frames pile up (the sender's clock runs
 * fast, or a burst after a stall), the oldest are dropped to keep latency low.
 * A long silence of the sender (DTX, hold) makes the buffer refill.
 */
struct jitbuf {
	struct jitbuf_slot slot[JITBUF_SLOTS];
	unsigned prefill, maxdepth, count, empty_ticks;
	bool playing;
	uint16_t next;
	struct jitbuf_stats st;
};

void jitbuf_init(struct jitbuf *jb, unsigned prefill, unsigned maxdepth);
void jitbuf_reset(struct jitbuf *jb);
/* 0, EALREADY (duplicate), ETIMEDOUT (late), EMSGSIZE (payload too big). */
int jitbuf_put(struct jitbuf *jb, uint16_t seq, uint8_t pt, const uint8_t *payload, size_t len);
/* 0: *slot is the next frame (valid until the next put/get);
 * ENOENT: this frame was lost, conceal it; EAGAIN: buffering, nothing to play. */
int jitbuf_get(struct jitbuf *jb, const struct jitbuf_slot **slot);

#endif
