/* route_static.c - GET /static/<name>: compiled-in CSS, JS and icons. Names are looked up in a
 * fixed table, never on disk, so "../" and encoded variants can only miss (404). */
#include "web/assets.h"
#include "web/http.h"

#include <string.h>

enum MHD_Result route_static(struct http_req *req)
{
	const char *name = strcmp(req->url, "/favicon.ico") == 0 ? "favicon.svg"
								 : http_path_tail(req, "/static/");
	const struct asset *a = asset_find(name);

	if (!a || strstr(a->name, ".html"))
		return http_error(req, 404, "not found");
	http_add_header(req, "Cache-Control", "private, max-age=300");
	return http_send(req, 200, a->type, a->body, a->len);
}
