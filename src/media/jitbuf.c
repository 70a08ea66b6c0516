/* jitbuf.c - fixed-frame jitter buffer (see jitbuf.h for the playout rules). */
#include "media/jitbuf.h"

#include <errno.h>
#include <string.h>

#define IDX(seq) ((seq) & (JITBUF_SLOTS - 1))
/* Sender silent this many ticks with an empty buffer: refill before playing again. */
#define REFILL_TICKS 10

void jitbuf_init(struct jitbuf *jb, unsigned prefill, unsigned maxdepth)
{
	memset(jb, 0, sizeof(*jb));
	if (prefill < 1)
		prefill = 1;
	if (maxdepth < prefill + 1)
		maxdepth = prefill + 1;
	if (maxdepth > JITBUF_SLOTS - 2)
		maxdepth = JITBUF_SLOTS - 2;
	jb->prefill = prefill;
	jb->maxdepth = maxdepth;
}

void jitbuf_reset(struct jitbuf *jb)
{
	for (unsigned i = 0; i < JITBUF_SLOTS; i++)
		jb->slot[i].used = false;
	jb->count = 0;
	jb->playing = false;
	jb->empty_ticks = 0;
}

/* Signed distance a - b in sequence space. */
static int seqdiff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

/* Lowest queued sequence number (count > 0). */
static uint16_t oldest(const struct jitbuf *jb)
{
	bool have = false;
	uint16_t best = 0;

	for (unsigned i = 0; i < JITBUF_SLOTS; i++) {
		if (!jb->slot[i].used)
			continue;
		if (!have || seqdiff(jb->slot[i].seq, best) < 0)
			best = jb->slot[i].seq;
		have = true;
	}
	return best;
}

int jitbuf_put(struct jitbuf *jb, uint16_t seq, uint8_t pt, const uint8_t *payload, size_t len)
{
	struct jitbuf_slot *s;

	if (len > JITBUF_MAXPAYLOAD)
		return EMSGSIZE;
	jb->st.received++;
	if (jb->playing) {
		int d = seqdiff(seq, jb->next);

		if (d < 0) {
			if (d > -JITBUF_SLOTS) {
				jb->st.late++;
				return ETIMEDOUT;
			}
			/* Far in the past: the sender restarted its sequence. */
			jb->st.resync++;
			jitbuf_reset(jb);
		} else if (d >= JITBUF_SLOTS - 1) {
			/* Far ahead: a jump in sequence (new source); start over. */
			jb->st.resync++;
			jitbuf_reset(jb);
		}
	} else if (jb->count) {
		int d = seqdiff(seq, oldest(jb));

		if (d <= -JITBUF_SLOTS / 2 || d >= JITBUF_SLOTS / 2) {
			jb->st.resync++;
			jitbuf_reset(jb);
		}
	}
	s = &jb->slot[IDX(seq)];
	if (s->used) {
		if (s->seq == seq) {
			jb->st.dup++;
			return EALREADY;
		}
		/* Overwriting a stale frame (should not happen within the window). */
		jb->count--;
	}
	s->used = true;
	s->seq = seq;
	s->pt = pt;
	s->len = (uint16_t)len;
	memcpy(s->data, payload, len);
	jb->count++;
	if (!jb->playing && jb->count >= jb->prefill) {
		jb->playing = true;
		jb->next = oldest(jb);
		jb->empty_ticks = 0;
	}
	return 0;
}

int jitbuf_get(struct jitbuf *jb, const struct jitbuf_slot **slot)
{
	struct jitbuf_slot *s;

	if (!jb->playing)
		return EAGAIN;
	/* Too deep: drop the oldest frames to bring latency back down. */
	while (jb->count > jb->maxdepth) {
		s = &jb->slot[IDX(jb->next)];
		if (s->used && s->seq == jb->next) {
			s->used = false;
			jb->count--;
			jb->st.dropped++;
		}
		jb->next++;
	}
	if (!jb->count) {
		if (++jb->empty_ticks >= REFILL_TICKS) {
			jb->playing = false;
			return EAGAIN;
		}
		jb->next++;
		jb->st.underrun++;
		return ENOENT;
	}
	jb->empty_ticks = 0;
	s = &jb->slot[IDX(jb->next)];
	jb->next++;
	if (!s->used || s->seq != (uint16_t)(jb->next - 1)) {
		jb->st.lost++;
		return ENOENT;
	}
	s->used = false;
	jb->count--;
	jb->st.played++;
	*slot = s;
	return 0;
}
