/* webhook.c - one HTTP call of a webhook tool. The LLM chooses only the arguments, never
 * the URL; still, the host must be on the allowlist, the address it resolves to is pinned
 * for the connection (no DNS rebinding between the check and the connect), redirects and
 * proxies are never used, and the answer is size-capped. */
#include "tools/webhook.h"
#include "core/util.h"
#include "llm/httpstream.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static bool ip_literal(const char *host, unsigned char *bytes, int *family)
{
	if (inet_pton(AF_INET, host, bytes) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, bytes) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* "127.1", "2130706433", "0x7f.0.0.1": IPv4 in forms inet_pton refuses but resolvers and
 * some URL parsers accept. Such a host is never treated as a name. */
static bool numeric_lookalike(const char *host)
{
	const char *last = strrchr(host, '.');

	last = last ? last + 1 : host;
	if (!*last)
		return false;
	if (last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))
		return true;
	for (; *last; last++) {
		if (!isdigit((unsigned char)*last))
			return false;
	}
	return true;
}

bool webhook_host_valid(const char *entry)
{
	unsigned char b[16];
	int fam;
	size_t len = strlen(entry);
	const char *s = entry;

	if (ip_literal(entry, b, &fam))
		return true;
	if (!len || len > 253 || numeric_lookalike(entry))
		return false;
	if (s[0] == '*' && s[1] == '.')
		s += 2;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	}
	return true;
}

static bool name_listed(const char *host, const char *const *allowed, size_t n)
{
	size_t hlen = strlen(host);

	for (size_t i = 0; i < n; i++) {
		const char *a = allowed[i];
		size_t alen = strlen(a);

		if (strcasecmp(a, host) == 0)
			return true;
		/* "*.example.com" allows sub.example.com, not example.com nor badexample.com. */
		if (a[0] == '*' && a[1] == '.' && hlen > alen - 1 &&
		    strcasecmp(host + hlen - (alen - 1), a + 1) == 0)
			return true;
	}
	return false;
}

static bool ip_listed(const unsigned char *bytes, int family, const char *const *allowed,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char b[16];
		int fam;

		if (ip_literal(allowed[i], b, &fam) && fam == family &&
		    !memcmp(b, bytes, family == AF_INET ? 4 : 16))
			return true;
	}
	return false;
}

/* Addresses a listed *name* may never lead to: cloud metadata (link-local), "any",
 * multicast and broadcast. Loopback and private ranges stay possible: an operator may
 * well run the webhook next to callbot and list its name. */
static bool addr_never(const struct sockaddr *sa)
{
	const unsigned char *b;
	unsigned char v4[4];

	if (sa->sa_family == AF_INET6) {
		b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(b, mapped, 12) != 0) {
			static const unsigned char zero[16];
			return !memcmp(b, zero, 16) || b[0] == 0xff ||
			       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
		}
		memcpy(v4, b + 12, 4);
	} else {
		memcpy(v4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	}
	return v4[0] == 0 || (v4[0] == 169 && v4[1] == 254) || v4[0] >= 224;
}

static int refuse(char *why, size_t whysize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whysize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
	return EACCES;
}

/* Resolves a listed name and keeps the first address that may be used. */
static int resolve_pin(struct webhook_target *t, char *why, size_t whysize)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char port[16];
	int rc;

	snprintf(port, sizeof(port), "%d", t->port);
	rc = getaddrinfo(t->host, port, &hints, &res);
	if (rc) {
		snprintf(why, whysize, "cannot resolve %s: %s", t->host, gai_strerror(rc));
		return EHOSTUNREACH;
	}
	rc = refuse(why, whysize, "%s resolves only to addresses never allowed", t->host);
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		const void *in = a->ai_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)(void *)a->ai_addr)->sin6_addr;
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || addr_never(a->ai_addr))
			continue;
		if (inet_ntop(a->ai_family, in, t->addr, sizeof(t->addr))) {
			why[0] = '\0';
			rc = 0;
			break;
		}
	}
	freeaddrinfo(res);
	return rc;
}

int webhook_check(const char *url, const char *const *allowed, size_t nallowed,
		  struct webhook_target *t, char *why, size_t whysize)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	unsigned char bytes[16];
	int family, rc = 0;

	memset(t, 0, sizeof(*t));
	why[0] = '\0';
	if (!u)
		return ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = refuse(why, whysize, "%s", "the URL cannot be parsed");
		goto out;
	}
	if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
		rc = refuse(why, whysize, "scheme %s is not http or https", scheme);
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	t->port = port ? atoi(port) : 0;
	/* IPv6 literals come in brackets; names may end in a dot. */
	str_copy(t->host, sizeof(t->host), host[0] == '[' ? host + 1 : host);
	for (char *p = t->host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (host[0] == '[' && strchr(t->host, ']'))
		*strchr(t->host, ']') = '\0';
	if (strchr(t->host, '%')) {
		rc = refuse(why, whysize, "host %s has a zone id", t->host);
		goto out;
	}
	if (t->host[0] && t->host[strlen(t->host) - 1] == '.')
		t->host[strlen(t->host) - 1] = '\0';
	if (ip_literal(t->host, bytes, &family)) {
		if (!ip_listed(bytes, family, allowed, nallowed))
			rc = refuse(why, whysize, "address %s is not in allowed_hosts", t->host);
		else
			str_copy(t->addr, sizeof(t->addr), t->host);
		goto out;
	}
	if (numeric_lookalike(t->host)) {
		rc = refuse(why, whysize, "host %s is not a canonical IP address", t->host);
		goto out;
	}
	if (!name_listed(t->host, allowed, nallowed)) {
		rc = refuse(why, whysize, "host %s is not in allowed_hosts", t->host);
		goto out;
	}
	rc = resolve_pin(t, why, whysize);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int append(char **s, size_t *len, const char *piece)
{
	size_t plen = strlen(piece);
	char *n = realloc(*s, *len + plen + 1);

	if (!n)
		return ENOMEM;
	memcpy(n + *len, piece, plen + 1);
	*s = n;
	*len += plen;
	return 0;
}

char *webhook_query_url(const char *url, const char *args)
{
	json_t *o = json_loads(args, 0, NULL), *v;
	const char *key, *frag = strchr(url, '#');
	size_t len = frag ? (size_t)(frag - url) : strlen(url);
	char *out = json_is_object(o) ? mem_to_str(url, len) : NULL;
	bool first = !memchr(url, '?', len);
	int rc = out ? 0 : ENOMEM;

	json_object_foreach(o, key, v) {
		char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char *k = curl_easy_escape(NULL, key, 0);
		char *val = curl_easy_escape(NULL, text ? text : json_string_value(v), 0);

		if (rc || !k || !val || (!text && !json_is_string(v)))
			rc = rc ? rc : ENOMEM;
		if (!rc)
			rc = append(&out, &len, first ? "?" : "&");
		if (!rc)
			rc = append(&out, &len, k);
		if (!rc)
			rc = append(&out, &len, "=");
		if (!rc)
			rc = append(&out, &len, val);
		first = false;
		free(text);
		curl_free(k);
		curl_free(val);
	}
	json_decref(o);
	if (rc) {
		free(out);
		return NULL;
	}
	return out;
}

struct sink {
	char *buf;
	size_t len, max;
	bool too_big;
	volatile bool *cancel;
	bool cancelled;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	char *nb;

	if (s->len + n > s->max) {
		s->too_big = true;
		return 0;
	}
	nb = realloc(s->buf, s->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + s->len, data, n);
	s->buf = nb;
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static int on_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	struct sink *s = arg;

	(void)dlt; (void)dln; (void)ult; (void)uln;
	if (s->cancel && *s->cancel) {
		s->cancelled = true;
		return 1;
	}
	return 0;
}

static int map_error(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST: return EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
	default: return EPROTO;
	}
}

static int finish(CURL *curl, CURLcode cc, struct sink *s, const struct webhook_req *req,
		  long *status, char *why, size_t whysize)
{
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	if (s->cancelled)
		return ECANCELED;
	if (s->too_big) {
		snprintf(why, whysize, "answer larger than %zu bytes", req->max_bytes);
		return EPROTO;
	}
	if (cc != CURLE_OK) {
		snprintf(why, whysize, "%s", cc == CURLE_OPERATION_TIMEDOUT ?
			 "no answer in time" : curl_easy_strerror(cc));
		return map_error(cc);
	}
	if (*status >= 300 && *status < 400) {
		snprintf(why, whysize, "HTTP %ld redirect not followed", *status);
		return EPROTO;
	}
	if (*status < 200 || *status >= 300) {
		snprintf(why, whysize, "HTTP %ld", *status);
		return EPROTO;
	}
	if (s->buf && !utf8_valid(s->buf, s->len)) {
		snprintf(why, whysize, "the answer is not UTF-8 text");
		return EPROTO;
	}
	return 0;
}

int webhook_run(const struct webhook_req *req, char **body, long *status, char *why,
		size_t whysize)
{
	struct webhook_target t;
	struct sink s = { .max = req->max_bytes, .cancel = req->cancel };
	struct curl_slist *hdrs = NULL, *pin = NULL;
	char *url = NULL, pinline[400];
	CURL *curl = NULL;
	CURLcode cc;
	int rc;

	*body = NULL;
	*status = 0;
	rc = webhook_check(req->url, req->allowed, req->nallowed, &t, why, whysize);
	if (rc)
		return rc;
	url = req->get ? webhook_query_url(req->url, req->args) : str_clone(req->url);
	httpstream_global_init();
	curl = curl_easy_init();
	if (!url || !curl) {
		rc = url ? ENOMEM : EINVAL;
		snprintf(why, whysize, "%s", url ? "out of memory" : "arguments are not a JSON object");
		goto out;
	}
	/* Connect to exactly the address that was checked, whatever DNS says now. */
	snprintf(pinline, sizeof(pinline), "%s:%d:%s%s%s", t.host, t.port,
		 strchr(t.addr, ':') ? "[" : "", t.addr, strchr(t.addr, ':') ? "]" : "");
	pin = curl_slist_append(NULL, pinline);
	hdrs = curl_slist_append(hdrs, "Accept: application/json, text/plain");
	if (!req->get)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	for (size_t i = 0; i < req->nheaders; i++)
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	if (!pin || !hdrs) {
		rc = ENOMEM;
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, pin);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	if (req->get)
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->args);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "callbot-tools");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* http_proxy in the environment would send the call elsewhere than the pinned address. */
	curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	cc = curl_easy_perform(curl);
	rc = finish(curl, cc, &s, req, status, why, whysize);
	if (!rc) {
		*body = s.buf ? s.buf : str_clone("");
		s.buf = NULL;
		if (!*body)
			rc = ENOMEM;
	}
out:
	free(s.buf);
	free(url);
	curl_slist_free_all(pin);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return rc;
}
