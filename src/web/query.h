/* query.h - query-string parameters shared by the list routes (private to src/web). */
#ifndef CALLBOT_WEB_QUERY_H
#define CALLBOT_WEB_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "web/http.h"

#define PER_PAGE_DEFAULT 20
#define PER_PAGE_MAX 100

/* page (>= 1) and per_page (1..PER_PAGE_MAX); false on a malformed value. */
bool query_paging(const struct http_req *req, int *page, int *per_page);
/* An optional text parameter of at most max bytes of UTF-8 without control
 * characters; false when present but invalid. *out is NULL when absent/empty. */
bool query_text(const struct http_req *req, const char *name, size_t max, const char **out);
/* An optional date or ISO-8601 time; 0 when absent. */
bool query_time(const struct http_req *req, const char *name, int64_t *out);

#endif
