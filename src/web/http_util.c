/* http_util.c - responses with the security headers, and request helpers shared by routes. */
#include "web/http.h"
#include "core/util.h"
#include "store/time_iso.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void http_add_header(struct http_req *req, const char *key, const char *value)
{
	char *v;

	if (req->hdr_n >= HTTP_EXTRA_HEADERS)
		return;
	v = strdup(value);
	if (!v)
		return;
	req->hdr_k[req->hdr_n] = key;
	req->hdr_v[req->hdr_n++] = v;
}

static void add_security_headers(struct MHD_Response *r, bool https)
{
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	if (!MHD_get_response_header(r, "Cache-Control"))
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (https)
		MHD_add_response_header(r, "Strict-Transport-Security",
					"max-age=31536000; includeSubDomains");
}

void http_apply_headers(struct http_req *req, struct MHD_Response *r)
{
	for (size_t i = 0; i < req->hdr_n; i++)
		MHD_add_response_header(r, req->hdr_k[i], req->hdr_v[i]);
	add_security_headers(r, req->https);
}

enum MHD_Result http_queue(struct http_req *req, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result rc;

	http_apply_headers(req, r);
	rc = MHD_queue_response(req->conn, status, r);
	MHD_destroy_response(r);
	req->status = status;
	return rc;
}

enum MHD_Result http_send(struct http_req *req, unsigned status, const char *type,
			  const void *body, size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	req->bytes = len;
	return http_queue(req, status, r);
}

enum MHD_Result http_send_json(struct http_req *req, unsigned status, const char *json)
{
	return http_send(req, status, "application/json", json, strlen(json));
}

enum MHD_Result http_send_jsonv(struct http_req *req, unsigned status, json_t *obj)
{
	char *text;
	enum MHD_Result rc;

	if (!obj)
		return http_error(req, 500, "internal error");
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!text)
		return http_error(req, 500, "internal error");
	rc = http_send_json(req, status, text);
	free(text);
	return rc;
}

enum MHD_Result http_error(struct http_req *req, unsigned status, const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	enum MHD_Result rc;

	json_decref(o);
	if (status == 401)
		http_add_header(req, "WWW-Authenticate", "Bearer realm=\"callbot\"");
	rc = http_send_json(req, status, text ? text : "{\"error\":\"internal error\"}");
	free(text);
	return rc;
}

enum MHD_Result http_redirect(struct http_req *req, unsigned status, const char *location)
{
	http_add_header(req, "Location", location);
	return http_send(req, status, "text/plain; charset=utf-8", "", 0);
}

const char *http_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_arg(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *http_path_tail(const struct http_req *req, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n && prefix[n - 1] == '*')
		n--;
	return strncmp(req->url, prefix, n) == 0 ? req->url + n : "";
}

bool http_parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (!s || !*s || strlen(s) > 18)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v <= 0)
		return false;
	*out = v;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes one urlencoded value of length len into out. */
static bool form_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return false;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || n + 1 >= cap)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

bool http_form_get(const char *body, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *p = body;

	if (!body || !cap)
		return false;
	while (*p) {
		const char *end = p + strcspn(p, "&");
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq && (size_t)(eq - p) == nlen && strncmp(p, name, nlen) == 0)
			return form_decode(eq + 1, (size_t)(end - eq - 1), out, cap);
		p = *end ? end + 1 : end;
	}
	return false;
}

json_t *http_body_json(struct http_req *req, enum MHD_Result *rc)
{
	json_error_t jerr;
	json_t *o;

	if (!req->body || !req->body_len) {
		*rc = http_error(req, 400, "a JSON object body is required");
		return NULL;
	}
	o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		*rc = http_error(req, 400, "the body is not a JSON object");
		return NULL;
	}
	return o;
}

json_t *json_time(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return json_null();
	store_time_iso(ms, buf);
	return json_string(buf);
}
