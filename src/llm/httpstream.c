/* httpstream.c - POST a JSON body and read a streamed answer line by line (libcurl). */
#include "llm/httpstream.h"
#include "core/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (1024 * 1024)
#define ERRBODY_MAX 200

struct stream {
	httpstream_line_h *h;
	void *arg;
	char *buf;
	size_t len, cap;
	int err;          /* set by the line handler or the size guard */
	long status;      /* HTTP status, known at the first body byte */
	CURL *curl;
	char errbody[ERRBODY_MAX + 1];
	size_t errlen;
	int64_t last_data_ms, timeout_ms;
	volatile bool *cancel;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void httpstream_global_init(void)
{
	pthread_once(&once, global_init);
}

static int emit_lines(struct stream *s)
{
	size_t start = 0;

	for (size_t i = 0; i < s->len; i++) {
		if (s->buf[i] != '\n')
			continue;
		size_t end = i;
		if (end > start && s->buf[end - 1] == '\r')
			end--;
		s->buf[end] = '\0';
		int rc = s->h(s->buf + start, end - start, s->arg);
		if (rc)
			return rc;
		start = i + 1;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t n = size * nmemb;

	s->last_data_ms = time_mono_ms();
	if (!s->status)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status != 200) {
		/* Keep the start of an error body to explain the failure. */
		size_t room = ERRBODY_MAX - s->errlen, take = n < room ? n : room;
		memcpy(s->errbody + s->errlen, data, take);
		s->errlen += take;
		s->errbody[s->errlen] = '\0';
		return n;
	}
	if (s->len + n + 1 > s->cap) {
		size_t ncap = (s->len + n + 1) * 2;
		char *nb;
		if (s->len + n > LINE_MAX_BYTES) {
			s->err = EPROTO;
			return 0;
		}
		nb = realloc(s->buf, ncap);
		if (!nb) {
			s->err = ENOMEM;
			return 0;
		}
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->err = emit_lines(s);
	return s->err ? 0 : n;
}

/* Time-outs that suit streaming: to the first byte and between bytes, not in total. */
static int on_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	struct stream *s = arg;

	(void)dlt; (void)dln; (void)ult; (void)uln;
	if (s->cancel && *s->cancel) {
		s->err = ECANCELED;
		return 1;
	}
	if (time_mono_ms() - s->last_data_ms > s->timeout_ms) {
		s->err = ETIMEDOUT;
		return 1;
	}
	return 0;
}

static void printable(char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = ' ';
	}
}

static int map_curl_error(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST: return EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
	default: return EPROTO;
	}
}

int httpstream_post(const struct httpstream_req *req, httpstream_line_h *h, void *arg, char *why,
		    size_t whysize)
{
	struct stream s = { .h = h, .arg = arg, .timeout_ms = req->timeout_ms,
			    .cancel = req->cancel };
	struct curl_slist *hdrs = NULL;
	char auth[512];
	CURLcode cc;
	int rc = 0;

	httpstream_global_init();
	why[0] = '\0';
	s.curl = curl_easy_init();
	if (!s.curl)
		return ENOMEM;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/x-ndjson, text/event-stream");
	if (req->bearer && *req->bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req->bearer);
		hdrs = curl_slist_append(hdrs, auth);
		memset(auth, 0, sizeof(auth));
	}
	curl_easy_setopt(s.curl, CURLOPT_URL, req->url);
	curl_easy_setopt(s.curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(s.curl, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(s.curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s.curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(s.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(s.curl, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(s.curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s.curl, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(s.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s.curl, CURLOPT_TCP_NODELAY, 1L);
	/* Backends are configured by the operator; never follow redirects elsewhere. */
	curl_easy_setopt(s.curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(s.curl, CURLOPT_PROTOCOLS_STR, "http,https");
	s.last_data_ms = time_mono_ms();

	cc = curl_easy_perform(s.curl);
	if (!s.status)
		curl_easy_getinfo(s.curl, CURLINFO_RESPONSE_CODE, &s.status);
	if (s.err == ECANCELED) {
		rc = ECANCELED;
	} else if (s.err == ETIMEDOUT) {
		rc = ETIMEDOUT;
		snprintf(why, whysize, "no data for %d ms", req->timeout_ms);
	} else if (s.err) {
		rc = s.err;
		if (!why[0] && rc == EPROTO)
			snprintf(why, whysize, "answer line too long or malformed");
	} else if (cc != CURLE_OK) {
		rc = map_curl_error(cc);
		snprintf(why, whysize, "%s", curl_easy_strerror(cc));
	} else if (s.status != 200) {
		rc = EPROTO;
		printable(s.errbody);
		snprintf(why, whysize, "HTTP %ld: %.100s", s.status, s.errbody);
	} else if (s.len) {
		/* A last line without a newline. */
		s.buf[s.len] = '\0';
		rc = h(s.buf, s.len, arg);
	}
	free(s.buf);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(s.curl);
	return rc;
}
