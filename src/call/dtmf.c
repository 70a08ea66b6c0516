/* dtmf.c - DTMF sent by the bot (the send_dtmf tool, IVR navigation): played in-band into
 * the call's audio, after what the bot is saying, so any PBX or IVR can detect it. */
#include "call/callsvc_priv.h"

#include "core/log.h"
#include "media/dtmftone.h"

#include <stdlib.h>
#include <string.h>

#define DTMF_MAX_DIGITS 32

void call_send_dtmf(struct call *call, const char *digits)
{
	size_t cap = DTMFTONE_SAMPLES(DTMF_MAX_DIGITS), n;
	int16_t *pcm;

	if (call->ended || !call->mc || !digits)
		return;
	pcm = malloc(cap * sizeof(*pcm));
	if (!pcm)
		return;
	n = dtmftone_render(digits, pcm, cap);
	if (n && mediachan_play(call->mc, pcm, n) == 0)
		log_info("call %llu: sending DTMF %.*s", (unsigned long long)call->id,
			 (int)strnlen(digits, DTMF_MAX_DIGITS), digits);
	free(pcm);
}
