/* dtmftone.h - in-band DTMF (ITU-T Q.23 dual tones) as 8 kHz PCM, for peers that did not
 * negotiate RFC 4733 telephone-events. */
#ifndef CALLBOT_MEDIA_DTMFTONE_H
#define CALLBOT_MEDIA_DTMFTONE_H

#include <stddef.h>
#include <stdint.h>

#define DTMFTONE_TONE_MS 100
#define DTMFTONE_GAP_MS 80
/* Samples dtmftone_render() needs for n digits. */
#define DTMFTONE_SAMPLES(n) ((size_t)(n) * (DTMFTONE_TONE_MS + DTMFTONE_GAP_MS) * 8)

/* Renders each valid digit of digits (0-9 * # A-D, case-insensitive; others skipped) as
 * a tone then a gap into out (cap samples). Returns the samples written. */
size_t dtmftone_render(const char *digits, int16_t *out, size_t cap);

#endif
