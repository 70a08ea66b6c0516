/* dtmf.c - DTMF sent by the bot (the send_dtmf tool, IVR navigation): RFC 4733
 * telephone-events when the peer negotiated them (what PBXs detect reliably), else
 * in-band tones queued after what the bot is saying. */
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
	if (call->rtp && rtpstream_can_send_events(call->rtp)) {
		if (!rtpstream_send_dtmf(call->rtp, digits))
			log_info("call %llu: sending DTMF %.*s (RFC 4733)", (unsigned long long)call->id,
				 (int)strnlen(digits, DTMF_MAX_DIGITS), digits);
		return;
	}
	pcm = malloc(cap * sizeof(*pcm));
	if (!pcm)
		return;
	n = dtmftone_render(digits, pcm, cap);
	if (n && mediachan_play(call->mc, pcm, n) == 0)
		log_info("call %llu: sending DTMF %.*s (in-band)", (unsigned long long)call->id,
			 (int)strnlen(digits, DTMF_MAX_DIGITS), digits);
	free(pcm);
}
