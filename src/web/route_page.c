/* route_page.c - the dashboard's HTML pages: a shared layout around a static body; data comes
 * from the JSON API in app.js (textContent only), so no stored value is ever put into HTML
 * here except the escaped user name, role and CSRF token. */
#include "web/assets.h"
#include "web/http.h"

#include <stdlib.h>
#include <string.h>

struct page {
	const char *path;	/* exact, or prefix ending in '*' */
	const char *file;
	const char *title;
	const char *nav;	/* which menu entry is current */
	bool admin;
};

static const struct page pages[] = {
	{ "/", "dashboard.html", "Dashboard", "dashboard", false },
	{ "/calls", "calls.html", "Calls", "calls", false },
	{ "/calls/*", "call.html", "Call", "calls", false },
	{ "/settings", "settings.html", "Settings", "settings", true },
	{ "/users", "users.html", "Users", "users", true },
	{ "/audit", "audit.html", "Audit log", "audit", true },
};

static const struct page *page_for(const char *url)
{
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		size_t n = strlen(pages[i].path);
		if (pages[i].path[n - 1] == '*' ? strncmp(url, pages[i].path, n - 1) == 0
						: strcmp(url, pages[i].path) == 0)
			return &pages[i];
	}
	return NULL;
}

static char *join3(const char *a, const char *b, const char *c, size_t *len)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *out = malloc(la + lb + lc + 1);

	if (!out)
		return NULL;
	memcpy(out, a, la);
	memcpy(out + la, b, lb);
	memcpy(out + la + lb, c, lc + 1);
	*len = la + lb + lc;
	return out;
}

enum MHD_Result route_page(struct http_req *req)
{
	static const char *const names[] = { "title", "user", "role", "csrf", "page", "admin" };
	const struct page *p = page_for(req->url);
	int64_t id;
	const struct asset *top = asset_find("layout_top.html"), *bottom = asset_find("layout_bottom.html");
	const struct asset *body;
	bool forbidden = p && p->admin && !req->user.admin;
	const char *values[6];
	char *head, *page;
	size_t len;
	enum MHD_Result rc;

	if (p && strcmp(p->file, "call.html") == 0 && !http_parse_id(req->url + 7, &id))
		p = NULL; /* /calls/<not a number> */
	forbidden = p && p->admin && !req->user.admin;
	body = asset_find(!p ? "" : forbidden ? "forbidden.html" : p->file);
	if (!p || !top || !bottom || !body)
		return http_error(req, p ? 500 : 404, p ? "internal error" : "not found");
	values[0] = forbidden ? "Not allowed" : p->title;
	values[1] = req->user.name;
	values[2] = req->user.role;
	values[3] = req->user.csrf;
	values[4] = forbidden ? "forbidden" : p->nav;
	values[5] = req->user.admin ? "" : "hidden";
	head = html_render(top->body, names, values, 6);
	page = head ? join3(head, body->body, bottom->body, &len) : NULL;
	free(head);
	if (!page)
		return http_error(req, 500, "internal error");
	rc = http_send(req, forbidden ? 403 : 200, "text/html; charset=utf-8", page, len);
	free(page);
	return rc;
}
