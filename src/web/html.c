/* html.c - HTML escaping and the {{name}} page templates; every server-rendered value goes here. */
#include "web/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *html_entity(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	case '`': return "&#96;";
	default: return NULL;
	}
}

static size_t html_escaped_len(const char *in)
{
	size_t n = 0;

	for (; in && *in; in++) {
		const char *e = html_entity(*in);
		n += e ? strlen(e) : 1;
	}
	return n;
}

int html_escape(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	if (!cap)
		return ENOSPC;
	for (; in && *in; in++) {
		const char *e = html_entity(*in);
		size_t rlen = e ? strlen(e) : 1;

		if (n + rlen >= cap) {
			out[n] = '\0';
			return ENOSPC;
		}
		if (e)
			memcpy(out + n, e, rlen);
		else
			out[n] = *in;
		n += rlen;
	}
	out[n] = '\0';
	return 0;
}

/* Index of the placeholder {{name}} starting at open, or n when unknown. */
static size_t placeholder(const char *open, const char *close, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);
		if ((size_t)(close - open - 2) == nl && strncmp(open + 2, names[i], nl) == 0)
			break;
	}
	return i;
}

/* One pass; with out == NULL only measures. */
static size_t render(char *out, const char *tpl, const char *const *names,
		     const char *const *values, size_t n)
{
	size_t len = 0;
	const char *p = tpl;

	for (;;) {
		const char *open = strstr(p, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		size_t lit = close ? (size_t)(open - p) : strlen(p), i;

		if (out)
			memcpy(out + len, p, lit);
		len += lit;
		if (!close)
			break;
		i = placeholder(open, close, names, n);
		if (i < n) {
			const char *v = values[i] ? values[i] : "";
			size_t vl = html_escaped_len(v);
			if (out)
				html_escape(out + len, vl + 1, v);
			len += vl;
		}
		p = close + 2;
	}
	return len;
}

char *html_render(const char *tpl, const char *const *names, const char *const *values, size_t n)
{
	size_t len = render(NULL, tpl, names, values, n);
	char *out = malloc(len + 1);

	if (!out)
		return NULL;
	render(out, tpl, names, values, n);
	out[len] = '\0';
	return out;
}
