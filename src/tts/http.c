/* http.c - TTS_BACKEND=http: an OpenAI-compatible speech server (OpenAI, openedai-speech,
 * Kokoro-FastAPI, piper behind a compatible front...). POST {TTS_URL}/v1/audio/speech with
 * {"model":"tts-1","input":text,"voice":TTS_VOICE or "alloy","response_format":"wav",
 * "speed":TTS_RATE/175}; the WAV (or raw 24 kHz "pcm") answer is decoded as it streams in and
 * resampled to 8 kHz, so the caller hears the start while the rest is still arriving.
 * The key OPENAI_API_KEY is sent only when TTS_URL is on the same origin as OPENAI_BASE_URL:
 * callbot has no TTS key of its own and must never hand a key to another host. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "tts/tts_impl.h"

#define HTTP_PATH "/v1/audio/speech"
#define HTTP_MODEL "tts-1"
#define HTTP_DEFAULT_VOICE "alloy"
#define HTTP_PCM_RATE 24000 /* OpenAI's response_format "pcm" */
#define HTTP_DEFAULT_TIMEOUT_MS 10000
#define HTTP_MAX_HEADER 4096
#define HTTP_MAX_ERRBODY 512

struct http_tts {
	char *url, *shown, *voice, *auth; /* shown: url without user:password@ */
	double speed;
	unsigned timeout_ms;
};

enum rx_state { RX_HEAD, RX_PCM, RX_ERROR, RX_BAD };

struct rx {
	struct http_tts *e;
	struct tts_out *out;
	CURL *h;
	enum rx_state st;
	uint8_t head[HTTP_MAX_HEADER];
	size_t head_len;
	unsigned channels;
	uint8_t odd[4]; /* a partial frame carried to the next chunk */
	size_t odd_len;
	size_t bytes;
	int err;
	int64_t t0;
	const char *bad; /* why the audio could not be decoded */
};

static void http_free(void *p)
{
	struct http_tts *e = p;

	if (!e)
		return;
	free(e->url);
	free(e->shown);
	free(e->voice);
	free(e->auth);
	free(e);
	curl_global_cleanup();
}

/* "https://Host:443/x" -> length of "https://Host:443" */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (!p)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

static bool same_origin(const char *a, const char *b)
{
	size_t la = origin_len(a), lb = origin_len(b);

	return la && la == lb && !strncasecmp(a, b, la);
}

static int http_alloc(void **out, const struct conf *c, char *err, size_t errsize)
{
	struct http_tts *e;
	const char *base = c->tts_url;

	if (!base || !*base) {
		snprintf(err, errsize, "TTS_URL: required when TTS_BACKEND=http");
		return EINVAL;
	}
	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
		snprintf(err, errsize, "TTS_URL: expected an http:// or https:// URL");
		return EINVAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errsize, "TTS_BACKEND=http: cannot initialise libcurl");
		return EIO;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		curl_global_cleanup();
		return ENOMEM;
	}
	e->url = url_endpoint(base, HTTP_PATH);
	e->shown = url_redact(e->url);
	e->voice = str_clone(c->tts_voice && *c->tts_voice ? c->tts_voice : HTTP_DEFAULT_VOICE);
	e->speed = c->tts_rate > 0 ? c->tts_rate / 175.0 : 1.0;
	e->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	if (c->openai_api_key && *c->openai_api_key && c->openai_base_url &&
	    same_origin(base, c->openai_base_url) &&
	    asprintf(&e->auth, "Authorization: Bearer %s", c->openai_api_key) < 0) {
		http_free(e);
		return ENOMEM;
	}
	if (!e->url || !e->shown || !e->voice) {
		http_free(e);
		return ENOMEM;
	}
	*out = e;
	return 0;
}

static void http_set_timeout(void *p, unsigned ms)
{
	struct http_tts *e = p;

	e->timeout_ms = ms ? ms : HTTP_DEFAULT_TIMEOUT_MS;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Parses the WAV header in r->head. Returns the offset of the sample data, 0 when more bytes
 * are needed, or sets RX_BAD. */
static size_t parse_head(struct rx *r)
{
	size_t pos = 12;
	unsigned fmt = 0, bits = 0, rate = 0;

	if (r->head_len < 12)
		return 0;
	if (memcmp(r->head, "RIFF", 4) || memcmp(r->head + 8, "WAVE", 4)) {
		r->st = RX_BAD;
		r->bad = "the answer is not a WAV file";
		return 0;
	}
	while (pos + 8 <= r->head_len) {
		uint32_t size = le32(r->head + pos + 4);

		if (!memcmp(r->head + pos, "fmt ", 4)) {
			if (pos + 8 + 16 > r->head_len)
				return 0;
			fmt = le16(r->head + pos + 8);
			r->channels = le16(r->head + pos + 10);
			rate = le32(r->head + pos + 12);
			bits = le16(r->head + pos + 22);
			if (fmt == 0xfffe && pos + 8 + 26 <= r->head_len)
				fmt = le16(r->head + pos + 8 + 24);
		} else if (!memcmp(r->head + pos, "data", 4)) {
			if (fmt != 1 || bits != 16 || r->channels < 1 || r->channels > 2 ||
			    tts_out_rate(r->out, rate)) {
				r->st = RX_BAD;
				r->bad = "unsupported WAV format (need 16-bit PCM, mono or stereo)";
				return 0;
			}
			r->st = RX_PCM;
			return pos + 8;
		}
		if (size > HTTP_MAX_HEADER)
			break;
		pos += 8 + size + (size & 1);
	}
	if (r->head_len >= HTTP_MAX_HEADER || pos + 8 <= r->head_len) {
		r->st = RX_BAD;
		r->bad = "no data chunk in the WAV header";
	}
	return 0;
}

static int16_t frame_sample(const struct rx *r, const uint8_t *f)
{
	if (r->channels == 1)
		return (int16_t)le16(f);
	return (int16_t)(((int)(int16_t)le16(f) + (int16_t)le16(f + 2)) / 2);
}

/* Decodes 16-bit little-endian frames (a frame split across two network chunks is carried
 * in r->odd) and hands them on. */
static int push_pcm(struct rx *r, const uint8_t *p, size_t n)
{
	const size_t fb = r->channels == 2 ? 4 : 2; /* bytes per frame */
	int16_t s[1024];

	while (n) {
		size_t k = 0;

		if (r->odd_len) {
			while (r->odd_len < fb && n) {
				r->odd[r->odd_len++ & 3] = *p++;
				n--;
			}
			if (r->odd_len < fb)
				return 0;
			s[k++] = frame_sample(r, r->odd);
			r->odd_len = 0;
		}
		while (k < 1024 && n >= fb) {
			s[k++] = frame_sample(r, p);
			p += fb;
			n -= fb;
		}
		if (n && n < fb) {
			memcpy(r->odd, p, n);
			r->odd_len = n;
			n = 0;
		}
		if (k && tts_out_push(r->out, s, k))
			return ECANCELED;
	}
	return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct rx *r = arg;
	size_t n = size * nmemb, off;
	const uint8_t *p = (const uint8_t *)ptr;

	if (r->st == RX_HEAD && r->bytes == 0) {
		long status = 0;
		char *ctype = NULL;

		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(r->h, CURLINFO_CONTENT_TYPE, &ctype);
		if (status != 200) {
			r->st = RX_ERROR;
		} else if (ctype && (strstr(ctype, "audio/pcm") || strstr(ctype, "audio/L16") ||
				     strstr(ctype, "application/octet-stream"))) {
			r->channels = 1; /* raw: OpenAI's "pcm" is 24 kHz 16-bit mono */
			if (tts_out_rate(r->out, HTTP_PCM_RATE))
				return 0;
			r->st = RX_PCM;
		}
	}
	r->bytes += n;
	switch (r->st) {
	case RX_ERROR: /* keep the start of the error body for the log */
		off = r->head_len + n > HTTP_MAX_ERRBODY ? HTTP_MAX_ERRBODY - r->head_len : n;
		memcpy(r->head + r->head_len, p, off);
		r->head_len += off;
		return n;
	case RX_HEAD:
		off = n < HTTP_MAX_HEADER - r->head_len ? n : HTTP_MAX_HEADER - r->head_len;
		memcpy(r->head + r->head_len, p, off);
		r->head_len += off;
		{
			size_t data = parse_head(r);

			if (r->st == RX_BAD)
				return 0;
			if (r->st != RX_PCM)
				return off == n ? n : 0;
			/* audio bytes: what of head[] follows the header, then the rest */
			r->err = push_pcm(r, r->head + data, r->head_len - data);
			if (!r->err && off < n)
				r->err = push_pcm(r, p + off, n - off);
		}
		return r->err ? 0 : n;
	case RX_PCM:
		r->err = push_pcm(r, p, n);
		return r->err ? 0 : n;
	case RX_BAD:
		break;
	}
	return 0;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct rx *r = arg;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	if (tts_out_cancelled(r->out)) {
		r->err = ECANCELED;
		return 1;
	}
	if (dlnow == 0 && time_mono_ms() - r->t0 > (int64_t)r->e->timeout_ms) {
		r->err = ETIMEDOUT;
		return 1;
	}
	return 0;
}

static char *request_body(struct http_tts *e, const char *text)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f}", "model", HTTP_MODEL, "input", text,
			      "voice", e->voice, "response_format", "wav", "speed", e->speed);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static int http_synth(void *p, const char *text, struct tts_out *out)
{
	struct http_tts *e = p;
	struct curl_slist *hdr = NULL;
	struct rx *r = calloc(1, sizeof(*r));
	char cerr[CURL_ERROR_SIZE] = "", *body = NULL;
	CURLcode cc;
	int rc = 0;

	if (!r)
		return ENOMEM;
	r->e = e;
	r->out = out;
	r->t0 = time_mono_ms();
	r->h = curl_easy_init();
	body = request_body(e, text);
	if (!r->h || !body) {
		rc = ENOMEM;
		goto out;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (e->auth)
		hdr = curl_slist_append(hdr, e->auth);
	curl_easy_setopt(r->h, CURLOPT_URL, e->url);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(r->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(r->h, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(e->timeout_ms < 5000 ? e->timeout_ms : 5000));
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled stream */
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_TIME, 10L);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_USERAGENT, "callbot/" CALLBOT_VERSION);
	cc = curl_easy_perform(r->h);
	if (r->err == ECANCELED) {
		rc = ECANCELED;
	} else if (r->err == ETIMEDOUT || cc == CURLE_OPERATION_TIMEDOUT) {
		log_warn("tts: %s sent no audio within %u ms", e->shown, e->timeout_ms);
		rc = ETIMEDOUT;
	} else if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST) {
		log_warn("tts: cannot connect to %s: %s", e->shown,
			 *cerr ? cerr : curl_easy_strerror(cc));
		rc = ECONNREFUSED;
	} else if (r->st == RX_ERROR) {
		long status = 0;

		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
		for (size_t i = 0; i < r->head_len; i++)
			if (!isprint(r->head[i]))
				r->head[i] = ' ';
		log_warn("tts: %s answered HTTP %ld: %.*s", e->shown, status, (int)r->head_len,
			 (const char *)r->head);
		rc = (status == 401 || status == 403) ? EACCES : EIO;
	} else if (r->st == RX_BAD || (cc == CURLE_OK && r->st != RX_PCM)) {
		log_warn("tts: %s: %s", e->shown, r->bad ? r->bad : "the answer has no audio");
		rc = EPROTO;
	} else if (cc != CURLE_OK) {
		log_warn("tts: request to %s failed: %s", e->shown,
			 *cerr ? cerr : curl_easy_strerror(cc));
		rc = EIO;
	}
out:
	curl_slist_free_all(hdr);
	if (r->h)
		curl_easy_cleanup(r->h);
	free(body);
	free(r);
	return rc;
}

const struct tts_impl tts_http = {
	.name = "http",
	.alloc = http_alloc,
	.free = http_free,
	.synth = http_synth,
	.set_timeout = http_set_timeout,
};
