/* sdpchk.c - SDP validation: every line "x=value", mandatory v/o/s, sane
 * numbers, addresses that parse, rtpmap/ptime/crypto syntax. Only the first
 * audio stream is summarised; other media are left to libre (answered port 0). */
#include "sip/sdpchk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LINE 1024
#define MAX_LINES 256

/* Parses a decimal number of at most maxdig digits into *out; the digits
 * must span all of [s, s+n). */
static bool num(const char *s, size_t n, unsigned maxdig, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > maxdig)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Splits the next space-separated token from *p (within end). */
static bool token(const char **p, const char *end, const char **t, size_t *tn)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	if (s >= end)
		return false;
	*t = s;
	while (s < end && *s != ' ')
		s++;
	*tn = (size_t)(s - *t);
	*p = s;
	return true;
}

static bool tok_is(const char *t, size_t tn, const char *lit)
{
	return strlen(lit) == tn && !strncasecmp(t, lit, tn);
}

/* "IN IP4 a.b.c.d" or "IN IP6 addr"; copies the address. */
static bool conn_addr(const char *v, size_t n, char *out, size_t outsz)
{
	const char *p = v, *end = v + n, *t;
	size_t tn;
	char a[64];
	unsigned char buf[16];
	int af;

	if (!token(&p, end, &t, &tn) || !tok_is(t, tn, "IN"))
		return false;
	if (!token(&p, end, &t, &tn))
		return false;
	if (tok_is(t, tn, "IP4"))
		af = AF_INET;
	else if (tok_is(t, tn, "IP6"))
		af = AF_INET6;
	else
		return false;
	if (!token(&p, end, &t, &tn) || tn >= sizeof(a))
		return false;
	memcpy(a, t, tn);
	a[tn] = '\0';
	/* A multicast TTL suffix ("/127") is not for us: refuse it. */
	if (inet_pton(af, a, buf) != 1)
		return false;
	while (p < end && *p == ' ')
		p++;
	if (p != end)
		return false;
	if (strlen(a) >= outsz)
		return false;
	strcpy(out, a);
	return true;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 of exactly 30 bytes (40 characters, no padding needed). */
static bool b64_key30(const char *s, size_t n, uint8_t out[30])
{
	if (n != 40)
		return false;
	for (size_t i = 0, o = 0; i < n; i += 4) {
		int v[4];

		for (int k = 0; k < 4; k++) {
			v[k] = b64val(s[i + (size_t)k]);
			if (v[k] < 0)
				return false;
		}
		out[o++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
		out[o++] = (uint8_t)((v[1] << 4) | (v[2] >> 2));
		out[o++] = (uint8_t)((v[2] << 6) | v[3]);
	}
	return true;
}

/* a=crypto:<tag> <suite> inline:<key||salt>[|lifetime][|MKI:len] [params] */
static bool crypto_attr(const char *v, size_t n, struct sdpchk_crypto *c)
{
	const char *p = v, *end = v + n, *t;
	size_t tn;
	unsigned long tag;
	const char *key;
	size_t keyn;

	memset(c, 0, sizeof(*c));
	if (!token(&p, end, &t, &tn) || !num(t, tn, 9, &tag))
		return false;
	c->tag = (unsigned)tag;
	if (!token(&p, end, &t, &tn) || tn >= sizeof(c->suite))
		return false;
	memcpy(c->suite, t, tn);
	c->suite[tn] = '\0';
	if (!token(&p, end, &t, &tn) || tn < 8 || strncasecmp(t, "inline:", 7))
		return false;
	key = t + 7;
	keyn = tn - 7;
	for (size_t i = 0; i < keyn; i++)
		if (key[i] == '|') {
			/* Lifetime and MKI are not supported: such a key is unusable. */
			return true;
		}
	if (!strcmp(c->suite, "AES_CM_128_HMAC_SHA1_80") && b64_key30(key, keyn, c->key))
		c->usable = true;
	return true;
}

static bool name_is_pcm(const char *s, size_t n, const char *codec)
{
	size_t cl = strlen(codec);

	if (n < cl + 5 || strncasecmp(s, codec, cl) || s[cl] != '/')
		return false;
	/* codec/8000 or codec/8000/1 */
	return (n == cl + 5 && !strncmp(s + cl + 1, "8000", 4)) ||
	       (n == cl + 7 && !strncmp(s + cl + 1, "8000/1", 6));
}

int sdpchk_parse(const char *buf, size_t len, struct sdpchk_info *info, const char **why)
{
	const char *p = buf, *end = buf + len;
	unsigned lines = 0;
	bool seen_v = false, seen_o = false, seen_s = false, in_audio = false, done_audio = false;
	bool sess_c = false, media_c = false, any_media = false;
	char sess_addr[64] = "";

	memset(info, 0, sizeof(*info));
	info->telev_pt = -1;
	*why = NULL;
	if (!buf || len == 0) {
		*why = "empty SDP";
		return EINVAL;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *v;
		size_t n, vn;
		char type;

		n = (size_t)(le - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (++lines > MAX_LINES) {
			*why = "too many SDP lines";
			return EMSGSIZE;
		}
		if (n == 0) { /* tolerate a trailing empty line */
			p = eol ? eol + 1 : end;
			continue;
		}
		if (n > MAX_LINE) {
			*why = "SDP line too long";
			return EMSGSIZE;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)p[i];

			if (ch < 0x20 && ch != '\t') {
				*why = "control character in SDP";
				return EINVAL;
			}
		}
		if (n < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
			*why = "SDP line is not type=value";
			return EINVAL;
		}
		type = p[0];
		v = p + 2;
		vn = n - 2;
		if (!seen_v && type != 'v') {
			*why = "SDP does not start with v=";
			return EINVAL;
		}
		switch (type) {
		case 'v':
			if (seen_v || vn != 1 || v[0] != '0') {
				*why = "bad v= line";
				return EINVAL;
			}
			seen_v = true;
			break;
		case 'o': {
			const char *q = v, *t;
			size_t tn;
			int k = 0;
			char addr[64];

			if (seen_o || any_media) {
				*why = "bad o= line";
				return EINVAL;
			}
			/* username sess-id sess-version nettype addrtype address */
			while (k < 3 && token(&q, v + vn, &t, &tn))
				k++;
			if (k != 3 || !conn_addr(q, (size_t)(v + vn - q), addr, sizeof(addr))) {
				*why = "bad o= line";
				return EINVAL;
			}
			seen_o = true;
			break;
		}
		case 's':
			if (seen_s || any_media) {
				*why = "bad s= line";
				return EINVAL;
			}
			seen_s = true;
			break;
		case 'c': {
			char addr[64];

			if (!conn_addr(v, vn, addr, sizeof(addr))) {
				*why = "bad c= line";
				return EINVAL;
			}
			if (!any_media) {
				strcpy(sess_addr, addr);
				sess_c = true;
			} else if (in_audio) {
				strcpy(info->addr, addr);
				media_c = true;
			}
			break;
		}
		case 'm': {
			const char *q = v, *end_v = v + vn, *t;
			size_t tn;
			unsigned long port, pt;
			bool audio;

			if (!seen_o || !seen_s) {
				*why = "SDP lacks o= or s= before m=";
				return EINVAL;
			}
			if (in_audio) {
				done_audio = true;
				in_audio = false;
			}
			any_media = true;
			if (!token(&q, end_v, &t, &tn)) {
				*why = "bad m= line";
				return EINVAL;
			}
			audio = tok_is(t, tn, "audio");
			if (!token(&q, end_v, &t, &tn)) {
				*why = "bad m= line";
				return EINVAL;
			}
			{
				const char *slash = memchr(t, '/', tn);
				unsigned long cnt;

				if (slash && !num(slash + 1, (size_t)(t + tn - slash - 1), 2, &cnt)) {
					*why = "bad m= port count";
					return EINVAL;
				}
				if (!num(t, slash ? (size_t)(slash - t) : tn, 5, &port) ||
				    port > 65535) {
					*why = "m= port out of range";
					return EINVAL;
				}
			}
			if (!token(&q, end_v, &t, &tn)) {
				*why = "bad m= line";
				return EINVAL;
			}
			{
				bool rtp = tok_is(t, tn, "RTP/AVP") || tok_is(t, tn, "RTP/AVPF") ||
					   tok_is(t, tn, "RTP/SAVP") || tok_is(t, tn, "RTP/SAVPF");
				bool savp = tok_is(t, tn, "RTP/SAVP") || tok_is(t, tn, "RTP/SAVPF");
				unsigned nf = 0;

				if (audio && !done_audio && port != 0) {
					in_audio = true;
					info->has_audio = true;
					info->port = (uint16_t)port;
					info->proto_rtp = rtp;
					info->savp = savp;
				}
				while (token(&q, end_v, &t, &tn)) {
					nf++;
					if (!rtp)
						continue;
					if (!num(t, tn, 3, &pt) || pt > 127) {
						*why = "m= payload type out of range";
						return EINVAL;
					}
					if (in_audio && info->fmt_n < SDPCHK_MAX_FMTS) {
						info->fmts[info->fmt_n++] = (int)pt;
						if (pt == 0)
							info->pcmu = true;
						if (pt == 8)
							info->pcma = true;
					}
				}
				if (nf == 0) {
					*why = "m= line without formats";
					return EINVAL;
				}
			}
			break;
		}
		case 'a':
			if (!in_audio)
				break;
			if (vn > 7 && !strncmp(v, "rtpmap:", 7)) {
				const char *q = v + 7, *end_v = v + vn, *t;
				size_t tn;
				unsigned long pt, rate;
				const char *sl;

				if (!token(&q, end_v, &t, &tn) || !num(t, tn, 3, &pt) || pt > 127 ||
				    !token(&q, end_v, &t, &tn)) {
					*why = "bad a=rtpmap";
					return EINVAL;
				}
				sl = memchr(t, '/', tn);
				if (!sl || sl == t) {
					*why = "bad a=rtpmap";
					return EINVAL;
				}
				{
					const char *r = sl + 1, *re2 = memchr(r, '/', (size_t)(t + tn - r));
					size_t rn = re2 ? (size_t)(re2 - r) : (size_t)(t + tn - r);

					if (!num(r, rn, 6, &rate) || rate == 0 || rate > 192000) {
						*why = "a=rtpmap clock rate out of range";
						return EINVAL;
					}
				}
				if (name_is_pcm(t, tn, "PCMU"))
					info->pcmu = true;
				else if (name_is_pcm(t, tn, "PCMA"))
					info->pcma = true;
				else if (tn == 20 && !strncasecmp(t, "telephone-event/8000", 20))
					info->telev_pt = (int)pt;
				/* A dynamic PT must be in the m= line's list. */
				{
					bool listed = false;

					for (unsigned i = 0; i < info->fmt_n; i++)
						listed |= info->fmts[i] == (int)pt;
					if (!listed) {
						*why = "a=rtpmap for a payload type not in m=";
						return EINVAL;
					}
				}
			} else if (vn > 6 && !strncmp(v, "ptime:", 6)) {
				unsigned long pt;

				if (!num(v + 6, vn - 6, 4, &pt) || pt < 1 || pt > 1000) {
					*why = "a=ptime out of range";
					return EINVAL;
				}
				info->ptime = (unsigned)pt;
			} else if (vn > 7 && !strncmp(v, "crypto:", 7)) {
				struct sdpchk_crypto c;

				if (!crypto_attr(v + 7, vn - 7, &c)) {
					*why = "bad a=crypto";
					return EINVAL;
				}
				info->has_crypto = true;
				if (c.usable && !info->crypto.usable)
					info->crypto = c;
			}
			break;
		case 't': case 'b': case 'i': case 'u': case 'e': case 'p': case 'r':
		case 'z': case 'k':
			break;
		default:
			*why = "unknown SDP line type";
			return EINVAL;
		}
		p = eol ? eol + 1 : end;
	}
	if (!seen_v || !seen_o || !seen_s) {
		*why = "SDP lacks v=, o= or s=";
		return EINVAL;
	}
	if (info->has_audio && !media_c) {
		if (!sess_c) {
			*why = "no c= for the audio stream";
			return EINVAL;
		}
		strcpy(info->addr, sess_addr);
	}
	return 0;
}
