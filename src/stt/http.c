/* http.c - STT_BACKEND=http: an OpenAI-compatible transcription server (OpenAI, a
 * whisper.cpp server, faster-whisper-server...). The utterance is buffered while the
 * caller speaks and sent at its end as POST {STT_URL}/v1/audio/transcriptions, multipart:
 * file=utterance.wav (16-bit PCM, 8 kHz mono), model=STT_MODEL, language, response_format=
 * json; Authorization: Bearer STT_API_KEY when set. The answer is {"text": "..."}. */
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
#include "pipeline/dsp_wav.h"
#include "stt/stt_impl.h"

#define HTTP_PATH "/v1/audio/transcriptions"
#define HTTP_MAX_SAMPLES (120 * STT_RATE_HZ)
#define HTTP_MAX_ANSWER (1u << 20)
#define HTTP_DEFAULT_TIMEOUT_MS 15000

struct http_stt {
	char *url, *shown, *model, *auth, *lang; /* shown: url without user:password@ */
	unsigned timeout_ms;
};

struct http_stream {
	struct http_stt *e;
	int16_t *pcm;
	size_t n, cap;
	int err;
};

struct answer {
	char *buf;
	size_t len;
	bool too_big;
};

static void http_free(void *p)
{
	struct http_stt *e = p;

	if (!e)
		return;
	free(e->url);
	free(e->shown);
	free(e->model);
	free(e->auth);
	free(e->lang);
	free(e);
	curl_global_cleanup();
}

static int http_alloc(void **out, const struct conf *c, char *err, size_t errsize)
{
	struct http_stt *e;
	const char *base = c->stt_url;

	if (!base || !*base) {
		snprintf(err, errsize, "STT_URL: required when STT_BACKEND=http");
		return EINVAL;
	}
	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
		snprintf(err, errsize, "STT_URL: expected an http:// or https:// URL");
		return EINVAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errsize, "STT_BACKEND=http: cannot initialise libcurl");
		return EIO;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		curl_global_cleanup();
		return ENOMEM;
	}
	e->url = url_endpoint(base, HTTP_PATH);
	e->shown = url_redact(e->url);
	e->model = str_clone(c->stt_model && *c->stt_model ? c->stt_model : "whisper-1");
	e->lang = str_clone(c->language && *c->language ? c->language : "en");
	if (e->lang)
		e->lang[strcspn(e->lang, "-_")] = '\0'; /* ISO-639-1: en-GB -> en */
	if (c->stt_api_key && *c->stt_api_key &&
	    asprintf(&e->auth, "Authorization: Bearer %s", c->stt_api_key) < 0) {
		http_free(e);
		return ENOMEM;
	}
	e->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	if (!e->url || !e->shown || !e->model || !e->lang) {
		http_free(e);
		return ENOMEM;
	}
	*out = e;
	return 0;
}

static void http_set_timeout(void *p, unsigned ms)
{
	struct http_stt *e = p;

	e->timeout_ms = ms ? ms : HTTP_DEFAULT_TIMEOUT_MS;
}

static int http_begin(void *p, const char *const *phrases, void **out)
{
	struct http_stream *s = calloc(1, sizeof(*s));

	(void)phrases; /* a general transcriber has no use for them */
	if (!s)
		return ENOMEM;
	s->e = p;
	*out = s;
	return 0;
}

static int http_feed(void *p, const int16_t *pcm, size_t n)
{
	struct http_stream *s = p;

	if (s->err)
		return s->err;
	if (s->n + n > HTTP_MAX_SAMPLES)
		return s->err = E2BIG;
	if (s->n + n > s->cap) {
		size_t cap = (s->n + n) * 2 < 8000 ? 8000 : (s->n + n) * 2;
		int16_t *np;

		if (cap > HTTP_MAX_SAMPLES)
			cap = HTTP_MAX_SAMPLES;
		np = realloc(s->pcm, cap * sizeof(*np));
		if (!np)
			return s->err = ENOMEM;
		s->pcm = np;
		s->cap = cap;
	}
	memcpy(s->pcm + s->n, pcm, n * sizeof(*pcm));
	s->n += n;
	return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *nb;

	if (a->len + n > HTTP_MAX_ANSWER) {
		a->too_big = true;
		return 0;
	}
	nb = realloc(a->buf, a->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + a->len, ptr, n);
	a->buf = nb;
	a->len += n;
	a->buf[a->len] = '\0';
	return n;
}

/* The start of an error body, made safe for one log line. */
static void snippet(const struct answer *a, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; a->buf && i < a->len && o + 1 < cap; i++)
		out[o++] = isprint((unsigned char)a->buf[i]) ? a->buf[i] : ' ';
	out[o] = '\0';
}

static int parse_text(struct http_stt *e, const struct answer *a, char **text)
{
	json_error_t jerr;
	json_t *root = a->buf ? json_loadb(a->buf, a->len, 0, &jerr) : NULL;
	json_t *t = root ? json_object_get(root, "text") : NULL;
	int rc = 0;

	if (!json_is_string(t)) {
		char sn[120];

		snippet(a, sn, sizeof(sn));
		log_warn("stt: %s answered without a JSON \"text\" string: %s", e->shown, sn);
		rc = EPROTO;
	} else {
		*text = strdup(json_string_value(t));
		if (!*text)
			rc = ENOMEM;
		else
			str_trim(*text);
	}
	json_decref(root);
	return rc;
}

static int post(struct http_stt *e, const uint8_t *wav, size_t wavlen, char **text)
{
	CURL *h = curl_easy_init();
	curl_mime *mime = NULL;
	curl_mimepart *part;
	struct curl_slist *hdr = NULL;
	struct answer a = { 0 };
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	int rc = 0;

	if (!h)
		return ENOMEM;
	mime = curl_mime_init(h);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "file");
	curl_mime_filename(part, "utterance.wav");
	curl_mime_type(part, "audio/wav");
	curl_mime_data(part, (const char *)wav, wavlen);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "model");
	curl_mime_data(part, e->model, CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "language");
	curl_mime_data(part, e->lang, CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "response_format");
	curl_mime_data(part, "json", CURL_ZERO_TERMINATED);
	if (e->auth)
		hdr = curl_slist_append(hdr, e->auth);
	hdr = curl_slist_append(hdr, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(h, CURLOPT_URL, e->url);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(e->timeout_ms < 5000 ? e->timeout_ms
									       : 5000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "callbot/" CALLBOT_VERSION);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		log_warn("stt: %s did not answer within %u ms", e->shown, e->timeout_ms);
		rc = ETIMEDOUT;
	} else if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST) {
		log_warn("stt: cannot connect to %s: %s", e->shown,
			 *cerr ? cerr : curl_easy_strerror(cc));
		rc = ECONNREFUSED;
	} else if (a.too_big) {
		log_warn("stt: %s sent an answer over %u bytes", e->shown, HTTP_MAX_ANSWER);
		rc = EPROTO;
	} else if (cc != CURLE_OK) {
		log_warn("stt: request to %s failed: %s", e->shown,
			 *cerr ? cerr : curl_easy_strerror(cc));
		rc = EIO;
	} else if (status != 200) {
		char sn[160];

		snippet(&a, sn, sizeof(sn));
		log_warn("stt: %s answered HTTP %ld: %s", e->shown, status, sn);
		rc = (status == 401 || status == 403) ? EACCES : EIO;
	} else {
		rc = parse_text(e, &a, text);
	}
	free(a.buf);
	curl_slist_free_all(hdr);
	curl_mime_free(mime);
	curl_easy_cleanup(h);
	return rc;
}

static int http_end(void *p, char **text)
{
	struct http_stream *s = p;
	uint8_t *wav = NULL;
	size_t wavlen;
	int rc = s->err;

	if (!rc && !s->n) {
		*text = strdup(""); /* nothing said: no request */
		rc = *text ? 0 : ENOMEM;
	} else if (!rc) {
		rc = dsp_wav_build(s->pcm, s->n, STT_RATE_HZ, &wav, &wavlen);
		if (!rc)
			rc = post(s->e, wav, wavlen, text);
	}
	free(wav);
	free(s->pcm);
	free(s);
	return rc;
}

static void http_abort(void *p)
{
	struct http_stream *s = p;

	free(s->pcm);
	free(s);
}

const struct stt_impl stt_http = {
	.name = "http",
	.alloc = http_alloc,
	.free = http_free,
	.begin = http_begin,
	.feed = http_feed,
	.end = http_end,
	.abort = http_abort,
	.set_timeout = http_set_timeout,
};
