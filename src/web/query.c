/* query.c - validation of query-string parameters (bad input is a 400, never a query). */
#include "web/query.h"
#include "core/util.h"
#include "store/time_iso.h"

#include <stdlib.h>
#include <string.h>

static bool parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	if (!s || !*s || strlen(s) > 9)
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

bool query_paging(const struct http_req *req, int *page, int *per_page)
{
	const char *p = http_arg(req, "page"), *pp = http_arg(req, "per_page");

	*page = 1;
	*per_page = PER_PAGE_DEFAULT;
	if (p && *p && !parse_int(p, 1, 1000000, page))
		return false;
	if (pp && *pp && !parse_int(pp, 1, PER_PAGE_MAX, per_page))
		return false;
	return true;
}

bool query_text(const struct http_req *req, const char *name, size_t max, const char **out)
{
	const char *v = http_arg(req, name);
	size_t n;

	*out = NULL;
	if (!v || !*v)
		return true;
	n = strlen(v);
	if (n > max || !utf8_valid(v, n))
		return false;
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	*out = v;
	return true;
}

bool query_time(const struct http_req *req, const char *name, int64_t *out)
{
	const char *v = http_arg(req, name);

	*out = 0;
	if (!v || !*v)
		return true;
	if (strlen(v) > 40)
		return false;
	return store_time_parse(v, out) == 0;
}
