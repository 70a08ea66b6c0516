/* sdpchk.h - strict validation of a received SDP body (RFC 4566 syntax, value
 * ranges) and a summary of its first audio stream, before libre's sdp module
 * negotiates it. */
#ifndef CALLBOT_SIP_SDPCHK_H
#define CALLBOT_SIP_SDPCHK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDPCHK_MAX_FMTS 32

struct sdpchk_crypto {
	unsigned tag;
	char suite[40];
	uint8_t key[30]; /* master key (16) + salt (14) for AES_CM_128 suites */
	bool usable;     /* AES_CM_128_HMAC_SHA1_80 with a 30-byte inline key */
};

struct sdpchk_info {
	bool has_audio;       /* an audio m-line with a non-zero port */
	uint16_t port;
	char addr[64];        /* connection address for the audio stream */
	bool savp;            /* RTP/SAVP (or SAVPF) */
	bool proto_rtp;       /* RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF */
	unsigned fmt_n;
	int fmts[SDPCHK_MAX_FMTS];
	bool pcmu, pcma;      /* offered (static PT or rtpmap) */
	int telev_pt;         /* telephone-event/8000 PT, -1 if none */
	unsigned ptime;       /* 0 if absent */
	struct sdpchk_crypto crypto; /* the first usable a=crypto, if any */
	bool has_crypto;      /* any a=crypto line seen on the audio stream */
};

/* 0 when the SDP is well formed; else EINVAL/EMSGSIZE with *why set to a
 * short reason for the 400 response / log. */
int sdpchk_parse(const char *buf, size_t len, struct sdpchk_info *info, const char **why);

#endif
