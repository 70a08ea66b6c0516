/* aec.h - acoustic echo cancellation for one call: removes the bot's own voice, echoed
 * back by the caller's phone or network, from the received audio (speexdsp). */
#ifndef CALLBOT_MEDIA_AEC_H
#define CALLBOT_MEDIA_AEC_H

#include <stddef.h>
#include <stdint.h>

/* Echo delays (network round trip + far-end jitter buffer + our jitter buffer + the
 * acoustic path) the canceller covers. See docs/media.md "Echo cancellation". */
#define AEC_TAIL_MS 400

struct aec;

/* frame: samples per call of aec_process (fixed for the canceller's life, at most 480),
 * rate in Hz, tail_ms: the longest echo delay to cancel (at most 2000). EINVAL, ENOMEM. */
int aec_alloc(struct aec **out, unsigned rate, unsigned frame, unsigned tail_ms);
void aec_free(struct aec *a);
/*
 * One frame: rec is what was received, ref what was sent at the same time (zeros while
 * silent); writes rec without the echo of earlier ref frames to out (not rec).
 * Frames must be fed in lock step, one ref per rec, with nothing skipped: the canceller
 * learns the echo path as a delay in frames.
 */
void aec_process(struct aec *a, const int16_t *rec, const int16_t *ref, int16_t *out);
/* Forgets the learnt echo path (after a gap in the stream). */
void aec_reset(struct aec *a);

#endif
