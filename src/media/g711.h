/* g711.h - G.711 mu-law (PCMU) and A-law (PCMA) sample conversion (ITU-T G.711). */
#ifndef CALLBOT_MEDIA_G711_H
#define CALLBOT_MEDIA_G711_H

#include <stddef.h>
#include <stdint.h>

uint8_t g711_ulaw_enc(int16_t s);
int16_t g711_ulaw_dec(uint8_t u);
uint8_t g711_alaw_enc(int16_t s);
int16_t g711_alaw_dec(uint8_t a);

/* Buffer forms; law is the RTP payload type: 0 (PCMU) or 8 (PCMA). */
void g711_encode(int law, const int16_t *pcm, uint8_t *out, size_t n);
void g711_decode(int law, const uint8_t *in, int16_t *pcm, size_t n);

#endif
